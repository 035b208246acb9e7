//! The event model shared by every source, the cache and every reader.
//!
//! A [`ChangeEvent`] is one committed row change. Values keep the database's own text form
//! (never parsed into Rust numbers or times) so that nothing is rounded and a revert can write
//! back exactly what was read.

use serde::{Deserialize, Serialize};

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// A new row.
    Insert,
    /// A changed row (possibly with a changed key).
    Update,
    /// A removed row.
    Delete,
    /// The whole table was emptied; the event carries no images.
    Truncate,
}

impl Op {
    /// The lowercase name used in the cache, the CLI and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Truncate => "truncate",
        }
    }

    /// Parses the lowercase name back; `None` for anything else.
    pub fn parse(s: &str) -> Option<Op> {
        match s {
            "insert" => Some(Op::Insert),
            "update" => Some(Op::Update),
            "delete" => Some(Op::Delete),
            "truncate" => Some(Op::Truncate),
            _ => None,
        }
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One column value as a source delivered it.
///
/// `Missing` is the explicit "not sent" state (PostgreSQL's unchanged-TOAST marker, or the
/// absent old tuple of a `REPLICA IDENTITY DEFAULT` update). The cache fills it from the
/// record's previous version and marks the column as inferred; it is never shown as NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// The value in the database's own text form.
    Text(String),
    /// The source did not send this value.
    Missing,
}

impl Cell {
    /// The value as an optional string, treating `Missing` like NULL. Only for callers that
    /// have already filled missing values.
    pub fn as_opt_str(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// A column of a table as the source described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDef {
    /// Column name, exactly as in the database (any characters).
    pub name: String,
    /// The database's type name (`numeric`, `timestamptz`, `text[]`, an enum's name, …).
    #[serde(rename = "type")]
    pub type_name: String,
    /// Whether the column is part of the record key (primary key or replica identity).
    pub key: bool,
}

/// A table's shape at some point of the stream. Sources send a new one whenever the table's
/// columns change, so each event is read against the shape it was written with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// Schema (namespace); `main` for SQLite.
    pub schema: String,
    /// Table name.
    pub table: String,
    /// Columns in table order.
    pub columns: Vec<ColumnDef>,
}

impl Relation {
    /// Indexes of the key columns, in table order.
    pub fn key_indexes(&self) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.key)
            .map(|(i, _)| i)
            .collect()
    }
}

/// One row change inside a transaction. Images are aligned with the relation's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// The operation.
    pub op: Op,
    /// The row before the change (`None` for inserts and truncates). For updates it may be
    /// all `Missing` when the source sent no old tuple.
    pub before: Option<Vec<Cell>>,
    /// The row after the change (`None` for deletes and truncates).
    pub after: Option<Vec<Cell>>,
}

/// A committed transaction's identity, as the source reports it at its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnMeta {
    /// The source's own transaction id as its users know it (PostgreSQL's xid).
    pub txid: String,
    /// The source position as users read it (`0/16B3748` for PostgreSQL, a log id otherwise).
    pub position: String,
    /// The same position as a number that orders transactions of this source; the cache
    /// skips any transaction whose number is not above the last stored one.
    pub position_num: i64,
    /// Commit time, microseconds since the Unix epoch (UTC).
    pub committed_us: i64,
}
