//! What a PostgreSQL source does when the server changes under it.
//!
//! Against real servers and a real SQLite cache, these tests prove that:
//! - an idle `watch` does not hold up the server's fast shutdown (`pg_ctl -m fast stop`
//!   finishes within 5 s), reconnects when the server is back, and captures what changes
//!   then; its reconnect messages do not repeat the source's name (the faces print it).
//!
//! - a table taken out of the publication (`ALTER PUBLICATION … DROP TABLE`) behind
//!   Rowtrail's back is reported when a sync connects, by `source status` and in the Sources
//!   screen's data (`list_sources`);
//! - a table dropped and created again under the same name is reported the same way, and once
//!   captured again its records start new histories: `history acct 1` shows the new row's
//!   versions only, with nothing inferred from the old table's row.
//!
//! The shutdown test runs its own small cluster (`tests/pg-cluster.sh start DIR`, about a
//! second) so that stopping it cannot disturb the tests that share the harness's cluster.

mod common;

use common::Watch;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rowtrail_core::cache::query::EventFilter;
use rowtrail_core::cache::Cache;
use rowtrail_core::source::postgres::catalog::TableScope;
use rowtrail_core::source::{Progress, RunOptions, RunUntil, SourceState};
use rowtrail_core::sync;
use rowtrail_tests::{connect, workspace_root};
use tokio_util::sync::CancellationToken;

/// A cluster of its own in a temporary directory, stopped and deleted on drop.
struct OwnCluster {
    dir: PathBuf,
    port: String,
    bindir: PathBuf,
}

