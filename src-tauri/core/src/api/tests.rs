//! API tests on real SQLite caches: the built-in demo, captured by the SQLite source.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::cache::query::{EventFilter, EventRow};
use crate::demo::DemoInfo;
use crate::event::Op;
use crate::source::{RunOptions, RunUntil};

struct Fixture {
    _dir: tempfile::TempDir,
    ws: Workspace,
    api: Api,
    info: DemoInfo,
}

async fn demo_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::resolve(Some(dir.path()));
    let info = crate::demo::create(&ws.demo_db_path()).unwrap();
    {
        let cache = Cache::open(&ws.cache_path()).unwrap();
        crate::sync::add_sqlite_source(&cache, "demo", &info.path, None).unwrap();
    }
    let opts = RunOptions {
        until: RunUntil::CaughtUp,
        cancel: CancellationToken::new(),
        progress: None,
    };
    crate::sync::run_source(&ws.cache_path(), "demo", None, &opts).await.unwrap();
    let api = Api::open(&ws).unwrap();
    Fixture {
        _dir: dir,
        ws,
        api,
        info,
    }
}

fn all_events(f: &Fixture) -> Vec<EventRow> {
    Cache::open(&f.ws.cache_path()).unwrap().events(&EventFilter::default()).unwrap()
}

async fn call(api: &Api, cmd: &str, args: Value) -> Value {
    match api.call(cmd, args.clone()).await {
        Ok(v) => v,
        Err(e) => panic!("{cmd} {args}: {e:?}"),
    }
}

async fn call_err(api: &Api, cmd: &str, args: Value) -> ApiError {
    match api.call(cmd, args.clone()).await {
        Ok(v) => panic!("{cmd} {args} should fail, answered {v}"),
        Err(e) => e,
    }
}

