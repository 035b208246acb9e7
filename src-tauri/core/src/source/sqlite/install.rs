//! Installing and removing capture: the log tables and the triggers inside the user's database.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};
use serde::Serialize;

use super::shape::{list_tables, table_shape};
use super::triggers::trigger_sql;
use super::{
    is_internal, quote_ident, SourceError, BUSY_TIMEOUT, CONTEXT_TABLE, LOG_TABLE, SHAPES_TABLE,
};
use crate::event::{ColumnDef, Op};

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

/// A short name for errors raised outside a named source (install, uninstall).
pub(super) fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

pub(super) fn open_read_write(path: &Path, label: &str) -> Result<Connection, SourceError> {
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
