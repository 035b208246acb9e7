//! PostgreSQL logical replication source.
//!
//! Rowtrail owns one slot and its publications per source (see [`catalog`]). The stream
//! ([`PgSource`]) decodes `pgoutput` ([`pgoutput`]) into cache write ops; the slot's position
//! is acknowledged only once the cache writer has committed the events before it, so killing
//! the process at any moment loses nothing and the replayed tail is skipped by commit LSN.

pub mod catalog;
pub mod conn;
pub mod drift;
pub mod pgoutput;
pub mod snapshot;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use pgwire_replication::{Lsn, ReplicationClient, ReplicationEvent};
use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use self::catalog::TableScope;
use self::conn::PgConnInfo;
use self::pgoutput::{format_lsn, Message, OldKind, TupleData, TupleValue};
use super::{push, Progress, RunOptions, RunUntil, Source, SourceError, SourceState};
use crate::cache::{WriteOp, WriterHandle};
use crate::event::{Cell, ChangeEvent, ColumnDef, Op, Relation, TxnMeta};

/// A PostgreSQL source's stored settings (no password).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PgSourceConfig {
    /// Connection URL without password.
    pub url: String,
    /// The replication slot Rowtrail owns.
    pub slot: String,
    /// The publications the stream subscribes to.
    pub publications: Vec<String>,
    /// The tables chosen when the source was added.
    pub scope: TableScope,
    /// Logical-message prefixes read as transaction context besides [`CONTEXT_PREFIX`]
    /// (`source add pg … --context-prefix P`); messages under any other prefix are ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_prefixes: Vec<String>,
    /// The published tables and their OIDs when the source was added, to notice at connect
    /// a table dropped, re-created or taken out of the publication ([`drift`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<drift::KnownTable>,
    /// Publications that existed before the source and were reused as they were
    /// (`--reuse-publication`): someone else's, never altered or dropped by Rowtrail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reused_publications: Vec<String>,
    /// The schema the publication follows (`FOR TABLES IN SCHEMA`), when it does; a reset
    /// re-creates a missing publication the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_publication: Option<String>,
}

/// The logical decoding message prefix whose JSON object is a transaction's context:
/// `SELECT pg_logical_emit_message(true, 'rowtrail', '{"actor":"ana@example.com"}')`.
/// Other tools use messages too (Debezium's heartbeats, application events), so only this
/// prefix and the ones a source names are read.
pub const CONTEXT_PREFIX: &str = "rowtrail";

/// How long the stream may stay silent before the connection is presumed dead.
const SILENCE: Duration = Duration::from_secs(90);
/// Progress reports at most this often.
const REPORT_EVERY: Duration = Duration::from_millis(100);

/// The streaming side of a PostgreSQL source.
pub struct PgSource {
    name: String,
    config: PgSourceConfig,
    conn: PgConnInfo,
    /// Tables already warned about (once per table per run).
    warned: HashSet<(String, String)>,
    /// Remembers table warnings across runs (the cache's `table_warnings`); says whether one
    /// is new and so to be told.
    warn_once: Option<WarnOnce>,
    /// The OIDs the stream last announced per table, from the cache ([`drift`]).
    cache_oids: HashMap<(String, String), u32>,
    /// Capture problems already reported in this run (each once, not at every reconnect).
    drift_reported: HashSet<String>,
}

/// Decides whether a table warning is new to the workspace, remembering it.
pub type WarnOnce = Box<dyn FnMut(&catalog::TableWarning) -> bool + Send + Sync>;

struct RelState {
    relation: Relation,
    /// Columns sent in a key-only old tuple (the replica identity).
    identity: Vec<bool>,
}

