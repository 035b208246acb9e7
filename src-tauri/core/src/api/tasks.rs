//! Background work: one sync or watch task per source, its live state, and the events the
//! API pushes to subscribers ([`ServerEvent`]).
//!
//! Sources report progress through a callback at their own pace; here it is throttled to about
//! ten events a second per source (state changes and messages always go through), turned into
//! an events-per-second rate, and complemented by a "tail" ticker that notices newly committed
//! events (from these tasks or from another process writing the same cache) and announces them
//! as [`ServerEvent::EventsAdded`]. When capture is quiet, the ticker also brings the value-search
//! index up to date in small batches (capture itself never waits for it).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::{Api, ApiError, Inner};
use crate::cache::Cache;
use crate::source::{Progress, ProgressFn, RunOptions, RunUntil, SourceState};

/// Least time between two progress events of one source.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// How often the tail ticker looks for new events and flushes held-back progress.
const TAIL_EVERY: Duration = Duration::from_millis(250);
/// The window over which events per second are measured.
const RATE_WINDOW: Duration = Duration::from_secs(5);
/// How long new events must have stopped arriving before the tail indexes values for search.
const SEARCH_INDEX_AFTER: Duration = Duration::from_secs(1);
/// Events indexed for value search per tail tick: a write of a few hundred milliseconds at
/// most, so capture resuming never waits long, yet a million events are indexed in minutes.
const SEARCH_INDEX_BATCH: usize = 10_000;
/// How long stopping a task may take before it is abandoned.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// What a source is doing now, as the Sources screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LiveState {
    /// Not being read (no task running).
    Idle,
    /// Opening the connection.
    Connecting,
    /// Reading what happened while Rowtrail was away.
    CatchingUp,
    /// Following new changes as they commit.
    Live,
    /// Lost the connection; trying again after a pause (the message says why).
    Reconnecting,
    /// The last run failed; the message says why and what to do.
    Error,
    /// Paused by the user: not watched, not resumed on start.
    Paused,
}

/// The two kinds of background task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Catch up once, then stop.
    Sync,
    /// Follow the source until paused or stopped.
    Watch,
}

/// Something that happened in the background, pushed to every subscriber (server-sent events
/// over HTTP, a channel in the desktop app). Serialized with a `type` tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// A running task's progress; at most about ten a second per source.
    Progress {
        /// The task.
        task_id: u64,
        /// The source.
        source: String,
        /// What it is doing.
        state: LiveState,
        /// Events stored by this run.
        events: u64,
        /// Transactions stored by this run.
        transactions: u64,
        /// Last durable position (empty before the first commit).
        position: String,
        /// Bytes (PostgreSQL WAL) or rows (log tables) still to read, when known.
        behind: Option<u64>,
        /// Events stored per second over the last few seconds.
        events_per_sec: f64,
        /// A note for the user (a warning, the reason for reconnecting).
        message: Option<String>,
    },
    /// New events were committed to the cache for `source`; lists showing it may refresh.
    EventsAdded {
        /// The source.
        source: String,
        /// The newest event id of that source now.
        last_event_id: i64,
    },
    /// A source's state changed (started, live, failed, paused, idle).
    SourceState {
        /// The source.
        source: String,
        /// The new state.
        state: LiveState,
        /// Why, for errors and reconnects.
        message: Option<String>,
    },
    /// A task ended, successfully or not.
    TaskFinished {
        /// The task.
        task_id: u64,
        /// The source.
        source: String,
        /// Sync or watch.
        kind: TaskKind,
        /// Why it failed, if it did.
        error: Option<ApiError>,
    },
    /// Sources were added, removed, paused or resumed: refetch the source list.
    SourcesChanged {},
    /// The subscriber fell behind and missed `missed` events (sent by a face, never by the
    /// core): refetch whatever is on screen.
    Lagged {
        /// How many events were dropped.
        missed: u64,
    },
}

/// A task was started (or one was already running for the source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TaskStarted {
    /// The task's id (see [`ServerEvent::TaskFinished`], `cancel_task`).
    pub task_id: u64,
    /// The source.
    pub source: String,
    /// Sync or watch.
    pub kind: TaskKind,
    /// False when a task that does the job was already running; its id is returned.
    pub started: bool,
}

