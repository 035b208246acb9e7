//! The Record screen: one record's history, any two versions compared, and its export.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::events::{summary_of, ColumnInfo, EventSummary};
use super::export::{csv_row, ExportFormat, ExportText};
use super::{Api, ApiError};
use crate::cache::Cache;
use crate::event::Cell;
use crate::history::{self, FieldChange, History};
use crate::time_fmt::format_us;

/// Which record: a table and its key.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct RecordRequest {
    /// Source name, when several sources have a table of that name.
    pub source: Option<String>,
    /// Table as `name` or `schema.name`.
    pub table: String,
    /// The key: values in key-column order (`["5001"]`, `[5001, 2]`) or by column
    /// (`{"shp_id": "5001", "ln_no": "2"}`). Numbers are read as their decimal text.
    #[ts(type = "Array<string | number> | Record<string, string | number>")]
    pub key: Value,
}

/// One version of a record: the state after one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct VersionInfo {
    /// 1-based version number, oldest first.
    pub number: u64,
    /// The event that made it (time, operation, transaction, context, …).
    pub event: EventSummary,
    /// What the event changed, changed columns in table order.
    pub changes: Vec<FieldChange>,
    /// Number of columns it left unchanged.
    pub unchanged: u64,
    /// Columns whose values were filled from an earlier version rather than sent.
    pub inferred: Vec<String>,
    /// Columns the event set without their earlier value being known (neither sent nor
    /// inferable: a history that starts mid-way on a table whose updates carry only the key).
    pub unknown_old: Vec<UnknownOld>,
}

/// A column whose new value is known but whose earlier value is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UnknownOld {
    /// Column name.
    pub column: String,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The new value (null: SQL NULL).
    pub new: Option<String>,
}

/// The columns of an event whose old value is unknown and new value known.
pub(crate) fn unknown_old(e: &crate::cache::query::EventRow) -> Vec<UnknownOld> {
    let (Some(b), Some(a)) = (&e.before, &e.after) else { return Vec::new() };
    e.columns
        .iter()
        .zip(b.iter().zip(a))
        .filter(|(_, (old, new))| matches!(old, Cell::Missing) && !matches!(new, Cell::Missing))
        .map(|(c, (_, new))| UnknownOld {
            column: c.name.clone(),
            type_name: c.type_name.clone(),
            new: new.as_opt_str().map(str::to_string),
        })
        .collect()
}

/// A record's whole history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RecordHistory {
    /// Source name.
    pub source: String,
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// `schema.table`.
    pub qualified: String,
    /// The key: `[column, value]` in key order.
    pub key: Vec<(String, String)>,
    /// The key column names, in key order.
    pub key_columns: Vec<String>,
    /// The table's newest columns with their types.
    pub columns: Vec<ColumnInfo>,
    /// Versions, oldest first.
    pub versions: Vec<VersionInfo>,
    /// Stretches of the source's stream that were never read (a slot re-created by `source
    /// reset`) within this history: the record may have changed there unseen.
    pub gaps: Vec<GapInfo>,
}

/// A gap in a record's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GapInfo {
    /// The version the gap follows (the next version, if any, was read after it).
    pub after_version: u64,
    /// The last position read before the gap.
    pub from_position: String,
    /// Commit time of the last transaction read before it (RFC 3339), if known.
    pub from_time: Option<String>,
    /// Where reading started again.
    pub to_position: String,
    /// When reading started again (RFC 3339).
    pub to_time: String,
    /// Why.
    pub reason: String,
    /// One sentence for people.
    pub message: String,
}

impl From<&crate::cache::notes::HistoryGap> for GapInfo {
    fn from(g: &crate::cache::notes::HistoryGap) -> GapInfo {
        GapInfo {
            after_version: g.after_version as u64,
            from_position: g.gap.from_position.clone(),
            from_time: g.gap.from_us.map(format_us),
            to_position: g.gap.to_position.clone(),
            to_time: format_us(g.gap.to_us),
            reason: g.gap.reason.clone(),
            message: g.describe(),
        }
    }
}

fn key_text(v: &Value, what: &str) -> Result<String, ApiError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(ApiError::bad_request(format!("key: {what} must be a string or a number"))),
    }
}