impl PgSource {
    /// A source named `name`; `password` overrides any in the URL.
    pub fn new(name: &str, config: PgSourceConfig, password: Option<String>) -> Result<PgSource, SourceError> {
        let mut conn = PgConnInfo::parse(&config.url).map_err(|message| SourceError::Config {
            source_name: name.to_string(),
            message,
        })?;
        if password.is_some() {
            conn.password = password;
        }
        Ok(PgSource {
            name: name.to_string(),
            config,
            conn,
            warned: HashSet::new(),
            warn_once: None,
            cache_oids: HashMap::new(),
            drift_reported: HashSet::new(),
        })
    }

    /// Tells each table warning once per workspace, as `warn_once` decides, instead of once
    /// per run.
    pub fn with_warn_once(mut self, warn_once: WarnOnce) -> PgSource {
        self.warn_once = Some(warn_once);
        self
    }

    /// The OIDs the cache last recorded for this source's tables (`Cache::table_oids`), so
    /// that a table re-created while Rowtrail was away is noticed at connect.
    pub fn with_cache_oids(mut self, oids: HashMap<(String, String), u32>) -> PgSource {
        self.cache_oids = oids;
        self
    }

    fn stream_err(&self, position: i64, detail: String, transient: bool) -> SourceError {
        SourceError::Stream {
            source_name: self.name.clone(),
            position: format_lsn(position as u64),
            detail,
            transient,
        }
    }

    async fn catalog(&self) -> Result<Client, SourceError> {
        self.conn.connect().await.map_err(|detail| SourceError::Connect {
            source_name: self.name.clone(),
            target: self.conn.target(),
            detail,
        })
    }