/// Stop a task.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CancelTaskRequest {
    /// The task's id.
    pub task_id: u64,
}

/// A task was stopped; what it read is kept.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct TaskCancelled {
    /// The task's id.
    pub task_id: u64,
    /// Its source.
    pub source: String,
}

/// A running task, as the source list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TaskRef {
    /// The task's id.
    pub task_id: u64,
    /// Sync or watch.
    pub kind: TaskKind,
}

/// A source's live state for the source list.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub state: LiveState,
    pub message: Option<String>,
    pub events_per_sec: Option<f64>,
    pub behind: Option<u64>,
    pub task: Option<TaskRef>,
}

struct Running {
    id: u64,
    kind: TaskKind,
    cancel: CancellationToken,
    handle: Option<JoinHandle<()>>,
}

struct Runtime {
    state: LiveState,
    message: Option<String>,
    behind: Option<u64>,
    /// (when, events stored by the run) samples for the rate.
    samples: VecDeque<(Instant, u64)>,
    last_sent: Option<Instant>,
    held: Option<ServerEvent>,
}

impl Runtime {
    fn new(state: LiveState) -> Runtime {
        Runtime {
            state,
            message: None,
            behind: None,
            samples: VecDeque::new(),
            last_sent: None,
            held: None,
        }
    }

    fn rate(&mut self, now: Instant) -> f64 {
        while self.samples.len() > 1 && now.duration_since(self.samples[0].0) > RATE_WINDOW {
            self.samples.pop_front();
        }
        match (self.samples.front(), self.samples.back()) {
            (Some(a), Some(b)) if b.1 > a.1 => {
                // Measured up to now, so an idle source's rate decays to zero.
                let secs = now.duration_since(a.0).as_secs_f64().max(0.5);
                (b.1 - a.1) as f64 / secs
            }
            _ => 0.0,
        }
    }
}

/// The background tasks of one [`Api`] and every source's live state.
#[derive(Default)]
pub(crate) struct Registry {
    running: Mutex<HashMap<String, Running>>,
    runtime: Mutex<HashMap<String, Runtime>>,
    next_id: AtomicU64,
    tail_started: AtomicBool,
    /// What the cache held when the API opened: the tail announces what comes after.
    tail_baseline: Mutex<Option<(i64, HashMap<String, i64>)>>,
}

impl Registry {
    /// The live state of `source` (`paused` says whether its settings mark it paused).
    pub(crate) fn snapshot(&self, source: &str, paused: bool) -> Snapshot {
        let task = self.running.lock().ok().and_then(|r| {
            r.get(source).map(|t| TaskRef {
                task_id: t.id,
                kind: t.kind,
            })
        });
        let mut rt = self.runtime.lock().ok();
        let entry = rt.as_mut().and_then(|m| m.get_mut(source));
        let (mut state, message, events_per_sec, behind) = match entry {
            Some(r) => {
                let rate = if task.is_some() { Some(r.rate(Instant::now())) } else { None };
                (r.state, r.message.clone(), rate, r.behind)
            }
            None => (LiveState::Idle, None, None, None),
        };
        if paused && task.is_none() {
            state = LiveState::Paused;
        } else if task.is_none() && !matches!(state, LiveState::Error | LiveState::Paused) {
            state = LiveState::Idle;
        }
        Snapshot {
            state,
            message,
            events_per_sec,
            behind,
            task,
        }
    }

    fn set_state(&self, source: &str, state: LiveState, message: Option<String>) {
        if let Ok(mut m) = self.runtime.lock() {
            let r = m.entry(source.to_string()).or_insert_with(|| Runtime::new(state));
            r.state = state;
            r.message = message;
            if !matches!(state, LiveState::CatchingUp | LiveState::Live | LiveState::Connecting | LiveState::Reconnecting) {
                r.samples.clear();
                r.behind = None;
            }
        }
    }

    /// Forgets everything about `source` (after it was removed).
    pub(crate) fn forget(&self, source: &str) {
        if let Ok(mut m) = self.runtime.lock() {
            m.remove(source);
        }
    }

