//! The one API every face calls: a table of typed async commands.
//!
//! Each command takes a request struct and answers a response struct or an [`ApiError`]. The
//! desktop shell reaches them through one `rpc` command, `rowtrail serve` through
//! `POST /api/{command}`; both pass JSON to [`Api::call`]. Background work (sync, watch) runs
//! on tokio tasks and reports through [`Api::subscribe`] as [`ServerEvent`]s.
//!
//! This module knows nothing of HTTP or Tauri. The TypeScript types the UI uses are generated
//! from the types here (see [`types`]).

pub mod events;
pub mod export;
mod paging;
pub mod records;
pub mod sources;
pub mod tasks;
pub mod types;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::cache::{Cache, CacheError};
use crate::history::HistoryError;
use crate::source::SourceError;
use crate::workspace::Workspace;

pub use tasks::{LiveState, ServerEvent, TaskKind};

/// What kind of failure an [`ApiError`] is; faces map it to their own status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or names something in a way that cannot work (an unknown
    /// command, a bad argument, a time that cannot be read).
    BadRequest,
    /// The source, table, record, version or transaction does not exist.
    NotFound,
    /// The request clashes with the current state (a name taken, a plan that changed).
    Conflict,
    /// A source database could not be reached, refused, or lacks a prerequisite.
    SourceError,
    /// The source can no longer deliver events the cache has not got: history has a gap.
    EventsLost,
    /// Something failed inside Rowtrail (the cache file, a background task).
    Internal,
}

