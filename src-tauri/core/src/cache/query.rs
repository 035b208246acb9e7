//! Reading events back: filtered lists with keyset pagination, a record's events, tables.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::writer::{decode_image, op_code, op_from_code, push_json_str};
use super::{search, Cache, CacheError};
use crate::event::{Cell, ColumnDef, Op};

/// Which events to list. Every field narrows the list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Source name.
    pub source: Option<String>,
    /// Table as `name` or `schema.name`.
    pub table: Option<String>,
    /// Operation.
    pub op: Option<Op>,
    /// Committed at or after (Unix µs).
    pub since_us: Option<i64>,
    /// Committed before (Unix µs).
    pub until_us: Option<i64>,
    /// The source's transaction id.
    pub txid: Option<String>,
    /// Value search (substring of any value, ignoring case). Three characters or more use
    /// the search index; shorter text is looked for in every value the other filters leave.
    pub search: Option<String>,
    /// Only events after this event id (keyset pagination).
    pub after_id: Option<i64>,
    /// At most this many events.
    pub limit: Option<usize>,
}

/// One stored event with everything a reader shows.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// Cache event id (increasing in commit order).
    pub id: i64,
    /// Cache row id of the event's transaction (groups events by transaction, even when a
    /// source reuses a transaction id).
    pub txn_row: i64,
    /// Source name.
    pub source: String,
    /// The source's transaction id.
    pub txid: String,
    /// The transaction's commit position.
    pub position: String,
    /// Commit time, Unix µs.
    pub committed_us: i64,
    /// Transaction context (actor, reason, …).
    pub context: Map<String, Value>,
    /// `None` when the transaction is the source's own commit; otherwise how its events were
    /// grouped (`"statement"`: a SQLite source without transaction numbers, see
    /// [`WriteOp::Grouping`](crate::cache::WriteOp::Grouping)).
    pub grouping: Option<String>,
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// Operation.
    pub op: Op,
    /// The table's columns when the event was written.
    pub columns: Arc<Vec<ColumnDef>>,
    /// Key values in key-column order (names from `columns`).
    pub key: Vec<(String, Option<String>)>,
    /// The record key before an update that changed it.
    pub old_key: Option<Vec<Option<String>>>,
    /// Before image, aligned with `columns`.
    pub before: Option<Vec<Cell>>,
    /// After image, aligned with `columns`.
    pub after: Option<Vec<Cell>>,
    /// Columns filled from an earlier version rather than sent.
    pub inferred: Vec<String>,
}

impl EventRow {
    /// The columns whose known value differs between the before and after image (an update's
    /// changed columns; empty for inserts, deletes and truncates).
    pub fn changed_columns(&self) -> Vec<String> {
        match (&self.before, &self.after) {
            (Some(b), Some(a)) => self
                .columns
                .iter()
                .zip(b.iter().zip(a))
                .filter(|(_, (x, y))| x != y && !matches!(x, Cell::Missing) && !matches!(y, Cell::Missing))
                .map(|(c, _)| c.name.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The scripting-contract JSON object (see DESIGN.md "Scripting contract").
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("id".into(), self.id.into());
        o.insert("source".into(), self.source.clone().into());
        o.insert("txid".into(), self.txid.clone().into());
        o.insert("position".into(), self.position.clone().into());
        o.insert(
            "committed_at".into(),
            crate::time_fmt::format_us(self.committed_us).into(),
        );
        o.insert("context".into(), Value::Object(self.context.clone()));
        if let Some(g) = &self.grouping {
            // Only when the group is not a real commit, so the contract for sources with
            // transactions does not change.
            o.insert("grouping".into(), g.clone().into());
        }
        o.insert("schema".into(), self.schema.clone().into());
        o.insert("table".into(), self.table.clone().into());
        o.insert("op".into(), self.op.as_str().into());
        let key: Map<String, Value> = self
            .key
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().map_or(Value::Null, Value::String)))
            .collect();
        o.insert("key".into(), Value::Object(key));
        let mut unknown = Vec::new();
        o.insert("before".into(), self.image_json(self.before.as_deref(), &mut unknown));
        o.insert("after".into(), self.image_json(self.after.as_deref(), &mut unknown));
        o.insert("inferred".into(), self.inferred.clone().into());
        if !unknown.is_empty() {
            o.insert("unknown".into(), unknown.into());
        }
        Value::Object(o)
    }