    /// Stops the task of `source`, if any, and waits for it to end. Returns its id.
    pub(crate) async fn stop(&self, source: &str) -> Option<u64> {
        let (id, cancel, mut handle) = {
            let mut r = self.running.lock().ok()?;
            let t = r.get_mut(source)?;
            (t.id, t.cancel.clone(), t.handle.take())
        };
        cancel.cancel();
        // A task being started has no handle yet for a moment: wait for it, so that it has
        // surely ended before anyone starts another reader of the source.
        for _ in 0..100 {
            if handle.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            let Ok(mut r) = self.running.lock() else { break };
            match r.get_mut(source).filter(|t| t.id == id) {
                Some(t) => handle = t.handle.take(),
                None => break,
            }
        }
        if let Some(h) = handle {
            let _ = tokio::time::timeout(STOP_TIMEOUT, h).await;
        }
        if let Ok(mut r) = self.running.lock() {
            if r.get(source).is_some_and(|t| t.id == id) {
                r.remove(source);
            }
        }
        Some(id)
    }

    /// Stops every task.
    pub(crate) async fn stop_all(&self) {
        let names: Vec<String> = self.running.lock().map(|r| r.keys().cloned().collect()).unwrap_or_default();
        for n in names {
            self.stop(&n).await;
        }
    }

    /// Records what the cache holds now as the point after which new events are announced.
    pub(crate) fn set_tail_baseline(&self, c: &Cache) -> Result<(), ApiError> {
        if let Some((max, per_source)) = tail_scan(c, None, &HashMap::new())? {
            if let Ok(mut b) = self.tail_baseline.lock() {
                *b = Some((max, per_source.into_iter().collect()));
            }
        }
        Ok(())
    }

    fn source_of_task(&self, task_id: u64) -> Option<String> {
        self.running
            .lock()
            .ok()?
            .iter()
            .find(|(_, t)| t.id == task_id)
            .map(|(s, _)| s.clone())
    }
}

/// Stops a running task (`cancel_task`).
pub async fn cancel_task(api: &Api, req: CancelTaskRequest) -> Result<TaskCancelled, ApiError> {
    let source = api.inner.tasks.source_of_task(req.task_id).ok_or_else(|| {
        ApiError::not_found(format!("no running task {} (it may have finished already)", req.task_id))
    })?;
    api.inner.tasks.stop(&source).await;
    Ok(TaskCancelled {
        task_id: req.task_id,
        source,
    })
}

fn live_state(s: SourceState) -> LiveState {
    match s {
        SourceState::Connecting => LiveState::Connecting,
        SourceState::CatchingUp => LiveState::CatchingUp,
        SourceState::Live => LiveState::Live,
        SourceState::Reconnecting => LiveState::Reconnecting,
        SourceState::Stopped => LiveState::Idle,
    }
}

impl Api {
    /// Starts a sync or watch task for `source` unless one that does the job runs already.
    /// A watch replaces a running sync (the watch resumes where the sync stopped).
    pub(crate) async fn start_task(
        &self,
        source: &str,
        kind: TaskKind,
        password: Option<String>,
    ) -> Result<TaskStarted, ApiError> {
        let name = source.to_string();
        let n2 = name.clone();
        self.with_cache(move |c| Ok(c.source(&n2).map(|_| ())?)).await?;
        if let Some(p) = &password {
            self.remember_password(&name, Some(p));
        }
        // Claim the source's slot under the lock, so two requests never start two readers of
        // one source (they would store its transactions twice).
        let id = loop {
            let claimed = {
                let mut r = self.inner.tasks.running.lock().map_err(|_| ApiError::internal("task registry poisoned"))?;
                match r.get(&name) {
                    Some(t) => Err((t.id, t.kind)),
                    None => {
                        let id = self.inner.tasks.next_id.fetch_add(1, Ordering::Relaxed) + 1;
                        r.insert(
                            name.clone(),
                            Running {
                                id,
                                kind,
                                cancel: CancellationToken::new(),
                                handle: None,
                            },
                        );
                        Ok(id)
                    }
                }
            };
            match claimed {
                Ok(id) => break id,
                Err((id, running_kind)) if running_kind == kind || running_kind == TaskKind::Watch => {
                    return Ok(TaskStarted {
                        task_id: id,
                        source: name,
                        kind: running_kind,
                        started: false,
                    });
                }
                // A watch replaces a sync; the watch resumes where the sync stopped.
                Err(_) => {
                    self.inner.tasks.stop(&name).await;
                }
            }
        };
        self.ensure_tail();
        let cancel = self
            .inner
            .tasks
            .running
            .lock()
            .ok()
            .and_then(|r| r.get(&name).filter(|t| t.id == id).map(|t| t.cancel.clone()))
            .unwrap_or_default();
        let password = password.or_else(|| self.password_for(&name));
        let opts = RunOptions {
            until: match kind {
                TaskKind::Sync => RunUntil::CaughtUp,
                TaskKind::Watch => RunUntil::Cancelled,
            },
            cancel,
            progress: Some(self.progress_fn(id)),
        };
        self.inner.tasks.set_state(&name, LiveState::Connecting, None);
        self.emit(ServerEvent::SourceState {
            source: name.clone(),
            state: LiveState::Connecting,
            message: None,
        });
        let api = self.clone();
        let task_name = name.clone();
        let handle = tokio::spawn(async move {
            let res = crate::sync::run_source(api.cache_path(), &task_name, password.clone(), &opts).await;
            api.task_ended(id, &task_name, kind, res.map(|_| ()).map_err(|e| ApiError::from(e).scrub(password.as_deref())));
        });
        if let Ok(mut r) = self.inner.tasks.running.lock() {
            if let Some(t) = r.get_mut(&name).filter(|t| t.id == id) {
                t.handle = Some(handle);
            }
        }
        Ok(TaskStarted {
            task_id: id,
            source: name,
            kind,
            started: true,
        })
    }

