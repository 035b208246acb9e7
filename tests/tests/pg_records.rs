//! Records and their histories, as PostgreSQL's change stream shapes them.
//!
//! Against a real server and a real SQLite cache, these tests prove that:
//! - with REPLICA IDENTITY DEFAULT (no old tuple on UPDATE, key only on DELETE) the before
//!   images are rebuilt from the record's previous version, with the right values, and the
//!   filled columns are listed as inferred; with FULL nothing is inferred;
//! - a composite primary key finds a record's history by both values, bare or `col=value`;
//! - an UPDATE that changes the primary key carries the old and the new key, and the record's
//!   whole history (every key change followed both ways) is found under any of its keys;
//! - columns an UPDATE set whose old value is unknown are shown as set from `unknown`, and a
//!   delete lists the removed record (diff kind `deleted`);
//! - TRUNCATE of several tables in one statement gives one truncate event per table, all in
//!   one transaction;
//! - ADD / DROP / RENAME COLUMN and ALTER TYPE between changes: every event reads back with the
//!   columns (and types) of its own time, and a history spanning the changes works;
//! - a partitioned table's changes are recorded under the table users query (the partitioned
//!   parent), so its records' histories are found by its name.

mod common;

use common::{img, PgSrc};
use rowtrail_core::diff::ValueDiff;
use rowtrail_core::event::Op;
use rowtrail_tests::txn_with_txid;
use serde_json::{json, Value};

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn identity_default_before_images_are_inferred_full_are_sent() {
    let src = PgSrc::new(
        "ident_df",
        "CREATE TABLE d (id int PRIMARY KEY, st text, note text, qty int);
         CREATE TABLE f (id int PRIMARY KEY, st text, note text, qty int);
         ALTER TABLE f REPLICA IDENTITY FULL;",
    )
    .await;
    src.db
        .exec(
            "INSERT INTO d VALUES (1, 'P', 'hello', 5), (2, 'P', NULL, 1);
             INSERT INTO f VALUES (1, 'P', 'hello', 5), (2, 'P', NULL, 1);",
        )
        .await;
    assert_eq!(src.sync().await.events, 4);
    src.db
        .exec("UPDATE d SET st = 'X' WHERE id = 1; UPDATE f SET st = 'X' WHERE id = 1;")
        .await;
    src.db
        .exec("UPDATE d SET qty = qty + 1, note = 'n2' WHERE id = 1; UPDATE f SET qty = qty + 1, note = 'n2' WHERE id = 1;")
        .await;
    src.db
        .exec("DELETE FROM d WHERE id IN (1, 2); DELETE FROM f WHERE id IN (1, 2);")
        .await;
    assert_eq!(src.sync().await.events, 8);

    for table in ["d", "f"] {
        let ev: Vec<Value> = src
            .table_events(table)
            .iter()
            .map(|e| e.to_json())
            .collect();
        let ops: Vec<&str> = ev.iter().map(|e| e["op"].as_str().unwrap()).collect();
        assert_eq!(
            ops,
            ["insert", "insert", "update", "update", "delete", "delete"],
            "{table}"
        );
        let (u1, u2, del1, del2) = (&ev[2], &ev[3], &ev[4], &ev[5]);
        assert_eq!(del1["key"], json!({"id": "1"}));
        assert_eq!(del2["key"], json!({"id": "2"}));
        assert_eq!(
            u1["before"],
            json!({"id": "1", "st": "P", "note": "hello", "qty": "5"}),
            "{table}: first update's before image"
        );
        assert_eq!(
            u1["after"],
            json!({"id": "1", "st": "X", "note": "hello", "qty": "5"})
        );
        assert_eq!(
            u2["before"],
            json!({"id": "1", "st": "X", "note": "hello", "qty": "5"})
        );
        assert_eq!(
            u2["after"],
            json!({"id": "1", "st": "X", "note": "n2", "qty": "6"})
        );
        assert_eq!(
            del1["before"],
            json!({"id": "1", "st": "X", "note": "n2", "qty": "6"})
        );
        assert_eq!(del1["after"], Value::Null);
        // A NULL in the previous version is filled as NULL (a value), not left unknown.
        assert_eq!(
            del2["before"],
            json!({"id": "2", "st": "P", "note": null, "qty": "1"})
        );
        for e in &ev {
            assert!(
                e.get("unknown").is_none(),
                "{table}: nothing unknown in {e}"
            );
        }
        if table == "d" {
            for e in [u1, u2, del1, del2] {
                assert_eq!(
                    strs(&e["inferred"]),
                    ["st", "note", "qty"],
                    "DEFAULT {} of id {}: non-key before values are inferred",
                    e["op"],
                    e["key"]["id"]
                );
            }
        } else {
            for e in &ev {
                assert_eq!(e["inferred"], json!([]), "FULL {} infers nothing", e["op"]);
            }
        }
        for e in &ev[..2] {
            assert_eq!(e["inferred"], json!([]), "{table}: inserts are sent whole");
        }

        // The history says which changes rest on inferred values.
        let h = src.history(table, &["1"]);
        assert_eq!(h.versions.len(), 4);
        let st = &h.versions[1].changes;
        assert_eq!(st.len(), 1, "{table}: only st changed in version 2");
        assert_eq!(st[0].column, "st");
        assert_eq!(
            (st[0].old.as_deref(), st[0].new.as_deref()),
            (Some("P"), Some("X"))
        );
        assert_eq!(
            st[0].inferred,
            table == "d",
            "{table}: st's old value inferred?"
        );
        let v3: Vec<&str> = h.versions[2]
            .changes
            .iter()
            .map(|c| c.column.as_str())
            .collect();
        assert_eq!(v3, ["note", "qty"]);
        assert_eq!(h.versions[3].event.op, Op::Delete);
    }
}

