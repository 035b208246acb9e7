//! Change sources: each turns one database's changes into [`WriteOp`]s for the cache writer.
//!
//! Every source resumes from the checkpoint the writer stored together with the events it
//! covers, and tells the upstream system it may forget a position only once the writer has
//! made it durable.

pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::cache::{CacheError, WriteOp, WriterHandle};

/// Everything that can go wrong while reading a source. Each variant names the source, and
/// where it helps, the position in its stream.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source's settings are unusable.
    #[error("source {source_name}: {message}")]
    Config {
        /// Source name.
        source_name: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The database could not be reached or refused the login.
    #[error("source {source_name}: cannot connect to {target}: {detail}")]
    Connect {
        /// Source name.
        source_name: String,
        /// Host/database or file, never a password.
        target: String,
        /// The reason.
        detail: String,
    },
    /// The database lacks a setting or privilege Rowtrail needs; `fix` says what to run.
    #[error("source {source_name}: {problem}\n  fix: {fix}")]
    Prerequisite {
        /// Source name.
        source_name: String,
        /// What is missing.
        problem: String,
        /// What to run or change.
        fix: String,
    },
    /// A message from the source could not be decoded. Nothing after the last durable
    /// position was stored; the same bytes arrive again on resume.
    #[error("source {source_name}: cannot decode change at {position}: {detail}")]
    Decode {
        /// Source name.
        source_name: String,
        /// Where in the stream (LSN, log id, …).
        position: String,
        /// What was wrong.
        detail: String,
    },
    /// The stream broke off (connection lost, server error).
    #[error("source {source_name}: stream interrupted at {position}: {detail}")]
    Stream {
        /// Source name.
        source_name: String,
        /// Last position received.
        position: String,
        /// The reason.
        detail: String,
        /// Whether trying again later may succeed.
        transient: bool,
    },
    /// The source can no longer deliver events the cache has not got: history has a gap.
    #[error("source {source_name}: events were lost: {detail}")]
    Gap {
        /// Source name.
        source_name: String,
        /// What is missing and what to do.
        detail: String,
    },
    /// The cache could not store what was read.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl SourceError {
    /// The same error under the source name `name`: code that knows only a file or URL
    /// (installing capture triggers) names it after that; the caller knows the user's name.
    pub fn named(self, name: &str) -> SourceError {
        let mut e = self;
        match &mut e {
            SourceError::Config { source_name, .. }
            | SourceError::Connect { source_name, .. }
            | SourceError::Prerequisite { source_name, .. }
            | SourceError::Decode { source_name, .. }
            | SourceError::Stream { source_name, .. }
            | SourceError::Gap { source_name, .. } => *source_name = name.to_string(),
            SourceError::Cache(_) => {}
        }
        e
    }

    /// Whether reconnecting later may succeed (dropped connections, restarts).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SourceError::Stream { transient: true, .. } | SourceError::Connect { .. }
        )
    }
}

/// What a source is doing, for progress lines and the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    /// Opening the connection.
    Connecting,
    /// Reading what happened while Rowtrail was away.
    CatchingUp,
    /// Following new changes as they commit.
    Live,
    /// Lost the connection; trying again after a pause.
    Reconnecting,
    /// Finished.
    Stopped,
}

/// A progress report; sources send one on state changes and a few times a second.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Progress {
    /// Source name.
    pub source: String,
    /// What it is doing.
    pub state: SourceState,
    /// Events stored during this run.
    pub events: u64,
    /// Transactions stored during this run.
    pub transactions: u64,
    /// Last durable position.
    pub position: String,
    /// Bytes (PostgreSQL WAL) or rows (log tables) still to read, when known.
    pub behind: Option<u64>,
    /// A note for the user (a warning, the reason for reconnecting, …).
    pub message: Option<String>,
}

/// Receives progress reports.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How long a run lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunUntil {
    /// Stop once everything committed before the run started is stored.
    CaughtUp,
    /// Follow new changes until cancelled.
    Cancelled,
}

/// Options for [`Source::run`].
#[derive(Clone)]
pub struct RunOptions {
    /// When to stop.
    pub until: RunUntil,
    /// Stops a following run (and interrupts a catching-up one).
    pub cancel: CancellationToken,
    /// Where progress goes.
    pub progress: Option<ProgressFn>,
}

impl RunOptions {
    /// Sends a progress report if anyone listens.
    pub fn report(&self, p: Progress) {
        if let Some(f) = &self.progress {
            f(&p);
        }
    }
}

/// One change source. Implementations push whole transactions into the writer, from the
/// writer's durable position on.
#[allow(async_fn_in_trait)]
pub trait Source {
    /// Reads changes into `writer` until `opts.until` is met.
    async fn run(&mut self, writer: &mut WriterHandle, opts: &RunOptions) -> Result<(), SourceError>;
}

/// Pushes an op, for sources that hold a writer.
pub(crate) async fn push(writer: &mut WriterHandle, op: WriteOp) -> Result<(), SourceError> {
    writer.push(op).await.map_err(SourceError::from)
}
