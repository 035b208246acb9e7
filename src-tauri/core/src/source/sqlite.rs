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
//! name). After `ALTER TABLE … ADD COLUMN`, run [`install`] again so the triggers capture the new
//! column (the source warns until then); the history before and after stays readable, each event
//! against the columns it was written with. SQLite refuses `DROP COLUMN` on a column a trigger
//! names: [`uninstall`], alter, [`install`] again.
//!
//! # Reading
//!
//! [`SqliteSource`] opens the database read-only and reads the log from the cache's durable
//! position (the last log id stored) in bounded chunks. Consecutive rows with the same non-zero
//! `txn` form one transaction; when `txn` is 0 (the application never numbers its transactions)
//! consecutive rows with the same `stmt_at` (one statement) form one. A transaction's position is
//! its last log id, its commit time the `stmt_at` of that row, its txid the `txn` number (or,
//! when 0, its first log id).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, TransactionBehavior};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{push, Progress, RunOptions, RunUntil, Source, SourceError, SourceState};
use crate::cache::{Durable, WriteOp, WriterHandle};
use crate::event::{Cell, ChangeEvent, ColumnDef, Op, Relation, TxnMeta};

/// The log table the triggers write.
pub const LOG_TABLE: &str = "_rowtrail_log";
/// The one-row context table applications update per transaction.
pub const CONTEXT_TABLE: &str = "_rowtrail_context";
/// The table recording each captured table's shape as installed.
pub const SHAPES_TABLE: &str = "_rowtrail_tables";
/// Prefix of every object Rowtrail creates in a captured database.
const PREFIX: &str = "_rowtrail_";
/// Log rows read per query.
pub const DEFAULT_CHUNK_ROWS: usize = 5_000;
/// How often a following run looks for new log rows.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Minimum pause between two periodic progress reports.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// How long SQLite waits on a lock held by the application before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------
// Install / uninstall
// ---------------------------------------------------------------------------------------------

/// What [`install`] set up.
#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    /// The database file.
    pub path: PathBuf,
    /// Names of the tables now captured by this install, in name order.
    pub tables: Vec<String>,
    /// The captured tables that have no primary key: their records are keyed by `rowid`.
    pub without_primary_key: Vec<String>,
    /// Each captured table's columns and key, in the order of `tables`.
    pub details: Vec<InstalledTable>,
}

/// One captured table.
#[derive(Debug, Clone, Serialize)]
pub struct InstalledTable {
    /// Table name, exactly as in the database.
    pub name: String,
    /// The columns the triggers capture, in image order (a `rowid` column first when the
    /// table has no primary key).
    pub columns: Vec<ColumnDef>,
    /// Key column names, in primary-key order.
    pub key: Vec<String>,
    /// The table has no primary key; its records are keyed by `rowid`, which changes under
    /// `VACUUM` for such tables, so keys of old events may not match today's rows.
    pub no_primary_key: bool,
}

/// Creates (or refreshes) the log table, the context table and the capture triggers on every
/// user table of the database at `path`, or only on `tables`. Idempotent and atomic: one
/// transaction; running it again after `ALTER TABLE` re-creates the triggers with the table's
/// current columns, and keeps the log.
///
/// Tables named `sqlite_%` or `_rowtrail_%`, views and virtual tables are never captured; naming
/// one in `tables` is an error, as is naming a table that does not exist.
pub fn install(path: &Path, tables: Option<&[String]>) -> Result<InstallReport, SourceError> {
    let label = file_label(path);
    let fail = |what: String| SourceError::Config {
        source_name: label.clone(),
        message: format!(
            "cannot install capture triggers in {}: {what}",
            path.display()
        ),
    };
    let sql_fail = |what: &str, e: rusqlite::Error| fail(format!("{what}: {e}"));
    let mut conn = open_read_write(path, &label)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_fail("cannot start a write transaction", e))?;
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {LOG_TABLE} (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            txn     INTEGER,
            stmt_at TEXT,
            tbl     TEXT,
            op      TEXT,
            old     TEXT,
            new     TEXT,
            actor   TEXT,
            reason  TEXT
        );
        CREATE TABLE IF NOT EXISTS {CONTEXT_TABLE} (txn INTEGER NOT NULL DEFAULT 0, actor TEXT, reason TEXT);
        INSERT INTO {CONTEXT_TABLE} (txn) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {CONTEXT_TABLE});
        CREATE TABLE IF NOT EXISTS {SHAPES_TABLE} (tbl TEXT PRIMARY KEY, columns TEXT NOT NULL);"
    ))
    .map_err(|e| sql_fail("cannot create the log tables", e))?;

    let all = list_tables(&tx).map_err(|e| sql_fail("cannot list tables", e))?;
    let names: Vec<String> = match tables {
        None => all
            .iter()
            .filter(|(n, kind)| kind == "table" && !is_internal(n))
            .map(|(n, _)| n.clone())
            .collect(),
        Some(list) => {
            let mut out = Vec::new();
            for wanted in list {
                let found = all.iter().find(|(n, _)| n.eq_ignore_ascii_case(wanted));
                match found {
                    None => return Err(fail(format!("no table named {wanted:?}"))),
                    Some((n, _)) if is_internal(n) => {
                        return Err(fail(format!(
                            "{n:?} is an internal table and cannot be captured"
                        )))
                    }
                    Some((n, kind)) if kind != "table" => {
                        return Err(fail(format!(
                            "{n:?} is a {kind}, not an ordinary table; only tables can be captured"
                        )))
                    }
                    Some((n, _)) => {
                        if !out.contains(n) {
                            out.push(n.clone());
                        }
                    }
                }
            }
            out
        }
    };

    let mut details: Vec<InstalledTable> = Vec::new();
    for name in names {
        let shape = table_shape(&tx, &name)
            .map_err(|e| sql_fail(&format!("cannot read the columns of {name:?}"), e))?
            .ok_or_else(|| fail(format!("no table named {name:?}")))?;
        if !shape.columns.iter().any(|c| c.key) {
            return Err(fail(format!(
                "table {name:?} has no primary key and its columns hide every rowid alias (rowid, _rowid_, oid)"
            )));
        }
        // Drop every trigger of ours on this table, including ones named after an old name of it.
        let old: Vec<String> = {
            let mut stmt = tx
                .prepare(
                    "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?1
                     AND name LIKE '\\_rowtrail\\_%' ESCAPE '\\'",
                )
                .map_err(|e| sql_fail("cannot list triggers", e))?;
            let rows = stmt
                .query_map([&name], |r| r.get::<_, String>(0))
                .map_err(|e| sql_fail("cannot list triggers", e))?;
            rows.collect::<Result<_, _>>()
                .map_err(|e| sql_fail("cannot list triggers", e))?
        };
        for t in old {
            tx.execute_batch(&format!("DROP TRIGGER IF EXISTS {}", quote_ident(&t)))
                .map_err(|e| sql_fail(&format!("cannot drop trigger {t:?}"), e))?;
        }
        for op in [Op::Insert, Op::Update, Op::Delete] {
            let sql = trigger_sql(&name, &shape, op);
            tx.execute_batch(&sql)
                .map_err(|e| sql_fail(&format!("cannot create the {op} trigger on {name:?}"), e))?;
        }
        let columns = serde_json::to_string(&shape.columns)
            .map_err(|e| fail(format!("cannot encode the columns of {name:?}: {e}")))?;
        tx.execute(
            &format!(
                "INSERT INTO {SHAPES_TABLE} (tbl, columns) VALUES (?1, ?2)
                 ON CONFLICT (tbl) DO UPDATE SET columns = excluded.columns"
            ),
            params![name, columns],
        )
        .map_err(|e| sql_fail("cannot record the table's shape", e))?;
        details.push(InstalledTable {
            key: shape.key_names(),
            no_primary_key: shape.rowid.is_some(),
            columns: shape.columns,
            name,
        });
    }
    tx.commit().map_err(|e| sql_fail("cannot commit", e))?;
    details.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(InstallReport {
        path: path.to_path_buf(),
        tables: details.iter().map(|t| t.name.clone()).collect(),
        without_primary_key: details
            .iter()
            .filter(|t| t.no_primary_key)
            .map(|t| t.name.clone())
            .collect(),
        details,
    })
}

