//! The cache's single writer.
//!
//! Sources push [`WriteOp`]s through a [`WriterHandle`]; a dedicated thread applies them to
//! SQLite with prepared statements, grouping many source transactions into one SQLite
//! transaction. A source transaction is never split across SQLite commits, and each commit
//! carries the source's checkpoint, so after a crash the cache holds whole transactions up
//! to exactly the stored position. The [`Durable`] position is published only after the
//! commit: that is the position a source may acknowledge upstream.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot, watch};

use super::CacheError;
use crate::event::{Cell, ChangeEvent, Op, Relation, TxnMeta};

/// Ops buffered by the handle before a batch is sent to the writer thread.
const BATCH_OPS: usize = 2048;
/// A SQLite transaction is committed at the next source-transaction boundary once it holds this many events…
const COMMIT_EVENTS: u64 = 50_000;
/// …or is this old, or whenever the writer has nothing more queued.
const COMMIT_AGE: Duration = Duration::from_millis(250);

/// One instruction to the writer, in stream order.
#[derive(Debug)]
pub enum WriteOp {
    /// A source transaction starts.
    Begin(TxnMeta),
    /// Context for the current transaction (actor, reason, endpoint, …); later keys win.
    Context {
        /// Context key.
        key: String,
        /// Context value.
        value: String,
    },
    /// The current transaction is not one the source committed as such: its events were
    /// grouped by another rule, named here (`"statement"`: a SQLite source without transaction
    /// numbers groups the changes made in one statement, as far as their millisecond time
    /// tells). Stored and shown so nobody takes the group for a commit.
    Grouping(String),
    /// The shape of a source relation, by the source's own relation id. Sent before the
    /// first event of that relation and again whenever it changes.
    Relation {
        /// The source's id for the relation (PostgreSQL's table oid).
        id: u32,
        /// Its shape.
        relation: Relation,
    },
    /// The server's identity (PostgreSQL's OID) of an announced relation's table. Another
    /// identity under the same name means the table was dropped and created again: from the
    /// current transaction on, its records start new histories (see `cache::incarnation`).
    TableOid {
        /// The source's relation id, announced by an earlier `Relation`.
        relation: u32,
        /// The table's identity on the server.
        oid: u32,
    },
    /// A row change of the current transaction.
    Event {
        /// The source's relation id, announced by an earlier `Relation`.
        relation: u32,
        /// The change.
        event: ChangeEvent,
    },
    /// The current transaction committed; its position becomes the checkpoint.
    Commit,
    /// The source read up to this position and nothing in between concerned us (an idle
    /// keepalive). Only valid between transactions.
    Position {
        /// Position as shown to users.
        position: String,
        /// Position as an ordered number.
        position_num: i64,
    },
    /// The current transaction will not complete (the stream broke off inside it): forget
    /// what was stored of it. The source sends it again, whole, on resume.
    Abort,
    /// Commit what can be committed and answer with the durable position.
    Flush(oneshot::Sender<Durable>),
}

/// What the cache holds durably for one source: everything up to `position`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Durable {
    /// Last committed position, as shown to users (empty before the first commit).
    pub position: String,
    /// The same as an ordered number (0 before the first commit).
    pub position_num: i64,
    /// Events stored by this writer so far.
    pub events: u64,
    /// Source transactions stored by this writer so far.
    pub transactions: u64,
    /// Source transactions skipped because the cache already held them (replays).
    pub skipped: u64,
}

/// The sending side of the writer, owned by one source task.
pub struct WriterHandle {
    tx: Option<mpsc::Sender<Vec<WriteOp>>>,
    buf: Vec<WriteOp>,
    durable: watch::Receiver<Durable>,
    done: Option<oneshot::Receiver<Result<(), CacheError>>>,
    last_send: Instant,
}