#[tokio::test]
async fn composite_primary_key_history_by_both_values() {
    let src = PgSrc::new(
        "compkey",
        "CREATE TABLE line_items (order_id int, line int, sku text, qty int, PRIMARY KEY (order_id, line));",
    )
    .await;
    src.db
        .exec("INSERT INTO line_items VALUES (10, 1, 'A', 1), (10, 2, 'B', 1), (11, 1, 'C', 1), (1, 102, 'trap', 1)")
        .await;
    src.db
        .exec("UPDATE line_items SET qty = 2 WHERE order_id = 10 AND line = 2")
        .await;
    src.db
        .exec("UPDATE line_items SET sku = 'B2', qty = 3 WHERE order_id = 10 AND line = 2")
        .await;
    src.db
        .exec("UPDATE line_items SET qty = 9 WHERE order_id = 11")
        .await;
    src.sync().await;

    let ev = src.events_json();
    assert_eq!(ev[1]["key"], json!({"order_id": "10", "line": "2"}));
    let stored = src.events();
    let keys: Vec<&str> = stored[0]
        .columns
        .iter()
        .filter(|c| c.key)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(keys, ["order_id", "line"]);

    let forms: [&[&str]; 3] = [
        &["10", "2"],
        &["order_id=10", "line=2"],
        &["line=2", "order_id=10"],
    ];
    for key in forms {
        let h = src.history("line_items", key);
        assert_eq!(h.versions.len(), 3, "history of {key:?}");
        for v in &h.versions {
            assert_eq!(
                v.event.key,
                [
                    ("order_id".to_string(), Some("10".to_string())),
                    ("line".to_string(), Some("2".to_string()))
                ]
            );
        }
        let last: Vec<(&str, Option<&str>, Option<&str>)> = h.versions[2]
            .changes
            .iter()
            .map(|c| (c.column.as_str(), c.old.as_deref(), c.new.as_deref()))
            .collect();
        assert_eq!(
            last,
            [
                ("sku", Some("B"), Some("B2")),
                ("qty", Some("2"), Some("3"))
            ]
        );
    }
    assert_eq!(src.history("line_items", &["11", "1"]).versions.len(), 2);
    assert_eq!(src.history("line_items", &["10", "1"]).versions.len(), 1);
    // (1, 102) and (10, 2) must not be confused by a naive key encoding.
    assert_eq!(src.history("line_items", &["1", "102"]).versions.len(), 1);

    let cache = src.cache();
    let one_value =
        rowtrail_core::history::record_history(&cache, None, "line_items", &["10".to_string()]);
    assert!(
        matches!(
            one_value,
            Err(rowtrail_core::history::HistoryError::BadKey { .. })
        ),
        "one value for a two-column key is refused: {one_value:?}"
    );
    let missing = rowtrail_core::history::record_history(
        &cache,
        None,
        "line_items",
        &["10".to_string(), "3".to_string()],
    );
    assert!(matches!(
        missing,
        Err(rowtrail_core::history::HistoryError::NotFound { .. })
    ));
}

