//! The Sources screen: the workspace, its sources with their live state and slot health,
//! testing a PostgreSQL connection, planning and creating sources, pausing, resuming,
//! syncing and removing them.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::tasks::{LiveState, ServerEvent, TaskKind, TaskRef, TaskStarted};
use super::{Api, ApiError, Empty, ErrorCode};
use crate::cache::{Cache, CacheError, SourceRecord};
use crate::source::postgres::catalog::{self, SlotStatus, TableInfo, TableScope};
use crate::source::postgres::conn::PgConnInfo;
use crate::source::postgres::PgSourceConfig;
use crate::sync;

/// Retained WAL above which a slot is flagged, unless the request says otherwise (1 GiB).
pub const DEFAULT_WARN_RETAINED_MIB: u64 = 1024;
/// How long asking a server for its slots may take in `list_sources`.
const SLOT_TIMEOUT: Duration = Duration::from_secs(4);
/// How long `test_connection` waits for the server.
const TEST_TIMEOUT: Duration = Duration::from_secs(20);

// ------------------------------------------------------------------------------------------
// workspace_info
// ------------------------------------------------------------------------------------------

/// Where the workspace lives and how much it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WorkspaceInfo {
    /// The workspace directory.
    pub data_dir: String,
    /// The cache file.
    pub cache_path: String,
    /// Events stored.
    pub event_count: u64,
    /// Transactions stored.
    pub transaction_count: u64,
    /// Configured sources.
    pub source_count: u64,
    /// Tables with captured events.
    pub table_count: u64,
    /// The cache's schema version.
    pub schema_version: i64,
    /// Rowtrail's version.
    pub version: String,
}

/// `workspace_info`.
pub async fn workspace_info(api: &Api, _req: Empty) -> Result<WorkspaceInfo, ApiError> {
    let data_dir = api.data_dir().display().to_string();
    let cache_path = api.cache_path().display().to_string();
    let a = api.clone();
    api.with_cache(move |c| {
        let n = |sql: &str| -> Result<u64, ApiError> {
            Ok(c.conn().query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(CacheError::from)? as u64)
        };
        Ok(WorkspaceInfo {
            data_dir,
            cache_path,
            event_count: count_matching(&a, c, &super::events::Filter::default())?,
            transaction_count: n("SELECT count(*) FROM transactions")?,
            source_count: n("SELECT count(*) FROM sources")?,
            table_count: n("SELECT count(*) FROM tables")?,
            schema_version: n("PRAGMA user_version")? as i64,
            version: env!("CARGO_PKG_VERSION").to_string(),
        })
    })
    .await
}

// ------------------------------------------------------------------------------------------
// list_sources
// ------------------------------------------------------------------------------------------

/// List the sources.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct ListSourcesRequest {
    /// Ask PostgreSQL servers for their slots' health (default true; takes a moment per server).
    pub slots: Option<bool>,
    /// Flag slots retaining more WAL than this many MiB (default 1024).
    pub warn_retained_mib: Option<u64>,
}

/// One `rowtrail_%` replication slot on a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SlotInfo {
    /// Slot name.
    pub slot: String,
    /// A client is streaming from it now.
    pub active: bool,
    /// `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13+).
    pub wal_status: Option<String>,
    /// Bytes of WAL the server keeps for this slot.
    pub retained_bytes: Option<i64>,
    /// Bytes between the server's WAL position and what the slot confirmed.
    pub lag_bytes: Option<i64>,
    /// The slot's confirmed position.
    pub confirmed_flush: Option<String>,
    /// The server invalidated the slot: history after its position is lost; `reset_source`
    /// re-creates it and keeps the cached events.
    pub lost: bool,
    /// Retained WAL is above the warning threshold (or the slot is lost).
    pub warn: bool,
}

fn slot_info(s: &SlotStatus, warn_bytes: i64) -> SlotInfo {
    let lost = s.wal_status.as_deref() == Some("lost");
    SlotInfo {
        slot: s.slot.clone(),
        active: s.active,
        wal_status: s.wal_status.clone(),
        retained_bytes: s.retained_bytes,
        lag_bytes: s.lag_bytes,
        confirmed_flush: s.confirmed_flush.clone(),
        lost,
        warn: lost || s.retained_bytes.unwrap_or(0) > warn_bytes,
    }
}

