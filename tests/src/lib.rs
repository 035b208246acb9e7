//! Rowtrail's test harness: real parts, no mocks.
//!
//! - [`TestDb`]: a fresh, uniquely named PostgreSQL database in the throwaway cluster that
//!   `tests/pg-cluster.sh run …` (or `make test`) starts with `wal_level=logical`; dropped
//!   again — slots, connections and all — when the `TestDb` goes out of scope.
//! - [`rowtrail_bin`]: the built `rowtrail` CLI, for end-to-end tests that run it.
//! - [`temp_data_dir`]: a temporary directory for SQLite caches, configs and exports.
//!
//! Run the tests through the cluster script so that `ROWTRAIL_TEST_PG_URL` is set:
//!
//! ```text
//! make test
//! tests/pg-cluster.sh run cargo test -p rowtrail-tests
//! ```
//!
//! Environment:
//! - `ROWTRAIL_TEST_PG_URL`: the cluster's admin URL (`postgres://postgres@127.0.0.1:PORT/postgres`).
//! - `ROWTRAIL_TEST_PG_BIN`: the PostgreSQL bin directory (`pg_recvlogical`, `psql`, …); see [`pg_bin`].
//! - `ROWTRAIL_TEST_KEEP_DB=1`: keep each test's database instead of dropping it (for debugging;
//!   only useful with `tests/pg-cluster.sh start DIR`, since `run` deletes the whole cluster).
//! - `ROWTRAIL_BIN`: the `rowtrail` binary to test instead of `<target>/debug/rowtrail`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

pub use serde_json;
pub use tokio_postgres;

/// Environment variable holding the test cluster's admin URL.
pub const PG_URL_ENV: &str = "ROWTRAIL_TEST_PG_URL";
/// Environment variable holding the test cluster's PostgreSQL bin directory.
pub const PG_BIN_ENV: &str = "ROWTRAIL_TEST_PG_BIN";

const HOW_TO_RUN: &str = "run the tests through the throwaway cluster: \
    `make test`, or `tests/pg-cluster.sh run cargo test …` from the repository root";

/// The admin URL of the throwaway test cluster (`$ROWTRAIL_TEST_PG_URL`).
///
/// # Panics
/// When the variable is unset: the tests were not started through `tests/pg-cluster.sh`.
pub fn pg_url() -> String {
    match std::env::var(PG_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!("{PG_URL_ENV} is not set: {HOW_TO_RUN}"),
    }
}

/// Path of a PostgreSQL program (`pg_recvlogical`, `psql`, `pg_ctl`, …) of the test cluster's
/// version, from `$ROWTRAIL_TEST_PG_BIN`.
///
/// # Panics
/// When the variable is unset or the program does not exist there.
pub fn pg_bin(program: &str) -> PathBuf {
    let dir = match std::env::var_os(PG_BIN_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => panic!("{PG_BIN_ENV} is not set: {HOW_TO_RUN}"),
    };
    let path = dir.join(program);
    assert!(
        path.is_file(),
        "{} does not exist ({PG_BIN_ENV}={})",
        path.display(),
        dir.display()
    );
    path
}

/// Runs `sql` (`;`-separated statements, no results) in one transaction and returns its
/// `txid_current()` — the id users give `rowtrail events --txn`.
///
/// # Panics
/// When a statement fails; the message names it.
pub async fn txn_with_txid(client: &Client, sql: &str) -> String {
    client.batch_execute("BEGIN").await.unwrap();
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let txid: String = client
        .query_one("SELECT txid_current()::text", &[])
        .await
        .unwrap()
        .get(0);
    client.batch_execute("COMMIT").await.unwrap();
    txid
}

/// Connect to `url` without TLS and drive the connection on the current tokio runtime.
///
/// # Panics
/// When the connection fails; the message names the URL and how to start the cluster.
pub async fn connect(url: &str) -> Client {
    match try_connect(url).await {
        Ok(client) => client,
        Err(e) => {
            panic!("cannot connect to {url}: {e} (is the test cluster running? {HOW_TO_RUN})")
        }
    }
}

async fn try_connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        // Errors here are expected when a TestDb drops its database under a live client.
        let _ = connection.await;
    });
    Ok(client)
}

