//! PostgreSQL values arrive exactly as the server prints them.
//!
//! Against a real server (logical replication, pgoutput) and a real SQLite cache, these tests
//! prove that:
//! - every common column type round-trips as the very text `SELECT col::text` returns (numeric
//!   digits, NaN/Infinity, quotes/newlines/emoji, bytea hex, UTC timestamptz, arrays with NULLs,
//!   enums, domains, network types, money) and SQL NULL stays `null`, with each column's type
//!   name reported;
//! - an unchanged TOASTed value (> 8 kB, stored out of line, so the server does not resend it)
//!   is filled from the record's previous version and marked inferred, never shown as NULL,
//!   and is left out (named `unknown`) when no earlier version exists;
//! - hostile identifiers (spaces, quotes, keywords, non-ASCII) are quoted everywhere: the source
//!   is added without an SQL error and events carry the exact names.

mod common;

use common::{img, PgSrc};
use rowtrail_core::event::Op;
use serde_json::{json, Value};

/// (column, type as written in CREATE TABLE, SQL literal for row 1, SQL literal for row 2).
type Entry = (&'static str, &'static str, &'static str, &'static str);

const MATRIX: &[Entry] = &[
    ("c_int2", "int2", "-32768", "32767"),
    ("c_int4", "int4", "-2147483648", "2147483647"),
    (
        "c_int8",
        "int8",
        "-9223372036854775808",
        "9223372036854775807",
    ),
    (
        "c_numeric",
        "numeric",
        "12345678901234567890.123456789",
        "'NaN'",
    ),
    ("c_numeric_scaled", "numeric(12,4)", "0.1", "-99999999.9999"),
    ("c_float4", "float4", "'NaN'", "0.1"),
    ("c_float8", "float8", "'Infinity'", "'-Infinity'"),
    ("c_float8_exact", "float8", "0.1", "1.2345678901234567e-300"),
    ("c_bool", "bool", "true", "false"),
    (
        "c_text",
        "text",
        r#"E'it''s "quoted"\nline 2\ttab \\ backslash ü 😀 \u200f'"#,
        "''",
    ),
    ("c_varchar", "varchar(10)", "'abc  '", "'ünïcødé'"),
    ("c_char", "char(5)", "'ab'", "'abcde'"),
    ("c_bytea", "bytea", r"'\x00ff'", r"'\x'"),
    (
        "c_uuid",
        "uuid",
        "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
        "'00000000-0000-0000-0000-000000000000'",
    ),
    ("c_date", "date", "'2026-01-01'", "'infinity'"),
    ("c_time", "time", "'04:05:06.789'", "'23:59:59.999999'"),
    (
        "c_timestamp",
        "timestamp",
        "'2026-01-01 02:00:00.123456'",
        "'-infinity'",
    ),
    (
        "c_timestamptz",
        "timestamptz",
        "'2026-01-01 02:00:00+01'",
        "'1999-12-31 23:59:59.5-08:30'",
    ),
    (
        "c_interval",
        "interval",
        "'1 year 2 months 3 days 04:05:06.789'",
        "'-1 day -00:00:01'",
    ),
    (
        "c_json",
        "json",
        r#"'{"b": 1,   "a": [1, 2], "s": "x\"y"}'"#,
        "'[]'",
    ),
    (
        "c_jsonb",
        "jsonb",
        r#"'{"b": 1,   "a": [1, 2.50], "s": "x\"y", "u": "é"}'"#,
        "'null'",
    ),
    (
        "c_text_arr",
        "text[]",
        r#"ARRAY['a', 'b c', 'q"uote', NULL, '', 'NULL']"#,
        "'{}'",
    ),
    (
        "c_int_arr",
        "int[]",
        "ARRAY[1, NULL, 3]",
        "ARRAY[NULL]::int[]",
    ),
    ("c_int_2d", "int[][]", "'{{1,2},{3,NULL}}'", "'[0:1]={7,8}'"),
    ("c_enum", "mood", "'it''s \"ok\"'", "'sad'"),
    (
        "c_domain",
        "positive_amount",
        "12345678901234567890.123456789",
        "0.000000001",
    ),
    ("c_inet", "inet", "'192.168.0.1/24'", "'::ffff:1.2.3.4'"),
    ("c_cidr", "cidr", "'10.0.0.0/8'", "'2001:db8::/32'"),
    ("c_money", "money", "1234.56", "-0.01"),
];

