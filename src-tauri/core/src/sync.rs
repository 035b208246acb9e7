//! Running sources into the cache, and adding, inspecting and removing them.
//!
//! These are the operations every face (CLI, desktop, HTTP) calls; they own the order of
//! steps (plan before create, flush before acknowledge) so the faces only present them.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cache::{Cache, Durable, SourceRecord, WriterHandle};
use crate::source::postgres::catalog::{self, SetupPlan, SlotStatus, TableScope};
use crate::source::postgres::conn::PgConnInfo;
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
            let mut source = PgSource::new(name, cfg, password)?;
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

/// Connects, checks prerequisites and plans a PostgreSQL source. Creates nothing.
pub async fn plan_postgres_source(
    cache: &Cache,
    name: &str,
    url: &str,
    password: Option<String>,
    scope: TableScope,
    snapshot: bool,
) -> Result<PgPlan, SourceError> {
    if cache.source(name).is_ok() {
        return Err(crate::cache::CacheError::SourceExists(name.to_string()).into());
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
    let version = catalog::server_version_num(&client).await.map_err(|m| config_err(name, m))?;
    let mut plan = catalog::plan_setup(name, tables, version).map_err(|m| config_err(name, m))?;
    if snapshot {
        if let Some(last) = plan.statements.last_mut() {
            *last = format!(
                "CREATE_REPLICATION_SLOT \"{}\" LOGICAL pgoutput (SNAPSHOT 'export')  -- then read every row of the tables once, as the baseline",
                plan.slot
            );
        }
    }
    let existing = catalog::slot_statuses(&client).await.map_err(|m| config_err(name, m))?;
    if existing.iter().any(|s| s.slot == plan.slot) {
        return Err(config_err(
            name,
            format!(
                "a replication slot {} already exists on the server (another Rowtrail cache uses this name?); choose another source name or drop it with SELECT pg_drop_replication_slot('{}')",
                plan.slot, plan.slot
            ),
        ));
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
/// snapshot, also stores the baseline rows. On failure, removes what it created.
pub async fn create_postgres_source(
    cache: &Cache,
    plan: &PgPlan,
    password: Option<String>,
) -> Result<SourceRecord, SourceError> {
    let mut info = PgConnInfo::parse(&plan.url).map_err(|m| config_err(&plan.name, m))?;
    info.password = password;
    let client = connect(&plan.name, &info).await?;
    catalog::apply_setup(&client, &plan.plan, !plan.snapshot)
        .await
        .map_err(|m| config_err(&plan.name, format!("setup failed, nothing was left on the server: {m}")))?;
    let cfg = PgSourceConfig {
        url: plan.url.clone(),
        slot: plan.plan.slot.clone(),
        publications: plan.plan.publications(),
        scope: plan.scope.clone(),
        context_prefixes: plan.context_prefixes.clone(),
    };
    let value = serde_json::to_value(&cfg).map_err(|e| config_err(&plan.name, e.to_string()))?;
    let registered = async {
        let rec = cache.add_source(&plan.name, "postgres", &value)?;
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
            let _ = catalog::drop_objects(&client, &cfg.slot, &cfg.publications, true).await;
            if let Ok(mut c) = cache.reopen() {
                let _ = c.remove_source(&plan.name);
            }
            Err(e)
        }
    }
}

/// Installs capture triggers in a SQLite database and registers it as a source.
pub fn add_sqlite_source(
    cache: &Cache,
    name: &str,
    path: &Path,
    tables: Option<&[String]>,
) -> Result<(SourceRecord, sqlite::InstallReport), SourceError> {
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
    let report = sqlite::install(&path, tables)?;
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

/// Removes a source from the cache; with `drop_upstream`, also its slot and publications
/// (PostgreSQL) or its triggers and log table (SQLite).
pub async fn remove_source(
    cache: &mut Cache,
    name: &str,
    drop_upstream: bool,
    password: Option<String>,
) -> Result<(), SourceError> {
    let rec = cache.source(name)?;
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
                catalog::drop_objects(&client, &cfg.slot, &cfg.publications, true)
                    .await
                    .map_err(|m| config_err(name, format!("cannot drop slot {}: {m}", cfg.slot)))?;
            }
            "sqlite" => sqlite::uninstall(&sqlite_path(&rec)?)?,
            _ => {}
        }
    }
    cache.remove_source(name)?;
    Ok(())
}

/// One source's health for `source status`.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    /// The source.
    pub source: SourceRecord,
    /// PostgreSQL: every `rowtrail_%` slot on its server (ours and others').
    pub slots: Vec<SlotStatus>,
    /// Why the server could not be asked, if it could not.
    pub error: Option<String>,
}

/// Status of every source (asks PostgreSQL servers for their slots).
pub async fn source_statuses(cache: &Cache, password: Option<String>) -> Result<Vec<SourceStatus>, SourceError> {
    let mut out = Vec::new();
    for rec in cache.sources()? {
        let mut st = SourceStatus {
            source: rec.clone(),
            slots: Vec::new(),
            error: None,
        };
        if rec.kind == "postgres" {
            let r: Result<Vec<SlotStatus>, String> = async {
                let cfg: PgSourceConfig = serde_json::from_value(rec.config.clone()).map_err(|e| e.to_string())?;
                let mut info = PgConnInfo::parse(&cfg.url)?;
                if password.is_some() {
                    info.password = password.clone();
                }
                let client = info.connect().await?;
                catalog::slot_statuses(&client).await
            }
            .await;
            match r {
                Ok(s) => st.slots = s,
                Err(e) => st.error = Some(e),
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
