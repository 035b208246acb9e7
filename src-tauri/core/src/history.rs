//! A record's history: its events in order, each as a version with field-level diffs.
//!
//! Version *n* is the record after its *n*-th event. Each version's changes compare the
//! event's before and after images column by column (by name, so columns added or dropped
//! mid-stream show as set or cleared), with values filled from earlier versions marked.

use serde::{Deserialize, Serialize};

use crate::cache::query::{key_from_user, EventRow, TableRef};
use crate::cache::{Cache, CacheError};
use crate::diff::{diff_value, ValueDiff};
use crate::event::{Cell, Op};

/// Why a history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// No captured table has that name.
    #[error("no captured table named {0:?} (see `rowtrail events` or `rowtrail source list`)")]
    NoTable(String),
    /// The name matches tables in several schemas or sources.
    #[error("table name {name:?} is ambiguous; use one of: {candidates} (with --source if needed)")]
    Ambiguous {
        /// What the user typed.
        name: String,
        /// The matches, comma separated.
        candidates: String,
    },
    /// The key does not fit the table's key columns.
    #[error("table {table}: {message}")]
    BadKey {
        /// The table.
        table: String,
        /// What is wrong.
        message: String,
    },
    /// No events for that key.
    #[error("no changes recorded for {table} {key}")]
    NotFound {
        /// The table.
        table: String,
        /// The key as typed.
        key: String,
    },
    /// A version number outside the history.
    #[error("{table} {key} has versions 1 to {count}; there is no version {asked}")]
    NoVersion {
        /// The table.
        table: String,
        /// The key as typed.
        key: String,
        /// Number of versions.
        count: usize,
        /// The version asked for.
        asked: usize,
    },
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// How one column differs between two states of a record.
// The API sends it as it is; TypeScript knows it as `FieldChangeInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "FieldChangeInfo")]
pub struct FieldChange {
    /// Column name.
    pub column: String,
    /// The column's type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Old value (null: SQL NULL or absent).
    pub old: Option<String>,
    /// New value.
    pub new: Option<String>,
    /// The structured diff, ready to render (word spans, lines, JSON paths).
    pub diff: ValueDiff,
    /// The old or new value was filled from an earlier version rather than sent.
    pub inferred: bool,
}

/// One version of a record: the state after one event.
#[derive(Debug, Clone)]
pub struct Version {
    /// 1-based version number, oldest first.
    pub number: usize,
    /// The event that produced it.
    pub event: EventRow,
    /// Changed columns, in table order.
    pub changes: Vec<FieldChange>,
    /// Number of columns that did not change.
    pub unchanged: usize,
}

/// A record's whole history.
#[derive(Debug, Clone)]
pub struct History {
    /// The table.
    pub table: TableRef,
    /// The key columns and the values asked for.
    pub key: Vec<(String, String)>,
    /// Versions, oldest first.
    pub versions: Vec<Version>,
}

impl History {
    /// `table key=value` for messages.
    pub fn label(&self) -> String {
        let k: Vec<String> = self.key.iter().map(|(c, v)| format!("{c}={v}")).collect();
        format!("{} {}", self.table.qualified(), k.join(","))
    }

    /// The changes between versions `from` and `to` (1-based; either order).
    pub fn compare(&self, from: usize, to: usize) -> Result<Vec<FieldChange>, HistoryError> {
        let get = |n: usize| {
            self.versions.get(n.wrapping_sub(1)).ok_or_else(|| HistoryError::NoVersion {
                table: self.table.qualified(),
                key: self.label(),
                count: self.versions.len(),
                asked: n,
            })
        };
        let (a, b) = (get(from)?, get(to)?);
        Ok(field_changes(&state(&a.event), &state(&b.event), &a.event, &b.event).0)
    }
}

/// A version's state: the after image by column (empty after a delete or truncate).
fn state(e: &EventRow) -> Vec<(String, String, Cell)> {
    match &e.after {
        Some(img) => e
            .columns
            .iter()
            .zip(img)
            .map(|(c, v)| (c.name.clone(), c.type_name.clone(), v.clone()))
            .collect(),
        None => Vec::new(),
    }
}

fn image(e: &EventRow, img: Option<&Vec<Cell>>) -> Vec<(String, String, Cell)> {
    img.map(|img| {
        e.columns
            .iter()
            .zip(img)
            .map(|(c, v)| (c.name.clone(), c.type_name.clone(), v.clone()))
            .collect()
    })
    .unwrap_or_default()
}

