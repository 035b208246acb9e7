//! How log rows become transactions: exact when the application numbers them, otherwise
//! statement groups that say so.

use super::*;
use crate::api::events::{transaction, TransactionRequest};
use crate::api::Api;

/// `n` single-row INSERT statements into `t` from `first_id` on, in one transaction, numbered
/// through the context row when `actor` is given.
fn many_statements(conn: &Connection, actor: Option<&str>, first_id: i64, n: i64) {
    conn.execute_batch("BEGIN").unwrap();
    if let Some(actor) = actor {
        conn.execute(
            "UPDATE _rowtrail_context SET txn = txn + 1, actor = ?1, reason = NULL",
            [actor],
        )
        .unwrap();
    }
    let mut stmt = conn
        .prepare("INSERT INTO t (id, v) VALUES (?1, 'x')")
        .unwrap();
    for id in first_id..first_id + n {
        stmt.execute([id]).unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
}

/// `(txid, event_count, grouping)` of every stored transaction, in commit order.
fn transactions(cache_path: &Path) -> Vec<(String, i64, Option<String>)> {
    let cache = Cache::open(cache_path).unwrap();
    let mut stmt = cache
        .conn()
        .prepare("SELECT txid, event_count, grouping FROM transactions ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[tokio::test]
async fn numbered_commits_stay_whole_and_separate_across_connections() {
    let dir = tempfile::tempdir().unwrap();
    let (db, a) = app_db(dir.path(), "app.sqlite", true);
    a.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
        .unwrap();
    install(&db, None).unwrap();
    let b = Connection::open(&db).unwrap();
    b.busy_timeout(Duration::from_secs(5)).unwrap();
    // A 2,000-row commit of 2,000 statements, spread over many milliseconds.
    many_statements(&a, Some("bulk"), 1, 2_000);
    // Two connections' commits alternating, each of several statements.
    many_statements(&b, Some("b"), 10_001, 3);
    many_statements(&a, Some("a"), 20_001, 3);
    many_statements(&b, Some("b"), 30_001, 3);
    // Truly concurrent: B starts its transaction while A is inside one; SQLite makes B wait for
    // A's commit, so their rows never mix and each keeps its own number.
    a.execute_batch("BEGIN; UPDATE _rowtrail_context SET txn = txn + 1, actor = 'a2';")
        .unwrap();
    a.execute("INSERT INTO t (id, v) VALUES (40001, 'x')", [])
        .unwrap();
    let db2 = db.clone();
    let waiting = std::thread::spawn(move || {
        let b = Connection::open(&db2).unwrap();
        b.busy_timeout(Duration::from_secs(10)).unwrap();
        many_statements(&b, Some("b2"), 50_001, 2);
    });
    std::thread::sleep(Duration::from_millis(50));
    a.execute("INSERT INTO t (id, v) VALUES (40002, 'x')", [])
        .unwrap();
    a.execute_batch("COMMIT").unwrap();
    waiting.join().unwrap();
    let cache_path = dir.path().join("cache.sqlite");
    let mut src = SqliteSource::new("app", &db).with_chunk_rows(700);
    let (res, d) = capture_with(&mut src, &cache_path).await;
    res.unwrap();
    assert_eq!((d.events, d.transactions), (2_013, 6));
    let expect: Vec<(String, i64, Option<String>)> = [
        ("1", 2_000),
        ("2", 3),
        ("3", 3),
        ("4", 3),
        ("5", 2),
        ("6", 2),
    ]
    .iter()
    .map(|(t, n)| (t.to_string(), *n, None))
    .collect();
    assert_eq!(transactions(&cache_path), expect);
    let ev = all_events(&cache_path);
    assert!(ev.iter().all(|e| e.grouping.is_none()));
    assert!(ev[0].to_json().get("grouping").is_none());
    let actors: Vec<&str> = [0, 2_000, 2_003, 2_006, 2_009, 2_011]
        .iter()
        .map(|&i| ev[i].context["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["bulk", "b", "a", "b", "a2", "b2"]);
}

#[tokio::test]
async fn unnumbered_changes_are_statement_groups_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", true);
    app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
        .unwrap();
    install(&db, None).unwrap();
    // One statement of 2,000 rows is one group.
    app.execute_batch(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO t SELECT i, 'x' FROM n;",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(3));
    // A commit of 500 statements cannot be told apart from 500 commits: several groups, each
    // labelled a statement group.
    many_statements(&app, None, 5_001, 500);
    std::thread::sleep(Duration::from_millis(3));
    // A numbered transaction afterwards is a transaction again.
    many_statements(&app, Some("ana"), 9_001, 2);
    let cache_path = dir.path().join("cache.sqlite");
    let d = capture(&db, &cache_path).await;
    assert_eq!(d.events, 2_502);
    let txns = transactions(&cache_path);
    assert_eq!(
        txns[0],
        ("1".to_string(), 2_000, Some("statement".to_string()))
    );
    let (last, groups) = txns.split_last().unwrap();
    assert_eq!(last, &("1".to_string(), 2, None));
    assert!(groups.len() >= 2, "{} groups", groups.len());
    assert!(groups.iter().all(|g| g.2.as_deref() == Some("statement")));
    assert_eq!(groups.iter().map(|g| g.1).sum::<i64>(), 2_500);

    // Every face sees the label: the JSON lines and the API's list and transaction.
    let ev = all_events(&cache_path);
    assert_eq!(ev[0].to_json()["grouping"], "statement");
    assert!(ev.last().unwrap().to_json().get("grouping").is_none());
    let api = Api::new(dir.path(), &cache_path).unwrap();
    let detail = transaction(
        &api,
        TransactionRequest {
            txn_row: Some(ev[0].txn_row),
            source: None,
            txid: None,
            limit: Some(1),
        },
    )
    .await
    .unwrap();
    assert_eq!(detail.grouping.as_deref(), Some("statement"));
    assert_eq!(detail.event_count, 2_000);
    let json = serde_json::to_value(&detail).unwrap();
    assert_eq!(json["grouping"], "statement");
    assert_eq!(json["events"][0]["event"]["grouping"], "statement");
    let numbered = transaction(
        &api,
        TransactionRequest {
            txn_row: Some(ev.last().unwrap().txn_row),
            source: None,
            txid: None,
            limit: Some(1),
        },
    )
    .await
    .unwrap();
    assert!(serde_json::to_value(&numbered)
        .unwrap()
        .get("grouping")
        .is_none());
}