fn script() -> PathBuf {
    workspace_root().join("tests/pg-cluster.sh")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl OwnCluster {
    fn start() -> OwnCluster {
        // Under /tmp: the socket path must stay short, and user postgres must reach it.
        let dir = tempfile::Builder::new()
            .prefix("rt-own-")
            .tempdir_in("/tmp")
            .expect("temp dir")
            .keep();
        let mut c = OwnCluster {
            dir,
            port: String::new(),
            bindir: PathBuf::new(),
        };
        c.run_script("start");
        let port = std::fs::read_to_string(c.dir.join("port")).expect("port file");
        let bindir = std::fs::read_to_string(c.dir.join("bindir")).expect("bindir file");
        c.port = port.trim().to_string();
        c.bindir = PathBuf::from(bindir.trim());
        c
    }

    fn run_script(&self, cmd: &str) {
        let out = Command::new(script())
            .arg(cmd)
            .arg(&self.dir)
            .output()
            .expect("pg-cluster.sh runs");
        assert!(
            out.status.success(),
            "pg-cluster.sh {cmd} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl -m fast stop`, waiting at most `wait`; whether it stopped, and how long it took.
    fn fast_stop(&self, wait: Duration) -> (bool, Duration, String) {
        let pg_ctl = self.bindir.join("pg_ctl");
        let data = self.dir.join("data");
        let secs = wait.as_secs().to_string();
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            Command::new(&pg_ctl)
        };
        cmd.current_dir("/")
            .arg("-D")
            .arg(&data)
            .args(["-m", "fast", "-w", "-t", &secs, "stop"]);
        let t = Instant::now();
        let out = cmd.output().expect("pg_ctl runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), t.elapsed(), text)
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn wait_until<F: FnMut() -> bool>(timeout: Duration, mut f: F) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

fn stored_keys(cache_path: &Path) -> Vec<String> {
    let cache = Cache::open(cache_path).expect("cache opens");
    cache
        .events(&EventFilter::default())
        .expect("events")
        .iter()
        .filter_map(|e| e.key.first().and_then(|k| k.1.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_watch_lets_the_server_stop_fast_and_follows_it_back() {
    let cluster = OwnCluster::start();
    let url = cluster.url();
    connect(&url)
        .await
        .batch_execute("CREATE TABLE acct (id int PRIMARY KEY, balance numeric)")
        .await
        .unwrap();
    let dir = rowtrail_tests::temp_data_dir();
    let cache_path = dir.path().join("cache.sqlite");
    let name = "stopper";
    {
        let cache = Cache::open(&cache_path).unwrap();
        let plan = sync::plan_postgres_source(&cache, name, &url, None, TableScope::All, false)
            .await
            .unwrap_or_else(|e| panic!("plan: {e}"));
        sync::create_postgres_source(&cache, &plan, None)
            .await
            .unwrap_or_else(|e| panic!("create: {e}"));
    }

    let watch = Watch::start(&cache_path, name);
    let live = wait_until(Duration::from_secs(15), || {
        watch.reports().iter().any(|p| p.state == SourceState::Live)
    })
    .await;
    assert!(live, "the watch went live: {:?}", watch.reports());
    connect(&url)
        .await
        .batch_execute("INSERT INTO acct VALUES (1, 10)")
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || stored_keys(&cache_path)
            == ["1"])
        .await,
        "the first insert is captured"
    );
    // Idle for a moment: the watch has answered the server's keepalives.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let (stopped, took, out) = cluster.fast_stop(Duration::from_secs(5));
    eprintln!("pg_ctl -m fast stop with an idle watch: {took:?}");
    assert!(
        stopped && took < Duration::from_secs(5),
        "pg_ctl -m fast stop with an idle watch: stopped={stopped} in {took:?}: {out}"
    );

    cluster.run_script("start");
    connect(&url)
        .await
        .batch_execute("INSERT INTO acct VALUES (2, 20)")
        .await
        .unwrap();
    let captured = wait_until(Duration::from_secs(40), || {
        stored_keys(&cache_path) == ["1", "2"]
    })
    .await;
    let reports = watch.reports();
    assert!(
        captured,
        "the watch reconnects and captures a change made after the restart: {:?} {reports:#?}",
        stored_keys(&cache_path)
    );
    let reconnects: Vec<String> = reports
        .iter()
        .filter(|p| p.state == SourceState::Reconnecting)
        .filter_map(|p| p.message.clone())
        .collect();
    assert!(
        !reconnects.is_empty(),
        "the restart was reported: {reports:#?}"
    );
    for m in &reconnects {
        // The faces print the source's name before its messages ("stopper: …").
        assert!(
            !m.contains(name),
            "a reconnect message repeats the source name: {m:?}"
        );
    }
    watch
        .stop()
        .await
        .unwrap_or_else(|e| panic!("the watch failed: {e}"));
}

/// Reads `src` until caught up as `rowtrail sync` does; the messages it reported.
async fn sync_messages(src: &common::PgSrc) -> Vec<String> {
    let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let opts = RunOptions {
        until: RunUntil::CaughtUp,
        cancel: CancellationToken::new(),
        progress: Some({
            let reports = reports.clone();
            Arc::new(move |p: &Progress| reports.lock().unwrap().push(p.clone()))
        }),
    };
    sync::run_source(&src.cache_path, &src.name, None, &opts)
        .await
        .unwrap_or_else(|e| panic!("sync failed: {e}"));
    let messages = reports
        .lock()
        .unwrap()
        .iter()
        .filter_map(|p| p.message.clone())
        .collect();
    messages
}

/// A source capturing exactly `tables` (a `FOR TABLE` publication).
async fn listed_source(prefix: &str, schema_sql: &str, tables: &[&str]) -> common::PgSrc {
    let src = common::PgSrc::bare(prefix, schema_sql).await;
    let cache = src.cache();
    let list = tables.iter().map(|t| t.to_string()).collect();
    let plan = sync::plan_postgres_source(
        &cache,
        &src.name,
        &src.db.url,
        None,
        TableScope::List(list),
        false,
    )
    .await
    .unwrap_or_else(|e| panic!("plan: {e}"));
    sync::create_postgres_source(&cache, &plan, None)
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    src
}

/// What `source status` and the Sources screen say about the source's capture.
async fn status_and_screen_problems(src: &common::PgSrc) -> (Vec<String>, Vec<String>) {
    let status = sync::source_statuses(&src.cache(), None).await.unwrap();
    let st = status
        .iter()
        .find(|s| s.source.name == src.name)
        .expect("our source");
    let api = rowtrail_core::api::Api::new(src.dir.path(), &src.cache_path).unwrap();
    let list = rowtrail_core::api::sources::list_sources(&api, Default::default())
        .await
        .unwrap();
    let info = list
        .sources
        .iter()
        .find(|s| s.name == src.name)
        .expect("listed");
    let screen = info
        .slot
        .as_ref()
        .expect("slot health asked")
        .capture_problems
        .clone();
    (st.problems.clone(), screen)
}

#[tokio::test]
async fn a_table_taken_out_of_the_publication_is_reported() {
    let src = listed_source(
        "pubdrift",
        "CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY, v text);",
        &["a", "b"],
    )
    .await;
    let clean = sync_messages(&src).await;
    assert!(
        !clean.iter().any(|m| m.contains("publication")),
        "nothing to report yet: {clean:?}"
    );
    src.db
        .exec(&format!(
            "ALTER PUBLICATION \"{}\" DROP TABLE b",
            src.slot()
        ))
        .await;

    let said = sync_messages(&src).await;
    let hit = |ms: &[String]| {
        ms.iter().any(|m| {
            m.contains("public.b is no longer in publication")
                && m.contains("ADD TABLE \"public\".\"b\"")
        })
    };
    assert!(hit(&said), "sync reports the table left out: {said:?}");
    assert!(
        !said.iter().any(|m| m.contains("public.a ")),
        "a is still captured: {said:?}"
    );
    let (status, screen) = status_and_screen_problems(&src).await;
    assert!(hit(&status), "source status: {status:?}");
    assert!(hit(&screen), "Sources screen: {screen:?}");
}

#[tokio::test]
async fn a_recreated_table_is_reported_and_starts_new_histories() {
    let src = listed_source(
        "recreate",
        "CREATE TABLE acct (id int PRIMARY KEY, balance numeric, status text);
         INSERT INTO acct VALUES (1, 10, 'open');",
        &["acct"],
    )
    .await;
    src.db
        .exec(
            "UPDATE acct SET balance = 20 WHERE id = 1;
             INSERT INTO acct VALUES (2, 1, 'open');
             UPDATE acct SET status = 'closed' WHERE id = 1;",
        )
        .await;
    src.sync().await;
    assert_eq!(src.history("acct", &["1"]).versions.len(), 2);

    src.db
        .exec(
            "DROP TABLE acct;
             CREATE TABLE acct (id int PRIMARY KEY, balance numeric, status text);",
        )
        .await;
    let said = sync_messages(&src).await;
    let recreated = |ms: &[String]| {
        ms.iter()
            .any(|m| m.contains("public.acct was dropped and created again"))
    };
    assert!(
        recreated(&said) && said.iter().any(|m| m.contains("not in publication")),
        "sync reports the re-created table and that it is not captured: {said:?}"
    );
    let (status, screen) = status_and_screen_problems(&src).await;
    assert!(recreated(&status), "source status: {status:?}");
    assert!(recreated(&screen), "Sources screen: {screen:?}");

    // Captured again: the new table's row 1 is another record than the old table's row 1.
    src.db
        .exec(&format!(
            "ALTER PUBLICATION \"{}\" ADD TABLE acct",
            src.slot()
        ))
        .await;
    src.db.exec("INSERT INTO acct VALUES (1, 5, 'new')").await;
    src.db
        .exec("UPDATE acct SET status = 'active' WHERE id = 1")
        .await;
    src.sync().await;
    let h = src.history("acct", &["1"]);
    let ops: Vec<&str> = h.versions.iter().map(|v| v.event.op.as_str()).collect();
    assert_eq!(
        ops,
        ["insert", "update"],
        "a new history, not the old one continued"
    );
    let update = &h.versions[1];
    let bal = update
        .event
        .before
        .as_ref()
        .and_then(|b| {
            let i = update
                .event
                .columns
                .iter()
                .position(|c| c.name == "balance")?;
            b.get(i).cloned()
        })
        .and_then(|c| c.as_opt_str().map(str::to_string));
    assert_eq!(
        bal.as_deref(),
        Some("5"),
        "the unsent old balance comes from the new row, never the old table's 20"
    );
    // The old table's records keep their own history.
    assert_eq!(src.history("acct", &["2"]).versions.len(), 1);
    // Captured again, the re-creation is no longer a hole to report.
    let later = sync_messages(&src).await;
    assert!(!recreated(&later), "{later:?}");
}
