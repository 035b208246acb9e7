//! The Changes and Transaction screens: filtered event lists that page through millions of
//! events (see [`super::paging`]), counts, "jump to time", one transaction, and exports.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rusqlite::types::Value as SqlValue;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::export::ExportFormat;
use super::paging::{bind, PositionIndex};
use crate::history::FieldChange;
use super::{Api, ApiError};
use crate::cache::query::EventRow;
use crate::cache::writer::op_code;
use crate::cache::{Cache, CacheError};
use crate::event::{Cell, ColumnDef, Op};
use crate::time_fmt::{format_us, parse_user_time};

/// Most events one page returns.
pub const MAX_PAGE: u32 = 1000;
/// Events a page returns when the request does not say.
pub const DEFAULT_PAGE: u32 = 100;
/// Most events one transaction view returns (its counts cover all of them).
pub const MAX_TRANSACTION_EVENTS: u32 = 5000;
/// Most events one export holds; the CLI (`rowtrail events --json`) streams any number.
pub const MAX_EXPORT_EVENTS: u64 = 200_000;

/// Which events a list shows. Every field narrows the list; leave it out (or null) for "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(rename = "EventFilter", optional_fields = nullable)]
pub struct Filter {
    /// Source name.
    pub source: Option<String>,
    /// Table as `name` or `schema.name`.
    pub table: Option<String>,
    /// Operation.
    pub op: Option<Op>,
    /// Committed at or after this time, as a user types it: `2026-11-02`, `2026-11-02 09:14`
    /// (UTC) or RFC 3339 with any offset.
    pub since: Option<String>,
    /// Committed before this time (same forms as `since`).
    pub until: Option<String>,
    /// The source's own transaction id (PostgreSQL's xid as `txid_current()` shows it).
    pub txid: Option<String>,
    /// Text found in any transaction context value (actor, reason, endpoint), ignoring ASCII case.
    pub context: Option<String>,
    /// Only updates that changed this column, its name in any case when no column has it
    /// exactly (inserts and deletes touch every column and are not matched; a name no table
    /// has matches nothing).
    pub column: Option<String>,
    /// Value search: text (at least 3 characters) found in any value of the before or after image.
    pub search: Option<String>,
}

impl Filter {
    fn normalized(&self) -> Filter {
        let t = |s: &Option<String>| s.as_ref().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Filter {
            source: t(&self.source),
            table: t(&self.table),
            op: self.op,
            since: t(&self.since),
            until: t(&self.until),
            txid: t(&self.txid),
            context: t(&self.context),
            column: t(&self.column),
            // Leading and trailing spaces can matter in a value search.
            search: self.search.clone().filter(|v| !v.is_empty()),
        }
    }
}

/// A filter checked against the cache and turned into SQL pieces.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// Identifies the filter (its normalized JSON) for the position index.
    pub key: String,
    /// Nothing can match (an unknown txid).
    none: bool,
    source_id: Option<i64>,
    table_ids: Option<Vec<i64>>,
    op: Option<i64>,
    since_us: Option<i64>,
    until_us: Option<i64>,
    txn_ids: Option<Vec<i64>>,
    /// Inclusive event id bounds implied by other filters.
    id_lo: Option<i64>,
    id_hi: Option<i64>,
    context_like: Option<String>,
    /// `(relation id, column index)` of every shape that has the changed column.
    changed: Option<Vec<(i64, usize)>>,
    search: Option<String>,
}