/// A fresh PostgreSQL database in the test cluster, dropped when this value is dropped.
///
/// ```no_run
/// # async fn demo() {
/// let db = rowtrail_tests::TestDb::new("ingest").await;
/// db.exec("CREATE TABLE t (id int PRIMARY KEY, v text)").await;
/// let client = db.client().await;
/// let n: i64 = client.query_one("SELECT count(*) FROM t", &[]).await.unwrap().get(0);
/// assert_eq!(n, 0);
/// # }
/// ```
///
/// Dropping it terminates every connection to the database (replication ones included), drops
/// the database's replication slots (which would block `DROP DATABASE`), then drops the
/// database. The drop runs on its own thread and runtime, so it works inside `#[tokio::test]`
/// of either flavor; failures are reported on stderr, never as a panic.
pub struct TestDb {
    /// URL of this database, e.g. `postgres://postgres@127.0.0.1:PORT/rt_ingest_1234_0_k3j2`.
    pub url: String,
    /// The database's name: lowercase letters, digits and `_`, so it needs no quoting.
    pub name: String,
    /// URL of the cluster's `postgres` database, the one this database was created from.
    pub admin_url: String,
    client: tokio::sync::OnceCell<Client>,
}

impl TestDb {
    /// Create a uniquely named database (`rt_<prefix>_<pid>_<n>_<time>`) in the test cluster.
    ///
    /// `prefix` names the test in the database's name; characters other than ASCII letters,
    /// digits and `_` become `_`, and it is cut to 24 characters.
    ///
    /// # Panics
    /// When `ROWTRAIL_TEST_PG_URL` is unset (run the tests through `tests/pg-cluster.sh run …`
    /// or `make test`), or the cluster cannot be reached, or `CREATE DATABASE` fails.
    pub async fn new(prefix: &str) -> TestDb {
        let admin_url = pg_url();
        let name = unique_name(prefix);
        let admin = connect(&admin_url).await;
        if let Err(e) = admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
        {
            panic!(
                "CREATE DATABASE {name} failed on {admin_url}: {}",
                describe(&e)
            );
        }
        let url = with_database(&admin_url, &name);
        TestDb {
            url,
            name,
            admin_url,
            client: tokio::sync::OnceCell::new(),
        }
    }

    /// A new connection to this database, driven on the current tokio runtime.
    ///
    /// # Panics
    /// When the connection fails.
    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }

    /// Run one or more `;`-separated SQL statements (no parameters, no results) on this
    /// database, through a connection kept for such calls.
    ///
    /// # Panics
    /// When a statement fails; the message holds the error, its detail and the SQL.
    pub async fn exec(&self, sql: &str) {
        let client = self.client.get_or_init(|| connect(&self.url)).await;
        if let Err(e) = client.batch_execute(sql).await {
            panic!(
                "SQL failed on {}: {}\n--- SQL ---\n{sql}",
                self.name,
                describe(&e)
            );
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Close our own kept connection first (the drop below would terminate it anyway).
        drop(self.client.take());
        if std::env::var_os("ROWTRAIL_TEST_KEEP_DB").is_some_and(|v| !v.is_empty() && v != "0") {
            eprintln!(
                "rowtrail-tests: keeping database {} ({})",
                self.name, self.url
            );
            return;
        }
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // A separate thread with its own runtime: blocking inside a tokio runtime's thread
        // (the test's) is not allowed, and a current-thread runtime could not make progress.
        let spawned = std::thread::Builder::new()
            .name(format!("drop-{name}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot build a runtime: {e}"))?;
                rt.block_on(drop_database(&admin_url, &name))
            });
        let outcome = match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err("the drop thread panicked".into())),
            Err(e) => Err(format!("cannot spawn a thread: {e}")),
        };
        if let Err(e) = outcome {
            eprintln!(
                "rowtrail-tests: warning: could not drop test database {}: {e}",
                self.name
            );
        }
    }
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("name", &self.name)
            .field("url", &self.url)
            .finish()
    }
}

/// Terminate the database's connections, drop its replication slots, drop it. Retries for a
/// while: terminated backends and walsenders take a moment to go away.
async fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    let admin = try_connect(admin_url)
        .await
        .map_err(|e| format!("cannot connect to {admin_url}: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut force = true;
    loop {
        let attempt = async {
            admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = $1 AND pid <> pg_backend_pid()",
                    &[&name],
                )
                .await?;
            admin
                .execute(
                    "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots \
                     WHERE database = $1 AND active_pid IS NOT NULL",
                    &[&name],
                )
                .await?;
            admin
                .execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                     WHERE database = $1 AND NOT active",
                    &[&name],
                )
                .await?;
            let with = if force { " WITH (FORCE)" } else { "" };
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\"{with}"))
                .await
        };
        match attempt.await {
            Ok(()) => return Ok(()),
            // WITH (FORCE) is PostgreSQL 13+; on older servers drop without it.
            Err(e) if force && e.code() == Some(&SqlState::SYNTAX_ERROR) => force = false,
            Err(e) if e.is_closed() => return Err(format!("lost the admin connection: {e}")),
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(describe(&e)),
        }
    }
}

