//! Tests of the field diffs, by concern: whole values, serialization and pathological
//! input here; text, JSON and rendering in their own files.

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

mod json;
mod render;
mod text;

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