fn like_pattern(s: &str) -> String {
    let mut p = String::from("%");
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

fn ids_list(ids: &[i64]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// Checks `f` against the cache: names must exist, times must parse.
pub(crate) fn resolve(c: &Cache, f: &Filter) -> Result<Resolved, ApiError> {
    let f = f.normalized();
    let key = serde_json::to_string(&f).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut r = Resolved {
        key,
        none: false,
        source_id: None,
        table_ids: None,
        op: f.op.map(op_code),
        since_us: None,
        until_us: None,
        txn_ids: None,
        id_lo: None,
        id_hi: None,
        context_like: f.context.as_deref().map(like_pattern),
        changed: None,
        search: None,
    };
    if let Some(s) = &f.source {
        let rec = c.source(s).map_err(|_| {
            ApiError::not_found(format!("filter.source: no source named {s:?} (list_sources shows them)"))
        })?;
        r.source_id = Some(rec.id);
    }
    if let Some(t) = &f.table {
        let found = c.find_tables(f.source.as_deref(), t)?;
        if found.is_empty() {
            let within = f.source.as_deref().map(|s| format!(" in source {s:?}")).unwrap_or_default();
            return Err(ApiError::not_found(format!(
                "filter.table: no captured table named {t:?}{within} (list_tables shows them)"
            )));
        }
        r.table_ids = Some(found.iter().map(|t| t.id).collect());
        // The tables belong to the source already: no need to check it per event.
        r.source_id = None;
    }
    let time = |field: &str, v: &Option<String>| -> Result<Option<i64>, ApiError> {
        v.as_deref()
            .map(parse_user_time)
            .transpose()
            .map_err(|m| ApiError::bad_request(format!("filter.{field}: {m}")))
    };
    r.since_us = time("since", &f.since)?;
    r.until_us = time("until", &f.until)?;
    if let Some(x) = &f.txid {
        let mut sql = String::from("SELECT id FROM transactions WHERE txid = ?1");
        let mut args: Vec<SqlValue> = vec![x.clone().into()];
        if let Some(s) = f.source.as_deref().map(|s| c.source(s)).transpose()? {
            sql.push_str(" AND source_id = ?2");
            args.push(s.id.into());
        }
        let mut stmt = c.conn().prepare(&sql).map_err(CacheError::from)?;
        let ids: Vec<i64> = stmt
            .query_map(rusqlite::params_from_iter(args), |row| row.get(0))
            .map_err(CacheError::from)?
            .collect::<Result<_, _>>()
            .map_err(CacheError::from)?;
        if ids.is_empty() {
            r.none = true;
        } else {
            let (lo, hi): (Option<i64>, Option<i64>) = c
                .conn()
                .query_row(
                    &format!("SELECT min(id), max(id) FROM events WHERE txn_id IN ({})", ids_list(&ids)),
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(CacheError::from)?;
            match (lo, hi) {
                (Some(lo), Some(hi)) => {
                    r.id_lo = Some(lo);
                    r.id_hi = Some(hi);
                }
                _ => r.none = true,
            }
            r.txn_ids = Some(ids);
        }
    }
    if let Some(col) = &f.column {
        let mut sql = String::from("SELECT id, columns FROM relations");
        if let Some(ids) = &r.table_ids {
            let _ = write!(sql, " WHERE table_id IN ({})", ids_list(ids));
        }
        let mut stmt = c.conn().prepare(&sql).map_err(CacheError::from)?;
        let rows: Vec<(i64, String)> = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(CacheError::from)?
            .collect::<Result<_, _>>()
            .map_err(CacheError::from)?;
        let mut changed = Vec::new();
        let folded = col.to_lowercase();
        for (id, cols) in rows {
            let cols: Vec<ColumnDef> = serde_json::from_str(&cols).unwrap_or_default();
            // The exact name, else the name in any case (people type `ST` for `st`).
            let i = cols
                .iter()
                .position(|c| c.name == *col)
                .or_else(|| cols.iter().position(|c| c.name.to_lowercase() == folded));
            if let Some(i) = i {
                changed.push((id, i));
            }
        }
        // A column no table has: no update changed it, so nothing matches (an empty list,
        // not an error: the list says so and offers to clear the filter).
        r.none |= changed.is_empty();
        r.changed = Some(changed);
    }
    if let Some(q) = &f.search {
        if crate::cache::search::is_short(q) {
            return Err(ApiError::bad_request(format!(
                "filter.search: {q:?} is too short; value search needs at least {} characters",
                crate::cache::search::MIN_INDEXED_CHARS
            )));
        }
        r.search = Some(crate::cache::search::fts_phrase(q));
    }
    Ok(r)
}

impl Resolved {
    /// The newest event id a scan may look at now. For value search, first brings the search
    /// index up to date, and stops where it ends.
    pub(crate) fn scan_limit(&self, c: &Cache) -> Result<i64, ApiError> {
        let max: i64 = c
            .conn()
            .query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))
            .map_err(CacheError::from)?;
        if self.search.is_none() {
            return Ok(max);
        }
        crate::cache::search::index_pending(c.conn(), usize::MAX)?;
        let indexed: i64 = c
            .conn()
            .query_row("SELECT last_event_id FROM search_progress", [], |r| r.get(0))
            .map_err(CacheError::from)?;
        Ok(max.min(indexed))
    }

    /// Calls `each` with the matching event ids between `lo` and `hi` (`(id, inclusive)`), in
    /// id order (descending with `desc`), skipping the first `skip`, at most `limit`; stops
    /// when `each` returns false.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn scan_ids(
        &self,
        c: &Cache,
        lo: Option<(i64, bool)>,
        hi: Option<(i64, bool)>,
        desc: bool,
        limit: Option<u64>,
        skip: u64,
        mut each: impl FnMut(i64) -> bool,
    ) -> Result<(), ApiError> {
        if self.none {
            return Ok(());
        }
        let mut args: Vec<SqlValue> = Vec::new();
        let mut conds: Vec<String> = Vec::new();
        let single_table = self.table_ids.as_ref().filter(|t| t.len() == 1).map(|t| t[0]);
        let (mut from, key) = if self.search.is_some() {
            ("events_text f CROSS JOIN events e INDEXED BY events_list ON e.id = f.rowid".to_string(), "f.rowid")
        } else if single_table.is_some() {
            ("events e INDEXED BY events_table_list".to_string(), "e.id")
        } else {
            ("events e INDEXED BY events_list".to_string(), "e.id")
        };
        if let Some(q) = &self.search {
            conds.push(format!("events_text MATCH {}", bind(&mut args, q.clone())));
        }
        match (&self.table_ids, single_table) {
            (_, Some(t)) => conds.push(format!("e.table_id = {}", bind(&mut args, t))),
            (Some(ids), None) => conds.push(format!("e.table_id IN ({})", ids_list(ids))),
            _ => {}
        }
        if let Some(op) = self.op {
            conds.push(format!("e.op = {}", bind(&mut args, op)));
        }
        if let Some(ids) = &self.txn_ids {
            conds.push(format!("e.txn_id IN ({})", ids_list(ids)));
        }
        let lo = match (lo, self.id_lo) {
            (Some((a, incl)), Some(b)) if b > a || (b == a && !incl) => Some((b, true)),
            (None, Some(b)) => Some((b, true)),
            (x, _) => x,
        };
        let hi = match (hi, self.id_hi) {
            (Some((a, incl)), Some(b)) if b < a || (b == a && !incl) => Some((b, true)),
            (None, Some(b)) => Some((b, true)),
            (x, _) => x,
        };
        if let Some((v, incl)) = lo {
            conds.push(format!("{key} {} {}", if incl { ">=" } else { ">" }, bind(&mut args, v)));
        }
        if let Some((v, incl)) = hi {
            conds.push(format!("{key} {} {}", if incl { "<=" } else { "<" }, bind(&mut args, v)));
        }
        let per_txn = self.source_id.is_some() || self.since_us.is_some() || self.until_us.is_some() || self.context_like.is_some();
        if per_txn {
            from.push_str(" CROSS JOIN transactions t ON t.id = e.txn_id");
        }
        if let Some(s) = self.source_id {
            conds.push(format!("t.source_id = {}", bind(&mut args, s)));
        }
        if let Some(us) = self.since_us {
            conds.push(format!("t.committed_us >= {}", bind(&mut args, us)));
        }
        if let Some(us) = self.until_us {
            conds.push(format!("t.committed_us < {}", bind(&mut args, us)));
        }
        if let Some(p) = &self.context_like {
            let p = bind(&mut args, p.clone());
            // The LIKE on the whole text is a cheap first pass; values only, never key names.
            conds.push(format!(
                "t.context LIKE {p} ESCAPE '\\' AND EXISTS (SELECT 1 FROM json_each(t.context) j WHERE j.value LIKE {p} ESCAPE '\\')"
            ));
        }
        if let Some(ch) = &self.changed {
            let rels = ch.iter().map(|(r, _)| r.to_string()).collect::<Vec<_>>().join(",");
            let mut path = String::from("CASE e.relation_id");
            for (r, i) in ch {
                let _ = write!(path, " WHEN {r} THEN '$[{i}]'");
            }
            path.push_str(" END");
            conds.push(format!(
                "e.op = 2 AND e.relation_id IN ({rels}) AND json_type(e.before, {path}) IN ('text', 'null') \
                 AND json_type(e.after, {path}) IN ('text', 'null') \
                 AND json_extract(e.before, {path}) IS NOT json_extract(e.after, {path})"
            ));
        }
        let mut sql = format!("SELECT {key} FROM {from}");
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        let _ = write!(sql, " ORDER BY {key}{}", if desc { " DESC" } else { "" });
        match limit {
            Some(n) => {
                let _ = write!(sql, " LIMIT {n} OFFSET {skip}");
            }
            None if skip > 0 => {
                let _ = write!(sql, " LIMIT -1 OFFSET {skip}");
            }
            None => {}
        }
        let mut stmt = c.conn().prepare_cached(&sql).map_err(CacheError::from)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(CacheError::from)?;
        while let Some(row) = rows.next().map_err(CacheError::from)? {
            if !each(row.get(0).map_err(CacheError::from)?) {
                break;
            }
        }
        Ok(())
    }
}

