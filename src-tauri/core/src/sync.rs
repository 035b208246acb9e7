//! Running sources into the cache, and adding, inspecting and removing them.
//!
//! These are the operations every face (CLI, desktop, HTTP) calls; they own the order of
//! steps (plan before create, flush before acknowledge) so the faces only present them.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cache::{Cache, Durable, SourceRecord, WriterHandle};
use crate::source::postgres::catalog::{self, SetupPlan, SlotStatus, TableScope};
use crate::source::postgres::conn::PgConnInfo;
use crate::source::postgres::drift;
use crate::source::postgres::snapshot;
use crate::source::postgres::{PgSource, PgSourceConfig};
use crate::source::sqlite::{self, SqliteSource};
use crate::source::{Progress, RunOptions, RunUntil, Source, SourceError, SourceState};

fn config_err(name: &str, message: impl Into<String>) -> SourceError {
    SourceError::Config {
        source_name: name.to_string(),
        message: message.into(),
    }
}

/// Reads one source into the cache as `opts` says. `password` is used by PostgreSQL sources
/// (the cache never stores one).
///
/// The value-search index is not brought up to date here: indexing costs several times what
/// storing does, so capture never waits for it. A search indexes what is pending before it
/// runs, and the desktop and `serve` index in the background while capture is quiet.
pub async fn run_source(
    cache_path: &Path,
    name: &str,
    password: Option<String>,
    opts: &RunOptions,
) -> Result<Durable, SourceError> {
    let cache = Cache::open(cache_path)?;
    let rec = cache.source(name)?;
    let mut writer = WriterHandle::spawn(cache_path, rec.id)?;
    let res = match rec.kind.as_str() {
        "postgres" => {
            let cfg: PgSourceConfig = serde_json::from_value(rec.config.clone())
                .map_err(|e| config_err(name, format!("stored settings unreadable: {e}")))?;
            // Each table warning is told once per workspace: the cache remembers those told.
            let notes = std::sync::Mutex::new(cache.reopen()?);
            let source_id = rec.id;
            let mut source = PgSource::new(name, cfg, password)?.with_warn_once(Box::new(move |w| {
                notes
                    .lock()
                    .ok()
                    .and_then(|c| c.record_table_warning(source_id, &w.schema, &w.table, &w.kind, &w.message).ok())
                    .unwrap_or(true)
            }))
            .with_cache_oids(cache.table_oids(rec.id)?);
            run_retrying(&mut source, name, &mut writer, opts).await
        }
        "sqlite" => {
            let mut source = SqliteSource::new(name, &sqlite_path(&rec)?);
            run_retrying(&mut source, name, &mut writer, opts).await
        }
        other => Err(config_err(name, format!("unknown source kind {other:?}"))),
    };
    // Whatever happened, keep what was read.
    let closed = writer.close().await;
    res?;
    closed.map_err(SourceError::from)
}

