//! Field-level diff of two versions of one column value.
//!
//! `rowtrail history` and `rowtrail diff` show what changed in each column between two
//! versions of a record, and the web UI will show the same later. This module therefore
//! produces plain, serde-serializable data ([`ValueDiff`]) and keeps presentation apart:
//! [`render_plain`] is the terminal renderer, a UI renders the same data its own way.
//!
//! Values arrive in the database's own text form (PostgreSQL text output, SQLite text) or as
//! NULL, together with the column's type name. The useful kind of diff depends on both:
//!
//! * NULL ↔ value is [`ValueDiff::Set`] / [`ValueDiff::Cleared`]; identical text is
//!   [`ValueDiff::Unchanged`]. Comparison is always on the text, never on parsed numbers or
//!   times: `1.10` → `1.1` is a change.
//! * Non-text types (numbers, booleans, timestamps, uuids, enums, anything not recognised as
//!   text) and short codes (text without whitespace, at most 32 characters) are compared
//!   whole: [`ValueDiff::Replaced`].
//! * Single-line prose is diffed by words ([`ValueDiff::Text`]); multi-line text by lines,
//!   with inline word changes inside changed line pairs ([`ValueDiff::Lines`]).
//! * PostgreSQL array literals (`_text`, `int4[]`, …) longer than a short code are diffed by
//!   element ([`ValueDiff::Text`] whose spans follow element boundaries).
//! * JSON — `json`/`jsonb` columns, or text/untyped columns whose two values both parse as a
//!   JSON object or array — is diffed structurally ([`ValueDiff::Json`]) with JSON-pointer
//!   paths. For `jsonb` a difference in key order or formatting alone is `Unchanged` (jsonb
//!   does not keep either); for `json` and text columns such a difference falls back to the
//!   text diff, because there the stored text really changed.
//!
//! Every diff runs under a 50 ms budget handed to `similar` as a deadline, so a pathological
//! pair (two huge unrelated values) cannot hang the terminal or the UI; past the deadline the
//! diff is coarser, never wrong. When two texts share too little (less than 30 % of their
//! non-blank characters) the result is a whole-value `Replaced` instead of a confetti of spans.
//!
//! Known limit: JSON numbers are compared as parsed by `serde_json` (no arbitrary precision),
//! so a change from `1.10` to `1.1` *inside* a jsonb document is not reported.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use similar::{Algorithm, ChangeTag, DiffTag, TextDiffConfig};

/// Time budget for one [`diff_value`] call; `similar` approximates once it is spent.
const DIFF_TIME_BUDGET: Duration = Duration::from_millis(50);
/// Longest text (in characters) that still counts as a short code when it has no whitespace.
const SHORT_CODE_MAX_CHARS: usize = 32;
/// Below this share of common non-blank characters a text diff becomes `Replaced`.
const MIN_SIMILARITY: f64 = 0.3;
/// Below this share a deleted/inserted line pair is shown as `-`/`+` instead of inline.
const MIN_LINE_PAIR_SIMILARITY: f64 = 0.4;
/// Object keys that identify array elements, in order of preference.
const ID_KEYS: [&str; 4] = ["id", "uuid", "key", "_id"];
/// How the renderer shows NULL.
const NULL_MARK: &str = "(null)";
/// How the renderer shows a key or element that does not exist on one side of a JSON diff.
const ABSENT_MARK: &str = "(absent)";

/// The difference between two versions of one column value.
///
/// Serialized with a `"kind"` tag (`{"kind": "replaced", "old": …, "new": …}`) so that the
/// web UI can switch on it; the CLI renders it with [`render_plain`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ValueDiff {
    /// Both versions are equal (both NULL, identical text, or jsonb equal as JSON).
    Unchanged,
    /// NULL became a value.
    Set {
        /// The new value, in the database's text form.
        new: String,
    },
    /// A value became NULL.
    Cleared {
        /// The old value, in the database's text form.
        old: String,
    },
    /// The value is best shown whole: a code, a number, a timestamp, an enum, or two texts
    /// with too little in common for a readable diff.
    Replaced {
        /// The old value, in the database's text form.
        old: String,
        /// The new value, in the database's text form.
        new: String,
    },
    /// Single-line text diffed by words (or an array literal diffed by element). The `Equal`
    /// and `Delete` spans concatenate to the old value, the `Equal` and `Insert` spans to the
    /// new one.
    Text {
        /// The spans in reading order; within a change, deletions come before insertions.
        spans: Vec<Span>,
    },
    /// Multi-line text diffed by lines, with word-level changes inside changed line pairs.
    Lines {
        /// The lines in reading order; see [`LineChange`] for how they rebuild both values.
        lines: Vec<LineChange>,
    },
    /// JSON diffed structurally.
    Json {
        /// The individual changes, in document order.
        changes: Vec<JsonChange>,
    },
}

impl ValueDiff {
    /// Whether the two versions differ at all (anything but [`ValueDiff::Unchanged`]);
    /// lets callers hide unchanged columns without matching on every variant.
    pub fn is_changed(&self) -> bool {
        !matches!(self, ValueDiff::Unchanged)
    }
}

/// What a [`Span`] of text did between the two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SpanOp {
    /// Present in both versions.
    Equal,
    /// Only in the old version.
    Delete,
    /// Only in the new version.
    Insert,
}

/// A run of text with one [`SpanOp`]; a word diff is a list of these, so a UI can render
/// deletions and insertions inline without re-diffing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Span {
    /// Whether the text is common, deleted or inserted.
    pub op: SpanOp,
    /// The text exactly as in the value (whitespace included).
    pub text: String,
}

/// One line of a multi-line diff ([`ValueDiff::Lines`]), serialized with an `"op"` tag.
///
/// Line texts keep their terminator (`\n`, `\r\n`) exactly as in the value, so nothing is
/// lost: the old value is the concatenation of the `Equal` and `Delete` texts plus the old
/// side of every `Changed` line (its `Equal` and `Delete` spans); the new value likewise with
/// `Insert`. Renderers strip the final `\n` for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LineChange {
    /// A line present unchanged in both versions.
    Equal {
        /// The line, with its terminator.
        text: String,
    },
    /// A line only in the old version.
    Delete {
        /// The line, with its terminator.
        text: String,
    },
    /// A line only in the new version.
    Insert {
        /// The line, with its terminator.
        text: String,
    },
    /// A line edited in place, with the word-level changes inside it.
    Changed {
        /// Spans covering the old line (`Equal` + `Delete`) and the new line
        /// (`Equal` + `Insert`), terminators included.
        spans: Vec<Span>,
    },
}