/// Removes everything [`install`] created: the triggers, the log (with any rows not yet read),
/// the context table and the recorded shapes. The application's own tables are untouched.
pub fn uninstall(path: &Path) -> Result<(), SourceError> {
    let label = file_label(path);
    let fail = |what: &str, e: rusqlite::Error| SourceError::Config {
        source_name: label.clone(),
        message: format!("cannot remove capture from {}: {what}: {e}", path.display()),
    };
    let mut conn = open_read_write(path, &label)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| fail("cannot start a write transaction", e))?;
    let objects: Vec<(String, String)> = {
        let mut stmt = tx
            .prepare(
                "SELECT type, name FROM sqlite_schema WHERE name LIKE '\\_rowtrail\\_%' ESCAPE '\\'
                 AND type IN ('trigger', 'view', 'table')
                 ORDER BY CASE type WHEN 'trigger' THEN 0 WHEN 'view' THEN 1 ELSE 2 END",
            )
            .map_err(|e| fail("cannot list objects", e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| fail("cannot list objects", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| fail("cannot list objects", e))?
    };
    for (kind, name) in objects {
        let kw = match kind.as_str() {
            "trigger" => "TRIGGER",
            "view" => "VIEW",
            _ => "TABLE",
        };
        tx.execute_batch(&format!("DROP {kw} IF EXISTS {}", quote_ident(&name)))
            .map_err(|e| fail(&format!("cannot drop {kind} {name:?}"), e))?;
    }
    tx.commit().map_err(|e| fail("cannot commit", e))?;
    Ok(())
}

/// Quotes an SQLite identifier: double quotes, inner double quotes doubled.
pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Quotes an SQL string literal: single quotes, inner single quotes doubled.
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn is_internal(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("sqlite_") || lower.starts_with(PREFIX)
}

/// A short name for errors raised outside a named source (install, uninstall).
fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn open_read_write(path: &Path, label: &str) -> Result<Connection, SourceError> {
    let connect = |detail: String| SourceError::Connect {
        source_name: label.to_string(),
        target: path.display().to_string(),
        detail,
    };
    if !path.is_file() {
        return Err(connect("no such file".into()));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| connect(e.to_string()))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| connect(e.to_string()))?;
    Ok(conn)
}

/// `(name, kind)` of every table-like object of the main schema (`table`, `view`, `virtual`, …).
fn list_tables(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT name, type FROM pragma_table_list WHERE schema = 'main' AND type <> 'shadow' ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// A table's captured columns.
struct TableShape {
    /// Columns in image order (the rowid alias first when the table has no primary key).
    columns: Vec<ColumnDef>,
    /// Key column names in primary-key order.
    key_order: Vec<String>,
    /// The rowid alias used as key when the table has no primary key.
    rowid: Option<&'static str>,
}

impl TableShape {
    fn key_names(&self) -> Vec<String> {
        self.key_order.clone()
    }
}

/// Reads a table's shape from `pragma_table_info`; `None` when the table does not exist.
/// Without a primary key, a `rowid` alias that no column shadows becomes the key column.
fn table_shape(conn: &Connection, table: &str) -> rusqlite::Result<Option<TableShape>> {
    let mut stmt = conn
        .prepare_cached("SELECT name, type, pk FROM pragma_table_info(?1, 'main') ORDER BY cid")?;
    let rows = stmt.query_map([table], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let cols: Vec<(String, String, i64)> = rows.collect::<Result<_, _>>()?;
    if cols.is_empty() {
        return Ok(None);
    }
    let mut pk: Vec<(i64, String)> = cols
        .iter()
        .filter(|c| c.2 > 0)
        .map(|c| (c.2, c.0.clone()))
        .collect();
    pk.sort();
    let mut columns: Vec<ColumnDef> = cols
        .into_iter()
        .map(|(name, type_name, pk)| ColumnDef {
            name,
            type_name,
            key: pk > 0,
        })
        .collect();
    if !pk.is_empty() {
        return Ok(Some(TableShape {
            columns,
            key_order: pk.into_iter().map(|p| p.1).collect(),
            rowid: None,
        }));
    }
    let alias = ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|a| !columns.iter().any(|c| c.name.eq_ignore_ascii_case(a)));
    if let Some(alias) = alias {
        columns.insert(
            0,
            ColumnDef {
                name: alias.to_string(),
                type_name: "INTEGER".to_string(),
                key: true,
            },
        );
        Ok(Some(TableShape {
            columns,
            key_order: vec![alias.to_string()],
            rowid: Some(alias),
        }))
    } else {
        Ok(Some(TableShape {
            columns,
            key_order: Vec::new(),
            rowid: None,
        }))
    }
}

/// A trigger's name: `_rowtrail_<table>_<op>`, the table name reduced to `[A-Za-z0-9_]` and,
/// when that changed it, followed by a hash of the exact name so that distinct tables never
/// share a trigger name.
fn trigger_name(table: &str, op: Op) -> String {
    let mut s: String = table
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s != table {
        s.push_str(&format!("_{:08x}", fnv1a32(table.as_bytes())));
    }
    format!("{PREFIX}{s}_{}", op.as_str())
}

fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The SQL expression building the JSON object of a row image (`NEW` or `OLD`).
///
/// Built by concatenating `json_quote` of each value rather than one `json_object(…)` call, so
/// wide tables do not hit SQLite's limit on function arguments; the concatenation is a
/// balanced tree so they do not hit the expression depth limit either.
fn image_expr(row: &str, shape: &TableShape) -> String {
    let mut terms: Vec<String> = Vec::with_capacity(shape.columns.len() * 2 + 1);
    for (i, c) in shape.columns.iter().enumerate() {
        let json_key = serde_json::Value::String(c.name.clone()).to_string();
        let sep = if i == 0 { "{" } else { "," };
        terms.push(quote_literal(&format!("{sep}{json_key}:")));
        let v = if shape.rowid == Some(c.name.as_str()) && c.key {
            format!("{row}.{}", c.name)
        } else {
            format!("{row}.{}", quote_ident(&c.name))
        };
        terms.push(format!(
            "json_quote(CASE typeof({v}) WHEN 'blob' THEN '\\x' || lower(hex({v})) ELSE CAST({v} AS TEXT) END)"
        ));
    }
    if terms.is_empty() {
        return "'{}'".to_string();
    }
    terms.push("'}'".to_string());
    balanced_concat(&terms)
}

fn balanced_concat(terms: &[String]) -> String {
    match terms.len() {
        0 => "''".to_string(),
        1 => terms[0].clone(),
        n => {
            let (a, b) = terms.split_at(n / 2);
            format!("({} || {})", balanced_concat(a), balanced_concat(b))
        }
    }
}

fn trigger_sql(table: &str, shape: &TableShape, op: Op) -> String {
    let (event, old, new) = match op {
        Op::Insert => ("INSERT", "NULL".to_string(), image_expr("NEW", shape)),
        Op::Update => ("UPDATE", image_expr("OLD", shape), image_expr("NEW", shape)),
        _ => ("DELETE", image_expr("OLD", shape), "NULL".to_string()),
    };
    format!(
        "CREATE TRIGGER {trigger} AFTER {event} ON {table_q} FOR EACH ROW BEGIN
  INSERT INTO {LOG_TABLE} (txn, stmt_at, tbl, op, old, new, actor, reason)
  SELECT coalesce(c.txn, 0), strftime('%Y-%m-%d %H:%M:%f', 'now'), {table_lit}, '{op}', {old}, {new}, c.actor, c.reason
  FROM (SELECT 1) LEFT JOIN (SELECT txn, actor, reason FROM {CONTEXT_TABLE} LIMIT 1) AS c;
END",
        trigger = quote_ident(&trigger_name(table, op)),
        table_q = quote_ident(table),
        table_lit = quote_literal(table),
        op = op.as_str(),
    )
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

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
        let mut run = Run::open(self, writer, opts).await?;
        run.main(writer).await
    }
}

