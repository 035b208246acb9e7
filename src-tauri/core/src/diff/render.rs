//! The terminal renderer of [`ValueDiff`] and the escaping that keeps audited values from
//! driving the terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

use super::{JsonChange, JsonChangeKind, LineChange, Span, SpanOp, ValueDiff};

/// How the renderer shows NULL.
const NULL_MARK: &str = "(null)";
/// How the renderer shows a key or element that does not exist on one side of a JSON diff.
const ABSENT_MARK: &str = "(absent)";

/// How [`render_plain_with`] renders; the default shows everything, as [`render_plain`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Shorten what a reader does not need to see the change: unchanged text beyond a few
    /// words or lines around each change, and whole values beyond about a thousand
    /// characters or twenty lines. Each cut says how much it left out. A one-word edit in a
    /// 540 KB value then prints as one short line instead of 540,000 characters.
    pub elide: bool,
}

/// Renders a diff as plain terminal text (no colours; the CLI may add them), appending to
/// `out` without a trailing newline:
///
/// * `old → new` for whole values, with `(null)` for NULL and `""` for the empty string;
///   multi-line whole values as `- ` lines followed by `+ ` lines;
/// * word diffs inline: `the [-quick-]{+slow+} fox`;
/// * line diffs one line each: `  ` equal, `- ` deleted, `+ ` inserted, `~ ` changed in place
///   (with inline markup; a changed line break shows as `⏎`); `\n` and `\r\n` terminators
///   are not shown;
/// * JSON as one `path: old → new` line per change (`(absent)` for a missing side,
///   `(root)` for the whole document);
/// * a value set while its earlier value is unknown as `(unknown) → new`; a deleted
///   record's value as `old → (deleted)`.
///
/// Every value, span and JSON path goes through [`sanitize_for_terminal`], so audited data
/// can never drive the terminal.
pub fn render_plain(diff: &ValueDiff, out: &mut String) {
    render_plain_with(diff, RenderOptions::default(), out);
}

/// [`render_plain`] with options; returns whether anything was left out (only with
/// [`RenderOptions::elide`]), so a caller can say how to see it all.
pub fn render_plain_with(diff: &ValueDiff, opts: RenderOptions, out: &mut String) -> bool {
    let mut r = Render {
        elide: opts.elide,
        elided: false,
    };
    match diff {
        ValueDiff::Unchanged => out.push_str("(unchanged)"),
        ValueDiff::Set { new } => r.whole(Side::Value(None), Side::Value(Some(new)), out),
        ValueDiff::Cleared { old } => r.whole(Side::Value(Some(old)), Side::Value(None), out),
        ValueDiff::Replaced { old, new } => {
            r.whole(Side::Value(Some(old)), Side::Value(Some(new)), out)
        }
        ValueDiff::Unknown { new } => {
            r.whole(Side::Mark(UNKNOWN_MARK), Side::Value(new.as_deref()), out)
        }
        ValueDiff::Deleted { old } => {
            r.whole(Side::Value(old.as_deref()), Side::Mark(DELETED_MARK), out)
        }
        ValueDiff::Text { spans } => r.spans(spans, false, out),
        ValueDiff::Lines { lines } => r.lines(lines, out),
        ValueDiff::Json { changes } => r.json(changes, out),
    }
    r.elided
}

/// Renders one whole value (a column of an inserted or removed record) as one side of a
/// change shows it: `(null)` for NULL, `""` for the empty string, escaped, and shortened
/// as [`RenderOptions::elide`] says. Returns whether anything was left out.
pub fn render_value(value: Option<&str>, opts: RenderOptions, out: &mut String) -> bool {
    let mut r = Render {
        elide: opts.elide,
        elided: false,
    };
    r.side(Side::Value(value), out);
    r.elided
}

/// Makes a database value safe to print on a terminal: every control character except `\n`
/// and `\t` (ESC, CR, BEL, DEL, the C1 range U+0080–U+009F), the bidirectional controls that
/// can visually reorder a line (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) and the
/// Unicode line/paragraph separators are replaced by visible text such as `\u{1b}`.
///
/// Audited values come from production databases and may be hostile; escaping them means a
/// value can neither inject terminal escape sequences nor disguise itself. Backslashes are
/// left alone, so a literal `\u{1b}` in a value looks the same as an escaped ESC — harmless,
/// and it keeps ordinary text (paths, regexes) readable. Borrows when nothing needs escaping.
pub fn sanitize_for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}


fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        c if c.is_control() => true,
        '\u{061c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{2028}'
        | '\u{2029}' => true,
        _ => false,
    }
}

/// How the renderer shows an earlier value that is not known.
const UNKNOWN_MARK: &str = "(unknown)";
/// How the renderer shows the other side of a deleted record's value.
const DELETED_MARK: &str = "(deleted)";
/// Unchanged words kept on each side of a change when eliding.
const CONTEXT_WORDS: usize = 8;
/// At most this many unchanged characters kept on each side of a change when eliding (for
/// long words: base64, URLs, minified JSON).
const CONTEXT_CHARS: usize = 100;
/// Unchanged lines kept on each side of a changed line when eliding.
const CONTEXT_LINES: usize = 3;
/// An unchanged line longer than this is cut when eliding.
const MAX_LINE_CHARS: usize = 240;
/// A whole value (or a changed line, or a JSON value) longer than this is cut when eliding.
const MAX_WHOLE_CHARS: usize = 1000;
/// A whole multi-line value with more lines than this is cut when eliding.
const MAX_WHOLE_LINES: usize = 20;
/// Cuts that would leave out fewer characters than this are not worth a marker.
const MIN_ELIDED_CHARS: usize = 120;

/// One side of a whole-value change: a value (NULL as `None`) or a mark such as `(unknown)`.
#[derive(Clone, Copy)]
enum Side<'a> {
    Value(Option<&'a str>),
    Mark(&'static str),
}

/// The renderer's state: whether to elide, and whether it did.
struct Render {
    elide: bool,
    elided: bool,
}

/// One whole value for display: `(null)`, `""` for the empty string, else sanitized text.
fn display_value(value: Option<&str>) -> Cow<'_, str> {
    match value {
        None => Cow::Borrowed(NULL_MARK),
        Some("") => Cow::Borrowed("\"\""),
        Some(text) => sanitize_for_terminal(text),
    }
}

/// `1234567` as `1,234,567`, for the counts in elision markers.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The marker standing for `n` characters left out of an unchanged run.
fn cut_marker(n: usize) -> String {
    format!("[… {} characters …]", thousands(n))
}

/// Byte index where the first `words` words of `s` (leading whitespace included) end, or
/// fewer when that passes `max_chars` characters.
fn head_end(s: &str, words: usize, max_chars: usize) -> usize {
    let (mut seen, mut in_word) = (0, false);
    for (n, (i, c)) in s.char_indices().enumerate() {
        if n >= max_chars {
            return i;
        }
        if c.is_whitespace() {
            if in_word {
                seen += 1;
                if seen >= words {
                    return i;
                }
            }
            in_word = false;
        } else {
            in_word = true;
        }
    }
    s.len()
}

/// Byte index where the last `words` words of `s` (trailing whitespace included) begin, or
/// fewer when that passes `max_chars` characters.
fn tail_start(s: &str, words: usize, max_chars: usize) -> usize {
    let (mut seen, mut in_word) = (0, false);
    let mut start = s.len();
    for (n, (i, c)) in s.char_indices().rev().enumerate() {
        if n >= max_chars {
            return start;
        }
        if c.is_whitespace() {
            if in_word {
                seen += 1;
                if seen >= words {
                    return start;
                }
            }
            in_word = false;
        } else {
            in_word = true;
        }
        start = i;
    }
    0
}

