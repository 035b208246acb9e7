//! Measures the event list on a large cache (ignored by default: it builds 1,000,000 events).
//!
//! ```sh
//! cargo test -p rowtrail-core --release api::bench -- --ignored --nocapture
//! ROWTRAIL_API_BENCH_EVENTS=200000 ROWTRAIL_API_BENCH_CACHE=/tmp/big.sqlite cargo test …  # keep the cache
//! ```

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::Api;
use crate::cache::{Cache, WriteOp, WriterHandle};
use crate::event::{Cell, ChangeEvent, ColumnDef, Op, Relation, TxnMeta};

const BASE_US: i64 = 1_780_000_000_000_000;

fn rel(table: &str, cols: &[(&str, &str, bool)]) -> Relation {
    Relation {
        schema: "public".into(),
        table: table.into(),
        columns: cols
            .iter()
            .map(|(n, t, k)| ColumnDef {
                name: n.to_string(),
                type_name: t.to_string(),
                key: *k,
            })
            .collect(),
    }
}

fn shp(id: u64, v: u64) -> Vec<Cell> {
    let st = ["P", "S", "D", "X"][(v % 4) as usize];
    let city = if v % 100 == 3 { "Rotterdam" } else { ["Lyon", "Porto", "Gdansk", "Leeds"][(v % 4) as usize] };
    let t = |s: String| Cell::Text(s);
    vec![
        t(id.to_string()),
        t(format!("C{:05}", id % 5000)),
        t(st.into()),
        t(((id * 37 + v * 11) % 90_000).to_string()),
        t(["NL", "DE", "FR", "PL"][(id % 4) as usize].into()),
        t(format!("Deliver to the {city} depot; call ahead, fragile goods, revision {v} of the notes for shipment {id}.")),
    ]
}

fn ln(shp: u64, no: u64, v: u64) -> Vec<Cell> {
    let t = |s: String| Cell::Text(s);
    vec![t(shp.to_string()), t(no.to_string()), t(format!("SKU-{}", (shp * 7 + no) % 997)), t((1 + v % 9).to_string())]
}

