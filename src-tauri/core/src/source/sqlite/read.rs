//! One run of a [`SqliteSource`]: the log read into the cache, whole transactions at a time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use serde_json::{Map, Value};

use super::log::{
    commit_time, decode_row, group_end, log_bounds, read_rows, value_cell, Decoded, RawRow,
};
use super::shape::{load_shapes, Shapes};
use super::{SqliteSource, BUSY_TIMEOUT, LOG_TABLE, PROGRESS_EVERY, STATEMENT_GROUPING};
use crate::cache::{Durable, WriteOp, WriterHandle};
use crate::event::{Cell, ChangeEvent, ColumnDef, Relation, TxnMeta};
use crate::source::{push, Progress, RunOptions, RunUntil, SourceError, SourceState};

/// The blocking reader connection, used from the async side through `spawn_blocking`.
pub(super) struct Db {
    conn: Option<Connection>,
    source: String,
    file: String,
}

impl Db {
    async fn call<R, F>(&mut self, position: i64, f: F) -> Result<R, SourceError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let Some(conn) = self.conn.take() else {
            return Err(self.stream_error(
                position,
                "the reader connection was lost".into(),
                false,
            ));
        };
        let joined = tokio::task::spawn_blocking(move || {
            let r = f(&conn);
            (conn, r)
        })
        .await;
        let (conn, res) = joined
            .map_err(|e| self.stream_error(position, format!("reader task failed: {e}"), false))?;
        self.conn = Some(conn);
        res.map_err(|e| {
            let transient = matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
            );
            self.stream_error(position, e.to_string(), transient)
        })
    }

    fn stream_error(&self, position: i64, detail: String, transient: bool) -> SourceError {
        SourceError::Stream {
            source_name: self.source.clone(),
            position: position.to_string(),
            detail: format!("reading {LOG_TABLE} in {}: {detail}", self.file),
            transient,
        }
    }
}

/// Per-table relation bookkeeping for one run.
pub(super) struct RelState {
    id: u32,
    /// Column names of the relation last announced.
    names: Vec<String>,
}

/// The state of one [`SqliteSource::run`].
pub(super) struct Run<'a> {
    src: &'a SqliteSource,
    opts: &'a RunOptions,
    db: Db,
    shapes: Shapes,
    rels: HashMap<String, RelState>,
    next_rel: u32,
    /// Last log id handed to the writer (inside whole transactions).
    read_pos: i64,
    /// Newest log id seen.
    max_id: i64,
    start: Durable,
    pushed_since_flush: bool,
    state: SourceState,
    last_report: Instant,
}