    /// One connection's worth of streaming. A broken connection is an error for the caller to
    /// retry ([`SourceError::is_transient`]); this method never retries by itself.
    async fn session(&mut self, writer: &mut WriterHandle, opts: &RunOptions) -> Result<(), SourceError> {
        let name = self.name.clone();
        let report = |state: SourceState, w: &WriterHandle, behind: Option<u64>, message: Option<String>| {
            let d = w.durable();
            opts.report(Progress {
                source: name.clone(),
                state,
                events: d.events,
                transactions: d.transactions,
                position: d.position,
                behind,
                message,
            });
        };
        report(SourceState::Connecting, writer, None, None);
        let client = self.catalog().await?;
        let slot = client
            .query_opt(
                "SELECT confirmed_flush_lsn::text, wal_status::text FROM pg_replication_slots WHERE slot_name = $1",
                &[&self.config.slot],
            )
            .await
            .map_err(|e| self.stream_err(0, conn::describe_pg_error(&e), true))?;
        let Some(slot) = slot else {
            return Err(SourceError::Gap {
                source_name: self.name.clone(),
                detail: format!(
                    "replication slot {} no longer exists on {}; changes made since it was dropped are not recoverable. To re-create it and keep the cached events (the gap is recorded): rowtrail source reset {}",
                    self.config.slot, self.conn.target(), self.name
                ),
            });
        };
        let confirmed = slot
            .get::<_, Option<String>>(0)
            .and_then(|s| pgoutput::parse_lsn(&s))
            .unwrap_or(0) as i64;
        let durable = writer.durable();
        if slot.get::<_, Option<String>>(1).as_deref() == Some("lost") {
            return Err(SourceError::Gap {
                source_name: self.name.clone(),
                detail: format!(
                    "the server invalidated slot {} because it fell behind max_slot_wal_keep_size: every change after {} is gone from the server's WAL. To re-create it and keep the cached events (history will show a gap from {} on): rowtrail source reset {}",
                    self.config.slot, durable.position, durable.position, self.name
                ),
            });
        }
        // The snapshot baseline sits one byte before the slot's consistent point (so a commit
        // exactly there is still stored); no transaction fits in that byte.
        if durable.position_num > 0 && confirmed > durable.position_num + 1 {
            return Err(SourceError::Gap {
                source_name: self.name.clone(),
                detail: format!(
                    "slot {} confirmed {} but the cache holds changes only up to {}: the changes in between were acknowledged by another client and are lost to this cache. To go on from the slot's position and keep the cached events (the gap is recorded): rowtrail source reset {}",
                    self.config.slot,
                    format_lsn(confirmed as u64),
                    durable.position,
                    self.name
                ),
            });
        }
        // Holes in the capture made behind our back. Reported, not fatal: the rest streams on.
        match drift::capture_drift(&client, &self.config, &self.cache_oids).await {
            Ok(problems) => {
                for p in problems {
                    if self.drift_reported.insert(p.clone()) {
                        report(SourceState::Connecting, writer, None, Some(format!("warning: {p}")));
                    }
                }
            }
            Err(e) => report(
                SourceState::Connecting,
                writer,
                None,
                Some(format!("warning: could not check the publication's tables: {e}")),
            ),
        }
        // What the server holds now: a sync stops there, and a watch is live once past it.
        let server_now = catalog::current_wal_lsn(&client)
            .await
            .map_err(|d| self.stream_err(durable.position_num, d, true))? as i64;
        let target = match opts.until {
            RunUntil::CaughtUp => {
                if server_now <= durable.position_num.max(confirmed) {
                    report(SourceState::Stopped, writer, Some(0), None);
                    return Ok(());
                }
                Some(server_now)
            }
            RunUntil::Cancelled => None,
        };
        let start = durable.position_num.max(confirmed);
        let cfg = self
            .conn
            .replication_config(&self.config.slot, self.config.publications.clone())
            .with_start_lsn(Lsn(start as u64))
            .with_ack_lsn(Lsn(durable.position_num.max(confirmed) as u64))
            .with_status_interval(Duration::from_secs(1))
            .with_wakeup_interval(Duration::from_secs(5))
            .with_buffer_size(1024);
        let mut repl = ReplicationClient::connect(cfg).await.map_err(|e| SourceError::Connect {
            source_name: self.name.clone(),
            target: self.conn.target(),
            detail: e.to_string(),
        })?;
        // Nothing to catch up on: a watch is live from the start.
        let mut reported = if target.is_none() && start >= server_now {
            SourceState::Live
        } else {
            SourceState::CatchingUp
        };
        report(reported, writer, None, None);

        let mut durable_rx = writer.watch();
        let mut rels: HashMap<u32, RelState> = HashMap::new();
        let mut in_txn = false;
        let mut skipping = false;
        let mut last_commit = durable.position_num;
        let mut acked = durable.position_num;
        // The byte before an idle keepalive's `wal_end`, as stored in the cache (see the
        // KeepAlive arm). Once durable it is acknowledged as `wal_end` itself: the server
        // skips only commits that start before what we confirm, so confirming `wal_end`
        // still leaves a commit starting exactly there to come. A walsender that is asked to
        // shut down waits until the client confirms exactly the end of what it sent; one
        // byte short, `pg_ctl -m fast stop` waited for as long as the watch ran.
        let mut idle_done: i64 = -1;
        let upstream = |n: i64, idle_done: i64| if n == idle_done { n + 1 } else { n };
        let mut last_report = Instant::now();
        let mut server_end: i64 = start;
        let result: Result<(), SourceError> = loop {
            let ev = tokio::select! {
                _ = opts.cancel.cancelled(), if !in_txn => break Ok(()),
                // A quiet stream must not leave committed transactions in the handle's buffer.
                _ = tokio::time::sleep(Duration::from_millis(20)), if writer.has_pending() => {
                    writer.send().await?;
                    continue;
                }
                // Acknowledge as soon as the cache commits, not at the next message.
                Ok(()) = durable_rx.changed() => {
                    let n = upstream(durable_rx.borrow_and_update().position_num, idle_done);
                    if n > acked {
                        repl.update_applied_lsn(Lsn(n as u64));
                        acked = n;
                    }
                    continue;
                }
                r = tokio::time::timeout(SILENCE, repl.recv()) => r,
            };
            let ev = match ev {
                Err(_) => break Err(self.stream_err(last_commit, format!("no message from the server for {}s", SILENCE.as_secs()), true)),
                Ok(Err(e)) => break Err(self.stream_err(last_commit, describe_stream_error(&e), is_transient(&e))),
                Ok(Ok(None)) => {
                    if in_txn {
                        break Err(self.stream_err(last_commit, "the server ended the stream inside a transaction".into(), true));
                    }
                    break Ok(());
                }
                Ok(Ok(Some(ev))) => ev,
            };
            match ev {
                ReplicationEvent::Begin { final_lsn, xid, commit_time_micros } => {
                    in_txn = true;
                    let num = final_lsn.0 as i64;
                    skipping = num <= last_commit;
                    if !skipping {
                        push(writer, WriteOp::Begin(TxnMeta {
                            txid: xid.to_string(),
                            position: format_lsn(final_lsn.0),
                            position_num: num,
                            committed_us: pgoutput::pg_epoch_to_unix_us(commit_time_micros),
                        }))
                        .await?;
                    }
                }
                ReplicationEvent::Commit { lsn, .. } => {
                    in_txn = false;
                    if !skipping {
                        push(writer, WriteOp::Commit).await?;
                        writer.boundary().await?;
                        last_commit = lsn.0 as i64;
                    }
                    skipping = false;
                    server_end = server_end.max(lsn.0 as i64);
                }
                ReplicationEvent::Message { transactional, prefix, content, .. } => {
                    if transactional && in_txn && !skipping {
                        for (key, value) in context_pairs(&self.config.context_prefixes, &prefix, &content) {
                            push(writer, WriteOp::Context { key, value }).await?;
                        }
                    }
                }
                ReplicationEvent::XLogData { data, wal_start, .. } => {
                    server_end = server_end.max(wal_start.0 as i64);
                    let msg = pgoutput::decode(data).map_err(|e| SourceError::Decode {
                        source_name: self.name.clone(),
                        position: format_lsn(wal_start.0),
                        detail: e.to_string(),
                    })?;
                    self.apply(msg, &client, &mut rels, writer, skipping, wal_start.0, opts).await?;
                }
                ReplicationEvent::KeepAlive { wal_end, reply_requested, .. } => {
                    let end = wal_end.0 as i64;
                    server_end = server_end.max(end);
                    // `wal_end` is where the server reads next: a transaction whose commit
                    // record starts exactly there is still to come. Everything before it is
                    // done, so remember the byte before — an idle source's acknowledgements then
                    // keep the slot from pinning WAL without ever skipping that transaction.
                    let done = end - 1;
                    if !in_txn && done > last_commit {
                        push(writer, WriteOp::Position { position: format_lsn(done as u64), position_num: done }).await?;
                        last_commit = done;
                    }
                    if !in_txn && done == last_commit {
                        idle_done = done;
                    }
                    if reply_requested && !in_txn {
                        // The transport has already answered with the last acknowledged
                        // position; the server asks again until it hears `wal_end` (a
                        // shutting-down walsender asks at once). Store the position now rather
                        // than at the next batch, so the next answer carries it.
                        let d = writer.flush().await?;
                        let n = upstream(d.position_num, idle_done);
                        if n > acked {
                            repl.update_applied_lsn(Lsn(n as u64));
                            acked = n;
                        }
                    } else {
                        writer.send().await?;
                    }
                }
                ReplicationEvent::StoppedAt { .. } => {}
            }
            let d = upstream(writer.durable().position_num, idle_done);
            if d > acked {
                repl.update_applied_lsn(Lsn(d as u64));
                acked = d;
            }
            if !in_txn {
                if let Some(t) = target {
                    if last_commit >= t || server_end >= t {
                        break Ok(());
                    }
                }
            }
            // Live once everything the server held at connect time has been read. The walsender
            // sends a keepalive as soon as it runs out of WAL, so an idle server gets there too.
            // A change of state is reported at once: the stream may then stay silent for long.
            let state = if reported == SourceState::Live
                || (target.is_none() && !in_txn && server_end.max(last_commit) >= server_now)
            {
                SourceState::Live
            } else {
                SourceState::CatchingUp
            };
            if state != reported || last_report.elapsed() >= REPORT_EVERY {
                last_report = Instant::now();
                reported = state;
                let behind = target.map(|t| (t - last_commit).max(0) as u64);
                report(state, writer, behind, None);
            }
        };
        repl.stop();
        if in_txn && !skipping {
            push(writer, WriteOp::Abort).await?;
        }
        // Store what was read and tell the server, even when the stream failed: the slot then
        // holds no more WAL than needed, and a resumed run re-reads nothing twice.
        let flushed = writer.flush().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), repl.shutdown()).await;
        let d = flushed?;
        if d.position_num > confirmed {
            advance_slot(&client, &self.config.slot, d.position_num as u64).await;
        }
        result?;
        report(SourceState::Stopped, writer, Some(0), None);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &mut self,
        msg: Message,
        client: &Client,
        rels: &mut HashMap<u32, RelState>,
        writer: &mut WriterHandle,
        skipping: bool,
        position: u64,
        opts: &RunOptions,
    ) -> Result<(), SourceError> {
        let decode_err = |detail: String| SourceError::Decode {
            source_name: self.name.clone(),
            position: format_lsn(position),
            detail,
        };
        match msg {
            Message::Relation(body) => {
                let types: Vec<(u32, i32)> = body.columns.iter().map(|c| (c.type_oid, c.type_modifier)).collect();
                let type_names = catalog::type_names(client, &types)
                    .await
                    .unwrap_or_else(|_| types.iter().map(|t| format!("oid {}", t.0)).collect());
                let pk = catalog::primary_key(client, body.oid).await.unwrap_or_default();
                let names: Vec<&str> = body.columns.iter().map(|c| c.name.as_str()).collect();
                let use_pk = !pk.is_empty() && pk.iter().all(|k| names.contains(&k.as_str()));
                let schema = if body.namespace.is_empty() { "pg_catalog".to_string() } else { body.namespace.clone() };
                let relation = Relation {
                    schema: schema.clone(),
                    table: body.name.clone(),
                    columns: body
                        .columns
                        .iter()
                        .zip(type_names)
                        .map(|(c, t)| ColumnDef {
                            name: c.name.clone(),
                            type_name: t,
                            key: if use_pk { pk.contains(&c.name) } else { c.key },
                        })
                        .collect(),
                };
                // A partition's changes are stored under its root (publish_via_partition_root),
                // which is the table the user chose: only the root is warned about.
                let warning = match catalog::identity_warning(&schema, &body.name, body.replica_identity, !pk.is_empty()) {
                    Some(w) if !catalog::is_partition(client, body.oid).await.unwrap_or(false) => Some(w),
                    _ => None,
                };
                if let Some(w) = warning {
                    let new = self.warned.insert((schema.clone(), body.name.clone()))
                        && self.warn_once.as_mut().is_none_or(|f| f(&w));
                    if new {
                        opts.report(Progress {
                            source: self.name.clone(),
                            state: SourceState::CatchingUp,
                            events: 0,
                            transactions: 0,
                            position: format_lsn(position),
                            behind: None,
                            message: Some(format!("warning: {}", w.message)),
                        });
                    }
                }
                self.cache_oids.insert((schema.clone(), body.name.clone()), body.oid);
                let identity = body.columns.iter().map(|c| c.key).collect();
                let changed = rels.get(&body.oid).is_none_or(|r| r.relation != relation);
                if changed {
                    push(writer, WriteOp::Relation { id: body.oid, relation: relation.clone() }).await?;
                    push(writer, WriteOp::TableOid { relation: body.oid, oid: body.oid }).await?;
                }
                rels.insert(body.oid, RelState { relation, identity });
            }
            Message::Insert { relation, new } if !skipping => {
                let rel = rels.get(&relation).ok_or_else(|| decode_err(format!("insert into unknown relation {relation}")))?;
                let after = cells(&new, rel, false).map_err(decode_err)?;
                push(writer, WriteOp::Event { relation, event: ChangeEvent { op: Op::Insert, before: None, after: Some(after) } }).await?;
            }
            Message::Update { relation, old, new } if !skipping => {
                let rel = rels.get(&relation).ok_or_else(|| decode_err(format!("update of unknown relation {relation}")))?;
                let after = cells(&new, rel, false).map_err(decode_err)?;
                let before = match old {
                    Some(o) => cells(&o.data, rel, o.kind == OldKind::Key).map_err(decode_err)?,
                    // REPLICA IDENTITY DEFAULT with an unchanged key sends no old tuple: the key
                    // is the new one, everything else comes from the previous version.
                    None => after
                        .iter()
                        .zip(&rel.identity)
                        .map(|(c, &id)| if id { c.clone() } else { Cell::Missing })
                        .collect(),
                };
                push(writer, WriteOp::Event { relation, event: ChangeEvent { op: Op::Update, before: Some(before), after: Some(after) } }).await?;
            }
            Message::Delete { relation, old } if !skipping => {
                let rel = rels.get(&relation).ok_or_else(|| decode_err(format!("delete from unknown relation {relation}")))?;
                let before = cells(&old.data, rel, old.kind == OldKind::Key).map_err(decode_err)?;
                push(writer, WriteOp::Event { relation, event: ChangeEvent { op: Op::Delete, before: Some(before), after: None } }).await?;
            }
            Message::Truncate { relations, .. } if !skipping => {
                for relation in relations {
                    if rels.contains_key(&relation) {
                        push(writer, WriteOp::Event { relation, event: ChangeEvent { op: Op::Truncate, before: None, after: None } }).await?;
                    }
                }
            }
            Message::Origin { name, .. } if !skipping => {
                push(writer, WriteOp::Context { key: "origin".into(), value: name }).await?;
            }
            Message::Message { transactional: true, prefix, content, .. } if !skipping => {
                for (key, value) in context_pairs(&self.config.context_prefixes, &prefix, &content) {
                    push(writer, WriteOp::Context { key, value }).await?;
                }
            }
            // Type messages name custom types; we resolve names from the catalog instead.
            // Begin/Commit arrive parsed by the transport.
            _ => {}
        }
        Ok(())
    }
}

