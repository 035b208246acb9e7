//! Setting up a PostgreSQL source: errors that say what to run, and production safety.
//!
//! Against a real server, these tests prove that:
//! - a role without the REPLICATION attribute gets a `Prerequisite` error whose fix is the
//!   `ALTER ROLE … REPLICATION` to run, and nothing is created on the server;
//! - a table without a replica identity (no primary key with identity DEFAULT, or identity
//!   NOTHING) goes into an insert-only publication, so UPDATE and DELETE on it keep working on
//!   the server after the source is added, while its inserts are still captured;
//! - `rowtrail source rm NAME --drop-slot` leaves no `rowtrail_%` slot or publication behind;
//! - an unreachable host or port, and a wrong password, give a connection error naming the host
//!   and port and never the password (engine and CLI alike).

mod common;

use std::process::Command;
use std::time::Duration;

use common::{wait_until, PgSrc};
use rowtrail_core::cache::Cache;
use rowtrail_core::source::postgres::catalog::TableScope;
use rowtrail_core::source::SourceError;
use rowtrail_core::sync;
use rowtrail_tests::tokio_postgres::NoTls;
use rowtrail_tests::{connect, rowtrail_bin, temp_data_dir, TestDb};

/// `url` with its user (and password) replaced.
fn with_user(url: &str, userinfo: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (_, host) = rest.split_once('@').unwrap();
    format!("{scheme}://{userinfo}@{host}")
}

/// `host:port` of a URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once('@').unwrap().1;
    rest.split('/').next().unwrap().to_string()
}

async fn plan(cache: &Cache, name: &str, url: &str) -> Result<sync::PgPlan, SourceError> {
    sync::plan_postgres_source(cache, name, url, None, TableScope::All, false).await
}

async fn rowtrail_objects(db: &TestDb) -> (i64, i64) {
    let admin = connect(&db.admin_url).await;
    let slots: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_replication_slots WHERE database = $1 AND slot_name LIKE 'rowtrail\\_%'",
            &[&db.name],
        )
        .await
        .unwrap()
        .get(0);
    let pubs: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_publication WHERE pubname LIKE 'rowtrail\\_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    (slots, pubs)
}