impl WriterHandle {
    /// Starts a writer thread for `source_id` on the cache at `path`.
    pub fn spawn(path: &Path, source_id: i64) -> Result<WriterHandle, CacheError> {
        let conn = super::open_conn(path, true)?;
        let (position, position_num) = conn
            .query_row(
                "SELECT position, position_num FROM checkpoints WHERE source_id = ?1",
                [source_id],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()?
            .unwrap_or_default();
        let start = Durable {
            position,
            position_num,
            ..Durable::default()
        };
        let (tx, rx) = mpsc::channel::<Vec<WriteOp>>(8);
        let (durable_tx, durable_rx) = watch::channel(start.clone());
        let (done_tx, done_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name(format!("rowtrail-cache-writer-{source_id}"))
            .spawn(move || {
                let mut w = Writer {
                    conn,
                    source_id,
                    rels: HashMap::new(),
                    in_sql_tx: false,
                    sql_tx_started: Instant::now(),
                    events_since_commit: 0,
                    cur: None,
                    last_num: start.position_num,
                    pending_checkpoint: None,
                    durable: start,
                    durable_tx,
                    flush_waiters: Vec::new(),
                    incarnated: HashMap::new(),
                };
                let res = w.run(rx);
                if res.is_err() && w.in_sql_tx {
                    // Nothing of a failed batch is kept; the source resends it from the checkpoint.
                    let _ = w.conn.execute_batch("ROLLBACK");
                }
                let _ = done_tx.send(res);
            })
            .map_err(|e| CacheError::WriterGone(format!("cannot start writer thread: {e}")))?;
        Ok(WriterHandle {
            tx: Some(tx),
            buf: Vec::with_capacity(BATCH_OPS),
            durable: durable_rx,
            done: Some(done_rx),
            last_send: Instant::now(),
        })
    }

    /// Queues one op; sends a batch to the writer when the buffer is full.
    pub async fn push(&mut self, op: WriteOp) -> Result<(), CacheError> {
        self.buf.push(op);
        if self.buf.len() >= BATCH_OPS {
            self.send().await?;
        }
        Ok(())
    }

    /// Sends the buffered ops if some time has passed since the last send. Sources call this
    /// at transaction boundaries so a quiet stream is stored promptly without sending one
    /// batch per tiny transaction under load.
    pub async fn boundary(&mut self) -> Result<(), CacheError> {
        if !self.buf.is_empty() && self.last_send.elapsed() >= Duration::from_millis(20) {
            self.send().await?;
        }
        Ok(())
    }

    /// Sends the buffered ops now.
    pub async fn send(&mut self) -> Result<(), CacheError> {
        self.last_send = Instant::now();
        if self.buf.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.buf, Vec::with_capacity(BATCH_OPS));
        let sent = match &self.tx {
            Some(tx) => tx.send(batch).await.is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            Err(self.failure().await)
        }
    }

    /// Whether ops are buffered but not yet sent to the writer thread.
    pub fn has_pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The latest durable position.
    pub fn durable(&self) -> Durable {
        self.durable.borrow().clone()
    }

    /// A receiver that changes whenever the durable position advances.
    pub fn watch(&self) -> watch::Receiver<Durable> {
        self.durable.clone()
    }

    /// Sends everything, waits until it is committed (or, inside a source transaction, until
    /// the next commit) and returns the durable position.
    pub async fn flush(&mut self) -> Result<Durable, CacheError> {
        let (reply, wait) = oneshot::channel();
        self.buf.push(WriteOp::Flush(reply));
        self.send().await?;
        match wait.await {
            Ok(d) => Ok(d),
            Err(_) => Err(self.failure().await),
        }
    }

    /// Flushes, stops the writer thread and returns the final durable position.
    pub async fn close(mut self) -> Result<Durable, CacheError> {
        self.send().await?;
        self.tx = None;
        match self.done.take() {
            Some(done) => match done.await {
                Ok(Ok(())) => Ok(self.durable()),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(CacheError::WriterGone("writer thread ended without a result".into())),
            },
            None => Ok(self.durable()),
        }
    }

    async fn failure(&mut self) -> CacheError {
        self.tx = None;
        match self.done.take() {
            Some(done) => match done.await {
                Ok(Err(e)) => e,
                _ => CacheError::WriterGone("writer thread ended".into()),
            },
            None => CacheError::WriterGone("writer already failed".into()),
        }
    }
}

struct RelInfo {
    table_id: i64,
    relation_id: i64,
    relation: Relation,
    key_idx: Vec<usize>,
}

struct CurTxn {
    row_id: i64,
    meta: TxnMeta,
    context: serde_json::Map<String, serde_json::Value>,
    grouping: Option<String>,
    events: u64,
    skip: bool,
}

struct Writer {
    conn: Connection,
    source_id: i64,
    rels: HashMap<u32, RelInfo>,
    in_sql_tx: bool,
    sql_tx_started: Instant,
    events_since_commit: u64,
    cur: Option<CurTxn>,
    last_num: i64,
    pending_checkpoint: Option<(String, i64)>,
    durable: Durable,
    durable_tx: watch::Sender<Durable>,
    flush_waiters: Vec<oneshot::Sender<Durable>>,
    /// Tables re-created at least once (by cache id), whose inference stays within the
    /// newest incarnation; filled as relations are announced.
    incarnated: HashMap<i64, bool>,
}

impl Writer {
    fn run(&mut self, mut rx: mpsc::Receiver<Vec<WriteOp>>) -> Result<(), CacheError> {
        while let Some(batch) = rx.blocking_recv() {
            for op in batch {
                self.apply(op)?;
            }
            let between = self.cur.is_none();
            // Nothing more queued: store now rather than wait for the next source commit.
            if between && self.in_sql_tx && rx.is_empty() {
                self.commit()?;
            }
            if between && !self.in_sql_tx {
                self.answer_flushes();
            }
        }
        if self.in_sql_tx {
            // The source stopped mid-transaction: keep only whole transactions.
            self.abort_current()?;
            self.commit()?;
        }
        self.answer_flushes();
        Ok(())
    }