/// One structural change inside a JSON value ([`ValueDiff::Json`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct JsonChange {
    /// JSON-pointer (RFC 6901) path of the changed node, e.g. `/items/2/qty`; `""` is the
    /// whole document. Array indexes are those of the new version, except for `Removed`
    /// elements, which carry their old index.
    pub path: String,
    /// What happened at `path`.
    pub change: JsonChangeKind,
}

/// What happened at one JSON path; serialized with a `"kind"` tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JsonChangeKind {
    /// The key or element exists only in the new version.
    Added {
        /// The added value.
        new: Value,
    },
    /// The key or element exists only in the old version.
    Removed {
        /// The removed value.
        old: Value,
    },
    /// A scalar (or a node whose type changed) was replaced.
    Changed {
        /// The old value.
        old: Value,
        /// The new value.
        new: Value,
    },
    /// An array element identified by its `id`-like key changed position (its content
    /// changes, if any, are reported separately under the same path). Reported for the
    /// fewest elements that explain the new order.
    Moved {
        /// The element's index in the old array.
        from: usize,
        /// The element's index in the new array.
        to: usize,
    },
}

/// Diffs two versions of a column value, each in the database's text form or `None` for
/// NULL, choosing the kind of diff from the column type (`text`, `jsonb`, `int4`,
/// `timestamptz`, `_text`, an enum name, SQLite's `TEXT`, …; `""` when unknown).
///
/// Never panics and never takes much longer than its 50 ms budget, whatever the values.
pub fn diff_value(type_name: &str, old: Option<&str>, new: Option<&str>) -> ValueDiff {
    let (old, new) = match (old, new) {
        (None, None) => return ValueDiff::Unchanged,
        (None, Some(new)) => {
            return ValueDiff::Set {
                new: new.to_owned(),
            }
        }
        (Some(old), None) => {
            return ValueDiff::Cleared {
                old: old.to_owned(),
            }
        }
        (Some(old), Some(new)) if old == new => return ValueDiff::Unchanged,
        (Some(old), Some(new)) => (old, new),
    };
    let deadline = Instant::now() + DIFF_TIME_BUDGET;
    match classify(type_name) {
        TypeClass::Atomic => replaced(old, new),
        TypeClass::Json { binary } => diff_json_text(old, new, binary, deadline)
            .unwrap_or_else(|| diff_text(old, new, deadline)),
        TypeClass::Array => diff_array_literal(old, new, deadline),
        TypeClass::Text => {
            sniff_json(old, new, deadline).unwrap_or_else(|| diff_text(old, new, deadline))
        }
    }
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

// ---------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------

/// How a column type is diffed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeClass {
    /// Compared whole: numbers, booleans, times, uuids, enums, unknown named types.
    Atomic,
    /// Text (or an unknown/untyped column): codes whole, prose by words, notes by lines.
    Text,
    /// A PostgreSQL array literal, diffed by element.
    Array,
    /// JSON; `binary` for jsonb, which keeps neither key order nor formatting.
    Json { binary: bool },
}

/// Maps a type name (PostgreSQL or SQLite spelling, possibly schema-qualified, quoted or
/// with a modifier such as `varchar(20)`) to how its values are diffed.
fn classify(type_name: &str) -> TypeClass {
    let lower = type_name.trim().to_ascii_lowercase().replace('"', "");
    let base = lower.rsplit('.').next().unwrap_or(&lower).trim();
    if base.is_empty() || base == "unknown" || base == "any" {
        return TypeClass::Text;
    }
    if base.starts_with('_') || base.ends_with(']') {
        return TypeClass::Array;
    }
    let name = base.split('(').next().unwrap_or(base).trim();
    match name {
        "json" => TypeClass::Json { binary: false },
        "jsonb" => TypeClass::Json { binary: true },
        "text"
        | "varchar"
        | "character varying"
        | "char"
        | "character"
        | "bpchar"
        | "name"
        | "citext"
        | "nvarchar"
        | "nchar"
        | "varying character"
        | "native character"
        | "national character"
        | "national character varying"
        | "national varchar"
        | "clob"
        | "string"
        | "tinytext"
        | "mediumtext"
        | "longtext"
        | "xml"
        | "hstore" => TypeClass::Text,
        _ => TypeClass::Atomic,
    }
}

/// Short codes and identifiers: no whitespace (trailing `char(n)` padding aside) and at most
/// [`SHORT_CODE_MAX_CHARS`] characters. Such values read best whole.
fn is_short_code(s: &str) -> bool {
    let s = s.trim_end();
    !s.chars().any(char::is_whitespace)
        && s.chars().take(SHORT_CODE_MAX_CHARS + 1).count() <= SHORT_CODE_MAX_CHARS
}