/// A PostgreSQL source's slot, and the other Rowtrail slots on its server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SlotHealth {
    /// This source's slot name.
    pub slot: String,
    /// Its state; null when the server has no such slot (dropped: history after the cache's
    /// position is lost) or could not be asked.
    pub own: Option<SlotInfo>,
    /// Other `rowtrail_%` slots on the same server (other caches, leftovers to drop).
    pub others: Vec<SlotInfo>,
    /// Why the server could not be asked, if it could not.
    pub error: Option<String>,
    /// The retained-WAL threshold used for `warn`, in bytes.
    pub warn_threshold_bytes: i64,
    /// Holes in the capture made on the server behind Rowtrail's back (a table taken out of
    /// the publication, dropped, or dropped and created again), one sentence each.
    pub capture_problems: Vec<String>,
}

/// One configured source and what it is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SourceInfo {
    /// The source's name.
    pub name: String,
    /// `postgres` or `sqlite`.
    pub kind: String,
    /// The URL without password, or the database file.
    pub target: String,
    /// Where the source resumes (LSN or log id); null before the first capture.
    pub position: Option<String>,
    /// Paused by the user (not watched, not resumed on start).
    pub paused: bool,
    /// What it is doing now.
    pub state: LiveState,
    /// Why it failed or reconnects, or the latest warning.
    pub message: Option<String>,
    /// Events stored from this source.
    pub events_stored: u64,
    /// Events stored per second over the last few seconds, while a task runs.
    pub events_per_sec: Option<f64>,
    /// Bytes (PostgreSQL WAL) or rows still to read, when known.
    pub behind: Option<u64>,
    /// The running sync or watch task.
    pub task: Option<TaskRef>,
    /// PostgreSQL only, when asked for: the slot's lag and retained WAL.
    pub slot: Option<SlotHealth>,
    /// What the user was told once about its tables (updates carrying only the key, inserts
    /// only, generated columns not sent), one sentence per table and kind.
    pub warnings: Vec<String>,
}

/// The sources, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SourceList {
    /// Every configured source.
    pub sources: Vec<SourceInfo>,
}

/// Whether a source's settings mark it paused.
pub(crate) fn is_paused(rec: &SourceRecord) -> bool {
    rec.config.get("paused").and_then(|v| v.as_bool()).unwrap_or(false)
}

fn set_paused(c: &Cache, name: &str, paused: bool) -> Result<(), ApiError> {
    let rec = c.source(name)?;
    let mut config = rec.config.clone();
    if let Some(o) = config.as_object_mut() {
        o.insert("paused".into(), paused.into());
    }
    c.update_source_config(name, &config)?;
    Ok(())
}

