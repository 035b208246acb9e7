//! Installing and removing capture.

use super::*;

#[tokio::test]
async fn install_is_idempotent_and_uninstall_removes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", false);
    app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE u (id INTEGER PRIMARY KEY); CREATE VIEW w AS SELECT * FROM t;")
        .unwrap();
    install(&db, Some(&["t".to_string()])).unwrap();
    install(&db, Some(&["T".to_string()])).unwrap();
    let err = install(&db, Some(&["nope".to_string()])).unwrap_err();
    assert!(err.to_string().contains("no table named \"nope\""), "{err}");
    let err = install(&db, Some(&["w".to_string()])).unwrap_err();
    assert!(err.to_string().contains("view"), "{err}");
    let err = install(&db, Some(&["_rowtrail_log".to_string()])).unwrap_err();
    assert!(err.to_string().contains("internal"), "{err}");
    let count = |sql: &str| -> i64 { app.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"),
        3
    );
    assert_eq!(count("SELECT count(*) FROM _rowtrail_context"), 1);
    app.execute_batch("INSERT INTO t VALUES (1, 'a'); INSERT INTO u VALUES (1);")
        .unwrap();
    assert_eq!(count("SELECT count(*) FROM _rowtrail_log"), 1);
    let report = install(&db, None).unwrap();
    assert_eq!(report.tables.len(), 2);
    assert_eq!(
        count("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"),
        6
    );
    assert_eq!(
        count("SELECT count(*) FROM _rowtrail_log"),
        1,
        "the log is kept"
    );

    uninstall(&db).unwrap();
    assert_eq!(
        count("SELECT count(*) FROM sqlite_schema WHERE name LIKE '%rowtrail%' OR sql LIKE '%rowtrail%'"),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM sqlite_sequence WHERE name LIKE '%rowtrail%'"),
        0
    );
    app.execute_batch("INSERT INTO t VALUES (2, 'b'); UPDATE t SET v = 'c'; DELETE FROM t;")
        .unwrap();
    uninstall(&db).unwrap();

    // Reading without capture installed says what to do.
    let cache_path = dir.path().join("cache.sqlite");
    let mut src = SqliteSource::new("app", &db);
    let (res, _) = capture_with(&mut src, &cache_path).await;
    assert!(
        matches!(res, Err(SourceError::Prerequisite { .. })),
        "{res:?}"
    );
    let mut missing = SqliteSource::new("gone", &dir.path().join("missing.sqlite"));
    let (res, _) = capture_with(&mut missing, &cache_path).await;
    match res {
        Err(SourceError::Connect { target, .. }) => assert!(target.ends_with("missing.sqlite")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reinstalled_log_is_reported_as_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", false);
    app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
        .unwrap();
    install(&db, None).unwrap();
    app.execute_batch("INSERT INTO t VALUES (1, 'a'), (2, 'b');")
        .unwrap();
    let cache_path = dir.path().join("cache.sqlite");
    capture(&db, &cache_path).await;
    uninstall(&db).unwrap();
    install(&db, None).unwrap();
    app.execute_batch("INSERT INTO t VALUES (3, 'c');").unwrap();
    let mut src = SqliteSource::new("app", &db);
    let (res, _) = capture_with(&mut src, &cache_path).await;
    assert!(matches!(res, Err(SourceError::Gap { .. })), "{res:?}");
}
