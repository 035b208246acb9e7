//! Shared helpers for the PostgreSQL end-to-end tests: a fresh database with a Rowtrail source
//! on it (added through the engine's own plan/create calls), syncing it into a real SQLite
//! cache, and reading events back the way a user sees them.
//!
//! Every source is named after its database (`rt_<prefix>_<pid>_<n>_<time>`), so its
//! replication slot (`rowtrail_<name>`, cluster-wide) never collides with another test's.
//! Keep prefixes short (≤ 10 characters): the engine cuts slot names after 40 characters.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rowtrail_core::cache::query::{EventFilter, EventRow};
use rowtrail_core::cache::{Cache, Durable};
use rowtrail_core::history::{self, History};
use rowtrail_core::source::postgres::catalog::TableScope;
use rowtrail_core::source::{Progress, RunOptions, RunUntil, SourceError, SourceState};
use rowtrail_core::sync;
use rowtrail_tests::tokio_postgres::Client;
use rowtrail_tests::{connect, temp_data_dir, TestDb};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// The session settings Rowtrail's replication connection uses, so that `SELECT col::text`
/// on a test connection prints exactly what the stream carries.
pub const SESSION_SQL: &str = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; \
    SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'";

/// A test database with a Rowtrail source capturing it into a temporary cache.
pub struct PgSrc {
    /// The database (dropped, with its slot, at the end of the test).
    pub db: TestDb,
    /// The source name (= the database name, so the slot name is unique in the cluster).
    pub name: String,
    /// The workspace directory (holds `cache.sqlite`).
    pub dir: tempfile::TempDir,
    /// The cache file.
    pub cache_path: PathBuf,
}

impl PgSrc {
    /// A fresh database where `schema_sql` has run, plus a cache with no source yet.
    pub async fn bare(prefix: &str, schema_sql: &str) -> PgSrc {
        let db = TestDb::new(prefix).await;
        if !schema_sql.trim().is_empty() {
            db.exec(schema_sql).await;
        }
        let dir = temp_data_dir();
        let cache_path = dir.path().join("cache.sqlite");
        let name = db.name.clone();
        assert!(
            name.len() <= 40,
            "source name {name} is too long: the slot name would be cut; use a shorter prefix"
        );
        PgSrc {
            db,
            name,
            dir,
            cache_path,
        }
    }

    /// [`PgSrc::bare`], then the source is planned and created for every table.
    pub async fn new(prefix: &str, schema_sql: &str) -> PgSrc {
        let src = PgSrc::bare(prefix, schema_sql).await;
        src.add_source().await;
        src
    }

    /// Plans and creates the source (all tables); panics with the engine's message on failure.
    pub async fn add_source(&self) {
        let cache = self.cache();
        let plan = sync::plan_postgres_source(
            &cache,
            &self.name,
            &self.db.url,
            None,
            TableScope::All,
            false,
        )
        .await
        .unwrap_or_else(|e| panic!("plan_postgres_source failed: {e}"));
        sync::create_postgres_source(&cache, &plan, None)
            .await
            .unwrap_or_else(|e| panic!("create_postgres_source failed: {e}"));
    }

    /// Opens the cache.
    pub fn cache(&self) -> Cache {
        Cache::open(&self.cache_path).expect("cache opens")
    }

    /// Reads the source until caught up; panics with the engine's message on failure.
    pub async fn sync(&self) -> Durable {
        let opts = RunOptions {
            until: RunUntil::CaughtUp,
            cancel: CancellationToken::new(),
            progress: None,
        };
        sync::run_source(&self.cache_path, &self.name, None, &opts)
            .await
            .unwrap_or_else(|e| panic!("sync of {} failed: {e}", self.name))
    }

    /// Starts following the source in the background (as `rowtrail watch` does), recording
    /// every progress report.
    pub fn watch(&self) -> Watch {
        Watch::start(&self.cache_path, &self.name)
    }

    /// Every stored event, oldest first.
    pub fn events(&self) -> Vec<EventRow> {
        self.cache()
            .events(&EventFilter::default())
            .expect("events read back")
    }

    /// Stored events of one table (`name` or `schema.name`), oldest first.
    pub fn table_events(&self, table: &str) -> Vec<EventRow> {
        self.cache()
            .events(&EventFilter {
                table: Some(table.to_string()),
                ..EventFilter::default()
            })
            .expect("events read back")
    }