fn ids_of(page: &Value) -> Vec<i64> {
    page["events"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

/// Every id the filter matches, by walking forwards and backwards with keyset pages and by
/// index; checks all three agree with `expected` and that indexes are consistent.
async fn check_paging(api: &Api, filter: Value, expected: &[i64]) {
    let n = expected.len();
    // Forwards.
    let mut got: Vec<i64> = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let page = call(api, "list_events", json!({"filter": filter, "after_id": after, "limit": 37})).await;
        let ids = ids_of(&page);
        assert_eq!(page["total"], json!(n), "{filter}");
        if !ids.is_empty() {
            assert_eq!(page["first_index"], json!(got.len()), "{filter}");
        }
        got.extend(&ids);
        if !page["has_more_after"].as_bool().unwrap() {
            break;
        }
        after = ids.last().copied();
    }
    assert_eq!(got, expected, "forwards {filter}");
    // Backwards from the newest.
    let mut back: Vec<i64> = Vec::new();
    let mut before = i64::MAX;
    loop {
        let page = call(api, "list_events", json!({"filter": filter, "before_id": before, "limit": 29})).await;
        let ids = ids_of(&page);
        if ids.is_empty() {
            break;
        }
        assert_eq!(page["first_index"], json!(n - back.len() - ids.len()), "{filter}");
        for id in ids.iter().rev() {
            back.push(*id);
        }
        before = ids[0];
        if !page["has_more_before"].as_bool().unwrap() {
            break;
        }
    }
    back.reverse();
    assert_eq!(back, expected, "backwards {filter}");
    // By index, including past the end.
    for i in [0, 1, 127, 128, 129, 200, n.saturating_sub(1), n, n + 5] {
        let page = call(api, "events_at", json!({"filter": filter, "index": i, "limit": 50})).await;
        let want: Vec<i64> = expected.iter().skip(i).take(50).copied().collect();
        assert_eq!(ids_of(&page), want, "events_at {i} {filter}");
        assert_eq!(page["first_index"], json!(i.min(n)));
    }
    let count = call(api, "count_events", json!({"filter": filter})).await;
    assert_eq!(count["count"], json!(n));
    assert_eq!(count["exact"], json!(true));
}

#[tokio::test]
async fn pagination_covers_every_event_once_forwards_and_backwards() {
    let f = demo_fixture().await;
    let all = all_events(&f);
    assert!(all.len() > 300);
    let ids: Vec<i64> = all.iter().map(|e| e.id).collect();
    check_paging(&f.api, json!({}), &ids).await;
    let shp_updates: Vec<i64> = all.iter().filter(|e| e.table == "shp" && e.op == Op::Update).map(|e| e.id).collect();
    check_paging(&f.api, json!({"table": "shp", "op": "update"}), &shp_updates).await;
    // Pages between two ids.
    let page = call(&f.api, "list_events", json!({"after_id": ids[10], "before_id": ids[20], "limit": 1000})).await;
    assert_eq!(ids_of(&page), ids[11..20].to_vec());
    assert_eq!(page["first_index"], json!(11));
}

#[tokio::test]
async fn every_filter_matches_what_it_says() {
    let f = demo_fixture().await;
    let all = all_events(&f);
    let t0 = all[all.len() / 3].committed_us;
    let t1 = all[2 * all.len() / 3].committed_us;
    let since = crate::time_fmt::format_us(t0);
    let until = crate::time_fmt::format_us(t1);
    // A value to search for: a customer name from an insert.
    let name = all
        .iter()
        .find(|e| e.table == "cust" && e.op == Op::Insert)
        .and_then(|e| e.to_json()["after"]["nm"].as_str().map(str::to_string))
        .unwrap();
    let changed_st = |e: &EventRow| {
        let j = e.to_json();
        e.op == Op::Update && j["before"]["st"] != j["after"]["st"] && j["before"].get("st").is_some()
    };
    type Pred<'a> = Box<dyn Fn(&EventRow) -> bool + 'a>;
    let cases: Vec<(Value, Pred)> = vec![
        (json!({"source": "demo"}), Box::new(|_| true)),
        (json!({"table": "ln"}), Box::new(|e| e.table == "ln")),
        (json!({"table": "main.cust"}), Box::new(|e| e.table == "cust")),
        (json!({"op": "delete"}), Box::new(|e| e.op == Op::Delete)),
        (json!({"since": since, "until": until}), Box::new(|e| e.committed_us >= t0 && e.committed_us < t1)),
        (json!({"txid": f.info.bad_batch_txid}), Box::new(|e| e.txid == f.info.bad_batch_txid)),
        (
            json!({"context": "BATCH-job@"}),
            Box::new(|e| e.context.values().any(|v| v.as_str().unwrap_or("").to_lowercase().contains("batch-job@"))),
        ),
        (json!({"column": "st"}), Box::new(changed_st)),
        (json!({"column": "st", "table": "shp", "op": "update"}), Box::new(changed_st)),
        // Column names in any case; one no table has matches nothing (not an error).
        (json!({"column": "ST"}), Box::new(changed_st)),
        (json!({"column": "nope"}), Box::new(|_| false)),
        (
            json!({"search": name}),
            Box::new(|e| e.to_json().to_string().contains(&serde_json::to_string(&name).unwrap()[1..name.len()])),
        ),
        (json!({"source": "demo", "table": "shp", "op": "insert", "since": since}), Box::new(|e| e.table == "shp" && e.op == Op::Insert && e.committed_us >= t0)),
        (json!({"txid": "no-such-transaction"}), Box::new(|_| false)),
        (json!({"table": "  ", "source": ""}), Box::new(|_| true)),
    ];
    for (filter, pred) in cases {
        let want: Vec<i64> = all.iter().filter(|e| pred(e)).map(|e| e.id).collect();
        let page = call(&f.api, "list_events", json!({"filter": filter, "limit": 1000})).await;
        assert_eq!(ids_of(&page), want, "{filter}");
        assert_eq!(page["total"], json!(want.len()), "{filter}");
    }
    // The bad batch is one transaction of 40 updates; its rows carry what groups them.
    let page = call(&f.api, "list_events", json!({"filter": {"txid": f.info.bad_batch_txid}})).await;
    let rows = page["events"].as_array().unwrap();
    assert_eq!(rows.len(), 40);
    let txn_rows: BTreeSet<i64> = rows.iter().map(|r| r["txn_row"].as_i64().unwrap()).collect();
    assert_eq!(txn_rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["op"], "update");
    assert_eq!(r["changed"], json!(["st"]));
    assert_eq!(r["summary"], "st: S → X");
    assert_eq!(r["context"]["actor"], "batch-job@example.com");
    assert!(r["committed_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r["key"][0][0], "id");
    assert!(r.get("before").is_none(), "list rows carry no images");
}

#[tokio::test]
async fn bad_requests_say_what_is_wrong() {
    let f = demo_fixture().await;
    let e = call_err(&f.api, "no_such_command", json!({})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert!(e.message.contains("no_such_command") && e.message.contains("list_events"), "{}", e.message);
    let e = call_err(&f.api, "list_events", json!({"filter": {"since": "yesterday"}})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert!(e.message.starts_with("filter.since:") && e.message.contains("2026-11-02"), "{}", e.message);
    let e = call_err(&f.api, "list_events", json!({"filter": {"source": "nope"}})).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = call_err(&f.api, "list_events", json!({"filter": {"table": "nope"}})).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(e.message.contains("list_tables"));
    let n = call(&f.api, "count_events", json!({"filter": {"column": "nope"}})).await;
    assert_eq!((n["count"].clone(), n["exact"].clone()), (json!(0), json!(true)), "an unknown column counts to 0 at once");
    let e = call_err(&f.api, "list_events", json!({"filter": {"search": "ab"}})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    let e = call_err(&f.api, "list_events", json!({"filter": {"tabel": "shp"}})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert!(e.message.contains("tabel"), "{}", e.message);
    let e = call_err(&f.api, "list_events", json!({"limit": 100000})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    let e = call_err(&f.api, "list_events", json!({"filter": {"op": "upsert"}})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    let e = call_err(&f.api, "locate_time", json!({"at": "soon"})).await;
    assert!(e.message.starts_with("at:"), "{}", e.message);
    let e = call_err(&f.api, "pause_source", json!({"name": "nope"})).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = call_err(&f.api, "add_sqlite_source", json!({"name": "demo", "path": f.info.path})).await;
    assert_eq!(e.code, ErrorCode::Conflict);
    let e = call_err(&f.api, "add_sqlite_source", json!({"name": "bad name!", "path": f.info.path})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    // Arguments may be null for commands without any.
    let info = call(&f.api, "workspace_info", Value::Null).await;
    assert_eq!(info["source_count"], 1);
    assert_eq!(info["event_count"], json!(all_events(&f).len()));
}

#[tokio::test]
async fn locate_time_finds_the_first_event_at_or_after() {
    let f = demo_fixture().await;
    let all = all_events(&f);
    for k in [0, 5, all.len() / 2, all.len() - 1] {
        let at = all[k].committed_us;
        let want = all.iter().position(|e| e.committed_us >= at).unwrap();
        let r = call(&f.api, "locate_time", json!({"at": crate::time_fmt::format_us(at)})).await;
        // format_us keeps milliseconds: anything within that millisecond counts.
        let at_ms = at - at.rem_euclid(1000);
        let want_ms = all.iter().position(|e| e.committed_us >= at_ms).unwrap();
        assert!(r["index"] == json!(want) || r["index"] == json!(want_ms), "{r} {want}");
        assert_eq!(r["id"], json!(all[r["index"].as_u64().unwrap() as usize].id));
    }
    // Within a filter.
    let r = call(&f.api, "locate_time", json!({"filter": {"table": "ln"}, "at": crate::time_fmt::format_us(all[all.len() / 2].committed_us)})).await;
    let ln: Vec<&EventRow> = all.iter().filter(|e| e.table == "ln").collect();
    let want = ln.iter().position(|e| e.committed_us >= all[all.len() / 2].committed_us - 999).unwrap();
    assert!(r["index"].as_u64().unwrap() as usize <= want + 1, "{r}");
    assert_eq!(r["total"], json!(ln.len()));
    // After the last event.
    let r = call(&f.api, "locate_time", json!({"at": "2999-01-01"})).await;
    assert_eq!(r["id"], Value::Null);
    assert_eq!(r["index"], json!(all.len()));
}

#[tokio::test]
async fn record_history_and_compare() {
    let f = demo_fixture().await;
    let (table, key) = f.info.sample_record.clone();
    let h = call(&f.api, "record_history", json!({"table": table, "key": [key]})).await;
    let versions = h["versions"].as_array().unwrap();
    assert!(versions.len() >= 5);
    assert_eq!(h["key"], json!([["id", key]]));
    assert_eq!(h["key_columns"], json!(["id"]));
    assert_eq!(versions[0]["number"], 1);
    assert_eq!(versions[0]["event"]["op"], "insert");
    assert!(versions[0]["changes"].as_array().unwrap().iter().any(|c| c["column"] == "notes" && c["diff"]["kind"] == "set"));
    let types: Vec<&str> = h["columns"].as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
    assert_eq!(types.len(), 8);
    let batch = versions.iter().find(|v| v["event"]["txid"] == json!(f.info.bad_batch_txid)).unwrap();
    assert_eq!(batch["changes"][0]["column"], "st");
    assert_eq!(batch["changes"][0]["diff"], json!({"kind": "replaced", "old": "S", "new": "X"}));
    assert_eq!(batch["unchanged"], json!(7));
    // The same record by column name and by number.
    let by_name = call(&f.api, "record_history", json!({"table": "main.shp", "key": {"id": key}})).await;
    assert_eq!(by_name, h);
    let by_number = call(&f.api, "record_history", json!({"table": "shp", "key": [key.parse::<i64>().unwrap()], "source": "demo"})).await;
    assert_eq!(by_number, h);
    // Composite keys.
    let ln = all_events(&f).into_iter().find(|e| e.table == "ln").unwrap();
    let k: Vec<String> = ln.key.iter().map(|(_, v)| v.clone().unwrap()).collect();
    let lh = call(&f.api, "record_history", json!({"table": "ln", "key": k})).await;
    assert_eq!(lh["key_columns"], json!(["shp_id", "ln_no"]));
    let e = call_err(&f.api, "record_history", json!({"table": "ln", "key": [k[0]]})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert!(e.message.contains("shp_id, ln_no"), "{}", e.message);
    let e = call_err(&f.api, "record_history", json!({"table": "ln", "key": {"shp_id": k[0], "nope": 1}})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    let e = call_err(&f.api, "record_history", json!({"table": "shp", "key": ["999999"]})).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = call_err(&f.api, "record_history", json!({"table": "nope", "key": ["1"]})).await;
    assert_eq!(e.code, ErrorCode::NotFound);

    // Compare the first and the last version: changed first, unchanged available.
    let last = versions.len();
    let cmp = call(&f.api, "compare_versions", json!({"table": table, "key": [key], "from": 1, "to": last})).await;
    let changed: Vec<&str> = cmp["changes"].as_array().unwrap().iter().map(|c| c["column"].as_str().unwrap()).collect();
    let unchanged: Vec<&str> = cmp["unchanged"].as_array().unwrap().iter().map(|c| c["column"].as_str().unwrap()).collect();
    assert!(changed.contains(&"st"), "{cmp}");
    assert!(unchanged.contains(&"id"), "{cmp}");
    assert!(changed.iter().all(|c| !unchanged.contains(c)));
    assert_eq!(changed.len() + unchanged.len(), 8);
    let same = call(&f.api, "compare_versions", json!({"table": table, "key": [key], "from": 2, "to": 2})).await;
    assert_eq!(same["changes"], json!([]));
    let e = call_err(&f.api, "compare_versions", json!({"table": table, "key": [key], "from": 1, "to": 999})).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(e.message.contains("999"));
}

#[tokio::test]
async fn transaction_view() {
    let f = demo_fixture().await;
    let t = call(&f.api, "transaction", json!({"source": "demo", "txid": f.info.bad_batch_txid})).await;
    assert_eq!(t["event_count"], 40);
    assert_eq!(t["counts"], json!([{"schema": "main", "table": "shp", "op": "update", "count": 40}]));
    assert_eq!(t["context"]["actor"], "batch-job@example.com");
    assert_eq!(t["context"]["reason"], "nightly recalculation");
    assert_eq!(t["truncated"], false);
    let events = t["events"].as_array().unwrap();
    assert_eq!(events.len(), 40);
    let e0 = &events[0];
    assert_eq!(e0["changes"], json!([{"column": "st", "type": "TEXT", "old": "S", "new": "X", "diff": {"kind": "replaced", "old": "S", "new": "X"}, "inferred": false, "unknown": false}]));
    let before: Vec<&str> = e0["before"].as_array().unwrap().iter().map(|p| p[0].as_str().unwrap()).collect();
    assert_eq!(before.len(), 8);
    // By cache row, and limited.
    let row = t["txn_row"].as_i64().unwrap();
    let t2 = call(&f.api, "transaction", json!({"txn_row": row, "limit": 5})).await;
    assert_eq!(t2["events"].as_array().unwrap().len(), 5);
    assert_eq!(t2["truncated"], true);
    assert_eq!(t2["event_count"], 40);
    let e = call_err(&f.api, "transaction", json!({"txid": "nope"})).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = call_err(&f.api, "transaction", json!({})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
}

/// A minimal RFC 4180 reader, to prove the export parses back.
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                c => field.push(c),
            }
        }
    }
    rows
}

#[tokio::test]
async fn exports_parse_back() {
    let f = demo_fixture().await;
    let all = all_events(&f);
    let x = call(&f.api, "export_events", json!({"format": "csv"})).await;
    assert_eq!(x["filename"], "events.csv");
    assert_eq!(x["rows"], json!(all.len()));
    let rows = parse_csv(x["text"].as_str().unwrap());
    assert_eq!(rows.len(), all.len() + 1);
    assert_eq!(rows[0], events::EVENTS_CSV_HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    for (r, e) in rows[1..].iter().zip(&all) {
        assert_eq!(r.len(), 15);
        assert_eq!(r[0], e.id.to_string());
        let j = e.to_json();
        // Images are JSON text with commas, quotes and newlines, and come back intact.
        assert_eq!(serde_json::from_str::<Value>(&r[12]).unwrap_or(Value::Null), j["after"]);
    }
    // JSON Lines is the scripting contract.
    let x = call(&f.api, "export_events", json!({"format": "json", "filter": {"table": "shp"}, "limit": 10})).await;
    assert_eq!(x["truncated"], true);
    let lines: Vec<Value> = x["text"].as_str().unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let shp: Vec<Value> = all.iter().filter(|e| e.table == "shp").take(10).map(|e| e.to_json()).collect();
    assert_eq!(lines, shp);
    // Newest first, as the Changes list shows it by default: a cap keeps the newest rows (the
    // ones at the top of the list) and says how many matched.
    let x = call(&f.api, "export_events", json!({"format": "json", "filter": {"table": "shp"}, "limit": 10, "newest_first": true})).await;
    assert_eq!(x["truncated"], true);
    let n_shp = all.iter().filter(|e| e.table == "shp").count();
    assert_eq!(x["total"], json!(n_shp));
    let ids: Vec<i64> = x["text"].as_str().unwrap().lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_i64().unwrap()).collect();
    let newest: Vec<i64> = all.iter().rev().filter(|e| e.table == "shp").take(10).map(|e| e.id).collect();
    assert_eq!(ids, newest);
    // A record's history.
    let (table, key) = f.info.sample_record.clone();
    let h = call(&f.api, "export_history", json!({"table": table, "key": [key], "format": "csv"})).await;
    assert_eq!(h["filename"], format!("shp-{key}-history.csv"));
    let rows = parse_csv(h["text"].as_str().unwrap());
    assert_eq!(rows[0][7], "column");
    assert!(rows[1..].iter().all(|r| r.len() == super::records::HISTORY_CSV_HEADER.len()));
    assert!(rows.iter().any(|r| r[7] == "notes" && r[10].len() > 150));
    let j = call(&f.api, "export_history", json!({"table": table, "key": [key], "format": "json"})).await;
    let first: Value = serde_json::from_str(j["text"].as_str().unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["version"], 1);
    assert_eq!(first["op"], "insert");
}

/// A workspace whose cache holds one record captured as PostgreSQL sends a REPLICA IDENTITY
/// DEFAULT table: the history starts with an update whose old values were never sent.
async fn unknown_old_fixture() -> Fixture {
    use crate::cache::writer::{WriteOp, WriterHandle};
    use crate::event::{Cell, ChangeEvent, ColumnDef, Relation, TxnMeta};
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::resolve(Some(dir.path()));
    let cache = Cache::open(&ws.cache_path()).unwrap();
    let src = cache.add_source("prod", "postgres", &json!({})).unwrap();
    let mut w = WriterHandle::spawn(cache.path(), src.id).unwrap();
    let col = |name: &str, key| ColumnDef { name: name.into(), type_name: "text".into(), key };
    let relation = Relation { schema: "public".into(), table: "acct".into(), columns: vec![col("id", true), col("status", false), col("memo", false)] };
    let t = |s: &str| Cell::Text(s.into());
    let m = Cell::Missing;
    let begin = |n: i64| WriteOp::Begin(TxnMeta { txid: format!("{}", 700 + n), position: format!("0/{n:X}"), position_num: n, committed_us: 1_796_000_000_000_000 + n });
    let ev = |op, before, after| WriteOp::Event { relation: 7, event: ChangeEvent { op, before, after } };
    w.push(WriteOp::Relation { id: 7, relation }).await.unwrap();
    for op in [
        // The row existed before the source: the update sends only the new row.
        begin(1), ev(Op::Update, Some(vec![t("1"), m.clone(), m.clone()]), Some(vec![t("1"), t("frozen"), Cell::Null])), WriteOp::Commit,
        // Known from here on: a NULL memo set to text, then the record deleted.
        begin(2), ev(Op::Update, Some(vec![t("1"), m.clone(), m.clone()]), Some(vec![t("1"), t("frozen"), t("note")])), WriteOp::Commit,
        begin(3), ev(Op::Delete, Some(vec![t("1"), m.clone(), m.clone()]), None), WriteOp::Commit,
    ] {
        w.push(op).await.unwrap();
    }
    w.close().await.unwrap();
    let api = Api::open(&ws).unwrap();
    let info = DemoInfo { path: Default::default(), tables: vec!["acct".into()], events_written: 3, bad_batch_txid: String::new(), sample_record: ("acct".into(), "1".into()) };
    Fixture { _dir: dir, ws, api, info }
}

#[tokio::test]
async fn history_exports_tell_an_unknown_old_value_from_null() {
    let f = unknown_old_fixture().await;
    let h = call(&f.api, "export_history", json!({"table": "acct", "key": ["1"], "format": "csv"})).await;
    let rows = parse_csv(h["text"].as_str().unwrap());
    // The existing columns keep their places; the flag is added at the end.
    let header = ["version", "event_id", "committed_at", "source", "txid", "op", "context", "column", "type", "old", "new", "inferred", "old_unknown"];
    assert_eq!(rows[0], header);
    let cells: Vec<[&str; 5]> = rows[1..].iter().map(|r| [r[0].as_str(), r[7].as_str(), r[9].as_str(), r[10].as_str(), r[12].as_str()]).collect();
    assert_eq!(
        cells,
        vec![
            // version, column, old, new, old_unknown: an unknown old value and a NULL one are
            // both an empty field in `old`; the last column tells them apart.
            ["1", "status", "", "frozen", "true"],
            ["1", "memo", "", "", "true"],
            ["2", "memo", "", "note", "false"],
            ["3", "id", "1", "", "false"],
            ["3", "status", "frozen", "", "false"],
            ["3", "memo", "note", "", "false"],
        ]
    );
    // JSON Lines: the change objects say `unknown` (and `old` is null without meaning NULL).
    let j = call(&f.api, "export_history", json!({"table": "acct", "key": ["1"], "format": "json"})).await;
    let lines: Vec<Value> = j["text"].as_str().unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let flags = |v: &Value| -> Vec<(String, Value, bool)> {
        v["changes"].as_array().unwrap().iter().map(|c| (c["column"].as_str().unwrap().to_string(), c["old"].clone(), c["unknown"].as_bool().unwrap())).collect()
    };
    assert_eq!(flags(&lines[0]), vec![("status".into(), Value::Null, true), ("memo".into(), Value::Null, true)]);
    assert_eq!(flags(&lines[1]), vec![("memo".into(), Value::Null, false)]);
    assert_eq!(lines[0]["changes"][0]["diff"]["kind"], "unknown");
}

#[tokio::test]
async fn a_streamed_export_holds_every_row_in_the_lists_order() {
    let f = demo_fixture().await;
    let all = all_events(&f);
    // The demo's events span several chunks (64 KiB): order and seams in both orders.
    for newest_first in [true, false] {
        let req: events::ExportEventsRequest =
            serde_json::from_value(json!({"format": "json", "newest_first": newest_first})).unwrap();
        let mut s = f.api.export_events_stream(req).await.unwrap();
        assert_eq!(s.filename, "events.jsonl");
        let mut bytes = Vec::new();
        let mut chunks = 0;
        while let Some(c) = s.chunks.recv().await {
            bytes.extend(c.unwrap());
            chunks += 1;
        }
        assert!(chunks > 1, "streamed in chunks");
        let ids: Vec<i64> = String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_i64().unwrap())
            .collect();
        let mut want: Vec<i64> = all.iter().map(|e| e.id).collect();
        if newest_first {
            want.reverse();
        }
        assert_eq!(ids, want);
    }
    let req: events::ExportEventsRequest = serde_json::from_value(json!({"format": "csv", "newest_first": true, "filter": {"op": "delete"}})).unwrap();
    let mut s = f.api.export_events_stream(req).await.unwrap();
    let mut text = String::new();
    while let Some(c) = s.chunks.recv().await {
        text.push_str(&String::from_utf8(c.unwrap()).unwrap());
    }
    let rows = parse_csv(&text);
    let deletes: Vec<String> = all.iter().rev().filter(|e| e.op == Op::Delete).map(|e| e.id.to_string()).collect();
    assert_eq!(rows[1..].iter().map(|r| r[0].clone()).collect::<Vec<_>>(), deletes);
    // A bad filter is an error before any byte.
    let req: events::ExportEventsRequest = serde_json::from_value(json!({"format": "csv", "filter": {"since": "not a time"}})).unwrap();
    assert_eq!(f.api.export_events_stream(req).await.unwrap_err().code, ErrorCode::BadRequest);
}

/// Appends one transaction to the demo database through its capture triggers.
fn edit_demo(path: &std::path::Path, actor: &str) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(&format!(
        "BEGIN; UPDATE _rowtrail_context SET txn = txn + 1, actor = '{actor}', reason = 'test';
         UPDATE shp SET wt_g = coalesce(wt_g, 0) + 1 WHERE id = 1007; COMMIT;"
    ))
    .unwrap();
}

async fn next_matching(rx: &mut tokio::sync::broadcast::Receiver<ServerEvent>, what: impl Fn(&ServerEvent) -> bool) -> ServerEvent {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match rx.recv().await {
                Ok(e) if what(&e) => return e,
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("the event arrived in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_watch_pause_resume_and_events() {
    let f = demo_fixture().await;
    let mut rx = f.api.subscribe();
    edit_demo(&f.info.path, "tester");
    let started = call(&f.api, "sync_source", json!({"name": "demo"})).await;
    assert_eq!(started["started"], true);
    let id = started["task_id"].as_u64().unwrap();
    let done = next_matching(&mut rx, |e| matches!(e, ServerEvent::TaskFinished { .. })).await;
    assert_eq!(done, ServerEvent::TaskFinished { task_id: id, source: "demo".into(), kind: TaskKind::Sync, error: None });
    let added = next_matching(&mut rx, |e| matches!(e, ServerEvent::EventsAdded { .. })).await;
    let last = all_events(&f).last().unwrap().id;
    assert_eq!(added, ServerEvent::EventsAdded { source: "demo".into(), last_event_id: last });

    // Watch: a new edit arrives live, with progress and an EventsAdded.
    let w = call(&f.api, "watch_source", json!({"name": "demo"})).await;
    assert_eq!(w["kind"], "watch");
    next_matching(&mut rx, |e| matches!(e, ServerEvent::SourceState { state: LiveState::Live, .. })).await;
    let s = call(&f.api, "list_sources", json!({})).await;
    assert_eq!(s["sources"][0]["state"], "live");
    assert_eq!(s["sources"][0]["task"]["kind"], "watch");
    assert_eq!(s["sources"][0]["events_stored"], json!(all_events(&f).len()));
    edit_demo(&f.info.path, "live-tester");
    let added = next_matching(&mut rx, |e| matches!(e, ServerEvent::EventsAdded { .. })).await;
    let ServerEvent::EventsAdded { last_event_id, .. } = added else { unreachable!() };
    assert!(last_event_id > last);
    let page = call(&f.api, "list_events", json!({"filter": {"context": "live-tester"}})).await;
    assert_eq!(page["total"], 1);
    // Once capture is quiet, the value-search index catches up in the background.
    let c = Cache::open(&f.ws.cache_path()).unwrap();
    let indexed = || -> i64 { c.conn().query_row("SELECT last_event_id FROM search_progress", [], |r| r.get(0)).unwrap() };
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while indexed() < last_event_id {
        assert!(std::time::Instant::now() < deadline, "the search index did not catch up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A second watch request reuses the running task.
    let again = call(&f.api, "watch_source", json!({"name": "demo"})).await;
    assert_eq!(again["started"], false);
    assert_eq!(again["task_id"], w["task_id"]);

    // Pause: the task stops, the flag survives a restart, resume_watching skips it.
    let p = call(&f.api, "pause_source", json!({"name": "demo"})).await;
    assert_eq!(p["state"], "paused");
    assert_eq!(p["paused"], true);
    assert_eq!(p["task"], Value::Null);
    let api2 = Api::open(&f.ws).unwrap();
    assert!(api2.resume_watching().await.unwrap().is_empty());
    let s = call(&api2, "list_sources", json!({"slots": false})).await;
    assert_eq!(s["sources"][0]["state"], "paused");
    // Resume: watching again, and resumed on the next start.
    let r = call(&api2, "resume_source", json!({"name": "demo"})).await;
    assert_eq!(r["paused"], false);
    assert!(r["task"].is_object());
    api2.shutdown().await;
    let api3 = Api::open(&f.ws).unwrap();
    assert_eq!(api3.resume_watching().await.unwrap().len(), 1);
    api3.shutdown().await;
    f.api.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_and_remove_a_sqlite_source() {
    let f = demo_fixture().await;
    let db = f.ws.dir().join("app.sqlite");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE item (id INTEGER PRIMARY KEY, label TEXT); CREATE TABLE note (body TEXT);").unwrap();
    }
    // Mistakes are said under the name given, a folder as a folder.
    let folder = f.ws.dir().join("somefolder");
    std::fs::create_dir(&folder).unwrap();
    let e = call_err(&f.api, "add_sqlite_source", json!({"name": "mine", "path": folder})).await;
    assert!(e.message.starts_with("source mine:") && e.message.contains("is a folder"), "{}", e.message);
    let text = f.ws.dir().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let e = call_err(&f.api, "add_sqlite_source", json!({"name": "mine", "path": text})).await;
    assert!(e.message.starts_with("source mine:"), "{}", e.message);
    let mut rx = f.api.subscribe();
    let added = call(&f.api, "add_sqlite_source", json!({"name": "app", "path": db})).await;
    assert_eq!(added["tables"], json!(["item", "note"]));
    assert_eq!(added["source"]["kind"], "sqlite");
    assert_eq!(added["task"]["kind"], "watch");
    assert!(added["warnings"][0].as_str().unwrap().contains("note"));
    next_matching(&mut rx, |e| matches!(e, ServerEvent::SourceState { source, state: LiveState::Live, .. } if source == "app")).await;
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("INSERT INTO item VALUES (1, '<img src=x onerror=alert(1)>')").unwrap();
    }
    next_matching(&mut rx, |e| matches!(e, ServerEvent::EventsAdded { source, .. } if source == "app")).await;
    let page = call(&f.api, "list_events", json!({"filter": {"source": "app"}})).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["events"][0]["summary"], "inserted: label=<img src=x onerror=alert…");
    let before = call(&f.api, "count_events", json!({})).await["count"].as_u64().unwrap();
    let removed = call(&f.api, "remove_source", json!({"name": "app", "drop_upstream": true})).await;
    assert_eq!(removed, json!({"name": "app", "dropped_upstream": true}));
    let after = call(&f.api, "count_events", json!({})).await["count"].as_u64().unwrap();
    assert_eq!(after, before - 1);
    let e = call_err(&f.api, "list_events", json!({"filter": {"source": "app"}})).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    let tables: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_master WHERE name LIKE '_rowtrail%'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0, "drop_upstream removed the triggers and log");
    f.api.shutdown().await;
}

#[tokio::test]
async fn passwords_never_appear_in_answers() {
    let f = demo_fixture().await;
    // Nothing listens on port 1: the connection is refused at once.
    let url = "postgres://ana:S3cretPw@127.0.0.1:1/shop";
    let t = call(&f.api, "test_connection", json!({"url": url})).await;
    assert_eq!(t["reachable"], false);
    assert!(!t.to_string().contains("S3cretPw"), "{t}");
    assert_eq!(t["target"], "postgres://ana@127.0.0.1:1/shop?sslmode=disable");
    let t = call(&f.api, "test_connection", json!({"url": "postgres://ana@127.0.0.1:1/shop", "password": "0therPw"})).await;
    assert!(!t.to_string().contains("0therPw"));
    let e = call_err(&f.api, "plan_pg_source", json!({"name": "prod", "url": url})).await;
    assert_eq!(e.code, ErrorCode::SourceError);
    assert!(!e.message.contains("S3cretPw"), "{}", e.message);
    let e = call_err(&f.api, "plan_pg_source", json!({"name": "prod", "url": "mysql://x"})).await;
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert!(e.message.starts_with("url:"));
    let e = call_err(&f.api, "create_pg_source", json!({"name": "prod", "url": url, "password": "S3cretPw", "statements": []})).await;
    assert!(!e.message.contains("S3cretPw"), "{}", e.message);
}

#[tokio::test]
async fn calls_are_send_and_ids_grow_with_transactions() {
    fn assert_send<T: Send>(_: &T) {}
    let f = demo_fixture().await;
    let fut = f.api.call("list_events", json!({}));
    assert_send(&fut);
    drop(fut);
    // Paging and time lookups rely on it: a later transaction's events have higher ids.
    let c = Cache::open(&f.ws.cache_path()).unwrap();
    let out_of_order: i64 = c
        .conn()
        .query_row(
            "SELECT count(*) FROM (SELECT txn_id, lag(txn_id) OVER (ORDER BY id) AS prev FROM events) WHERE txn_id < prev",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(out_of_order, 0);
    assert!(COMMANDS.contains(&"event_ids_at") || COMMANDS.contains(&"events_at"));
}
