//! Setting up and removing a PostgreSQL source without harming the server or hiding history.
//!
//! Against a real server (the test cluster is PostgreSQL 15), these tests prove that:
//! - a failed `source add` never drops a publication it did not create: an existing
//!   `rowtrail_<name>` publication survives, the error shows its tables and says how to go on
//!   (`--reuse-publication`), and reusing it captures through it without ever dropping it;
//! - source names that differ only in case do not share a slot, and the refusal never suggests
//!   dropping a slot that is in use;
//! - `--schema app` publishes the schema (`FOR TABLES IN SCHEMA`), so a table created there
//!   later is captured;
//! - replica-identity warnings are right (USING INDEX is not "DEFAULT"; a keyless table says
//!   "no key: inserts only"), said once for all tables at `source add`, never for partitions,
//!   and never again by later syncs; generated columns are named as not captured;
//! - after the slot is lost, `source reset` re-creates it and keeps the cached events; the gap
//!   shows in `history` (human and `--json`); `source rm` asks before deleting cached events and
//!   says what it leaves on the server; `source status` lists each slot once and marks orphans.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::PgSrc;
use rowtrail_core::source::postgres::catalog::TableScope;
use rowtrail_core::source::{Progress, RunOptions, RunUntil};
use rowtrail_core::sync;
use rowtrail_tests::{connect, rowtrail_bin, temp_data_dir, TestDb};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

