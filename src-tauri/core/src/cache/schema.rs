//! The cache's SQLite schema and its versioned migrations.
//!
//! Each migration runs once, in order, inside one transaction together with the bump of
//! `PRAGMA user_version`, so a cache is always at exactly one known version. A cache written
//! by a newer Rowtrail is refused rather than misread.

use rusqlite::Connection;

use super::CacheError;

/// Migrations, oldest first; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: sources, checkpoints, transactions and events.
    r#"
    CREATE TABLE sources (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        kind        TEXT NOT NULL,
        config      TEXT NOT NULL,          -- JSON, never a secret
        created_us  INTEGER NOT NULL
    );
    -- Where each source resumes. Updated in the same SQLite transaction as the events it covers.
    CREATE TABLE checkpoints (
        source_id    INTEGER PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
        position     TEXT NOT NULL,
        position_num INTEGER NOT NULL,
        updated_us   INTEGER NOT NULL
    );
    CREATE TABLE tables (
        id          INTEGER PRIMARY KEY,
        source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        schema_name TEXT NOT NULL,
        table_name  TEXT NOT NULL,
        UNIQUE (source_id, schema_name, table_name)
    );
    -- One row per distinct shape of a table; events are read against the shape they were written with.
    CREATE TABLE relations (
        id        INTEGER PRIMARY KEY,
        table_id  INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
        columns   TEXT NOT NULL,            -- JSON [{name, type, key}]
        UNIQUE (table_id, columns)
    );
    CREATE TABLE transactions (
        id           INTEGER PRIMARY KEY,
        source_id    INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        txid         TEXT NOT NULL,
        position     TEXT NOT NULL,
        position_num INTEGER NOT NULL,
        committed_us INTEGER NOT NULL,
        context      TEXT,                  -- JSON object (actor, reason, endpoint, …) or NULL
        event_count  INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX transactions_position ON transactions (source_id, position_num);
    CREATE INDEX transactions_time ON transactions (committed_us);
    CREATE INDEX transactions_txid ON transactions (txid);
    -- Images are JSON arrays aligned with the relation's columns: a string is the value's
    -- text form, null is SQL NULL, false is "not sent and not inferable".
    CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        txn_id      INTEGER NOT NULL REFERENCES transactions(id) ON DELETE CASCADE,
        table_id    INTEGER NOT NULL,
        relation_id INTEGER NOT NULL,
        op          INTEGER NOT NULL,       -- 1 insert, 2 update, 3 delete, 4 truncate
        record_key  TEXT NOT NULL,          -- JSON array of the key values
        old_key     TEXT,                   -- set when an update changed the key
        before      TEXT,
        after       TEXT,
        inferred    TEXT                    -- JSON array of column names filled from an earlier version
    );
    CREATE INDEX events_record ON events (table_id, record_key, id);
    CREATE INDEX events_old_key ON events (table_id, old_key) WHERE old_key IS NOT NULL;
    CREATE INDEX events_truncate ON events (table_id) WHERE op = 4;
    CREATE INDEX events_txn ON events (txn_id);
    CREATE INDEX events_table ON events (table_id, id);
    "#,
    // 2: full-text value search, filled behind ingest by the search indexer.
    r#"
    CREATE VIRTUAL TABLE events_text USING fts5 (body, content='', contentless_delete=1, tokenize='trigram');
    CREATE TABLE search_progress (id INTEGER PRIMARY KEY CHECK (id = 1), last_event_id INTEGER NOT NULL);
    INSERT INTO search_progress VALUES (1, 0);
    "#,
    // 3: narrow covering indexes for paging through millions of events in id order without
    // reading the wide rows (images): one over every event, one per table (replaces events_table).
    r#"
    CREATE INDEX events_list ON events (id, txn_id, table_id, op);
    CREATE INDEX events_table_list ON events (table_id, id, txn_id, op);
    DROP INDEX events_table;
    "#,
    // 4: FTS5 flushes its in-memory postings into a new segment every `hashsize` bytes and
    // merges segments as they pile up; at the default 1 MiB, indexing a million events spent
    // most of its time re-merging (BENCHMARKS.md). 32 MiB of postings per flush, held only
    // while indexing, cuts that several times over.
    r#"
    INSERT INTO events_text (events_text, rank) VALUES ('hashsize', 33554432);
    "#,
    // 5: gaps in a source's history (its slot was re-created by `source reset`: the changes
    // between the two positions were never read), shown in every history that spans one; and
    // the per-table warnings already told, so each is said once per workspace.
    r#"
    CREATE TABLE gaps (
        id                INTEGER PRIMARY KEY,
        source_id         INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        from_position     TEXT NOT NULL,    -- the last position the cache holds
        from_position_num INTEGER NOT NULL,
        from_us           INTEGER,          -- commit time of the last transaction before it
        to_position       TEXT NOT NULL,    -- where the new slot starts
        to_position_num   INTEGER NOT NULL,
        to_us             INTEGER NOT NULL, -- when the new slot was created
        reason            TEXT NOT NULL
    );
    CREATE INDEX gaps_source ON gaps (source_id, from_position_num);
    CREATE TABLE table_warnings (
        source_id   INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        schema_name TEXT NOT NULL,
        table_name  TEXT NOT NULL,
        kind        TEXT NOT NULL,
        message     TEXT NOT NULL,
        created_us  INTEGER NOT NULL,
        PRIMARY KEY (source_id, schema_name, table_name, kind)
    );
    "#,
    // 6: how a transaction's events were grouped when the source has no transaction of its own:
    // NULL for the source's real transaction; 'statement' for a SQLite source whose application
    // does not number its transactions (consecutive changes made in the same millisecond).
    r#"
    ALTER TABLE transactions ADD COLUMN grouping TEXT;
    "#,
    // 7: a table dropped and created again under the same name starts a new history: the
    // server's identity of each table, and where each later incarnation begins (cache/incarnation.rs).
    r#"
    ALTER TABLE tables ADD COLUMN source_oid INTEGER;
    CREATE TABLE table_incarnations (
        table_id  INTEGER NOT NULL REFERENCES tables(id) ON DELETE CASCADE,
        since_num INTEGER NOT NULL,         -- commit position of its first stored transaction
        oid       INTEGER NOT NULL,
        PRIMARY KEY (table_id, since_num)
    );
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings `conn` up to [`SCHEMA_VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<(), CacheError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(CacheError::TooNew {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql).map_err(|e| CacheError::Migration {
            version: i as i64 + 1,
            source: e,
        })?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
