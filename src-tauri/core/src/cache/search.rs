//! Value search: a trigram full-text index over event values, filled behind ingest.
//!
//! Indexing costs several times what storing an event does, for a feature used only when
//! someone searches, so capture never waits for it: the index catches up lazily, before a
//! search runs and, in the desktop and `serve`, a little at a time while capture is quiet.

use rusqlite::{params, Connection};

use super::writer::decode_image;
use super::CacheError;
use crate::event::Cell;

/// How many stored events the search index does not cover yet.
pub fn pending(conn: &Connection) -> Result<i64, CacheError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM events WHERE id > (SELECT last_event_id FROM search_progress)",
        [],
        |r| r.get(0),
    )?)
}

/// Indexes up to `limit` events not yet in the search index; returns how many were indexed.
pub fn index_pending(conn: &Connection, limit: usize) -> Result<usize, CacheError> {
    let last: i64 = conn.query_row("SELECT last_event_id FROM search_progress", [], |r| r.get(0))?;
    let max: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))?;
    if max <= last {
        return Ok(0);
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let res = (|| -> Result<usize, CacheError> {
        let mut read = conn.prepare_cached(
            "SELECT id, before, after FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let mut ins = conn.prepare_cached("INSERT INTO events_text (rowid, body) VALUES (?1, ?2)")?;
        let mut rows = read.query(params![last, limit.min(i64::MAX as usize) as i64])?;
        let mut n = 0;
        let mut upto = last;
        let mut body = String::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            body.clear();
            for i in [1, 2] {
                if let Some(img) = r.get::<_, Option<String>>(i)? {
                    for c in decode_image(&img).unwrap_or_default() {
                        if let Cell::Text(s) = c {
                            body.push_str(&s);
                            body.push('\n');
                        }
                    }
                }
            }
            ins.execute(params![id, body])?;
            upto = id;
            n += 1;
        }
        conn.execute("UPDATE search_progress SET last_event_id = ?1", [upto])?;
        Ok(n)
    })();
    match res {
        Ok(n) => {
            conn.execute_batch("COMMIT")?;
            Ok(n)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The fewest characters the trigram index can find; shorter text matches no row there.
pub const MIN_INDEXED_CHARS: usize = 3;

/// Whether `q` is too short for the index, so a search for it must read the values themselves.
pub fn is_short(q: &str) -> bool {
    q.chars().count() < MIN_INDEXED_CHARS
}

/// Whether any value of an image contains `lower_q` (already lowercased), ignoring case as
/// the trigram index does. Only text values count, as in the index: NULL and values the
/// source did not send hold no text.
pub fn image_contains(image: Option<&[Cell]>, lower_q: &str) -> bool {
    image.is_some_and(|cells| {
        cells.iter().any(|c| matches!(c, Cell::Text(s) if s.to_lowercase().contains(lower_q)))
    })
}

/// A cheap SQL pre-filter for a short search: text an image column's stored JSON must
/// contain (lowercased, compared with `instr(lower(..))`) for any of its values to contain
/// `lower_q`. `None` when the JSON text may spell `lower_q` differently (escaped quotes,
/// backslashes, control characters) or SQLite's ASCII-only `lower` would not fold it alike.
pub fn short_prefilter(lower_q: &str) -> Option<&str> {
    let plain = lower_q.chars().all(|c| c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\');
    plain.then_some(lower_q)
}

/// Quotes a user's search text as one FTS5 phrase (no query syntax leaks through).
pub fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.replace('"', "\"\""))
}
