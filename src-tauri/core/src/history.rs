//! A record's history: its events in order, each as a version with field-level diffs.
//!
//! Version *n* is the record after its *n*-th event. Each version's changes compare the
//! event's before and after images column by column (by name, so columns added or dropped
//! mid-stream show as set or cleared), with values filled from earlier versions marked.

use serde::{Deserialize, Serialize};

use crate::cache::query::{key_from_user, EventRow, TableRef};
use crate::cache::writer::encode_key;
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
    /// The old value is unknown: neither sent by the source nor held by an earlier version
    /// (`old` is then null, which does not mean NULL). The diff is `unknown` for a value
    /// set, `deleted` for a deleted record's column whose last value is not known.
    #[serde(default)]
    pub unknown: bool,
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
        format!("{} {}", self.table.qualified(), self.key_label())
    }

    /// `key=value[,key=value]`, without the table.
    pub fn key_label(&self) -> String {
        let k: Vec<String> = self.key.iter().map(|(c, v)| format!("{c}={v}")).collect();
        k.join(",")
    }

    /// The changes between versions `from` and `to` (1-based; either order).
    pub fn compare(&self, from: usize, to: usize) -> Result<Vec<FieldChange>, HistoryError> {
        let get = |n: usize| {
            self.versions.get(n.wrapping_sub(1)).ok_or_else(|| HistoryError::NoVersion {
                table: self.table.qualified(),
                key: self.key_label(),
                count: self.versions.len(),
                asked: n,
            })
        };
        let (a, b) = (get(from)?, get(to)?);
        let new = (!gone(&b.event)).then(|| state(&b.event));
        Ok(field_changes(&state(&a.event), new.as_deref(), &a.event, &b.event).0)
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

/// Whether the record no longer exists after this event.
fn gone(e: &EventRow) -> bool {
    matches!(e.op, Op::Delete | Op::Truncate)
}

/// The changes from state `old` to state `new`, by column name, and the number of columns
/// left unchanged. `new` is `None` when the record is gone (deleted): then every column of
/// `old` is listed as `deleted` with the value the removed record held.
fn field_changes(
    old: &[(String, String, Cell)],
    new: Option<&[(String, String, Cell)]>,
    old_event: &EventRow,
    new_event: &EventRow,
) -> (Vec<FieldChange>, usize) {
    let inferred = |name: &str| old_event.inferred.iter().any(|c| c == name) || new_event.inferred.iter().any(|c| c == name);
    let text = |c: &Cell| c.as_opt_str().map(str::to_string);
    let Some(new) = new else {
        let out = old
            .iter()
            .map(|(name, type_name, cell)| {
                let unknown = matches!(cell, Cell::Missing);
                FieldChange {
                    column: name.clone(),
                    type_name: type_name.clone(),
                    old: text(cell),
                    new: None,
                    diff: ValueDiff::Deleted { old: text(cell) },
                    inferred: inferred(name),
                    unknown,
                }
            })
            .collect();
        return (out, 0);
    };
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
        // A new value that was neither sent nor inferable (an unchanged TOAST value with no
        // earlier version) says nothing about this event: leave it out.
        if matches!(n, Some(Cell::Missing)) {
            continue;
        }
        let nt = n.as_ref().and_then(text);
        if matches!(o, Some(Cell::Missing)) {
            // The event set the column, but what it held before is not known (a REPLICA
            // IDENTITY DEFAULT update of a row first seen now, or a column added or renamed
            // since the last version): a change from an unknown value, never "unchanged".
            out.push(FieldChange {
                column: name.to_string(),
                type_name: type_name.to_string(),
                old: None,
                new: nt.clone(),
                diff: ValueDiff::Unknown { new: nt },
                inferred: inferred(name),
                unknown: true,
            });
            continue;
        }
        let ot = o.as_ref().and_then(text);
        let diff = diff_value(type_name, ot.as_deref(), nt.as_deref());
        if matches!(diff, ValueDiff::Unchanged) {
            unchanged += 1;
            continue;
        }
        out.push(FieldChange {
            column: name.to_string(),
            type_name: type_name.to_string(),
            old: ot,
            new: nt,
            diff,
            inferred: inferred(name),
            unknown: false,
        });
    }
    (out, unchanged)
}

