//! Text diffs: prose by words, multi-line text by lines (with word changes inside changed
//! line pairs), PostgreSQL array literals by element.

use std::time::Instant;

use similar::{Algorithm, ChangeTag, TextDiffConfig};

use super::{is_short_code, replaced, LineChange, Span, SpanOp, ValueDiff, SHORT_CODE_MAX_CHARS};

/// Below this share of common non-blank characters a text diff becomes `Replaced`.
const MIN_SIMILARITY: f64 = 0.3;
/// Below this share a deleted/inserted line pair is shown as `-`/`+` instead of inline.
const MIN_LINE_PAIR_SIMILARITY: f64 = 0.4;

/// Text rules: codes whole, multi-line by lines, everything else by words.
pub(super) fn diff_text(old: &str, new: &str, deadline: Instant) -> ValueDiff {
    if is_short_code(old) && is_short_code(new) {
        return replaced(old, new);
    }
    if old.contains('\n') || new.contains('\n') {
        diff_lines(old, new, deadline)
    } else {
        diff_words(old, new, deadline)
    }
}

fn diff_words(old: &str, new: &str, deadline: Instant) -> ValueDiff {
    let spans = word_spans(old, new, deadline);
    if similarity(&spans, char::is_whitespace) < MIN_SIMILARITY {
        replaced(old, new)
    } else {
        ValueDiff::Text { spans }
    }
}

/// Word-level spans of two texts (whitespace runs are tokens of their own).
fn word_spans(old: &str, new: &str, deadline: Instant) -> Vec<Span> {
    let diff = TextDiffConfig::default()
        .algorithm(Algorithm::Myers)
        .deadline(deadline)
        .diff_words(old, new);
    let mut spans = Vec::new();
    for change in diff.iter_all_changes() {
        push_span(&mut spans, span_op(change.tag()), change.value());
    }
    tidy_spans(spans, |sep| sep.chars().all(char::is_whitespace))
}

fn span_op(tag: ChangeTag) -> SpanOp {
    match tag {
        ChangeTag::Equal => SpanOp::Equal,
        ChangeTag::Delete => SpanOp::Delete,
        ChangeTag::Insert => SpanOp::Insert,
    }
}

/// Appends text to the span list, extending the last span when the op is the same.
fn push_span(spans: &mut Vec<Span>, op: SpanOp, text: &str) {
    if text.is_empty() {
        return;
    }
    match spans.last_mut() {
        Some(last) if last.op == op => last.text.push_str(text),
        _ => spans.push(Span {
            op,
            text: text.to_owned(),
        }),
    }
}

/// A span list regrouped as runs of common text and edits.
enum Segment {
    Same(String),
    Edit { del: String, ins: String },
}

/// Makes spans readable without changing what they rebuild: each run of changes becomes one
/// deletion followed by one insertion, and two replacements separated only by a separator
/// (whitespace for words, `,` for array elements) are joined, so `a b` → `x y` reads
/// `[-a b-]{+x y+}` rather than `[-a-]{+x+} [-b-]{+y+}`.
fn tidy_spans(spans: Vec<Span>, is_separator: impl Fn(&str) -> bool) -> Vec<Span> {
    let mut segments: Vec<Segment> = Vec::new();
    for span in spans {
        match (span.op, segments.last_mut()) {
            (SpanOp::Equal, Some(Segment::Same(text))) => text.push_str(&span.text),
            (SpanOp::Equal, _) => segments.push(Segment::Same(span.text)),
            (SpanOp::Delete, Some(Segment::Edit { del, .. })) => del.push_str(&span.text),
            (SpanOp::Delete, _) => segments.push(Segment::Edit {
                del: span.text,
                ins: String::new(),
            }),
            (SpanOp::Insert, Some(Segment::Edit { ins, .. })) => ins.push_str(&span.text),
            (SpanOp::Insert, _) => segments.push(Segment::Edit {
                del: String::new(),
                ins: span.text,
            }),
        }
    }

    let is_replacement = |seg: &Segment| matches!(seg, Segment::Edit { del, ins } if !del.is_empty() && !ins.is_empty());
    let mut merged: Vec<Segment> = Vec::with_capacity(segments.len());
    for segment in segments {
        let joinable = is_replacement(&segment)
            && matches!(
                merged.as_slice(),
                [.., before, Segment::Same(sep)]
                    if !sep.is_empty() && is_separator(sep) && is_replacement(before)
            );
        if joinable {
            if let (Some(Segment::Same(sep)), Segment::Edit { del, ins }) = (merged.pop(), &segment)
            {
                if let Some(Segment::Edit {
                    del: prev_del,
                    ins: prev_ins,
                }) = merged.last_mut()
                {
                    prev_del.push_str(&sep);
                    prev_del.push_str(del);
                    prev_ins.push_str(&sep);
                    prev_ins.push_str(ins);
                    continue;
                }
            }
        }
        merged.push(segment);
    }

    let mut out = Vec::with_capacity(merged.len() + 1);
    for segment in merged {
        match segment {
            Segment::Same(text) => push_span(&mut out, SpanOp::Equal, &text),
            Segment::Edit { del, ins } => {
                push_span(&mut out, SpanOp::Delete, &del);
                push_span(&mut out, SpanOp::Insert, &ins);
            }
        }
    }
    out
}

