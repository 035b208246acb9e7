//! Prose, multi-line text and array literals.

use super::*;

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