/// One log row as stored, before decoding.
#[derive(Debug, Clone)]
struct RawRow {
    id: i64,
    txn: i64,
    stmt_at: Option<String>,
    tbl: Option<String>,
    op: Option<String>,
    old: Option<String>,
    new: Option<String>,
    actor: Option<String>,
    reason: Option<String>,
}

impl RawRow {
    /// Whether two consecutive rows belong to the same transaction.
    fn same_group(&self, other: &RawRow) -> bool {
        if self.txn != 0 || other.txn != 0 {
            self.txn == other.txn
        } else {
            self.stmt_at == other.stmt_at
        }
    }
}

/// A decoded log row.
struct Decoded {
    op: Op,
    tbl: String,
    old: Option<Map<String, Value>>,
    new: Option<Map<String, Value>>,
}

/// Any value as text: text and blobs as (lossy) UTF-8, numbers in their text form.
fn text_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match r.get_ref(i)? {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    })
}

const SELECT_ROWS: &str =
    "SELECT id, coalesce(CAST(txn AS INTEGER), 0), stmt_at, tbl, op, old, new, actor, reason
    FROM _rowtrail_log WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3";

fn read_rows(
    conn: &Connection,
    after: i64,
    upto: i64,
    limit: usize,
) -> rusqlite::Result<Vec<RawRow>> {
    let mut stmt = conn.prepare_cached(SELECT_ROWS)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![after, upto, limit], |r| {
        Ok(RawRow {
            id: r.get(0)?,
            txn: r.get(1)?,
            stmt_at: text_at(r, 2)?,
            tbl: text_at(r, 3)?,
            op: text_at(r, 4)?,
            old: text_at(r, 5)?,
            new: text_at(r, 6)?,
            actor: text_at(r, 7)?,
            reason: text_at(r, 8)?,
        })
    })?;
    rows.collect()
}

/// `(AUTOINCREMENT high-water mark, max id)` of the log.
fn log_bounds(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.prepare_cached(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = '_rowtrail_log'), 0),
                coalesce((SELECT max(id) FROM _rowtrail_log), 0)",
    )?
    .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
}

/// The last row `(id, stmt_at)` of the group starting at `first`, read in one statement so
/// that the answer belongs to one snapshot of the log.
fn group_end(
    conn: &Connection,
    first: i64,
    txn: i64,
    stmt_at: Option<String>,
) -> rusqlite::Result<(i64, Option<String>)> {
    conn.prepare_cached(
        "SELECT id, stmt_at FROM _rowtrail_log
         WHERE id >= ?1 AND id < coalesce((
             SELECT id FROM _rowtrail_log
             WHERE id > ?1 AND NOT (coalesce(CAST(txn AS INTEGER), 0) = ?2 AND (?2 <> 0 OR stmt_at IS ?3))
             ORDER BY id LIMIT 1), 9223372036854775807)
         ORDER BY id DESC LIMIT 1",
    )?
    .query_row(params![first, txn, stmt_at], |r| Ok((r.get(0)?, text_at(r, 1)?)))
}

/// Column shapes known for the captured tables: as recorded by [`install`], and as the
/// database has them now.
#[derive(Default)]
struct Shapes {
    recorded: HashMap<String, Vec<ColumnDef>>,
    live: HashMap<String, Vec<ColumnDef>>,
}

fn load_shapes(conn: &Connection) -> rusqlite::Result<Shapes> {
    let mut shapes = Shapes::default();
    let has_shapes: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '_rowtrail_tables'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if has_shapes {
        let mut stmt = conn.prepare("SELECT tbl, columns FROM _rowtrail_tables")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (tbl, cols) = row?;
            // A damaged shape row only costs types and key flags: the live table fills in.
            if let Ok(cols) = serde_json::from_str::<Vec<ColumnDef>>(&cols) {
                shapes.recorded.insert(tbl, cols);
            }
        }
    }
    for (name, kind) in list_tables(conn)? {
        if kind == "table" && !is_internal(&name) {
            if let Some(shape) = table_shape(conn, &name)? {
                shapes.live.insert(name, shape.columns);
            }
        }
    }
    Ok(shapes)
}

/// The blocking reader connection, used from the async side through `spawn_blocking`.
struct Db {
    conn: Option<Connection>,
    source: String,
    file: String,
}

impl Db {
    async fn call<R, F>(&mut self, position: i64, f: F) -> Result<R, SourceError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let Some(conn) = self.conn.take() else {
            return Err(self.stream_error(
                position,
                "the reader connection was lost".into(),
                false,
            ));
        };
        let joined = tokio::task::spawn_blocking(move || {
            let r = f(&conn);
            (conn, r)
        })
        .await;
        let (conn, res) = joined
            .map_err(|e| self.stream_error(position, format!("reader task failed: {e}"), false))?;
        self.conn = Some(conn);
        res.map_err(|e| {
            let transient = matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
            );
            self.stream_error(position, e.to_string(), transient)
        })
    }

    fn stream_error(&self, position: i64, detail: String, transient: bool) -> SourceError {
        SourceError::Stream {
            source_name: self.source.clone(),
            position: position.to_string(),
            detail: format!("reading {LOG_TABLE} in {}: {detail}", self.file),
            transient,
        }
    }
}

/// Per-table relation bookkeeping for one run.
struct RelState {
    id: u32,
    /// Column names of the relation last announced.
    names: Vec<String>,
}