    fn task_ended(&self, id: u64, source: &str, kind: TaskKind, res: Result<(), ApiError>) {
        let tasks = &self.inner.tasks;
        if let Ok(mut r) = tasks.running.lock() {
            if r.get(source).is_some_and(|t| t.id == id) {
                r.remove(source);
            }
        }
        // Send what the throttle held back, so the last numbers shown are the final ones.
        let held = tasks.runtime.lock().ok().and_then(|mut m| m.get_mut(source).and_then(|r| r.held.take()));
        if let Some(ev) = held {
            self.emit(ev);
        }
        let (state, message) = match &res {
            Ok(()) => (LiveState::Idle, None),
            Err(e) => (LiveState::Error, Some(e.message.clone())),
        };
        tasks.set_state(source, state, message.clone());
        self.emit(ServerEvent::SourceState {
            source: source.to_string(),
            state,
            message,
        });
        self.emit(ServerEvent::TaskFinished {
            task_id: id,
            source: source.to_string(),
            kind,
            error: res.err(),
        });
    }

    /// The progress callback of task `id`: updates the live state and broadcasts, throttled.
    fn progress_fn(&self, id: u64) -> ProgressFn {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        Arc::new(move |p: &Progress| {
            let Some(inner) = weak.upgrade() else { return };
            let api = Api { inner };
            api.on_progress(id, p);
        })
    }

    fn on_progress(&self, id: u64, p: &Progress) {
        let now = Instant::now();
        let state = live_state(p.state);
        let mut out = Vec::new();
        {
            let Ok(mut m) = self.inner.tasks.runtime.lock() else { return };
            let r = m.entry(p.source.clone()).or_insert_with(|| Runtime::new(state));
            // The end of a run is announced by the task itself (idle, error or paused).
            let state = if p.state == SourceState::Stopped { r.state } else { state };
            let changed = r.state != state;
            r.state = state;
            if p.message.is_some() || changed {
                r.message = p.message.clone();
            }
            r.behind = p.behind;
            if r.samples.back().is_none_or(|s| s.1 != p.events || now.duration_since(s.0) > Duration::from_secs(1)) {
                r.samples.push_back((now, p.events));
            }
            let ev = ServerEvent::Progress {
                task_id: id,
                source: p.source.clone(),
                state,
                events: p.events,
                transactions: p.transactions,
                position: p.position.clone(),
                behind: p.behind,
                events_per_sec: r.rate(now),
                message: p.message.clone(),
            };
            let due = r.last_sent.is_none_or(|t| now.duration_since(t) >= PROGRESS_EVERY);
            if changed || p.message.is_some() || due {
                r.last_sent = Some(now);
                r.held = None;
                out.push(ev);
            } else {
                r.held = Some(ev);
            }
            if changed {
                out.push(ServerEvent::SourceState {
                    source: p.source.clone(),
                    state,
                    message: p.message.clone(),
                });
            }
        }
        for e in out {
            self.emit(e);
        }
    }

