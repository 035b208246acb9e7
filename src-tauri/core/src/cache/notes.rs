//! What the cache remembers about a source besides its events: gaps in its history (a slot
//! re-created by `source reset`, so the changes in between were never read) and the per-table
//! warnings already told (each is said once per workspace, not at every sync).

use rusqlite::params;
use serde::Serialize;

use super::{Cache, CacheError};

/// A stretch of a source's stream that the cache never read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// Source name.
    pub source: String,
    /// The last position the cache held before the gap.
    pub from_position: String,
    /// `from_position` as a number, comparable with events' positions.
    #[serde(skip)]
    pub from_position_num: i64,
    /// Commit time of the last transaction read before the gap (µs since the epoch), if any.
    #[serde(skip)]
    pub from_us: Option<i64>,
    /// Where reading started again.
    pub to_position: String,
    /// `to_position` as a number.
    #[serde(skip)]
    pub to_position_num: i64,
    /// When reading started again (µs since the epoch).
    #[serde(skip)]
    pub to_us: i64,
    /// Why (for example "slot re-created by `rowtrail source reset`").
    pub reason: String,
}

/// A warning stored for one table of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredWarning {
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// `partial`, `insert_only`, `generated`.
    pub kind: String,
    /// The sentence.
    pub message: String,
}

impl Cache {
    /// Records that `source_id`'s stream jumps from its current checkpoint to `to_position`,
    /// and moves the checkpoint there, in one transaction: the next run starts at the new
    /// position and every history spanning the jump shows it.
    pub fn record_gap(
        &mut self,
        source_id: i64,
        to_position: &str,
        to_position_num: i64,
        reason: &str,
    ) -> Result<Gap, CacheError> {
        let tx = self.conn.transaction()?;
        let name: String = tx.query_row("SELECT name FROM sources WHERE id = ?1", [source_id], |r| r.get(0))?;
        let from: Option<(String, i64)> = tx
            .query_row("SELECT position, position_num FROM checkpoints WHERE source_id = ?1", [source_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .ok();
        let (from_position, from_position_num) = from.unwrap_or_else(|| ("0/0".to_string(), 0));
        let from_us: Option<i64> = tx.query_row(
            "SELECT max(committed_us) FROM transactions WHERE source_id = ?1",
            [source_id],
            |r| r.get(0),
        )?;
        let now = crate::time_fmt::now_us();
        tx.execute(
            "INSERT INTO gaps (source_id, from_position, from_position_num, from_us, to_position, to_position_num, to_us, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![source_id, from_position, from_position_num, from_us, to_position, to_position_num, now, reason],
        )?;
        tx.execute(
            "INSERT INTO checkpoints (source_id, position, position_num, updated_us) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (source_id) DO UPDATE SET position = excluded.position,
               position_num = excluded.position_num, updated_us = excluded.updated_us",
            params![source_id, to_position, to_position_num, now],
        )?;
        tx.commit()?;
        Ok(Gap {
            source: name,
            from_position,
            from_position_num,
            from_us,
            to_position: to_position.to_string(),
            to_position_num,
            to_us: now,
            reason: reason.to_string(),
        })
    }

    /// The gaps of one source, oldest first.
    pub fn gaps(&self, source_id: i64) -> Result<Vec<Gap>, CacheError> {
        let mut stmt = self.conn.prepare(
            "SELECT s.name, g.from_position, g.from_position_num, g.from_us, g.to_position, g.to_position_num, g.to_us, g.reason
             FROM gaps g JOIN sources s ON s.id = g.source_id WHERE g.source_id = ?1 ORDER BY g.from_position_num, g.id",
        )?;
        let rows = stmt.query_map([source_id], |r| {
            Ok(Gap {
                source: r.get(0)?,
                from_position: r.get(1)?,
                from_position_num: r.get(2)?,
                from_us: r.get(3)?,
                to_position: r.get(4)?,
                to_position_num: r.get(5)?,
                to_us: r.get(6)?,
                reason: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores a table warning unless the same kind was stored for that table before; returns
    /// whether it is new (and so should be said).
    pub fn record_table_warning(
        &self,
        source_id: i64,
        schema: &str,
        table: &str,
        kind: &str,
        message: &str,
    ) -> Result<bool, CacheError> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO table_warnings (source_id, schema_name, table_name, kind, message, created_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![source_id, schema, table, kind, message, crate::time_fmt::now_us()],
        )?;
        Ok(n > 0)
    }

    /// The warnings stored for a source's tables, by table.
    pub fn table_warnings(&self, source_id: i64) -> Result<Vec<StoredWarning>, CacheError> {
        let mut stmt = self.conn.prepare(
            "SELECT schema_name, table_name, kind, message FROM table_warnings WHERE source_id = ?1 ORDER BY 1, 2, 3",
        )?;
        let rows = stmt.query_map([source_id], |r| {
            Ok(StoredWarning { schema: r.get(0)?, table: r.get(1)?, kind: r.get(2)?, message: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// A gap inside one record's history: the changes between version `after_version` and the
/// next one (or, after the newest, since it) may be missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryGap {
    /// The version the gap follows (1-based, oldest first).
    pub after_version: usize,
    /// The gap.
    pub gap: Gap,
}

impl HistoryGap {
    /// One line for people: what is missing, between which positions and times.
    pub fn describe(&self) -> String {
        let when = |us: Option<i64>| us.map(|u| format!(" ({})", crate::time_fmt::format_us(u))).unwrap_or_default();
        format!(
            "gap: changes between {}{} and {}{} were not captured ({}); this record may have changed in between",
            self.gap.from_position,
            when(self.gap.from_us),
            self.gap.to_position,
            when(Some(self.gap.to_us)),
            self.gap.reason
        )
    }
}

impl HistoryGap {
    /// The scripting form (`history --json`'s `gap_after`): positions, RFC 3339 times, reason.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "after_version": self.after_version,
            "from_position": self.gap.from_position,
            "from_time": self.gap.from_us.map(crate::time_fmt::format_us),
            "to_position": self.gap.to_position,
            "to_time": crate::time_fmt::format_us(self.gap.to_us),
            "reason": self.gap.reason,
        })
    }
}

/// A position as a number: a PostgreSQL LSN (`0/16B3748`) or a plain number.
fn position_num(s: &str) -> Option<i64> {
    crate::source::postgres::pgoutput::parse_lsn(s)
        .map(|n| n as i64)
        .or_else(|| s.parse().ok())
}

impl Cache {
    /// The gaps that `h` spans: those of its source that start at or after its first version,
    /// each placed after the last version read before it.
    pub fn history_gaps(&self, h: &crate::history::History) -> Result<Vec<HistoryGap>, CacheError> {
        let Ok(src) = self.source(&h.table.source) else { return Ok(Vec::new()) };
        let gaps = self.gaps(src.id)?;
        if gaps.is_empty() {
            return Ok(Vec::new());
        }
        let positions: Vec<Option<i64>> = h.versions.iter().map(|v| position_num(&v.event.position)).collect();
        let mut out = Vec::new();
        for g in gaps {
            let before = positions.iter().filter(|p| p.is_some_and(|p| p <= g.from_position_num)).count();
            if before > 0 {
                out.push(HistoryGap { after_version: before, gap: g });
            }
        }
        Ok(out)
    }
}