/// Counts common and total characters (ignoring some) to judge whether a diff is readable.
#[derive(Default)]
struct Tally {
    same: usize,
    total: usize,
}

impl Tally {
    fn add(&mut self, op: SpanOp, text: &str, ignore: &impl Fn(char) -> bool) {
        let n = text.chars().filter(|&c| !ignore(c)).count();
        match op {
            SpanOp::Equal => {
                self.same += 2 * n;
                self.total += 2 * n;
            }
            SpanOp::Delete | SpanOp::Insert => self.total += n,
        }
    }

    /// Share of the characters of both sides that are common, in `0..=1`; `1` when there is
    /// nothing to count (e.g. a whitespace-only change).
    fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.same as f64 / self.total as f64
        }
    }
}

fn similarity(spans: &[Span], ignore: impl Fn(char) -> bool) -> f64 {
    let mut tally = Tally::default();
    for span in spans {
        tally.add(span.op, &span.text, &ignore);
    }
    tally.ratio()
}

/// Multi-line text: line diff, then inline word diffs for deleted/inserted line pairs.
fn diff_lines(old: &str, new: &str, deadline: Instant) -> ValueDiff {
    let diff = TextDiffConfig::default()
        .algorithm(Algorithm::Myers)
        .deadline(deadline)
        .diff_lines(old, new);
    let mut lines = Vec::new();
    let mut deleted: Vec<&str> = Vec::new();
    let mut inserted: Vec<&str> = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                flush_line_block(&mut lines, &mut deleted, &mut inserted, deadline);
                lines.push(LineChange::Equal {
                    text: text.to_owned(),
                });
            }
            ChangeTag::Delete => deleted.push(text),
            ChangeTag::Insert => inserted.push(text),
        }
    }
    flush_line_block(&mut lines, &mut deleted, &mut inserted, deadline);

    let blank = char::is_whitespace;
    let mut tally = Tally::default();
    for line in &lines {
        match line {
            LineChange::Equal { text } => tally.add(SpanOp::Equal, text, &blank),
            LineChange::Delete { text } => tally.add(SpanOp::Delete, text, &blank),
            LineChange::Insert { text } => tally.add(SpanOp::Insert, text, &blank),
            LineChange::Changed { spans } => {
                for span in spans {
                    tally.add(span.op, &span.text, &blank);
                }
            }
        }
    }
    if tally.ratio() < MIN_SIMILARITY {
        replaced(old, new)
    } else {
        ValueDiff::Lines { lines }
    }
}

