//! Paging through millions of events: filtered id scans and a sampled position index.
//!
//! **Keyset scans.** Every page is read as "the next `n` matching ids after (or before) id X",
//! in id order, from a narrow covering index (`events_list (id, txn_id, table_id, op)`, or
//! `events_table_list` for one table, or the full-text index for value search), so no page
//! ever reads or skips the wide rows (images) of events it does not return. Transaction-level
//! filters (source, time, txid, context) join each candidate's transaction by primary key.
//!
//! **Position index.** A virtualized list needs "the row at index 700,000" and "the index of
//! event X". For each filter in use, one pass over its matching ids (in slices of ids) records
//! *marks* — "from event id X on, the next match has index N" — at every [`EVERY`]-th match
//! and at the start of every slice, and the count. Row *i* is then found by starting at the
//! last mark before it and skipping fewer than [`EVERY`] matches within one slice; the index of
//! an id likewise. Nothing ever scans with a large OFFSET. Events only ever get appended (ids grow), so the
//! index is extended, never rebuilt, as new events arrive; removing a source, or a cache
//! changed by another program (its source list differs), drops every index.
//!
//! Ids grow in commit order: the cache writer inserts each transaction row and then its events,
//! and writers are serialized by SQLite, so a later transaction's events always have higher ids
//! ([`super::events`] relies on it to bound time lookups).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::types::Value as SqlValue;

use super::events::Resolved;
use super::ApiError;
use crate::cache::{Cache, CacheError};

/// A mark at least every this many matching events…
pub(crate) const EVERY: u64 = 128;
/// …and at the start of every slice of this many event ids, so that no skip ever scans more
/// than one slice, however sparse the matches.
const SLICE: i64 = 8192;
/// Position indexes kept (one per filter in use).
const KEEP: usize = 16;

/// "Scanning from event id `id` on, the first match found has index `before`."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    id: i64,
    before: u64,
}

/// The sampled positions of one filter's matches.
#[derive(Debug, Default)]
pub(crate) struct PositionIndex {
    /// Ascending by id (and by `before`).
    marks: Vec<Mark>,
    /// Matches with id ≤ `scanned_to`.
    count: u64,
    /// Every event id up to here has been looked at.
    scanned_to: i64,
}

impl PositionIndex {
    /// Number of matches found so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Every event id up to this one has been looked at.
    pub(crate) fn scanned_to(&self) -> i64 {
        self.scanned_to
    }

    /// Looks at every event after `scanned_to` up to `upto`, a slice of ids at a time; with a
    /// budget, stops after the slice that used it up.
    fn extend(&mut self, c: &Cache, f: &Resolved, upto: i64, budget: Option<Duration>) -> Result<(), ApiError> {
        let started = Instant::now();
        while self.scanned_to < upto {
            let from = self.scanned_to;
            let end = upto.min(from.saturating_add(SLICE));
            let mut count = self.count;
            let marks = &mut self.marks;
            marks.push(Mark { id: from + 1, before: count });
            f.scan_ids(c, Some((from, false)), Some((end, true)), false, None, 0, |id| {
                let last = marks.last().map_or(0, |m| m.before);
                if count - last >= EVERY {
                    marks.push(Mark { id, before: count });
                }
                count += 1;
                true
            })?;
            self.count = count;
            self.scanned_to = end;
            if budget.is_some_and(|b| started.elapsed() >= b) {
                break;
            }
        }
        Ok(())
    }

    /// The last mark at or before match number `index`.
    fn mark_for_index(&self, index: u64) -> Mark {
        let k = self.marks.partition_point(|m| m.before <= index);
        self.marks.get(k.wrapping_sub(1)).copied().unwrap_or(Mark { id: 0, before: 0 })
    }

    /// The event id where a scan for the first match may start (at most one slice early).
    pub(crate) fn first_scan_id(&self) -> i64 {
        self.mark_for_index(0).id
    }

    /// Ids of the matches at `index ..`, at most `limit`.
    pub(crate) fn ids_at(&self, c: &Cache, f: &Resolved, index: u64, limit: usize) -> Result<Vec<i64>, ApiError> {
        if index >= self.count || limit == 0 {
            return Ok(Vec::new());
        }
        let m = self.mark_for_index(index);
        let mut out = Vec::with_capacity(limit);
        f.scan_ids(c, Some((m.id, true)), Some((self.scanned_to, true)), false, Some(limit as u64), index - m.before, |id| {
            out.push(id);
            true
        })?;
        Ok(out)
    }

    /// Number of matches with an id below `id` (the index `id` has, or would have, in the list).
    pub(crate) fn index_of(&self, c: &Cache, f: &Resolved, id: i64) -> Result<u64, ApiError> {
        if id > self.scanned_to {
            return Ok(self.count);
        }
        let k = self.marks.partition_point(|m| m.id <= id);
        let Some(m) = self.marks.get(k.wrapping_sub(1)).copied() else {
            return Ok(0);
        };
        let mut n = 0u64;
        f.scan_ids(c, Some((m.id, true)), Some((id, false)), false, Some(EVERY + 1), 0, |_| {
            n += 1;
            true
        })?;
        Ok(m.before + n)
    }
}

/// The position indexes in use, most recently used last.
#[derive(Default)]
pub(crate) struct PositionCache {
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    /// The cache's source ids when the indexes were built; a change drops them all.
    fingerprint: String,
    entries: VecDeque<(String, Arc<Mutex<PositionIndex>>)>,
}

impl PositionCache {
    /// Drops every index (after events were removed).
    pub(crate) fn clear(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.entries.clear();
        }
    }

    /// The index for `f`, brought up to date with the cache (within `budget`, if given: then
    /// it may stop short; see [`PositionIndex::scanned_to`]). Runs on a blocking thread.
    pub(crate) fn get(
        &self,
        c: &Cache,
        f: &Resolved,
        budget: Option<Duration>,
    ) -> Result<Arc<Mutex<PositionIndex>>, ApiError> {
        let fingerprint: String = c
            .conn()
            .query_row("SELECT coalesce(group_concat(id), '') FROM (SELECT id FROM sources ORDER BY id)", [], |r| r.get(0))
            .map_err(CacheError::from)?;
        let entry = {
            let mut s = self.state.lock().map_err(|_| ApiError::internal("position cache poisoned"))?;
            if s.fingerprint != fingerprint {
                s.entries.clear();
                s.fingerprint = fingerprint;
            }
            let e = match s.entries.iter().position(|(k, _)| *k == f.key) {
                Some(i) => s.entries.remove(i).expect("index in range"),
                None => (f.key.clone(), Arc::new(Mutex::new(PositionIndex::default()))),
            };
            s.entries.push_back((e.0.clone(), e.1.clone()));
            while s.entries.len() > KEEP {
                s.entries.pop_front();
            }
            e.1
        };
        let upto = f.scan_limit(c)?;
        {
            let mut idx = entry.lock().map_err(|_| ApiError::internal("position index poisoned"))?;
            idx.extend(c, f, upto, budget)?;
        }
        Ok(entry)
    }
}

/// Pushes `v` as the next numbered SQL parameter and returns its placeholder.
pub(crate) fn bind(args: &mut Vec<SqlValue>, v: impl Into<SqlValue>) -> String {
    args.push(v.into());
    format!("?{}", args.len())
}
