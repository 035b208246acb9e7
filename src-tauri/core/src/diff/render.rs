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
///   `(root)` for the whole document).
///
/// Every value, span and JSON path goes through [`sanitize_for_terminal`], so audited data
/// can never drive the terminal.
pub fn render_plain(diff: &ValueDiff, out: &mut String) {
    match diff {
        ValueDiff::Unchanged => out.push_str("(unchanged)"),
        ValueDiff::Set { new } => render_whole(None, Some(new), out),
        ValueDiff::Cleared { old } => render_whole(Some(old), None, out),
        ValueDiff::Replaced { old, new } => render_whole(Some(old), Some(new), out),
        ValueDiff::Text { spans } => render_spans(spans, false, out),
        ValueDiff::Lines { lines } => render_lines(lines, out),
        ValueDiff::Json { changes } => render_json(changes, out),
    }
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

/// One whole value for display: `(null)`, `""` for the empty string, else sanitized text.
fn display_value(value: Option<&str>) -> Cow<'_, str> {
    match value {
        None => Cow::Borrowed(NULL_MARK),
        Some("") => Cow::Borrowed("\"\""),
        Some(text) => sanitize_for_terminal(text),
    }
}

fn render_whole(old: Option<&str>, new: Option<&str>, out: &mut String) {
    let multi_line = |v: Option<&str>| v.is_some_and(|s| s.contains('\n'));
    if !multi_line(old) && !multi_line(new) {
        out.push_str(&display_value(old));
        out.push_str(" → ");
        out.push_str(&display_value(new));
        return;
    }
    let mut first = true;
    for (prefix, value) in [("- ", old), ("+ ", new)] {
        let lines: Vec<Cow<'_, str>> = match value {
            Some(text) if !text.is_empty() => text
                .split_inclusive('\n')
                .map(|line| sanitize_for_terminal(strip_line_end(line)))
                .collect(),
            _ => vec![display_value(value)],
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

/// Inline markup for spans. With `in_line`, the spans belong to one line of a line diff: a
/// common line terminator is dropped and a changed line break is shown as `⏎`.
fn render_spans(spans: &[Span], in_line: bool, out: &mut String) {
    let last = spans.len().saturating_sub(1);
    for (i, span) in spans.iter().enumerate() {
        let mut text: &str = &span.text;
        if in_line && i == last && span.op == SpanOp::Equal {
            text = strip_line_end(text);
        }
        let shown: Cow<'_, str> = if in_line && span.op != SpanOp::Equal && text.contains('\n') {
            Cow::Owned(sanitize_for_terminal(text).replace('\n', "⏎"))
        } else {
            sanitize_for_terminal(text)
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

/// Drops a line terminator (`\n` or `\r\n`) for display; a lone `\r` stays and is shown
/// escaped.
fn strip_line_end(line: &str) -> &str {
    line.strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(line)
}

fn render_lines(lines: &[LineChange], out: &mut String) {
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let (prefix, text) = match line {
            LineChange::Equal { text } => ("  ", text),
            LineChange::Delete { text } => ("- ", text),
            LineChange::Insert { text } => ("+ ", text),
            LineChange::Changed { spans } => {
                out.push_str("~ ");
                render_spans(spans, true, out);
                continue;
            }
        };
        out.push_str(prefix);
        out.push_str(&sanitize_for_terminal(strip_line_end(text)));
    }
}

fn render_json(changes: &[JsonChange], out: &mut String) {
    let json = |v: &Value| sanitize_for_terminal(&v.to_string()).into_owned();
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
        match &change.change {
            JsonChangeKind::Added { new } => {
                let _ = write!(out, "{ABSENT_MARK} → {}", json(new));
            }
            JsonChangeKind::Removed { old } => {
                let _ = write!(out, "{} → {ABSENT_MARK}", json(old));
            }
            JsonChangeKind::Changed { old, new } => {
                let _ = write!(out, "{} → {}", json(old), json(new));
            }
            JsonChangeKind::Moved { from, to } => {
                let _ = write!(out, "moved from index {from} to {to}");
            }
        }
    }
}