fn replaced(old: &str, new: &str) -> ValueDiff {
    ValueDiff::Replaced {
        old: old.to_owned(),
        new: new.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------

/// Text rules: codes whole, multi-line by lines, everything else by words.
fn diff_text(old: &str, new: &str, deadline: Instant) -> ValueDiff {
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

// ---------------------------------------------------------------------------------------
// PostgreSQL array literals
// ---------------------------------------------------------------------------------------

/// Array literals (`{a,b,"c d"}`): short ones whole, longer ones by element.
fn diff_array_literal(old: &str, new: &str, deadline: Instant) -> ValueDiff {
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
fn tokenize_array_literal(s: &str) -> Vec<&str> {
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

// ---------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------

/// `json`/`jsonb` columns. `None` when a side does not parse or (for `json`) when only the
/// formatting or key order changed; the caller then falls back to the text diff.
fn diff_json_text(old: &str, new: &str, binary: bool, deadline: Instant) -> Option<ValueDiff> {
    let old: Value = serde_json::from_str(old).ok()?;
    let new: Value = serde_json::from_str(new).ok()?;
    json_result(&old, &new, binary, deadline)
}

/// Text or untyped columns: a structural diff when both values are JSON objects/arrays.
fn sniff_json(old: &str, new: &str, deadline: Instant) -> Option<ValueDiff> {
    let looks_like_container =
        |s: &str| matches!(s.trim_start().as_bytes().first(), Some(b'{') | Some(b'['));
    if !looks_like_container(old) || !looks_like_container(new) {
        return None;
    }
    let old: Value = serde_json::from_str(old).ok()?;
    let new: Value = serde_json::from_str(new).ok()?;
    let container = |v: &Value| v.is_object() || v.is_array();
    if !container(&old) || !container(&new) {
        return None;
    }
    json_result(&old, &new, false, deadline)
}

fn json_result(
    old: &Value,
    new: &Value,
    equal_is_unchanged: bool,
    deadline: Instant,
) -> Option<ValueDiff> {
    let mut differ = JsonDiffer {
        deadline,
        changes: Vec::new(),
    };
    differ.node(&mut String::new(), old, new);
    if !differ.changes.is_empty() {
        Some(ValueDiff::Json {
            changes: differ.changes,
        })
    } else if equal_is_unchanged {
        Some(ValueDiff::Unchanged)
    } else {
        None
    }
}

/// Walks two JSON trees, collecting changes with their paths.
struct JsonDiffer {
    deadline: Instant,
    changes: Vec<JsonChange>,
}

impl JsonDiffer {
    fn push(&mut self, path: &str, change: JsonChangeKind) {
        self.changes.push(JsonChange {
            path: path.to_owned(),
            change,
        });
    }

    fn node(&mut self, path: &mut String, old: &Value, new: &Value) {
        if old == new {
            return;
        }
        match (old, new) {
            (Value::Object(a), Value::Object(b)) => self.objects(path, a, b),
            (Value::Array(a), Value::Array(b)) => self.arrays(path, a, b),
            _ => self.push(
                path,
                JsonChangeKind::Changed {
                    old: old.clone(),
                    new: new.clone(),
                },
            ),
        }
    }

    /// Objects by key: removed and changed keys in old order, then added keys in new order.
    fn objects(&mut self, path: &mut String, a: &Map<String, Value>, b: &Map<String, Value>) {
        let len = path.len();
        for (key, old_value) in a {
            push_key(path, key);
            match b.get(key) {
                None => self.push(
                    path,
                    JsonChangeKind::Removed {
                        old: old_value.clone(),
                    },
                ),
                Some(new_value) => self.node(path, old_value, new_value),
            }
            path.truncate(len);
        }
        for (key, new_value) in b {
            if !a.contains_key(key) {
                push_key(path, key);
                self.push(
                    path,
                    JsonChangeKind::Added {
                        new: new_value.clone(),
                    },
                );
                path.truncate(len);
            }
        }
    }

    fn arrays(&mut self, path: &mut String, a: &[Value], b: &[Value]) {
        match element_ids(a, b) {
            Some((old_ids, new_ids)) => self.arrays_by_id(path, a, b, &old_ids, &new_ids),
            None => self.arrays_by_position(path, a, b),
        }
    }

    /// Arrays of identified objects: elements matched by id, wherever they are.
    fn arrays_by_id(
        &mut self,
        path: &mut String,
        a: &[Value],
        b: &[Value],
        old_ids: &[String],
        new_ids: &[String],
    ) {
        let old_pos: HashMap<&str, usize> = old_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let new_pos: HashMap<&str, usize> = new_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let len = path.len();

        for ((i, id), old_item) in old_ids.iter().enumerate().zip(a) {
            if !new_pos.contains_key(id.as_str()) {
                push_index(path, i);
                self.push(
                    path,
                    JsonChangeKind::Removed {
                        old: old_item.clone(),
                    },
                );
                path.truncate(len);
            }
        }

        // Elements kept in order are those on a longest common subsequence of the ids
        // present on both sides; every other common element moved.
        let old_common: Vec<&str> = old_ids
            .iter()
            .map(String::as_str)
            .filter(|id| new_pos.contains_key(id))
            .collect();
        let new_common: Vec<&str> = new_ids
            .iter()
            .map(String::as_str)
            .filter(|id| old_pos.contains_key(id))
            .collect();
        let ops = similar::capture_diff_slices_deadline(
            Algorithm::Myers,
            &old_common,
            &new_common,
            Some(self.deadline),
        );
        let mut moved: HashSet<&str> = HashSet::new();
        for op in &ops {
            let (tag, _, new_range) = op.as_tag_tuple();
            if tag != DiffTag::Equal {
                moved.extend(new_range.filter_map(|j| new_common.get(j).copied()));
            }
        }

        for ((j, id), new_item) in new_ids.iter().enumerate().zip(b) {
            push_index(path, j);
            match old_pos
                .get(id.as_str())
                .and_then(|&i| a.get(i).map(|item| (i, item)))
            {
                None => self.push(
                    path,
                    JsonChangeKind::Added {
                        new: new_item.clone(),
                    },
                ),
                Some((i, old_item)) => {
                    if moved.contains(id.as_str()) {
                        self.push(path, JsonChangeKind::Moved { from: i, to: j });
                    }
                    self.node(path, old_item, new_item);
                }
            }
            path.truncate(len);
        }
    }

    /// Other arrays: equal elements aligned by LCS; in between, elements are paired by
    /// position and diffed recursively, the surplus reported as removed or added.
    fn arrays_by_position(&mut self, path: &mut String, a: &[Value], b: &[Value]) {
        let old_keys: Vec<String> = a.iter().map(canonical).collect();
        let new_keys: Vec<String> = b.iter().map(canonical).collect();
        let ops = similar::capture_diff_slices_deadline(
            Algorithm::Myers,
            &old_keys,
            &new_keys,
            Some(self.deadline),
        );
        let mut block: Option<(Range<usize>, Range<usize>)> = None;
        for op in &ops {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            if tag == DiffTag::Equal {
                if let Some((old_block, new_block)) = block.take() {
                    self.array_block(path, a, b, old_block, new_block);
                }
            } else {
                block = Some(match block.take() {
                    None => (old_range, new_range),
                    Some((old_block, new_block)) => (
                        old_block.start..old_range.end,
                        new_block.start..new_range.end,
                    ),
                });
            }
        }
        if let Some((old_block, new_block)) = block {
            self.array_block(path, a, b, old_block, new_block);
        }
    }

    fn array_block(
        &mut self,
        path: &mut String,
        a: &[Value],
        b: &[Value],
        old_block: Range<usize>,
        new_block: Range<usize>,
    ) {
        let len = path.len();
        let old_items = a.get(old_block.clone()).unwrap_or_default();
        let new_items = b.get(new_block.clone()).unwrap_or_default();
        let paired = old_items.len().min(new_items.len());
        for (k, (old_item, new_item)) in old_items.iter().zip(new_items).enumerate() {
            push_index(path, new_block.start + k);
            self.node(path, old_item, new_item);
            path.truncate(len);
        }
        for (k, old_item) in old_items.iter().enumerate().skip(paired) {
            push_index(path, old_block.start + k);
            self.push(
                path,
                JsonChangeKind::Removed {
                    old: old_item.clone(),
                },
            );
            path.truncate(len);
        }
        for (k, new_item) in new_items.iter().enumerate().skip(paired) {
            push_index(path, new_block.start + k);
            self.push(
                path,
                JsonChangeKind::Added {
                    new: new_item.clone(),
                },
            );
            path.truncate(len);
        }
    }
}

/// Appends an object key as a JSON-pointer segment (`~` → `~0`, `/` → `~1`).
fn push_key(path: &mut String, key: &str) {
    path.push('/');
    for c in key.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

fn push_index(path: &mut String, index: usize) {
    let _ = write!(path, "/{index}");
}

/// The ids of both arrays under the first key of [`ID_KEYS`] that every element on both
/// sides has, as a unique non-null scalar; `None` when no key qualifies.
fn element_ids(a: &[Value], b: &[Value]) -> Option<(Vec<String>, Vec<String>)> {
    ID_KEYS
        .iter()
        .find_map(|key| Some((ids_under(a, key)?, ids_under(b, key)?)))
}

fn ids_under(items: &[Value], key: &str) -> Option<Vec<String>> {
    let mut seen = HashSet::with_capacity(items.len());
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = match item.as_object()?.get(key)? {
            Value::String(s) => format!("s{s}"),
            Value::Number(n) => format!("n{n}"),
            Value::Bool(v) => format!("b{v}"),
            Value::Null | Value::Array(_) | Value::Object(_) => return None,
        };
        if !seen.insert(id.clone()) {
            return None;
        }
        ids.push(id);
    }
    Some(ids)
}

/// A text key equal for two JSON values exactly when they are equal as JSON (object key
/// order ignored), used to align array elements.
fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|x, y| x.0.cmp(y.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{key:?}:");
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {
            let _ = write!(out, "{value}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(diff: &ValueDiff) -> String {
        let mut out = String::new();
        render_plain(diff, &mut out);
        out
    }

    /// The old side of a span list (`Equal` + `Delete`).
    fn old_side(spans: &[Span]) -> String {
        spans
            .iter()
            .filter(|s| s.op != SpanOp::Insert)
            .map(|s| s.text.as_str())
            .collect()
    }

    /// The new side of a span list (`Equal` + `Insert`).
    fn new_side(spans: &[Span]) -> String {
        spans
            .iter()
            .filter(|s| s.op != SpanOp::Delete)
            .map(|s| s.text.as_str())
            .collect()
    }

    fn lines_old(lines: &[LineChange]) -> String {
        lines
            .iter()
            .map(|l| match l {
                LineChange::Equal { text } | LineChange::Delete { text } => text.clone(),
                LineChange::Insert { .. } => String::new(),
                LineChange::Changed { spans } => old_side(spans),
            })
            .collect()
    }

    fn lines_new(lines: &[LineChange]) -> String {
        lines
            .iter()
            .map(|l| match l {
                LineChange::Equal { text } | LineChange::Insert { text } => text.clone(),
                LineChange::Delete { .. } => String::new(),
                LineChange::Changed { spans } => new_side(spans),
            })
            .collect()
    }

    fn span(op: SpanOp, text: &str) -> Span {
        Span {
            op,
            text: text.to_owned(),
        }
    }

    fn json_changes(diff: ValueDiff) -> Vec<JsonChange> {
        match diff {
            ValueDiff::Json { changes } => changes,
            other => panic!("expected a JSON diff, got {other:?}"),
        }
    }

    fn change(path: &str, change: JsonChangeKind) -> JsonChange {
        JsonChange {
            path: path.to_owned(),
            change,
        }
    }

    /// Deterministic xorshift, so the pathological inputs are reproducible without `rand`.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn text(&mut self, len: usize, word_sep: Option<char>, line_sep: Option<char>) -> String {
            let mut s = String::with_capacity(len);
            while s.len() < len {
                let r = self.next();
                match r % 16 {
                    0 | 1 if word_sep.is_some() => s.push(word_sep.unwrap_or(' ')),
                    2 if line_sep.is_some() && r % 64 == 2 => s.push(line_sep.unwrap_or('\n')),
                    _ => s.push(char::from(b'a' + (r >> 8) as u8 % 26)),
                }
            }
            s
        }
    }

    // --- NULL, equality, whole values -------------------------------------------------

    #[test]
    fn null_transitions_and_equality() {
        assert_eq!(diff_value("text", None, None), ValueDiff::Unchanged);
        assert_eq!(
            diff_value("int4", None, Some("42")),
            ValueDiff::Set { new: "42".into() }
        );
        assert_eq!(
            diff_value("int4", Some("42"), None),
            ValueDiff::Cleared { old: "42".into() }
        );
        assert_eq!(
            diff_value("text", Some(""), None),
            ValueDiff::Cleared { old: String::new() }
        );
        assert_eq!(
            diff_value("text", Some("same"), Some("same")),
            ValueDiff::Unchanged
        );
        assert!(!diff_value("text", Some("a"), Some("a")).is_changed());
        assert!(diff_value("text", None, Some("")).is_changed());
        assert_eq!(render(&ValueDiff::Set { new: "42".into() }), "(null) → 42");
        assert_eq!(
            render(&ValueDiff::Cleared { old: String::new() }),
            "\"\" → (null)"
        );
        assert_eq!(render(&ValueDiff::Unchanged), "(unchanged)");
    }

    #[test]
    fn status_code_is_replaced_whole() {
        let d = diff_value("bpchar", Some("P"), Some("X"));
        assert_eq!(
            d,
            ValueDiff::Replaced {
                old: "P".into(),
                new: "X".into()
            }
        );
        assert_eq!(render(&d), "P → X");
        // char(n) padding does not make a code prose.
        let d = diff_value("character(4)", Some("P   "), Some("X   "));
        assert!(matches!(d, ValueDiff::Replaced { .. }), "{d:?}");
        // An identifier-like text value up to 32 characters.
        let d = diff_value(
            "varchar(64)",
            Some("ORD-2026-000123"),
            Some("ORD-2026-000124"),
        );
        assert!(matches!(d, ValueDiff::Replaced { .. }), "{d:?}");
    }

    #[test]
    fn numeric_is_compared_as_text() {
        let d = diff_value("numeric", Some("1.10"), Some("1.1"));
        assert_eq!(
            d,
            ValueDiff::Replaced {
                old: "1.10".into(),
                new: "1.1".into()
            }
        );
        assert_eq!(render(&d), "1.10 → 1.1");
        assert_eq!(
            diff_value("numeric(10,2)", Some("1.10"), Some("1.10")),
            ValueDiff::Unchanged
        );
        assert!(matches!(
            diff_value("INTEGER", Some("1"), Some("2")),
            ValueDiff::Replaced { .. }
        ));
    }

    #[test]
    fn non_text_types_are_replaced_whole_even_with_spaces() {
        let d = diff_value(
            "timestamptz",
            Some("2026-01-01 01:00:00+00"),
            Some("2026-01-01 02:00:00+00"),
        );
        assert_eq!(
            d,
            ValueDiff::Replaced {
                old: "2026-01-01 01:00:00+00".into(),
                new: "2026-01-01 02:00:00+00".into()
            }
        );
        for (ty, old, new) in [
            ("bool", "t", "f"),
            (
                "uuid",
                "6f1c6b1e-0c1a-4a57-9a55-0d8c2b4f0c11",
                "6f1c6b1e-0c1a-4a57-9a55-0d8c2b4f0c12",
            ),
            (
                "order_status",
                "awaiting_payment_confirmation_from_bank",
                "cancelled by customer",
            ),
            ("public.mood", "happy", "sad"),
            ("interval", "1 day 02:00:00", "2 days"),
        ] {
            assert!(
                matches!(
                    diff_value(ty, Some(old), Some(new)),
                    ValueDiff::Replaced { .. }
                ),
                "{ty}"
            );
        }
    }

    #[test]
    fn type_names_are_normalised() {
        assert_eq!(classify("character varying(255)"), TypeClass::Text);
        assert_eq!(classify("pg_catalog.text"), TypeClass::Text);
        assert_eq!(classify("VARCHAR(20)"), TypeClass::Text);
        assert_eq!(classify("TEXT"), TypeClass::Text);
        assert_eq!(classify(""), TypeClass::Text);
        assert_eq!(classify("_text"), TypeClass::Array);
        assert_eq!(classify("text[]"), TypeClass::Array);
        assert_eq!(classify("integer[3]"), TypeClass::Array);
        assert_eq!(classify("JSONB"), TypeClass::Json { binary: true });
        assert_eq!(classify("json"), TypeClass::Json { binary: false });
        assert_eq!(classify("\"MyEnum\""), TypeClass::Atomic);
        assert_eq!(classify("INTEGER"), TypeClass::Atomic);
        assert_eq!(classify("timestamp with time zone"), TypeClass::Atomic);
    }

    // --- Prose ------------------------------------------------------------------------

    #[test]
    fn sentence_with_one_word_changed() {
        let old = "Customer asked for a refund on the damaged item.";
        let new = "Customer asked for a replacement on the damaged item.";
        let d = diff_value("text", Some(old), Some(new));
        let ValueDiff::Text { spans } = &d else {
            panic!("expected spans, got {d:?}")
        };
        assert_eq!(
            spans,
            &vec![
                span(SpanOp::Equal, "Customer asked for a "),
                span(SpanOp::Delete, "refund"),
                span(SpanOp::Insert, "replacement"),
                span(SpanOp::Equal, " on the damaged item."),
            ]
        );
        assert_eq!(old_side(spans), old);
        assert_eq!(new_side(spans), new);
        assert_eq!(
            render(&d),
            "Customer asked for a [-refund-]{+replacement+} on the damaged item."
        );
    }

    #[test]
    fn adjacent_word_replacements_are_grouped() {
        let old = "Ship via the quick brown courier tomorrow morning";
        let new = "Ship via the slow red courier tomorrow morning";
        let d = diff_value("text", Some(old), Some(new));
        let ValueDiff::Text { spans } = &d else {
            panic!("expected spans, got {d:?}")
        };
        assert_eq!(old_side(spans), old);
        assert_eq!(new_side(spans), new);
        assert_eq!(
            render(&d),
            "Ship via the [-quick brown-]{+slow red+} courier tomorrow morning"
        );
    }

    #[test]
    fn insertion_and_deletion_in_prose() {
        let old = "Call the customer back";
        let new = "Please call the customer back today";
        let d = diff_value("TEXT", Some(old), Some(new));
        let ValueDiff::Text { spans } = &d else {
            panic!("expected spans, got {d:?}")
        };
        assert_eq!(old_side(spans), old);
        assert_eq!(new_side(spans), new);
        assert!(spans
            .iter()
            .any(|s| s.op == SpanOp::Insert && s.text.contains("today")));
    }

    #[test]
    fn unrelated_texts_are_replaced_not_confetti() {
        let old = "Awaiting signature from the legal department";
        let new = "Shipped with tracking number pending";
        assert_eq!(diff_value("text", Some(old), Some(new)), replaced(old, new));
        // A short code becoming prose shares nothing either.
        assert!(matches!(
            diff_value("text", Some("draft"), Some("needs review by legal")),
            ValueDiff::Replaced { .. }
        ));
    }

    // --- Multi-line -------------------------------------------------------------------

    #[test]
    fn multi_line_note() {
        let old = "Called customer on Monday.\nAgreed to a partial refund of 20 EUR.\nClose the ticket afterwards.\n";
        let new = "Called customer on Monday.\nAgreed to a partial refund of 25 EUR.\nClose the ticket afterwards.\nEscalated to billing.\n";
        let d = diff_value("text", Some(old), Some(new));
        let ValueDiff::Lines { lines } = &d else {
            panic!("expected lines, got {d:?}")
        };
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            LineChange::Equal {
                text: "Called customer on Monday.\n".into()
            }
        );
        let LineChange::Changed { spans } = &lines[1] else {
            panic!("expected a changed line")
        };
        assert!(spans.contains(&span(SpanOp::Delete, "20")));
        assert!(spans.contains(&span(SpanOp::Insert, "25")));
        assert_eq!(
            lines[2],
            LineChange::Equal {
                text: "Close the ticket afterwards.\n".into()
            }
        );
        assert_eq!(
            lines[3],
            LineChange::Insert {
                text: "Escalated to billing.\n".into()
            }
        );
        assert_eq!(lines_old(lines), old);
        assert_eq!(lines_new(lines), new);
        assert_eq!(
            render(&d),
            "  Called customer on Monday.\n\
             ~ Agreed to a partial refund of [-20-]{+25+} EUR.\n\
             \x20 Close the ticket afterwards.\n\
             + Escalated to billing."
        );
    }

    #[test]
    fn multi_line_dissimilar_lines_are_delete_then_insert() {
        let old = "Order confirmed.\nPacked by Anna.\nWaiting for courier pickup at the dock.";
        let new = "Order confirmed.\nReturned to sender after three attempts.\nWaiting for courier pickup at the dock.";
        let d = diff_value("text", Some(old), Some(new));
        let ValueDiff::Lines { lines } = &d else {
            panic!("expected lines, got {d:?}")
        };
        assert_eq!(
            lines[1],
            LineChange::Delete {
                text: "Packed by Anna.\n".into()
            }
        );
        assert_eq!(
            lines[2],
            LineChange::Insert {
                text: "Returned to sender after three attempts.\n".into()
            }
        );
        assert_eq!(lines_old(lines), old);
        assert_eq!(lines_new(lines), new);
        assert!(render(&d).contains("\n- Packed by Anna.\n+ Returned to sender"));
    }

    #[test]
    fn multi_line_trailing_newline_change_is_visible() {
        let d = diff_value(
            "text",
            Some("first line\nsecond line"),
            Some("first line\nsecond line\n"),
        );
        let ValueDiff::Lines { lines } = &d else {
            panic!("expected lines, got {d:?}")
        };
        assert_eq!(lines_old(lines), "first line\nsecond line");
        assert_eq!(lines_new(lines), "first line\nsecond line\n");
        assert_eq!(render(&d), "  first line\n~ second line{+⏎+}");
    }

    #[test]
    fn multi_line_crlf_terminators_are_not_noise() {
        let d = diff_value(
            "text",
            Some("Dear team,\r\nplease ship today.\r\n"),
            Some("Dear team,\r\nplease ship tomorrow.\r\n"),
        );
        assert_eq!(
            render(&d),
            "  Dear team,\n~ please ship [-today.-]{+tomorrow.+}"
        );
        // Only the terminator changed: still visible.
        let d = diff_value("text", Some("one line\r\nnext\n"), Some("one line\nnext\n"));
        assert_eq!(render(&d), "~ one line[-\\u{d}⏎-]{+⏎+}\n  next");
    }

    #[test]
    fn multi_line_rewrite_is_replaced() {
        let old = "alpha beta\ngamma delta\nepsilon";
        let new = "one two three\nfour five\nsix";
        let d = diff_value("text", Some(old), Some(new));
        assert_eq!(d, replaced(old, new));
        assert_eq!(
            render(&d),
            "- alpha beta\n- gamma delta\n- epsilon\n+ one two three\n+ four five\n+ six"
        );
        let d = ValueDiff::Set {
            new: "first\r\nsecond\r\n\r\nfourth\n".into(),
        };
        assert_eq!(render(&d), "- (null)\n+ first\n+ second\n+ \n+ fourth");
    }

    // --- Arrays -------------------------------------------------------------------------

    #[test]
    fn short_array_literal_is_replaced() {
        let d = diff_value("_text", Some("{a,b}"), Some("{a,b,c}"));
        assert_eq!(d, replaced("{a,b}", "{a,b,c}"));
    }

    #[test]
    fn long_array_literal_is_diffed_by_element() {
        let old = r#"{billing,shipping,"needs review",priority,wholesale}"#;
        let new = r#"{billing,shipping,"needs approval",priority,wholesale,vip}"#;
        let d = diff_value("text[]", Some(old), Some(new));
        let ValueDiff::Text { spans } = &d else {
            panic!("expected spans, got {d:?}")
        };
        assert_eq!(old_side(spans), old);
        assert_eq!(new_side(spans), new);
        assert!(spans.contains(&span(SpanOp::Delete, "\"needs review\"")));
        assert!(spans.contains(&span(SpanOp::Insert, "\"needs approval\"")));
        assert_eq!(
            render(&d),
            r#"{billing,shipping,[-"needs review"-]{+"needs approval"+},priority,wholesale{+,vip+}}"#
        );
    }

    #[test]
    fn array_literal_tokenizer_round_trips() {
        for s in [
            r#"{a,"b \"c\" d",NULL,{1,2}}"#,
            r#"{"unterminated"#,
            r#"{"esc\é",x}"#,
            "[1:2]={1,2}",
            "",
            "{}",
        ] {
            let tokens = tokenize_array_literal(s);
            assert_eq!(tokens.concat(), s);
        }
        assert_eq!(
            tokenize_array_literal(r#"{a,"b c"}"#),
            vec!["{", "a", ",", "\"b c\"", "}"]
        );
    }

    // --- JSON ---------------------------------------------------------------------------

    #[test]
    fn json_object_nested_added_removed() {
        let old =
            r#"{"name": "Acme", "address": {"city": "Berlin", "zip": "10115"}, "fax": "030-1234"}"#;
        let new =
            r#"{"name": "Acme", "address": {"city": "Hamburg", "zip": "10115"}, "vat": "DE123"}"#;
        let d = diff_value("jsonb", Some(old), Some(new));
        assert_eq!(
            json_changes(d.clone()),
            vec![
                change(
                    "/address/city",
                    JsonChangeKind::Changed {
                        old: json!("Berlin"),
                        new: json!("Hamburg")
                    }
                ),
                change(
                    "/fax",
                    JsonChangeKind::Removed {
                        old: json!("030-1234")
                    }
                ),
                change(
                    "/vat",
                    JsonChangeKind::Added {
                        new: json!("DE123")
                    }
                ),
            ]
        );
        assert_eq!(
            render(&d),
            "/address/city: \"Berlin\" → \"Hamburg\"\n\
             /fax: \"030-1234\" → (absent)\n\
             /vat: (absent) → \"DE123\""
        );
    }

    #[test]
    fn json_array_of_objects_aligned_by_id() {
        let old = r#"{"items": [{"id": 1, "sku": "A", "qty": 1}, {"id": 2, "sku": "B", "qty": 5}, {"id": 3, "sku": "C", "qty": 1}]}"#;
        let new = r#"{"items": [{"id": 3, "sku": "C", "qty": 1}, {"id": 1, "sku": "A", "qty": 1}, {"id": 2, "sku": "B", "qty": 6}]}"#;
        let changes = json_changes(diff_value("jsonb", Some(old), Some(new)));
        assert_eq!(
            changes,
            vec![
                change("/items/0", JsonChangeKind::Moved { from: 2, to: 0 }),
                change(
                    "/items/2/qty",
                    JsonChangeKind::Changed {
                        old: json!(5),
                        new: json!(6)
                    }
                ),
            ]
        );
    }

    #[test]
    fn json_array_by_id_added_and_removed() {
        let old = r#"[{"uuid": "a", "v": 1}, {"uuid": "b", "v": 2}]"#;
        let new = r#"[{"uuid": "b", "v": 2}, {"uuid": "c", "v": 3}]"#;
        let changes = json_changes(diff_value("json", Some(old), Some(new)));
        assert_eq!(
            changes,
            vec![
                change(
                    "/0",
                    JsonChangeKind::Removed {
                        old: json!({"uuid": "a", "v": 1})
                    }
                ),
                change(
                    "/1",
                    JsonChangeKind::Added {
                        new: json!({"uuid": "c", "v": 3})
                    }
                ),
            ]
        );
    }

    #[test]
    fn json_array_without_ids_by_position_and_lcs() {
        let changes = json_changes(diff_value(
            "jsonb",
            Some(r#"{"tags": [1, 2, 3]}"#),
            Some(r#"{"tags": [1, 3, 4]}"#),
        ));
        assert_eq!(
            changes,
            vec![
                change("/tags/1", JsonChangeKind::Removed { old: json!(2) }),
                change("/tags/2", JsonChangeKind::Added { new: json!(4) }),
            ]
        );
        // Elements without a shared id are paired by position and diffed inside.
        let changes = json_changes(diff_value(
            "jsonb",
            Some(r#"[{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]"#),
            Some(r#"[{"sku": "A", "qty": 1}, {"sku": "B", "qty": 3}]"#),
        ));
        assert_eq!(
            changes,
            vec![change(
                "/1/qty",
                JsonChangeKind::Changed {
                    old: json!(2),
                    new: json!(3)
                }
            )]
        );
        // Duplicate ids disqualify id alignment.
        let changes = json_changes(diff_value(
            "jsonb",
            Some(r#"[{"id": 1, "v": "x"}, {"id": 1, "v": "y"}]"#),
            Some(r#"[{"id": 1, "v": "x"}, {"id": 1, "v": "z"}]"#),
        ));
        assert_eq!(
            changes,
            vec![change(
                "/1/v",
                JsonChangeKind::Changed {
                    old: json!("y"),
                    new: json!("z")
                }
            )]
        );
    }

    #[test]
    fn jsonb_key_order_alone_is_unchanged() {
        let old = r#"{"a": 1, "b": {"x": true, "y": [1, {"p": 1, "q": 2}]}}"#;
        let new = r#"{"b":{"y":[1,{"q":2,"p":1}],"x":true},"a":1}"#;
        assert_eq!(
            diff_value("jsonb", Some(old), Some(new)),
            ValueDiff::Unchanged
        );
        // For json (which keeps the text) the reordering is a real change, shown as text.
        let d = diff_value("json", Some(old), Some(new));
        assert!(d.is_changed());
        assert!(!matches!(d, ValueDiff::Json { .. }), "{d:?}");
    }

    #[test]
    fn json_sniffed_in_untyped_and_text_columns() {
        let changes = json_changes(diff_value("", Some(r#"{"a": 1}"#), Some(r#"{"a": 2}"#)));
        assert_eq!(
            changes,
            vec![change(
                "/a",
                JsonChangeKind::Changed {
                    old: json!(1),
                    new: json!(2)
                }
            )]
        );
        let changes = json_changes(diff_value("TEXT", Some(r#"[1, 2]"#), Some(r#"[1, 2, 3]"#)));
        assert_eq!(
            changes,
            vec![change("/2", JsonChangeKind::Added { new: json!(3) })]
        );
        // Not JSON containers: ordinary text rules.
        assert!(matches!(
            diff_value("", Some("42"), Some("43")),
            ValueDiff::Replaced { .. }
        ));
        assert!(matches!(
            diff_value(
                "text",
                Some("{not json} at all here"),
                Some("{not json} at all there")
            ),
            ValueDiff::Text { .. }
        ));
    }

    #[test]
    fn json_root_scalars_type_changes_and_invalid_json() {
        let changes = json_changes(diff_value("jsonb", Some("\"a\""), Some("\"b\"")));
        assert_eq!(
            changes,
            vec![change(
                "",
                JsonChangeKind::Changed {
                    old: json!("a"),
                    new: json!("b")
                }
            )]
        );
        assert_eq!(
            render(&ValueDiff::Json { changes }),
            "(root): \"a\" → \"b\""
        );
        let changes = json_changes(diff_value(
            "jsonb",
            Some(r#"{"a": [1]}"#),
            Some(r#"{"a": {"0": 1}}"#),
        ));
        assert_eq!(
            changes,
            vec![change(
                "/a",
                JsonChangeKind::Changed {
                    old: json!([1]),
                    new: json!({"0": 1})
                }
            )]
        );
        // Corrupt JSON falls back to the text diff instead of failing.
        assert!(matches!(
            diff_value("json", Some("{oops"), Some("{oops!")),
            ValueDiff::Replaced { .. }
        ));
    }

    #[test]
    fn json_pointer_escaping() {
        let changes = json_changes(diff_value(
            "jsonb",
            Some(r#"{"a/b~c": 1}"#),
            Some(r#"{"a/b~c": 2}"#),
        ));
        assert_eq!(changes[0].path, "/a~1b~0c");
    }

    // --- Serialization ------------------------------------------------------------------

    #[test]
    fn serialized_shape() {
        let d = diff_value(
            "text",
            Some("the quick fox jumps"),
            Some("the slow fox jumps"),
        );
        assert_eq!(
            serde_json::to_value(&d).ok(),
            Some(json!({"kind": "text", "spans": [
                {"op": "equal", "text": "the "},
                {"op": "delete", "text": "quick"},
                {"op": "insert", "text": "slow"},
                {"op": "equal", "text": " fox jumps"},
            ]}))
        );
        let d = diff_value("jsonb", Some(r#"{"a": 1}"#), Some(r#"{"a": 2}"#));
        assert_eq!(
            serde_json::to_value(&d).ok(),
            Some(json!({"kind": "json", "changes": [
                {"path": "/a", "change": {"kind": "changed", "old": 1, "new": 2}},
            ]}))
        );
        assert_eq!(
            serde_json::to_value(ValueDiff::Unchanged).ok(),
            Some(json!({"kind": "unchanged"}))
        );
        assert_eq!(
            serde_json::to_value(LineChange::Insert { text: "x\n".into() }).ok(),
            Some(json!({"op": "insert", "text": "x\n"}))
        );
        let back: Option<ValueDiff> = serde_json::to_string(&d)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok());
        assert_eq!(back, Some(d));
    }

    // --- Pathological input -------------------------------------------------------------

    #[test]
    fn pathological_huge_pairs_return_quickly() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let size = 200 * 1024;
        let cases = [
            (
                "prose",
                rng.text(size, Some(' '), None),
                rng.text(size, Some(' '), None),
            ),
            (
                "lines",
                rng.text(size, Some(' '), Some('\n')),
                rng.text(size, Some(' '), Some('\n')),
            ),
            (
                "blob",
                rng.text(size, None, None),
                rng.text(size, None, None),
            ),
        ];
        for (name, old, new) in &cases {
            for ty in ["text", "", "_text"] {
                let started = Instant::now();
                let d = diff_value(ty, Some(old), Some(new));
                let elapsed = started.elapsed();
                assert!(
                    elapsed < Duration::from_secs(1),
                    "{name}/{ty} took {elapsed:?}"
                );
                let mut out = String::new();
                render_plain(&d, &mut out);
                assert!(!out.is_empty());
            }
        }
        // A big document with a small edit still diffs fine and quickly.
        let old = cases[1].1.clone();
        let new = old.replacen('a', "A", 1);
        let started = Instant::now();
        let d = diff_value("text", Some(&old), Some(&new));
        assert!(started.elapsed() < Duration::from_secs(1));
        let ValueDiff::Lines { lines } = &d else {
            panic!("expected lines")
        };
        assert_eq!(lines_old(lines), old);
        assert_eq!(lines_new(lines), new);
    }

    #[test]
    fn pathological_json_arrays_return_quickly() {
        let mut rng = Rng(42);
        let a: Vec<u64> = (0..20_000).map(|_| rng.next() % 1000).collect();
        let b: Vec<u64> = (0..20_000).map(|_| rng.next() % 1000).collect();
        let (old, new) = (json!(a).to_string(), json!(b).to_string());
        let started = Instant::now();
        let d = diff_value("jsonb", Some(&old), Some(&new));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
        assert!(matches!(d, ValueDiff::Json { .. }));
    }

    // --- Hostile values -----------------------------------------------------------------

    #[test]
    fn sanitize_escapes_terminal_controls() {
        assert!(matches!(
            sanitize_for_terminal("plain text\twith tab\nand newline"),
            Cow::Borrowed(_)
        ));
        assert_eq!(sanitize_for_terminal("\x1b[31mred"), "\\u{1b}[31mred");
        assert_eq!(
            sanitize_for_terminal("a\rb\x07c\x7fd"),
            "a\\u{d}b\\u{7}c\\u{7f}d"
        );
        assert_eq!(sanitize_for_terminal("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(sanitize_for_terminal("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(
            sanitize_for_terminal("\u{2066}x\u{2069}"),
            "\\u{2066}x\\u{2069}"
        );
        assert_eq!(sanitize_for_terminal("\0"), "\\u{0}");
        assert_eq!(sanitize_for_terminal("Zürich 東京 🙂"), "Zürich 東京 🙂");
    }

    #[test]
    fn hostile_values_render_neutralised() {
        let hostile = "\x1b[31mALERT\x1b[0m";
        let html = "<img src=x onerror=alert(1)>";
        let check = |out: &str| {
            assert!(
                !out.chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{out:?}"
            );
            assert!(!out.contains('\u{202e}'), "{out:?}");
        };

        let out = render(&diff_value("text", Some(hostile), Some(html)));
        check(&out);
        assert!(out.contains("\\u{1b}[31mALERT\\u{1b}[0m"), "{out}");
        assert!(out.contains(html), "{out}");

        let out = render(&diff_value(
            "text",
            Some("Note from support: all good"),
            Some("Note from support: \x1b]0;pwned\x07 all good \u{202e}gnp.exe"),
        ));
        check(&out);
        assert!(out.contains("\\u{1b}]0;pwned\\u{7}"), "{out}");

        let out = render(&diff_value(
            "text",
            Some("line one\nline two stays\n"),
            Some("line one\r\x1b[2K\nline two stays\n<script>alert(1)</script>\n"),
        ));
        check(&out);
        assert!(out.contains("<script>alert(1)</script>"), "{out}");

        let out = render(&diff_value(
            "jsonb",
            Some(r#"{"k\u001b[31m": "a", "x": "\u009b1m"}"#),
            Some(r#"{"k\u001b[31m": "b\u202e", "x": "<img src=x onerror=alert(1)>"}"#),
        ));
        check(&out);
        assert!(out.contains(html), "{out}");

        for d in [
            ValueDiff::Set {
                new: hostile.into(),
            },
            ValueDiff::Cleared {
                old: format!("{hostile}\n{hostile}"),
            },
            ValueDiff::Replaced {
                old: hostile.into(),
                new: "\u{85}\u{2028}".into(),
            },
        ] {
            check(&render(&d));
        }
    }
}