/// Builds `n` events: shipments (20,000 records; shipment 42 gets one version every 1000
/// events), lines inserted and deleted, three events per transaction, 20 actors plus a rare one.
async fn build(path: &std::path::Path, n: u64) {
    let cache = Cache::open(path).unwrap();
    let src = cache.add_source("big", "postgres", &json!({"url": "postgres://x@localhost/x", "slot": "rowtrail_big", "publications": [], "scope": {"kind": "all"}})).unwrap();
    drop(cache);
    let mut w = WriterHandle::spawn(path, src.id).unwrap();
    w.push(WriteOp::Relation {
        id: 1,
        relation: rel("shp", &[("id", "bigint", true), ("cust_ref_cd", "text", false), ("st", "text", false), ("wt_g", "integer", false), ("dst_cc", "text", false), ("notes", "text", false)]),
    })
    .await
    .unwrap();
    w.push(WriteOp::Relation {
        id: 2,
        relation: rel("ln", &[("shp_id", "bigint", true), ("ln_no", "integer", true), ("sku", "text", false), ("qty", "integer", false)]),
    })
    .await
    .unwrap();
    let mut txn = 0i64;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..n {
        if i % 3 == 0 {
            if i > 0 {
                w.push(WriteOp::Commit).await.unwrap();
                w.boundary().await.unwrap();
            }
            txn += 1;
            w.push(WriteOp::Begin(TxnMeta {
                txid: (1000 + txn).to_string(),
                position: format!("0/{:X}", txn * 4096),
                position_num: txn * 4096,
                committed_us: BASE_US + txn * 1_000_000,
            }))
            .await
            .unwrap();
            let actor = if txn % 1000 == 7 { "auditor@example.com".to_string() } else { format!("user{}@example.com", txn % 20) };
            w.push(WriteOp::Context { key: "actor".into(), value: actor }).await.unwrap();
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (relation, event) = if i < 20_000 {
            (1, ChangeEvent { op: Op::Insert, before: None, after: Some(shp(i + 1, 0)) })
        } else if i % 1000 == 500 {
            (1, ChangeEvent { op: Op::Update, before: Some(shp(42, i - 1)), after: Some(shp(42, i)) })
        } else {
            match x % 100 {
                0..=84 => {
                    let id = 1 + x / 100 % 20_000;
                    (1, ChangeEvent { op: Op::Update, before: Some(shp(id, i - 1)), after: Some(shp(id, i)) })
                }
                85..=94 => (2, ChangeEvent { op: Op::Insert, before: None, after: Some(ln(1 + i % 20_000, i, 0)) }),
                _ => (2, ChangeEvent { op: Op::Delete, before: Some(ln(1 + i % 20_000, i - 5, 0)), after: None }),
            }
        };
        w.push(WriteOp::Event { relation, event }).await.unwrap();
    }
    w.push(WriteOp::Commit).await.unwrap();
    w.close().await.unwrap();
}

async fn timed(api: &Api, cmd: &str, args: Value) -> (Duration, Value) {
    let t = Instant::now();
    let v = api.call(cmd, args.clone()).await.unwrap_or_else(|e| panic!("{cmd} {args}: {e}"));
    (t.elapsed(), v)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "builds a cache of 1,000,000 events; run with --ignored --nocapture"]
async fn paging_on_a_large_cache() {
    let n: u64 = std::env::var("ROWTRAIL_API_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var_os("ROWTRAIL_API_BENCH_CACHE").map(std::path::PathBuf::from).unwrap_or_else(|| dir.path().join("cache.sqlite"));
    if !path.exists() {
        let t = Instant::now();
        build(&path, n).await;
        println!("built {n} events in {:.1} s ({} MB)", t.elapsed().as_secs_f64(), std::fs::metadata(&path).map(|m| m.len() / 1_000_000).unwrap_or(0));
    }
    let t = Instant::now();
    let api = Api::new(path.parent().unwrap(), &path).unwrap();
    println!("open: {}", ms(t.elapsed()));
    let total = api.call("count_events", json!({})).await.unwrap()["count"].as_u64().unwrap();
    println!("events: {total}");

    let filters = [
        ("none", json!({})),
        ("table=ln (single table)", json!({"table": "ln"})),
        ("op=delete (sparse, 5%)", json!({"op": "delete"})),
        ("since/until (middle third)", json!({"since": crate::time_fmt::format_us(BASE_US + (total as i64 / 9) * 1_000_000), "until": crate::time_fmt::format_us(BASE_US + (2 * total as i64 / 9) * 1_000_000)})),
        ("context=auditor (0.1%)", json!({"context": "auditor@"})),
        ("column=st, table=shp", json!({"table": "shp", "column": "st"})),
        ("search=Rotterdam (1%)", json!({"search": "Rotterdam"})),
    ];
    println!("\n| filter | matches | first count (index build) | count again | first page | page at 70% | 20 random pages: median / max | keyset page near end |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, f) in &filters {
        let (first, c) = timed(&api, "count_events", json!({"filter": f, "budget_ms": 600_000})).await;
        let m = c["count"].as_u64().unwrap();
        let (again, _) = timed(&api, "count_events", json!({"filter": f})).await;
        let (page, _) = timed(&api, "list_events", json!({"filter": f, "limit": 100})).await;
        let (at70, p70) = timed(&api, "events_at", json!({"filter": f, "index": m * 7 / 10, "limit": 100})).await;
        let mut times = Vec::new();
        let mut s: u64 = 12345;
        for _ in 0..20 {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let idx = if m == 0 { 0 } else { (s >> 33) % m };
            times.push(timed(&api, "events_at", json!({"filter": f, "index": idx, "limit": 100})).await.0);
        }
        times.sort();
        let last_id = p70["events"].as_array().and_then(|e| e.last()).and_then(|e| e["id"].as_i64()).unwrap_or(0);
        let (keyset, _) = timed(&api, "list_events", json!({"filter": f, "after_id": last_id, "limit": 100})).await;
        println!(
            "| {name} | {m} | {} | {} | {} | {} | {} / {} | {} |",
            ms(first), ms(again), ms(page), ms(at70), ms(times[10]), ms(times[19]), ms(keyset)
        );
    }
    let at = crate::time_fmt::format_us(BASE_US + (total as i64 / 3 * 7 / 10) * 1_000_000);
    let (d, r) = timed(&api, "locate_time", json!({"at": at})).await;
    println!("\nlocate_time at 70%: {} (index {})", ms(d), r["index"]);
    let (d, r) = timed(&api, "locate_time", json!({"at": at, "filter": {"table": "ln"}})).await;
    println!("locate_time at 70%, table=ln: {} (index {})", ms(d), r["index"]);
    let (d, h) = timed(&api, "record_history", json!({"table": "shp", "key": [42]})).await;
    println!("record_history of a record with {} versions: {}", h["versions"].as_array().unwrap().len(), ms(d));
    let (d, _) = timed(&api, "compare_versions", json!({"table": "shp", "key": [42], "from": 1, "to": 900})).await;
    println!("compare_versions 1 → 900: {}", ms(d));
    let (d, _) = timed(&api, "list_sources", json!({"slots": false})).await;
    println!("list_sources: {}", ms(d));
    let (d, _) = timed(&api, "list_tables", json!({})).await;
    println!("list_tables: {}", ms(d));
    let (d, _) = timed(&api, "workspace_info", json!({})).await;
    println!("workspace_info: {}", ms(d));
    let (d, t) = timed(&api, "transaction", json!({"txid": "5000"})).await;
    println!("transaction: {} ({} events)", ms(d), t["event_count"]);
}
