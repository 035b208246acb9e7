//! The `rowtrail` CLI over a real PostgreSQL source: what scripts and people read.
//!
//! Runs the built binary (`cargo build -p rowtrail-cli` first) against a real server and
//! proves that:
//! - `rowtrail events --json` prints one JSON object per line, oldest first, with exactly the
//!   scripting contract's keys in order (id, source, txid, position, committed_at, context,
//!   schema, table, op, key, before, after, inferred) and values a script can rely on (the
//!   server's txid, the commit LSN, UTC milliseconds, text values);
//! - `rowtrail history TABLE KEY` shows each change as `column: old → new`, newest first;
//! - a value or context holding a terminal escape (`\x1b[31m`) never reaches the terminal as a
//!   raw ESC byte, in any output.

use std::path::Path;
use std::process::Command;

use rowtrail_tests::{rowtrail_bin, temp_data_dir, txn_with_txid, TestDb};
use serde_json::{json, Value};

const CONTRACT_KEYS: [&str; 13] = [
    "id",
    "source",
    "txid",
    "position",
    "committed_at",
    "context",
    "schema",
    "table",
    "op",
    "key",
    "before",
    "after",
    "inferred",
];

fn rowtrail(data: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new(rowtrail_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("ROWTRAIL_PG_PASSWORD")
        .env_remove("PGPASSWORD")
        .output()
        .expect("rowtrail runs");
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    );
    assert!(
        out.status.success(),
        "rowtrail {args:?} failed ({}): {stdout}\n{stderr}",
        out.status
    );
    (stdout, stderr)
}

fn is_rfc3339_utc_millis(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z'
}