/// Runs `source`, outliving passing trouble — a dropped connection, a restarted server, an
/// application holding a write lock for long: a transient failure is reported as
/// reconnecting and the source starts again from the writer's durable position after a pause
/// (0.5 s, doubling up to 30 s). A following run retries for as long as it is not cancelled;
/// a catch-up gives up after 5 failures in a row, so `rowtrail sync` ends.
async fn run_retrying(
    source: &mut impl Source,
    name: &str,
    writer: &mut WriterHandle,
    opts: &RunOptions,
) -> Result<(), SourceError> {
    const CATCH_UP_RETRIES: u32 = 5;
    let mut delay = std::time::Duration::from_millis(500);
    let mut failures = 0;
    loop {
        match source.run(writer, opts).await {
            // Stopping while the connection drops is still a clean stop.
            Err(e) if e.is_transient() && opts.cancel.is_cancelled() => return Ok(()),
            Err(e) if e.is_transient() && (opts.until == RunUntil::Cancelled || failures < CATCH_UP_RETRIES) => {
                failures += 1;
                let d = writer.durable();
                opts.report(Progress {
                    source: name.to_string(),
                    state: SourceState::Reconnecting,
                    events: d.events,
                    transactions: d.transactions,
                    position: d.position,
                    behind: None,
                    message: Some(format!("{}; retrying in {:.1}s", without_source_name(&e, name), delay.as_secs_f64())),
                });
                tokio::select! {
                    _ = opts.cancel.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(std::time::Duration::from_secs(30));
            }
            other => return other,
        }
    }
}

/// An error's text without its leading "source NAME: ": progress messages travel with the
/// source's name already, and every face prints it before them.
fn without_source_name(e: &SourceError, name: &str) -> String {
    let text = e.to_string();
    match text.strip_prefix(&format!("source {name}: ")) {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

fn sqlite_path(rec: &SourceRecord) -> Result<PathBuf, SourceError> {
    rec.config
        .get("path")
        .and_then(|p| p.as_str())
        .map(PathBuf::from)
        .ok_or_else(|| config_err(&rec.name, "stored settings lack the database path"))
}

/// What adding a PostgreSQL source will do, for the user to confirm.
#[derive(Debug, Clone, Serialize)]
pub struct PgPlan {
    /// The source name.
    pub name: String,
    /// The URL without password.
    pub url: String,
    /// Objects to create and their SQL.
    pub plan: SetupPlan,
    /// The table scope asked for.
    #[serde(skip)]
    pub scope: TableScope,
    /// Record every current row once as a baseline version.
    pub snapshot: bool,
    /// Logical-message prefixes to read as transaction context besides `rowtrail`; empty
    /// unless the caller sets them after planning.
    pub context_prefixes: Vec<String>,
}

/// Choices for [`plan_postgres_source_with`] beyond the table scope.
#[derive(Debug, Clone, Default)]
pub struct PgPlanChoices {
    /// Use a publication that already exists under the source's name as it is, instead of
    /// refusing (`--reuse-publication`).
    pub reuse_publication: bool,
}

/// Connects, checks prerequisites and plans a PostgreSQL source. Creates nothing.
pub async fn plan_postgres_source(
    cache: &Cache,
    name: &str,
    url: &str,
    password: Option<String>,
    scope: TableScope,
    snapshot: bool,
) -> Result<PgPlan, SourceError> {
    plan_postgres_source_with(cache, name, url, password, scope, snapshot, &PgPlanChoices::default()).await
}

/// [`plan_postgres_source`] with `choices`. Everything the plan would create is checked first:
/// a slot or publication of the same name already on the server, or a source of this
/// workspace using the same slot name (names differing only in case map to one slot), stops
/// the plan with what to do instead.
pub async fn plan_postgres_source_with(
    cache: &Cache,
    name: &str,
    url: &str,
    password: Option<String>,
    scope: TableScope,
    snapshot: bool,
    choices: &PgPlanChoices,
) -> Result<PgPlan, SourceError> {
    if cache.source(name).is_ok() {
        return Err(crate::cache::CacheError::SourceExists(name.to_string()).into());
    }
    let slot = catalog::object_name(name);
    for other in cache.sources()? {
        if other.kind == "postgres" && other.config.get("slot").and_then(|v| v.as_str()) == Some(slot.as_str()) {
            return Err(config_err(
                name,
                format!(
                    "source {} of this workspace already uses the slot and publication name {slot} (source names that differ only in case or punctuation, or after 40 characters, share it); choose another name",
                    other.name
                ),
            ));
        }
    }
    let mut info = PgConnInfo::parse(url).map_err(|m| config_err(name, m))?;
    if password.is_some() {
        info.password = password;
    }
    let client = connect(name, &info).await?;
    let problems = catalog::check_prerequisites(&client).await.map_err(|m| config_err(name, m))?;
    if let Some(p) = problems.into_iter().next() {
        return Err(SourceError::Prerequisite {
            source_name: name.to_string(),
            problem: p.problem,
            fix: p.fix,
        });
    }
    let tables = catalog::list_tables(&client, &scope).await.map_err(|m| config_err(name, m))?;
    let opts = catalog::PlanOptions {
        server_version_num: catalog::server_version_num(&client).await.map_err(|m| config_err(name, m))?,
        schema: match &scope {
            TableScope::Schema(s) => Some(s.clone()),
            _ => None,
        },
        superuser: catalog::is_superuser(&client).await.map_err(|m| config_err(name, m))?,
    };
    let mut plan = catalog::plan_setup(name, tables, &opts).map_err(|m| config_err(name, m))?;
    let existing = catalog::slot_statuses(&client).await.map_err(|m| config_err(name, m))?;
    if let Some(s) = existing.iter().find(|s| s.slot == plan.slot) {
        // Never suggest dropping a slot someone streams from.
        let hint = if s.active {
            "a client is streaming from it now (another Rowtrail cache?), so choose another source name".to_string()
        } else {
            format!(
                "no client streams from it now. Choose another source name; or, if it is a leftover of a source removed without --drop-slot and no other Rowtrail cache uses it (it holds WAL on the server: see `rowtrail source status`), drop it with SELECT pg_drop_replication_slot('{}')",
                plan.slot
            )
        };
        return Err(config_err(name, format!("a replication slot {} already exists on the server: {hint}", plan.slot)));
    }
    let taken = catalog::existing_publications(&client, &plan.publications())
        .await
        .map_err(|m| config_err(name, m))?;
    if !taken.is_empty() {
        if !choices.reuse_publication {
            return Err(config_err(
                name,
                format!(
                    "{} already exist{} in database {}: {}. Nothing was created. To capture through {} as {} {}, add --reuse-publication (Rowtrail will not alter or drop {}); or choose another source name",
                    if taken.len() == 1 { "a publication of that name" } else { "publications of those names" },
                    if taken.len() == 1 { "s" } else { "" },
                    info.dbname,
                    taken.iter().map(|p| p.describe()).collect::<Vec<_>>().join("; "),
                    if taken.len() == 1 { "it" } else { "them" },
                    if taken.len() == 1 { "it" } else { "they" },
                    if taken.len() == 1 { "is" } else { "are" },
                    if taken.len() == 1 { "it" } else { "them" },
                ),
            ));
        }
        plan.reuse(taken);
    }
    if snapshot {
        if let Some(last) = plan.statements.last_mut() {
            *last = format!(
                "CREATE_REPLICATION_SLOT \"{}\" LOGICAL pgoutput (SNAPSHOT 'export')  -- then read every row of the tables once, as the baseline",
                plan.slot
            );
        }
    }
    Ok(PgPlan {
        name: name.to_string(),
        url: info.redacted_url(),
        plan,
        scope,
        snapshot,
        context_prefixes: Vec::new(),
    })
}

/// Creates what `plan` lists on the server and registers the source in the cache; with a
/// snapshot, also stores the baseline rows. On failure, removes what this run created and
/// nothing else.
pub async fn create_postgres_source(
    cache: &Cache,
    plan: &PgPlan,
    password: Option<String>,
) -> Result<SourceRecord, SourceError> {
    let mut info = PgConnInfo::parse(&plan.url).map_err(|m| config_err(&plan.name, m))?;
    info.password = password;
    let client = connect(&plan.name, &info).await?;
    let created = catalog::apply_setup(&client, &plan.plan, !plan.snapshot)
        .await
        .map_err(|m| config_err(&plan.name, format!("setup failed: {m}")))?;
    // Each table's identity now, so a table dropped or re-created later is noticed.
    let names: Vec<(String, String)> = plan
        .plan
        .tables
        .iter()
        .chain(&plan.plan.insert_only_tables)
        .map(|t| (t.schema.clone(), t.name.clone()))
        .collect();
    let tables = drift::table_oids(&client, &names).await.unwrap_or_default();
    let cfg = PgSourceConfig {
        tables,
        url: plan.url.clone(),
        slot: plan.plan.slot.clone(),
        publications: plan.plan.publications(),
        scope: plan.scope.clone(),
        context_prefixes: plan.context_prefixes.clone(),
        reused_publications: plan.plan.reused_publications.iter().map(|p| p.name.clone()).collect(),
        schema_publication: plan.plan.schema_publication.clone(),
    };
    let value = serde_json::to_value(&cfg).map_err(|e| config_err(&plan.name, e.to_string()))?;
    let registered = async {
        let rec = cache.add_source(&plan.name, "postgres", &value)?;
        // What `source add` just said about each table is not said again by the stream.
        for w in &plan.plan.table_warnings {
            cache.record_table_warning(rec.id, &w.schema, &w.table, &w.kind, &w.message)?;
        }
        if plan.snapshot {
            let mut writer = WriterHandle::spawn(cache.path(), rec.id)?;
            let tables: Vec<_> = plan.plan.tables.iter().chain(&plan.plan.insert_only_tables).cloned().collect();
            let copied = snapshot::create_slot_with_snapshot(
                &plan.name,
                &info,
                &cfg.slot,
                cfg.publications.clone(),
                &tables,
                &mut writer,
            )
            .await;
            let closed = writer.close().await;
            copied?;
            closed?;
        }
        Ok::<_, SourceError>(rec)
    }
    .await;
    match registered {
        Ok(r) => Ok(r),
        Err(e) => {
            // The snapshot creates the slot itself; a slot of that name did not exist at
            // planning, so one there now is this run's.
            let _ = catalog::drop_objects(&client, &cfg.slot, &created.publications, true).await;
            if let Ok(mut c) = cache.reopen() {
                let _ = c.remove_source(&plan.name);
            }
            Err(e)
        }
    }
}

/// The database file a new SQLite source `name` would read, once the name is known free.
fn new_sqlite_path(cache: &Cache, name: &str, path: &Path) -> Result<PathBuf, SourceError> {
    if cache.source(name).is_ok() {
        return Err(crate::cache::CacheError::SourceExists(name.to_string()).into());
    }
    let path = path
        .canonicalize()
        .map_err(|e| config_err(name, format!("cannot open {}: {e}", path.display())))?;
    // Said here, under the name the user gave: the installer knows only the file.
    if path.is_dir() {
        return Err(config_err(name, format!("{} is a folder; give the SQLite database file inside it", path.display())));
    }
    Ok(path)
}

/// What adding SQLite source `name` will create in the database, for the user to confirm
/// before [`add_sqlite_source`]; changes nothing.
pub fn plan_sqlite_source(
    cache: &Cache,
    name: &str,
    path: &Path,
    tables: Option<&[String]>,
) -> Result<sqlite::InstallPlan, SourceError> {
    sqlite::plan_install(&new_sqlite_path(cache, name, path)?, tables).map_err(|e| e.named(name))
}

/// Installs capture triggers in a SQLite database and registers it as a source.
pub fn add_sqlite_source(
    cache: &Cache,
    name: &str,
    path: &Path,
    tables: Option<&[String]>,
) -> Result<(SourceRecord, sqlite::InstallReport), SourceError> {
    let path = new_sqlite_path(cache, name, path)?;
    let report = sqlite::install(&path, tables).map_err(|e| e.named(name))?;
    let rec = cache.add_source(name, "sqlite", &serde_json::json!({ "path": path }))?;
    Ok((rec, report))
}

/// The SQLite database of source `name`, which must be a SQLite source.
fn sqlite_source_path(cache: &Cache, name: &str) -> Result<PathBuf, SourceError> {
    let rec = cache.source(name)?;
    if rec.kind != "sqlite" {
        return Err(config_err(
            name,
            format!("source {name} is a {} source; refresh re-creates the capture triggers of SQLite sources", rec.kind),
        ));
    }
    sqlite_path(&rec)
}

/// What refreshing SQLite source `name`'s capture triggers will change, for the user to
/// confirm before [`refresh_sqlite_source`] (it changes the database's schema).
pub fn plan_sqlite_refresh(cache: &Cache, name: &str) -> Result<sqlite::RefreshPlan, SourceError> {
    sqlite::plan_refresh(&sqlite_source_path(cache, name)?)
}

/// Re-creates SQLite source `name`'s capture triggers on the tables it captures, with their
/// current columns (after `ALTER TABLE … ADD COLUMN`, or a table created again).
pub fn refresh_sqlite_source(cache: &Cache, name: &str) -> Result<sqlite::InstallReport, SourceError> {
    sqlite::refresh(&sqlite_source_path(cache, name)?)
}

/// What [`remove_source`] did and left behind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RemoveOutcome {
    /// Cached events deleted with the source.
    pub events_deleted: u64,
    /// Objects that stay on the server (a slot keeps holding WAL there until dropped).
    pub left_on_server: Vec<String>,
    /// The SQL that drops them, for whoever decides to.
    pub drop_sql: Vec<String>,
}

/// Number of events cached from a source.
pub fn cached_events(cache: &Cache, name: &str) -> Result<u64, SourceError> {
    let rec = cache.source(name)?;
    let n: i64 = cache
        .conn()
        .query_row(
            "SELECT coalesce(sum(event_count), 0) FROM transactions WHERE source_id = ?1",
            [rec.id],
            |r| r.get(0),
        )
        .map_err(crate::cache::CacheError::from)?;
    Ok(n as u64)
}

/// What removing `name` without dropping upstream objects leaves on a PostgreSQL server (empty
/// for other kinds), with the SQL that drops it.
pub fn left_on_server(rec: &SourceRecord) -> (Vec<String>, Vec<String>) {
    let Ok(cfg) = serde_json::from_value::<PgSourceConfig>(rec.config.clone()) else { return (Vec::new(), Vec::new()) };
    if rec.kind != "postgres" {
        return (Vec::new(), Vec::new());
    }
    let ours: Vec<&String> = cfg.publications.iter().filter(|p| !cfg.reused_publications.contains(p)).collect();
    let mut left = vec![format!("replication slot {} (it keeps holding WAL on the server until dropped)", cfg.slot)];
    left.extend(ours.iter().map(|p| format!("publication {p}")));
    let mut sql = vec![format!("SELECT pg_drop_replication_slot({})", catalog::quote_literal(&cfg.slot))];
    sql.extend(ours.iter().map(|p| format!("DROP PUBLICATION {}", catalog::quote_ident(p))));
    (left, sql)
}

/// Removes a source and its cached events; with `drop_upstream`, also its slot and the
/// publications Rowtrail created (PostgreSQL; reused ones stay) or its triggers and log table
/// (SQLite).
pub async fn remove_source(
    cache: &mut Cache,
    name: &str,
    drop_upstream: bool,
    password: Option<String>,
) -> Result<RemoveOutcome, SourceError> {
    let rec = cache.source(name)?;
    let mut out = RemoveOutcome { events_deleted: cached_events(cache, name)?, ..Default::default() };
    if drop_upstream {
        match rec.kind.as_str() {
            "postgres" => {
                let cfg: PgSourceConfig = serde_json::from_value(rec.config.clone())
                    .map_err(|e| config_err(name, e.to_string()))?;
                let mut info = PgConnInfo::parse(&cfg.url).map_err(|m| config_err(name, m))?;
                if password.is_some() {
                    info.password = password;
                }
                let client = connect(name, &info).await?;
                let reused = &cfg.reused_publications;
                let ours: Vec<String> = cfg.publications.iter().filter(|p| !reused.contains(p)).cloned().collect();
                catalog::drop_objects(&client, &cfg.slot, &ours, true)
                    .await
                    .map_err(|m| config_err(name, format!("cannot drop slot {}: {m}", cfg.slot)))?;
                out.left_on_server = reused.iter().map(|p| format!("publication {p} (reused, not Rowtrail's)")).collect();
            }
            "sqlite" => sqlite::uninstall(&sqlite_path(&rec)?)?,
            _ => {}
        }
    } else {
        (out.left_on_server, out.drop_sql) = left_on_server(&rec);
    }
    cache.remove_source(name)?;
    Ok(out)
}

/// What `source reset` will do for a PostgreSQL source whose slot is gone, invalidated or ahead
/// of the cache: re-create the slot (and any missing publication) and keep the cached events,
/// recording the stretch in between as a gap.
#[derive(Debug, Clone, Serialize)]
pub struct ResetPlan {
    /// The source.
    pub name: String,
    /// The URL without password.
    pub url: String,
    /// The slot.
    pub slot: String,
    /// Why a reset is needed: `missing`, `lost` or `ahead`.
    pub slot_state: String,
    /// The cache's position: the gap starts here.
    pub from_position: String,
    /// Cached events, all kept.
    pub cached_events: u64,
    /// The SQL that will run, in order (the last creates the new slot).
    pub statements: Vec<String>,
}

fn pg_source(rec: &SourceRecord) -> Result<PgSourceConfig, SourceError> {
    if rec.kind != "postgres" {
        return Err(config_err(&rec.name, format!("only PostgreSQL sources have a slot to reset ({} is a {} source)", rec.name, rec.kind)));
    }
    serde_json::from_value(rec.config.clone()).map_err(|e| config_err(&rec.name, format!("stored settings unreadable: {e}")))
}

/// Plans `source reset NAME`. Creates nothing; refuses when the slot is healthy (a sync
/// resumes without a gap) or in use.
pub async fn plan_reset(cache: &Cache, name: &str, password: Option<String>) -> Result<ResetPlan, SourceError> {
    let rec = cache.source(name)?;
    let cfg = pg_source(&rec)?;
    let mut info = PgConnInfo::parse(&cfg.url).map_err(|m| config_err(name, m))?;
    if password.is_some() {
        info.password = password;
    }
    let client = connect(name, &info).await?;
    let cached = cache.checkpoint(rec.id)?;
    let (from_position, from_num) = cached.clone().unwrap_or_else(|| ("0/0".into(), 0));
    let row = client
        .query_opt(
            "SELECT active, wal_status::text, confirmed_flush_lsn::text, active_pid FROM pg_replication_slots WHERE slot_name = $1",
            &[&cfg.slot],
        )
        .await
        .map_err(|e| config_err(name, crate::source::postgres::conn::describe_pg_error(&e)))?;
    let mut statements = Vec::new();
    let slot_state = match &row {
        None => "missing".to_string(),
        Some(r) => {
            if r.get::<_, bool>(0) {
                let pid: Option<i32> = r.get(3);
                return Err(config_err(
                    name,
                    format!(
                        "slot {} is in use by a running client (server process {}): stop it first (a `rowtrail watch` or the app watching this source); nothing was changed",
                        cfg.slot,
                        pid.map_or("?".into(), |p| p.to_string())
                    ),
                ));
            }
            let confirmed = r
                .get::<_, Option<String>>(2)
                .and_then(|s| crate::source::postgres::pgoutput::parse_lsn(&s))
                .unwrap_or(0) as i64;
            let state = if r.get::<_, Option<String>>(1).as_deref() == Some("lost") {
                "lost"
            } else if cached.is_some() && confirmed > from_num + 1 {
                "ahead"
            } else {
                return Err(config_err(
                    name,
                    format!(
                        "slot {} is healthy and holds every change since the cache's position {from_position}: `rowtrail sync {name}` resumes without a gap, so there is nothing to reset",
                        cfg.slot
                    ),
                ));
            };
            statements.push(format!("SELECT pg_drop_replication_slot({})", catalog::quote_literal(&cfg.slot)));
            state.to_string()
        }
    };
    // Publications outlive an invalidated slot; re-create only the missing ones, as planned
    // for the stored scope.
    let existing = catalog::existing_publications(&client, &cfg.publications)
        .await
        .map_err(|m| config_err(name, m))?;
    let missing: Vec<&String> = cfg.publications.iter().filter(|p| !existing.iter().any(|e| &e.name == *p)).collect();
    if !missing.is_empty() {
        if let Some(p) = missing.iter().find(|p| cfg.reused_publications.contains(p)) {
            return Err(config_err(name, format!("publication {p}, which this source reused as it was, no longer exists: create it again first; nothing was changed")));
        }
        let tables = catalog::list_tables(&client, &cfg.scope).await.map_err(|m| config_err(name, m))?;
        let opts = catalog::PlanOptions {
            server_version_num: catalog::server_version_num(&client).await.map_err(|m| config_err(name, m))?,
            schema: cfg.schema_publication.clone(),
            superuser: catalog::is_superuser(&client).await.map_err(|m| config_err(name, m))?,
        };
        let plan = catalog::plan_setup(name, tables, &opts).map_err(|m| config_err(name, m))?;
        for p in missing {
            let create = format!("CREATE PUBLICATION {} ", catalog::quote_ident(p));
            match plan.statements.iter().find(|s| s.starts_with(&create)) {
                Some(s) => statements.push(s.clone()),
                None => {
                    return Err(config_err(
                        name,
                        format!("publication {p} is missing and the tables of this source no longer call for it; remove the source and add it again; nothing was changed"),
                    ))
                }
            }
        }
    }
    statements.push(format!("SELECT pg_create_logical_replication_slot({}, 'pgoutput')", catalog::quote_literal(&cfg.slot)));
    Ok(ResetPlan {
        name: name.to_string(),
        url: info.redacted_url(),
        slot: cfg.slot,
        slot_state,
        from_position,
        cached_events: cached_events(cache, name)?,
        statements,
    })
}

/// Carries out a [`ResetPlan`]: runs its SQL, then records the gap from the cache's position to
/// the new slot's start and moves the source's checkpoint there. Cached events stay.
pub async fn apply_reset(cache: &mut Cache, plan: &ResetPlan, password: Option<String>) -> Result<crate::cache::notes::Gap, SourceError> {
    let name = plan.name.as_str();
    let rec = cache.source(name)?;
    let mut info = PgConnInfo::parse(&plan.url).map_err(|m| config_err(name, m))?;
    info.password = password;
    let client = connect(name, &info).await?;
    let (last, rest) = plan.statements.split_last().ok_or_else(|| config_err(name, "empty reset plan"))?;
    for sql in rest {
        client
            .batch_execute(sql)
            .await
            .map_err(|e| config_err(name, format!("{sql}: {}; the slot was not re-created", crate::source::postgres::conn::describe_pg_error(&e))))?;
    }
    let row = client
        .query_one(
            &format!("SELECT lsn::text FROM pg_create_logical_replication_slot({}, 'pgoutput')", catalog::quote_literal(&plan.slot)),
            &[],
        )
        .await
        .map_err(|e| config_err(name, format!("{last}: {}", crate::source::postgres::conn::describe_pg_error(&e))))?;
    let lsn_text: String = row.get(0);
    let lsn = crate::source::postgres::pgoutput::parse_lsn(&lsn_text)
        .ok_or_else(|| config_err(name, format!("unreadable slot position {lsn_text:?}")))?;
    // One byte before the slot's start, as for a snapshot: a transaction committing exactly
    // there is still read.
    let gap = cache.record_gap(
        rec.id,
        &crate::source::postgres::pgoutput::format_lsn(lsn),
        lsn as i64 - 1,
        &format!("slot {} was {} and re-created by `rowtrail source reset`", plan.slot, match plan.slot_state.as_str() {
            "missing" => "dropped",
            "lost" => "invalidated by the server",
            _ => "ahead of the cache",
        }),
    )?;
    Ok(gap)
}

/// One source's health for `source status`.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    /// The source.
    pub source: SourceRecord,
    /// PostgreSQL: every `rowtrail_%` slot on its server (ours and others'), each with the
    /// source of this workspace that uses it, if any.
    pub slots: Vec<SlotStatus>,
    /// Why the server could not be asked, if it could not.
    pub error: Option<String>,
    /// The server (`host:port`) the slots are on; sources on one server share its slots.
    pub server: Option<String>,
    /// What the source should do about its own slot (`source reset` when it is lost, gone or
    /// ahead of the cache).
    pub advice: Option<String>,
    /// PostgreSQL: holes in the capture made on the server behind Rowtrail's back (a table
    /// taken out of the publication, dropped, or dropped and created again), one sentence each.
    pub problems: Vec<String>,
}

/// Status of every source (asks each PostgreSQL server once for its slots).
pub async fn source_statuses(cache: &Cache, password: Option<String>) -> Result<Vec<SourceStatus>, SourceError> {
    let sources = cache.sources()?;
    let slot_owner = |slot: &str| {
        sources
            .iter()
            .find(|r| r.kind == "postgres" && r.config.get("slot").and_then(|v| v.as_str()) == Some(slot))
            .map(|r| r.name.clone())
    };
    let mut asked: std::collections::HashMap<String, Result<Vec<SlotStatus>, String>> = Default::default();
    let mut out = Vec::new();
    for rec in &sources {
        let mut st = SourceStatus {
            source: rec.clone(),
            slots: Vec::new(),
            error: None,
            server: None,
            advice: None,
            problems: Vec::new(),
        };
        if rec.kind == "postgres" {
            let parsed = serde_json::from_value::<PgSourceConfig>(rec.config.clone())
                .map_err(|e| e.to_string())
                .and_then(|cfg| Ok((PgConnInfo::parse(&cfg.url)?, cfg)));
            match parsed {
                Err(e) => st.error = Some(e),
                Ok((mut info, cfg)) => {
                    if password.is_some() {
                        info.password = password.clone();
                    }
                    let server = format!("{}:{}", info.host, info.port);
                    if !asked.contains_key(&server) {
                        let r = async {
                            let client = info.connect().await?;
                            catalog::slot_statuses(&client).await
                        }
                        .await;
                        asked.insert(server.clone(), r);
                    }
                    match &asked[&server] {
                        Ok(slots) => {
                            st.slots = slots
                                .iter()
                                .map(|s| SlotStatus { used_by: slot_owner(&s.slot), ..s.clone() })
                                .collect();
                            let own = slots.iter().find(|s| s.slot == cfg.slot);
                            let durable = cache.checkpoint(rec.id)?.map(|c| c.1);
                            let ahead = match (own.and_then(|s| s.confirmed_flush.as_deref()), durable) {
                                (Some(c), Some(d)) => crate::source::postgres::pgoutput::parse_lsn(c).is_some_and(|c| c as i64 > d + 1),
                                _ => false,
                            };
                            st.advice = match own {
                                None => Some(format!("slot {} no longer exists on the server: changes since the cache's position are lost; `rowtrail source reset {}` re-creates it and keeps the cached events (the gap is recorded)", cfg.slot, rec.name)),
                                Some(s) if s.wal_status.as_deref() == Some("lost") => Some(format!("the server invalidated slot {}: changes since the cache's position are lost; `rowtrail source reset {}` re-creates it and keeps the cached events (the gap is recorded)", cfg.slot, rec.name)),
                                Some(_) if ahead => Some(format!("slot {} is ahead of the cache (another client acknowledged changes); `rowtrail source reset {}` re-creates it and keeps the cached events (the gap is recorded)", cfg.slot, rec.name)),
                                _ => None,
                            };
                            // Publications and tables are per database: ask the source's own.
                            let oids = cache.table_oids(rec.id)?;
                            let drift = async {
                                let client = info.connect().await?;
                                drift::capture_drift(&client, &cfg, &oids).await
                            }
                            .await;
                            st.problems = match drift {
                                Ok(p) => p,
                                Err(e) => vec![format!("could not check the publication's tables: {e}")],
                            };
                        }
                        Err(e) => st.error = Some(e.clone()),
                    }
                    st.server = Some(server);
                }
            }
        }
        out.push(st);
    }
    Ok(out)
}

async fn connect(name: &str, info: &PgConnInfo) -> Result<tokio_postgres::Client, SourceError> {
    info.connect().await.map_err(|detail| SourceError::Connect {
        source_name: name.to_string(),
        target: info.target(),
        detail,
    })
}