/// The newest event id of source `source_id`, if it has any.
pub(crate) fn last_event_of_source(c: &Cache, source_id: i64) -> Result<Option<i64>, ApiError> {
    Ok(c.conn()
        .query_row(
            "SELECT e.id FROM transactions t JOIN events e ON e.txn_id = t.id
             WHERE t.source_id = ?1 ORDER BY t.position_num DESC, e.id DESC LIMIT 1",
            [source_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(CacheError::from)?)
}

// ------------------------------------------------------------------------------------------
// Rows
// ------------------------------------------------------------------------------------------

/// One event as a list row: what happened, where, when and by whom, without the images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventSummary {
    /// Cache event id (increasing in commit order; the list's order).
    pub id: i64,
    /// Cache row id of the transaction: rows with the same value belong to one transaction.
    pub txn_row: i64,
    /// Source name.
    pub source: String,
    /// The source's transaction id.
    pub txid: String,
    /// Absent when the transaction is one the source committed; otherwise how its events were
    /// grouped instead: `"statement"` for a SQLite source whose application does not number its
    /// transactions (consecutive changes made in the same millisecond, usually by one statement —
    /// not necessarily a whole commit). Show it as a "statement group", never as a transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub grouping: Option<String>,
    /// The transaction's commit position (LSN for PostgreSQL, log id otherwise).
    pub position: String,
    /// Commit time, RFC 3339 UTC with milliseconds.
    pub committed_at: String,
    /// Transaction context (actor, reason, endpoint, …).
    #[ts(type = "Record<string, string>")]
    pub context: BTreeMap<String, String>,
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// Operation.
    pub op: Op,
    /// The record key: `[column, value]` in key order (value null for SQL NULL).
    pub key: Vec<(String, Option<String>)>,
    /// Columns an update changed (empty for other operations).
    pub changed: Vec<String>,
    /// A one-line summary (`st: S → X; wt_g: 100 → 120`), plain text.
    pub summary: String,
}

/// Text of a context value (strings as they are, anything else as JSON).
fn context_map(ctx: &serde_json::Map<String, serde_json::Value>) -> BTreeMap<String, String> {
    ctx.iter()
        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
        .collect()
}

/// A value shortened to one line of at most `max` characters, starting `skip` characters in
/// (marked with a leading `…`).
fn short(v: Option<&Cell>, max: usize, skip: usize) -> String {
    match v {
        None | Some(Cell::Null) => "NULL".into(),
        // Said as the Record screen and the CLI say it, never a bare `?`.
        Some(Cell::Missing) => "unknown".into(),
        Some(Cell::Text(s)) => {
            let mut out = String::new();
            if skip > 0 {
                out.push('…');
            }
            for (i, ch) in s.chars().skip(skip).enumerate() {
                if i == max {
                    out.push('…');
                    break;
                }
                out.push(if ch.is_control() { ' ' } else { ch });
            }
            out
        }
    }
}

/// Where two long values start to differ, minus a little context, when they share a prefix
/// too long to show: the summary then shows what changed rather than what did not.
fn common_skip(a: Option<&Cell>, b: Option<&Cell>, max: usize) -> usize {
    match (a, b) {
        (Some(Cell::Text(a)), Some(Cell::Text(b))) => {
            let same = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
            if same > max / 2 {
                same - 6
            } else {
                0
            }
        }
        _ => 0,
    }
}

fn summarize(e: &EventRow, changed: &[String]) -> String {
    const SHOWN: usize = 3;
    const WIDTH: usize = 24;
    match e.op {
        Op::Truncate => "table truncated".into(),
        Op::Delete => "deleted".into(),
        Op::Insert => {
            let after = e.after.as_deref();
            let parts: Vec<String> = e
                .columns
                .iter()
                .filter(|c| !c.key)
                .take(SHOWN)
                .map(|c| format!("{}={}", c.name, short(e.cell(after, &c.name), WIDTH, 0)))
                .collect();
            format!("inserted: {}", parts.join(", "))
        }
        Op::Update => {
            let (b, a) = (e.before.as_deref(), e.after.as_deref());
            if changed.is_empty() {
                // The source did not send the old values (REPLICA IDENTITY DEFAULT, history
                // started mid-way): show the new ones.
                let unknown: Vec<&ColumnDef> = e
                    .columns
                    .iter()
                    .filter(|c| !c.key && matches!(e.cell(b, &c.name), Some(Cell::Missing)))
                    .filter(|c| !matches!(e.cell(a, &c.name), Some(Cell::Missing) | None))
                    .collect();
                if unknown.is_empty() {
                    return "no visible change".into();
                }
                let mut s = unknown
                    .iter()
                    .take(SHOWN)
                    .map(|c| format!("{}: unknown → {}", c.name, short(e.cell(a, &c.name), WIDTH, 0)))
                    .collect::<Vec<_>>()
                    .join("; ");
                if unknown.len() > SHOWN {
                    let _ = write!(s, " (+{} more)", unknown.len() - SHOWN);
                }
                s.push_str(" (earlier values not sent)");
                return s;
            }
            let mut s = changed
                .iter()
                .take(SHOWN)
                .map(|c| {
                    let (old, new) = (e.cell(b, c), e.cell(a, c));
                    let skip = common_skip(old, new, WIDTH);
                    format!("{c}: {} → {}", short(old, WIDTH, skip), short(new, WIDTH, skip))
                })
                .collect::<Vec<_>>()
                .join("; ");
            if changed.len() > SHOWN {
                let _ = write!(s, " (+{} more)", changed.len() - SHOWN);
            }
            s
        }
    }
}

/// The list row of a stored event.
pub(crate) fn summary_of(e: &EventRow) -> EventSummary {
    let changed = e.changed_columns();
    EventSummary {
        id: e.id,
        txn_row: e.txn_row,
        source: e.source.clone(),
        txid: e.txid.clone(),
        grouping: e.grouping.clone(),
        position: e.position.clone(),
        committed_at: format_us(e.committed_us),
        context: context_map(&e.context),
        schema: e.schema.clone(),
        table: e.table.clone(),
        op: e.op,
        key: e.key.clone(),
        summary: summarize(e, &changed),
        changed,
    }
}

// ------------------------------------------------------------------------------------------
// list_events, count_events, events_at, locate_time
// ------------------------------------------------------------------------------------------

/// A page of the filtered list by keyset: the events after `after_id`, or before `before_id`,
/// or the first ones. Pages are always in id order (oldest first).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct ListEventsRequest {
    /// Which events.
    pub filter: Option<Filter>,
    /// Return the events right after this id.
    pub after_id: Option<i64>,
    /// Return the events right before this id (with `after_id`: between the two). Use a huge
    /// number for the newest events.
    pub before_id: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// A page of events with where it sits in the filtered list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<EventSummary>,
    /// Index of the first event in the filtered list (0-based, oldest first).
    pub first_index: u64,
    /// Number of events the filter matches now.
    pub total: u64,
    /// Matching events exist before this page.
    pub has_more_before: bool,
    /// Matching events exist after this page.
    pub has_more_after: bool,
}