fn target_of(rec: &SourceRecord) -> String {
    rec.config
        .get("url")
        .or_else(|| rec.config.get("path"))
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

/// Events matching `filter` now, from its position index (built once, then extended).
pub(crate) fn count_matching(api: &Api, c: &Cache, filter: &super::events::Filter) -> Result<u64, ApiError> {
    let f = super::events::resolve(c, filter)?;
    let idx = api.inner.positions.get(c, &f, None)?;
    let n = idx.lock().map_err(|_| ApiError::internal("position index poisoned"))?.count();
    Ok(n)
}

fn source_info(api: &Api, c: &Cache, rec: &SourceRecord) -> Result<SourceInfo, ApiError> {
    let stored = count_matching(
        api,
        c,
        &super::events::Filter {
            source: Some(rec.name.clone()),
            ..Default::default()
        },
    )?;
    let paused = is_paused(rec);
    let snap = api.inner.tasks.snapshot(&rec.name, paused);
    Ok(SourceInfo {
        name: rec.name.clone(),
        kind: rec.kind.clone(),
        target: target_of(rec),
        position: rec.checkpoint.clone(),
        paused,
        state: snap.state,
        message: snap.message,
        events_stored: stored,
        events_per_sec: snap.events_per_sec,
        behind: snap.behind,
        task: snap.task,
        slot: None,
        warnings: c.table_warnings(rec.id)?.into_iter().map(|w| w.message).collect(),
    })
}

/// The source named `name` as the list shows it (without slot health).
async fn one_source(api: &Api, name: &str) -> Result<SourceInfo, ApiError> {
    let name = name.to_string();
    let a = api.clone();
    api.with_cache(move |c| {
        let rec = c.source(&name)?;
        source_info(&a, c, &rec)
    })
    .await
}

async fn slot_health(
    cfg: PgSourceConfig,
    oids: std::collections::HashMap<(String, String), u32>,
    password: Option<String>,
    warn_bytes: i64,
) -> SlotHealth {
    let mut health = SlotHealth {
        slot: cfg.slot.clone(),
        own: None,
        others: Vec::new(),
        error: None,
        warn_threshold_bytes: warn_bytes,
        capture_problems: Vec::new(),
    };
    let asked = async {
        let mut info = PgConnInfo::parse(&cfg.url)?;
        if password.is_some() {
            info.password = password.clone();
        }
        let client = info.connect().await?;
        let slots = catalog::slot_statuses(&client).await?;
        Ok::<_, String>((slots, crate::source::postgres::drift::capture_drift(&client, &cfg, &oids).await?))
    };
    match tokio::time::timeout(SLOT_TIMEOUT, asked).await {
        Err(_) => health.error = Some(format!("the server did not answer within {}s", SLOT_TIMEOUT.as_secs())),
        Ok(Err(e)) => {
            let e = ApiError::new(ErrorCode::SourceError, e).scrub(password.as_deref());
            health.error = Some(e.message);
        }
        Ok(Ok((slots, problems))) => {
            health.capture_problems = problems;
            for s in &slots {
                let i = slot_info(s, warn_bytes);
                if s.slot == cfg.slot {
                    health.own = Some(i);
                } else {
                    health.others.push(i);
                }
            }
            if health.own.is_none() {
                health.error = Some(format!(
                    "the server has no slot {}: changes since it was dropped are lost; Reset re-creates it and keeps the cached events (the gap is recorded)",
                    cfg.slot
                ));
            }
        }
    }
    health
}

/// `list_sources`.
pub async fn list_sources(api: &Api, req: ListSourcesRequest) -> Result<SourceList, ApiError> {
    let a = api.clone();
    let (mut sources, configs) = api
        .with_cache(move |c| {
            let mut out = Vec::new();
            let mut configs = Vec::new();
            for rec in c.sources()? {
                out.push(source_info(&a, c, &rec)?);
                configs.push(if rec.kind == "postgres" {
                    serde_json::from_value::<PgSourceConfig>(rec.config.clone())
                        .ok()
                        .map(|cfg| (cfg, c.table_oids(rec.id).unwrap_or_default()))
                } else {
                    None
                });
            }
            Ok((out, configs))
        })
        .await?;
    if req.slots.unwrap_or(true) {
        let warn_bytes = (req.warn_retained_mib.unwrap_or(DEFAULT_WARN_RETAINED_MIB) as i64).saturating_mul(1024 * 1024);
        let mut asks = Vec::new();
        for (i, cfg) in configs.into_iter().enumerate() {
            if let Some((cfg, oids)) = cfg {
                let pw = api.password_for(&sources[i].name);
                asks.push((i, tokio::spawn(slot_health(cfg, oids, pw, warn_bytes))));
            }
        }
        for (i, h) in asks {
            if let Ok(h) = h.await {
                sources[i].slot = Some(h);
            }
        }
    }
    Ok(SourceList { sources })
}

// ------------------------------------------------------------------------------------------
// test_connection, plan_pg_source, create_pg_source
// ------------------------------------------------------------------------------------------

/// Try a PostgreSQL URL before adding it as a source. Creates nothing.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct TestConnectionRequest {
    /// `postgres://user@host:port/db?sslmode=…` (a password in it is used, never stored).
    pub url: String,
    /// The password (otherwise the URL's, or ROWTRAIL_PG_PASSWORD / PGPASSWORD).
    pub password: Option<String>,
}

