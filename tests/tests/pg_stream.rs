//! The PostgreSQL stream's transactions: identity, context, volume and resumption.
//!
//! Against a real server and a real SQLite cache, these tests prove that:
//! - a transactional logical decoding message (`pg_logical_emit_message(true, …)`) under the
//!   `rowtrail` prefix, or one the source was told to read, becomes the context (actor,
//!   reason) of every event of its transaction; a JSON null stays absent; a non-JSON message
//!   is kept under its prefix; other prefixes (a Debezium heartbeat) and non-transactional
//!   messages attach to nothing;
//! - many small transactions and one large one (tens of thousands of rows) are all stored,
//!   grouped by transaction, each event carrying the server's `txid_current()` and the
//!   transaction's commit LSN in PostgreSQL's `X/XXXXXXX` form;
//! - syncing again resumes exactly where the last sync stopped: no event twice, none missing,
//!   an idle sync stores nothing, and the slot's `confirmed_flush_lsn` reaches the cache's
//!   position so the server can free its WAL;
//! - a cache older than the slot (restored from a backup) is refused with a `Gap` error that
//!   says so, instead of silently missing the changes in between;
//! - a transaction that is still open while the stream idles (the server sends a keepalive
//!   whose position is exactly where that transaction's commit record will start) is stored
//!   when it commits, live and after a restart;
//! - a watch reports "catching up" while it reads a backlog and "live" as soon as it has read
//!   everything the server held, even when the server then stays silent, and stays live as
//!   new changes stream in.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{is_pg_lsn_text, lsn_num, wait_until, PgSrc};
use rowtrail_core::source::{RunOptions, RunUntil, SourceError, SourceState};
use rowtrail_core::sync;
use rowtrail_tests::connect;
use rowtrail_tests::tokio_postgres::Client;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// Runs `sql` (`;`-separated, no results) in one transaction and returns its
/// `txid_current()`, the WAL insert position just before COMMIT and just after it.
async fn txn(client: &Client, sql: &str) -> (String, u64, u64) {
    client.batch_execute("BEGIN").await.unwrap();
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let row = client
        .query_one(
            "SELECT txid_current()::text, pg_current_wal_insert_lsn()::text",
            &[],
        )
        .await
        .unwrap();
    client.batch_execute("COMMIT").await.unwrap();
    let after: String = client
        .query_one("SELECT pg_current_wal_insert_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    (row.get(0), lsn_num(row.get(1)), lsn_num(&after))
}

#[tokio::test]
async fn logical_messages_become_transaction_context() {
    let src = PgSrc::bare(
        "message",
        "CREATE TABLE orders (id int PRIMARY KEY, status text);
         INSERT INTO orders VALUES (1, 'paid'), (2, 'paid'), (3, 'paid');",
    )
    .await;
    {
        // As `source add pg … --context-prefix app.note` does.
        let cache = src.cache();
        let mut plan = sync::plan_postgres_source(
            &cache,
            &src.name,
            &src.db.url,
            None,
            rowtrail_core::source::postgres::catalog::TableScope::All,
            false,
        )
        .await
        .unwrap();
        plan.context_prefixes = vec!["app.note".into()];
        sync::create_postgres_source(&cache, &plan, None)
            .await
            .unwrap();
    }
    let client = src.client().await;
    let (t1, _, _) = txn(
        &client,
        r#"SELECT pg_logical_emit_message(true, 'rowtrail', '{"actor":"ana@example.com","reason":"refund"}');
           UPDATE orders SET status = 'refunded' WHERE id IN (1, 2);"#,
    )
    .await;
    let (t2, _, _) = txn(
        &client,
        "SELECT pg_logical_emit_message(true, 'app.note', 'plain text, not JSON');
         UPDATE orders SET status = 'noted' WHERE id = 3;",
    )
    .await;
    // Non-transactional messages, outside and inside a transaction: they are not part of it.
    client
        .batch_execute(
            r#"SELECT pg_logical_emit_message(false, 'rowtrail', '{"actor":"mallory"}')"#,
        )
        .await
        .unwrap();
    let (t3, _, _) = txn(
        &client,
        r#"SELECT pg_logical_emit_message(false, 'rowtrail', '{"actor":"eve","reason":"sneaky"}');
           UPDATE orders SET status = 'plain' WHERE id = 1;"#,
    )
    .await;
    // A message in a transaction that changes nothing captured does not leak into the next.
    txn(
        &client,
        r#"SELECT pg_logical_emit_message(true, 'rowtrail', '{"actor":"ghost"}');"#,
    )
    .await;
    let (t4, _, _) = txn(&client, "UPDATE orders SET status = 'last' WHERE id = 2;").await;
    // Another tool's messages are not context; a JSON null is no value.
    let (t5, _, _) = txn(
        &client,
        r#"SELECT pg_logical_emit_message(true, 'debezium-heartbeat', '{"actor":"not-rowtrail","ts":1}');
           SELECT pg_logical_emit_message(true, 'rowtrail', '{"actor":"bob","reason":null}');
           UPDATE orders SET status = 'checked' WHERE id = 3;"#,
    )
    .await;

    src.sync().await;
    let ev = src.events_json();
    // Only the events from this test's transactions (the rows were inserted before the source).
    assert_eq!(ev.len(), 6, "{ev:#?}");
    let by_txid = |t: &str| -> Vec<&Value> { ev.iter().filter(|e| e["txid"] == t).collect() };
    let e1 = by_txid(&t1);
    assert_eq!(e1.len(), 2);
    for e in e1 {
        assert_eq!(
            e["context"],
            json!({"actor": "ana@example.com", "reason": "refund"}),
            "both events of the refund transaction carry its context"
        );
    }
    let e2 = by_txid(&t2);
    assert_eq!(e2.len(), 1);
    assert_eq!(
        e2[0]["context"],
        json!({"app.note": "plain text, not JSON"})
    );
    let e3 = by_txid(&t3);
    assert_eq!(e3.len(), 1);
    assert_eq!(
        e3[0]["context"],
        json!({}),
        "non-transactional messages attach to nothing"
    );
    let e4 = by_txid(&t4);
    assert_eq!(e4.len(), 1);
    assert_eq!(
        e4[0]["context"],
        json!({}),
        "an earlier transaction's message does not leak"
    );
    let e5 = by_txid(&t5);
    assert_eq!(e5.len(), 1);
    assert_eq!(
        e5[0]["context"],
        json!({"actor": "bob"}),
        "only the rowtrail message counts, and its null reason stays absent"
    );
}

/// One row change: (table, key value, op).
type Row = (String, String, String);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_small_and_one_large_transaction_grouped_by_txid() {
    const LARGE: i64 = 50_000;
    const SMALL: usize = 200;
    let src = PgSrc::bare(
        "volume",
        &format!(
            "CREATE TABLE big (id int PRIMARY KEY, v int, pad text);
             INSERT INTO big SELECT g, 0, 'row ' || g FROM generate_series(1, {LARGE}) g;
             CREATE TABLE small (id int PRIMARY KEY, v text);"
        ),
    )
    .await;
    src.add_source().await;
    let client = src.client().await;

    // (txid, wal before commit, wal after commit, expected (table, id, op) in order)
    let mut log: Vec<(String, u64, u64, Vec<Row>)> = Vec::new();
    for i in 0..SMALL {
        let n = i % 3 + 1; // 1 to 3 rows per transaction
        let mut sql = String::new();
        let mut rows = Vec::new();
        for k in 0..n {
            let id = i * 3 + k;
            sql.push_str(&format!("INSERT INTO small VALUES ({id}, 'v{i}');"));
            rows.push(("small".to_string(), id.to_string(), "insert".to_string()));
        }
        if i % 10 == 9 {
            sql.push_str(&format!(
                "UPDATE small SET v = 'u{i}' WHERE id = {};",
                i * 3
            ));
            rows.push((
                "small".to_string(),
                (i * 3).to_string(),
                "update".to_string(),
            ));
        }
        let (txid, before, after) = txn(&client, &sql).await;
        log.push((txid, before, after, rows));
        if i == SMALL / 2 {
            let (txid, before, after) = txn(&client, "UPDATE big SET v = v + 1").await;
            let rows = (1..=LARGE)
                .map(|id| ("big".to_string(), id.to_string(), "update".to_string()))
                .collect();
            log.push((txid, before, after, rows));
        }
    }
    let expected_events: usize = log.iter().map(|t| t.3.len()).sum();

    let started = std::time::Instant::now();
    let d = src.sync().await;
    eprintln!(
        "stored {} events in {} transactions in {:.1}s",
        d.events,
        d.transactions,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(d.events as usize, expected_events);
    assert_eq!(d.transactions as usize, log.len());

    // Group the stored events by transaction, in stored order.
    let mut groups: Vec<(String, String, Vec<Row>)> = Vec::new();
    let mut committed_at: HashMap<String, HashSet<i64>> = HashMap::new();
    src.cache()
        .for_each_event(&Default::default(), |e| {
            let row = (
                e.table.clone(),
                e.key[0].1.clone().unwrap_or_default(),
                e.op.as_str().to_string(),
            );
            committed_at
                .entry(e.txid.clone())
                .or_default()
                .insert(e.committed_us);
            match groups.last_mut() {
                Some(g) if g.0 == e.txid => {
                    assert_eq!(g.1, e.position, "one position per transaction");
                    g.2.push(row);
                }
                _ => groups.push((e.txid.clone(), e.position.clone(), vec![row])),
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(
        groups.len(),
        log.len(),
        "each transaction's events are contiguous, in commit order"
    );
    let mut last_pos = 0;
    for ((txid, before, after, rows), (g_txid, g_pos, g_rows)) in log.iter().zip(&groups) {
        assert_eq!(g_txid, txid, "txid is the server's txid_current()");
        assert!(
            is_pg_lsn_text(g_pos),
            "position {g_pos:?} is PostgreSQL's LSN text"
        );
        let pos = lsn_num(g_pos);
        assert!(
            *before <= pos && pos < *after,
            "txid {txid}: position {g_pos} is the commit record's LSN, between {before:X} and {after:X}"
        );
        assert!(pos > last_pos, "positions increase in commit order");
        last_pos = pos;
        if rows.len() == LARGE as usize {
            // One UPDATE's rows come in physical order; compare as sets.
            let mut got: Vec<_> = g_rows.clone();
            got.sort();
            let mut want = rows.clone();
            want.sort();
            assert_eq!(got, want, "the large transaction is complete");
        } else {
            assert_eq!(g_rows, rows, "txid {txid}");
        }
        assert_eq!(
            committed_at[txid].len(),
            1,
            "one commit time per transaction"
        );
    }
    // The position text is exactly how the server prints that LSN.
    let (pos, _) = src
        .cache()
        .checkpoint(src.cache().source(&src.name).unwrap().id)
        .unwrap()
        .unwrap();
    let canon: String = client
        .query_one("SELECT $1::text::pg_lsn::text", &[&pos])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pos, canon);
}

#[tokio::test]
async fn resume_stores_exactly_the_union() {
    let src = PgSrc::new("resume", "CREATE TABLE t (id int PRIMARY KEY, v int);").await;
    let client = src.client().await;
    let source_id = src.cache().source(&src.name).unwrap().id;
    let mut txids = Vec::new();
    for i in 0..20 {
        let (txid, _, _) = txn(&client, &format!("INSERT INTO t VALUES ({i}, 0)")).await;
        txids.push(txid);
    }
    let d1 = src.sync().await;
    assert_eq!((d1.events, d1.transactions, d1.skipped), (20, 20, 0));
    let slot_vs_cache = |pos: String| {
        let (client, slot) = (&client, src.slot());
        async move {
            let row = client
                .query_one(
                    "SELECT confirmed_flush_lsn::text, confirmed_flush_lsn >= $2::text::pg_lsn
                     FROM pg_replication_slots WHERE slot_name = $1",
                    &[&slot, &pos],
                )
                .await
                .unwrap();
            (row.get::<_, String>(0), row.get::<_, bool>(1))
        }
    };
    let (pos1, _) = src
        .cache()
        .checkpoint(source_id)
        .unwrap()
        .expect("a checkpoint");
    let (confirmed, ok) = slot_vs_cache(pos1.clone()).await;
    assert!(
        ok,
        "slot confirmed {confirmed}, cache holds up to {pos1}: the slot must have caught up"
    );

    for i in 0..20 {
        let sql = match i % 3 {
            0 => format!("UPDATE t SET v = v + 1 WHERE id = {i}"),
            1 => format!("DELETE FROM t WHERE id = {i}"),
            _ => format!("INSERT INTO t VALUES ({}, 1)", 100 + i),
        };
        let (txid, _, _) = txn(&client, &sql).await;
        txids.push(txid);
    }
    let d2 = src.sync().await;
    assert_eq!(
        (d2.events, d2.transactions),
        (20, 20),
        "the second sync stores only the new changes"
    );
    let (pos2, _) = src.cache().checkpoint(source_id).unwrap().unwrap();
    assert!(lsn_num(&pos2) > lsn_num(&pos1));
    let (confirmed, ok) = slot_vs_cache(pos2.clone()).await;
    assert!(ok, "slot confirmed {confirmed}, cache holds up to {pos2}");

    let d3 = src.sync().await;
    assert_eq!(
        (d3.events, d3.transactions),
        (0, 0),
        "an idle sync stores nothing"
    );

    let ev = src.events();
    assert_eq!(ev.len(), 40);
    let stored_txids: Vec<&str> = ev.iter().map(|e| e.txid.as_str()).collect();
    assert_eq!(
        stored_txids, txids,
        "every transaction once, in commit order"
    );
    let mut seen = HashSet::new();
    for e in &ev {
        assert!(
            seen.insert((e.txid.clone(), e.op, e.key.clone())),
            "event stored twice: {}",
            e.to_json()
        );
    }
    // The slot can free WAL: after the idle sync it is not behind the cache either.
    let (pos3, _) = src.cache().checkpoint(source_id).unwrap().unwrap();
    let (confirmed, ok) = slot_vs_cache(pos3.clone()).await;
    assert!(ok, "slot confirmed {confirmed}, cache holds up to {pos3}");
}

/// Regression test for a lost-transaction bug. A keepalive's position is where the server's
/// decoding will continue; when the stream idles between a transaction's last change and its
/// commit, the commit record starts exactly at that position. Treating the keepalive position
/// as already done skips that transaction (live, and again on resume from the checkpoint).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_open_while_the_stream_idles_is_not_skipped() {
    const LIVE: i32 = 5;
    let src = PgSrc::new("idlecommit", "CREATE TABLE t (id int PRIMARY KEY, v text);").await;
    let admin = connect(&src.db.admin_url).await;
    let slot = src.slot();
    let watch = src.watch();
    let active = wait_until(Duration::from_secs(20), || async {
        admin
            .query_opt(
                "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active",
                &[&slot],
            )
            .await
            .unwrap()
            .is_some()
    })
    .await;
    assert!(active, "the source never started streaming");

    let a = connect(&src.db.url).await;
    let b = connect(&src.db.url).await;
    // Opens a transaction on `a` with one insert; then another session commits (flushing the
    // WAL up to its commit record, right before `a`'s commit record to come) and the stream
    // is given time to decode that far and idle.
    let open_and_idle = |i: i32| {
        let (a, b) = (&a, &b);
        async move {
            a.batch_execute(&format!("BEGIN; INSERT INTO t VALUES ({i}, 'v{i}')"))
                .await
                .unwrap();
            b.batch_execute("BEGIN; SELECT txid_current(); COMMIT")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(400)).await;
            let txid: String = a
                .query_one("SELECT txid_current()::text", &[])
                .await
                .unwrap()
                .get(0);
            txid
        }
    };
    let mut txids = Vec::new();
    for i in 0..LIVE {
        txids.push(open_and_idle(i).await);
        a.batch_execute("COMMIT").await.unwrap();
    }
    // (Gives the live stream its chance; the comparison below says what arrived.)
    wait_until(Duration::from_secs(10), || async {
        src.cache().event_count().unwrap_or(0) >= i64::from(LIVE)
    })
    .await;
    // Once more, but the source stops while the transaction is open and resumes after it
    // committed.
    txids.push(open_and_idle(LIVE).await);
    watch
        .stop()
        .await
        .unwrap_or_else(|e| panic!("the source failed: {e}"));
    a.batch_execute("COMMIT").await.unwrap();
    src.sync().await;

    let stored: Vec<(String, String)> = src
        .events_json()
        .iter()
        .map(|e| {
            (
                e["txid"].as_str().unwrap().to_string(),
                e["after"]["v"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = txids
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), format!("v{i}")))
        .collect();
    assert_eq!(
        stored, expected,
        "every transaction that was open while the stream idled is stored once it commits"
    );
}

#[tokio::test]
async fn a_cache_older_than_the_slot_reports_a_gap() {
    let src = PgSrc::new("gap", "CREATE TABLE t (id int PRIMARY KEY, v int);").await;
    src.db.exec("INSERT INTO t VALUES (1, 1)").await;
    assert_eq!(src.sync().await.events, 1);
    let backup = src.dir.path().join("backup.sqlite");
    src.cache()
        .conn()
        .execute_batch(&format!("VACUUM INTO '{}'", backup.display()))
        .unwrap();
    src.db.exec("INSERT INTO t VALUES (2, 2)").await;
    assert_eq!(src.sync().await.events, 1);

    // The user restores yesterday's cache: the slot has moved past it.
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", src.cache_path.display()));
    }
    std::fs::copy(&backup, &src.cache_path).unwrap();
    src.db.exec("INSERT INTO t VALUES (3, 3)").await;
    let opts = RunOptions {
        until: RunUntil::CaughtUp,
        cancel: CancellationToken::new(),
        progress: None,
    };
    let err = sync::run_source(&src.cache_path, &src.name, None, &opts)
        .await
        .expect_err("the cache misses the second insert: that must not pass silently");
    assert!(matches!(err, SourceError::Gap { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&src.slot()), "names the slot: {text}");
    let ids: Vec<String> = src
        .events()
        .iter()
        .map(|e| e.key[0].1.clone().unwrap())
        .collect();
    assert_eq!(ids, ["1"], "nothing stored past the gap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_reports_live_once_it_has_read_the_backlog() {
    const BACKLOG: i64 = 3_000;
    let src = PgSrc::new("livestate", "CREATE TABLE t (id int PRIMARY KEY, v text);").await;
    let client = connect(&src.db.url).await;
    for chunk in 0..3 {
        client
            .batch_execute(&format!(
                "INSERT INTO t SELECT g, 'v' || g FROM generate_series({}, {}) g",
                chunk * 1000 + 1,
                chunk * 1000 + 1000
            ))
            .await
            .unwrap();
    }
    let watch = src.watch();
    let states = || watch.states();
    // The server goes quiet after the backlog: no message says "done", yet the watch must
    // say it is live well before the walsender's periodic keepalive (wal_sender_timeout / 2).
    let live = wait_until(Duration::from_secs(10), || async {
        states().contains(&SourceState::Live)
    })
    .await;
    assert!(
        live,
        "no live report within 10 s of an idle server: {:?}",
        states()
    );
    let first_live = states()
        .iter()
        .position(|s| *s == SourceState::Live)
        .unwrap();
    assert!(
        states()[..first_live].contains(&SourceState::CatchingUp),
        "a backlog is reported as catching up first: {:?}",
        states()
    );
    let stored = wait_until(Duration::from_secs(10), || async {
        src.cache().event_count().unwrap_or(0) == BACKLOG
    })
    .await;
    assert!(stored, "the backlog is stored");
    // New changes stream in while live.
    client
        .batch_execute("UPDATE t SET v = 'w' WHERE id <= 10")
        .await
        .unwrap();
    let streamed = wait_until(Duration::from_secs(10), || async {
        src.cache().event_count().unwrap_or(0) == BACKLOG + 10
    })
    .await;
    assert!(streamed, "changes made while live are stored");
    let after_live: Vec<SourceState> = states()[first_live..].to_vec();
    assert!(
        after_live.iter().all(|s| *s == SourceState::Live),
        "once live, a watch does not fall back to catching up: {after_live:?}"
    );
    watch
        .stop()
        .await
        .unwrap_or_else(|e| panic!("the source failed: {e}"));
}