/// A database error with its detail and hint, which `Display` leaves out.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{}: {} ({})", db.severity(), db.message(), db.code().code());
            if let Some(d) = db.detail() {
                s.push_str(&format!("; detail: {d}"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("; hint: {h}"));
            }
            s
        }
        None => e.to_string(),
    }
}

/// `rt_<prefix>_<pid>_<counter>_<time>`, at most 63 bytes, only `[a-z0-9_]`.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(24)
        .collect();
    if clean.is_empty() {
        clean.push_str("db");
    }
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Tells apart databases left by an earlier, killed run whose pid and counter were the same.
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let name = format!(
        "rt_{clean}_{}_{n}_{}",
        std::process::id(),
        base36(t % 36u128.pow(6))
    );
    debug_assert!(name.len() <= 63);
    name
}

fn base36(mut v: u128) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(v % 36) as usize]);
        v /= 36;
        if v == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

/// `url` with its database (the path) replaced by `db`; query parameters are kept.
fn with_database(url: &str, db: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[after_scheme..];
    let authority_end = rest
        .find(['/', '?'])
        .map(|i| after_scheme + i)
        .unwrap_or(url.len());
    let query_start = url[authority_end..]
        .find('?')
        .map(|i| authority_end + i)
        .unwrap_or(url.len());
    format!("{}/{db}{}", &url[..authority_end], &url[query_start..])
}

/// The workspace root: the parent of this package's directory (`tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent directory")
        .to_path_buf()
}

/// The built `rowtrail` CLI binary.
///
/// `$ROWTRAIL_BIN` if set; else `<target>/debug/rowtrail`, where `<target>` is
/// `$CARGO_TARGET_DIR` (relative to the workspace root when relative) or `<workspace>/target`;
/// else the `rowtrail` beside the running test binary's profile directory (covers
/// `--release` and a target dir set in `.cargo/config.toml`).
///
/// # Panics
/// When the binary does not exist: build it first with `cargo build -p rowtrail-cli`
/// (`make test` does).
pub fn rowtrail_bin() -> PathBuf {
    let exe = format!("rowtrail{}", std::env::consts::EXE_SUFFIX);
    if let Some(p) = std::env::var_os("ROWTRAIL_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "ROWTRAIL_BIN={} does not exist: build it first: cargo build -p rowtrail-cli",
            p.display()
        );
        return p;
    }
    let root = workspace_root();
    let target = match std::env::var_os("CARGO_TARGET_DIR").filter(|t| !t.is_empty()) {
        Some(t) => root.join(t), // join keeps an absolute path as it is
        None => root.join("target"),
    };
    let bin = target.join("debug").join(&exe);
    if bin.is_file() {
        return bin;
    }
    // The test binary lives in <target>/<profile>/deps/.
    let beside = std::env::current_exe()
        .ok()
        .and_then(|t| t.parent()?.parent().map(|profile| profile.join(&exe)))
        .filter(|b| b.is_file());
    match beside {
        Some(b) => b,
        None => panic!(
            "{} not found: build it first: cargo build -p rowtrail-cli",
            bin.display()
        ),
    }
}

/// A new temporary directory (`rowtrail-test-*` under the system temp dir) for caches,
/// configs and exports; deleted when the returned value is dropped.
///
/// # Panics
/// When the directory cannot be created.
pub fn temp_data_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("rowtrail-test-")
        .tempdir()
        .expect("cannot create a temporary directory")
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn database_in_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5555/postgres", "x"),
            "postgres://postgres@127.0.0.1:5555/x"
        );
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5555/postgres?sslmode=disable",
                "x"
            ),
            "postgres://postgres@127.0.0.1:5555/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
        assert_eq!(
            with_database("postgres://u@h:1?a=b", "x"),
            "postgres://u@h:1/x?a=b"
        );
    }

    #[test]
    fn names_are_unique_safe_and_short() {
        let a = unique_name("Some Test/with-odd chars and a very long name indeed");
        let b = unique_name("Some Test/with-odd chars and a very long name indeed");
        assert_ne!(a, b);
        for n in [&a, &b] {
            assert!(n.len() <= 63, "{n}");
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{n}"
            );
            assert!(n.starts_with("rt_some_test_with_odd_cha"), "{n}");
        }
        assert!(unique_name("").starts_with("rt_db_"));
    }
}