/// The state of one [`SqliteSource::run`].
struct Run<'a> {
    src: &'a SqliteSource,
    opts: &'a RunOptions,
    db: Db,
    shapes: Shapes,
    rels: HashMap<String, RelState>,
    next_rel: u32,
    /// Last log id handed to the writer (inside whole transactions).
    read_pos: i64,
    /// Newest log id seen.
    max_id: i64,
    start: Durable,
    pushed_since_flush: bool,
    state: SourceState,
    last_report: Instant,
}

impl<'a> Run<'a> {
    async fn open(
        src: &'a SqliteSource,
        writer: &mut WriterHandle,
        opts: &'a RunOptions,
    ) -> Result<Run<'a>, SourceError> {
        let file = src.path.display().to_string();
        let connect = |detail: String| SourceError::Connect {
            source_name: src.name.clone(),
            target: file.clone(),
            detail,
        };
        opts.report(Progress {
            source: src.name.clone(),
            state: SourceState::Connecting,
            events: 0,
            transactions: 0,
            position: writer.durable().position,
            behind: None,
            message: None,
        });
        if !src.path.is_file() {
            return Err(connect("no such file".into()));
        }
        let path = src.path.clone();
        let (conn, has_log) = tokio::task::spawn_blocking(move || -> rusqlite::Result<(Connection, bool)> {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            // Fails on a file that is not a database.
            let has_log: bool = conn.query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '_rowtrail_log'",
                [],
                |r| r.get::<_, i64>(0).map(|n| n > 0),
            )?;
            Ok((conn, has_log))
        })
        .await
        .map_err(|e| connect(e.to_string()))?
        .map_err(|e| connect(e.to_string()))?;
        if !has_log {
            return Err(SourceError::Prerequisite {
                source_name: src.name.clone(),
                problem: format!("{file} has no {LOG_TABLE} table: change capture is not installed"),
                fix: format!(
                    "install the capture triggers on {file} (rowtrail's SQLite source setup does it), then run again"
                ),
            });
        }
        let start = writer.durable();
        let mut db = Db {
            conn: Some(conn),
            source: src.name.clone(),
            file,
        };
        let pos = start.position_num;
        let (seq, max_id) = db.call(pos, log_bounds).await?;
        if seq.max(max_id) < pos {
            return Err(SourceError::Gap {
                source_name: src.name.clone(),
                detail: format!(
                    "the cache has read {LOG_TABLE} of {} up to id {pos}, but the log now ends at id {}: \
                     capture was removed and installed again, so its ids started over. Remove the source \
                     from Rowtrail and add it again to read the new log from its start.",
                    db.file,
                    seq.max(max_id)
                ),
            });
        }
        let shapes = db.call(pos, load_shapes).await?;
        let mut run = Run {
            src,
            opts,
            db,
            shapes,
            rels: HashMap::new(),
            next_rel: 1,
            read_pos: pos,
            max_id,
            start,
            pushed_since_flush: false,
            state: SourceState::CatchingUp,
            last_report: Instant::now(),
        };
        if let Some(msg) = run.uncaptured_columns() {
            run.report(writer, Some(msg));
        }
        Ok(run)
    }

    /// A warning naming columns added to captured tables since [`install`] last ran.
    fn uncaptured_columns(&self) -> Option<String> {
        let mut notes = Vec::new();
        let mut names: Vec<&String> = self.shapes.recorded.keys().collect();
        names.sort();
        for tbl in names {
            let (Some(rec), Some(live)) =
                (self.shapes.recorded.get(tbl), self.shapes.live.get(tbl))
            else {
                continue;
            };
            let missing: Vec<&str> = live
                .iter()
                .filter(|c| !rec.iter().any(|r| r.name == c.name))
                .map(|c| c.name.as_str())
                .collect();
            if !missing.is_empty() {
                notes.push(format!("{tbl:?} ({})", missing.join(", ")));
            }
        }
        if notes.is_empty() {
            None
        } else {
            Some(format!(
                "columns added since capture was installed are not captured: {}; install the capture triggers again to include them",
                notes.join("; ")
            ))
        }
    }

    async fn main(&mut self, writer: &mut WriterHandle) -> Result<(), SourceError> {
        let target = self.max_id;
        let until = self.opts.until;
        let chunk = self.src.chunk_rows;
        if self.read_pos >= self.max_id && until == RunUntil::Cancelled {
            self.state = SourceState::Live;
        }
        self.report(writer, None);
        loop {
            if self.opts.cancel.is_cancelled() {
                return self.finish(writer).await;
            }
            let after = self.read_pos;
            let (rows, max_id) = self
                .db
                .call(after, move |c| {
                    let rows = read_rows(c, after, i64::MAX, chunk)?;
                    let (_, max) = log_bounds(c)?;
                    Ok((rows, max))
                })
                .await?;
            self.max_id = self.max_id.max(max_id);
            if rows.is_empty() {
                if until == RunUntil::CaughtUp {
                    return self.finish(writer).await;
                }
                if self.pushed_since_flush {
                    writer.flush().await?;
                    self.pushed_since_flush = false;
                }
                if self.state != SourceState::Live {
                    self.state = SourceState::Live;
                    self.report(writer, None);
                }
                if self.wait_for_rows(writer).await? {
                    return self.finish(writer).await;
                }
                continue;
            }
            if self.state == SourceState::Live {
                self.state = SourceState::CatchingUp;
            }
            let full = rows.len() >= chunk;
            let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
            let mut start = 0;
            for i in 1..=rows.len() {
                if i == rows.len() || !rows[i - 1].same_group(&rows[i]) {
                    groups.push(start..i);
                    start = i;
                }
            }
            if full && groups.len() == 1 {
                // One transaction fills the whole chunk: it may go on beyond it.
                self.stream_group(writer, rows).await?;
            } else {
                // The last group of a full chunk may continue in the next: read it again then.
                let n = if full { groups.len() - 1 } else { groups.len() };
                for g in &groups[..n] {
                    self.emit_group(writer, &rows[g.clone()]).await?;
                }
            }
            if self.last_report.elapsed() >= PROGRESS_EVERY {
                self.report(writer, None);
            }
            if until == RunUntil::CaughtUp && (self.read_pos >= target || !full) {
                return self.finish(writer).await;
            }
        }
    }

    /// Waits until the log has rows after the read position; `true` when cancelled first.
    async fn wait_for_rows(&mut self, writer: &WriterHandle) -> Result<bool, SourceError> {
        loop {
            tokio::select! {
                _ = self.opts.cancel.cancelled() => return Ok(true),
                _ = tokio::time::sleep(self.src.poll) => {}
            }
            let (seq, max_id) = self.db.call(self.read_pos, log_bounds).await?;
            if seq.max(max_id) < self.read_pos {
                return Err(SourceError::Gap {
                    source_name: self.src.name.clone(),
                    detail: format!(
                        "{LOG_TABLE} in {} was dropped and created again while it was being read \
                         (its ids start over below {}); remove the source and add it again",
                        self.db.file, self.read_pos
                    ),
                });
            }
            if max_id > self.read_pos {
                self.max_id = max_id;
                return Ok(false);
            }
            if self.last_report.elapsed() >= Duration::from_secs(5) {
                self.report(writer, None);
            }
        }
    }

    async fn finish(&mut self, writer: &mut WriterHandle) -> Result<(), SourceError> {
        writer.flush().await?;
        self.pushed_since_flush = false;
        self.state = SourceState::Stopped;
        self.report(writer, None);
        Ok(())
    }

    fn report(&mut self, writer: &WriterHandle, message: Option<String>) {
        self.last_report = Instant::now();
        let d = writer.durable();
        let behind = u64::try_from(self.max_id.saturating_sub(self.read_pos)).unwrap_or(0);
        self.opts.report(Progress {
            source: self.src.name.clone(),
            state: self.state,
            events: d.events.saturating_sub(self.start.events),
            transactions: d.transactions.saturating_sub(self.start.transactions),
            position: d.position,
            behind: Some(behind),
            message,
        });
    }

    fn decode_error(&self, id: i64, detail: String) -> SourceError {
        SourceError::Decode {
            source_name: self.src.name.clone(),
            position: id.to_string(),
            detail: format!("{LOG_TABLE} row id {id} in {}: {detail}", self.db.file),
        }
    }

    /// Makes everything pushed so far durable, then returns the decode error for row `id`.
    async fn fail_decode(
        &mut self,
        writer: &mut WriterHandle,
        id: i64,
        detail: String,
    ) -> SourceError {
        if let Err(e) = writer.flush().await {
            return e.into();
        }
        self.pushed_since_flush = false;
        self.decode_error(id, detail)
    }

    fn meta(&self, first: &RawRow, last_id: i64, committed_us: i64) -> TxnMeta {
        TxnMeta {
            txid: if first.txn != 0 {
                first.txn.to_string()
            } else {
                first.id.to_string()
            },
            position: last_id.to_string(),
            position_num: last_id,
            committed_us,
        }
    }

    async fn push_context(
        &mut self,
        writer: &mut WriterHandle,
        first: &RawRow,
    ) -> Result<(), SourceError> {
        for (key, value) in [("actor", &first.actor), ("reason", &first.reason)] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                push(
                    writer,
                    WriteOp::Context {
                        key: key.to_string(),
                        value: v.to_string(),
                    },
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Sends one whole transaction whose rows are all in `rows`. Nothing is sent when a row
    /// cannot be decoded.
    async fn emit_group(
        &mut self,
        writer: &mut WriterHandle,
        rows: &[RawRow],
    ) -> Result<(), SourceError> {
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(());
        };
        let mut decoded = Vec::with_capacity(rows.len());
        for r in rows {
            match decode_row(r) {
                Ok(d) => decoded.push(d),
                Err(detail) => return Err(self.fail_decode(writer, r.id, detail).await),
            }
        }
        let committed_us = match commit_time(last) {
            Ok(t) => t,
            Err(detail) => return Err(self.fail_decode(writer, last.id, detail).await),
        };
        let meta = self.meta(first, last.id, committed_us);
        push(writer, WriteOp::Begin(meta)).await?;
        self.push_context(writer, first).await?;
        for d in decoded {
            self.push_event(writer, d).await?;
        }
        push(writer, WriteOp::Commit).await?;
        writer.boundary().await?;
        self.read_pos = last.id;
        self.pushed_since_flush = true;
        Ok(())
    }

    /// Sends a transaction that starts with `rows` (a full chunk) and may continue beyond
    /// them, reading the rest in chunks without holding it. A row that cannot be decoded
    /// aborts the transaction in the writer; everything before it stays stored.
    async fn stream_group(
        &mut self,
        writer: &mut WriterHandle,
        rows: Vec<RawRow>,
    ) -> Result<(), SourceError> {
        let Some(first) = rows.first().cloned() else {
            return Ok(());
        };
        let (first_id, txn, stmt_at) = (first.id, first.txn, first.stmt_at.clone());
        let (end_id, end_stmt_at) = self
            .db
            .call(first_id, move |c| group_end(c, first_id, txn, stmt_at))
            .await?;
        let end_row = RawRow {
            id: end_id,
            stmt_at: end_stmt_at,
            ..first.clone()
        };
        let committed_us = match commit_time(&end_row) {
            Ok(t) => t,
            Err(detail) => return Err(self.fail_decode(writer, end_id, detail).await),
        };
        push(
            writer,
            WriteOp::Begin(self.meta(&first, end_id, committed_us)),
        )
        .await?;
        match self.stream_rows(writer, &first, rows, end_id).await {
            Ok(()) => {
                push(writer, WriteOp::Commit).await?;
                writer.boundary().await?;
                self.read_pos = end_id;
                self.pushed_since_flush = true;
                Ok(())
            }
            Err(e) => {
                // The writer forgets the unfinished transaction and keeps everything before it;
                // it arrives again, whole, on resume. (A writer that failed cannot be helped.)
                if push(writer, WriteOp::Abort).await.is_ok() && writer.flush().await.is_ok() {
                    self.pushed_since_flush = false;
                }
                Err(e)
            }
        }
    }

    /// The context and events of a transaction ending at `end_id`, from `rows` on.
    async fn stream_rows(
        &mut self,
        writer: &mut WriterHandle,
        first: &RawRow,
        rows: Vec<RawRow>,
        end_id: i64,
    ) -> Result<(), SourceError> {
        self.push_context(writer, first).await?;
        let mut pos = first.id - 1;
        let mut chunk = rows;
        let limit = self.src.chunk_rows;
        loop {
            for r in chunk {
                match decode_row(&r) {
                    Ok(d) => self.push_event(writer, d).await?,
                    Err(detail) => return Err(self.decode_error(r.id, detail)),
                }
                pos = r.id;
            }
            if pos >= end_id {
                return Ok(());
            }
            if self.last_report.elapsed() >= PROGRESS_EVERY {
                self.report(writer, None);
            }
            let after = pos;
            chunk = self
                .db
                .call(after, move |c| read_rows(c, after, end_id, limit))
                .await?;
            if chunk.is_empty() {
                // Rows pruned from the log meanwhile: the transaction ends with what was read.
                return Ok(());
            }
        }
    }

    async fn push_event(
        &mut self,
        writer: &mut WriterHandle,
        d: Decoded,
    ) -> Result<(), SourceError> {
        let image = d.new.as_ref().or(d.old.as_ref());
        let matches = |names: &[String]| {
            let same = |m: &Map<String, Value>| {
                m.len() == names.len() && m.keys().zip(names).all(|(a, b)| a == b)
            };
            d.new.as_ref().is_none_or(same) && d.old.as_ref().is_none_or(same)
        };
        let known = self
            .rels
            .get(&d.tbl)
            .filter(|s| matches(&s.names))
            .map(|s| s.id);
        let (rel_id, names) = match known {
            Some(id) => (id, None),
            None => {
                // The union of both images' keys, in image order.
                let mut names: Vec<String> = image
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                for m in [&d.old, &d.new].into_iter().flatten() {
                    for k in m.keys() {
                        if !names.contains(k) {
                            names.push(k.clone());
                        }
                    }
                }
                let relation = self.build_relation(&d.tbl, &names).await?;
                let id = match self.rels.get(&d.tbl) {
                    Some(s) => s.id,
                    None => {
                        let id = self.next_rel;
                        self.next_rel += 1;
                        id
                    }
                };
                push(writer, WriteOp::Relation { id, relation }).await?;
                self.rels.insert(
                    d.tbl.clone(),
                    RelState {
                        id,
                        names: names.clone(),
                    },
                );
                (id, Some(names))
            }
        };
        let to_cells = |m: Map<String, Value>| -> Vec<Cell> {
            match &names {
                // A newly announced relation built from the union of keys: align by name.
                Some(names)
                    if !(m.len() == names.len() && m.keys().zip(names).all(|(a, b)| a == b)) =>
                {
                    let mut m = m;
                    names
                        .iter()
                        .map(|n| m.remove(n).map(value_cell).unwrap_or(Cell::Missing))
                        .collect()
                }
                _ => m.into_iter().map(|(_, v)| value_cell(v)).collect(),
            }
        };
        let event = ChangeEvent {
            op: d.op,
            before: d.old.map(to_cells),
            after: d.new.map(to_cells),
        };
        push(
            writer,
            WriteOp::Event {
                relation: rel_id,
                event,
            },
        )
        .await?;
        Ok(())
    }

    /// The relation of `tbl` with these columns: types and key flags from the recorded shape,
    /// else the live table (reloaded once when neither knows a column).
    async fn build_relation(
        &mut self,
        tbl: &str,
        names: &[String],
    ) -> Result<Relation, SourceError> {
        let known = |shapes: &Shapes| {
            names.iter().all(|n| {
                [shapes.recorded.get(tbl), shapes.live.get(tbl)]
                    .into_iter()
                    .flatten()
                    .any(|cols| cols.iter().any(|c| &c.name == n))
            })
        };
        if !known(&self.shapes) {
            self.shapes = self.db.call(self.read_pos, load_shapes).await?;
        }
        let lookup = |n: &str| -> Option<&ColumnDef> {
            [self.shapes.recorded.get(tbl), self.shapes.live.get(tbl)]
                .into_iter()
                .flatten()
                .find_map(|cols| cols.iter().find(|c| c.name == n))
        };
        let mut columns: Vec<ColumnDef> = names
            .iter()
            .map(|n| match lookup(n) {
                Some(c) => c.clone(),
                None => ColumnDef {
                    name: n.clone(),
                    type_name: String::new(),
                    key: false,
                },
            })
            .collect();
        if !columns.iter().any(|c| c.key) {
            // No key known (the table is gone and was never recorded): the rowid if captured,
            // else the first column.
            let i = columns
                .iter()
                .position(|c| ["rowid", "_rowid_", "oid"].contains(&c.name.as_str()))
                .unwrap_or(0);
            if let Some(c) = columns.get_mut(i) {
                c.key = true;
            }
        }
        Ok(Relation {
            schema: "main".to_string(),
            table: tbl.to_string(),
            columns,
        })
    }
}