#[tokio::test]
async fn primary_key_change_keeps_old_and_new_key() {
    let src = PgSrc::new(
        "pkchange",
        "CREATE TABLE d (id int PRIMARY KEY, v text);
         CREATE TABLE f (id int PRIMARY KEY, v text);
         ALTER TABLE f REPLICA IDENTITY FULL;",
    )
    .await;
    src.db
        .exec("INSERT INTO d VALUES (1, 'a'); INSERT INTO f VALUES (1, 'a');")
        .await;
    src.db
        .exec("UPDATE d SET id = 2 WHERE id = 1; UPDATE f SET id = 2 WHERE id = 1;")
        .await;
    src.db
        .exec("UPDATE d SET v = 'b' WHERE id = 2; UPDATE f SET v = 'b' WHERE id = 2;")
        .await;
    src.sync().await;

    for table in ["d", "f"] {
        let ev = src.table_events(table);
        assert_eq!(ev.len(), 3, "{table}");
        let change = &ev[1];
        assert_eq!(change.op, Op::Update);
        assert_eq!(
            change.key,
            [("id".to_string(), Some("2".to_string()))],
            "{table}: new key"
        );
        assert_eq!(
            change.old_key,
            Some(vec![Some("1".to_string())]),
            "{table}: old key"
        );
        let j = change.to_json();
        assert_eq!(j["key"], json!({"id": "2"}));
        assert_eq!(
            j["before"],
            json!({"id": "1", "v": "a"}),
            "{table}: before image"
        );
        assert_eq!(j["after"], json!({"id": "2", "v": "a"}), "{table}");
        if table == "d" {
            assert_eq!(
                strs(&j["inferred"]),
                ["v"],
                "DEFAULT sends only the old key"
            );
        } else {
            assert_eq!(j["inferred"], json!([]));
        }

        let h2 = src.history(table, &["2"]);
        let ids2: Vec<i64> = h2.versions.iter().map(|v| v.event.id).collect();
        assert_eq!(
            ids2,
            [ev[0].id, ev[1].id, ev[2].id],
            "{table}: key 2's history includes the key change and what came before"
        );
        let id_change = h2.versions[1]
            .changes
            .iter()
            .find(|c| c.column == "id")
            .expect("the key change is shown");
        assert_eq!(
            (id_change.old.as_deref(), id_change.new.as_deref()),
            (Some("1"), Some("2"))
        );

        // The old key finds the whole history too: the chain is followed forward.
        let h1 = src.history(table, &["1"]);
        let ids1: Vec<i64> = h1.versions.iter().map(|v| v.event.id).collect();
        assert_eq!(
            ids1,
            [ev[0].id, ev[1].id, ev[2].id],
            "{table}: key 1's history goes on under key 2"
        );
        assert_eq!(ids2, ids1, "{table}: one history under either key");
    }

    // More than one hop, both ways, and a later record that reuses an old key is not
    // mixed in: 1 → 2 (above) → 3, then a new row takes key 2.
    src.db
        .exec("UPDATE d SET id = 3 WHERE id = 2; UPDATE d SET v = 'c' WHERE id = 3; INSERT INTO d VALUES (2, 'other')")
        .await;
    src.sync().await;
    let ev = src.table_events("d");
    let ids = |key: &str| -> Vec<i64> {
        src.history("d", &[key])
            .versions
            .iter()
            .map(|v| v.event.id)
            .collect()
    };
    let chain: Vec<i64> = ev[..5].iter().map(|e| e.id).collect();
    assert_eq!(ids("1"), chain, "forward over two key changes");
    assert_eq!(ids("3"), chain, "back over two key changes");
    assert_eq!(ev[5].op, Op::Insert);
    assert!(
        !ids("1").contains(&ev[5].id),
        "the new record under key 2 is another record"
    );
}