/// A failed command: a code for programs and a message for people that says what failed and
/// how to fix it. Messages never contain a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ApiError {
    /// The kind of failure.
    pub code: ErrorCode,
    /// What failed and how to fix it.
    pub message: String,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// A [`ErrorCode::BadRequest`] error.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    /// A [`ErrorCode::NotFound`] error.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, message)
    }

    /// A [`ErrorCode::Conflict`] error.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Conflict, message)
    }

    /// An [`ErrorCode::Internal`] error.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Internal, message)
    }

    /// Removes `secret` from the message (defence in depth: no message should hold one).
    pub(crate) fn scrub(mut self, secret: Option<&str>) -> ApiError {
        if let Some(s) = secret.filter(|s| s.len() >= 2) {
            self.message = self.message.replace(s, "********");
        }
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<CacheError> for ApiError {
    fn from(e: CacheError) -> ApiError {
        let code = match &e {
            CacheError::NoSuchSource(_) => ErrorCode::NotFound,
            CacheError::SourceExists(_) => ErrorCode::Conflict,
            _ => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<SourceError> for ApiError {
    fn from(e: SourceError) -> ApiError {
        match e {
            SourceError::Cache(c) => c.into(),
            SourceError::Gap { .. } => ApiError::new(ErrorCode::EventsLost, e.to_string()),
            SourceError::Config { .. } => ApiError::bad_request(e.to_string()),
            other => ApiError::new(ErrorCode::SourceError, other.to_string()),
        }
    }
}

impl From<HistoryError> for ApiError {
    fn from(e: HistoryError) -> ApiError {
        if let HistoryError::Cache(c) = e {
            return c.into();
        }
        let code = match &e {
            HistoryError::Ambiguous { .. } | HistoryError::BadKey { .. } => ErrorCode::BadRequest,
            _ => ErrorCode::NotFound,
        };
        ApiError::new(code, e.to_string())
    }
}

/// A request without arguments (`{}`; `null` is accepted too).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// The API over one workspace. Cheap to clone; clones share tasks, events and caches.
#[derive(Clone)]
pub struct Api {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    data_dir: PathBuf,
    cache_path: PathBuf,
    events: broadcast::Sender<ServerEvent>,
    pub(crate) tasks: tasks::Registry,
    /// PostgreSQL passwords given during this session, by source. Never written anywhere.
    passwords: Mutex<HashMap<String, String>>,
    pub(crate) positions: paging::PositionCache,
    readers: Mutex<Vec<Cache>>,
}

/// How many server events a slow subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 1024;

macro_rules! commands {
    ($( $(#[$doc:meta])* $name:ident : $req:ty => $resp:ty = $handler:path ;)*) => {
        /// Every command name, in table order.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        async fn dispatch(api: &Api, command: &str, args: Value) -> Result<Value, ApiError> {
            match command {
                $(stringify!($name) => {
                    let req: $req = parse_args(command, args)?;
                    let resp: $resp = $handler(api, req).await?;
                    serde_json::to_value(resp).map_err(|e| ApiError::internal(format!("{command}: cannot encode the answer: {e}")))
                })*
                other => Err(ApiError::bad_request(format!(
                    "unknown command {:?}; the commands are: {}",
                    other.chars().take(80).collect::<String>(),
                    COMMANDS.join(", ")
                ))),
            }
        }

        /// `(command, request type, response type)` for the TypeScript command map.
        pub(crate) fn command_types(cfg: &ts_rs::Config) -> Vec<(&'static str, String, String)> {
            vec![$((stringify!($name), <$req as TS>::name(cfg), <$resp as TS>::name(cfg))),*]
        }

        /// Declares every request and response type (and what they use).
        pub(crate) fn declare_command_types(out: &mut types::Decls) {
            $( out.add::<$req>(); out.add::<$resp>(); )*
        }
    };
}

commands! {
    workspace_info: Empty => sources::WorkspaceInfo = sources::workspace_info;
    list_sources: sources::ListSourcesRequest => sources::SourceList = sources::list_sources;
    test_connection: sources::TestConnectionRequest => sources::ConnectionTest = sources::test_connection;
    plan_pg_source: sources::PgSourceRequest => sources::PgPlanInfo = sources::plan_pg_source;
    create_pg_source: sources::CreatePgSourceRequest => sources::SourceAdded = sources::create_pg_source;
    add_sqlite_source: sources::AddSqliteSourceRequest => sources::SourceAdded = sources::add_sqlite_source;
    remove_source: sources::RemoveSourceRequest => sources::SourceRemoved = sources::remove_source;
    plan_reset_source: sources::SourceRequest => sources::ResetPlanInfo = sources::plan_reset_source;
    reset_source: sources::ResetSourceRequest => sources::SourceInfo = sources::reset_source;
    pause_source: sources::SourceRequest => sources::SourceInfo = sources::pause_source;
    resume_source: sources::SourceRequest => sources::SourceInfo = sources::resume_source;
    sync_source: sources::SourceRequest => tasks::TaskStarted = sources::sync_source;
    watch_source: sources::SourceRequest => tasks::TaskStarted = sources::watch_source;
    cancel_task: tasks::CancelTaskRequest => tasks::TaskCancelled = tasks::cancel_task;
    list_tables: events::ListTablesRequest => events::TableList = events::list_tables;
    list_events: events::ListEventsRequest => events::EventPage = events::list_events;
    count_events: events::CountEventsRequest => events::EventCount = events::count_events;
    events_at: events::EventsAtRequest => events::EventPage = events::events_at;
    locate_time: events::LocateTimeRequest => events::Located = events::locate_time;
    transaction: events::TransactionRequest => events::TransactionDetail = events::transaction;
    export_events: events::ExportEventsRequest => export::ExportText = export::export_events;
    record_history: records::RecordRequest => records::RecordHistory = records::record_history;
    compare_versions: records::CompareRequest => records::Comparison = records::compare_versions;
    export_history: records::ExportHistoryRequest => export::ExportText = records::export_history;
}

fn parse_args<T: DeserializeOwned>(command: &str, args: Value) -> Result<T, ApiError> {
    let args = if args.is_null() { Value::Object(Default::default()) } else { args };
    serde_json::from_value(args).map_err(|e| ApiError::bad_request(format!("{command}: invalid arguments: {e}")))
}

impl Api {
    /// The API over the workspace `ws` (creating and migrating its cache if needed).
    pub fn open(ws: &Workspace) -> Result<Api, ApiError> {
        Api::new(ws.dir(), &ws.cache_path())
    }

    /// The API over the cache at `cache_path`; `data_dir` is where the workspace's files live.
    pub fn new(data_dir: &Path, cache_path: &Path) -> Result<Api, ApiError> {
        let cache = Cache::open(cache_path)?;
        let tasks = tasks::Registry::default();
        tasks.set_tail_baseline(&cache)?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let api = Api {
            inner: Arc::new(Inner {
                data_dir: data_dir.to_path_buf(),
                cache_path: cache_path.to_path_buf(),
                events,
                tasks,
                passwords: Mutex::new(HashMap::new()),
                positions: paging::PositionCache::default(),
                readers: Mutex::new(vec![cache]),
            }),
        };
        Ok(api)
    }

    /// Runs `command` with JSON `args` (`null` for none) and answers JSON.
    pub async fn call(&self, command: &str, args: Value) -> Result<Value, ApiError> {
        dispatch(self, command, args).await
    }

    /// Receives every [`ServerEvent`] from now on (progress, new events, source states).
    pub fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.ensure_tail();
        self.inner.events.subscribe()
    }

    /// The workspace directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The cache file.
    pub fn cache_path(&self) -> &Path {
        &self.inner.cache_path
    }

    /// Starts watching every source that is not paused (as the app does on start). Returns
    /// the tasks started; sources that fail later report through [`ServerEvent`]s.
    pub async fn resume_watching(&self) -> Result<Vec<tasks::TaskStarted>, ApiError> {
        let sources = self.with_cache(|c| Ok(c.sources()?)).await?;
        let mut out = Vec::new();
        for s in sources {
            if !sources::is_paused(&s) {
                out.push(self.start_task(&s.name, TaskKind::Watch, None).await?);
            }
        }
        Ok(out)
    }

    /// Builds, in the background, what the first look at the whole change list needs — its
    /// position index, one pass over every event id (~0.1 s per million events) — so that the
    /// Changes screen a face opens at start does not wait for it. Faces call it once at start;
    /// a request arriving meanwhile waits for that pass instead of making its own.
    pub fn warm_up(&self) {
        let api = self.clone();
        tokio::spawn(async move {
            let _ = events::count_events(&api, events::CountEventsRequest::default()).await;
        });
    }

    /// Stops every background task and waits for them to store what they read.
    pub async fn shutdown(&self) {
        self.inner.tasks.stop_all().await;
    }

    pub(crate) fn emit(&self, e: ServerEvent) {
        // No subscriber is fine: nobody is looking.
        let _ = self.inner.events.send(e);
    }

    /// The password to use for source `name`: one given during this session, or the
    /// environment's (`ROWTRAIL_PG_PASSWORD`, `PGPASSWORD`).
    pub(crate) fn password_for(&self, name: &str) -> Option<String> {
        if let Some(p) = self.inner.passwords.lock().ok().and_then(|m| m.get(name).cloned()) {
            return Some(p);
        }
        std::env::var("ROWTRAIL_PG_PASSWORD").or_else(|_| std::env::var("PGPASSWORD")).ok()
    }

    /// Remembers a password for this session only.
    pub(crate) fn remember_password(&self, name: &str, password: Option<&str>) {
        if let (Some(p), Ok(mut m)) = (password, self.inner.passwords.lock()) {
            m.insert(name.to_string(), p.to_string());
        }
    }

    pub(crate) fn forget_password(&self, name: &str) {
        if let Ok(mut m) = self.inner.passwords.lock() {
            m.remove(name);
        }
    }

    /// Runs `f` with a cache connection on a blocking thread.
    pub(crate) async fn with_cache<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Cache) -> Result<T, ApiError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let cache = match inner.readers.lock().ok().and_then(|mut r| r.pop()) {
                Some(c) => c,
                None => Cache::open(&inner.cache_path)?,
            };
            let res = f(&cache);
            if let Ok(mut r) = inner.readers.lock() {
                if r.len() < 4 {
                    r.push(cache);
                }
            }
            res
        })
        .await
        .map_err(|e| ApiError::internal(format!("a cache reader failed: {e}")))?
    }

    /// Runs a future that borrows a [`Cache`] across awaits (so it is not `Send`) on a
    /// blocking thread of the runtime, with a fresh cache connection.
    pub(crate) async fn with_cache_async<T, F, Fut>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(Cache) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let path = self.inner.cache_path.clone();
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let cache = Cache::open(&path)?;
            handle.block_on(f(cache))
        })
        .await
        .map_err(|e| ApiError::internal(format!("a source operation failed: {e}")))?
    }
}