/// Byte index after the first `n` characters of `s`.
fn char_end(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

impl Render {
    /// A whole value, cut to [`MAX_WHOLE_CHARS`] and [`MAX_WHOLE_LINES`] when eliding, with
    /// a note saying how much is left out.
    fn cap_whole<'a>(&mut self, s: &'a str) -> Cow<'a, str> {
        if !self.elide {
            return Cow::Borrowed(s);
        }
        let by_chars = char_end(s, MAX_WHOLE_CHARS);
        let by_lines = s
            .match_indices('\n')
            .nth(MAX_WHOLE_LINES - 1)
            .map_or(s.len(), |(i, _)| i);
        let end = by_chars.min(by_lines);
        if end >= s.len() {
            return Cow::Borrowed(s);
        }
        let rest = s[end..].chars().count();
        if rest < MIN_ELIDED_CHARS {
            return Cow::Borrowed(s);
        }
        self.elided = true;
        Cow::Owned(format!("{}… ({} more characters)", &s[..end], thousands(rest)))
    }

    /// An unchanged run of text, shortened around the changes it borders when eliding:
    /// `keep_head` keeps its start (it follows a change), `keep_tail` its end (it precedes
    /// one).
    fn context<'a>(&mut self, s: &'a str, keep_head: bool, keep_tail: bool) -> Cow<'a, str> {
        if !self.elide {
            return Cow::Borrowed(s);
        }
        let head = if keep_head {
            head_end(s, CONTEXT_WORDS, CONTEXT_CHARS)
        } else {
            0
        };
        let tail = if keep_tail {
            tail_start(s, CONTEXT_WORDS, CONTEXT_CHARS)
        } else {
            s.len()
        };
        if head >= tail {
            return Cow::Borrowed(s);
        }
        let cut = s[head..tail].chars().count();
        if cut < MIN_ELIDED_CHARS {
            return Cow::Borrowed(s);
        }
        self.elided = true;
        Cow::Owned(format!("{}{}{}", &s[..head], cut_marker(cut), &s[tail..]))
    }

    fn whole(&mut self, old: Side<'_>, new: Side<'_>, out: &mut String) {
        let multi_line = |v: Side<'_>| matches!(v, Side::Value(Some(s)) if s.contains('\n'));
        if !multi_line(old) && !multi_line(new) {
            self.side(old, out);
            out.push_str(" → ");
            self.side(new, out);
            return;
        }
        let mut first = true;
        for (prefix, value) in [("- ", old), ("+ ", new)] {
            let lines: Vec<Cow<'_, str>> = match value {
                Side::Value(Some(text)) if !text.is_empty() => {
                    let text = self.cap_whole(text);
                    text.split_inclusive('\n')
                        .map(|line| Cow::Owned(sanitize_for_terminal(strip_line_end(line)).into_owned()))
                        .collect()
                }
                Side::Value(v) => vec![display_value(v)],
                Side::Mark(m) => vec![Cow::Borrowed(m)],
            };
            for line in lines {
                if !first {
                    out.push('\n');
                }
                first = false;
                out.push_str(prefix);
                out.push_str(&line);
            }
        }
    }

    fn side(&mut self, side: Side<'_>, out: &mut String) {
        match side {
            Side::Mark(m) => out.push_str(m),
            Side::Value(Some(s)) if !s.is_empty() => {
                let s = self.cap_whole(s);
                out.push_str(&sanitize_for_terminal(&s));
            }
            Side::Value(v) => out.push_str(&display_value(v)),
        }
    }

    /// Inline markup for spans. With `in_line`, the spans belong to one line of a line diff: a
    /// common line terminator is dropped and a changed line break is shown as `⏎`.
    fn spans(&mut self, spans: &[Span], in_line: bool, out: &mut String) {
        let last = spans.len().saturating_sub(1);
        for (i, span) in spans.iter().enumerate() {
            let mut text: &str = &span.text;
            if in_line && i == last && span.op == SpanOp::Equal {
                text = strip_line_end(text);
            }
            let text: Cow<'_, str> = if span.op == SpanOp::Equal {
                self.context(text, i > 0, i < last)
            } else {
                self.cap_whole(text)
            };
            let shown: Cow<'_, str> = if in_line && span.op != SpanOp::Equal && text.contains('\n') {
                Cow::Owned(sanitize_for_terminal(&text).replace('\n', "⏎"))
            } else {
                Cow::Owned(sanitize_for_terminal(&text).into_owned())
            };
            match span.op {
                SpanOp::Equal => out.push_str(&shown),
                SpanOp::Delete => {
                    out.push_str("[-");
                    out.push_str(&shown);
                    out.push_str("-]");
                }
                SpanOp::Insert => {
                    out.push_str("{+");
                    out.push_str(&shown);
                    out.push_str("+}");
                }
            }
        }
    }

    /// Which lines of a line diff to show: all, or (eliding) the changed ones with
    /// [`CONTEXT_LINES`] of unchanged lines around each; `None` stands for a cut run.
    fn visible_lines<'a>(&mut self, lines: &'a [LineChange]) -> Vec<Result<&'a LineChange, usize>> {
        if !self.elide {
            return lines.iter().map(Ok).collect();
        }
        let changed: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !matches!(l, LineChange::Equal { .. }))
            .map(|(i, _)| i)
            .collect();
        let near = |i: usize| {
            changed
                .iter()
                .any(|&c| i + CONTEXT_LINES >= c && i <= c + CONTEXT_LINES)
        };
        let mut out = Vec::with_capacity(lines.len().min(64));
        let mut cut = 0;
        for (i, line) in lines.iter().enumerate() {
            if near(i) {
                if cut > 0 {
                    out.push(Err(cut));
                    cut = 0;
                }
                out.push(Ok(line));
            } else {
                cut += 1;
            }
        }
        if cut > 0 {
            out.push(Err(cut));
        }
        // A single hidden line costs as much as its marker: show it.
        let mut fixed = Vec::with_capacity(out.len());
        let mut at = 0;
        for item in out {
            match item {
                Err(1) => {
                    fixed.push(Ok(&lines[at]));
                    at += 1;
                }
                Err(n) => {
                    self.elided = true;
                    fixed.push(Err(n));
                    at += n;
                }
                Ok(l) => {
                    fixed.push(Ok(l));
                    at += 1;
                }
            }
        }
        fixed
    }

    fn lines(&mut self, lines: &[LineChange], out: &mut String) {
        for (i, line) in self.visible_lines(lines).into_iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let line = match line {
                Ok(line) => line,
                Err(n) => {
                    let _ = write!(out, "  … {} unchanged line{} …", thousands(n), if n == 1 { "" } else { "s" });
                    continue;
                }
            };
            let (prefix, text) = match line {
                LineChange::Equal { text } => ("  ", text),
                LineChange::Delete { text } => ("- ", text),
                LineChange::Insert { text } => ("+ ", text),
                LineChange::Changed { spans } => {
                    out.push_str("~ ");
                    self.spans(spans, true, out);
                    continue;
                }
            };
            let text = strip_line_end(text);
            let shown: Cow<'_, str> = match line {
                LineChange::Equal { .. } if self.elide && char_end(text, MAX_LINE_CHARS) < text.len() => {
                    let end = char_end(text, MAX_LINE_CHARS);
                    let rest = text[end..].chars().count();
                    self.elided = true;
                    Cow::Owned(format!("{}… ({} more characters)", &text[..end], thousands(rest)))
                }
                LineChange::Equal { .. } => Cow::Borrowed(text),
                _ => self.cap_whole(text),
            };
            out.push_str(prefix);
            out.push_str(&sanitize_for_terminal(&shown));
        }
    }

    fn json(&mut self, changes: &[JsonChange], out: &mut String) {
        for (i, change) in changes.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let path = if change.path.is_empty() {
                Cow::Borrowed("(root)")
            } else {
                sanitize_for_terminal(&change.path)
            };
            out.push_str(&path);
            out.push_str(": ");
            let mut json = |v: &Value| {
                let text = v.to_string();
                let text = self.cap_whole(&text).into_owned();
                sanitize_for_terminal(&text).into_owned()
            };
            match &change.change {
                JsonChangeKind::Added { new } => {
                    let _ = write!(out, "{ABSENT_MARK} → {}", json(new));
                }
                JsonChangeKind::Removed { old } => {
                    let _ = write!(out, "{} → {ABSENT_MARK}", json(old));
                }
                JsonChangeKind::Changed { old, new } => {
                    let (old, new) = (json(old), json(new));
                    let _ = write!(out, "{old} → {new}");
                }
                JsonChangeKind::Moved { from, to } => {
                    let _ = write!(out, "moved from index {from} to {to}");
                }
            }
        }
    }
}

/// Drops a line terminator (`\n` or `\r\n`) for display; a lone `\r` stays and is shown
/// escaped.
fn strip_line_end(line: &str) -> &str {
    line.strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(line)
}