fn page_limit(limit: Option<u32>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE as usize),
        Some(0) => Err(ApiError::bad_request("limit must be at least 1")),
        Some(n) if n > MAX_PAGE => Err(ApiError::bad_request(format!("limit {n} is above the maximum of {MAX_PAGE} per page"))),
        Some(n) => Ok(n as usize),
    }
}

fn page_of(c: &Cache, idx: &PositionIndex, ids: Vec<i64>, first_index: u64) -> Result<EventPage, ApiError> {
    let total = idx.count();
    let n = ids.len() as u64;
    let events = c.events_by_ids(&ids)?.iter().map(summary_of).collect();
    Ok(EventPage {
        events,
        first_index,
        total,
        has_more_before: first_index > 0,
        has_more_after: first_index + n < total,
    })
}

/// `list_events`: one page by keyset.
pub async fn list_events(api: &Api, req: ListEventsRequest) -> Result<EventPage, ApiError> {
    let limit = page_limit(req.limit)?;
    let filter = req.filter.unwrap_or_default();
    let positions = api.clone();
    api.with_cache(move |c| {
        let f = resolve(c, &filter)?;
        let entry = positions.inner.positions.get(c, &f, None)?;
        let idx = entry.lock().map_err(|_| ApiError::internal("position index poisoned"))?;
        let upto = idx.scanned_to();
        let mut ids = Vec::with_capacity(limit);
        if let Some(before) = req.before_id {
            let lo = req.after_id.map(|a| (a, false));
            f.scan_ids(c, lo, Some((before.min(upto + 1), false)), true, Some(limit as u64), 0, |id| {
                ids.push(id);
                true
            })?;
            ids.reverse();
        } else {
            // Without a cursor, start where the first match is known to be near.
            let lo = Some(req.after_id.map_or((idx.first_scan_id(), true), |a| (a, false)));
            f.scan_ids(c, lo, Some((upto, true)), false, Some(limit as u64), 0, |id| {
                ids.push(id);
                true
            })?;
        }
        let first_index = match ids.first() {
            Some(&id) => idx.index_of(c, &f, id)?,
            None => match (req.after_id, req.before_id) {
                (Some(a), _) => idx.index_of(c, &f, a.saturating_add(1))?,
                (None, Some(_)) => 0,
                (None, None) => 0,
            },
        };
        page_of(c, &idx, ids, first_index)
    })
    .await
}