    /// An image as `{column: value}`; columns neither sent nor inferable are left out and
    /// named in `unknown` rather than shown as NULL.
    fn image_json(&self, img: Option<&[Cell]>, unknown: &mut Vec<String>) -> Value {
        let Some(img) = img else { return Value::Null };
        let mut m = Map::new();
        for (c, v) in self.columns.iter().zip(img) {
            match v {
                Cell::Null => {
                    m.insert(c.name.clone(), Value::Null);
                }
                Cell::Text(s) => {
                    m.insert(c.name.clone(), Value::String(s.clone()));
                }
                Cell::Missing => {
                    if !unknown.contains(&c.name) {
                        unknown.push(c.name.clone());
                    }
                }
            }
        }
        Value::Object(m)
    }

    /// The value of `column` in `img`, if the column exists.
    pub fn cell<'a>(&'a self, img: Option<&'a [Cell]>, column: &str) -> Option<&'a Cell> {
        let i = self.columns.iter().position(|c| c.name == column)?;
        img.and_then(|v| v.get(i))
    }
}

/// A table the cache holds events for.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableRef {
    /// Cache id.
    pub id: i64,
    /// Source name.
    pub source: String,
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
}

impl TableRef {
    /// `schema.table` as users type it.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

const SELECT_EVENTS: &str = "SELECT e.id, s.name, t.txid, t.position, t.committed_us, t.context,
        tb.schema_name, tb.table_name, e.op, e.record_key, e.old_key, e.before, e.after, e.inferred,
        e.relation_id, r.columns, e.txn_id, t.grouping
    FROM events e
    JOIN transactions t ON t.id = e.txn_id
    JOIN sources s ON s.id = t.source_id
    JOIN tables tb ON tb.id = e.table_id
    JOIN relations r ON r.id = e.relation_id";

impl Cache {
    /// Tables matching `name` (`table` or `schema.table`), optionally within one source.
    pub fn find_tables(&self, source: Option<&str>, name: &str) -> Result<Vec<TableRef>, CacheError> {
        Ok(self
            .tables()?
            .into_iter()
            .filter(|t| source.is_none_or(|s| s == t.source))
            .filter(|t| t.table == name || t.qualified() == name)
            .collect())
    }

