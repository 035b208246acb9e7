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