/// Something the server lacks, with what fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Prerequisite {
    /// What is missing.
    pub problem: String,
    /// What to run or change.
    pub fix: String,
}

/// A table on the server, for the table picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PgTable {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// `schema.name`.
    pub qualified: String,
    /// `default`, `full`, `index` or `nothing`.
    pub replica_identity: String,
    /// The table has a primary key.
    pub has_primary_key: bool,
    /// The connected role may publish it (owns it or is superuser).
    pub can_publish: bool,
    /// Updates and deletes can be captured. Without a replica identity the table is captured
    /// for inserts only: publishing its updates would make every UPDATE/DELETE on it fail.
    pub has_replica_identity: bool,
    /// What the picker should say about it, if anything.
    pub note: Option<String>,
}

impl From<&TableInfo> for PgTable {
    fn from(t: &TableInfo) -> PgTable {
        let ident = t.has_replica_identity();
        let note = if !t.can_publish {
            Some("the connected role does not own this table, so it cannot be published".to_string())
        } else if !ident {
            Some(format!(
                "no replica identity (no primary key, identity {}): captured for inserts only; add a primary key or set REPLICA IDENTITY FULL to capture updates and deletes",
                t.replica_identity.to_uppercase()
            ))
        } else if t.replica_identity == "default" || t.replica_identity == "index" {
            Some("updates and deletes carry only the key: earlier values are inferred from Rowtrail's own history".to_string())
        } else {
            None
        };
        PgTable {
            schema: t.schema.clone(),
            name: t.name.clone(),
            qualified: format!("{}.{}", t.schema, t.name),
            replica_identity: t.replica_identity.clone(),
            has_primary_key: t.has_primary_key,
            can_publish: t.can_publish,
            has_replica_identity: ident,
            note,
        }
    }
}

/// What a connection test found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectionTest {
    /// The URL without password.
    pub target: String,
    /// The server answered and accepted the login.
    pub reachable: bool,
    /// Why not, if it did not.
    pub error: Option<String>,
    /// `server_version`, e.g. `16.4`.
    pub server_version: Option<String>,
    /// Missing settings or privileges, each with its fix; empty when capture can start.
    pub problems: Vec<Prerequisite>,
    /// The user tables, for picking.
    pub tables: Vec<PgTable>,
    /// The `rowtrail_%` slots already on the server.
    pub existing_slots: Vec<SlotInfo>,
}

fn parse_url(url: &str, password: Option<&str>) -> Result<(PgConnInfo, Option<String>), ApiError> {
    let mut info = PgConnInfo::parse(url).map_err(|m| ApiError::bad_request(format!("url: {m}")))?;
    if let Some(p) = password {
        info.password = Some(p.to_string());
    }
    if info.password.is_none() {
        info.password = std::env::var("ROWTRAIL_PG_PASSWORD").or_else(|_| std::env::var("PGPASSWORD")).ok();
    }
    let pw = info.password.clone();
    Ok((info, pw))
}

