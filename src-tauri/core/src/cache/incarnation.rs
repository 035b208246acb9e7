//! Incarnations of a table: a table dropped and created again under the same name is another
//! table, whose rows share keys with the old one by accident. Its history must start anew
//! rather than continue the old table's records.
//!
//! Design (the least change to the event store): events keep their one `tables` row per
//! name, so lists, filters and search see every change of that name as before. The server's
//! identity of the table (PostgreSQL's OID) is kept in `tables.source_oid`; when the stream
//! announces the same name with another OID inside a transaction it stores, the writer
//! records an incarnation in `table_incarnations`, starting at that transaction's commit
//! position. Readers split a record's events at those positions: a record's history is its
//! events within the newest incarnation that has any for it (so an old record that the new
//! table never had still shows its old history), and values missing from an event are
//! inferred only from the same incarnation. Replayed transactions (already stored) never
//! record one, so a stream re-reading the old table's last changes cannot cut a history.
//! Sources without such an identity (SQLite) never record one.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::query::EventRow;
use super::{Cache, CacheError};

/// Records that `table_id` is the server's table `oid`. `txn_position` is the commit
/// position of the transaction being stored, `None` outside one or in a replay. Returns
/// whether a new incarnation started.
pub(crate) fn record_oid(
    conn: &Connection,
    table_id: i64,
    oid: u32,
    txn_position: Option<i64>,
) -> Result<bool, CacheError> {
    let stored: Option<i64> = conn
        .prepare_cached("SELECT source_oid FROM tables WHERE id = ?1")?
        .query_row([table_id], |r| r.get(0))
        .optional()?
        .flatten();
    match (stored, txn_position) {
        (None, _) => {
            conn.prepare_cached("UPDATE tables SET source_oid = ?2 WHERE id = ?1")?
                .execute(params![table_id, oid as i64])?;
            Ok(false)
        }
        (Some(s), Some(pos)) if s != oid as i64 => {
            conn.prepare_cached("UPDATE tables SET source_oid = ?2 WHERE id = ?1")?
                .execute(params![table_id, oid as i64])?;
            conn.prepare_cached(
                "INSERT INTO table_incarnations (table_id, since_num, oid) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![table_id, pos, oid as i64])?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The first event id of the newest incarnation of `table_id`, if it has had more than one
/// (`i64::MAX` while that incarnation has no events yet): the writer infers values only
/// from events at or after it.
pub(crate) fn current_floor(conn: &Connection, table_id: i64) -> Result<Option<i64>, CacheError> {
    let since: Option<i64> = conn
        .prepare_cached("SELECT max(since_num) FROM table_incarnations WHERE table_id = ?1")?
        .query_row([table_id], |r| r.get(0))?;
    let Some(since) = since else { return Ok(None) };
    let first: Option<i64> = conn
        .prepare_cached(
            "SELECT min(e.id) FROM events e JOIN transactions t ON t.id = e.txn_id
             WHERE e.table_id = ?1 AND t.position_num >= ?2",
        )?
        .query_row(params![table_id, since], |r| r.get(0))?;
    Ok(Some(first.unwrap_or(i64::MAX)))
}

impl Cache {
    /// The OID the stream last announced for each captured table of a source, by
    /// `(schema, table)` (tables captured before Rowtrail kept OIDs are left out).
    pub fn table_oids(&self, source_id: i64) -> Result<HashMap<(String, String), u32>, CacheError> {
        let mut stmt = self.conn().prepare(
            "SELECT schema_name, table_name, source_oid FROM tables WHERE source_id = ?1 AND source_oid IS NOT NULL",
        )?;
        let rows = stmt.query_map([source_id], |r| {
            Ok(((r.get::<_, String>(0)?, r.get::<_, String>(1)?), r.get::<_, i64>(2)? as u32))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The first event id of each later incarnation of `table_id`, oldest first (empty for a
    /// table never re-created).
    pub fn incarnation_starts(&self, table_id: i64) -> Result<Vec<i64>, CacheError> {
        let mut stmt = self.conn().prepare(
            "SELECT (SELECT min(e.id) FROM events e JOIN transactions t ON t.id = e.txn_id
                     WHERE e.table_id = i.table_id AND t.position_num >= i.since_num)
             FROM table_incarnations i WHERE i.table_id = ?1 ORDER BY i.since_num",
        )?;
        let rows = stmt.query_map([table_id], |r| r.get::<_, Option<i64>>(0))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r?.unwrap_or(i64::MAX));
        }
        Ok(out)
    }
}

/// Keeps the events of the newest incarnation (split at `starts`, first event ids) that
/// holds any event other than a truncate; `events` are one record's, in id order.
pub fn keep_latest_incarnation(events: &mut Vec<EventRow>, starts: &[i64]) {
    if starts.is_empty() {
        return;
    }
    let incarnation = |id: i64| starts.iter().filter(|&&s| id >= s).count();
    let Some(newest) = events
        .iter()
        .filter(|e| e.op != crate::event::Op::Truncate)
        .map(|e| incarnation(e.id))
        .max()
    else {
        return;
    };
    events.retain(|e| incarnation(e.id) == newest);
}