/// Count the events a filter matches.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct CountEventsRequest {
    /// Which events.
    pub filter: Option<Filter>,
    /// Stop counting after about this many milliseconds (default 2000) and answer a lower
    /// bound; the next call goes on where this one stopped.
    pub budget_ms: Option<u32>,
}

/// How many events a filter matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EventCount {
    /// Matching events. A lower bound when `exact` is false.
    pub count: u64,
    /// False when counting stopped at the time budget (ask again to go on).
    pub exact: bool,
    /// Newest event id in the cache when counted.
    pub last_event_id: i64,
}

/// `count_events`.
pub async fn count_events(api: &Api, req: CountEventsRequest) -> Result<EventCount, ApiError> {
    let filter = req.filter.unwrap_or_default();
    let budget = std::time::Duration::from_millis(u64::from(req.budget_ms.unwrap_or(2000)));
    let positions = api.clone();
    api.with_cache(move |c| {
        let f = resolve(c, &filter)?;
        let upto = f.scan_limit(c)?;
        let entry = positions.inner.positions.get(c, &f, Some(budget))?;
        let idx = entry.lock().map_err(|_| ApiError::internal("position index poisoned"))?;
        Ok(EventCount {
            count: idx.count(),
            exact: idx.scanned_to() >= upto,
            last_event_id: idx.scanned_to(),
        })
    })
    .await
}

/// The page that starts at a position of the filtered list (for a scrollbar dragged anywhere).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct EventsAtRequest {
    /// Which events.
    pub filter: Option<Filter>,
    /// 0-based index in the filtered list, oldest first.
    pub index: u64,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// `events_at`: the events at positions `index ..`.
pub async fn events_at(api: &Api, req: EventsAtRequest) -> Result<EventPage, ApiError> {
    let limit = page_limit(req.limit)?;
    let filter = req.filter.unwrap_or_default();
    let positions = api.clone();
    api.with_cache(move |c| {
        let f = resolve(c, &filter)?;
        let entry = positions.inner.positions.get(c, &f, None)?;
        let idx = entry.lock().map_err(|_| ApiError::internal("position index poisoned"))?;
        let ids = idx.ids_at(c, &f, req.index, limit)?;
        let first = req.index.min(idx.count());
        page_of(c, &idx, ids, first)
    })
    .await
}

/// Find the first event at or after a time (for "jump to time").
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct LocateTimeRequest {
    /// Which events.
    pub filter: Option<Filter>,
    /// The time, as a user types it (`2026-11-02 09:14`, RFC 3339, …).
    pub at: String,
}

/// Where a time falls in the filtered list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Located {
    /// The first matching event committed at or after the time; null when there is none
    /// (the time is after the last event).
    pub id: Option<i64>,
    /// Its index in the filtered list (the list's length when `id` is null).
    pub index: u64,
    /// Its commit time.
    pub committed_at: Option<String>,
    /// Number of events the filter matches.
    pub total: u64,
}

/// `locate_time`.
pub async fn locate_time(api: &Api, req: LocateTimeRequest) -> Result<Located, ApiError> {
    let at = parse_user_time(&req.at).map_err(|m| ApiError::bad_request(format!("at: {m}")))?;
    let filter = req.filter.unwrap_or_default();
    let positions = api.clone();
    api.with_cache(move |c| {
        let f = resolve(c, &filter)?;
        let entry = positions.inner.positions.get(c, &f, None)?;
        let idx = entry.lock().map_err(|_| ApiError::internal("position index poisoned"))?;
        let first_txn = first_transaction_at(c, at)?;
        let mut found = None;
        if let Some(t) = first_txn {
            let start: Option<i64> = c
                .conn()
                .query_row(
                    "SELECT id FROM events INDEXED BY events_txn WHERE txn_id >= ?1 ORDER BY txn_id, id LIMIT 1",
                    [t],
                    |r| r.get(0),
                )
                .optional()
                .map_err(CacheError::from)?;
            if let Some(start) = start {
                let mut timed = f.clone();
                timed.since_us = Some(timed.since_us.map_or(at, |s| s.max(at)));
                timed.scan_ids(c, Some((start, true)), Some((idx.scanned_to(), true)), false, Some(1), 0, |id| {
                    found = Some(id);
                    false
                })?;
            }
        }
        let (index, committed_at) = match found {
            Some(id) => {
                let e = c.events_by_ids(&[id])?;
                (idx.index_of(c, &f, id)?, e.first().map(|e| format_us(e.committed_us)))
            }
            None => (idx.count(), None),
        };
        Ok(Located {
            id: found,
            index,
            committed_at,
            total: idx.count(),
        })
    })
    .await
}

