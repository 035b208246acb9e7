//! Escaping of hostile values.

use super::*;
use std::borrow::Cow;

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

#[test]
fn unknown_and_deleted_render_as_such_never_as_null() {
    let r = |d: &ValueDiff| {
        let mut s = String::new();
        render_plain(d, &mut s);
        s
    };
    assert_eq!(r(&ValueDiff::Unknown { new: Some("999.99".into()) }), "(unknown) → 999.99");
    assert_eq!(r(&ValueDiff::Unknown { new: None }), "(unknown) → (null)");
    assert_eq!(r(&ValueDiff::Deleted { old: Some("3".into()) }), "3 → (deleted)");
    let j = serde_json::to_value(ValueDiff::Deleted { old: None }).unwrap();
    assert_eq!(j, serde_json::json!({"kind": "deleted", "old": null}));
}

#[test]
fn elided_rendering_keeps_a_few_words_or_lines_around_each_change() {
    let old = "word ".repeat(100_000);
    let new = format!("{}WORD {}", "word ".repeat(50_000), "word ".repeat(49_999));
    let d = diff_value("text", Some(&old), Some(&new));
    let mut short = String::new();
    assert!(render_plain_with(&d, RenderOptions { elide: true }, &mut short));
    assert!(short.len() < 500, "{short}");
    assert!(short.contains("[-word-]{+WORD+}") && short.contains("characters …]"), "{short}");
    let mut full = String::new();
    assert!(!render_plain_with(&d, RenderOptions::default(), &mut full));
    assert!(full.len() > 500_000);

    let lines: String = (0..200).map(|i| format!("line {i}\n")).collect();
    let edited = lines.replace("line 100\n", "line one hundred\n");
    let d = diff_value("text", Some(&lines), Some(&edited));
    let mut short = String::new();
    render_plain_with(&d, RenderOptions { elide: true }, &mut short);
    let shown: Vec<&str> = short.lines().collect();
    assert_eq!(shown.len(), 10, "3 lines either side, the change (- and +), 2 markers:\n{short}");
    assert_eq!(shown[0], "  … 97 unchanged lines …");
    assert_eq!(shown[9], "  … 96 unchanged lines …");
    // Short values are never cut.
    let d = diff_value("text", Some("the quick brown fox"), Some("the slow brown fox"));
    let mut s = String::new();
    assert!(!render_plain_with(&d, RenderOptions { elide: true }, &mut s));
    assert_eq!(s, "the [-quick-]{+slow+} brown fox");
}