    /// Every stored event in the scripting-contract JSON form.
    pub fn events_json(&self) -> Vec<Value> {
        self.events().iter().map(EventRow::to_json).collect()
    }

    /// A record's history; panics with the engine's message on failure.
    pub fn history(&self, table: &str, key: &[&str]) -> History {
        let key: Vec<String> = key.iter().map(|s| s.to_string()).collect();
        history::record_history(&self.cache(), None, table, &key)
            .unwrap_or_else(|e| panic!("history of {table} {key:?} failed: {e}"))
    }

    /// A connection to the test database with Rowtrail's session settings (UTC, ISO, hex).
    pub async fn client(&self) -> Client {
        utc_client(&self.db.url).await
    }

    /// The slot this source owns.
    pub fn slot(&self) -> String {
        rowtrail_core::source::postgres::catalog::object_name(&self.name)
    }
}

/// A connection with Rowtrail's session settings.
/// A source followed in the background by [`PgSrc::watch`].
pub struct Watch {
    /// Every progress report so far.
    pub reports: Arc<Mutex<Vec<Progress>>>,
    cancel: CancellationToken,
    runner: tokio::task::JoinHandle<Result<Durable, SourceError>>,
}

impl Watch {
    /// Starts following source `name` of the cache at `cache_path` in the background (as
    /// `rowtrail watch` does), recording every progress report.
    pub fn start(cache_path: &Path, name: &str) -> Watch {
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
        Watch { reports, cancel, runner }
    }

    /// Every progress report so far, in order.
    #[allow(dead_code)] // not every test file that includes this module looks at them
    pub fn reports(&self) -> Vec<Progress> {
        self.reports.lock().unwrap().clone()
    }

    /// The states reported so far, in order.
    pub fn states(&self) -> Vec<SourceState> {
        self.reports
            .lock()
            .unwrap()
            .iter()
            .map(|p| p.state)
            .collect()
    }

    /// Stops following (within 30 s) and returns how the run ended.
    pub async fn stop(self) -> Result<Durable, SourceError> {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.runner)
            .await
            .expect("the source stops when cancelled")
            .expect("no panic")
    }
}

pub async fn utc_client(url: &str) -> Client {
    let c = connect(url).await;
    c.batch_execute(SESSION_SQL)
        .await
        .expect("session settings");
    c
}

/// Runs `f` until it returns true or `timeout` passes; returns whether it became true.
pub async fn wait_until<F, Fut>(timeout: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if f().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `s` is an LSN exactly as PostgreSQL prints `pg_lsn` (`X/XXXXXXX`, upper-case hex,
/// no leading zeros).
pub fn is_pg_lsn_text(s: &str) -> bool {
    let Some((hi, lo)) = s.split_once('/') else {
        return false;
    };
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 8
            && p.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
            && (p == "0" || !p.starts_with('0'))
    };
    part_ok(hi) && part_ok(lo)
}

/// An LSN's numeric value.
pub fn lsn_num(s: &str) -> u64 {
    let (hi, lo) = s
        .split_once('/')
        .unwrap_or_else(|| panic!("not an LSN: {s:?}"));
    (u64::from_str_radix(hi, 16).unwrap() << 32) | u64::from_str_radix(lo, 16).unwrap()
}

/// The value of `col` in an image of the JSON form: `Some(Value::Null)` for SQL NULL,
/// `None` when the column is absent (unknown).
pub fn img<'a>(event: &'a Value, image: &str, col: &str) -> Option<&'a Value> {
    event.get(image).and_then(|i| i.get(col))
}

/// A tiny deterministic PRNG (xorshift), seeded from the clock unless `ROWTRAIL_TEST_SEED`
/// is set; the seed is printed so a failing run can be repeated.
pub struct Rng(pub u64);

impl Rng {
    pub fn from_env_or_clock(label: &str) -> Rng {
        let seed = std::env::var("ROWTRAIL_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0x9E37_79B9_7F4A_7C15)
            })
            | 1;
        eprintln!("{label}: random seed {seed} (set ROWTRAIL_TEST_SEED={seed} to repeat)");
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}
