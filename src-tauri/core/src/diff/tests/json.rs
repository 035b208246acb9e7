//! Structural JSON diffs.

use super::*;

use serde_json::json;

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