/// `test_connection`.
pub async fn test_connection(_api: &Api, req: TestConnectionRequest) -> Result<ConnectionTest, ApiError> {
    let (info, pw) = parse_url(&req.url, req.password.as_deref())?;
    let mut out = ConnectionTest {
        target: info.redacted_url(),
        reachable: false,
        error: None,
        server_version: None,
        problems: Vec::new(),
        tables: Vec::new(),
        existing_slots: Vec::new(),
    };
    let probe = async {
        let client = info.connect().await?;
        let version: String = client
            .query_one("SHOW server_version", &[])
            .await
            .map_err(|e| crate::source::postgres::conn::describe_pg_error(&e))?
            .get(0);
        let problems = catalog::check_prerequisites(&client).await?;
        let tables = catalog::list_tables(&client, &TableScope::All).await?;
        let slots = catalog::slot_statuses(&client).await.unwrap_or_default();
        Ok::<_, String>((version, problems, tables, slots))
    };
    match tokio::time::timeout(TEST_TIMEOUT, probe).await {
        Err(_) => out.error = Some(format!("{} did not answer within {}s", info.target(), TEST_TIMEOUT.as_secs())),
        Ok(Err(e)) => {
            out.error = Some(ApiError::new(ErrorCode::SourceError, format!("cannot connect to {}: {e}", info.target())).scrub(pw.as_deref()).message)
        }
        Ok(Ok((version, problems, tables, slots))) => {
            out.reachable = true;
            out.server_version = Some(version);
            out.problems = problems.into_iter().map(|p| Prerequisite { problem: p.problem, fix: p.fix }).collect();
            out.tables = tables.iter().map(PgTable::from).collect();
            let warn = (DEFAULT_WARN_RETAINED_MIB as i64) * 1024 * 1024;
            out.existing_slots = slots.iter().map(|s| slot_info(s, warn)).collect();
        }
    }
    Ok(out)
}

/// A PostgreSQL source to plan (or, with the plan's statements, to create).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct PgSourceRequest {
    /// Name for the source (letters, digits, `-`, `_`, `.`; names the slot `rowtrail_<name>`).
    pub name: String,
    /// `postgres://user@host:port/db?sslmode=…`.
    pub url: String,
    /// The password (used now and for watching during this session; never stored).
    pub password: Option<String>,
    /// Only these tables (`name` or `schema.name`); default every table.
    pub tables: Option<Vec<String>>,
    /// Only the tables of this schema.
    pub schema: Option<String>,
    /// Also record every current row once, as a baseline version.
    pub snapshot: Option<bool>,
}

/// Create a PostgreSQL source exactly as planned.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct CreatePgSourceRequest {
    /// As in `plan_pg_source`.
    pub name: String,
    /// As in `plan_pg_source`.
    pub url: String,
    /// As in `plan_pg_source`.
    pub password: Option<String>,
    /// As in `plan_pg_source`.
    pub tables: Option<Vec<String>>,
    /// As in `plan_pg_source`.
    pub schema: Option<String>,
    /// As in `plan_pg_source`.
    pub snapshot: Option<bool>,
    /// The plan's `statements` the user agreed to; if planning again gives different ones,
    /// nothing is created (`conflict`).
    pub statements: Vec<String>,
}

/// Exactly what adding a PostgreSQL source will create on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PgPlanInfo {
    /// The source name.
    pub name: String,
    /// The URL without password.
    pub url: String,
    /// The logical replication slot to create.
    pub slot: String,
    /// The publication for fully captured tables.
    pub publication: String,
    /// The inserts-only publication for tables without a replica identity, if any.
    pub insert_only_publication: Option<String>,
    /// Tables captured fully.
    pub tables: Vec<PgTable>,
    /// Tables captured for inserts only.
    pub insert_only_tables: Vec<PgTable>,
    /// What the user should know (partial images, inserts-only tables).
    pub warnings: Vec<String>,
    /// The SQL that will run, in order.
    pub statements: Vec<String>,
    /// A baseline of every current row will be recorded.
    pub snapshot: bool,
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "name: {:?} is not a usable source name; use up to 64 letters, digits, '-', '_' or '.'",
            name.chars().take(80).collect::<String>()
        )))
    }
}

fn scope_of(tables: &Option<Vec<String>>, schema: &Option<String>) -> Result<TableScope, ApiError> {
    match (tables, schema) {
        (Some(_), Some(_)) => Err(ApiError::bad_request("give either tables or schema, not both")),
        (Some(t), None) if t.is_empty() => Err(ApiError::bad_request("tables: pick at least one table")),
        (Some(t), None) => Ok(TableScope::List(t.clone())),
        (None, Some(s)) => Ok(TableScope::Schema(s.clone())),
        (None, None) => Ok(TableScope::All),
    }
}