/// Reads the history of the record `table`/`key` asks for.
pub(crate) fn load_history(c: &Cache, source: Option<&str>, table: &str, key: &Value) -> Result<History, ApiError> {
    let t = history::resolve_table(c, source, table)?;
    let key_cols: Vec<String> = c.table_columns(t.id)?.into_iter().filter(|c| c.key).map(|c| c.name).collect();
    if key_cols.is_empty() {
        // The history says the table has no key and where to look instead.
        return Ok(history::record_history(c, Some(&t.source), &t.qualified(), &[])?);
    }
    // Always hand the history the `column=value` form, so no value is mistaken for a name.
    let named: Vec<String> = match key {
        Value::Array(vals) => {
            if vals.len() != key_cols.len() {
                return Err(ApiError::bad_request(format!(
                    "key: table {} has {} key column(s) ({}); got {} value(s)",
                    t.qualified(),
                    key_cols.len(),
                    key_cols.join(", "),
                    vals.len()
                )));
            }
            key_cols
                .iter()
                .zip(vals)
                .map(|(k, v)| Ok(format!("{k}={}", key_text(v, k)?)))
                .collect::<Result<_, ApiError>>()?
        }
        Value::Object(m) => {
            if let Some(extra) = m.keys().find(|k| !key_cols.contains(k)) {
                return Err(ApiError::bad_request(format!(
                    "key: {extra:?} is not a key column of {} (its key: {})",
                    t.qualified(),
                    key_cols.join(", ")
                )));
            }
            key_cols
                .iter()
                .map(|k| match m.get(k) {
                    Some(v) => Ok(format!("{k}={}", key_text(v, k)?)),
                    None => Err(ApiError::bad_request(format!("key: no value for key column {k:?} of {}", t.qualified()))),
                })
                .collect::<Result<_, ApiError>>()?
        }
        Value::String(_) | Value::Number(_) if key_cols.len() == 1 => vec![format!("{}={}", key_cols[0], key_text(key, &key_cols[0])?)],
        _ => {
            return Err(ApiError::bad_request(format!(
                "key: give the values of {} as a list or an object",
                key_cols.join(", ")
            )))
        }
    };
    Ok(history::record_history(c, Some(&t.source), &t.qualified(), &named)?)
}

/// `record_history`.
pub async fn record_history(api: &Api, req: RecordRequest) -> Result<RecordHistory, ApiError> {
    api.with_cache(move |c| {
        let h = load_history(c, req.source.as_deref(), &req.table, &req.key)?;
        let columns = c.table_columns(h.table.id)?.iter().map(ColumnInfo::from).collect();
        let gaps = c.history_gaps(&h)?.iter().map(GapInfo::from).collect();
        Ok(RecordHistory {
            gaps,
            source: h.table.source.clone(),
            schema: h.table.schema.clone(),
            table: h.table.table.clone(),
            qualified: h.table.qualified(),
            key_columns: h.key.iter().map(|(k, _)| k.clone()).collect(),
            key: h.key.clone(),
            columns,
            versions: h
                .versions
                .iter()
                .map(|v| VersionInfo {
                    number: v.number as u64,
                    event: summary_of(&v.event),
                    changes: v.changes.clone(),
                    unchanged: v.unchanged as u64,
                    inferred: v.event.inferred.clone(),
                    unknown_old: unknown_old(&v.event),
                })
                .collect(),
        })
    })
    .await
}

/// Compare two versions of a record.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct CompareRequest {
    /// Source name, when several sources have a table of that name.
    pub source: Option<String>,
    /// Table as `name` or `schema.name`.
    pub table: String,
    /// The key, as in `record_history`.
    #[ts(type = "Array<string | number> | Record<string, string | number>")]
    pub key: Value,
    /// One version number (see `record_history`).
    pub from: u64,
    /// The other (either order).
    pub to: u64,
}

/// A column equal in both versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UnchangedField {
    /// Column name.
    pub column: String,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The value in both versions (null: SQL NULL).
    pub value: Option<String>,
}

/// Two versions side by side: what differs first, what is equal available for folding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Comparison {
    /// The first version asked for.
    pub from: u64,
    /// The second.
    pub to: u64,
    /// Columns that differ, in table order.
    pub changes: Vec<FieldChange>,
    /// Columns equal in both, in table order.
    pub unchanged: Vec<UnchangedField>,
}