/// The lowest transaction row committed at or after `at` (Unix µs). Every event committed
/// then or later belongs to it or a later row, and ids grow with transaction rows, so a scan
/// for "the first event at or after `at`" may start at its first event.
fn first_transaction_at(c: &Cache, at: i64) -> Result<Option<i64>, ApiError> {
    let one = |sql: &str, args: &[i64]| -> Result<Option<i64>, ApiError> {
        Ok(c.conn()
            .query_row(sql, rusqlite::params_from_iter(args), |r| r.get::<_, Option<i64>>(0))
            .optional()
            .map_err(CacheError::from)?
            .flatten())
    };
    // Commit times nearly always grow with rows, so the first row in time order tells where
    // the answer lies: scan the rows after `at` by time when they are few, else by row from
    // the start. Both give the exact minimum whatever the order of times.
    let Some(by_time) = one(
        "SELECT id FROM transactions INDEXED BY transactions_time WHERE committed_us >= ?1 ORDER BY committed_us LIMIT 1",
        &[at],
    )?
    else {
        return Ok(None);
    };
    let max = one("SELECT max(id) FROM transactions", &[])?.unwrap_or(0);
    let min = one("SELECT min(id) FROM transactions", &[])?.unwrap_or(0);
    if max - by_time < by_time - min {
        one("SELECT min(id) FROM transactions INDEXED BY transactions_time WHERE committed_us >= ?1", &[at])
    } else {
        one("SELECT id FROM transactions NOT INDEXED WHERE committed_us >= ?1 ORDER BY id LIMIT 1", &[at])
    }
}

// ------------------------------------------------------------------------------------------
// list_tables
// ------------------------------------------------------------------------------------------

/// List the captured tables.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct ListTablesRequest {
    /// Only this source's tables.
    pub source: Option<String>,
}

/// A column of a captured table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ColumnInfo {
    /// Column name, exactly as in the database.
    pub name: String,
    /// The database's type name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Part of the record key.
    pub key: bool,
}

impl From<&ColumnDef> for ColumnInfo {
    fn from(c: &ColumnDef) -> ColumnInfo {
        ColumnInfo {
            name: c.name.clone(),
            type_name: c.type_name.clone(),
            key: c.key,
        }
    }
}

/// A table with captured events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CapturedTable {
    /// Source name.
    pub source: String,
    /// Schema (`main` for SQLite).
    pub schema: String,
    /// Table name.
    pub table: String,
    /// `schema.table`, as filters accept it.
    pub qualified: String,
    /// The newest column list.
    pub columns: Vec<ColumnInfo>,
    /// Events stored for the table.
    pub events: u64,
}

/// The captured tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TableList {
    /// Tables by source, schema and name.
    pub tables: Vec<CapturedTable>,
}

/// `list_tables`.
pub async fn list_tables(api: &Api, req: ListTablesRequest) -> Result<TableList, ApiError> {
    api.with_cache(move |c| {
        if let Some(s) = &req.source {
            c.source(s)?;
        }
        let mut counts = std::collections::HashMap::new();
        {
            let mut stmt = c
                .conn()
                .prepare("SELECT table_id, count(*) FROM events INDEXED BY events_table_list GROUP BY table_id")
                .map_err(CacheError::from)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                .map_err(CacheError::from)?;
            for row in rows {
                let (t, n) = row.map_err(CacheError::from)?;
                counts.insert(t, n as u64);
            }
        }
        let mut tables = Vec::new();
        for t in c.tables()? {
            if req.source.as_ref().is_some_and(|s| *s != t.source) {
                continue;
            }
            let columns = c.table_columns(t.id).unwrap_or_default().iter().map(ColumnInfo::from).collect();
            tables.push(CapturedTable {
                qualified: t.qualified(),
                source: t.source,
                schema: t.schema,
                table: t.table,
                columns,
                events: counts.get(&t.id).copied().unwrap_or(0),
            });
        }
        Ok(TableList { tables })
    })
    .await
}

// ------------------------------------------------------------------------------------------
// transaction
// ------------------------------------------------------------------------------------------

/// One transaction: by its cache row (`txn_row` of any event row), or by the source's txid.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct TransactionRequest {
    /// Source name (needed with `txid` when several sources use the same id).
    pub source: Option<String>,
    /// The source's transaction id.
    pub txid: Option<String>,
    /// The transaction's cache row (exact; from an event row's `txn_row`).
    pub txn_row: Option<i64>,
    /// Return at most this many of its events (default and maximum 5000); counts cover all.
    pub limit: Option<u32>,
}

/// How many events of one table and operation a transaction holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TxnCount {
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// Operation.
    pub op: Op,
    /// Number of events.
    pub count: u64,
}