    fn answer_flushes(&mut self) {
        for w in self.flush_waiters.drain(..) {
            let _ = w.send(self.durable.clone());
        }
    }

    fn begin_sql(&mut self) -> Result<(), CacheError> {
        if !self.in_sql_tx {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.in_sql_tx = true;
            self.sql_tx_started = Instant::now();
            self.events_since_commit = 0;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), CacheError> {
        if let Some((position, num)) = self.pending_checkpoint.take() {
            self.conn
                .prepare_cached(
                    "INSERT INTO checkpoints (source_id, position, position_num, updated_us) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (source_id) DO UPDATE SET position = excluded.position,
                       position_num = excluded.position_num, updated_us = excluded.updated_us",
                )?
                .execute(params![self.source_id, position, num, crate::time_fmt::now_us()])?;
            self.durable.position = position;
            self.durable.position_num = num;
        }
        self.conn.execute_batch("COMMIT")?;
        self.in_sql_tx = false;
        self.durable_tx.send_replace(self.durable.clone());
        Ok(())
    }

    /// Removes the rows of an unfinished transaction from the open SQLite transaction.
    fn abort_current(&mut self) -> Result<(), CacheError> {
        if let Some(cur) = self.cur.take() {
            if !cur.skip {
                self.conn
                    .prepare_cached("DELETE FROM events WHERE txn_id = ?1")?
                    .execute([cur.row_id])?;
                self.conn
                    .prepare_cached("DELETE FROM transactions WHERE id = ?1")?
                    .execute([cur.row_id])?;
                self.durable.events = self.durable.events.saturating_sub(cur.events);
                self.events_since_commit = self.events_since_commit.saturating_sub(cur.events);
            }
        }
        Ok(())
    }

    fn apply(&mut self, op: WriteOp) -> Result<(), CacheError> {
        match op {
            WriteOp::Abort => self.abort_current()?,
            WriteOp::Begin(meta) => {
                // A Begin inside a transaction means the source lost the rest of the previous one.
                self.abort_current()?;
                if meta.position_num <= self.last_num {
                    self.cur = Some(CurTxn {
                        row_id: 0,
                        meta,
                        context: serde_json::Map::new(),
                        grouping: None,
                        events: 0,
                        skip: true,
                    });
                    return Ok(());
                }
                self.begin_sql()?;
                self.conn
                    .prepare_cached(
                        "INSERT INTO transactions (source_id, txid, position, position_num, committed_us)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        self.source_id,
                        meta.txid,
                        meta.position,
                        meta.position_num,
                        meta.committed_us
                    ])?;
                self.cur = Some(CurTxn {
                    row_id: self.conn.last_insert_rowid(),
                    meta,
                    context: serde_json::Map::new(),
                    grouping: None,
                    events: 0,
                    skip: false,
                });
            }
            WriteOp::Grouping(kind) => {
                if let Some(cur) = self.cur.as_mut() {
                    cur.grouping = Some(kind);
                }
            }
            WriteOp::Context { key, value } => {
                if let Some(cur) = self.cur.as_mut() {
                    cur.context.insert(key, serde_json::Value::String(value));
                }
            }
            WriteOp::Relation { id, relation } => {
                self.begin_sql()?;
                let info = self.resolve_relation(relation)?;
                self.rels.insert(id, info);
            }
            WriteOp::TableOid { relation, oid } => {
                let table_id = self.rels.get(&relation).ok_or(CacheError::UnknownRelation(relation))?.table_id;
                let position = self.cur.as_ref().filter(|c| !c.skip).map(|c| c.meta.position_num);
                self.begin_sql()?;
                if super::incarnation::record_oid(&self.conn, table_id, oid, position)? {
                    self.incarnated.insert(table_id, true);
                }
            }
            WriteOp::Event { relation, event } => {
                let skip = match &self.cur {
                    Some(c) => c.skip,
                    // Rows outside a transaction cannot be placed in history; sources never send them.
                    None => true,
                };
                if !skip {
                    self.insert_event(relation, event)?;
                }
            }
            WriteOp::Commit => {
                if let Some(cur) = self.cur.take() {
                    if cur.skip {
                        self.durable.skipped += 1;
                    } else {
                        let ctx = if cur.context.is_empty() {
                            None
                        } else {
                            Some(serde_json::Value::Object(cur.context).to_string())
                        };
                        self.conn
                            .prepare_cached(
                                "UPDATE transactions SET context = ?2, event_count = ?3, grouping = ?4 WHERE id = ?1",
                            )?
                            .execute(params![cur.row_id, ctx, cur.events as i64, cur.grouping])?;
                        self.last_num = cur.meta.position_num;
                        self.pending_checkpoint = Some((cur.meta.position, cur.meta.position_num));
                        self.durable.transactions += 1;
                    }
                    // Checked here, not only when a batch ends: batches are cut by size, so under
                    // a steady stream one may seldom end between source transactions, and the
                    // SQLite transaction (and the position acknowledged upstream) would grow unbounded.
                    if self.in_sql_tx
                        && (self.events_since_commit >= COMMIT_EVENTS || self.sql_tx_started.elapsed() >= COMMIT_AGE)
                    {
                        self.commit()?;
                    }
                }
            }
            WriteOp::Position {
                position,
                position_num,
            } => {
                if self.cur.is_none() && position_num > self.last_num {
                    self.begin_sql()?;
                    self.last_num = position_num;
                    self.pending_checkpoint = Some((position, position_num));
                }
            }
            WriteOp::Flush(reply) => self.flush_waiters.push(reply),
        }
        Ok(())
    }

