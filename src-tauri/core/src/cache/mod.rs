//! The local SQLite cache of change events.
//!
//! One file per workspace, in WAL mode: one writer thread ([`writer`]) appends events in
//! batched transactions together with each source's checkpoint, and readers ([`query`]) use
//! their own connections. Deleting the file and re-reading the sources rebuilds it.

pub mod incarnation;
pub mod notes;
pub mod query;
pub mod schema;
pub mod search;
pub mod writer;

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

pub use writer::{Durable, WriteOp, WriterHandle};

/// Everything that can go wrong in the cache layer.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// SQLite refused an operation.
    #[error("cache database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The cache file could not be opened.
    #[error("cannot open cache {path}: {source}")]
    Open {
        /// The cache file.
        path: PathBuf,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// A migration failed; the cache stays at the previous version.
    #[error("cache migration {version} failed: {source}")]
    Migration {
        /// The migration that failed.
        version: i64,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// The file was written by a newer Rowtrail.
    #[error("cache schema version {found} is newer than this Rowtrail supports ({supported}); upgrade Rowtrail")]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// A named source does not exist.
    #[error("no source named {0:?} (see `rowtrail source list`)")]
    NoSuchSource(String),
    /// A source with this name exists already.
    #[error("a source named {0:?} exists already")]
    SourceExists(String),
    /// The writer received an event for a relation it was never told about.
    #[error("event for unknown relation {0} (the source sent no Relation message for it)")]
    UnknownRelation(u32),
    /// The writer thread stopped; later writes cannot be stored.
    #[error("cache writer stopped: {0}")]
    WriterGone(String),
    /// Stored data could not be decoded (a damaged cache).
    #[error("damaged cache row {table}#{id}: {reason}")]
    Corrupt {
        /// Table of the row.
        table: &'static str,
        /// Row id.
        id: i64,
        /// What was wrong.
        reason: String,
    },
}

/// A configured source as stored in the cache.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRecord {
    /// Cache-local id.
    pub id: i64,
    /// The user's name for the source.
    pub name: String,
    /// `postgres` or `sqlite` (more kinds come with changes stores).
    pub kind: String,
    /// Kind-specific settings as JSON; never holds a password.
    pub config: serde_json::Value,
    /// Where the source resumes, if it has captured anything.
    pub checkpoint: Option<String>,
}

/// A handle on one cache file. Cheap to clone paths from; each reader opens its own connection.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    conn: Connection,
}

impl Cache {
    /// Opens (creating and migrating if needed) the cache at `path`.
    pub fn open(path: &Path) -> Result<Cache, CacheError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut conn = open_conn(path, false)?;
        schema::migrate(&mut conn)?;
        Ok(Cache {
            path: path.to_path_buf(),
            conn,
        })
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection this handle reads with.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Registers a new source. Fails if the name is taken.
    pub fn add_source(
        &self,
        name: &str,
        kind: &str,
        config: &serde_json::Value,
    ) -> Result<SourceRecord, CacheError> {
        let res = self.conn.execute(
            "INSERT INTO sources (name, kind, config, created_us) VALUES (?1, ?2, ?3, ?4)",
            params![name, kind, config.to_string(), crate::time_fmt::now_us()],
        );
        match res {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(CacheError::SourceExists(name.to_string()))
            }
            Err(e) => Err(e.into()),
            Ok(_) => self.source(name),
        }
    }

    /// Replaces a source's settings (for example after the user confirmed what was created).
    pub fn update_source_config(
        &self,
        name: &str,
        config: &serde_json::Value,
    ) -> Result<(), CacheError> {
        let n = self.conn.execute(
            "UPDATE sources SET config = ?2 WHERE name = ?1",
            params![name, config.to_string()],
        )?;
        if n == 0 {
            return Err(CacheError::NoSuchSource(name.to_string()));
        }
        Ok(())
    }

    /// Looks a source up by name.
    pub fn source(&self, name: &str) -> Result<SourceRecord, CacheError> {
        self.sources()?
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| CacheError::NoSuchSource(name.to_string()))
    }

    /// Every configured source, by name.
    pub fn sources(&self) -> Result<Vec<SourceRecord>, CacheError> {
        let mut stmt = self.conn.prepare(
            "SELECT s.id, s.name, s.kind, s.config, c.position
             FROM sources s LEFT JOIN checkpoints c ON c.source_id = s.id ORDER BY s.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, kind, config, checkpoint) = row?;
            let config = serde_json::from_str(&config).map_err(|e| CacheError::Corrupt {
                table: "sources",
                id,
                reason: e.to_string(),
            })?;
            out.push(SourceRecord {
                id,
                name,
                kind,
                config,
                checkpoint,
            });
        }
        Ok(out)
    }

    /// The stored resume position of a source: `(position, position_num)`.
    pub fn checkpoint(&self, source_id: i64) -> Result<Option<(String, i64)>, CacheError> {
        Ok(self
            .conn
            .query_row(
                "SELECT position, position_num FROM checkpoints WHERE source_id = ?1",
                [source_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Removes a source and everything captured from it.
    pub fn remove_source(&mut self, name: &str) -> Result<(), CacheError> {
        let src = self.source(name)?;
        let tx = self.conn.transaction()?;
        // Contentless FTS rows are removed by rowid before their events go.
        tx.execute(
            "DELETE FROM events_text WHERE rowid IN (SELECT e.id FROM events e JOIN transactions t ON t.id = e.txn_id WHERE t.source_id = ?1)",
            [src.id],
        )?;
        tx.execute(
            "DELETE FROM events WHERE txn_id IN (SELECT id FROM transactions WHERE source_id = ?1)",
            [src.id],
        )?;
        tx.execute(
            "DELETE FROM relations WHERE table_id IN (SELECT id FROM tables WHERE source_id = ?1)",
            [src.id],
        )?;
        tx.execute(
            "DELETE FROM table_incarnations WHERE table_id IN (SELECT id FROM tables WHERE source_id = ?1)",
            [src.id],
        )?;
        for t in ["transactions", "tables", "checkpoints", "gaps", "table_warnings"] {
            tx.execute(&format!("DELETE FROM {t} WHERE source_id = ?1"), [src.id])?;
        }
        tx.execute("DELETE FROM sources WHERE id = ?1", [src.id])?;
        tx.commit()?;
        Ok(())
    }

    /// Opens a second connection on the same file (for a reader on another thread).
    pub fn reopen(&self) -> Result<Cache, CacheError> {
        Ok(Cache {
            path: self.path.clone(),
            conn: open_conn(&self.path, false)?,
        })
    }
}

/// Opens a connection with the pragmas every cache connection uses.
pub(crate) fn open_conn(path: &Path, writer: bool) -> Result<Connection, CacheError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| CacheError::Open {
        path: path.to_path_buf(),
        source: e,
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // The writer acknowledges positions to the source after each commit, so its commits must
    // survive a power loss (FULL); commits are batched, which keeps the fsyncs few.
    conn.pragma_update(None, "synchronous", if writer { "FULL" } else { "NORMAL" })?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if writer {
        conn.pragma_update(None, "cache_size", -65536)?;
        conn.pragma_update(None, "wal_autocheckpoint", 10000)?;
    }
    Ok(conn)
}