async fn plan(api: &Api, req: &PgSourceRequest) -> Result<(sync::PgPlan, Option<String>), ApiError> {
    check_name(&req.name)?;
    let scope = scope_of(&req.tables, &req.schema)?;
    let (_, pw) = parse_url(&req.url, req.password.as_deref())?;
    let (name, url, snapshot, pw2) = (req.name.clone(), req.url.clone(), req.snapshot.unwrap_or(false), pw.clone());
    let plan = api
        .with_cache_async(move |cache| async move {
            Ok(sync::plan_postgres_source(&cache, &name, &url, pw2, scope, snapshot).await?)
        })
        .await
        .map_err(|e| e.scrub(pw.as_deref()))?;
    Ok((plan, pw))
}

fn plan_info(p: &sync::PgPlan) -> PgPlanInfo {
    PgPlanInfo {
        name: p.name.clone(),
        url: p.url.clone(),
        slot: p.plan.slot.clone(),
        publication: p.plan.publication.clone(),
        insert_only_publication: p.plan.insert_only_publication.clone(),
        tables: p.plan.tables.iter().map(PgTable::from).collect(),
        insert_only_tables: p.plan.insert_only_tables.iter().map(PgTable::from).collect(),
        warnings: p.plan.warnings.clone(),
        statements: p.plan.statements.clone(),
        snapshot: p.snapshot,
    }
}

/// `plan_pg_source`: connects, checks prerequisites, plans. Creates nothing.
pub async fn plan_pg_source(api: &Api, req: PgSourceRequest) -> Result<PgPlanInfo, ApiError> {
    let (p, _) = plan(api, &req).await?;
    Ok(plan_info(&p))
}

/// A source was added (and is being watched).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SourceAdded {
    /// The new source.
    pub source: SourceInfo,
    /// The watch task started for it.
    pub task: Option<TaskStarted>,
    /// The tables captured.
    pub tables: Vec<String>,
    /// What the user should know (inserts-only tables, tables keyed by rowid, …).
    pub warnings: Vec<String>,
}

/// `create_pg_source`: plans again, refuses if the plan differs from the one the user saw,
/// creates the slot and publications, registers the source and starts watching it.
pub async fn create_pg_source(api: &Api, req: CreatePgSourceRequest) -> Result<SourceAdded, ApiError> {
    let pr = PgSourceRequest {
        name: req.name.clone(),
        url: req.url.clone(),
        password: req.password.clone(),
        tables: req.tables.clone(),
        schema: req.schema.clone(),
        snapshot: req.snapshot,
    };
    let (p, pw) = plan(api, &pr).await?;
    if p.plan.statements != req.statements {
        return Err(ApiError::conflict(
            "the plan changed since it was shown (tables or their replica identity changed on the server); nothing was created: review the new plan and confirm again",
        ));
    }
    let info = plan_info(&p);
    let (p2, pw2) = (p.clone(), pw.clone());
    api.with_cache_async(move |cache| async move { Ok(sync::create_postgres_source(&cache, &p2, pw2).await?) })
        .await
        .map_err(|e| e.scrub(pw.as_deref()))?;
    api.remember_password(&req.name, pw.as_deref());
    let task = api.start_task(&req.name, TaskKind::Watch, pw).await?;
    api.emit(ServerEvent::SourcesChanged {});
    Ok(SourceAdded {
        source: one_source(api, &req.name).await?,
        task: Some(task),
        tables: info.tables.iter().chain(&info.insert_only_tables).map(|t| t.qualified.clone()).collect(),
        warnings: info.warnings,
    })
}

// ------------------------------------------------------------------------------------------
// add_sqlite_source, remove_source, pause, resume, sync, watch
// ------------------------------------------------------------------------------------------

/// Capture a SQLite database file (installs triggers and a `_rowtrail_log` table in it).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct AddSqliteSourceRequest {
    /// Name for the source.
    pub name: String,
    /// The database file, as a path on the machine running Rowtrail.
    pub path: String,
    /// Only these tables; default every table.
    pub tables: Option<Vec<String>>,
}

