//! What a PostgreSQL source does when the server changes under it.
//!
//! Against real servers and a real SQLite cache, these tests prove that:
//! - an idle `watch` does not hold up the server's fast shutdown (`pg_ctl -m fast stop`
//!   finishes within 5 s), reconnects when the server is back, and captures what changes
//!   then; its reconnect messages do not repeat the source's name (the faces print it).
//!
//! The shutdown test runs its own small cluster (`tests/pg-cluster.sh start DIR`, about a
//! second) so that stopping it cannot disturb the tests that share the harness's cluster.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rowtrail_core::cache::query::EventFilter;
use rowtrail_core::cache::{Cache, Durable};
use rowtrail_core::source::postgres::catalog::TableScope;
use rowtrail_core::source::{Progress, RunOptions, RunUntil, SourceError, SourceState};
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

/// A source followed in the background as `rowtrail watch` does, with its progress reports.
struct Watch {
    reports: Arc<Mutex<Vec<Progress>>>,
    cancel: CancellationToken,
    runner: tokio::task::JoinHandle<Result<Durable, SourceError>>,
}

impl Watch {
    fn start(cache_path: &Path, name: &str) -> Watch {
        let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
        let cancel = CancellationToken::new();
        let opts = RunOptions {
            until: RunUntil::Cancelled,
            cancel: cancel.clone(),
            progress: Some({
                let reports = reports.clone();
                Arc::new(move |p: &Progress| reports.lock().unwrap().push(p.clone()))
            }),
        };
        let (path, name) = (cache_path.to_path_buf(), name.to_string());
        let runner = tokio::spawn(async move { sync::run_source(&path, &name, None, &opts).await });
        Watch {
            reports,
            cancel,
            runner,
        }
    }

    fn reports(&self) -> Vec<Progress> {
        self.reports.lock().unwrap().clone()
    }

    async fn stop(self) -> Result<Durable, SourceError> {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.runner)
            .await
            .expect("the watch stops when cancelled")
            .expect("no panic")
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
        wait_until(Duration::from_secs(10), || stored_keys(&cache_path) == ["1"]).await,
        "the first insert is captured"
    );
    // Idle for a moment: the watch has answered the server's keepalives.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let (stopped, took, out) = cluster.fast_stop(Duration::from_secs(5));
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
    assert!(!reconnects.is_empty(), "the restart was reported: {reports:#?}");
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
