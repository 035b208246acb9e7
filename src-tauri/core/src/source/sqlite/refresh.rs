//! Refreshing capture on the tables already captured: after `ALTER TABLE … ADD COLUMN`, a
//! table dropped and created again (which drops its triggers), or a Rowtrail upgrade that
//! changed the triggers.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::install::{file_label, install, InstallReport};
use super::shape::{list_tables, load_shapes};
use super::{is_internal, SourceError, BUSY_TIMEOUT, PREFIX, SHAPES_TABLE};

/// What [`refresh`] will change in the database, for the user to confirm first.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshPlan {
    /// The database file.
    pub path: PathBuf,
    /// The captured tables that still exist, in name order: each gets its three capture
    /// triggers dropped and created again with the table's current columns.
    pub tables: Vec<RefreshTable>,
    /// Tables captured once that no longer exist: nothing is done for them, and their history
    /// stays in the cache.
    pub gone: Vec<String>,
}

/// One table [`refresh`] re-creates the triggers of.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshTable {
    /// Table name, exactly as in the database.
    pub name: String,
    /// Columns the table has now that capture does not record yet (added since install).
    pub added: Vec<String>,
    /// The table has no capture triggers now (it was dropped and created again): its changes
    /// since then were not captured and cannot be recovered.
    pub triggers_missing: bool,
}

impl RefreshPlan {
    /// Whether refreshing would change what is captured (a new column or missing triggers);
    /// `false` means it only re-creates identical triggers.
    pub fn changes_capture(&self) -> bool {
        self.tables
            .iter()
            .any(|t| !t.added.is_empty() || t.triggers_missing)
    }

    /// The plan as lines a person reads before confirming.
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![format!(
            "In {}, for {} captured table(s): drop and create again the capture triggers \
             (_rowtrail_<table>_insert/update/delete) with each table's current columns, and record \
             those columns in {SHAPES_TABLE}. The log and its unread rows are kept; no application \
             table or row is changed.",
            self.path.display(),
            self.tables.len()
        )];
        for t in &self.tables {
            let what = match (t.triggers_missing, t.added.is_empty()) {
                (true, _) => {
                    "triggers missing (table created again?): capture starts again".to_string()
                }
                (false, false) => format!("now also captures {}", t.added.join(", ")),
                (false, true) => "unchanged columns".to_string(),
            };
            out.push(format!("  {}: {what}", t.name));
        }
        if !self.gone.is_empty() {
            out.push(format!(
                "  no longer in the database (left alone; their history stays): {}",
                self.gone.join(", ")
            ));
        }
        out
    }
}

/// Reads what [`refresh`] would do, changing nothing. The captured tables are those with
/// Rowtrail triggers or a recorded shape.
pub fn plan_refresh(path: &Path) -> Result<RefreshPlan, SourceError> {
    let label = file_label(path);
    let fail = |what: &str, e: rusqlite::Error| SourceError::Config {
        source_name: label.clone(),
        message: format!("cannot read capture in {}: {what}: {e}", path.display()),
    };
    if !path.is_file() {
        return Err(SourceError::Connect {
            source_name: label.clone(),
            target: path.display().to_string(),
            detail: "no such file".into(),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| fail("cannot open it", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| fail("cannot open it", e))?;
    let triggered: BTreeSet<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT DISTINCT tbl_name FROM sqlite_schema WHERE type = 'trigger'
                 AND name LIKE ?1 ESCAPE '\\'",
            )
            .map_err(|e| fail("cannot list triggers", e))?;
        let like = format!("{}%", PREFIX.replace('_', "\\_"));
        let rows = stmt
            .query_map([like], |r| r.get::<_, String>(0))
            .map_err(|e| fail("cannot list triggers", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| fail("cannot list triggers", e))?
    };
    let shapes = load_shapes(&conn).map_err(|e| fail("cannot read the recorded shapes", e))?;
    let existing: Vec<String> = list_tables(&conn)
        .map_err(|e| fail("cannot list tables", e))?
        .into_iter()
        .filter(|(n, kind)| kind == "table" && !is_internal(n))
        .map(|(n, _)| n)
        .collect();
    let captured: BTreeSet<&String> = triggered.iter().chain(shapes.recorded.keys()).collect();
    let mut plan = RefreshPlan {
        path: path.to_path_buf(),
        tables: Vec::new(),
        gone: Vec::new(),
    };
    for name in captured {
        let Some(live) = shapes.live.get(name).filter(|_| existing.contains(name)) else {
            plan.gone.push(name.clone());
            continue;
        };
        let added = match shapes.recorded.get(name) {
            Some(rec) => live
                .iter()
                .filter(|c| !rec.iter().any(|r| r.name == c.name))
                .map(|c| c.name.clone())
                .collect(),
            None => Vec::new(),
        };
        plan.tables.push(RefreshTable {
            name: name.clone(),
            added,
            triggers_missing: !triggered.contains(name),
        });
    }
    Ok(plan)
}

/// Re-creates the capture triggers of every captured table that still exists, with its
/// current columns ([`install`] on those tables: one transaction, the log kept). Show
/// [`plan_refresh`] to the user first: this changes the database's schema.
pub fn refresh(path: &Path) -> Result<InstallReport, SourceError> {
    let plan = plan_refresh(path)?;
    if plan.tables.is_empty() {
        return Err(SourceError::Config {
            source_name: file_label(path),
            message: format!(
                "nothing to refresh in {}: none of the tables capture was installed on exists any more",
                path.display()
            ),
        });
    }
    let names: Vec<String> = plan.tables.into_iter().map(|t| t.name).collect();
    install(path, Some(&names))
}
