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
    match res {
        Err(e @ SourceError::Prerequisite { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("`rowtrail source add sqlite NEWNAME --path "),
                "names a real command: {text}"
            );
        }
        other => panic!("{other:?}"),
    }
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
    match res {
        Err(e @ SourceError::Gap { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("`rowtrail source add sqlite NEWNAME --path "),
                "{text}"
            );
            assert!(
                !text.contains("emove the source"),
                "never advises deleting history: {text}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn refresh_restores_triggers_of_a_recreated_table_and_skips_dropped_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", false);
    app.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE gone (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    install(&db, None).unwrap();
    // Dropping a table drops its triggers: the re-created one is no longer captured.
    app.execute_batch(
        "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, w TEXT); DROP TABLE gone;
         INSERT INTO t VALUES (1, 'lost', NULL);",
    )
    .unwrap();
    let plan = plan_refresh(&db).unwrap();
    assert_eq!(plan.gone, ["gone"]);
    assert_eq!(plan.tables.len(), 1);
    assert!(plan.tables[0].triggers_missing && plan.tables[0].added == ["w"]);
    let lines = plan.describe().join("\n");
    assert!(
        lines.contains("triggers missing") && lines.contains("gone"),
        "{lines}"
    );
    refresh(&db).unwrap();
    app.execute_batch("INSERT INTO t VALUES (2, 'kept', 'x');")
        .unwrap();
    let cache_path = dir.path().join("cache.sqlite");
    capture(&db, &cache_path).await;
    let ev = all_events(&cache_path);
    assert_eq!(ev.len(), 1);
    assert_eq!(
        img(&ev[0], true),
        serde_json::json!({"id": "2", "v": "kept", "w": "x"})
    );
    // Nothing captured any more: refreshing says so instead of capturing every table.
    app.execute_batch("DROP TABLE t; CREATE TABLE fresh (id INTEGER PRIMARY KEY);")
        .unwrap();
    app.execute_batch("DELETE FROM _rowtrail_tables;").unwrap();
    let err = refresh(&db).unwrap_err();
    assert!(err.to_string().contains("nothing to refresh"), "{err}");
}

#[test]
fn install_plan_lists_what_install_creates_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", false);
    app.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE notes (msg TEXT); CREATE VIEW w AS SELECT 1;",
    )
    .unwrap();
    let schema = |c: &Connection| -> Vec<String> {
        let mut stmt = c
            .prepare("SELECT name FROM sqlite_schema ORDER BY name")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let before = schema(&app);
    let plan = plan_install(&db, None).unwrap();
    assert_eq!(schema(&app), before, "planning changes nothing");
    assert_eq!(plan.tables, ["notes", "t"]);
    assert_eq!(plan.without_primary_key, ["notes"]);
    assert!(!plan.already_installed);
    let text = plan.describe("app").join("\n");
    assert!(text.contains("create the tables _rowtrail_log"), "{text}");
    assert!(text.contains("on 2 table(s): notes, t"), "{text}");
    assert!(
        text.contains("rowtrail source rm app --drop-slot"),
        "{text}"
    );
    let err = plan_install(&db, Some(&["w".to_string()])).unwrap_err();
    assert!(err.to_string().contains("view"), "{err}");
    // The plan is what install does.
    let report = install(&db, None).unwrap();
    assert_eq!(report.tables, plan.tables);
    let again = plan_install(&db, Some(&["T".to_string()])).unwrap();
    assert!(again.already_installed && again.tables == ["t"]);
    assert!(again.describe("app")[0].contains("keep the tables"));
}