#[tokio::test]
async fn truncate_gives_one_event_per_table_in_one_transaction() {
    let src = PgSrc::new(
        "truncate",
        "CREATE TABLE a (id int PRIMARY KEY, v text);
         CREATE TABLE b (id int PRIMARY KEY, v text);
         CREATE TABLE c (id int PRIMARY KEY, a_id int REFERENCES a (id));
         CREATE TABLE untouched (id int PRIMARY KEY);",
    )
    .await;
    src.db
        .exec(
            "INSERT INTO a VALUES (1, 'x'), (2, 'y'); INSERT INTO b VALUES (1, 'z');
             INSERT INTO c VALUES (1, 1); INSERT INTO untouched VALUES (1);",
        )
        .await;
    src.sync().await;
    let client = src.client().await;
    let txid = txn_with_txid(&client, "TRUNCATE a, b CASCADE").await;
    assert_eq!(src.sync().await.events, 3);

    let ev = src.events_json();
    let truncs: Vec<&Value> = ev.iter().filter(|e| e["op"] == "truncate").collect();
    let mut tables: Vec<&str> = truncs
        .iter()
        .map(|e| e["table"].as_str().unwrap())
        .collect();
    tables.sort();
    assert_eq!(
        tables,
        ["a", "b", "c"],
        "one truncate per truncated table (c by CASCADE)"
    );
    for e in &truncs {
        assert_eq!(e["txid"], json!(txid), "all in the TRUNCATE's transaction");
        assert_eq!(e["position"], truncs[0]["position"]);
        assert_eq!(e["before"], Value::Null);
        assert_eq!(e["after"], Value::Null);
        assert_eq!(e["key"], json!({}));
    }
    // A truncated record's history ends with the truncate.
    let h = src.history("a", &["1"]);
    assert_eq!(h.versions.len(), 2);
    assert_eq!(h.versions[1].event.op, Op::Truncate);
    assert_eq!(src.history("untouched", &["1"]).versions.len(), 1);
}

