//! The SQLite source: a database's changes captured by triggers into a log table inside that
//! database, read incrementally into the cache.
//!
//! # What [`install`] creates
//!
//! - `_rowtrail_log (id INTEGER PRIMARY KEY AUTOINCREMENT, txn, stmt_at, tbl, op, old, new,
//!   actor, reason)`: one row per row change. `old`/`new` are JSON objects holding every column
//!   in table order (`{"id":"5001","st":"P",…}`): each value is SQLite's text form of the value
//!   (`CAST(x AS TEXT)`), BLOBs as lower-case hex with a `\x` prefix (like PostgreSQL's bytea),
//!   NULL as `null`. `stmt_at` is `strftime('%Y-%m-%d %H:%M:%f','now')` (UTC), which SQLite keeps
//!   constant within one statement.
//! - `_rowtrail_context (txn, actor, reason)`: one row an application may update at the start of
//!   each of its transactions (`UPDATE _rowtrail_context SET txn = txn + 1, actor = ?, reason = ?`).
//!   Every log row copies it. An application that numbers its transactions must number every
//!   one: rows are grouped by that number, and a transaction that does not bump it is merged
//!   with the one before it.
//! - `_rowtrail_tables (tbl, columns)`: the shape of each captured table as installed (column
//!   names, declared types, key flags), so a table's history stays typed and keyed after the
//!   table is altered or dropped.
//! - `AFTER INSERT/UPDATE/DELETE` triggers `_rowtrail_<table>_<op>` on every captured table.
//!
//! The record key is the primary key; a table without one is keyed by its `rowid`, which is then
//! captured as an extra first column named `rowid` (or `_rowid_`/`oid` when a column has that
//! name). After `ALTER TABLE … ADD COLUMN`, [`refresh`] (`rowtrail source refresh NAME`) re-creates
//! the triggers so they capture the new column (the source warns until then); the history before
//! and after stays readable, each event against the columns it was written with. SQLite refuses
//! `DROP COLUMN` on a column a trigger names: [`uninstall`], alter, [`install`] again.
//!
//! # Modules
//!
//! [`install`](mod@install) creates and removes the capture objects, `triggers` writes the
//! trigger SQL, `shape` reads table shapes, `log` reads and decodes log rows, and `read` runs a
//! source over them.
//!
//! # Reading
//!
//! [`SqliteSource`] opens the database read-only and reads the log from the cache's durable
//! position (the last log id stored) in bounded chunks. SQLite lets one connection write at a
//! time, so each commit's log rows are consecutive ids, in commit order. Consecutive rows with the
//! same non-zero `txn` form one transaction (exact, when the application numbers every one).
//! A transaction's position is its last log id, its commit time the `stmt_at` of that row, its
//! txid the `txn` number (or, when 0, its first log id).
//!
//! # Why unnumbered changes are "statement groups", not transactions
//!
//! When `txn` is 0 (the application never numbers its transactions) consecutive rows with the
//! same `stmt_at` form one group, stored with the grouping `"statement"`
//! ([`STATEMENT_GROUPING`]) so every face calls it a statement group, never a transaction. A
//! trigger cannot tell where the application's transaction began or ended: SQL exposes no
//! transaction id and no commit hook; `changes()`, `total_changes()` and `last_insert_rowid()`
//! are per connection and move per row, not per commit; triggers of the main schema cannot use
//! temporary tables; `pragma_data_version` changes only for other connections' commits and is
//! refused inside triggers when `trusted_schema` is off (the application's writes would then
//! fail); `'now'` is fixed per statement, to the millisecond. So a group is one statement's
//! changes, or several consecutive ones in the same millisecond, and a commit of many
//! statements spans several groups. Exact transactions need the one `UPDATE` above per
//! application transaction.

mod install;
mod log;
mod read;
mod refresh;
mod shape;
#[cfg(test)]
mod tests;
mod triggers;

pub use self::install::{
    install, plan_install, uninstall, InstallPlan, InstallReport, InstalledTable,
};
pub use self::refresh::{plan_refresh, refresh, RefreshPlan, RefreshTable};

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{RunOptions, Source, SourceError};
use crate::cache::WriterHandle;

/// The log table the triggers write.
pub const LOG_TABLE: &str = "_rowtrail_log";
/// The one-row context table applications update per transaction.
pub const CONTEXT_TABLE: &str = "_rowtrail_context";
/// The table recording each captured table's shape as installed.
pub const SHAPES_TABLE: &str = "_rowtrail_tables";
/// Prefix of every object Rowtrail creates in a captured database.
const PREFIX: &str = "_rowtrail_";
/// The grouping of log rows that carry no transaction number (see [`WriteOp::Grouping`](crate::cache::WriteOp::Grouping)).
pub const STATEMENT_GROUPING: &str = "statement";
/// Log rows read per query.
pub const DEFAULT_CHUNK_ROWS: usize = 5_000;
/// How often a following run looks for new log rows.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Minimum pause between two periodic progress reports.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// How long SQLite waits on a lock held by the application before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Quotes an SQLite identifier: double quotes, inner double quotes doubled.
pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn is_internal(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("sqlite_") || lower.starts_with(PREFIX)
}

/// Reads a SQLite database's `_rowtrail_log` into the cache. See the module documentation.
#[derive(Debug, Clone)]
pub struct SqliteSource {
    name: String,
    path: PathBuf,
    chunk_rows: usize,
    poll: Duration,
}

impl SqliteSource {
    /// A source named `name` reading the database at `path` (on which [`install`] ran).
    pub fn new(name: &str, path: &Path) -> SqliteSource {
        SqliteSource {
            name: name.to_string(),
            path: path.to_path_buf(),
            chunk_rows: DEFAULT_CHUNK_ROWS,
            poll: DEFAULT_POLL_INTERVAL,
        }
    }

    /// Reads at most `rows` log rows per query (default [`DEFAULT_CHUNK_ROWS`]; at least 1).
    /// Bounds memory: a transaction larger than this is streamed, never held.
    pub fn with_chunk_rows(mut self, rows: usize) -> SqliteSource {
        self.chunk_rows = rows.max(1);
        self
    }

    /// How often a following run looks for new rows (default [`DEFAULT_POLL_INTERVAL`]).
    pub fn with_poll_interval(mut self, every: Duration) -> SqliteSource {
        self.poll = every;
        self
    }

    /// The source's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Source for SqliteSource {
    async fn run(
        &mut self,
        writer: &mut WriterHandle,
        opts: &RunOptions,
    ) -> Result<(), SourceError> {
        let mut run = read::Run::open(self, writer, opts).await?;
        run.main(writer).await
    }
}