fn field_changes(
    old: &[(String, String, Cell)],
    new: &[(String, String, Cell)],
    old_event: &EventRow,
    new_event: &EventRow,
) -> (Vec<FieldChange>, usize) {
    let mut names: Vec<(&str, &str)> = new.iter().map(|(n, t, _)| (n.as_str(), t.as_str())).collect();
    for (n, t, _) in old {
        if !names.iter().any(|(x, _)| x == n) {
            names.push((n, t));
        }
    }
    let find = |img: &[(String, String, Cell)], n: &str| -> Option<Cell> {
        img.iter().find(|(x, _, _)| x == n).map(|(_, _, c)| c.clone())
    };
    let mut out = Vec::new();
    let mut unchanged = 0;
    for (name, type_name) in names {
        let (o, n) = (find(old, name), find(new, name));
        let text = |c: &Option<Cell>| c.as_ref().and_then(|c| c.as_opt_str().map(str::to_string));
        let (ot, nt) = (text(&o), text(&n));
        // A value neither sent nor inferable is not a change we can show.
        if matches!(o, Some(Cell::Missing)) || matches!(n, Some(Cell::Missing)) {
            continue;
        }
        let diff = diff_value(type_name, ot.as_deref(), nt.as_deref());
        if matches!(diff, ValueDiff::Unchanged) {
            unchanged += 1;
            continue;
        }
        let inferred = old_event.inferred.iter().any(|c| c == name) || new_event.inferred.iter().any(|c| c == name);
        out.push(FieldChange {
            column: name.to_string(),
            type_name: type_name.to_string(),
            old: ot,
            new: nt,
            diff,
            inferred,
        });
    }
    (out, unchanged)
}

/// One event's own changes (its before image against its after image), as a history version
/// shows them, and the number of unchanged columns. For views of single events (a transaction).
pub fn event_changes(e: &EventRow) -> (Vec<FieldChange>, usize) {
    field_changes(&image(e, e.before.as_ref()), &image(e, e.after.as_ref()), e, e)
}

/// Finds the one captured table `name` refers to.
pub fn resolve_table(cache: &Cache, source: Option<&str>, name: &str) -> Result<TableRef, HistoryError> {
    let found = cache.find_tables(source, name)?;
    match found.len() {
        0 => Err(HistoryError::NoTable(name.to_string())),
        1 => Ok(found.into_iter().next().expect("one element")),
        _ => Err(HistoryError::Ambiguous {
            name: name.to_string(),
            candidates: found
                .iter()
                .map(|t| format!("{} (source {})", t.qualified(), t.source))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Reads the history of the record of `table` whose key is `key` (one value per key column,
/// bare in order or as `column=value`).
pub fn record_history(cache: &Cache, source: Option<&str>, table: &str, key: &[String]) -> Result<History, HistoryError> {
    let t = resolve_table(cache, source, table)?;
    let key_cols: Vec<String> = cache
        .table_columns(t.id)?
        .into_iter()
        .filter(|c| c.key)
        .map(|c| c.name)
        .collect();
    let canonical = key_from_user(&key_cols, key).map_err(|message| HistoryError::BadKey {
        table: t.qualified(),
        message,
    })?;
    let values: Vec<String> = serde_json::from_str(&canonical).unwrap_or_default();
    let mut events = cache.record_events(t.id, &canonical)?;
    // A truncate concerns the record only once the record exists.
    let first = events.iter().position(|e| e.op != Op::Truncate);
    match first {
        Some(i) => {
            events.drain(..i);
        }
        None => events.clear(),
    }
    if events.is_empty() {
        return Err(HistoryError::NotFound {
            table: t.qualified(),
            key: key.join(" "),
        });
    }
    let mut versions = Vec::with_capacity(events.len());
    for (i, e) in events.into_iter().enumerate() {
        let (changes, unchanged) = field_changes(&image(&e, e.before.as_ref()), &image(&e, e.after.as_ref()), &e, &e);
        versions.push(Version {
            number: i + 1,
            event: e,
            changes,
            unchanged,
        });
    }
    Ok(History {
        table: t,
        key: key_cols.into_iter().zip(values).collect(),
        versions,
    })
}