fn value_cell(v: Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::String(s) => Cell::Text(s),
        // The triggers write strings only; anything else (a hand-written row) keeps its JSON text.
        other => Cell::Text(other.to_string()),
    }
}

fn decode_image(what: &str, s: Option<&str>) -> Result<Option<Map<String, Value>>, String> {
    let Some(s) = s else { return Ok(None) };
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(other) => Err(format!(
            "column {what} holds JSON that is not an object: {}",
            truncate(&other.to_string(), 80)
        )),
        Err(e) => Err(format!(
            "column {what} is not valid JSON ({e}): {}",
            truncate(s, 80)
        )),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        format!("{s:?}")
    } else {
        let t: String = s.chars().take(max).collect();
        format!("{t:?}…")
    }
}

fn decode_row(r: &RawRow) -> Result<Decoded, String> {
    let op_text = r.op.as_deref().unwrap_or("");
    let op = match Op::parse(op_text) {
        Some(op @ (Op::Insert | Op::Update | Op::Delete)) => op,
        _ => return Err(format!("unknown operation {op_text:?}")),
    };
    let tbl = r.tbl.clone().ok_or("no table name")?;
    let old = decode_image("old", r.old.as_deref())?;
    let new = decode_image("new", r.new.as_deref())?;
    match op {
        Op::Insert if new.is_none() => return Err("an insert without a new image".into()),
        Op::Delete if old.is_none() => return Err("a delete without an old image".into()),
        Op::Update if old.is_none() || new.is_none() => {
            return Err("an update without both old and new images".into())
        }
        _ => {}
    }
    // Images other than the operation's are ignored (a hand-written row may carry both).
    let (old, new) = match op {
        Op::Insert => (None, new),
        Op::Delete => (old, None),
        _ => (old, new),
    };
    Ok(Decoded { op, tbl, old, new })
}