/// One event with its images and its field changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventDetail {
    /// The list row.
    pub event: EventSummary,
    /// The row before the change, `[column, value]` in table order (null: SQL NULL); null for
    /// inserts and truncates.
    pub before: Option<Vec<(String, Option<String>)>>,
    /// The row after the change; null for deletes and truncates.
    pub after: Option<Vec<(String, Option<String>)>>,
    /// Columns whose value was neither sent nor inferable (left out of the images).
    pub unknown: Vec<String>,
    /// Columns filled from an earlier version rather than sent.
    pub inferred: Vec<String>,
    /// The changes, before → after, changed columns in table order.
    pub changes: Vec<FieldChange>,
    /// Columns that did not change.
    pub unchanged: u64,
    /// Columns set without their earlier value being known (see `VersionInfo`).
    pub unknown_old: Vec<super::records::UnknownOld>,
}

/// Everything in one transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TransactionDetail {
    /// Cache row of the transaction.
    pub txn_row: i64,
    /// Source name.
    pub source: String,
    /// The source's transaction id.
    pub txid: String,
    /// Absent when the transaction is one the source committed; otherwise how its events were
    /// grouped instead: `"statement"` for a SQLite source whose application does not number its
    /// transactions (consecutive changes made in the same millisecond, usually by one statement —
    /// not necessarily a whole commit). Show it as a "statement group", never as a transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub grouping: Option<String>,
    /// Commit position.
    pub position: String,
    /// Commit time, RFC 3339.
    pub committed_at: String,
    /// Context (actor, reason, endpoint, …).
    #[ts(type = "Record<string, string>")]
    pub context: BTreeMap<String, String>,
    /// Number of events in the transaction.
    pub event_count: u64,
    /// Events per table and operation.
    pub counts: Vec<TxnCount>,
    /// The events, in commit order (at most `limit`).
    pub events: Vec<EventDetail>,
    /// More events exist than were returned.
    pub truncated: bool,
}

fn image_pairs(e: &EventRow, img: Option<&Vec<Cell>>, unknown: &mut Vec<String>) -> Option<Vec<(String, Option<String>)>> {
    let img = img?;
    let mut out = Vec::with_capacity(img.len());
    for (c, v) in e.columns.iter().zip(img) {
        match v {
            Cell::Null => out.push((c.name.clone(), None)),
            Cell::Text(s) => out.push((c.name.clone(), Some(s.clone()))),
            Cell::Missing => {
                if !unknown.contains(&c.name) {
                    unknown.push(c.name.clone());
                }
            }
        }
    }
    Some(out)
}

/// The detail view of one event.
pub(crate) fn detail_of(e: &EventRow) -> EventDetail {
    let mut unknown = Vec::new();
    let before = image_pairs(e, e.before.as_ref(), &mut unknown);
    let after = image_pairs(e, e.after.as_ref(), &mut unknown);
    let (changes, unchanged) = crate::history::event_changes(e);
    EventDetail {
        event: summary_of(e),
        before,
        after,
        unknown,
        inferred: e.inferred.clone(),
        changes,
        unchanged: unchanged as u64,
        unknown_old: super::records::unknown_old(e),
    }
}

/// `transaction`.
pub async fn transaction(api: &Api, req: TransactionRequest) -> Result<TransactionDetail, ApiError> {
    let limit = req.limit.unwrap_or(MAX_TRANSACTION_EVENTS).clamp(1, MAX_TRANSACTION_EVENTS) as usize;
    api.with_cache(move |c| {
        let row = match (req.txn_row, &req.txid) {
            (Some(r), _) => r,
            (None, Some(txid)) => {
                let mut sql = String::from("SELECT id FROM transactions WHERE txid = ?1");
                let mut args: Vec<SqlValue> = vec![txid.clone().into()];
                if let Some(s) = &req.source {
                    sql.push_str(" AND source_id = ?2");
                    args.push(c.source(s)?.id.into());
                }
                sql.push_str(" ORDER BY id");
                let mut stmt = c.conn().prepare(&sql).map_err(CacheError::from)?;
                let rows: Vec<i64> = stmt
                    .query_map(rusqlite::params_from_iter(args), |r| r.get(0))
                    .map_err(CacheError::from)?
                    .collect::<Result<_, _>>()
                    .map_err(CacheError::from)?;
                match rows.as_slice() {
                    [] => {
                        return Err(ApiError::not_found(format!(
                            "no transaction {txid:?}{} in the cache",
                            req.source.as_deref().map(|s| format!(" of source {s:?}")).unwrap_or_default()
                        )))
                    }
                    [one] => *one,
                    many => {
                        return Err(ApiError::bad_request(format!(
                            "transaction id {txid:?} names {} transactions (cache rows {}); give the source or txn_row",
                            many.len(),
                            ids_list(many)
                        )))
                    }
                }
            }
            (None, None) => return Err(ApiError::bad_request("give txn_row, or txid (and source)")),
        };
        type Meta = (String, String, String, i64, Option<String>, i64, Option<String>);
        let meta: Option<Meta> = c
            .conn()
            .query_row(
                "SELECT s.name, t.txid, t.position, t.committed_us, t.context, t.event_count, t.grouping
                 FROM transactions t JOIN sources s ON s.id = t.source_id WHERE t.id = ?1",
                [row],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )
            .optional()
            .map_err(CacheError::from)?;
        let Some((source, txid, position, committed_us, context, _, grouping)) = meta else {
            return Err(ApiError::not_found(format!("no transaction row {row} in the cache")));
        };
        if req.source.as_ref().is_some_and(|s| *s != source) {
            return Err(ApiError::not_found(format!("transaction row {row} belongs to source {source:?}")));
        }
        let context: serde_json::Map<String, serde_json::Value> =
            context.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
        let mut counts = Vec::new();
        let mut total = 0u64;
        {
            let mut stmt = c
                .conn()
                .prepare(
                    "SELECT tb.schema_name, tb.table_name, e.op, count(*) FROM events e JOIN tables tb ON tb.id = e.table_id
                     WHERE e.txn_id = ?1 GROUP BY e.table_id, e.op ORDER BY tb.schema_name, tb.table_name, e.op",
                )
                .map_err(CacheError::from)?;
            let rows = stmt
                .query_map([row], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)))
                .map_err(CacheError::from)?;
            for r in rows {
                let (schema, table, op, n) = r.map_err(CacheError::from)?;
                let op = crate::cache::writer::op_from_code(op)
                    .ok_or_else(|| ApiError::internal(format!("transaction row {row}: unknown operation code {op}")))?;
                total += n as u64;
                counts.push(TxnCount {
                    schema,
                    table,
                    op,
                    count: n as u64,
                });
            }
        }
        let ids: Vec<i64> = {
            let mut stmt = c
                .conn()
                .prepare("SELECT id FROM events WHERE txn_id = ?1 ORDER BY id LIMIT ?2")
                .map_err(CacheError::from)?;
            let rows = stmt.query_map(rusqlite::params![row, limit as i64], |r| r.get(0)).map_err(CacheError::from)?;
            rows.collect::<Result<_, _>>().map_err(CacheError::from)?
        };
        let events: Vec<EventDetail> = c.events_by_ids(&ids)?.iter().map(detail_of).collect();
        Ok(TransactionDetail {
            txn_row: row,
            source,
            txid,
            grouping,
            position,
            committed_at: format_us(committed_us),
            context: context_map(&context),
            event_count: total,
            counts,
            truncated: (events.len() as u64) < total,
            events,
        })
    })
    .await
}

