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
        out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
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
    assert_eq!(found.len(), 1, "case-insensitive, after a second sync: {found:?}");
    assert_eq!(found[0]["key"], serde_json::json!({"id": "5002"}));
}