#[tokio::test]
async fn alter_table_mid_stream_each_event_has_its_own_columns() {
    let src = PgSrc::new(
        "alter",
        "CREATE TABLE t (id int PRIMARY KEY, a text, b int, c text);
         ALTER TABLE t REPLICA IDENTITY FULL;
         CREATE TABLE d (id int PRIMARY KEY, a text);",
    )
    .await;
    // Each step is its own transaction; the stream is read once at the end, so the cache
    // sees every shape change in stream order.
    for sql in [
        "INSERT INTO t VALUES (1, 'a1', 10, 'c1'); INSERT INTO d VALUES (1, 'x')",
        "ALTER TABLE t ADD COLUMN e text DEFAULT 'dflt'; ALTER TABLE d ADD COLUMN e text DEFAULT 'dflt'",
        "UPDATE t SET a = 'a2' WHERE id = 1; UPDATE d SET a = 'y' WHERE id = 1",
        "ALTER TABLE t DROP COLUMN c",
        "UPDATE t SET b = 11 WHERE id = 1",
        "ALTER TABLE t RENAME COLUMN a TO a_renamed",
        "UPDATE t SET a_renamed = 'a3' WHERE id = 1",
        "ALTER TABLE t ALTER COLUMN b TYPE numeric(10,2)",
        "UPDATE t SET b = 12.5 WHERE id = 1",
        "INSERT INTO t VALUES (2, 'new', 1, 'e2')",
    ] {
        src.db.exec(sql).await;
    }
    src.sync().await;

    let ev = src.table_events("t");
    let shapes: Vec<Vec<(String, String)>> = ev
        .iter()
        .map(|e| {
            e.columns
                .iter()
                .map(|c| (c.name.clone(), c.type_name.clone()))
                .collect()
        })
        .collect();
    let s = |cols: &[(&str, &str)]| -> Vec<(String, String)> {
        cols.iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    };
    let expected = [
        s(&[
            ("id", "integer"),
            ("a", "text"),
            ("b", "integer"),
            ("c", "text"),
        ]),
        s(&[
            ("id", "integer"),
            ("a", "text"),
            ("b", "integer"),
            ("c", "text"),
            ("e", "text"),
        ]),
        s(&[
            ("id", "integer"),
            ("a", "text"),
            ("b", "integer"),
            ("e", "text"),
        ]),
        s(&[
            ("id", "integer"),
            ("a_renamed", "text"),
            ("b", "integer"),
            ("e", "text"),
        ]),
        s(&[
            ("id", "integer"),
            ("a_renamed", "text"),
            ("b", "numeric(10,2)"),
            ("e", "text"),
        ]),
        s(&[
            ("id", "integer"),
            ("a_renamed", "text"),
            ("b", "numeric(10,2)"),
            ("e", "text"),
        ]),
    ];
    assert_eq!(shapes.len(), expected.len());
    for (i, (got, want)) in shapes.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "columns of event {i} ({})", ev[i].op);
    }
    let j: Vec<Value> = ev.iter().map(|e| e.to_json()).collect();
    assert_eq!(
        j[0]["after"],
        json!({"id": "1", "a": "a1", "b": "10", "c": "c1"})
    );
    assert_eq!(
        j[1]["before"],
        json!({"id": "1", "a": "a1", "b": "10", "c": "c1", "e": "dflt"})
    );
    assert_eq!(
        j[1]["after"],
        json!({"id": "1", "a": "a2", "b": "10", "c": "c1", "e": "dflt"})
    );
    assert_eq!(
        j[2]["after"],
        json!({"id": "1", "a": "a2", "b": "11", "e": "dflt"})
    );
    assert_eq!(
        j[3]["before"],
        json!({"id": "1", "a_renamed": "a2", "b": "11", "e": "dflt"})
    );
    assert_eq!(
        j[3]["after"],
        json!({"id": "1", "a_renamed": "a3", "b": "11", "e": "dflt"})
    );
    assert_eq!(
        j[4]["before"],
        json!({"id": "1", "a_renamed": "a3", "b": "11.00", "e": "dflt"})
    );
    assert_eq!(
        j[4]["after"],
        json!({"id": "1", "a_renamed": "a3", "b": "12.50", "e": "dflt"})
    );
    assert_eq!(
        j[5]["after"],
        json!({"id": "2", "a_renamed": "new", "b": "1.00", "e": "e2"})
    );

    // The history spans every shape: version 1 → the last shows e set, c and a cleared,
    // a_renamed set and b's new value.
    let h = src.history("t", &["1"]);
    assert_eq!(h.versions.len(), 5);
    let cmp = h.compare(1, 5).expect("compare across shapes");
    let by_col = |n: &str| {
        cmp.iter()
            .find(|c| c.column == n)
            .unwrap_or_else(|| panic!("{n} not in {cmp:?}"))
    };
    assert!(
        matches!(&by_col("e").diff, ValueDiff::Set { new } if new == "dflt"),
        "{:?}",
        by_col("e")
    );
    assert!(
        matches!(&by_col("c").diff, ValueDiff::Cleared { old } if old == "c1"),
        "{:?}",
        by_col("c")
    );
    assert!(matches!(&by_col("a").diff, ValueDiff::Cleared { old } if old == "a1"));
    assert!(matches!(&by_col("a_renamed").diff, ValueDiff::Set { new } if new == "a3"));
    assert_eq!(
        (by_col("b").old.as_deref(), by_col("b").new.as_deref()),
        (Some("10"), Some("12.50"))
    );
    assert!(cmp.iter().all(|c| c.column != "id"));
    // Each version's own changes stay within its shape.
    let own: Vec<Vec<&str>> = h
        .versions
        .iter()
        .map(|v| v.changes.iter().map(|c| c.column.as_str()).collect())
        .collect();
    assert_eq!(own[1], ["a"]);
    assert_eq!(own[2], ["b"]);
    assert_eq!(own[3], ["a_renamed"]);
    assert_eq!(own[4], ["b"]);

    // DEFAULT identity across an added column: the values known by name are inferred, the
    // new column's old value is unknown (left out), never NULL.
    let dj: Vec<Value> = src.table_events("d").iter().map(|e| e.to_json()).collect();
    assert_eq!(dj.len(), 2);
    assert_eq!(img(&dj[1], "before", "a"), Some(&json!("x")));
    assert_eq!(img(&dj[1], "after", "e"), Some(&json!("dflt")));
    assert_eq!(strs(&dj[1]["inferred"]), ["a"]);
    assert_eq!(
        img(&dj[1], "before", "e"),
        None,
        "e's old value was never seen: {}",
        dj[1]
    );
    assert_eq!(dj[1]["unknown"], json!(["e"]));
}