/// Emits one block of deleted and inserted lines: pairs them up in order, shows similar
/// pairs as `Changed` with inline spans and the rest as deletions followed by insertions.
/// Past the deadline no more inline diffs are attempted.
fn flush_line_block(
    lines: &mut Vec<LineChange>,
    deleted: &mut Vec<&str>,
    inserted: &mut Vec<&str>,
    deadline: Instant,
) {
    let mut pending_del: Vec<&str> = Vec::new();
    let mut pending_ins: Vec<&str> = Vec::new();
    for (old_line, new_line) in deleted.iter().zip(inserted.iter()) {
        let inline = if Instant::now() < deadline {
            let spans = word_spans(old_line, new_line, deadline);
            (similarity(&spans, char::is_whitespace) >= MIN_LINE_PAIR_SIMILARITY).then_some(spans)
        } else {
            None
        };
        match inline {
            Some(spans) => {
                emit_plain_lines(lines, &mut pending_del, &mut pending_ins);
                lines.push(LineChange::Changed { spans });
            }
            None => {
                pending_del.push(old_line);
                pending_ins.push(new_line);
            }
        }
    }
    let paired = deleted.len().min(inserted.len());
    pending_del.extend(deleted.iter().skip(paired));
    pending_ins.extend(inserted.iter().skip(paired));
    emit_plain_lines(lines, &mut pending_del, &mut pending_ins);
    deleted.clear();
    inserted.clear();
}

fn emit_plain_lines(
    lines: &mut Vec<LineChange>,
    deleted: &mut Vec<&str>,
    inserted: &mut Vec<&str>,
) {
    lines.extend(deleted.drain(..).map(|text| LineChange::Delete {
        text: text.to_owned(),
    }));
    lines.extend(inserted.drain(..).map(|text| LineChange::Insert {
        text: text.to_owned(),
    }));
}

// PostgreSQL array literals.

/// Array literals (`{a,b,"c d"}`): short ones whole, longer ones by element.
pub(super) fn diff_array_literal(old: &str, new: &str, deadline: Instant) -> ValueDiff {
    let short = |s: &str| s.chars().take(SHORT_CODE_MAX_CHARS + 1).count() <= SHORT_CODE_MAX_CHARS;
    if short(old) && short(new) {
        return replaced(old, new);
    }
    let old_tokens = tokenize_array_literal(old);
    let new_tokens = tokenize_array_literal(new);
    let diff = TextDiffConfig::default()
        .algorithm(Algorithm::Myers)
        .deadline(deadline)
        .diff_slices(&old_tokens, &new_tokens);
    let mut spans = Vec::new();
    for change in diff.iter_all_changes() {
        push_span(&mut spans, span_op(change.tag()), change.value());
    }
    let spans = tidy_spans(spans, |sep| sep == ",");
    let structural = |c: char| c.is_whitespace() || matches!(c, '{' | '}' | ',' | '"');
    if similarity(&spans, structural) < MIN_SIMILARITY {
        replaced(old, new)
    } else {
        ValueDiff::Text { spans }
    }
}

/// Splits an array literal into `{`, `}`, `,`, quoted elements (with their quotes and
/// backslash escapes) and unquoted elements. The tokens always concatenate back to the
/// input, even when it is malformed.
pub(super) fn tokenize_array_literal(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let at = |i: usize| bytes.get(i).copied();
    let is_delimiter = |b: u8| matches!(b, b'{' | b'}' | b',' | b'"');
    let mut tokens = Vec::new();
    let mut start = 0;
    while let Some(first) = at(start) {
        let mut end = start + 1;
        match first {
            b'{' | b'}' | b',' => {}
            b'"' => {
                while let Some(b) = at(end) {
                    match b {
                        b'\\' => end += 2,
                        b'"' => {
                            end += 1;
                            break;
                        }
                        _ => end += 1,
                    }
                }
            }
            _ => {
                while at(end).is_some_and(|b| !is_delimiter(b)) {
                    end += 1;
                }
            }
        }
        // Token ends are after an ASCII byte or at the end, hence char boundaries; a
        // backslash before a multi-byte character only delays the end to the next quote.
        let end = end.min(bytes.len());
        match s.get(start..end) {
            Some(token) => tokens.push(token),
            None => {
                // Unreachable by the reasoning above; keep the rest as one token regardless.
                if let Some(rest) = s.get(start..) {
                    tokens.push(rest);
                }
                break;
            }
        }
        start = end;
    }
    tokens
}