fn rowtrail(data: &Path, args: &[&str]) -> Output {
    Command::new(rowtrail_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("ROWTRAIL_PG_PASSWORD")
        .env_remove("PGPASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("rowtrail runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn ok(data: &Path, args: &[&str]) -> (String, String) {
    let o = rowtrail(data, args);
    let (out, err) = text(&o);
    assert!(
        o.status.success(),
        "rowtrail {args:?} failed ({}): {out}\n{err}",
        o.status
    );
    (out, err)
}

async fn publication_tables(db: &TestDb, name: &str) -> Option<Vec<String>> {
    let c = db.client().await;
    let exists: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    if !exists {
        return None;
    }
    let rows = c
        .query(
            "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1",
            &[&name],
        )
        .await
        .unwrap();
    Some(rows.iter().map(|r| r.get(0)).collect())
}

async fn slot_exists(db: &TestDb, slot: &str) -> bool {
    connect(&db.admin_url)
        .await
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
            &[&slot],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn an_existing_publication_survives_a_failed_add_and_can_be_reused() {
    let db = TestDb::new("pubkeep").await;
    db.exec(
        "CREATE TABLE acct (id int PRIMARY KEY, balance numeric);
         CREATE TABLE other (id int PRIMARY KEY);",
    )
    .await;
    let name = db.name.clone();
    let publication = format!("rowtrail_{name}");
    // Someone else's publication (or one left by `source rm` without --drop-slot).
    db.exec(&format!("CREATE PUBLICATION {publication} FOR TABLE acct"))
        .await;
    let dir = temp_data_dir();

    let o = rowtrail(
        dir.path(),
        &[
            "source", "add", "pg", &name, "--url", &db.url, "--tables", "acct", "--yes",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "the add fails: {out}\n{err}");
    assert!(
        err.contains(&publication) && err.contains("already exist"),
        "{err}"
    );
    assert!(
        err.contains("public.acct"),
        "the error shows the publication's tables: {err}"
    );
    assert!(
        err.contains("--reuse-publication"),
        "the error says how to go on: {err}"
    );
    assert_eq!(
        publication_tables(&db, &publication).await,
        Some(vec!["public.acct".to_string()]),
        "the existing publication is untouched"
    );
    assert!(!slot_exists(&db, &publication).await, "no slot was created");
    assert!(
        !dir.path().join("cache.sqlite").exists(),
        "no source was registered"
    );

    // Reusing it: shown, not created, captured through, never dropped.
    let (out, _) = ok(
        dir.path(),
        &[
            "source",
            "add",
            "pg",
            &name,
            "--url",
            &db.url,
            "--tables",
            "acct",
            "--reuse-publication",
            "--yes",
        ],
    );
    assert!(
        out.contains("Reuses the existing publication") && out.contains("public.acct"),
        "{out}"
    );
    assert!(
        !out.contains("CREATE PUBLICATION"),
        "nothing to create but the slot: {out}"
    );
    db.exec("INSERT INTO acct VALUES (1, 10.50)").await;
    ok(dir.path(), &["sync", &name]);
    let (events, _) = ok(dir.path(), &["events", "--json"]);
    assert_eq!(events.lines().count(), 1, "{events}");
    ok(dir.path(), &["source", "rm", &name, "--drop-slot", "--yes"]);
    assert!(
        !slot_exists(&db, &publication).await,
        "the slot Rowtrail created is dropped"
    );
    assert!(
        publication_tables(&db, &publication).await.is_some(),
        "the reused publication is not Rowtrail's to drop"
    );
}

#[tokio::test]
async fn source_names_differing_in_case_do_not_share_a_slot() {
    let src = PgSrc::new("slotcase", "CREATE TABLE t (id int PRIMARY KEY)").await;
    let cache = src.cache();
    let upper = src.name.to_uppercase();
    let err = sync::plan_postgres_source(&cache, &upper, &src.db.url, None, TableScope::All, false)
        .await
        .expect_err("the slot name is taken by a source of this workspace")
        .to_string();
    assert!(
        err.contains(&src.name) && err.contains(&src.slot()),
        "{err}"
    );
    assert!(err.contains("choose another name"), "{err}");
    assert!(
        !err.contains("pg_drop_replication_slot"),
        "never suggests dropping a slot in use: {err}"
    );

    // A slot streaming for another cache: still no suggestion to drop it.
    let dir = temp_data_dir();
    let other = rowtrail_core::cache::Cache::open(&dir.path().join("cache.sqlite")).unwrap();
    let watch = src.watch();
    assert!(
        common::wait_until(std::time::Duration::from_secs(20), || async {
            connect(&src.db.admin_url)
                .await
                .query_one(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                    &[&src.slot()],
                )
                .await
                .map(|r| r.get::<_, bool>(0))
                .unwrap_or(false)
        })
        .await
    );
    let err = sync::plan_postgres_source(&other, &upper, &src.db.url, None, TableScope::All, false)
        .await
        .expect_err("the slot exists on the server")
        .to_string();
    assert!(err.contains("streaming from it now"), "{err}");
    assert!(!err.contains("pg_drop_replication_slot"), "{err}");
    watch.stop().await.unwrap();
}

#[tokio::test]
async fn schema_scope_captures_tables_created_later() {
    let src = PgSrc::bare(
        "schemapub",
        "CREATE SCHEMA app; CREATE TABLE app.a (id int PRIMARY KEY); CREATE TABLE public.elsewhere (id int PRIMARY KEY);",
    )
    .await;
    let cache = src.cache();
    let plan = sync::plan_postgres_source(
        &cache,
        &src.name,
        &src.db.url,
        None,
        TableScope::Schema("app".into()),
        false,
    )
    .await
    .unwrap();
    assert!(
        plan.plan
            .statements
            .iter()
            .any(|s| s.contains("FOR TABLES IN SCHEMA \"app\"")),
        "{:?}",
        plan.plan.statements
    );
    assert!(
        plan.plan
            .warnings
            .iter()
            .any(|w| w.contains("created there later are captured")),
        "{:?}",
        plan.plan.warnings
    );
    sync::create_postgres_source(&cache, &plan, None)
        .await
        .unwrap();
    src.db
        .exec(
            "CREATE TABLE app.later (id int PRIMARY KEY, v text);
             INSERT INTO app.later VALUES (1, 'new table');
             INSERT INTO app.a VALUES (1);
             INSERT INTO public.elsewhere VALUES (1);",
        )
        .await;
    src.sync().await;
    let tables: Vec<String> = src
        .events()
        .iter()
        .map(|e| format!("{}.{}", e.schema, e.table))
        .collect();
    assert_eq!(
        tables,
        ["app.later", "app.a"],
        "the new table is captured, other schemas are not"
    );
}

/// Runs one sync and returns the warnings it reported.
async fn sync_warnings(src: &PgSrc) -> Vec<String> {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s2 = seen.clone();
    let opts = RunOptions {
        until: RunUntil::CaughtUp,
        cancel: CancellationToken::new(),
        progress: Some(Arc::new(move |p: &Progress| {
            if let Some(m) = &p.message {
                s2.lock().unwrap().push(m.clone());
            }
        })),
    };
    sync::run_source(&src.cache_path, &src.name, None, &opts)
        .await
        .unwrap();
    let v = seen.lock().unwrap().clone();
    v
}

#[tokio::test]
async fn identity_warnings_are_right_said_once_and_never_for_partitions() {
    let src = PgSrc::bare(
        "identwarn",
        "CREATE TABLE by_index (code text NOT NULL, v text);
         CREATE UNIQUE INDEX by_index_code ON by_index (code);
         ALTER TABLE by_index REPLICA IDENTITY USING INDEX by_index_code;
         CREATE TABLE nokey (msg text);
         CREATE TABLE keyed (id int PRIMARY KEY, v text);
         CREATE TABLE priced (id int PRIMARY KEY, qty int, total int GENERATED ALWAYS AS (qty * 2) STORED);
         CREATE TABLE ev (id int, at date, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
    )
    .await;
    let cache = src.cache();
    let plan =
        sync::plan_postgres_source(&cache, &src.name, &src.db.url, None, TableScope::All, false)
            .await
            .unwrap();
    let w = plan.plan.warnings.join("\n");
    eprintln!("{w}");
    let identity: Vec<&String> = plan
        .plan
        .warnings
        .iter()
        .filter(|w| w.contains("carry only the key"))
        .collect();
    assert_eq!(
        identity.len(),
        1,
        "one warning for every partial-image table, not one per table: {w}"
    );
    assert!(
        identity[0].contains("public.by_index (USING INDEX)")
            && identity[0].contains("public.keyed (primary key)"),
        "{w}"
    );
    assert!(
        !w.contains("by_index (primary key)")
            && !w
                .to_uppercase()
                .contains("BY_INDEX HAS REPLICA IDENTITY DEFAULT"),
        "{w}"
    );
    let insert_only: Vec<&String> = plan
        .plan
        .warnings
        .iter()
        .filter(|w| w.contains("inserts only"))
        .collect();
    assert_eq!(insert_only.len(), 1, "{w}");
    assert!(
        insert_only[0].starts_with("No key: inserts only")
            && insert_only[0].contains("public.nokey"),
        "{w}"
    );
    assert!(
        w.contains("generated columns") && w.contains("public.priced (total)"),
        "{w}"
    );
    assert!(
        !w.contains("ev_2026"),
        "a partition the user never selected gets no warning: {w}"
    );
    sync::create_postgres_source(&cache, &plan, None)
        .await
        .unwrap();

    src.db
        .exec(
            "INSERT INTO by_index VALUES ('a', '1'); UPDATE by_index SET v = '2';
             INSERT INTO nokey VALUES ('x'); INSERT INTO keyed VALUES (1, 'a'); UPDATE keyed SET v = 'b';
             INSERT INTO priced VALUES (1, 3); INSERT INTO ev VALUES (1, '2026-05-01', 'x');",
        )
        .await;
    let identity_notes = |ms: &[String]| -> Vec<String> {
        ms.iter()
            .filter(|m| {
                m.contains("REPLICA IDENTITY") || m.contains("inserts only") || m.contains("no key")
            })
            .cloned()
            .collect()
    };
    let first = sync_warnings(&src).await;
    assert!(
        identity_notes(&first).is_empty(),
        "source add said it all already: {first:?}"
    );
    let stored = cache
        .table_warnings(cache.source(&src.name).unwrap().id)
        .unwrap();
    assert!(stored.iter().all(|w| w.table != "ev_2026"), "{stored:?}");

    // A table the stream meets later is told about once, with the right words.
    src.db
        .exec(&format!(
            "CREATE TABLE late (code text NOT NULL, v text);
             CREATE UNIQUE INDEX late_code ON late (code);
             ALTER TABLE late REPLICA IDENTITY USING INDEX late_code;
             ALTER PUBLICATION {} ADD TABLE late;
             INSERT INTO late VALUES ('a', '1'); UPDATE keyed SET v = 'c';",
            src.slot()
        ))
        .await;
    let second = identity_notes(&sync_warnings(&src).await);
    assert_eq!(second.len(), 1, "{second:?}");
    assert!(
        second[0].contains("public.late")
            && second[0].contains("USING INDEX")
            && !second[0].contains("DEFAULT"),
        "{second:?}"
    );
    src.db.exec("INSERT INTO late VALUES ('b', '2'); UPDATE by_index SET v = '3'; INSERT INTO nokey VALUES ('y');").await;
    let third = identity_notes(&sync_warnings(&src).await);
    assert!(
        third.is_empty(),
        "warnings are not repeated on every sync: {third:?}"
    );
}

#[tokio::test]
async fn reset_after_a_lost_slot_keeps_history_and_shows_the_gap() {
    let db = TestDb::new("reset").await;
    db.exec("CREATE TABLE acct (id int PRIMARY KEY, balance numeric, status text) ; ALTER TABLE acct REPLICA IDENTITY FULL;")
        .await;
    let dir = temp_data_dir();
    let d = dir.path();
    let name = db.name.clone();
    let other = format!("{name}_b");
    let slot = format!("rowtrail_{name}");
    ok(
        d,
        &["source", "add", "pg", &name, "--url", &db.url, "--yes"],
    );
    ok(
        d,
        &["source", "add", "pg", &other, "--url", &db.url, "--yes"],
    );
    db.exec("INSERT INTO acct VALUES (1, 10, 'open')").await;
    ok(d, &["sync", &name]);

    // The slot is lost (dropped by hand here; invalidated by max_slot_wal_keep_size alike).
    connect(&db.admin_url)
        .await
        .execute("SELECT pg_drop_replication_slot($1)", &[&slot])
        .await
        .unwrap();
    db.exec("UPDATE acct SET balance = 20 WHERE id = 1").await;
    let o = rowtrail(d, &["sync", &name]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains(&format!("rowtrail source reset {name}")),
        "the error advises reset: {err}"
    );
    assert!(
        !err.contains("source rm"),
        "never advises deleting the history: {err}"
    );
    let (status, _) = ok(d, &["source", "status"]);
    assert!(
        status.contains(&format!("rowtrail source reset {name}")),
        "{status}"
    );
    assert!(!status.contains("source rm"), "{status}");
    assert_eq!(
        status
            .lines()
            .filter(|l| l.trim_start().starts_with(&format!("rowtrail_{other} ")))
            .count(),
        1,
        "two sources on one server list each slot once: {status}"
    );

    // Reset: planned, asked (no terminal: refused without --yes), then done; events kept.
    let o = rowtrail(d, &["source", "reset", &name]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(
        text(&o).0.contains("pg_create_logical_replication_slot"),
        "the plan is shown: {:?}",
        text(&o)
    );
    ok(d, &["source", "reset", &name, "--yes"]);
    db.exec("UPDATE acct SET balance = 30, status = 'frozen' WHERE id = 1")
        .await;
    ok(d, &["sync", &name]);
    let (h, _) = ok(d, &["history", "acct", "1", "--source", &name]);
    eprintln!("{h}");
    let (v2, gap, v1) = (
        h.find("v2 ").unwrap(),
        h.find("gap: changes between").unwrap(),
        h.find("v1 ").unwrap(),
    );
    assert!(
        v2 < gap && gap < v1,
        "the gap line stands between the versions it separates:\n{h}"
    );
    assert!(h.contains("30") && h.contains("frozen"), "{h}");
    let (j, _) = ok(d, &["--json", "history", "acct", "1", "--source", &name]);
    let lines: Vec<Value> = j
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "the cached version is kept: {j}");
    assert_eq!(lines[1]["version"], 1);
    assert_eq!(lines[1]["gap_after"]["after_version"], 1, "{j}");
    assert!(
        lines[1]["gap_after"]["to_position"].is_string() && lines[0].get("gap_after").is_none(),
        "{j}"
    );
    let api = rowtrail_core::api::Api::open(&rowtrail_core::workspace::Workspace::resolve(Some(d)))
        .unwrap();
    let rh = api
        .call(
            "record_history",
            serde_json::json!({"source": name, "table": "acct", "key": ["1"]}),
        )
        .await
        .unwrap();
    assert_eq!(rh["gaps"][0]["after_version"], 1, "{rh}");
    let sources = api
        .call("list_sources", serde_json::json!({"slots": false}))
        .await
        .unwrap();
    assert!(sources["sources"][0]["warnings"].is_array(), "{sources}");

    // The Sources screen's Reset…: planned (the SQL shown), then done as planned.
    connect(&db.admin_url)
        .await
        .execute("SELECT pg_drop_replication_slot($1)", &[&slot])
        .await
        .unwrap();
    let plan = api
        .call("plan_reset_source", serde_json::json!({"name": name}))
        .await
        .unwrap();
    assert_eq!(plan["slot_state"], "missing", "{plan}");
    let info = api
        .call(
            "reset_source",
            serde_json::json!({"name": name, "statements": plan["statements"]}),
        )
        .await
        .unwrap();
    assert_eq!(info["name"], name.as_str(), "{info}");
    api.shutdown().await;
    drop(api);
    db.exec("UPDATE acct SET status = 'open' WHERE id = 1")
        .await;
    ok(d, &["sync", &name]);
    let (h, _) = ok(d, &["history", "acct", "1", "--source", &name]);
    assert_eq!(h.matches("gap: changes between").count(), 2, "{h}");

    // rm: asks before deleting cached events; without --drop-slot says the slot stays.
    let o = rowtrail(d, &["source", "rm", &other]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "no events cached from it: nothing to ask: {:?}",
        text(&o)
    );
    assert!(text(&o).1.contains("keeps holding WAL"), "{:?}", text(&o));
    let (status, _) = ok(d, &["source", "status"]);
    eprintln!("{status}");
    assert!(
        status.contains(&format!("rowtrail_{other} ")) && status.contains("orphaned"),
        "{status}"
    );
    let o = rowtrail(d, &["source", "rm", &name]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(text(&o).1.contains("cached event"), "{:?}", text(&o));
    assert_eq!(
        ok(d, &["--json", "history", "acct", "1", "--source", &name])
            .0
            .lines()
            .count(),
        3,
        "nothing was removed"
    );
    ok(d, &["source", "rm", &name, "--drop-slot", "--yes"]);
    connect(&db.admin_url)
        .await
        .execute(
            "SELECT pg_drop_replication_slot($1)",
            &[&format!("rowtrail_{other}")],
        )
        .await
        .unwrap();
}