impl Source for PgSource {
    async fn run(&mut self, writer: &mut WriterHandle, opts: &RunOptions) -> Result<(), SourceError> {
        self.session(writer, opts).await
    }
}

/// Whether a stream error may pass: lost connections, and server errors of the classes that
/// mean "not now" (connection exception, operator intervention such as a terminated walsender
/// or a restart, insufficient resources, system error, a slot still held by an exiting
/// walsender). Authentication, missing objects and protocol errors need the user.
fn is_transient(e: &pgwire_replication::PgWireError) -> bool {
    if e.is_transient() {
        return true;
    }
    if !e.is_server() {
        return false;
    }
    let text = e.to_string();
    let code = text
        .split("SQLSTATE ")
        .nth(1)
        .map(|c| c.chars().take(5).collect::<String>())
        .unwrap_or_default();
    ["08", "57", "53", "58", "40"].iter().any(|class| code.starts_with(class)) || code == "55006"
}

/// A stream error as the user reads it. A walsender that shuts down (a fast or smart
/// shutdown, once we confirmed everything it sent) ends the COPY with CommandComplete and
/// closes the connection; the transport skips CommandComplete and reports the close as an
/// end of file, which is an expected end of the stream here, not a fault.
fn describe_stream_error(e: &pgwire_replication::PgWireError) -> String {
    if let pgwire_replication::PgWireError::Io(io) = e {
        if io.kind() == std::io::ErrorKind::UnexpectedEof {
            return "the server ended the replication connection (shut down, restarted, or the walsender was stopped)".into();
        }
    }
    e.to_string()
}

