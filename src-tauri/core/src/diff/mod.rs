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
//! * [`ValueDiff::Unknown`] (set, earlier value unknown) and [`ValueDiff::Deleted`] (the value a
//!   deleted record held) are never produced here: the history knows those, not the values.
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

//! The module is split by concern: [`text`] (words, lines, array literals), [`json`]
//! (structural JSON) and [`render`] (the terminal renderer and escaping).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod json;
mod render;
mod text;

pub use render::{render_plain, render_plain_with, render_value, sanitize_for_terminal, RenderOptions};

use json::{diff_json_text, sniff_json};
use text::{diff_array_literal, diff_text};
#[cfg(test)]
use text::tokenize_array_literal;

/// Time budget for one [`diff_value`] call; `similar` approximates once it is spent.
const DIFF_TIME_BUDGET: Duration = Duration::from_millis(50);
/// Longest text (in characters) that still counts as a short code when it has no whitespace.
const SHORT_CODE_MAX_CHARS: usize = 32;

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
    /// The column was set to `new`, but its earlier value is unknown: the source did not
    /// send it (a `REPLICA IDENTITY DEFAULT` update sends no old row) and no earlier version
    /// holds it (the history starts mid-way, or the column was added or renamed since).
    /// Never to be read as "was NULL" or "unchanged".
    Unknown {
        /// The new value, in the database's text form (null: SQL NULL).
        new: Option<String>,
    },
    /// The record was deleted; `old` is the value the column held in the removed row (null:
    /// SQL NULL). Unlike [`ValueDiff::Cleared`], nothing was set to NULL.
    Deleted {
        /// The removed value, in the database's text form (null: SQL NULL, or unknown when
        /// the change says so).
        old: Option<String>,
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

/// A whole-value change.
fn replaced(old: &str, new: &str) -> ValueDiff {
    ValueDiff::Replaced {
        old: old.to_owned(),
        new: new.to_owned(),
    }
}


#[cfg(test)]
mod tests;
