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

    let names = select_tables(&tx, tables).map_err(fail)?;

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

/// The tables [`install`] captures: every user table, or the ones `tables` names (matched in any
/// case). The error says which name is wrong and why.
fn select_tables(conn: &Connection, tables: Option<&[String]>) -> Result<Vec<String>, String> {
    let all = list_tables(conn).map_err(|e| format!("cannot list tables: {e}"))?;
    Ok(match tables {
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
                    None => return Err(format!("no table named {wanted:?}")),
                    Some((n, _)) if is_internal(n) => {
                        return Err(format!("{n:?} is an internal table and cannot be captured"))
                    }
                    Some((n, kind)) if kind != "table" => {
                        return Err(format!(
                            "{n:?} is a {kind}, not an ordinary table; only tables can be captured"
                        ))
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
    })
}

/// What [`install`] will create, read without changing anything, for the user to confirm.
#[derive(Debug, Clone, Serialize)]
pub struct InstallPlan {
    /// The database file.
    pub path: PathBuf,
    /// The tables that get capture triggers, in name order.
    pub tables: Vec<String>,
    /// Those without a primary key: their records are keyed by `rowid`.
    pub without_primary_key: Vec<String>,
    /// Capture is installed in this database already: its log table is kept and shared.
    pub already_installed: bool,
}

impl InstallPlan {
    /// The plan as lines a person reads before confirming; `name` is the source's name, for
    /// the command that undoes it.
    pub fn describe(&self, name: &str) -> Vec<String> {
        let tables = if self.already_installed {
            format!("keep the tables {LOG_TABLE}, {CONTEXT_TABLE} and {SHAPES_TABLE} already there")
        } else {
            format!(
                "create the tables {LOG_TABLE} (one row per captured change), {CONTEXT_TABLE} and {SHAPES_TABLE}"
            )
        };
        let mut out = vec![format!(
            "In {}, {tables}, and create AFTER INSERT/UPDATE/DELETE triggers _rowtrail_<table>_<op> on {} table(s): {}.",
            self.path.display(),
            self.tables.len(),
            self.tables.join(", ")
        )];
        out.push(
            "Every write to those tables then also writes one log row in the same transaction; no \
             application row is changed."
                .to_string(),
        );
        if !self.without_primary_key.is_empty() {
            out.push(format!(
                "Without a primary key, keyed by rowid (which VACUUM may renumber): {}.",
                self.without_primary_key.join(", ")
            ));
        }
        out.push(format!(
            "To remove it all later: rowtrail source rm {name} --drop-slot"
        ));
        out
    }
}

/// Reads what [`install`] with the same arguments would create, changing nothing.
pub fn plan_install(path: &Path, tables: Option<&[String]>) -> Result<InstallPlan, SourceError> {
    let label = file_label(path);
    let fail = |what: String| SourceError::Config {
        source_name: label.clone(),
        message: format!(
            "cannot install capture triggers in {}: {what}",
            path.display()
        ),
    };
    // Read-only: the plan must not change the file, not even its journal mode.
    let conn = open_read_write(path, &label).and_then(|c| {
        c.pragma_update(None, "query_only", true)
            .map_err(|e| SourceError::Connect {
                source_name: label.clone(),
                target: path.display().to_string(),
                detail: e.to_string(),
            })?;
        Ok(c)
    })?;
    let mut names = select_tables(&conn, tables).map_err(fail)?;
    names.sort();
    let mut without_primary_key = Vec::new();
    for name in &names {
        let shape = table_shape(&conn, name)
            .map_err(|e| fail(format!("cannot read the columns of {name:?}: {e}")))?
            .ok_or_else(|| fail(format!("no table named {name:?}")))?;
        if shape.rowid.is_some() {
            without_primary_key.push(name.clone());
        } else if !shape.columns.iter().any(|c| c.key) {
            return Err(fail(format!(
                "table {name:?} has no primary key and its columns hide every rowid alias (rowid, _rowid_, oid)"
            )));
        }
    }
    let already_installed = list_tables(&conn)
        .map_err(|e| fail(format!("cannot list tables: {e}")))?
        .iter()
        .any(|(n, _)| n == LOG_TABLE);
    Ok(InstallPlan {
        path: path.to_path_buf(),
        tables: names,
        without_primary_key,
        already_installed,
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