/// `compare_versions`.
pub async fn compare_versions(api: &Api, req: CompareRequest) -> Result<Comparison, ApiError> {
    api.with_cache(move |c| {
        let h = load_history(c, req.source.as_deref(), &req.table, &req.key)?;
        let changes = h.compare(req.from as usize, req.to as usize)?;
        type State = Vec<(String, String, Cell)>;
        let state = |n: u64| -> State {
            let e = &h.versions[n as usize - 1].event;
            match &e.after {
                Some(img) => e.columns.iter().zip(img).map(|(c, v)| (c.name.clone(), c.type_name.clone(), v.clone())).collect(),
                None => Vec::new(),
            }
        };
        let (a, b) = (state(req.from), state(req.to));
        let unchanged = b
            .iter()
            .filter(|(n, _, _)| !changes.iter().any(|ch| ch.column == *n))
            .filter_map(|(n, t, v)| {
                let old = a.iter().find(|(m, _, _)| m == n).map(|(_, _, c)| c)?;
                match (old, v) {
                    (Cell::Missing, _) | (_, Cell::Missing) => None,
                    (x, y) if x == y => Some(UnchangedField {
                        column: n.clone(),
                        type_name: t.clone(),
                        value: y.as_opt_str().map(str::to_string),
                    }),
                    _ => None,
                }
            })
            .collect();
        Ok(Comparison {
            from: req.from,
            to: req.to,
            changes,
            unchanged,
        })
    })
    .await
}

/// Export a record's history.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct ExportHistoryRequest {
    /// Source name, when several sources have a table of that name.
    pub source: Option<String>,
    /// Table as `name` or `schema.name`.
    pub table: String,
    /// The key, as in `record_history`.
    #[ts(type = "Array<string | number> | Record<string, string | number>")]
    pub key: Value,
    /// CSV (one row per changed column of each version) or JSON Lines (one version per line).
    pub format: ExportFormat,
}

/// The CSV header of a history export. Columns are only ever added at the end, so scripts
/// that read them by position keep working. `old_unknown` is `true` when the old value is not
/// known (never sent, not inferable): `old` is then empty, as it is for NULL, and only this
/// column tells the two apart.
pub(crate) const HISTORY_CSV_HEADER: [&str; 13] = [
    "version", "event_id", "committed_at", "source", "txid", "op", "context", "column", "type", "old", "new", "inferred",
    "old_unknown",
];

/// `export_history`: oldest version first.
pub async fn export_history(api: &Api, req: ExportHistoryRequest) -> Result<ExportText, ApiError> {
    api.with_cache(move |c| {
        let h = load_history(c, req.source.as_deref(), &req.table, &req.key)?;
        let mut text = String::new();
        let mut rows = 0u64;
        match req.format {
            ExportFormat::Json => {
                for v in &h.versions {
                    let mut o = v.event.to_json();
                    if let Some(m) = o.as_object_mut() {
                        m.insert("version".into(), v.number.into());
                        let changes = v.changes.clone();
                        m.insert("changes".into(), serde_json::to_value(changes).unwrap_or_default());
                    }
                    text.push_str(&o.to_string());
                    text.push('\n');
                    rows += 1;
                }
            }
            ExportFormat::Csv => {
                csv_row(&mut text, HISTORY_CSV_HEADER.iter().map(|s| s.to_string()));
                for v in &h.versions {
                    let e = &v.event;
                    let ctx = serde_json::Value::Object(e.context.clone()).to_string();
                    let base = [
                        v.number.to_string(),
                        e.id.to_string(),
                        format_us(e.committed_us),
                        e.source.clone(),
                        e.txid.clone(),
                        e.op.to_string(),
                        ctx,
                    ];
                    if v.changes.is_empty() {
                        let empty = HISTORY_CSV_HEADER.len() - base.len();
                        csv_row(&mut text, base.iter().cloned().chain(std::iter::repeat_n(String::new(), empty)));
                        rows += 1;
                    }
                    for ch in &v.changes {
                        let more = [
                            ch.column.clone(),
                            ch.type_name.clone(),
                            ch.old.clone().unwrap_or_default(),
                            ch.new.clone().unwrap_or_default(),
                            ch.inferred.to_string(),
                            ch.unknown.to_string(),
                        ];
                        csv_row(&mut text, base.iter().cloned().chain(more));
                        rows += 1;
                    }
                }
            }
        }
        let key: Vec<&str> = h.key.iter().map(|(_, v)| v.as_str()).collect();
        let stem = format!("{}-{}-history", h.table.table, key.join("-"));
        Ok(ExportText::new(&stem, req.format, text, rows, false))
    })
    .await
}