#[tokio::test]
async fn type_matrix_round_trips_as_server_text() {
    let cols: Vec<String> = MATRIX
        .iter()
        .map(|(c, t, _, _)| format!("{c} {t}"))
        .collect();
    let schema = format!(
        "CREATE TYPE mood AS ENUM ('happy', 'sad', 'it''s \"ok\"');
         CREATE DOMAIN positive_amount AS numeric CHECK (VALUE > 0);
         CREATE TABLE matrix (id int PRIMARY KEY, {});
         ALTER TABLE matrix REPLICA IDENTITY FULL;",
        cols.join(", ")
    );
    let src = PgSrc::new("types", &schema).await;
    let names: Vec<&str> = MATRIX.iter().map(|m| m.0).collect();
    let row = |id: i32, pick: fn(&Entry) -> &'static str| {
        format!(
            "INSERT INTO matrix (id, {}) VALUES ({id}, {})",
            names.join(", "),
            MATRIX.iter().map(pick).collect::<Vec<_>>().join(", ")
        )
    };
    src.db.exec(&row(1, |m| m.2)).await;
    src.db.exec(&row(2, |m| m.3)).await;
    src.db.exec("INSERT INTO matrix (id) VALUES (3)").await;
    // Row 2 changes into row 1's values and back: update after and before images too.
    let sets = |pick: fn(&Entry) -> &'static str| {
        MATRIX
            .iter()
            .map(|m| format!("{} = {}", m.0, pick(m)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    src.db
        .exec(&format!("UPDATE matrix SET {} WHERE id = 2", sets(|m| m.2)))
        .await;
    src.db
        .exec(&format!("UPDATE matrix SET {} WHERE id = 2", sets(|m| m.3)))
        .await;
    src.db.exec("DELETE FROM matrix WHERE id = 3").await;

    let durable = src.sync().await;
    assert_eq!(durable.events, 6, "3 inserts, 2 updates, 1 delete");

    // What the server prints, under the stream's session settings.
    let client = src.client().await;
    let server_text = |rows: Vec<rowtrail_tests::tokio_postgres::Row>| -> Value {
        let r = &rows[0];
        let mut m = serde_json::Map::new();
        m.insert("id".into(), json!(r.get::<_, Option<String>>(0)));
        for (i, c) in names.iter().enumerate() {
            m.insert(c.to_string(), json!(r.get::<_, Option<String>>(i + 1)));
        }
        Value::Object(m)
    };
    // The type's output function, as psql prints it. (`col::text` is the same except for the
    // few types with their own text cast: bool gives `true`, char(n) drops the padding, inet
    // adds `/32`; the stream, like psql, carries the output function's text.)
    let select = format!(
        "SELECT id::text, {} FROM matrix WHERE id = $1",
        names
            .iter()
            .map(|c| format!("CASE WHEN {c} IS NULL THEN NULL ELSE format('%s', {c}) END"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Rows 1 and 2 (currently holding row 2's values) as they are now on the server.
    let now1 = server_text(client.query(&select, &[&1i32]).await.unwrap());
    let now2 = server_text(client.query(&select, &[&2i32]).await.unwrap());
    // `SELECT col::text` agrees with the output function for every other column.
    let cast_select = format!(
        "SELECT id::text, {} FROM matrix WHERE id = $1",
        names
            .iter()
            .map(|c| format!("{c}::text"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (id, out_text) in [(1i32, &now1), (2, &now2)] {
        let cast = server_text(client.query(&cast_select, &[&id]).await.unwrap());
        for c in &names {
            if !["c_bool", "c_char", "c_inet"].contains(c) {
                assert_eq!(
                    cast[*c], out_text[*c],
                    "row {id}: {c}::text vs output function"
                );
            }
        }
    }
    // Row 1's values under id 2, and row 3 (all NULL), rebuilt on the server in a temp table.
    client
        .batch_execute(&format!(
            "CREATE TEMP TABLE probe (LIKE matrix); {}; INSERT INTO probe (id) VALUES (3)",
            row(2, |m| m.2).replace("INSERT INTO matrix", "INSERT INTO probe")
        ))
        .await
        .unwrap();
    let probe_select = select.replace("FROM matrix", "FROM probe");
    let row1_as_2 = {
        let mut v = server_text(client.query(&probe_select, &[&2i32]).await.unwrap());
        v["id"] = json!("2");
        v
    };
    let all_null = server_text(client.query(&probe_select, &[&3i32]).await.unwrap());
    for c in &names {
        assert_eq!(all_null[*c], Value::Null, "probe row 3 has NULL {c}");
    }

    let events = src.events_json();
    let ops: Vec<&str> = events.iter().map(|e| e["op"].as_str().unwrap()).collect();
    assert_eq!(
        ops,
        ["insert", "insert", "insert", "update", "update", "delete"]
    );
    let mut row2_orig = now2.clone();
    row2_orig["id"] = json!("2");
    let expect: [(&str, Value, Value); 6] = [
        ("insert 1", Value::Null, now1.clone()),
        ("insert 2", Value::Null, row2_orig.clone()),
        ("insert 3 (all NULL)", Value::Null, all_null.clone()),
        (
            "update 2 to row 1's values",
            row2_orig.clone(),
            row1_as_2.clone(),
        ),
        ("update 2 back", row1_as_2.clone(), row2_orig.clone()),
        ("delete 3", all_null.clone(), Value::Null),
    ];
    for ((what, before, after), e) in expect.iter().zip(&events) {
        for c in std::iter::once("id").chain(names.iter().copied()) {
            if !before.is_null() {
                assert_eq!(
                    img(e, "before", c),
                    Some(&before[c]),
                    "{what}: before.{c} differs from the server's text"
                );
            }
            if !after.is_null() {
                assert_eq!(
                    img(e, "after", c),
                    Some(&after[c]),
                    "{what}: after.{c} differs from the server's text"
                );
            }
        }
        if before.is_null() {
            assert_eq!(e["before"], Value::Null, "{what}: no before image");
        }
        if after.is_null() {
            assert_eq!(e["after"], Value::Null, "{what}: no after image");
        }
        assert_eq!(
            e["inferred"],
            json!([]),
            "{what}: FULL identity infers nothing"
        );
    }

    // A few values checked by hand too, so a wrong session setting on both sides cannot hide.
    let first = &events[0]["after"];
    assert_eq!(first["c_timestamptz"], json!("2026-01-01 01:00:00+00"));
    assert_eq!(first["c_numeric"], json!("12345678901234567890.123456789"));
    assert_eq!(first["c_bytea"], json!("\\x00ff"));
    assert_eq!(first["c_float4"], json!("NaN"));
    assert_eq!(first["c_float8"], json!("Infinity"));
    assert_eq!(first["c_int_arr"], json!("{1,NULL,3}"));
    assert_eq!(first["c_int_2d"], json!("{{1,2},{3,NULL}}"));
    assert_eq!(
        first["c_jsonb"],
        json!(r#"{"a": [1, 2.50], "b": 1, "s": "x\"y", "u": "é"}"#)
    );
    assert_eq!(
        first["c_json"],
        json!(r#"{"b": 1,   "a": [1, 2], "s": "x\"y"}"#)
    );
    assert_eq!(
        first["c_text"],
        json!("it's \"quoted\"\nline 2\ttab \\ backslash ü 😀 \u{200f}")
    );
    assert_eq!(first["c_char"], json!("ab   "));
    assert_eq!(first["c_bool"], json!("t"));
    assert_eq!(first["c_inet"], json!("192.168.0.1/24"));
    assert_eq!(
        first["c_interval"],
        json!("1 year 2 mons 3 days 04:05:06.789")
    );

    // Column type names, as the server's format_type prints them.
    let rows = client
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = 'matrix'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[],
        )
        .await
        .unwrap();
    let stored = src.events();
    let columns = &stored[0].columns;
    assert_eq!(columns.len(), rows.len());
    for (c, r) in columns.iter().zip(&rows) {
        assert_eq!(c.name, r.get::<_, String>(0));
        assert_eq!(
            c.type_name,
            r.get::<_, String>(1),
            "type name of {}",
            c.name
        );
        assert_eq!(c.key, c.name == "id", "key flag of {}", c.name);
    }
    let type_of = |n: &str| {
        columns
            .iter()
            .find(|c| c.name == n)
            .map(|c| c.type_name.clone())
            .unwrap()
    };
    assert!(type_of("c_numeric").contains("numeric"));
    assert_eq!(type_of("c_numeric_scaled"), "numeric(12,4)");
    assert_eq!(type_of("c_text_arr"), "text[]");
    assert_eq!(type_of("c_int_arr"), "integer[]");
    assert!(type_of("c_enum").contains("mood"));
    assert!(type_of("c_domain").contains("positive_amount"));
    assert!(type_of("c_varchar").contains("10"));
    assert!(type_of("c_timestamptz").contains("time zone"));
    assert_eq!(stored[0].op, Op::Insert);
}

/// A value larger than 8 kB that does not compress, so it is stored out of line and an UPDATE
/// of another column sends it as "unchanged TOAST".
const BIG: &str =
    "(SELECT string_agg(md5(random()::text || g::text), '') FROM generate_series(1, 2000) g)";

#[tokio::test]
async fn unchanged_toast_is_filled_from_the_previous_version() {
    let src = PgSrc::bare(
        "toast",
        "CREATE TABLE doc_default (id int PRIMARY KEY, n int, big text);
         CREATE TABLE doc_full (id int PRIMARY KEY, n int, big text);
         ALTER TABLE doc_full REPLICA IDENTITY FULL;",
    )
    .await;
    // Row 2 exists before the source: Rowtrail never sees its big value.
    src.db
        .exec(&format!("INSERT INTO doc_default VALUES (2, 0, {BIG})"))
        .await;
    src.add_source().await;
    src.db
        .exec(&format!(
            "INSERT INTO doc_default VALUES (1, 0, {BIG});
             INSERT INTO doc_full VALUES (1, 0, {BIG});"
        ))
        .await;
    assert_eq!(src.sync().await.events, 2);
    src.db
        .exec(
            "UPDATE doc_default SET n = n + 1;
             UPDATE doc_full SET n = n + 1;
             UPDATE doc_default SET n = n + 1 WHERE id = 1;",
        )
        .await;
    assert_eq!(src.sync().await.events, 4);

    let client = src.client().await;
    let big_of = |table: &'static str, id: i32| {
        let client = &client;
        async move {
            let big: String = client
                .query_one(&format!("SELECT big FROM {table} WHERE id = $1"), &[&id])
                .await
                .unwrap()
                .get(0);
            big
        }
    };
    let (big_d1, big_d2, big_f1) = (
        big_of("doc_default", 1).await,
        big_of("doc_default", 2).await,
        big_of("doc_full", 1).await,
    );
    assert!(big_d1.len() > 8192 && big_f1.len() > 8192);
    // The values really are stored out of line, in the TOAST tables.
    for table in ["doc_default", "doc_full"] {
        let toast_bytes: i64 = client
            .query_one(
                "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = $1::text::regclass",
                &[&table],
            )
            .await
            .unwrap()
            .get(0);
        assert!(
            toast_bytes > 0,
            "{table}'s big values should be TOASTed out of line"
        );
    }

    let d = src.table_events("doc_default");
    let dj: Vec<Value> = d.iter().map(|e| e.to_json()).collect();
    // insert 1, update 2 (n), update 1 (n), update 1 (n again)
    assert_eq!(dj.len(), 4);
    let d_updates_1: Vec<&Value> = dj
        .iter()
        .filter(|e| e["op"] == "update" && e["key"]["id"] == "1")
        .collect();
    assert_eq!(d_updates_1.len(), 2);
    for (i, e) in d_updates_1.iter().enumerate() {
        assert_eq!(e["after"]["n"], json!((i + 1).to_string()));
        assert_eq!(
            e["after"]["big"].as_str().map(str::len),
            Some(big_d1.len()),
            "DEFAULT update {i}: the after image holds the whole unchanged value"
        );
        assert_eq!(e["after"]["big"], json!(big_d1));
        assert_eq!(e["before"]["big"], json!(big_d1));
        assert_eq!(e["before"]["n"], json!(i.to_string()));
        let inferred: Vec<&str> = e["inferred"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(inferred.contains(&"big"), "big is inferred: {inferred:?}");
        assert!(!inferred.contains(&"id"), "the key was sent: {inferred:?}");
        assert!(e.get("unknown").is_none(), "nothing unknown: {e}");
    }
    // Row 2's big value was never seen: it is unknown, never NULL.
    let d2 = dj
        .iter()
        .find(|e| e["key"]["id"] == "2")
        .expect("update of row 2");
    assert_eq!(d2["after"]["n"], json!("1"));
    assert!(
        d2["after"].get("big").is_none(),
        "a never-seen unchanged TOAST value must not be shown (as NULL or otherwise): {}",
        d2["after"]
    );
    assert!(
        d2["unknown"]
            .as_array()
            .is_some_and(|u| u.contains(&json!("big"))),
        "big is listed as unknown: {d2}"
    );
    assert!(!big_d2.is_empty());

    let f = src.table_events("doc_full");
    let fj: Vec<Value> = f.iter().map(|e| e.to_json()).collect();
    assert_eq!(fj.len(), 2);
    let fu = &fj[1];
    assert_eq!(fu["op"], "update");
    assert_eq!(
        fu["before"]["big"],
        json!(big_f1),
        "FULL sends the old value"
    );
    assert_eq!(
        fu["after"]["big"],
        json!(big_f1),
        "after holds the unchanged value"
    );
    assert_eq!(fu["before"]["n"], json!("0"));
    assert_eq!(fu["after"]["n"], json!("1"));

    // The history shows n changing, never big.
    let h = src.history("doc_default", &["1"]);
    assert_eq!(h.versions.len(), 3);
    for v in &h.versions[1..] {
        let cols: Vec<&str> = v.changes.iter().map(|c| c.column.as_str()).collect();
        assert_eq!(cols, ["n"], "version {}", v.number);
    }
}

#[tokio::test]
async fn hostile_identifiers_are_quoted_and_kept_exact() {
    let src = PgSrc::new(
        "ident",
        r#"CREATE SCHEMA "my schema";
           CREATE TABLE "my schema"."Order ""Items"" ü" (
               "select" int PRIMARY KEY, "a b" text, "ünï" text, "x""y" text, "Mixed" int);
           CREATE TABLE "my schema"."tbl; DROP TABLE x; --" (id int PRIMARY KEY, v text);"#,
    )
    .await;
    src.db
        .exec(
            r#"INSERT INTO "my schema"."Order ""Items"" ü" VALUES (1, 'ab', 'ü', 'q"', 7);
               UPDATE "my schema"."Order ""Items"" ü" SET "a b" = 'changed', "x""y" = NULL WHERE "select" = 1;
               INSERT INTO "my schema"."tbl; DROP TABLE x; --" VALUES (1, 'v');
               DELETE FROM "my schema"."Order ""Items"" ü" WHERE "select" = 1;"#,
        )
        .await;
    assert_eq!(src.sync().await.events, 4);
    let ev = src.events_json();
    let table = r#"Order "Items" ü"#;
    assert_eq!(ev[0]["schema"], "my schema");
    assert_eq!(ev[0]["table"], table);
    assert_eq!(
        ev[0]["after"],
        json!({"select": "1", "a b": "ab", "ünï": "ü", "x\"y": "q\"", "Mixed": "7"})
    );
    assert_eq!(ev[0]["key"], json!({"select": "1"}));
    assert_eq!(ev[1]["op"], "update");
    assert_eq!(ev[1]["after"]["a b"], "changed");
    assert_eq!(ev[1]["after"]["x\"y"], Value::Null);
    assert_eq!(ev[2]["table"], "tbl; DROP TABLE x; --");
    assert_eq!(ev[3]["op"], "delete");
    assert_eq!(ev[3]["key"], json!({"select": "1"}));

    let stored = src.events();
    let names: Vec<&str> = stored[0].columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["select", "a b", "ünï", "x\"y", "Mixed"]);

    let qualified = format!("my schema.{table}");
    let h = src.history(&qualified, &["select=1"]);
    assert_eq!(h.versions.len(), 3);
    let h2 = src.history(table, &["1"]);
    assert_eq!(h2.versions.len(), 3);
    let changed: Vec<&str> = h.versions[1]
        .changes
        .iter()
        .map(|c| c.column.as_str())
        .collect();
    assert_eq!(changed, ["a b", "x\"y"]);
}