/// `add_sqlite_source`: installs capture, registers the source and starts watching it.
pub async fn add_sqlite_source(api: &Api, req: AddSqliteSourceRequest) -> Result<SourceAdded, ApiError> {
    check_name(&req.name)?;
    if req.path.trim().is_empty() {
        return Err(ApiError::bad_request("path: give the SQLite database file"));
    }
    let (name, path, tables) = (req.name.clone(), PathBuf::from(&req.path), req.tables.clone());
    let report = api
        .with_cache(move |c| Ok(sync::add_sqlite_source(c, &name, &path, tables.as_deref())?.1))
        .await?;
    let task = api.start_task(&req.name, TaskKind::Watch, None).await?;
    api.emit(ServerEvent::SourcesChanged {});
    let warnings = report
        .without_primary_key
        .iter()
        .map(|t| format!("{t} has no primary key: its records are keyed by rowid, which VACUUM may renumber"))
        .collect();
    Ok(SourceAdded {
        source: one_source(api, &req.name).await?,
        task: Some(task),
        tables: report.tables,
        warnings,
    })
}

/// Remove a source and its captured events.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct RemoveSourceRequest {
    /// The source.
    pub name: String,
    /// Also drop what Rowtrail created upstream: the slot and publications (PostgreSQL; frees
    /// the WAL the slot retains) or the triggers and log table (SQLite).
    pub drop_upstream: Option<bool>,
    /// PostgreSQL password for dropping the slot (otherwise the session's or the environment's).
    pub password: Option<String>,
}

/// A source was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SourceRemoved {
    /// The source.
    pub name: String,
    /// Its upstream objects were dropped too.
    pub dropped_upstream: bool,
}

/// `remove_source`: stops its task, drops upstream objects if asked, removes its events.
pub async fn remove_source(api: &Api, req: RemoveSourceRequest) -> Result<SourceRemoved, ApiError> {
    let n = req.name.clone();
    api.with_cache(move |c| Ok(c.source(&n).map(|_| ())?)).await?;
    api.inner.tasks.stop(&req.name).await;
    let drop = req.drop_upstream.unwrap_or(false);
    let pw = req.password.clone().or_else(|| api.password_for(&req.name));
    let (name, pw2) = (req.name.clone(), pw.clone());
    api.with_cache_async(move |mut cache| async move { Ok(sync::remove_source(&mut cache, &name, drop, pw2).await?) })
        .await
        .map_err(|e| e.scrub(pw.as_deref()))?;
    api.inner.positions.clear();
    api.inner.tasks.forget(&req.name);
    api.forget_password(&req.name);
    api.emit(ServerEvent::SourcesChanged {});
    Ok(SourceRemoved {
        name: req.name,
        dropped_upstream: drop,
    })
}

/// Names one source.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct SourceRequest {
    /// The source.
    pub name: String,
    /// PostgreSQL password for this session (otherwise the session's or the environment's).
    pub password: Option<String>,
}

/// `pause_source`: stops watching and remembers it, so the app does not resume it on start.
pub async fn pause_source(api: &Api, req: SourceRequest) -> Result<SourceInfo, ApiError> {
    let n = req.name.clone();
    api.with_cache(move |c| set_paused(c, &n, true)).await?;
    api.inner.tasks.stop(&req.name).await;
    api.mark_paused(&req.name, true);
    api.emit(ServerEvent::SourcesChanged {});
    one_source(api, &req.name).await
}

/// `resume_source`: clears the pause and starts watching.
pub async fn resume_source(api: &Api, req: SourceRequest) -> Result<SourceInfo, ApiError> {
    let n = req.name.clone();
    api.with_cache(move |c| set_paused(c, &n, false)).await?;
    api.mark_paused(&req.name, false);
    api.start_task(&req.name, TaskKind::Watch, req.password).await?;
    api.emit(ServerEvent::SourcesChanged {});
    one_source(api, &req.name).await
}

/// `sync_source`: catches up once in the background (progress arrives as events).
pub async fn sync_source(api: &Api, req: SourceRequest) -> Result<TaskStarted, ApiError> {
    api.start_task(&req.name, TaskKind::Sync, req.password).await
}