#[tokio::test]
async fn events_json_contract_history_lines_and_no_raw_escapes() {
    let db = TestDb::new("cli").await;
    db.exec(
        "CREATE TABLE shp (id int PRIMARY KEY, st text, notes text);
         ALTER TABLE shp REPLICA IDENTITY FULL;",
    )
    .await;
    let dir = temp_data_dir();
    let data = dir.path();
    let name = db.name.clone();
    let (out, _) = rowtrail(
        data,
        &["source", "add", "pg", &name, "--url", &db.url, "--yes"],
    );
    assert!(
        out.contains(&format!("rowtrail_{name}")),
        "the plan names the slot: {out}"
    );

    let client = db.client().await;
    let mut txids = Vec::new();
    for sql in [
        r#"SELECT pg_logical_emit_message(true, 'rowtrail', '{"actor":"ana@example.com","reason":"\u001b[31mred"}');
           INSERT INTO shp VALUES (5001, 'P', 'first')"#,
        "UPDATE shp SET st = 'X' WHERE id = 5001",
        r"UPDATE shp SET notes = E'\x1b[31mred alert\x1b[0m' WHERE id = 5001",
    ] {
        txids.push(txn_with_txid(&client, sql).await);
    }

    let (out, _) = rowtrail(data, &["sync", &name]);
    assert!(
        out.contains("stored 3 event(s) in 3 transaction(s)"),
        "{out}"
    );

    let (json_out, _) = rowtrail(data, &["events", "--json"]);
    let lines: Vec<&str> = json_out.lines().collect();
    assert_eq!(lines.len(), 3, "one line per event: {json_out}");
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let mut last_id = 0;
    for (e, txid) in events.iter().zip(&txids) {
        let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        let contract: Vec<&str> = keys.iter().copied().filter(|k| *k != "unknown").collect();
        assert_eq!(contract, CONTRACT_KEYS, "keys and their order: {e}");
        let id = e["id"].as_i64().expect("id is a number");
        assert!(id > last_id, "oldest first");
        last_id = id;
        assert_eq!(e["source"], json!(name));
        assert_eq!(e["txid"], json!(txid), "txid is txid_current() as a string");
        let pos = e["position"].as_str().unwrap();
        let (hi, lo) = pos.split_once('/').expect("position X/XXXXXXX");
        assert!(
            [hi, lo].iter().all(|p| !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))),
            "{pos}"
        );
        let at = e["committed_at"].as_str().unwrap();
        assert!(
            is_rfc3339_utc_millis(at),
            "committed_at {at:?} is RFC 3339 UTC with milliseconds"
        );
        assert_eq!(e["schema"], "public");
        assert_eq!(e["table"], "shp");
        assert_eq!(e["key"], json!({"id": "5001"}));
        assert!(e["context"].is_object() && e["inferred"].is_array());
    }
    let ops: Vec<&str> = events.iter().map(|e| e["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["insert", "update", "update"]);
    assert_eq!(
        events[0]["context"],
        json!({"actor": "ana@example.com", "reason": "\u{1b}[31mred"})
    );
    assert_eq!(events[0]["before"], Value::Null);
    assert_eq!(
        events[0]["after"],
        json!({"id": "5001", "st": "P", "notes": "first"})
    );
    assert_eq!(
        events[1]["before"],
        json!({"id": "5001", "st": "P", "notes": "first"})
    );
    assert_eq!(
        events[1]["after"],
        json!({"id": "5001", "st": "X", "notes": "first"})
    );
    assert_eq!(
        events[2]["after"]["notes"],
        json!("\u{1b}[31mred alert\u{1b}[0m")
    );
    assert_eq!(events[1]["context"], json!({}));
    assert_eq!(events[1]["inferred"], json!([]));
    // Positions increase in commit order.
    let lsn = |e: &Value| {
        let (hi, lo) = e["position"].as_str().unwrap().split_once('/').unwrap();
        (u64::from_str_radix(hi, 16).unwrap() << 32) | u64::from_str_radix(lo, 16).unwrap()
    };
    assert!(lsn(&events[0]) < lsn(&events[1]) && lsn(&events[1]) < lsn(&events[2]));

    // Filtering by the txid a user copies from psql.
    let (one, _) = rowtrail(data, &["events", "--json", "--txn", &txids[1]]);
    assert_eq!(one.lines().count(), 1);
    assert_eq!(
        serde_json::from_str::<Value>(one.trim()).unwrap()["id"],
        events[1]["id"]
    );

    // Human history: newest first, one `column: old → new` line per change.
    let (history, _) = rowtrail(data, &["history", "shp", "5001"]);
    let st_line = history
        .lines()
        .find(|l| l.trim_start().starts_with("st:"))
        .unwrap_or_else(|| panic!("no st line in:\n{history}"));
    assert_eq!(st_line.trim(), "st: P → X", "{history}");
    let v3 = history.find("v3").expect("version 3 shown");
    let v1 = history.find("v1").expect("version 1 shown");
    assert!(v3 < v1, "newest first:\n{history}");
    assert!(
        history.contains(&txids[1]),
        "versions name their txid:\n{history}"
    );

    // No output ever carries a raw ESC byte; the escape shows as visible text instead.
    let (human_events, _) = rowtrail(data, &["events"]);
    let (history_json, _) = rowtrail(data, &["history", "shp", "5001", "--json"]);
    let (diff, _) = rowtrail(data, &["diff", "shp", "5001", "--from", "1", "--to", "3"]);
    for (what, text) in [
        ("events --json", &json_out),
        ("events", &human_events),
        ("history", &history),
        ("history --json", &history_json),
        ("diff", &diff),
    ] {
        assert!(
            !text.contains('\u{1b}'),
            "`rowtrail {what}` printed a raw ESC byte:\n{text:?}"
        );
    }
    assert!(
        human_events.contains("\\u{1b}[31mred"),
        "the context's escape is shown escaped:\n{human_events}"
    );
    assert!(
        history.contains("\\u{1b}[31m"),
        "the value's escape is shown escaped:\n{history}"
    );
    assert!(diff.contains("\\u{1b}[31m"), "{diff}");
    for l in history_json.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert!(v["version"].is_u64());
    }

    // Value search: `sync` leaves indexing to the first search, which must still see every
    // event, and a later search also sees what was synced after the first one.
    let search = |q: &str| -> Vec<Value> {
        let (out, _) = rowtrail(data, &["events", "--json", "--search", q]);
        out.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let found = search("red alert");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"], events[2]["id"]);
    assert!(search("no such value").is_empty());
    client
        .batch_execute("INSERT INTO shp VALUES (5002, 'P', 'parcel to Zürich')")
        .await
        .unwrap();
    rowtrail(data, &["sync", &name]);
    let found = search("ZÜRICH");
    assert_eq!(
        found.len(),
        1,
        "case-insensitive, after a second sync: {found:?}"
    );
    assert_eq!(found[0]["key"], serde_json::json!({"id": "5002"}));
}

fn rowtrail_fails(data: &Path, args: &[&str]) -> String {
    let out = Command::new(rowtrail_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("rowtrail runs");
    assert!(!out.status.success(), "rowtrail {args:?} should fail");
    String::from_utf8(out.stderr).expect("stderr is UTF-8")
}

/// What issue 12 found in `history` and `diff`: unknown old values hidden, deletes read as
/// updates to NULL, NULL columns missing from an insert, a 540 KB line for a one-word edit,
/// a newline in a key breaking the one-line list, a keyless table's "0 column(s) ()" and the
/// table named twice in a version error.
#[tokio::test]
async fn history_shows_unknown_olds_removed_records_and_short_long_values() {
    let db = TestDb::new("clihist").await;
    db.exec(
        "CREATE TABLE acct (id int PRIMARY KEY, balance numeric, status text, memo text);
         CREATE TABLE k (code text PRIMARY KEY, v text);
         CREATE TABLE logs (msg text);
         INSERT INTO acct VALUES (1, 10, 'open', NULL);",
    )
    .await;
    let dir = temp_data_dir();
    let data = dir.path();
    let name = db.name.clone();
    rowtrail(
        data,
        &["source", "add", "pg", &name, "--url", &db.url, "--yes"],
    );
    db.exec(
        "UPDATE acct SET balance = 999.99, status = 'frozen' WHERE id = 1;
         DELETE FROM acct WHERE id = 1;
         INSERT INTO acct VALUES (2, NULL, 'new', NULL);
         UPDATE acct SET memo = repeat('word ', 108000) WHERE id = 2;
         UPDATE acct SET memo = overlay(memo placing 'WORD' from 270001 for 4) WHERE id = 2;
         INSERT INTO k VALUES (E'a\\nb', 'x');
         INSERT INTO logs VALUES ('hi');",
    )
    .await;
    rowtrail(data, &["sync", &name]);

    let (h1, _) = rowtrail(data, &["history", "acct", "1"]);
    for line in [
        "balance: (unknown) → 999.99",
        "status: (unknown) → frozen",
        "(deleted; the removed record:)",
    ] {
        assert!(
            h1.lines().any(|l| l.trim() == line),
            "no {line:?} in:\n{h1}"
        );
    }
    let removed = h1.split("(deleted; the removed record:)").nth(1).unwrap();
    let removed: Vec<&str> = removed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(4)
        .collect();
    // A DEFAULT delete sends only the key: the rest comes from the version before.
    assert_eq!(
        removed,
        [
            "id: 1",
            "balance (inferred): 999.99",
            "status (inferred): frozen",
            "memo (inferred): (null)"
        ],
        "{h1}"
    );
    assert!(
        !h1.contains("999.99 → (null)"),
        "a delete is not an update to NULL:\n{h1}"
    );
    let (j1, _) = rowtrail(data, &["history", "acct", "1", "--json"]);
    let versions: Vec<Value> = j1
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let update = &versions[1];
    assert_eq!(update["op"], "update");
    assert_eq!(
        update["changes"][0],
        json!({"column": "balance", "type": "numeric", "old": null, "new": "999.99",
               "diff": {"kind": "unknown", "new": "999.99"}, "inferred": false, "unknown": true})
    );
    assert_eq!(
        versions[0]["changes"][1]["diff"],
        json!({"kind": "deleted", "old": "999.99"})
    );

    // The insert shows every column, NULL ones included; the one-word edit of a 540 KB value
    // is one short line unless --full is asked for.
    let (h2, _) = rowtrail(data, &["history", "acct", "2"]);
    let v1 = h2.split("insert").nth(1).unwrap();
    for line in ["balance: (null)", "status: new", "memo: (null)"] {
        assert!(
            v1.lines().any(|l| l.trim() == line),
            "no {line:?} in the insert:\n{v1}"
        );
    }
    assert!(h2.len() < 5_000, "{} characters", h2.len());
    let edit = h2
        .lines()
        .find(|l| l.contains("{+WORD+}"))
        .unwrap_or_else(|| panic!("{h2}"));
    assert!(
        edit.contains("[-word-]") && edit.contains("characters …]"),
        "{edit}"
    );
    assert!(h2.contains("--full"), "says how to see everything:\n{h2}");
    let (full, _) = rowtrail(data, &["history", "acct", "2", "--full"]);
    assert!(
        full.len() > 540_000,
        "--full shows it all ({} characters)",
        full.len()
    );

    // A newline in a key stays on its line in the list.
    let (list, _) = rowtrail(data, &["events", "--table", "k"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains("code=a\\nb"), "{list}");

    let err = rowtrail_fails(data, &["history", "logs", "x"]);
    assert!(
        err.contains("has no key") && err.contains("rowtrail events --table public.logs"),
        "{err}"
    );
    assert!(!err.contains("0 column(s)"), "{err}");
    let err = rowtrail_fails(data, &["diff", "acct", "1", "--from", "0", "--to", "1"]);
    assert_eq!(
        err.matches("public.acct").count(),
        1,
        "the table is named once: {err}"
    );
    assert!(
        err.contains("id=1") && err.contains("no version 0"),
        "{err}"
    );
}