/// The commit time of a transaction ending with `last`, from its `stmt_at` (UTC).
fn commit_time(last: &RawRow) -> Result<i64, String> {
    let s = last.stmt_at.as_deref().ok_or("no stmt_at time")?;
    crate::time_fmt::parse_user_time(s).map_err(|_| format!("unreadable stmt_at time {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::query::{EventFilter, EventRow};
    use crate::cache::Cache;
    use std::sync::{Arc, Mutex};
    use tokio_util::sync::CancellationToken;

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

    #[tokio::test]
    async fn captures_inserts_updates_deletes_with_context_and_grouping() {
        let dir = tempfile::tempdir().unwrap();
        let (db, app) = app_db(dir.path(), "app.sqlite", true);
        app.execute_batch(
            "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, price REAL, data BLOB, n INTEGER, note TEXT);",
        )
        .unwrap();
        let report = install(&db, None).unwrap();
        assert_eq!(report.tables, ["item"]);
        assert_eq!(report.details[0].key, vec!["id"]);
        assert!(report.without_primary_key.is_empty());
        let types: Vec<&str> = report.details[0]
            .columns
            .iter()
            .map(|c| c.type_name.as_str())
            .collect();
        assert_eq!(
            types,
            ["INTEGER", "TEXT", "REAL", "BLOB", "INTEGER", "TEXT"]
        );

        // Multi-row statement in one numbered transaction.
        app_txn(
            &app,
            "ana@example.com",
            Some("customer called"),
            "INSERT INTO item VALUES (1, 'bolt', 1.25, x'00ff', 7, NULL), (2, 'nut', 0.5, NULL, -3, 'a \"quoted\"\nline'), (3, 'gear', 10.0, x'', 0, '');",
        );
        app_txn(
            &app,
            "ops-bot",
            None,
            "UPDATE item SET name = 'hex bolt' WHERE id = 1;",
        );
        app_txn(
            &app,
            "ops-bot",
            Some("price list"),
            "UPDATE item SET price = price * 2 WHERE id <= 2; DELETE FROM item WHERE id = 3;",
        );

        let cache_path = dir.path().join("cache.sqlite");
        let d = capture(&db, &cache_path).await;
        assert_eq!(d.events, 7);
        assert_eq!(d.transactions, 3);
        assert_eq!(d.position, "7");
        assert_eq!(d.position_num, 7);

        let ev = all_events(&cache_path);
        assert_eq!(ev.len(), 7);
        let ops: Vec<Op> = ev.iter().map(|e| e.op).collect();
        assert_eq!(
            ops,
            [
                Op::Insert,
                Op::Insert,
                Op::Insert,
                Op::Update,
                Op::Update,
                Op::Update,
                Op::Delete
            ]
        );
        // Transaction 1: three inserts, one txid, position = its last log id, context.
        for e in &ev[..3] {
            assert_eq!(e.txid, "1");
            assert_eq!(e.position, "3");
            assert_eq!(e.context["actor"], "ana@example.com");
            assert_eq!(e.context["reason"], "customer called");
            assert_eq!(e.schema, "main");
            assert_eq!(e.table, "item");
        }
        assert_eq!(ev[3].txid, "2");
        assert_eq!(ev[3].context.get("reason"), None);
        assert_eq!(ev[3].context["actor"], "ops-bot");
        assert!(ev[4..].iter().all(|e| e.txid == "3" && e.position == "7"));
        let now = crate::time_fmt::now_us();
        assert!(ev.iter().all(|e| (now - e.committed_us).abs() < 60_000_000));

        assert_eq!(ev[0].key, vec![("id".to_string(), Some("1".to_string()))]);
        assert_eq!(
            img(&ev[0], true),
            serde_json::json!({"id": "1", "name": "bolt", "price": "1.25", "data": "\\x00ff", "n": "7", "note": null})
        );
        assert_eq!(img(&ev[1], true)["note"], "a \"quoted\"\nline");
        assert_eq!(img(&ev[1], true)["data"], serde_json::Value::Null);
        assert_eq!(img(&ev[2], true)["data"], "\\x");
        assert_eq!(img(&ev[2], true)["price"], "10.0");
        assert!(ev[0].before.is_none());
        assert_eq!(img(&ev[3], false)["name"], "bolt");
        assert_eq!(img(&ev[3], true)["name"], "hex bolt");
        assert_eq!(img(&ev[4], true)["price"], "2.5");
        assert_eq!(img(&ev[6], false)["name"], "gear");
        assert!(ev[6].after.is_none());
        let types: Vec<&str> = ev[0].columns.iter().map(|c| c.type_name.as_str()).collect();
        assert_eq!(
            types,
            ["INTEGER", "TEXT", "REAL", "BLOB", "INTEGER", "TEXT"]
        );

        let hist = record(&cache_path, "item", r#"["1"]"#);
        assert_eq!(hist.len(), 3);
        assert_eq!(img(&hist[2], true)["price"], "2.5");
        assert_eq!(img(&hist[2], true)["name"], "hex bolt");

        // A second run stores nothing twice…
        let d = capture(&db, &cache_path).await;
        assert_eq!((d.events, d.transactions, d.skipped), (0, 0, 0));
        assert_eq!(all_events(&cache_path).len(), 7);
        // …and picks up only new rows.
        app_txn(
            &app,
            "ana@example.com",
            None,
            "INSERT INTO item (id, name) VALUES (4, 'washer');",
        );
        let d = capture(&db, &cache_path).await;
        assert_eq!((d.events, d.transactions), (1, 1));
        assert_eq!(d.position, "8");
        let ev = all_events(&cache_path);
        assert_eq!(ev.len(), 8);
        assert_eq!(ev[7].txid, "4");
        assert_eq!(txn_count(&cache_path), 4);
    }

    #[tokio::test]
    async fn unnumbered_transactions_group_by_statement() {
        let dir = tempfile::tempdir().unwrap();
        let (db, app) = app_db(dir.path(), "app.sqlite", false);
        app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
            .unwrap();
        install(&db, None).unwrap();
        app.execute_batch("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');")
            .unwrap();
        std::thread::sleep(Duration::from_millis(5));
        app.execute_batch("UPDATE t SET v = v || '!';").unwrap();
        std::thread::sleep(Duration::from_millis(5));
        app.execute_batch("DELETE FROM t WHERE id = 2;").unwrap();
        let cache_path = dir.path().join("cache.sqlite");
        let d = capture(&db, &cache_path).await;
        assert_eq!((d.events, d.transactions), (7, 3));
        let ev = all_events(&cache_path);
        let txids: Vec<&str> = ev.iter().map(|e| e.txid.as_str()).collect();
        // txid = the first log id of each statement's group; position = its last.
        assert_eq!(txids, ["1", "1", "1", "4", "4", "4", "7"]);
        let pos: Vec<&str> = ev.iter().map(|e| e.position.as_str()).collect();
        assert_eq!(pos, ["3", "3", "3", "6", "6", "6", "7"]);
        assert!(ev.iter().all(|e| e.context.is_empty()));
    }

    #[tokio::test]
    async fn large_transactions_stream_across_chunks_unsplit() {
        let dir = tempfile::tempdir().unwrap();
        let (db, app) = app_db(dir.path(), "app.sqlite", true);
        app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);")
            .unwrap();
        install(&db, None).unwrap();
        // 1 small, 1 of 25 rows, 3 small, 1 unnumbered statement of 30 rows, 1 small.
        app_txn(&app, "a", None, "INSERT INTO t VALUES (1, 0);");
        app_txn(
            &app,
            "big",
            Some("bulk"),
            "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 26) INSERT INTO t SELECT i, i FROM n;",
        );
        for i in 0..3 {
            app_txn(
                &app,
                "b",
                None,
                &format!("UPDATE t SET v = v + 1 WHERE id = {};", i + 1),
            );
        }
        app.execute_batch("UPDATE _rowtrail_context SET txn = 0, actor = NULL, reason = NULL;")
            .unwrap();
        app.execute_batch("UPDATE t SET v = v * 10 WHERE id BETWEEN 1 AND 30;")
            .unwrap();
        std::thread::sleep(Duration::from_millis(5));
        app.execute_batch("DELETE FROM t WHERE id = 26;").unwrap();

        let cache_path = dir.path().join("cache.sqlite");
        let mut src = SqliteSource::new("app", &db).with_chunk_rows(7);
        let (res, d) = capture_with(&mut src, &cache_path).await;
        res.unwrap();
        assert_eq!(d.events, 1 + 25 + 3 + 26 + 1);
        assert_eq!(d.transactions, 7);
        let cache = Cache::open(&cache_path).unwrap();
        let counts: Vec<(String, String, i64)> = {
            let mut stmt = cache
                .conn()
                .prepare("SELECT txid, position, event_count FROM transactions ORDER BY id")
                .unwrap();
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap();
            rows.map(Result::unwrap).collect()
        };
        let expect: Vec<(String, String, i64)> = [
            ("1", "1", 1),
            ("2", "26", 25),
            ("3", "27", 1),
            ("4", "28", 1),
            ("5", "29", 1),
            ("30", "55", 26),
            ("56", "56", 1),
        ]
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
        .collect();
        assert_eq!(counts, expect);
        let big = cache
            .events(&EventFilter {
                txid: Some("2".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(big.len(), 25);
        assert!(big
            .iter()
            .all(|e| e.context["actor"] == "big" && e.context["reason"] == "bulk"));
    }

    #[tokio::test]
    async fn add_column_mid_stream_keeps_history_readable() {
        let dir = tempfile::tempdir().unwrap();
        let (db, app) = app_db(dir.path(), "app.sqlite", true);
        app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);")
            .unwrap();
        install(&db, None).unwrap();
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
        assert!(msgs.iter().any(|m| m.contains("\"t\" (b)")), "{msgs:?}");

        install(&db, None).unwrap();
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
            app.execute_batch(
                "UPDATE _rowtrail_log SET new = '{\"id\": \"2\", \"v\": ' WHERE id = 5;",
            )
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
            assert!(
                matches!(res, Err(SourceError::Decode { ref position, .. }) if position == "5")
            );
            assert_eq!((d.events, d.position_num), (0, 3));
            assert_eq!(all_events(&cache_path).len(), 3);
        }
    }

    #[tokio::test]
    async fn follows_new_rows_until_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let (db, app) = app_db(dir.path(), "app.sqlite", true);
        app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
            .unwrap();
        install(&db, None).unwrap();
        app_txn(&app, "a", None, "INSERT INTO t VALUES (1, 'x');");
        drop(app);
        let cache_path = dir.path().join("cache.sqlite");
        let cache = Cache::open(&cache_path).unwrap();
        let rec = cache
            .add_source("app", "sqlite", &serde_json::json!({}))
            .unwrap();
        let mut writer = WriterHandle::spawn(&cache_path, rec.id).unwrap();
        let states = Arc::new(Mutex::new(Vec::<(SourceState, u64, String)>::new()));
        let s2 = states.clone();
        let cancel = CancellationToken::new();
        let o = RunOptions {
            until: RunUntil::Cancelled,
            cancel: cancel.clone(),
            progress: Some(Arc::new(move |p: &Progress| {
                s2.lock()
                    .unwrap()
                    .push((p.state, p.events, p.position.clone()));
            })),
        };
        let db2 = db.clone();
        let cache2 = cache_path.clone();
        let driver = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let app = Connection::open(&db2).unwrap();
            app_txn(
                &app,
                "b",
                Some("later"),
                "INSERT INTO t VALUES (2, 'y'); UPDATE t SET v = 'z' WHERE id = 1;",
            );
            let reader = Cache::open(&cache2).unwrap();
            for _ in 0..100 {
                if reader.event_count().unwrap() >= 3 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            cancel.cancel();
        });
        let mut src = SqliteSource::new("app", &db).with_poll_interval(Duration::from_millis(50));
        src.run(&mut writer, &o).await.unwrap();
        driver.await.unwrap();
        let d = writer.close().await.unwrap();
        assert_eq!((d.events, d.transactions), (3, 2));
        let ev = all_events(&cache_path);
        assert_eq!(ev[2].context["reason"], "later");
        let states = states.lock().unwrap().clone();
        assert_eq!(states.first().map(|s| s.0), Some(SourceState::Connecting));
        assert!(
            states.iter().any(|s| s.0 == SourceState::Live),
            "{states:?}"
        );
        let last = states.last().unwrap();
        assert_eq!(
            (last.0, last.1, last.2.as_str()),
            (SourceState::Stopped, 3, "3")
        );
    }

    #[tokio::test]
    async fn install_is_idempotent_and_uninstall_removes_everything() {
        let dir = tempfile::tempdir().unwrap();
        let (db, app) = app_db(dir.path(), "app.sqlite", false);
        app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE u (id INTEGER PRIMARY KEY); CREATE VIEW w AS SELECT * FROM t;")
            .unwrap();
        install(&db, Some(&["t".to_string()])).unwrap();
        install(&db, Some(&["T".to_string()])).unwrap();
        let err = install(&db, Some(&["nope".to_string()])).unwrap_err();
        assert!(err.to_string().contains("no table named \"nope\""), "{err}");
        let err = install(&db, Some(&["w".to_string()])).unwrap_err();
        assert!(err.to_string().contains("view"), "{err}");
        let err = install(&db, Some(&["_rowtrail_log".to_string()])).unwrap_err();
        assert!(err.to_string().contains("internal"), "{err}");
        let count = |sql: &str| -> i64 { app.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            count("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"),
            3
        );
        assert_eq!(count("SELECT count(*) FROM _rowtrail_context"), 1);
        app.execute_batch("INSERT INTO t VALUES (1, 'a'); INSERT INTO u VALUES (1);")
            .unwrap();
        assert_eq!(count("SELECT count(*) FROM _rowtrail_log"), 1);
        let report = install(&db, None).unwrap();
        assert_eq!(report.tables.len(), 2);
        assert_eq!(
            count("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"),
            6
        );
        assert_eq!(
            count("SELECT count(*) FROM _rowtrail_log"),
            1,
            "the log is kept"
        );

        uninstall(&db).unwrap();
        assert_eq!(
            count("SELECT count(*) FROM sqlite_schema WHERE name LIKE '%rowtrail%' OR sql LIKE '%rowtrail%'"),
            0
        );
        assert_eq!(
            count("SELECT count(*) FROM sqlite_sequence WHERE name LIKE '%rowtrail%'"),
            0
        );
        app.execute_batch("INSERT INTO t VALUES (2, 'b'); UPDATE t SET v = 'c'; DELETE FROM t;")
            .unwrap();
        uninstall(&db).unwrap();

        // Reading without capture installed says what to do.
        let cache_path = dir.path().join("cache.sqlite");
        let mut src = SqliteSource::new("app", &db);
        let (res, _) = capture_with(&mut src, &cache_path).await;
        assert!(
            matches!(res, Err(SourceError::Prerequisite { .. })),
            "{res:?}"
        );
        let mut missing = SqliteSource::new("gone", &dir.path().join("missing.sqlite"));
        let (res, _) = capture_with(&mut missing, &cache_path).await;
        match res {
            Err(SourceError::Connect { target, .. }) => assert!(target.ends_with("missing.sqlite")),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn reinstalled_log_is_reported_as_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let (db, app) = app_db(dir.path(), "app.sqlite", false);
        app.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
            .unwrap();
        install(&db, None).unwrap();
        app.execute_batch("INSERT INTO t VALUES (1, 'a'), (2, 'b');")
            .unwrap();
        let cache_path = dir.path().join("cache.sqlite");
        capture(&db, &cache_path).await;
        uninstall(&db).unwrap();
        install(&db, None).unwrap();
        app.execute_batch("INSERT INTO t VALUES (3, 'c');").unwrap();
        let mut src = SqliteSource::new("app", &db);
        let (res, _) = capture_with(&mut src, &cache_path).await;
        assert!(matches!(res, Err(SourceError::Gap { .. })), "{res:?}");
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

    #[test]
    fn run_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let dir = tempfile::tempdir().unwrap();
        let cache_path = dir.path().join("c.sqlite");
        let cache = Cache::open(&cache_path).unwrap();
        let rec = cache
            .add_source("s", "sqlite", &serde_json::json!({}))
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut writer = WriterHandle::spawn(&cache_path, rec.id).unwrap();
            let mut src = SqliteSource::new("s", &dir.path().join("none.sqlite"));
            let o = opts(RunUntil::CaughtUp);
            let fut = src.run(&mut writer, &o);
            assert_send(&fut);
            assert!(fut.await.is_err());
        });
    }
}
