//! The SQLite source against real SQLite files.

mod capture;
mod grouping;
mod log;
mod setup;
mod shapes;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::log::{commit_time, decode_row, value_cell, RawRow};
use super::triggers::trigger_name;
use super::{
    install, plan_install, plan_refresh, refresh, uninstall, SqliteSource, DEFAULT_CHUNK_ROWS,
};
use crate::cache::query::{EventFilter, EventRow};
use crate::cache::{Cache, Durable, WriterHandle};
use crate::event::{Cell, Op};
use crate::source::{Progress, RunOptions, RunUntil, Source, SourceError, SourceState};

fn app_db(dir: &Path, name: &str, wal: bool) -> (PathBuf, Connection) {
    let path = dir.join(name);
    let conn = Connection::open(&path).unwrap();
    if wal {
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    }
    (path, conn)
}

/// Runs the application's transaction `sql` with a numbered context.
fn app_txn(conn: &Connection, actor: &str, reason: Option<&str>, sql: &str) {
    conn.execute_batch("BEGIN").unwrap();
    conn.execute(
        "UPDATE _rowtrail_context SET txn = txn + 1, actor = ?1, reason = ?2",
        params![actor, reason],
    )
    .unwrap();
    conn.execute_batch(sql).unwrap();
    conn.execute_batch("COMMIT").unwrap();
}

fn opts(until: RunUntil) -> RunOptions {
    RunOptions {
        until,
        cancel: CancellationToken::new(),
        progress: None,
    }
}

/// Captures the source into the cache at `cache_path` (created on first use).
async fn capture_with(
    src: &mut SqliteSource,
    cache_path: &Path,
) -> (Result<(), SourceError>, Durable) {
    let cache = Cache::open(cache_path).unwrap();
    let rec = match cache.source(src.name()) {
        Ok(r) => r,
        Err(_) => cache
            .add_source(
                src.name(),
                "sqlite",
                &serde_json::json!({"path": src.path()}),
            )
            .unwrap(),
    };
    let mut writer = WriterHandle::spawn(cache_path, rec.id).unwrap();
    let res = src.run(&mut writer, &opts(RunUntil::CaughtUp)).await;
    let durable = writer.close().await.unwrap();
    (res, durable)
}

async fn capture(db: &Path, cache_path: &Path) -> Durable {
    let mut src = SqliteSource::new("app", db);
    let (res, d) = capture_with(&mut src, cache_path).await;
    res.unwrap();
    d
}

fn all_events(cache_path: &Path) -> Vec<EventRow> {
    Cache::open(cache_path)
        .unwrap()
        .events(&EventFilter::default())
        .unwrap()
}

fn img(e: &EventRow, after: bool) -> serde_json::Value {
    let j = e.to_json();
    j[if after { "after" } else { "before" }].clone()
}

fn record(cache_path: &Path, table: &str, key: &str) -> Vec<EventRow> {
    let cache = Cache::open(cache_path).unwrap();
    let t = cache.find_tables(None, table).unwrap();
    assert_eq!(t.len(), 1, "table {table}");
    cache.record_events(t[0].id, key).unwrap()
}

fn txn_count(cache_path: &Path) -> i64 {
    Cache::open(cache_path)
        .unwrap()
        .conn()
        .query_row("SELECT count(*) FROM transactions", [], |r| r.get(0))
        .unwrap()
}
