//! Table shapes: added columns, hostile names, tables without a primary key, wide tables.

use super::*;

#[tokio::test]
async fn add_column_mid_stream_keeps_history_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", true);
    app.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT); CREATE TABLE other (id INTEGER PRIMARY KEY);",
    )
    .unwrap();
    install(&db, Some(&["t".to_string()])).unwrap();
    app_txn(&app, "x", None, "INSERT INTO t VALUES (1, 'one');");
    app.execute_batch("ALTER TABLE t ADD COLUMN b NUMERIC DEFAULT 5;")
        .unwrap();
    // Before the triggers are refreshed the old shape is still captured, and the source warns.
    app_txn(&app, "x", None, "UPDATE t SET a = 'uno' WHERE id = 1;");
    let cache_path = dir.path().join("cache.sqlite");
    let cache = Cache::open(&cache_path).unwrap();
    let rec = cache
        .add_source("app", "sqlite", &serde_json::json!({}))
        .unwrap();
    let messages = Arc::new(Mutex::new(Vec::<String>::new()));
    let m2 = messages.clone();
    let mut o = opts(RunUntil::CaughtUp);
    o.progress = Some(Arc::new(move |p: &Progress| {
        if let Some(m) = &p.message {
            m2.lock().unwrap().push(m.clone());
        }
    }));
    let mut writer = WriterHandle::spawn(&cache_path, rec.id).unwrap();
    SqliteSource::new("app", &db)
        .run(&mut writer, &o)
        .await
        .unwrap();
    writer.close().await.unwrap();
    let msgs = messages.lock().unwrap().clone();
    // The warning names a command that exists and does it.
    assert!(
        msgs.iter()
            .any(|m| m.contains("\"t\" (b)") && m.contains("`rowtrail source refresh app`")),
        "{msgs:?}"
    );
    let plan = plan_refresh(&db).unwrap();
    assert_eq!(plan.tables.len(), 1, "only the captured table: {plan:?}");
    assert_eq!(
        (plan.tables[0].name.as_str(), &plan.tables[0].added[..]),
        ("t", &["b".to_string()][..])
    );
    assert!(plan.changes_capture() && plan.gone.is_empty());
    assert!(plan.describe()[0].contains("log and its unread rows are kept"));
    let report = refresh(&db).unwrap();
    assert_eq!(report.tables, ["t"], "a refresh captures no new table");
    assert!(!plan_refresh(&db).unwrap().changes_capture());
    app_txn(&app, "x", None, "UPDATE t SET b = 7.5 WHERE id = 1;");
    app_txn(&app, "x", None, "INSERT INTO t (id, a) VALUES (2, 'two');");
    capture(&db, &cache_path).await;
    let hist = record(&cache_path, "t", r#"["1"]"#);
    assert_eq!(hist.len(), 3);
    assert_eq!(hist[0].columns.len(), 2);
    assert_eq!(hist[1].columns.len(), 2);
    assert_eq!(hist[2].columns.len(), 3);
    assert_eq!(hist[2].columns[2].type_name, "NUMERIC");
    assert_eq!(
        img(&hist[1], true),
        serde_json::json!({"id": "1", "a": "uno"})
    );
    assert_eq!(
        img(&hist[2], false),
        serde_json::json!({"id": "1", "a": "uno", "b": "5"})
    );
    assert_eq!(
        img(&hist[2], true),
        serde_json::json!({"id": "1", "a": "uno", "b": "7.5"})
    );
    let two = record(&cache_path, "t", r#"["2"]"#);
    assert_eq!(img(&two[0], true)["b"], "5");
}

#[tokio::test]
async fn hostile_identifiers_are_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", false);
    app.execute_batch(
        r#"CREATE TABLE "we""ird 'tab' select" ("key" INTEGER PRIMARY KEY, "order" TEXT, "a""b" TEXT, "spaced col" TEXT, "naïve" TEXT, "日本" TEXT, "'x'" TEXT, "{}:," TEXT);
           CREATE TABLE "a b" (id INTEGER PRIMARY KEY, v TEXT);
           CREATE TABLE "a-b" (id INTEGER PRIMARY KEY, v TEXT);
           CREATE TABLE "a_b" (id INTEGER PRIMARY KEY, v TEXT);
           CREATE TABLE "Ünïcödé" ("ключ" TEXT PRIMARY KEY, "值" TEXT);"#,
    )
    .unwrap();
    let report = install(&db, None).unwrap();
    assert_eq!(report.tables.len(), 5);
    let triggers: i64 = app
        .query_row(
            "SELECT count(DISTINCT name) FROM sqlite_schema WHERE type = 'trigger'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 15);
    app_txn(
        &app,
        "mallory\"; DROP TABLE x; --",
        Some("it's 'fine'"),
        r#"INSERT INTO "we""ird 'tab' select" VALUES (1, 'asc', 'q"q', 's p', 'café', '東京', 'it''s', '{"j":1}');
           UPDATE "we""ird 'tab' select" SET "order" = 'desc', "日本" = NULL WHERE "key" = 1;
           INSERT INTO "a b" VALUES (1, 'space');
           INSERT INTO "a-b" VALUES (1, 'dash');
           INSERT INTO "a_b" VALUES (1, 'underscore');
           INSERT INTO "Ünïcödé" VALUES ('ключ-1', '价值');
           DELETE FROM "Ünïcödé";"#,
    );
    let cache_path = dir.path().join("cache.sqlite");
    let d = capture(&db, &cache_path).await;
    assert_eq!(d.events, 7);
    let ev = all_events(&cache_path);
    assert_eq!(ev[0].table, "we\"ird 'tab' select");
    assert_eq!(ev[0].context["actor"], "mallory\"; DROP TABLE x; --");
    assert_eq!(ev[0].context["reason"], "it's 'fine'");
    assert_eq!(
        img(&ev[0], true),
        serde_json::json!({"key": "1", "order": "asc", "a\"b": "q\"q", "spaced col": "s p",
            "naïve": "café", "日本": "東京", "'x'": "it's", "{}:,": "{\"j\":1}"})
    );
    assert_eq!(img(&ev[1], true)["order"], "desc");
    assert_eq!(img(&ev[1], true)["日本"], serde_json::Value::Null);
    let by_table: Vec<(&str, serde_json::Value)> = ev[2..5]
        .iter()
        .map(|e| (e.table.as_str(), img(e, true)["v"].clone()))
        .collect();
    assert_eq!(
        by_table,
        [
            ("a b", serde_json::json!("space")),
            ("a-b", serde_json::json!("dash")),
            ("a_b", serde_json::json!("underscore"))
        ]
    );
    assert_eq!(ev[6].table, "Ünïcödé");
    assert_eq!(
        ev[6].key,
        vec![("ключ".to_string(), Some("ключ-1".to_string()))]
    );
    assert_eq!(img(&ev[6], false)["值"], "价值");
}

#[tokio::test]
async fn tables_without_primary_key_use_rowid() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", false);
    app.execute_batch(
        "CREATE TABLE lines (msg TEXT, lvl INTEGER);
         CREATE TABLE odd (rowid TEXT, v TEXT);
         CREATE TABLE keyed (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;",
    )
    .unwrap();
    let report = install(&db, None).unwrap();
    assert_eq!(report.tables, ["keyed", "lines", "odd"]);
    assert_eq!(report.without_primary_key, ["lines", "odd"]);
    let lines = report.details.iter().find(|t| t.name == "lines").unwrap();
    assert_eq!(lines.key, ["rowid"]);
    assert_eq!(lines.columns[0].name, "rowid");
    let odd = report.details.iter().find(|t| t.name == "odd").unwrap();
    assert_eq!(odd.key, ["_rowid_"]);
    app_txn(
        &app,
        "x",
        None,
        "INSERT INTO lines VALUES ('start', 1), ('stop', 2);
         UPDATE lines SET lvl = 3 WHERE msg = 'stop';
         DELETE FROM lines WHERE msg = 'start';
         INSERT INTO odd VALUES ('not-the-rowid', 'v');
         INSERT INTO keyed VALUES ('k1', 'v1');",
    );
    let cache_path = dir.path().join("cache.sqlite");
    capture(&db, &cache_path).await;
    let hist = record(&cache_path, "lines", r#"["2"]"#);
    assert_eq!(hist.len(), 2);
    assert_eq!(
        hist[0].key,
        vec![("rowid".to_string(), Some("2".to_string()))]
    );
    assert!(hist[0].columns[0].key && hist[0].columns[0].type_name == "INTEGER");
    assert_eq!(
        img(&hist[1], true),
        serde_json::json!({"rowid": "2", "msg": "stop", "lvl": "3"})
    );
    let gone = record(&cache_path, "lines", r#"["1"]"#);
    assert_eq!(gone.last().unwrap().op, Op::Delete);
    let odd = record(&cache_path, "odd", r#"["1"]"#);
    assert_eq!(img(&odd[0], true)["rowid"], "not-the-rowid");
    assert_eq!(img(&odd[0], true)["_rowid_"], "1");
    assert_eq!(record(&cache_path, "keyed", r#"["k1"]"#).len(), 1);
}

#[test]
fn wide_tables_and_trigger_names() {
    let dir = tempfile::tempdir().unwrap();
    let (db, app) = app_db(dir.path(), "app.sqlite", false);
    let cols: Vec<String> = (0..700).map(|i| format!("c{i} TEXT")).collect();
    app.execute_batch(&format!(
        "CREATE TABLE wide (id INTEGER PRIMARY KEY, {});",
        cols.join(", ")
    ))
    .unwrap();
    install(&db, None).unwrap();
    app.execute_batch("INSERT INTO wide (id, c0, c699) VALUES (1, 'first', 'last');")
        .unwrap();
    let new: String = app
        .query_row("SELECT new FROM _rowtrail_log", [], |r| r.get(0))
        .unwrap();
    let v: Value = serde_json::from_str(&new).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 701);
    assert_eq!(v["c699"], "last");
    assert_eq!(trigger_name("shp", Op::Update), "_rowtrail_shp_update");
    assert_ne!(
        trigger_name("a b", Op::Insert),
        trigger_name("a-b", Op::Insert)
    );
    assert!(trigger_name("a b", Op::Insert).starts_with("_rowtrail_a_b_"));
}
