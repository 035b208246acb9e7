//! Reading and decoding `_rowtrail_log` rows.

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection};
use serde_json::{Map, Value};

use crate::event::{Cell, Op};

/// One log row as stored, before decoding.
#[derive(Debug, Clone)]
pub(super) struct RawRow {
    pub(super) id: i64,
    pub(super) txn: i64,
    pub(super) stmt_at: Option<String>,
    pub(super) tbl: Option<String>,
    pub(super) op: Option<String>,
    pub(super) old: Option<String>,
    pub(super) new: Option<String>,
    pub(super) actor: Option<String>,
    pub(super) reason: Option<String>,
}

impl RawRow {
    /// Whether two consecutive rows belong to the same transaction.
    pub(super) fn same_group(&self, other: &RawRow) -> bool {
        if self.txn != 0 || other.txn != 0 {
            self.txn == other.txn
        } else {
            self.stmt_at == other.stmt_at
        }
    }
}

/// A decoded log row.
pub(super) struct Decoded {
    pub(super) op: Op,
    pub(super) tbl: String,
    pub(super) old: Option<Map<String, Value>>,
    pub(super) new: Option<Map<String, Value>>,
}

/// Any value as text: text and blobs as (lossy) UTF-8, numbers in their text form.
pub(super) fn text_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match r.get_ref(i)? {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    })
}

pub(super) const SELECT_ROWS: &str =
    "SELECT id, coalesce(CAST(txn AS INTEGER), 0), stmt_at, tbl, op, old, new, actor, reason
    FROM _rowtrail_log WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3";

pub(super) fn read_rows(
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
pub(super) fn log_bounds(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.prepare_cached(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = '_rowtrail_log'), 0),
                coalesce((SELECT max(id) FROM _rowtrail_log), 0)",
    )?
    .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
}

/// The last row `(id, stmt_at)` of the group starting at `first`, read in one statement so
/// that the answer belongs to one snapshot of the log.
pub(super) fn group_end(
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

pub(super) fn value_cell(v: Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::String(s) => Cell::Text(s),
        // The triggers write strings only; anything else (a hand-written row) keeps its JSON text.
        other => Cell::Text(other.to_string()),
    }
}

pub(super) fn decode_image(
    what: &str,
    s: Option<&str>,
) -> Result<Option<Map<String, Value>>, String> {
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

pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        format!("{s:?}")
    } else {
        let t: String = s.chars().take(max).collect();
        format!("{t:?}…")
    }
}

pub(super) fn decode_row(r: &RawRow) -> Result<Decoded, String> {
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
pub(super) fn commit_time(last: &RawRow) -> Result<i64, String> {
    let s = last.stmt_at.as_deref().ok_or("no stmt_at time")?;
    crate::time_fmt::parse_user_time(s).map_err(|_| format!("unreadable stmt_at time {s:?}"))
}