    /// Every table with captured events.
    pub fn tables(&self) -> Result<Vec<TableRef>, CacheError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT tb.id, s.name, tb.schema_name, tb.table_name FROM tables tb
             JOIN sources s ON s.id = tb.source_id ORDER BY s.name, tb.schema_name, tb.table_name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(TableRef {
                id: r.get(0)?,
                source: r.get(1)?,
                schema: r.get(2)?,
                table: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest column list of a table.
    pub fn table_columns(&self, table_id: i64) -> Result<Vec<ColumnDef>, CacheError> {
        let cols: String = self
            .conn
            .prepare_cached("SELECT columns FROM relations WHERE table_id = ?1 ORDER BY id DESC LIMIT 1")?
            .query_row([table_id], |r| r.get(0))?;
        serde_json::from_str(&cols).map_err(|e| CacheError::Corrupt {
            table: "relations",
            id: table_id,
            reason: e.to_string(),
        })
    }

    /// Events matching `filter`, oldest first, calling `each` for every row so that callers
    /// can stream millions of them without holding the list.
    pub fn for_each_event(
        &self,
        filter: &EventFilter,
        mut each: impl FnMut(EventRow) -> Result<(), CacheError>,
    ) -> Result<(), CacheError> {
        let mut sql = String::from(SELECT_EVENTS);
        let mut args: Vec<SqlValue> = Vec::new();
        let mut conds: Vec<String> = Vec::new();
        if let Some(s) = &filter.source {
            args.push(s.clone().into());
            conds.push(format!("s.name = ?{}", args.len()));
        }
        if let Some(t) = &filter.table {
            let ids: Vec<i64> = self
                .find_tables(filter.source.as_deref(), t)?
                .iter()
                .map(|t| t.id)
                .collect();
            let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
            conds.push(format!("e.table_id IN ({list})"));
        }
        if let Some(op) = filter.op {
            args.push(op_code(op).into());
            conds.push(format!("e.op = ?{}", args.len()));
        }
        if let Some(us) = filter.since_us {
            args.push(us.into());
            conds.push(format!("t.committed_us >= ?{}", args.len()));
        }
        if let Some(us) = filter.until_us {
            args.push(us.into());
            conds.push(format!("t.committed_us < ?{}", args.len()));
        }
        if let Some(x) = &filter.txid {
            args.push(x.clone().into());
            conds.push(format!("t.txid = ?{}", args.len()));
        }
        // Text shorter than the index can find is looked for in the values themselves.
        let short = filter.search.as_deref().filter(|q| search::is_short(q)).map(str::to_lowercase);
        if let Some(q) = short.as_deref().and_then(search::short_prefilter) {
            args.push(q.to_string().into());
            conds.push(format!(
                "(instr(lower(e.before), ?{n}) > 0 OR instr(lower(e.after), ?{n}) > 0)",
                n = args.len()
            ));
        }
        if let Some(q) = filter.search.as_ref().filter(|_| short.is_none()) {
            crate::cache::search::index_pending(&self.conn, usize::MAX)?;
            args.push(crate::cache::search::fts_phrase(q).into());
            conds.push(format!(
                "e.id IN (SELECT rowid FROM events_text WHERE events_text MATCH ?{})",
                args.len()
            ));
        }
        if let Some(id) = filter.after_id {
            args.push(id.into());
            conds.push(format!("e.id > ?{}", args.len()));
        }
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        sql.push_str(" ORDER BY e.id");
        if let (Some(n), None) = (filter.limit, &short) {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut rels = RelationMemo::default();
        let mut left = filter.limit;
        while left != Some(0) {
            let Some(r) = rows.next()? else { break };
            let e = read_row(r, &mut rels)?;
            if let Some(q) = &short {
                if !search::image_contains(e.before.as_deref(), q) && !search::image_contains(e.after.as_deref(), q) {
                    continue;
                }
                left = left.map(|n| n - 1);
            }
            each(e)?;
        }
        Ok(())
    }

    /// Whether the cache holds a transaction with the source's id `txid` (from source
    /// `source` when given), so that a mistyped id can be named rather than listed as empty.
    pub fn has_transaction(&self, source: Option<&str>, txid: &str) -> Result<bool, CacheError> {
        Ok(self.conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM transactions t JOIN sources s ON s.id = t.source_id
             WHERE t.txid = ?1 AND (?2 IS NULL OR s.name = ?2))",
        )?
        .query_row(rusqlite::params![txid, source], |r| r.get(0))?)
    }

    /// Events matching `filter`, oldest first, as a list.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<EventRow>, CacheError> {
        let mut out = Vec::new();
        self.for_each_event(filter, |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    /// Every event of one record, oldest first. `key` is the canonical JSON array of the key
    /// values (see [`crate::cache::writer::encode_key`]); events that changed the key away
    /// from it are included.
    pub fn record_events(&self, table_id: i64, key: &str) -> Result<Vec<EventRow>, CacheError> {
        let sql = format!(
            "{SELECT_EVENTS} WHERE e.id IN (
                SELECT id FROM events WHERE table_id = ?1 AND record_key = ?2
                UNION SELECT id FROM events WHERE table_id = ?1 AND old_key = ?2
                UNION SELECT id FROM events WHERE table_id = ?1 AND op = 4)
             ORDER BY e.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params![table_id, key])?;
        let mut rels = RelationMemo::default();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(read_row(r, &mut rels)?);
        }
        Ok(out)
    }

    /// The events with these ids, in id order (ids that do not exist are left out).
    pub fn events_by_ids(&self, ids: &[i64]) -> Result<Vec<EventRow>, CacheError> {
        let mut out = Vec::with_capacity(ids.len());
        let mut rels = RelationMemo::default();
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
            let sql = format!("{SELECT_EVENTS} WHERE e.id IN ({list}) ORDER BY e.id");
            let mut stmt = self.conn.prepare(&sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                out.push(read_row(r, &mut rels)?);
            }
        }
        out.sort_by_key(|e| e.id);
        Ok(out)
    }

