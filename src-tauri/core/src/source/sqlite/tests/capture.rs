//! Capturing changes: images, context, transaction grouping, following.

use super::*;

#[tokio::test]
async fn captures_inserts_updates_deletes_with_context_and_grouping() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", true);
    app.execute_batch(
        "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, price REAL, data BLOB, n INTEGER, note TEXT);",
    )
    .unwrap();
    let report = install(&db, None).unwrap();
    assert_eq!(report.tables, ["item"]);
    assert_eq!(report.details[0].key, vec!["id"]);
    assert!(report.without_primary_key.is_empty());
    let types: Vec<&str> = report.details[0]
        .columns
        .iter()
        .map(|c| c.type_name.as_str())
        .collect();
    assert_eq!(
        types,
        ["INTEGER", "TEXT", "REAL", "BLOB", "INTEGER", "TEXT"]
    );

    // Multi-row statement in one numbered transaction.
    app_txn(
        &app,
        "ana@example.com",
        Some("customer called"),
        "INSERT INTO item VALUES (1, 'bolt', 1.25, x'00ff', 7, NULL), (2, 'nut', 0.5, NULL, -3, 'a \"quoted\"\nline'), (3, 'gear', 10.0, x'', 0, '');",
    );
    app_txn(
        &app,
        "ops-bot",
        None,
        "UPDATE item SET name = 'hex bolt' WHERE id = 1;",
    );
    app_txn(
        &app,
        "ops-bot",
        Some("price list"),
        "UPDATE item SET price = price * 2 WHERE id <= 2; DELETE FROM item WHERE id = 3;",
    );

    let cache_path = dir.path().join("cache.sqlite");
    let d = capture(&db, &cache_path).await;
    assert_eq!(d.events, 7);
    assert_eq!(d.transactions, 3);
    assert_eq!(d.position, "7");
    assert_eq!(d.position_num, 7);

    let ev = all_events(&cache_path);
    assert_eq!(ev.len(), 7);
    let ops: Vec<Op> = ev.iter().map(|e| e.op).collect();
    assert_eq!(
        ops,
        [
            Op::Insert,
            Op::Insert,
            Op::Insert,
            Op::Update,
            Op::Update,
            Op::Update,
            Op::Delete
        ]
    );
    // Transaction 1: three inserts, one txid, position = its last log id, context.
    for e in &ev[..3] {
        assert_eq!(e.txid, "1");
        assert_eq!(e.position, "3");
        assert_eq!(e.context["actor"], "ana@example.com");
        assert_eq!(e.context["reason"], "customer called");
        assert_eq!(e.schema, "main");
        assert_eq!(e.table, "item");
    }
    assert_eq!(ev[3].txid, "2");
    assert_eq!(ev[3].context.get("reason"), None);
    assert_eq!(ev[3].context["actor"], "ops-bot");
    assert!(ev[4..].iter().all(|e| e.txid == "3" && e.position == "7"));
    let now = crate::time_fmt::now_us();
    assert!(ev.iter().all(|e| (now - e.committed_us).abs() < 60_000_000));

    assert_eq!(ev[0].key, vec![("id".to_string(), Some("1".to_string()))]);
    assert_eq!(
        img(&ev[0], true),
        serde_json::json!({"id": "1", "name": "bolt", "price": "1.25", "data": "\\x00ff", "n": "7", "note": null})
    );
    assert_eq!(img(&ev[1], true)["note"], "a \"quoted\"\nline");
    assert_eq!(img(&ev[1], true)["data"], serde_json::Value::Null);
    assert_eq!(img(&ev[2], true)["data"], "\\x");
    assert_eq!(img(&ev[2], true)["price"], "10.0");
    assert!(ev[0].before.is_none());
    assert_eq!(img(&ev[3], false)["name"], "bolt");
    assert_eq!(img(&ev[3], true)["name"], "hex bolt");
    assert_eq!(img(&ev[4], true)["price"], "2.5");
    assert_eq!(img(&ev[6], false)["name"], "gear");
    assert!(ev[6].after.is_none());
    let types: Vec<&str> = ev[0].columns.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(
        types,
        ["INTEGER", "TEXT", "REAL", "BLOB", "INTEGER", "TEXT"]
    );

    let hist = record(&cache_path, "item", r#"["1"]"#);
    assert_eq!(hist.len(), 3);
    assert_eq!(img(&hist[2], true)["price"], "2.5");
    assert_eq!(img(&hist[2], true)["name"], "hex bolt");

    // A second run stores nothing twice…
    let d = capture(&db, &cache_path).await;
    assert_eq!((d.events, d.transactions, d.skipped), (0, 0, 0));
    assert_eq!(all_events(&cache_path).len(), 7);
    // …and picks up only new rows.
    app_txn(
        &app,
        "ana@example.com",
        None,
        "INSERT INTO item (id, name) VALUES (4, 'washer');",
    );
    let d = capture(&db, &cache_path).await;
    assert_eq!((d.events, d.transactions), (1, 1));
    assert_eq!(d.position, "8");
    let ev = all_events(&cache_path);
    assert_eq!(ev.len(), 8);
    assert_eq!(ev[7].txid, "4");
    assert_eq!(txn_count(&cache_path), 4);
}