    fn resolve_relation(&mut self, relation: Relation) -> Result<RelInfo, CacheError> {
        self.conn
            .prepare_cached(
                "INSERT INTO tables (source_id, schema_name, table_name) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![self.source_id, relation.schema, relation.table])?;
        let table_id: i64 = self
            .conn
            .prepare_cached(
                "SELECT id FROM tables WHERE source_id = ?1 AND schema_name = ?2 AND table_name = ?3",
            )?
            .query_row(params![self.source_id, relation.schema, relation.table], |r| r.get(0))?;
        let columns = serde_json::to_string(&relation.columns)
            .map_err(|e| CacheError::WriterGone(format!("cannot encode relation: {e}")))?;
        self.conn
            .prepare_cached(
                "INSERT INTO relations (table_id, columns) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?
            .execute(params![table_id, columns])?;
        let relation_id: i64 = self
            .conn
            .prepare_cached("SELECT id FROM relations WHERE table_id = ?1 AND columns = ?2")?
            .query_row(params![table_id, columns], |r| r.get(0))?;
        if !self.incarnated.contains_key(&table_id) {
            let any: bool = self
                .conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM table_incarnations WHERE table_id = ?1)")?
                .query_row([table_id], |r| r.get(0))?;
            self.incarnated.insert(table_id, any);
        }
        Ok(RelInfo {
            table_id,
            relation_id,
            key_idx: relation.key_indexes(),
            relation,
        })
    }

    fn insert_event(&mut self, rel_id: u32, mut event: ChangeEvent) -> Result<(), CacheError> {
        let info = self.rels.get(&rel_id).ok_or(CacheError::UnknownRelation(rel_id))?;
        let (table_id, relation_id) = (info.table_id, info.relation_id);
        let after_key = event.after.as_deref().map(|a| encode_key(a, &info.key_idx));
        let before_key = event
            .before
            .as_deref()
            .filter(|b| info.key_idx.iter().all(|&i| !matches!(b.get(i), Some(Cell::Missing) | None)))
            .map(|b| encode_key(b, &info.key_idx));
        let record_key = after_key.clone().or_else(|| before_key.clone()).unwrap_or_else(|| "[]".into());
        let old_key = match (&before_key, &after_key) {
            (Some(b), Some(a)) if a != b => Some(b.clone()),
            _ => None,
        };

        let mut inferred: Vec<String> = Vec::new();
        let has_missing = |img: &Option<Vec<Cell>>| {
            img.as_ref().is_some_and(|v| v.iter().any(|c| matches!(c, Cell::Missing)))
        };
        if has_missing(&event.before) || has_missing(&event.after) {
            let lookup_key = before_key.as_deref().unwrap_or(&record_key).to_string();
            let names: Vec<String> = info.relation.columns.iter().map(|c| c.name.clone()).collect();
            let previous = self.previous_version(table_id, &lookup_key)?;
            let prev_value = |name: &str| previous.as_ref().and_then(|p| p.get(name).cloned());
            if let Some(before) = event.before.as_mut() {
                for (i, cell) in before.iter_mut().enumerate() {
                    if matches!(cell, Cell::Missing) {
                        if let Some(v) = prev_value(&names[i]) {
                            *cell = v;
                            push_unique(&mut inferred, &names[i]);
                        }
                    }
                }
            }
            if let Some(after) = event.after.as_mut() {
                for (i, cell) in after.iter_mut().enumerate() {
                    if matches!(cell, Cell::Missing) {
                        // An unchanged value equals the old one: this event's own before image
                        // first, then the record's previous version.
                        let own = event
                            .before
                            .as_ref()
                            .and_then(|b| b.get(i))
                            .filter(|c| !matches!(c, Cell::Missing))
                            .cloned();
                        if let Some(v) = own.or_else(|| prev_value(&names[i])) {
                            *cell = v;
                            push_unique(&mut inferred, &names[i]);
                        }
                    }
                }
            }
        }

        let before = event.before.as_deref().map(encode_image);
        let after = event.after.as_deref().map(encode_image);
        let inferred = if inferred.is_empty() {
            None
        } else {
            Some(serde_json::Value::from(inferred).to_string())
        };
        self.conn
            .prepare_cached(
                "INSERT INTO events (txn_id, table_id, relation_id, op, record_key, old_key, before, after, inferred)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                self.cur.as_ref().map(|c| c.row_id).unwrap_or_default(),
                table_id,
                relation_id,
                op_code(event.op),
                record_key,
                old_key,
                before,
                after,
                inferred
            ])?;
        if let Some(cur) = self.cur.as_mut() {
            cur.events += 1;
        }
        self.events_since_commit += 1;
        self.durable.events += 1;
        Ok(())
    }

