//! Damaged log rows.

use super::*;

#[tokio::test]
async fn corrupt_log_row_is_a_decode_error_after_storing_everything_before() {
    for chunk in [DEFAULT_CHUNK_ROWS, 2] {
        let dir = tempfile::tempdir().unwrap();
        let (db, app) = app_db(dir.path(), "app.sqlite", true);
        app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
            .unwrap();
        install(&db, None).unwrap();
        app_txn(&app, "a", None, "INSERT INTO t VALUES (1, 'x');");
        app_txn(&app, "a", None, "INSERT INTO t VALUES (2, 'y'), (3, 'z');");
        // A transaction whose second row was damaged by hand (ids 4, 5, 6).
        app_txn(&app, "a", None, "UPDATE t SET v = 'w';");
        app.execute_batch("UPDATE _rowtrail_log SET new = '{\"id\": \"2\", \"v\": ' WHERE id = 5;")
            .unwrap();
        app_txn(&app, "a", None, "INSERT INTO t VALUES (4, 'after');");

        let cache_path = dir.path().join("cache.sqlite");
        let mut src = SqliteSource::new("app", &db).with_chunk_rows(chunk);
        let (res, d) = capture_with(&mut src, &cache_path).await;
        let err = res.unwrap_err();
        match &err {
            SourceError::Decode {
                source_name,
                position,
                detail,
            } => {
                assert_eq!(source_name, "app");
                assert_eq!(position, "5");
                assert!(detail.contains("row id 5"), "{detail}");
                assert!(detail.contains("app.sqlite"), "{detail}");
                assert!(detail.contains("not valid JSON"), "{detail}");
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
        assert!(err.to_string().contains("source app"));
        assert_eq!(d.position_num, 3, "chunk {chunk}");
        assert_eq!(all_events(&cache_path).len(), 3);
        // Resuming hits the same row again and stores nothing twice.
        let (res, d) = capture_with(&mut src, &cache_path).await;
        assert!(matches!(res, Err(SourceError::Decode { ref position, .. }) if position == "5"));
        assert_eq!((d.events, d.position_num), (0, 3));
        assert_eq!(all_events(&cache_path).len(), 3);
    }
}

#[test]
fn malformed_rows_are_decode_errors() {
    let row = |op: Option<&str>, old: Option<&str>, new: Option<&str>| RawRow {
        id: 9,
        txn: 0,
        stmt_at: Some("2026-11-02 09:14:03.120".into()),
        tbl: Some("t".into()),
        op: op.map(Into::into),
        old: old.map(Into::into),
        new: new.map(Into::into),
        actor: None,
        reason: None,
    };
    let err = |r: RawRow| decode_row(&r).err().unwrap();
    assert!(err(row(Some("upsert"), None, Some("{}"))).contains("unknown operation"));
    assert!(err(row(None, None, Some("{}"))).contains("unknown operation"));
    assert!(err(row(Some("insert"), None, Some("[1]"))).contains("not an object"));
    assert!(err(row(Some("insert"), None, None)).contains("insert without"));
    assert!(err(row(Some("update"), None, Some("{}"))).contains("update without"));
    assert!(err(row(Some("delete"), Some("{\"a\""), None)).contains("not valid JSON"));
    let ok = decode_row(&row(
        Some("update"),
        Some(r#"{"a":"1","n":2}"#),
        Some(r#"{"a":"2","n":null}"#),
    ))
    .unwrap();
    let cells: Vec<Cell> = ok
        .old
        .unwrap()
        .into_iter()
        .map(|(_, v)| value_cell(v))
        .collect();
    assert_eq!(cells, [Cell::Text("1".into()), Cell::Text("2".into())]);
    assert_eq!(
        commit_time(&row(None, None, None)).unwrap(),
        crate::time_fmt::parse_user_time("2026-11-02T09:14:03.120Z").unwrap()
    );
    let mut bad_time = row(None, None, None);
    bad_time.stmt_at = Some("yesterday".into());
    assert!(commit_time(&bad_time).unwrap_err().contains("yesterday"));
}