#[tokio::test]
async fn unnumbered_transactions_group_by_statement() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", false);
    app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
        .unwrap();
    install(&db, None).unwrap();
    app.execute_batch("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');")
        .unwrap();
    std::thread::sleep(Duration::from_millis(5));
    app.execute_batch("UPDATE t SET v = v || '!';").unwrap();
    std::thread::sleep(Duration::from_millis(5));
    app.execute_batch("DELETE FROM t WHERE id = 2;").unwrap();
    let cache_path = dir.path().join("cache.sqlite");
    let d = capture(&db, &cache_path).await;
    assert_eq!((d.events, d.transactions), (7, 3));
    let ev = all_events(&cache_path);
    let txids: Vec<&str> = ev.iter().map(|e| e.txid.as_str()).collect();
    // txid = the first log id of each statement's group; position = its last.
    assert_eq!(txids, ["1", "1", "1", "4", "4", "4", "7"]);
    let pos: Vec<&str> = ev.iter().map(|e| e.position.as_str()).collect();
    assert_eq!(pos, ["3", "3", "3", "6", "6", "6", "7"]);
    assert!(ev.iter().all(|e| e.context.is_empty()));
    assert!(ev
        .iter()
        .all(|e| e.grouping.as_deref() == Some("statement")));
}

#[tokio::test]
async fn large_transactions_stream_across_chunks_unsplit() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", true);
    app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);")
        .unwrap();
    install(&db, None).unwrap();
    // 1 small, 1 of 25 rows, 3 small, 1 unnumbered statement of 30 rows, 1 small.
    app_txn(&app, "a", None, "INSERT INTO t VALUES (1, 0);");
    app_txn(
        &app,
        "big",
        Some("bulk"),
        "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 26) INSERT INTO t SELECT i, i FROM n;",
    );
    for i in 0..3 {
        app_txn(
            &app,
            "b",
            None,
            &format!("UPDATE t SET v = v + 1 WHERE id = {};", i + 1),
        );
    }
    app.execute_batch("UPDATE _rowtrail_context SET txn = 0, actor = NULL, reason = NULL;")
        .unwrap();
    app.execute_batch("UPDATE t SET v = v * 10 WHERE id BETWEEN 1 AND 30;")
        .unwrap();
    std::thread::sleep(Duration::from_millis(5));
    app.execute_batch("DELETE FROM t WHERE id = 26;").unwrap();

    let cache_path = dir.path().join("cache.sqlite");
    let mut src = SqliteSource::new("app", &db).with_chunk_rows(7);
    let (res, d) = capture_with(&mut src, &cache_path).await;
    res.unwrap();
    assert_eq!(d.events, 1 + 25 + 3 + 26 + 1);
    assert_eq!(d.transactions, 7);
    let cache = Cache::open(&cache_path).unwrap();
    let counts: Vec<(String, String, i64)> = {
        let mut stmt = cache
            .conn()
            .prepare("SELECT txid, position, event_count FROM transactions ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    };
    let expect: Vec<(String, String, i64)> = [
        ("1", "1", 1),
        ("2", "26", 25),
        ("3", "27", 1),
        ("4", "28", 1),
        ("5", "29", 1),
        ("30", "55", 26),
        ("56", "56", 1),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
    .collect();
    assert_eq!(counts, expect);
    let big = cache
        .events(&EventFilter {
            txid: Some("2".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(big.len(), 25);
    assert!(big
        .iter()
        .all(|e| e.context["actor"] == "big" && e.context["reason"] == "bulk"));
}

#[tokio::test]
async fn follows_new_rows_until_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", true);
    app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
        .unwrap();
    install(&db, None).unwrap();
    app_txn(&app, "a", None, "INSERT INTO t VALUES (1, 'x');");
    drop(app);
    let cache_path = dir.path().join("cache.sqlite");
    let cache = Cache::open(&cache_path).unwrap();
    let rec = cache
        .add_source("app", "sqlite", &serde_json::json!({}))
        .unwrap();
    let mut writer = WriterHandle::spawn(&cache_path, rec.id).unwrap();
    let states = Arc::new(Mutex::new(Vec::<(SourceState, u64, String)>::new()));
    let s2 = states.clone();
    let cancel = CancellationToken::new();
    let o = RunOptions {
        until: RunUntil::Cancelled,
        cancel: cancel.clone(),
        progress: Some(Arc::new(move |p: &Progress| {
            s2.lock()
                .unwrap()
                .push((p.state, p.events, p.position.clone()));
        })),
    };
    let db2 = db.clone();
    let cache2 = cache_path.clone();
    let driver = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let app = Connection::open(&db2).unwrap();
        app_txn(
            &app,
            "b",
            Some("later"),
            "INSERT INTO t VALUES (2, 'y'); UPDATE t SET v = 'z' WHERE id = 1;",
        );
        let reader = Cache::open(&cache2).unwrap();
        for _ in 0..100 {
            if reader.event_count().unwrap() >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        cancel.cancel();
    });
    let mut src = SqliteSource::new("app", &db).with_poll_interval(Duration::from_millis(50));
    src.run(&mut writer, &o).await.unwrap();
    driver.await.unwrap();
    let d = writer.close().await.unwrap();
    assert_eq!((d.events, d.transactions), (3, 2));
    let ev = all_events(&cache_path);
    assert_eq!(ev[2].context["reason"], "later");
    let states = states.lock().unwrap().clone();
    assert_eq!(states.first().map(|s| s.0), Some(SourceState::Connecting));
    assert!(
        states.iter().any(|s| s.0 == SourceState::Live),
        "{states:?}"
    );
    let last = states.last().unwrap();
    assert_eq!(
        (last.0, last.1, last.2.as_str()),
        (SourceState::Stopped, 3, "3")
    );
}

#[test]
fn run_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let cache_path = dir.path().join("c.sqlite");
    let cache = Cache::open(&cache_path).unwrap();
    let rec = cache
        .add_source("s", "sqlite", &serde_json::json!({}))
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut writer = WriterHandle::spawn(&cache_path, rec.id).unwrap();
        let mut src = SqliteSource::new("s", &dir.path().join("none.sqlite"));
        let o = opts(RunUntil::CaughtUp);
        let fut = src.run(&mut writer, &o);
        assert_send(&fut);
        assert!(fut.await.is_err());
    });
}