/// One event's own changes (its before image against its after image), as a history version
/// shows them, and the number of unchanged columns. For views of single events (a transaction).
/// A delete lists the removed record's values.
pub fn event_changes(e: &EventRow) -> (Vec<FieldChange>, usize) {
    let new = (!gone(e)).then(|| image(e, e.after.as_ref()));
    field_changes(&image(e, e.before.as_ref()), new.as_deref(), e, e)
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
    if key_cols.is_empty() {
        return Err(HistoryError::BadKey {
            table: t.qualified(),
            message: format!(
                "it has no key (no primary key or replica identity), so its rows cannot be told apart and have no history of their own; see its changes with `rowtrail events --table {}`",
                t.qualified()
            ),
        });
    }
    let canonical = key_from_user(&key_cols, key).map_err(|message| HistoryError::BadKey {
        table: t.qualified(),
        message,
    })?;
    let values: Vec<String> = serde_json::from_str(&canonical).unwrap_or_default();
    let mut events = chain_events(cache, t.id, &canonical)?;
    // A table dropped and created again under this name: one incarnation's history only.
    crate::cache::incarnation::keep_latest_incarnation(&mut events, &cache.incarnation_starts(t.id)?);
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
        let (changes, unchanged) = event_changes(&e);
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

/// The cache's text form of a key (as stored in `record_key` / `old_key`).
fn key_string<'a>(values: impl Iterator<Item = Option<&'a str>>) -> String {
    let cells: Vec<Cell> = values.map(|v| v.map_or(Cell::Null, |s| Cell::Text(s.to_string()))).collect();
    let idx: Vec<usize> = (0..cells.len()).collect();
    encode_key(&cells, &idx)
}

/// Which way a key chain is followed from one key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// The key asked for: both ways.
    Both,
    /// Towards older keys (what this record was called before).
    Back,
    /// Towards newer keys (what it was called after).
    Forward,
}

/// Most keys one record's chain may pass through; a guard against pathological key churn.
const MAX_KEY_HOPS: usize = 1000;

/// The events of the record whose key is `key`, following primary-key changes both ways:
/// back to the keys it had before (their events since the record got that key) and forward
/// to the keys it got later (their events until it lost that key, was deleted or
/// truncated), over any number of changes. So a record's history is whole whichever of its
/// keys is asked for, and a later record that reuses an old key is not mixed in. Oldest
/// first, each event once.
fn chain_events(cache: &Cache, table_id: i64, key: &str) -> Result<Vec<EventRow>, CacheError> {
    let mut out: Vec<EventRow> = Vec::new();
    let mut ids = std::collections::HashSet::new();
    // (key, events after this id, events before this id, direction)
    let mut todo = vec![(key.to_string(), i64::MIN, i64::MAX, Follow::Both)];
    let mut hops = 0;
    while let Some((key, after, before, follow)) = todo.pop() {
        hops += 1;
        if hops > MAX_KEY_HOPS {
            break;
        }
        let mut events: Vec<EventRow> = cache
            .record_events(table_id, &key)?
            .into_iter()
            .filter(|e| e.id > after && e.id < before)
            .collect();
        // Keys as (old, new) of a key change, else None.
        let change = |e: &EventRow| {
            e.old_key.as_ref().map(|old| {
                (
                    key_string(old.iter().map(|v| v.as_deref())),
                    key_string(e.key.iter().map(|(_, v)| v.as_deref())),
                )
            })
        };
        if follow == Follow::Back {
            // Newest first, back to where the record got this key.
            events.reverse();
        }
        for e in events {
            let ch = change(&e).filter(|(old, new)| old != new);
            match follow {
                Follow::Both => match &ch {
                    Some((old, new)) if *new == key => todo.push((old.clone(), after, e.id, Follow::Back)),
                    Some((old, new)) if *old == key => todo.push((new.clone(), e.id, before, Follow::Forward)),
                    _ => {}
                },
                Follow::Forward => {
                    let ends = gone(&e);
                    let leaves = match &ch {
                        Some((old, new)) if *old == key => {
                            todo.push((new.clone(), e.id, before, Follow::Forward));
                            true
                        }
                        _ => false,
                    };
                    if ids.insert(e.id) {
                        out.push(e);
                    }
                    if ends || leaves {
                        break;
                    }
                    continue;
                }
                Follow::Back => {
                    // Going back, a delete or truncate belongs to an earlier record.
                    if gone(&e) {
                        break;
                    }
                    let starts = e.op == Op::Insert;
                    let arrives = match &ch {
                        Some((old, new)) if *new == key => {
                            todo.push((old.clone(), after, e.id, Follow::Back));
                            true
                        }
                        _ => false,
                    };
                    if ids.insert(e.id) {
                        out.push(e);
                    }
                    if starts || arrives {
                        break;
                    }
                    continue;
                }
            }
            if ids.insert(e.id) {
                out.push(e);
            }
        }
    }
    out.sort_by_key(|e| e.id);
    Ok(out)
}