    /// The record's latest stored image, by column name (its table may have changed shape since).
    fn previous_version(
        &self,
        table_id: i64,
        key: &str,
    ) -> Result<Option<HashMap<String, Cell>>, CacheError> {
        // A re-created table's records know nothing of the old table's.
        let floor = if self.incarnated.get(&table_id).copied().unwrap_or(false) {
            super::incarnation::current_floor(&self.conn, table_id)?.unwrap_or(0)
        } else {
            0
        };
        let row: Option<(i64, Option<String>, String)> = self
            .conn
            .prepare_cached(
                "SELECT e.id, e.after, r.columns FROM events e JOIN relations r ON r.id = e.relation_id
                 WHERE e.table_id = ?1 AND e.record_key = ?2 AND e.id >= ?3 ORDER BY e.id DESC LIMIT 1",
            )?
            .query_row(params![table_id, key, floor], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((id, after, columns)) = row else {
            return Ok(None);
        };
        let Some(after) = after else {
            return Ok(None);
        };
        let corrupt = |reason: String| CacheError::Corrupt {
            table: "events",
            id,
            reason,
        };
        let cols: Vec<crate::event::ColumnDef> =
            serde_json::from_str(&columns).map_err(|e| corrupt(e.to_string()))?;
        let cells = decode_image(&after).map_err(corrupt)?;
        Ok(Some(
            cols.into_iter().map(|c| c.name).zip(cells).collect(),
        ))
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// The cache's integer code of an operation.
pub(crate) fn op_code(op: Op) -> i64 {
    match op {
        Op::Insert => 1,
        Op::Update => 2,
        Op::Delete => 3,
        Op::Truncate => 4,
    }
}

/// The operation of a cache integer code.
pub(crate) fn op_from_code(code: i64) -> Option<Op> {
    match code {
        1 => Some(Op::Insert),
        2 => Some(Op::Update),
        3 => Some(Op::Delete),
        4 => Some(Op::Truncate),
        _ => None,
    }
}

/// Encodes the key columns of an image as a JSON array; the canonical form history lookups match.
pub fn encode_key(cells: &[Cell], key_idx: &[usize]) -> String {
    let mut out = String::with_capacity(16);
    out.push('[');
    for (n, &i) in key_idx.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_cell(&mut out, cells.get(i).unwrap_or(&Cell::Missing));
    }
    out.push(']');
    out
}

/// Encodes an image as a JSON array: strings, `null` for SQL NULL, `false` for unknown.
pub fn encode_image(cells: &[Cell]) -> String {
    let mut out = String::with_capacity(cells.len() * 12 + 2);
    out.push('[');
    for (n, c) in cells.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_cell(&mut out, c);
    }
    out.push(']');
    out
}

fn push_cell(out: &mut String, c: &Cell) {
    match c {
        Cell::Null => out.push_str("null"),
        Cell::Missing => out.push_str("false"),
        Cell::Text(s) => push_json_str(out, s),
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Decodes a stored image back into cells.
pub fn decode_image(s: &str) -> Result<Vec<Cell>, String> {
    let v: Vec<serde_json::Value> = serde_json::from_str(s).map_err(|e| e.to_string())?;
    v.into_iter()
        .map(|x| match x {
            serde_json::Value::Null => Ok(Cell::Null),
            serde_json::Value::Bool(false) => Ok(Cell::Missing),
            serde_json::Value::String(s) => Ok(Cell::Text(s)),
            other => Err(format!("unexpected image value {other}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::query::EventFilter;
    use crate::cache::Cache;
    use crate::event::ColumnDef;

    fn rel() -> Relation {
        let col = |name: &str, key| ColumnDef { name: name.into(), type_name: "text".into(), key };
        Relation { schema: "public".into(), table: "shp".into(), columns: vec![col("id", true), col("st", false), col("notes", false)] }
    }

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    fn begin(n: i64) -> WriteOp {
        WriteOp::Begin(TxnMeta { txid: format!("x{n}"), position: format!("p{n}"), position_num: n, committed_us: n })
    }

    fn ev(op: Op, before: Option<Vec<Cell>>, after: Option<Vec<Cell>>) -> WriteOp {
        WriteOp::Event { relation: 7, event: ChangeEvent { op, before, after } }
    }

    async fn setup() -> (tempfile::TempDir, Cache, WriterHandle) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.sqlite")).unwrap();
        let src = cache.add_source("s", "test", &serde_json::json!({})).unwrap();
        let mut w = WriterHandle::spawn(cache.path(), src.id).unwrap();
        w.push(WriteOp::Relation { id: 7, relation: rel() }).await.unwrap();
        (dir, cache, w)
    }

    #[tokio::test]
    async fn replayed_transactions_are_skipped_and_partial_ones_dropped() {
        let (_d, cache, mut w) = setup().await;
        for op in [begin(10), ev(Op::Insert, None, Some(vec![t("1"), t("P"), t("n")])), WriteOp::Commit] {
            w.push(op).await.unwrap();
        }
        assert_eq!(w.flush().await.unwrap().position_num, 10);
        // A replay of 10 and an older 5 are skipped; 20 breaks off and is aborted.
        for op in [
            begin(10), ev(Op::Insert, None, Some(vec![t("1"), t("P"), t("n")])), WriteOp::Commit,
            begin(5), ev(Op::Insert, None, Some(vec![t("9"), t("P"), t("n")])), WriteOp::Commit,
            begin(20), ev(Op::Update, Some(vec![t("1"), t("P"), t("n")]), Some(vec![t("1"), t("X"), t("n")])), WriteOp::Abort,
        ] {
            w.push(op).await.unwrap();
        }
        let d = w.flush().await.unwrap();
        assert_eq!((d.position_num, d.events, d.skipped), (10, 1, 2));
        // The same transaction arrives whole after the reconnect.
        for op in [begin(20), ev(Op::Update, Some(vec![t("1"), t("P"), t("n")]), Some(vec![t("1"), t("X"), t("n")])), WriteOp::Commit, begin(30), ev(Op::Delete, Some(vec![t("1"), t("X"), t("n")]), None)] {
            w.push(op).await.unwrap();
        }
        // Closing inside transaction 30 keeps everything before it.
        let d = w.close().await.unwrap();
        assert_eq!(d.position_num, 20);
        let evs = cache.events(&EventFilter::default()).unwrap();
        assert_eq!(evs.iter().map(|e| (e.txid.as_str(), e.op)).collect::<Vec<_>>(), vec![("x10", Op::Insert), ("x20", Op::Update)]);
        assert_eq!(cache.checkpoint(1).unwrap(), Some(("p20".to_string(), 20)));
    }

    #[tokio::test]
    async fn missing_values_are_inferred_from_earlier_versions() {
        let (_d, cache, mut w) = setup().await;
        for op in [
            begin(1), ev(Op::Insert, None, Some(vec![t("1"), t("P"), t("long text")])), WriteOp::Commit,
            // No old tuple (REPLICA IDENTITY DEFAULT) and an unchanged TOAST value.
            begin(2), ev(Op::Update, Some(vec![t("1"), Cell::Missing, Cell::Missing]), Some(vec![t("1"), t("X"), Cell::Missing])), WriteOp::Commit,
            // A record seen for the first time mid-history: nothing to infer from.
            begin(3), ev(Op::Update, Some(vec![t("2"), Cell::Missing, Cell::Missing]), Some(vec![t("2"), t("S"), Cell::Missing])), WriteOp::Commit,
        ] {
            w.push(op).await.unwrap();
        }
        w.close().await.unwrap();
        let evs = cache.events(&EventFilter::default()).unwrap();
        assert_eq!(evs[1].before, Some(vec![t("1"), t("P"), t("long text")]));
        assert_eq!(evs[1].after, Some(vec![t("1"), t("X"), t("long text")]));
        assert_eq!(evs[1].inferred, vec!["st".to_string(), "notes".to_string()]);
        assert_eq!(evs[2].before, Some(vec![t("2"), Cell::Missing, Cell::Missing]));
        let j = evs[2].to_json();
        assert_eq!(j["unknown"], serde_json::json!(["st", "notes"]));
        assert!(j["after"].get("notes").is_none(), "unknown is never shown as null");
    }

    #[test]
    fn images_round_trip_with_hostile_text() {
        let cells = vec![
            Cell::Text("a\"b\\c\nd\u{1}é😀".into()),
            Cell::Null,
            Cell::Missing,
            Cell::Text(String::new()),
        ];
        let enc = encode_image(&cells);
        assert_eq!(decode_image(&enc).unwrap(), cells);
        assert_eq!(encode_key(&cells, &[3, 1]), r#"["",null]"#);
    }
}