    /// Starts the tail ticker once (when a runtime is there to run it).
    pub(crate) fn ensure_tail(&self) {
        if self.inner.tasks.tail_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.inner.tasks.tail_started.store(false, Ordering::SeqCst);
            return;
        };
        let weak = Arc::downgrade(&self.inner);
        let path = self.cache_path().to_path_buf();
        rt.spawn(async move {
            let mut cache: Option<Cache> = None;
            let baseline = weak.upgrade().and_then(|i| i.tasks.tail_baseline.lock().ok().and_then(|mut b| b.take()));
            let (mut last_max, mut last_by_source) = match baseline {
                Some((max, per)) => (Some(max), per),
                None => (None, HashMap::new()),
            };
            let mut last_growth = Instant::now();
            loop {
                tokio::time::sleep(TAIL_EVERY).await;
                let Some(inner) = weak.upgrade() else { return };
                let api = Api { inner };
                api.flush_held();
                let c = match cache.take() {
                    Some(c) => c,
                    None => match Cache::open(&path) {
                        Ok(c) => c,
                        Err(_) => continue,
                    },
                };
                let prev = last_max;
                let known = last_by_source.clone();
                let quiet = last_growth.elapsed() >= SEARCH_INDEX_AFTER;
                let res = tokio::task::spawn_blocking(move || {
                    let r = tail_scan(&c, prev, &known);
                    // While capture is quiet, bring the value-search index up to date a little
                    // at a time, so a search does not first wait for all of it.
                    if quiet {
                        let _ = crate::cache::search::index_pending(c.conn(), SEARCH_INDEX_BATCH);
                    }
                    (c, r)
                })
                .await;
                let Ok((c, r)) = res else { continue };
                cache = Some(c);
                if let Ok(Some((max, per_source))) = r {
                    let first = last_max.is_none();
                    if last_max.is_some_and(|m| m != max) {
                        last_growth = Instant::now();
                    }
                    last_max = Some(max);
                    for (source, id) in per_source {
                        let newer = last_by_source.get(&source).is_none_or(|&old| id > old);
                        if newer {
                            last_by_source.insert(source.clone(), id);
                            if !first {
                                api.emit(ServerEvent::EventsAdded {
                                    source,
                                    last_event_id: id,
                                });
                            }
                        }
                    }
                }
            }
        });
    }

    fn flush_held(&self) {
        let now = Instant::now();
        let mut out = Vec::new();
        if let Ok(mut m) = self.inner.tasks.runtime.lock() {
            for r in m.values_mut() {
                if r.held.is_some() && r.last_sent.is_none_or(|t| now.duration_since(t) >= PROGRESS_EVERY) {
                    r.last_sent = Some(now);
                    out.extend(r.held.take());
                }
            }
        }
        for e in out {
            self.emit(e);
        }
    }

    /// Marks `source` paused in the live state and tells subscribers.
    pub(crate) fn mark_paused(&self, source: &str, paused: bool) {
        let state = if paused { LiveState::Paused } else { LiveState::Idle };
        self.inner.tasks.set_state(source, state, None);
        self.emit(ServerEvent::SourceState {
            source: source.to_string(),
            state,
            message: None,
        });
    }
}

/// The cache's newest event id, and the newest event id of each source that changed.
type TailState = (i64, Vec<(String, i64)>);

/// When the cache's newest event id moved past `prev`: the new maximum and each source's
/// newest event id. `None` when nothing changed.
fn tail_scan(
    c: &Cache,
    prev: Option<i64>,
    known: &HashMap<String, i64>,
) -> Result<Option<TailState>, ApiError> {
    let max: i64 = c
        .conn()
        .query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))
        .map_err(crate::cache::CacheError::from)?;
    if prev == Some(max) {
        return Ok(None);
    }
    let mut out = Vec::new();
    for s in c.sources()? {
        let last = super::events::last_event_of_source(c, s.id)?;
        if let Some(id) = last {
            if known.get(&s.name) != Some(&id) {
                out.push((s.name, id));
            }
        }
    }
    Ok(Some((max, out)))
}