#[tokio::test]
async fn partitioned_table_changes_are_recorded_under_the_parent() {
    let src = PgSrc::new(
        "partition",
        "CREATE TABLE orders (id int, region text, st text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
         CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu');
         CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');",
    )
    .await;
    src.db
        .exec(
            "INSERT INTO orders VALUES (1, 'eu', 'P'), (2, 'us', 'P');
             UPDATE orders SET st = 'X' WHERE id = 1;",
        )
        .await;
    src.sync().await;
    let tables: Vec<String> = src
        .events()
        .iter()
        .map(|e| format!("{}.{}", e.schema, e.table))
        .collect();
    assert_eq!(
        tables,
        ["public.orders", "public.orders", "public.orders"],
        "changes to a partitioned table are recorded under its own name, not its partitions'"
    );
    let h = src.history("orders", &["1", "eu"]);
    assert_eq!(h.versions.len(), 2);
}

/// Item 4 and 5 of issue 12: on a REPLICA IDENTITY DEFAULT table whose rows existed before
/// the source was added, an UPDATE sends no old row. Every column it set must show as a
/// change from an *unknown* value (never hidden as unchanged, never shown as NULL), also
/// after ADD COLUMN, RENAME COLUMN and RENAME TABLE; a delete lists the removed record.
#[tokio::test]
async fn unknown_old_values_are_shown_and_deletes_list_the_removed_record() {
    let src = PgSrc::bare(
        "unknown",
        "CREATE TABLE acct (id int PRIMARY KEY, balance numeric, status text);
         INSERT INTO acct VALUES (1, 10.00, 'open'), (2, 20.00, NULL);",
    )
    .await;
    src.add_source().await;
    src.db
        .exec("UPDATE acct SET balance = 999.99, status = 'frozen' WHERE id = 1")
        .await;
    src.sync().await;

    let by_col = |changes: &[rowtrail_core::history::FieldChange], col: &str| {
        changes
            .iter()
            .find(|c| c.column == col)
            .unwrap_or_else(|| panic!("no change of {col} in {changes:?}"))
            .clone()
    };
    let h = src.history("acct", &["1"]);
    assert_eq!(h.versions.len(), 1);
    let v1 = &h.versions[0];
    let cols: Vec<&str> = v1.changes.iter().map(|c| c.column.as_str()).collect();
    assert_eq!(
        cols,
        ["balance", "status"],
        "every column the update set is shown"
    );
    assert_eq!(v1.unchanged, 1, "only the key is unchanged");
    let balance = by_col(&v1.changes, "balance");
    assert!(balance.unknown, "the old balance is unknown, not NULL");
    assert_eq!(balance.old, None);
    assert_eq!(balance.new.as_deref(), Some("999.99"));
    assert_eq!(
        balance.diff,
        ValueDiff::Unknown {
            new: Some("999.99".into())
        }
    );
    // The JSON a script reads (`rowtrail history --json`, the API) says so too.
    let j = serde_json::to_value(&balance).unwrap();
    assert_eq!(j["unknown"], json!(true));
    assert_eq!(j["diff"], json!({"kind": "unknown", "new": "999.99"}));

    // ADD COLUMN, then an update: the new column's old value is unknown; the columns known
    // from version 1 are inferred and unchanged.
    src.db
        .exec("ALTER TABLE acct ADD COLUMN note text; UPDATE acct SET note = 'n1' WHERE id = 1")
        .await;
    // RENAME COLUMN, then an update: the renamed column has no earlier value under its name.
    src.db
        .exec("ALTER TABLE acct RENAME COLUMN status TO state; UPDATE acct SET state = 'open' WHERE id = 1")
        .await;
    src.sync().await;
    let h = src.history("acct", &["1"]);
    assert_eq!(h.versions.len(), 3);
    let v2 = &h.versions[1].changes;
    assert_eq!(v2.len(), 1, "{v2:?}");
    assert!(v2[0].column == "note" && v2[0].unknown && v2[0].new.as_deref() == Some("n1"));
    let v3 = by_col(&h.versions[2].changes, "state");
    assert!(v3.unknown && v3.new.as_deref() == Some("open"), "{v3:?}");

    // RENAME TABLE: the first update under the new name knows no earlier value.
    src.db
        .exec("ALTER TABLE acct RENAME TO account; UPDATE account SET balance = 5 WHERE id = 1")
        .await;
    src.sync().await;
    let h = src.history("account", &["1"]);
    let first = &h.versions[0];
    assert_eq!(first.event.op, Op::Update);
    let b = by_col(&first.changes, "balance");
    assert!(b.unknown && b.new.as_deref() == Some("5"), "{b:?}");
    assert!(
        first.changes.iter().all(|c| c.unknown),
        "{:?}",
        first.changes
    );

    // Deletes: the removed record, every column with its last value and kind `deleted`.
    src.db
        .exec("UPDATE account SET note = NULL WHERE id = 1; DELETE FROM account WHERE id IN (1, 2)")
        .await;
    src.sync().await;
    let h = src.history("account", &["1"]);
    let del = h.versions.last().unwrap();
    assert_eq!(del.event.op, Op::Delete);
    let removed: Vec<(&str, Option<&str>, &ValueDiff)> = del
        .changes
        .iter()
        .map(|c| (c.column.as_str(), c.old.as_deref(), &c.diff))
        .collect();
    assert_eq!(
        removed,
        [
            (
                "id",
                Some("1"),
                &ValueDiff::Deleted {
                    old: Some("1".into())
                }
            ),
            (
                "balance",
                Some("5"),
                &ValueDiff::Deleted {
                    old: Some("5".into())
                }
            ),
            (
                "state",
                Some("open"),
                &ValueDiff::Deleted {
                    old: Some("open".into())
                }
            ),
            ("note", None, &ValueDiff::Deleted { old: None }),
        ]
    );
    assert!(
        del.changes.iter().all(|c| !c.unknown),
        "all known: {:?}",
        del.changes
    );
    let j = serde_json::to_value(&del.changes[1]).unwrap();
    assert_eq!(j["diff"], json!({"kind": "deleted", "old": "5"}));
    // Comparing a version with the deletion says deleted, not "set to NULL".
    let cmp = h.compare(1, h.versions.len()).unwrap();
    assert!(
        cmp.iter()
            .all(|c| matches!(c.diff, ValueDiff::Deleted { .. })),
        "{cmp:?}"
    );

    // Row 2 was never seen before its delete: only its key is known.
    let h2 = src.history("account", &["2"]);
    let del2 = &h2.versions[0].changes;
    let id = by_col(del2, "id");
    assert!(!id.unknown && id.old.as_deref() == Some("2"));
    for col in ["balance", "state", "note"] {
        let c = by_col(del2, col);
        assert!(c.unknown && c.old.is_none(), "{col}: {c:?}");
    }
}