/// `watch_source`: follows the source in the background until paused (clears a pause).
pub async fn watch_source(api: &Api, req: SourceRequest) -> Result<TaskStarted, ApiError> {
    let n = req.name.clone();
    let was_paused = api
        .with_cache(move |c| {
            let p = is_paused(&c.source(&n)?);
            if p {
                set_paused(c, &n, false)?;
            }
            Ok(p)
        })
        .await?;
    if was_paused {
        api.emit(ServerEvent::SourcesChanged {});
    }
    api.start_task(&req.name, TaskKind::Watch, req.password).await
}

// ------------------------------------------------------------------------------------------
// plan_reset_source, reset_source
// ------------------------------------------------------------------------------------------

/// What resetting a PostgreSQL source will do on its server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ResetPlanInfo {
    /// The source.
    pub name: String,
    /// The slot.
    pub slot: String,
    /// Why: `missing`, `lost` or `ahead`.
    pub slot_state: String,
    /// The cache's position: the gap starts here.
    pub from_position: String,
    /// Cached events, all kept.
    pub cached_events: u64,
    /// The SQL that will run, in order.
    pub statements: Vec<String>,
}

/// Reset a PostgreSQL source exactly as planned.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct ResetSourceRequest {
    /// The source.
    pub name: String,
    /// PostgreSQL password for this session (otherwise the session's or the environment's).
    pub password: Option<String>,
    /// The plan's `statements` the user agreed to; if planning again gives different ones,
    /// nothing is changed (`conflict`).
    pub statements: Vec<String>,
}

async fn reset_plan(api: &Api, name: &str, password: Option<String>) -> Result<(sync::ResetPlan, Option<String>), ApiError> {
    // The session's password, else the environment's (password_for looks at both).
    let pw = password.or_else(|| api.password_for(name));
    let (n, pw2) = (name.to_string(), pw.clone());
    let plan = api
        .with_cache_async(move |cache| async move { Ok(sync::plan_reset(&cache, &n, pw2).await?) })
        .await
        .map_err(|e| e.scrub(pw.as_deref()))?;
    Ok((plan, pw))
}

/// `plan_reset_source`: what re-creating a lost, dropped or overtaken slot will run. Changes nothing.
pub async fn plan_reset_source(api: &Api, req: SourceRequest) -> Result<ResetPlanInfo, ApiError> {
    let (p, _) = reset_plan(api, &req.name, req.password).await?;
    Ok(ResetPlanInfo {
        name: p.name,
        slot: p.slot,
        slot_state: p.slot_state,
        from_position: p.from_position,
        cached_events: p.cached_events,
        statements: p.statements,
    })
}

/// `reset_source`: plans again, refuses if the plan differs from the one the user saw,
/// re-creates the slot (keeping the cached events and recording the gap) and watches the
/// source again unless it is paused.
pub async fn reset_source(api: &Api, req: ResetSourceRequest) -> Result<SourceInfo, ApiError> {
    let (p, pw) = reset_plan(api, &req.name, req.password.clone()).await?;
    if p.statements != req.statements {
        return Err(ApiError::conflict(
            "the reset plan changed since it was shown; nothing was changed: review the new plan and confirm again",
        ));
    }
    // Only now, with a plan that holds: a retrying watch must not write a checkpoint while
    // the reset moves it.
    api.inner.tasks.stop(&req.name).await;
    let (p2, pw2) = (p.clone(), pw.clone());
    api.with_cache_async(move |mut cache| async move { Ok(sync::apply_reset(&mut cache, &p2, pw2).await.map(|_| ())?) })
        .await
        .map_err(|e| e.scrub(pw.as_deref()))?;
    api.inner.positions.clear();
    api.remember_password(&req.name, pw.as_deref());
    let n = req.name.clone();
    let paused = api.with_cache(move |c| Ok(is_paused(&c.source(&n)?))).await?;
    if !paused {
        api.start_task(&req.name, TaskKind::Watch, pw).await?;
    }
    api.emit(ServerEvent::SourcesChanged {});
    one_source(api, &req.name).await
}