impl<'a> Run<'a> {
    pub(super) async fn open(
        src: &'a SqliteSource,
        writer: &mut WriterHandle,
        opts: &'a RunOptions,
    ) -> Result<Run<'a>, SourceError> {
        let file = src.path.display().to_string();
        let connect = |detail: String| SourceError::Connect {
            source_name: src.name.clone(),
            target: file.clone(),
            detail,
        };
        opts.report(Progress {
            source: src.name.clone(),
            state: SourceState::Connecting,
            events: 0,
            transactions: 0,
            position: writer.durable().position,
            behind: None,
            message: None,
        });
        if !src.path.is_file() {
            return Err(connect("no such file".into()));
        }
        let path = src.path.clone();
        let (conn, has_log) = tokio::task::spawn_blocking(move || -> rusqlite::Result<(Connection, bool)> {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            // Fails on a file that is not a database.
            let has_log: bool = conn.query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '_rowtrail_log'",
                [],
                |r| r.get::<_, i64>(0).map(|n| n > 0),
            )?;
            Ok((conn, has_log))
        })
        .await
        .map_err(|e| connect(e.to_string()))?
        .map_err(|e| connect(e.to_string()))?;
        if !has_log {
            return Err(SourceError::Prerequisite {
                source_name: src.name.clone(),
                problem: format!(
                    "{file} has no {LOG_TABLE} table: change capture was removed from it (by hand, or by \
                     `rowtrail source rm … --drop-slot` of a source on the same file)"
                ),
                fix: format!(
                    "to capture it again, add the file as a new source: `rowtrail source add sqlite NEWNAME \
                     --path {file}` (the history cached under {} stays readable)",
                    src.name
                ),
            });
        }
        let start = writer.durable();
        let mut db = Db {
            conn: Some(conn),
            source: src.name.clone(),
            file,
        };
        let pos = start.position_num;
        let (seq, max_id) = db.call(pos, log_bounds).await?;
        if seq.max(max_id) < pos {
            return Err(SourceError::Gap {
                source_name: src.name.clone(),
                detail: format!(
                    "the cache has read {LOG_TABLE} of {} up to id {pos}, but the log now ends at id {}: \
                     capture was removed and installed again, so its ids started over. To read the new \
                     log from its start, add the file as a new source (`rowtrail source add sqlite NEWNAME \
                     --path {}`); the history cached under {} stays readable.",
                    db.file,
                    seq.max(max_id),
                    db.file,
                    src.name
                ),
            });
        }
        let shapes = db.call(pos, load_shapes).await?;
        let mut run = Run {
            src,
            opts,
            db,
            shapes,
            rels: HashMap::new(),
            next_rel: 1,
            read_pos: pos,
            max_id,
            start,
            pushed_since_flush: false,
            state: SourceState::CatchingUp,
            last_report: Instant::now(),
        };
        if let Some(msg) = run.uncaptured_columns() {
            run.report(writer, Some(msg));
        }
        Ok(run)
    }

    /// A warning naming columns added to captured tables since [`install`] last ran.
    fn uncaptured_columns(&self) -> Option<String> {
        let mut notes = Vec::new();
        let mut names: Vec<&String> = self.shapes.recorded.keys().collect();
        names.sort();
        for tbl in names {
            let (Some(rec), Some(live)) =
                (self.shapes.recorded.get(tbl), self.shapes.live.get(tbl))
            else {
                continue;
            };
            let missing: Vec<&str> = live
                .iter()
                .filter(|c| !rec.iter().any(|r| r.name == c.name))
                .map(|c| c.name.as_str())
                .collect();
            if !missing.is_empty() {
                notes.push(format!("{tbl:?} ({})", missing.join(", ")));
            }
        }
        if notes.is_empty() {
            None
        } else {
            Some(format!(
                "columns added since capture was installed are not captured: {}; run `rowtrail source refresh {}` to capture them from now on",
                notes.join("; "),
                self.src.name
            ))
        }
    }

    pub(super) async fn main(&mut self, writer: &mut WriterHandle) -> Result<(), SourceError> {
        let target = self.max_id;
        let until = self.opts.until;
        let chunk = self.src.chunk_rows;
        if self.read_pos >= self.max_id && until == RunUntil::Cancelled {
            self.state = SourceState::Live;
        }
        self.report(writer, None);
        loop {
            if self.opts.cancel.is_cancelled() {
                return self.finish(writer).await;
            }
            let after = self.read_pos;
            let (rows, max_id) = self
                .db
                .call(after, move |c| {
                    let rows = read_rows(c, after, i64::MAX, chunk)?;
                    let (_, max) = log_bounds(c)?;
                    Ok((rows, max))
                })
                .await?;
            self.max_id = self.max_id.max(max_id);
            if rows.is_empty() {
                if until == RunUntil::CaughtUp {
                    return self.finish(writer).await;
                }
                if self.pushed_since_flush {
                    writer.flush().await?;
                    self.pushed_since_flush = false;
                }
                if self.state != SourceState::Live {
                    self.state = SourceState::Live;
                    self.report(writer, None);
                }
                if self.wait_for_rows(writer).await? {
                    return self.finish(writer).await;
                }
                continue;
            }
            if self.state == SourceState::Live {
                self.state = SourceState::CatchingUp;
            }
            let full = rows.len() >= chunk;
            let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
            let mut start = 0;
            for i in 1..=rows.len() {
                if i == rows.len() || !rows[i - 1].same_group(&rows[i]) {
                    groups.push(start..i);
                    start = i;
                }
            }
            if full && groups.len() == 1 {
                // One transaction fills the whole chunk: it may go on beyond it.
                self.stream_group(writer, rows).await?;
            } else {
                // The last group of a full chunk may continue in the next: read it again then.
                let n = if full { groups.len() - 1 } else { groups.len() };
                for g in &groups[..n] {
                    self.emit_group(writer, &rows[g.clone()]).await?;
                }
            }
            if self.last_report.elapsed() >= PROGRESS_EVERY {
                self.report(writer, None);
            }
            if until == RunUntil::CaughtUp && (self.read_pos >= target || !full) {
                return self.finish(writer).await;
            }
        }
    }

    /// Waits until the log has rows after the read position; `true` when cancelled first.
    async fn wait_for_rows(&mut self, writer: &WriterHandle) -> Result<bool, SourceError> {
        loop {
            tokio::select! {
                _ = self.opts.cancel.cancelled() => return Ok(true),
                _ = tokio::time::sleep(self.src.poll) => {}
            }
            let (seq, max_id) = self.db.call(self.read_pos, log_bounds).await?;
            if seq.max(max_id) < self.read_pos {
                return Err(SourceError::Gap {
                    source_name: self.src.name.clone(),
                    detail: format!(
                        "{LOG_TABLE} in {} was dropped and created again while it was being read \
                         (its ids start over below {}); to read the new log, add the file as a new \
                         source (`rowtrail source add sqlite NEWNAME --path {}`); the history cached under \
                         {} stays readable",
                        self.db.file, self.read_pos, self.db.file, self.src.name
                    ),
                });
            }
            if max_id > self.read_pos {
                self.max_id = max_id;
                return Ok(false);
            }
            if self.last_report.elapsed() >= Duration::from_secs(5) {
                self.report(writer, None);
            }
        }
    }

    async fn finish(&mut self, writer: &mut WriterHandle) -> Result<(), SourceError> {
        writer.flush().await?;
        self.pushed_since_flush = false;
        self.state = SourceState::Stopped;
        self.report(writer, None);
        Ok(())
    }

    fn report(&mut self, writer: &WriterHandle, message: Option<String>) {
        self.last_report = Instant::now();
        let d = writer.durable();
        let behind = u64::try_from(self.max_id.saturating_sub(self.read_pos)).unwrap_or(0);
        self.opts.report(Progress {
            source: self.src.name.clone(),
            state: self.state,
            events: d.events.saturating_sub(self.start.events),
            transactions: d.transactions.saturating_sub(self.start.transactions),
            position: d.position,
            behind: Some(behind),
            message,
        });
    }

    fn decode_error(&self, id: i64, detail: String) -> SourceError {
        SourceError::Decode {
            source_name: self.src.name.clone(),
            position: id.to_string(),
            detail: format!("{LOG_TABLE} row id {id} in {}: {detail}", self.db.file),
        }
    }

    /// Makes everything pushed so far durable, then returns the decode error for row `id`.
    async fn fail_decode(
        &mut self,
        writer: &mut WriterHandle,
        id: i64,
        detail: String,
    ) -> SourceError {
        if let Err(e) = writer.flush().await {
            return e.into();
        }
        self.pushed_since_flush = false;
        self.decode_error(id, detail)
    }

    fn meta(&self, first: &RawRow, last_id: i64, committed_us: i64) -> TxnMeta {
        TxnMeta {
            txid: if first.txn != 0 {
                first.txn.to_string()
            } else {
                first.id.to_string()
            },
            position: last_id.to_string(),
            position_num: last_id,
            committed_us,
        }
    }

    /// The group's context, and its grouping when it is not a numbered transaction.
    async fn push_context(
        &mut self,
        writer: &mut WriterHandle,
        first: &RawRow,
    ) -> Result<(), SourceError> {
        if first.txn == 0 {
            // SQL cannot see where an application's transaction ends (see the module
            // documentation), so say the group is one statement's changes, not a commit.
            push(writer, WriteOp::Grouping(STATEMENT_GROUPING.to_string())).await?;
        }
        for (key, value) in [("actor", &first.actor), ("reason", &first.reason)] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                push(
                    writer,
                    WriteOp::Context {
                        key: key.to_string(),
                        value: v.to_string(),
                    },
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Sends one whole transaction whose rows are all in `rows`. Nothing is sent when a row
    /// cannot be decoded.
    async fn emit_group(
        &mut self,
        writer: &mut WriterHandle,
        rows: &[RawRow],
    ) -> Result<(), SourceError> {
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(());
        };
        let mut decoded = Vec::with_capacity(rows.len());
        for r in rows {
            match decode_row(r) {
                Ok(d) => decoded.push(d),
                Err(detail) => return Err(self.fail_decode(writer, r.id, detail).await),
            }
        }
        let committed_us = match commit_time(last) {
            Ok(t) => t,
            Err(detail) => return Err(self.fail_decode(writer, last.id, detail).await),
        };
        let meta = self.meta(first, last.id, committed_us);
        push(writer, WriteOp::Begin(meta)).await?;
        self.push_context(writer, first).await?;
        for d in decoded {
            self.push_event(writer, d).await?;
        }
        push(writer, WriteOp::Commit).await?;
        writer.boundary().await?;
        self.read_pos = last.id;
        self.pushed_since_flush = true;
        Ok(())
    }

    /// Sends a transaction that starts with `rows` (a full chunk) and may continue beyond
    /// them, reading the rest in chunks without holding it. A row that cannot be decoded
    /// aborts the transaction in the writer; everything before it stays stored.
    async fn stream_group(
        &mut self,
        writer: &mut WriterHandle,
        rows: Vec<RawRow>,
    ) -> Result<(), SourceError> {
        let Some(first) = rows.first().cloned() else {
            return Ok(());
        };
        let (first_id, txn, stmt_at) = (first.id, first.txn, first.stmt_at.clone());
        let (end_id, end_stmt_at) = self
            .db
            .call(first_id, move |c| group_end(c, first_id, txn, stmt_at))
            .await?;
        let end_row = RawRow {
            id: end_id,
            stmt_at: end_stmt_at,
            ..first.clone()
        };
        let committed_us = match commit_time(&end_row) {
            Ok(t) => t,
            Err(detail) => return Err(self.fail_decode(writer, end_id, detail).await),
        };
        push(
            writer,
            WriteOp::Begin(self.meta(&first, end_id, committed_us)),
        )
        .await?;
        match self.stream_rows(writer, &first, rows, end_id).await {
            Ok(()) => {
                push(writer, WriteOp::Commit).await?;
                writer.boundary().await?;
                self.read_pos = end_id;
                self.pushed_since_flush = true;
                Ok(())
            }
            Err(e) => {
                // The writer forgets the unfinished transaction and keeps everything before it;
                // it arrives again, whole, on resume. (A writer that failed cannot be helped.)
                if push(writer, WriteOp::Abort).await.is_ok() && writer.flush().await.is_ok() {
                    self.pushed_since_flush = false;
                }
                Err(e)
            }
        }
    }

    /// The context and events of a transaction ending at `end_id`, from `rows` on.
    async fn stream_rows(
        &mut self,
        writer: &mut WriterHandle,
        first: &RawRow,
        rows: Vec<RawRow>,
        end_id: i64,
    ) -> Result<(), SourceError> {
        self.push_context(writer, first).await?;
        let mut pos = first.id - 1;
        let mut chunk = rows;
        let limit = self.src.chunk_rows;
        loop {
            for r in chunk {
                match decode_row(&r) {
                    Ok(d) => self.push_event(writer, d).await?,
                    Err(detail) => return Err(self.decode_error(r.id, detail)),
                }
                pos = r.id;
            }
            if pos >= end_id {
                return Ok(());
            }
            if self.last_report.elapsed() >= PROGRESS_EVERY {
                self.report(writer, None);
            }
            let after = pos;
            chunk = self
                .db
                .call(after, move |c| read_rows(c, after, end_id, limit))
                .await?;
            if chunk.is_empty() {
                // Rows pruned from the log meanwhile: the transaction ends with what was read.
                return Ok(());
            }
        }
    }

    async fn push_event(
        &mut self,
        writer: &mut WriterHandle,
        d: Decoded,
    ) -> Result<(), SourceError> {
        let image = d.new.as_ref().or(d.old.as_ref());
        let matches = |names: &[String]| {
            let same = |m: &Map<String, Value>| {
                m.len() == names.len() && m.keys().zip(names).all(|(a, b)| a == b)
            };
            d.new.as_ref().is_none_or(same) && d.old.as_ref().is_none_or(same)
        };
        let known = self
            .rels
            .get(&d.tbl)
            .filter(|s| matches(&s.names))
            .map(|s| s.id);
        let (rel_id, names) = match known {
            Some(id) => (id, None),
            None => {
                // The union of both images' keys, in image order.
                let mut names: Vec<String> = image
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                for m in [&d.old, &d.new].into_iter().flatten() {
                    for k in m.keys() {
                        if !names.contains(k) {
                            names.push(k.clone());
                        }
                    }
                }
                let relation = self.build_relation(&d.tbl, &names).await?;
                let id = match self.rels.get(&d.tbl) {
                    Some(s) => s.id,
                    None => {
                        let id = self.next_rel;
                        self.next_rel += 1;
                        id
                    }
                };
                push(writer, WriteOp::Relation { id, relation }).await?;
                self.rels.insert(
                    d.tbl.clone(),
                    RelState {
                        id,
                        names: names.clone(),
                    },
                );
                (id, Some(names))
            }
        };
        let to_cells = |m: Map<String, Value>| -> Vec<Cell> {
            match &names {
                // A newly announced relation built from the union of keys: align by name.
                Some(names)
                    if !(m.len() == names.len() && m.keys().zip(names).all(|(a, b)| a == b)) =>
                {
                    let mut m = m;
                    names
                        .iter()
                        .map(|n| m.remove(n).map(value_cell).unwrap_or(Cell::Missing))
                        .collect()
                }
                _ => m.into_iter().map(|(_, v)| value_cell(v)).collect(),
            }
        };
        let event = ChangeEvent {
            op: d.op,
            before: d.old.map(to_cells),
            after: d.new.map(to_cells),
        };
        push(
            writer,
            WriteOp::Event {
                relation: rel_id,
                event,
            },
        )
        .await?;
        Ok(())
    }

    /// The relation of `tbl` with these columns: types and key flags from the recorded shape,
    /// else the live table (reloaded once when neither knows a column).
    async fn build_relation(
        &mut self,
        tbl: &str,
        names: &[String],
    ) -> Result<Relation, SourceError> {
        let known = |shapes: &Shapes| {
            names.iter().all(|n| {
                [shapes.recorded.get(tbl), shapes.live.get(tbl)]
                    .into_iter()
                    .flatten()
                    .any(|cols| cols.iter().any(|c| &c.name == n))
            })
        };
        if !known(&self.shapes) {
            self.shapes = self.db.call(self.read_pos, load_shapes).await?;
        }
        let lookup = |n: &str| -> Option<&ColumnDef> {
            [self.shapes.recorded.get(tbl), self.shapes.live.get(tbl)]
                .into_iter()
                .flatten()
                .find_map(|cols| cols.iter().find(|c| c.name == n))
        };
        let mut columns: Vec<ColumnDef> = names
            .iter()
            .map(|n| match lookup(n) {
                Some(c) => c.clone(),
                None => ColumnDef {
                    name: n.clone(),
                    type_name: String::new(),
                    key: false,
                },
            })
            .collect();
        if !columns.iter().any(|c| c.key) {
            // No key known (the table is gone and was never recorded): the rowid if captured,
            // else the first column.
            let i = columns
                .iter()
                .position(|c| ["rowid", "_rowid_", "oid"].contains(&c.name.as_str()))
                .unwrap_or(0);
            if let Some(c) = columns.get_mut(i) {
                c.key = true;
            }
        }
        Ok(Relation {
            schema: "main".to_string(),
            table: tbl.to_string(),
            columns,
        })
    }
}