    /// Number of events stored.
    pub fn event_count(&self) -> Result<i64, CacheError> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))?)
    }
}

/// Builds the canonical key for `values` typed by a user, given the key columns. Accepts one
/// value per key column, either bare in order or as `column=value`.
pub fn key_from_user(key_columns: &[String], values: &[String]) -> Result<String, String> {
    let mut out: Vec<Option<String>> = vec![None; key_columns.len()];
    let named = values.iter().all(|v| v.contains('='))
        && values
            .iter()
            .all(|v| key_columns.iter().any(|k| v.split_once('=').is_some_and(|(n, _)| n == k)));
    if named {
        for v in values {
            if let Some((n, val)) = v.split_once('=') {
                if let Some(i) = key_columns.iter().position(|k| k == n) {
                    out[i] = Some(val.to_string());
                }
            }
        }
    } else {
        if values.len() != key_columns.len() {
            return Err(format!(
                "the key has {} column(s) ({}); got {} value(s)",
                key_columns.len(),
                key_columns.join(", "),
                values.len()
            ));
        }
        for (i, v) in values.iter().enumerate() {
            out[i] = Some(v.clone());
        }
    }
    if let Some(i) = out.iter().position(|v| v.is_none()) {
        return Err(format!("no value given for key column {}", key_columns[i]));
    }
    let mut s = String::from("[");
    for (i, v) in out.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_json_str(&mut s, v.as_deref().unwrap_or_default());
    }
    s.push(']');
    Ok(s)
}

#[derive(Default)]
struct RelationMemo(HashMap<i64, Arc<Vec<ColumnDef>>>);

fn read_row(r: &rusqlite::Row<'_>, rels: &mut RelationMemo) -> Result<EventRow, CacheError> {
    let id: i64 = r.get(0)?;
    let corrupt = |reason: String| CacheError::Corrupt {
        table: "events",
        id,
        reason,
    };
    let relation_id: i64 = r.get(14)?;
    let columns = match rels.0.get(&relation_id) {
        Some(c) => c.clone(),
        None => {
            let raw: String = r.get(15)?;
            let cols: Vec<ColumnDef> =
                serde_json::from_str(&raw).map_err(|e| corrupt(e.to_string()))?;
            let cols = Arc::new(cols);
            rels.0.insert(relation_id, cols.clone());
            cols
        }
    };
    let context: Map<String, Value> = match r.get::<_, Option<String>>(5)? {
        Some(s) => serde_json::from_str(&s).map_err(|e| corrupt(e.to_string()))?,
        None => Map::new(),
    };
    let op = op_from_code(r.get(8)?).ok_or_else(|| corrupt("unknown operation code".into()))?;
    let image = |i: usize| -> Result<Option<Vec<Cell>>, CacheError> {
        match r.get::<_, Option<String>>(i)? {
            Some(s) => Ok(Some(decode_image(&s).map_err(corrupt)?)),
            None => Ok(None),
        }
    };
    let key_vals = |s: &str| -> Result<Vec<Option<String>>, CacheError> {
        serde_json::from_str::<Vec<Option<String>>>(s).map_err(|e| corrupt(e.to_string()))
    };
    let record_key: String = r.get(9)?;
    let key_names = columns.iter().filter(|c| c.key).map(|c| c.name.clone());
    let key = key_names.zip(key_vals(&record_key).unwrap_or_default()).collect();
    let old_key = match r.get::<_, Option<String>>(10)? {
        Some(s) => Some(key_vals(&s)?),
        None => None,
    };
    let inferred = match r.get::<_, Option<String>>(13)? {
        Some(s) => serde_json::from_str(&s).map_err(|e| corrupt(e.to_string()))?,
        None => Vec::new(),
    };
    Ok(EventRow {
        id,
        txn_row: r.get(16)?,
        grouping: r.get(17)?,
        source: r.get(1)?,
        txid: r.get(2)?,
        position: r.get(3)?,
        committed_us: r.get(4)?,
        context,
        schema: r.get(6)?,
        table: r.get(7)?,
        op,
        key,
        old_key,
        before: image(11)?,
        after: image(12)?,
        inferred,
        columns,
    })
}