// ------------------------------------------------------------------------------------------
// export_events
// ------------------------------------------------------------------------------------------

/// Export the filtered list.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct ExportEventsRequest {
    /// Which events.
    pub filter: Option<Filter>,
    /// CSV or JSON Lines.
    pub format: ExportFormat,
    /// At most this many events (default and maximum 200,000 in one text; no maximum when
    /// streamed), the first ones in the export's order.
    pub limit: Option<u64>,
    /// In the order the Changes list shows by default: newest first (default: oldest first,
    /// as `rowtrail events` prints them).
    pub newest_first: Option<bool>,
}

/// The CSV header of an events export.
pub(crate) const EVENTS_CSV_HEADER: [&str; 15] = [
    "id", "source", "txid", "position", "committed_at", "context", "schema", "table", "op", "key", "changed",
    "before", "after", "inferred", "unknown",
];

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn row(op: Op, before: Option<Vec<Cell>>, after: Option<Vec<Cell>>) -> EventRow {
        let col = |n: &str, key: bool| ColumnDef { name: n.into(), type_name: "text".into(), key };
        EventRow {
            id: 1,
            txn_row: 1,
            source: "s".into(),
            txid: "1".into(),
            grouping: None,
            position: "1".into(),
            committed_us: 0,
            context: Default::default(),
            schema: "main".into(),
            table: "t".into(),
            op,
            columns: Arc::new(vec![col("id", true), col("meta", false), col("note", false)]),
            key: vec![("id".into(), Some("1".into()))],
            old_key: None,
            before,
            after,
            inferred: Vec::new(),
        }
    }

    #[test]
    fn summaries_are_one_short_line_that_shows_the_change() {
        let t = |s: &str| Cell::Text(s.into());
        let long_a = r#"{"carrier":{"code":"UPS","service":"express"},"items":[1,2]}"#;
        let long_b = r#"{"carrier":{"code":"UPS","service":"economy"},"items":[1,2]}"#;
        let e = row(Op::Update, Some(vec![t("1"), t(long_a), t("a\nb")]), Some(vec![t("1"), t(long_b), t("a\nc")]));
        let s = summary_of(&e);
        assert_eq!(s.changed, ["meta", "note"]);
        assert_eq!(s.summary, r#"meta: …ce":"express"},"items":[… → …ce":"economy"},"items":[…; note: a b → a c"#);
        let e = row(Op::Insert, None, Some(vec![t("1"), Cell::Null, t("x")]));
        assert_eq!(summary_of(&e).summary, "inserted: meta=NULL, note=x");
        // A value the source did not send is not a change, but its new value is news.
        let e = row(Op::Update, Some(vec![t("1"), Cell::Missing, t("x")]), Some(vec![t("1"), t("{}"), t("x")]));
        let s = summary_of(&e);
        assert!(s.changed.is_empty());
        assert_eq!(s.summary, "meta: unknown → {} (earlier values not sent)");
        let d = detail_of(&e);
        // The detail shows it as set from an unknown value, never as unchanged.
        assert_eq!(d.changes.len(), 1);
        assert!(d.changes[0].unknown);
        assert_eq!(d.changes[0].diff, crate::diff::ValueDiff::Unknown { new: Some("{}".into()) });
        assert_eq!(d.unknown, ["meta"]);
        assert_eq!(
            d.unknown_old,
            [crate::api::records::UnknownOld { column: "meta".into(), type_name: "text".into(), new: Some("{}".into()) }]
        );
        let e = row(Op::Update, Some(vec![t("1"), t("{}"), t("x")]), Some(vec![t("1"), t("{}"), t("x")]));
        assert_eq!(summary_of(&e).summary, "no visible change");
        assert_eq!(summary_of(&row(Op::Delete, Some(vec![t("1"), t("{}"), t("x")]), None)).summary, "deleted");
    }
}