/// Moves the slot's confirmed position to `lsn` after the stream closed, because the
/// transport sends no final status update when it stops. Best effort: the next run
/// acknowledges the same position anyway.
async fn advance_slot(client: &Client, slot: &str, lsn: u64) {
    let lsn_text = format_lsn(lsn);
    for _ in 0..50 {
        let r = client
            .execute(
                "SELECT pg_replication_slot_advance($1, $2::text::pg_lsn) FROM pg_replication_slots
                 WHERE slot_name = $1 AND confirmed_flush_lsn < $2::text::pg_lsn",
                &[&slot, &lsn_text],
            )
            .await;
        match r {
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::OBJECT_IN_USE) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => return,
        }
    }
}

/// Converts a tuple to cells. In a key-only old tuple, columns outside the replica identity
/// are sent as NULL placeholders: they are "not sent", not NULL.
fn cells(t: &TupleData, rel: &RelState, key_only: bool) -> Result<Vec<Cell>, String> {
    let cols = &rel.relation.columns;
    if t.0.len() != cols.len() {
        return Err(format!(
            "tuple of {}.{} has {} values but the table has {} columns",
            rel.relation.schema,
            rel.relation.table,
            t.0.len(),
            cols.len()
        ));
    }
    t.0.iter()
        .enumerate()
        .map(|(i, v)| {
            Ok(match v {
                TupleValue::Null if key_only && !rel.identity[i] => Cell::Missing,
                TupleValue::Null => Cell::Null,
                TupleValue::UnchangedToast => Cell::Missing,
                TupleValue::Text(b) => Cell::Text(match std::str::from_utf8(b) {
                    Ok(s) => s.to_string(),
                    Err(e) => {
                        return Err(format!(
                            "column {} of {}.{} is not valid UTF-8: {e}",
                            cols[i].name, rel.relation.schema, rel.relation.table
                        ))
                    }
                }),
                TupleValue::Binary(b) => {
                    let mut s = String::with_capacity(2 + b.len() * 2);
                    s.push_str("\\x");
                    for byte in b.iter() {
                        s.push_str(&format!("{byte:02x}"));
                    }
                    Cell::Text(s)
                }
            })
        })
        .collect()
}