#[tokio::test]
async fn role_without_replication_gets_the_command_to_run() {
    let db = TestDb::new("norepl").await;
    db.exec("CREATE TABLE t (id int PRIMARY KEY)").await;
    let role = format!("{}_r", db.name);
    let admin = connect(&db.admin_url).await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN NOREPLICATION; GRANT ALL ON DATABASE {} TO {role}",
            db.name
        ))
        .await
        .unwrap();
    db.exec(&format!("ALTER TABLE t OWNER TO {role}")).await;
    let url = with_user(&db.url, &role);
    let dir = temp_data_dir();
    let cache = Cache::open(&dir.path().join("cache.sqlite")).unwrap();

    let err = plan(&cache, &db.name, &url)
        .await
        .expect_err("the role cannot replicate");
    let text = err.to_string();
    match &err {
        SourceError::Prerequisite { problem, fix, .. } => {
            assert!(
                problem.contains(&role) && problem.contains("REPLICATION"),
                "{problem}"
            );
            assert!(fix.contains("ALTER ROLE"), "{fix}");
            assert!(fix.contains("REPLICATION"), "{fix}");
            assert!(fix.contains(&role), "the fix names the role: {fix}");
        }
        other => panic!("expected a Prerequisite error, got {other:?}"),
    }
    assert!(
        text.contains("ALTER ROLE") && text.contains("REPLICATION"),
        "{text}"
    );
    assert_eq!(rowtrail_objects(&db).await, (0, 0), "nothing created");
    assert!(cache.sources().unwrap().is_empty());

    // Running the suggested fix makes the same call succeed.
    admin
        .batch_execute(&format!("ALTER ROLE {role} WITH REPLICATION"))
        .await
        .unwrap();
    plan(&cache, &db.name, &url)
        .await
        .unwrap_or_else(|e| panic!("after the fix: {e}"));

    drop(db);
    admin
        .batch_execute(&format!("DROP ROLE IF EXISTS {role}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn tables_without_replica_identity_stay_writable() {
    let src = PgSrc::bare(
        "nopk",
        "CREATE TABLE logs (at int, msg text);
         CREATE TABLE no_ident (id int PRIMARY KEY, v text);
         ALTER TABLE no_ident REPLICA IDENTITY NOTHING;
         CREATE TABLE keyed (id int PRIMARY KEY, v text);
         INSERT INTO logs VALUES (0, 'before');
         INSERT INTO no_ident VALUES (0, 'before');",
    )
    .await;
    let cache = src.cache();
    let p = plan(&cache, &src.name, &src.db.url).await.unwrap();
    let names = |ts: &[rowtrail_core::source::postgres::catalog::TableInfo]| -> Vec<String> {
        ts.iter().map(|t| t.name.clone()).collect()
    };
    assert_eq!(names(&p.plan.tables), ["keyed"]);
    assert_eq!(names(&p.plan.insert_only_tables), ["logs", "no_ident"]);
    for t in ["logs", "no_ident"] {
        assert!(
            p.plan
                .warnings
                .iter()
                .any(|w| w.contains(t) && w.contains("INSERT")),
            "a warning says {t} is captured for inserts only: {:?}",
            p.plan.warnings
        );
    }
    sync::create_postgres_source(&cache, &p, None)
        .await
        .unwrap();

    // Production safety: UPDATE and DELETE still work on the server.
    let client = src.db.client().await;
    for sql in [
        "INSERT INTO logs VALUES (1, 'one')",
        "UPDATE logs SET msg = 'changed'",
        "DELETE FROM logs WHERE at = 0",
        "INSERT INTO no_ident VALUES (1, 'one')",
        "UPDATE no_ident SET v = 'changed'",
        "DELETE FROM no_ident WHERE id = 0",
        "INSERT INTO keyed VALUES (1, 'one')",
        "UPDATE keyed SET v = 'changed'",
    ] {
        client.batch_execute(sql).await.unwrap_or_else(|e| {
            panic!("{sql} fails on the server after the source was added: {e:?}")
        });
    }
    let pubs = client
        .query(
            "SELECT pubname::text, pubinsert, pubupdate, pubdelete FROM pg_publication ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let pubs: Vec<(String, bool, bool, bool)> = pubs
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let ins = pubs
        .iter()
        .find(|p| p.0.ends_with("_ins"))
        .unwrap_or_else(|| panic!("an insert-only publication: {pubs:?}"));
    assert_eq!((ins.1, ins.2, ins.3), (true, false, false), "{pubs:?}");

    src.sync().await;
    let ev: Vec<(String, String)> = src
        .events()
        .iter()
        .map(|e| (e.table.clone(), e.op.to_string()))
        .collect();
    let count = |t: &str, op: &str| ev.iter().filter(|e| e.0 == t && e.1 == op).count();
    assert_eq!(count("logs", "insert"), 1, "{ev:?}");
    assert_eq!(count("no_ident", "insert"), 1, "{ev:?}");
    assert_eq!(count("keyed", "insert"), 1);
    assert_eq!(count("keyed", "update"), 1);
    assert_eq!(
        ev.len(),
        4,
        "updates and deletes of insert-only tables are not captured: {ev:?}"
    );
}

#[tokio::test]
async fn source_rm_drop_slot_leaves_nothing_on_the_server() {
    let db = TestDb::new("rmslot").await;
    db.exec("CREATE TABLE keyed (id int PRIMARY KEY, v text); CREATE TABLE logs (msg text);")
        .await;
    let dir = temp_data_dir();
    let rowtrail = |args: &[&str]| {
        let out = Command::new(rowtrail_bin())
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "rowtrail {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    rowtrail(&["source", "add", "pg", &db.name, "--url", &db.url, "--yes"]);
    assert_eq!(
        rowtrail_objects(&db).await,
        (1, 2),
        "a slot and two publications"
    );
    db.exec("INSERT INTO keyed VALUES (1, 'a'); INSERT INTO logs VALUES ('x')")
        .await;
    rowtrail(&["sync", &db.name]);

    let out = rowtrail(&["source", "rm", &db.name, "--drop-slot", "--yes"]);
    assert!(out.contains(&db.name), "{out}");
    assert_eq!(
        rowtrail_objects(&db).await,
        (0, 0),
        "no rowtrail_% slot or publication remains"
    );
    let list = rowtrail(&["source", "list", "--json"]);
    assert!(
        list.trim().is_empty(),
        "the source is gone from the cache: {list}"
    );
}

#[tokio::test]
async fn connection_errors_name_host_and_port_never_the_password() {
    let db = TestDb::new("connerr").await;
    db.exec("CREATE TABLE t (id int PRIMARY KEY)").await;
    let dir = temp_data_dir();
    let cache = Cache::open(&dir.path().join("cache.sqlite")).unwrap();
    const SECRET: &str = "Sup3r-S3cret-pw";

    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("postgres://postgres:{SECRET}@127.0.0.1:{port}/{}", db.name);
    // A host that cannot resolve (.invalid is reserved).
    let nohost = format!(
        "postgres://postgres:{SECRET}@no-such-host.invalid:5432/{}?sslmode=disable",
        db.name
    );
    for (url, target) in [
        (&dead, format!("127.0.0.1:{port}")),
        (&nohost, "no-such-host.invalid:5432".to_string()),
    ] {
        let err = plan(&cache, "conn", url).await.expect_err("cannot connect");
        assert!(matches!(err, SourceError::Connect { .. }), "{err:?}");
        let (text, debug) = (err.to_string(), format!("{err:?}"));
        assert!(text.contains(&target), "the error names {target}: {text}");
        assert!(
            !text.contains(SECRET) && !debug.contains(SECRET),
            "password leaked: {debug}"
        );
    }

    // A wrong password: this role must authenticate with one (the test cluster trusts
    // everyone else), through a line of its own at the top of pg_hba.conf.
    let role = format!("{}_pw", db.name);
    let admin = connect(&db.admin_url).await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN REPLICATION PASSWORD 'right-password'"
        ))
        .await
        .unwrap();
    db.exec(&format!("ALTER TABLE t OWNER TO {role}")).await;
    let _hba = HbaLine::add(&format!("host all {role} 127.0.0.1/32 scram-sha-256"));
    admin
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .unwrap();
    let wrong = with_user(&db.url, &format!("{role}:{SECRET}"));
    let right = with_user(&db.url, &format!("{role}:right-password"));
    let enforced = wait_until(Duration::from_secs(10), || async {
        tokio_postgres_connect_fails(&wrong).await
    })
    .await;
    assert!(enforced, "the server never asked {role} for a password");

    let err = plan(&cache, "pw", &wrong)
        .await
        .expect_err("wrong password");
    let (text, debug) = (err.to_string(), format!("{err:?}"));
    assert!(matches!(err, SourceError::Connect { .. }), "{err:?}");
    assert!(
        text.contains(&host_port(&db.url)),
        "the error names host and port: {text}"
    );
    assert!(
        text.contains("password"),
        "the error says the password was refused: {text}"
    );
    assert!(
        !text.contains(SECRET) && !debug.contains(SECRET),
        "password leaked: {debug}"
    );
    // The right password works (so the failure above was the password's).
    plan(&cache, "pw", &right)
        .await
        .unwrap_or_else(|e| panic!("the right password is refused: {e}"));

    // The CLI: a failure to connect exits with code 3 and never prints the password.
    for url in [&dead, &wrong] {
        let out = Command::new(rowtrail_bin())
            .arg("--data-dir")
            .arg(dir.path())
            .args(["source", "add", "pg", "clisrc", "--url", url, "--yes"])
            .env_remove("ROWTRAIL_PG_PASSWORD")
            .env_remove("PGPASSWORD")
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(
            out.status.code(),
            Some(3),
            "exit code 3 (cannot reach the source): {stderr}"
        );
        assert!(stderr.contains(&host_port(url)), "{stderr}");
        assert!(
            !stdout.contains(SECRET) && !stderr.contains(SECRET),
            "password leaked: {stdout}{stderr}"
        );
    }

    drop(_hba);
    admin
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .unwrap();
    drop(db);
    admin
        .batch_execute(&format!("DROP ROLE IF EXISTS {role}"))
        .await
        .unwrap();
}

async fn tokio_postgres_connect_fails(url: &str) -> bool {
    rowtrail_tests::tokio_postgres::connect(url, NoTls)
        .await
        .is_err()
}

/// A line put at the top of the test cluster's pg_hba.conf, removed again on drop (also when
/// the test fails). The caller reloads the configuration.
struct HbaLine {
    path: std::path::PathBuf,
    line: String,
}

impl HbaLine {
    fn add(line: &str) -> HbaLine {
        let cluster = std::env::var("ROWTRAIL_TEST_PG_DIR")
            .expect("ROWTRAIL_TEST_PG_DIR is set by tests/pg-cluster.sh");
        let path = std::path::Path::new(&cluster).join("data/pg_hba.conf");
        let old = std::fs::read_to_string(&path).expect("pg_hba.conf is readable");
        std::fs::write(&path, format!("{line}\n{old}"))
            .expect("pg_hba.conf is writable (tests run as its owner or root)");
        HbaLine {
            path,
            line: line.to_string(),
        }
    }
}

impl Drop for HbaLine {
    fn drop(&mut self) {
        if let Ok(text) = std::fs::read_to_string(&self.path) {
            let kept: Vec<&str> = text.lines().filter(|l| *l != self.line).collect();
            let _ = std::fs::write(&self.path, kept.join("\n") + "\n");
        }
    }
}