/// Transaction context from a logical decoding message under [`CONTEXT_PREFIX`] or one of
/// `extra` prefixes: a JSON object's fields (`{"actor": "ana@example.com", "reason": "…"}`;
/// strings as they are, numbers and the like as JSON text, null left out: "no reason" is not
/// the reason "null"), otherwise the whole content under its prefix. Other prefixes give
/// nothing.
fn context_pairs(extra: &[String], prefix: &str, content: &[u8]) -> Vec<(String, String)> {
    if prefix != CONTEXT_PREFIX && !extra.iter().any(|p| p == prefix) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(content).into_owned();
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text) {
        return map
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some((k, s)),
                other => Some((k, other.to_string())),
            })
            .collect();
    }
    vec![(prefix.to_string(), text)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_comes_only_from_known_prefixes_and_null_stays_absent() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            context_pairs(&none, "rowtrail", br#"{"actor":"ana","reason":null,"n":3}"#),
            vec![("actor".to_string(), "ana".to_string()), ("n".to_string(), "3".to_string())]
        );
        assert!(context_pairs(&none, "debezium-heartbeat", br#"{"actor":"not-rowtrail"}"#).is_empty());
        let extra = vec!["app.audit".to_string()];
        assert_eq!(
            context_pairs(&extra, "app.audit", b"plain text"),
            vec![("app.audit".to_string(), "plain text".to_string())]
        );
    }
}
