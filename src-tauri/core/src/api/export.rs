//! Exports for the UI's download buttons: CSV (RFC 4180) and JSON Lines, either as one text
//! (the `export_events` command, capped) or streamed in the list's order with no cap
//! ([`Api::export_events_stream`], which `rowtrail serve` sends as a file download).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::events::{resolve, ExportEventsRequest, Resolved, EVENTS_CSV_HEADER};
use super::{Api, ApiError};
use crate::cache::Cache;

/// Events read from the cache per step of an export (one keyset scan, one image read).
const EXPORT_STEP: u64 = 1000;
/// A streamed export hands bytes on in chunks of about this size.
const CHUNK: usize = 64 * 1024;

/// The two export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// Comma-separated values with a header row, for spreadsheets. A cell that a spreadsheet
    /// would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a
    /// leading `'`; use JSON for exact values.
    Csv,
    /// JSON Lines, one object per line, as the scripting contract prints them.
    Json,
}

/// An export, ready to save as a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportText {
    /// A file name to offer (`events.csv`, `shp-1007-history.jsonl`).
    pub filename: String,
    /// The MIME type (`text/csv; charset=utf-8`, `application/x-ndjson`).
    pub content_type: String,
    /// The file's content.
    pub text: String,
    /// Rows (events or changes) in it, header not counted.
    pub rows: u64,
    /// The export stopped at its limit; more rows match (they are the ones at the end of the
    /// list's order: the oldest when newest first).
    pub truncated: bool,
    /// Rows the filter matches (equal to `rows` unless `truncated`).
    pub total: u64,
}

impl ExportText {
    /// An export named after `stem` in `format`.
    pub(crate) fn new(stem: &str, format: ExportFormat, text: String, rows: u64, truncated: bool) -> ExportText {
        let (filename, content_type) = file_of(stem, format);
        ExportText {
            filename,
            content_type,
            text,
            rows,
            truncated,
            total: rows,
        }
    }
}

/// The file name and MIME type of an export named after `stem`.
fn file_of(stem: &str, format: ExportFormat) -> (String, String) {
    let stem: String = stem
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' })
        .collect();
    let (ext, content_type) = match format {
        ExportFormat::Csv => ("csv", "text/csv; charset=utf-8"),
        ExportFormat::Json => ("jsonl", "application/x-ndjson"),
    };
    (format!("{stem}.{ext}"), content_type.to_string())
}

/// Writes the events `f` matches (up to event id `upto`) in the list's order, as `format`,
/// handing the text on to `sink` whenever `out` holds at least `flush_at` bytes (and at the
/// end). Stops after `limit` rows; `sink` returning false (the reader went away) stops it too.
/// Returns the rows written and whether more matched; what is left in `out` is the caller's
/// to hand on.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_events(
    c: &Cache,
    f: &Resolved,
    upto: i64,
    format: ExportFormat,
    newest_first: bool,
    limit: Option<u64>,
    flush_at: usize,
    out: &mut String,
    sink: &mut dyn FnMut(&mut String) -> bool,
) -> Result<(u64, bool), ApiError> {
    if format == ExportFormat::Csv {
        csv_row(out, EVENTS_CSV_HEADER.iter().map(|s| s.to_string()));
    }
    let mut rows = 0u64;
    // Keyset: the next step starts after (or, newest first, before) the last id written.
    let mut cursor: Option<i64> = None;
    loop {
        let mut ids = Vec::new();
        let (lo, hi) = if newest_first {
            (None, Some(cursor.map_or((upto, true), |c| (c, false))))
        } else {
            (cursor.map(|c| (c, false)), Some((upto, true)))
        };
        f.scan_ids(c, lo, hi, newest_first, Some(EXPORT_STEP), 0, |id| {
            ids.push(id);
            true
        })?;
        let Some(&last) = ids.last() else { return Ok((rows, false)) };
        cursor = Some(last);
        let mut events = c.events_by_ids(&ids)?;
        if newest_first {
            // They come back by id; the list shows them the other way.
            events.reverse();
        }
        for e in events {
            if limit == Some(rows) {
                return Ok((rows, true));
            }
            rows += 1;
            let j = e.to_json();
            match format {
                ExportFormat::Json => {
                    out.push_str(&j.to_string());
                    out.push('\n');
                }
                ExportFormat::Csv => {
                    let s = |k: &str| match &j[k] {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    let changed = e.changed_columns().join(",");
                    let fields: Vec<String> = EVENTS_CSV_HEADER
                        .iter()
                        .map(|k| if *k == "changed" { changed.clone() } else { s(k) })
                        .collect();
                    csv_row(out, fields.into_iter());
                }
            }
            if out.len() >= flush_at && !sink(out) {
                return Ok((rows, false));
            }
        }
    }
}

/// `export_events`: the filtered list as one text, in the list's order, at most `limit`
/// rows (default and maximum [`super::events::MAX_EXPORT_EVENTS`]). When the cap cuts it, the
/// rows kept are those at the top of the list and `total` says how many matched; the browser
/// face streams instead ([`Api::export_events_stream`]) and has no cap.
pub(crate) async fn export_events(api: &Api, req: ExportEventsRequest) -> Result<ExportText, ApiError> {
    let max = super::events::MAX_EXPORT_EVENTS;
    let limit = req.limit.unwrap_or(max).clamp(1, max);
    let filter = req.filter.unwrap_or_default();
    let format = req.format;
    let newest_first = req.newest_first.unwrap_or(false);
    let positions = api.clone();
    api.with_cache(move |c| {
        let f = resolve(c, &filter)?;
        let upto = f.scan_limit(c)?;
        let mut text = String::new();
        let (rows, truncated) = write_events(c, &f, upto, format, newest_first, Some(limit), usize::MAX, &mut text, &mut |_| true)?;
        let total = if truncated {
            let entry = positions.inner.positions.get(c, &f, None)?;
            let idx = entry.lock().map_err(|_| ApiError::internal("position index poisoned"))?;
            idx.count().max(rows)
        } else {
            rows
        };
        let mut x = ExportText::new("events", format, text, rows, truncated);
        x.total = total;
        Ok(x)
    })
    .await
}

/// A streamed export: what to call the file, then its bytes in order.
#[derive(Debug)]
pub struct ExportStream {
    /// A file name to offer (`events.csv`).
    pub filename: String,
    /// The MIME type.
    pub content_type: String,
    /// The file's bytes, chunk by chunk; an `Err` ends it early (the cache failed mid-way).
    pub chunks: tokio::sync::mpsc::Receiver<Result<Vec<u8>, ApiError>>,
}

impl Api {
    /// The filtered list as a file, in the list's order (`newest_first`), every matching row
    /// however many (`limit` is honoured when given): read from the cache a step at a time
    /// and handed on as it is written, so a million rows never sit in memory. A bad filter is
    /// an error here, before any byte; dropping the receiver stops the work.
    pub async fn export_events_stream(&self, req: ExportEventsRequest) -> Result<ExportStream, ApiError> {
        let filter = req.filter.unwrap_or_default();
        let format = req.format;
        let newest_first = req.newest_first.unwrap_or(false);
        let limit = req.limit;
        let path = self.inner.cache_path.clone();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, ApiError>>(4);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), ApiError>>();
        tokio::task::spawn_blocking(move || {
            // Its own connection: a long export must not hold one of the list's readers.
            let prepared = Cache::open(&path).map_err(ApiError::from).and_then(|c| {
                let f = resolve(&c, &filter)?;
                let upto = f.scan_limit(&c)?;
                Ok((c, f, upto))
            });
            let (c, f, upto) = match prepared {
                Ok(x) => {
                    let _ = ready_tx.send(Ok(()));
                    x
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let mut out = String::with_capacity(CHUNK * 2);
            let mut send = |buf: &mut String| -> bool {
                if buf.is_empty() {
                    return true;
                }
                let bytes = std::mem::take(buf).into_bytes();
                tx.blocking_send(Ok(bytes)).is_ok()
            };
            match write_events(&c, &f, upto, format, newest_first, limit, CHUNK, &mut out, &mut send) {
                Ok(_) => {
                    send(&mut out);
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                }
            }
        });
        ready_rx.await.map_err(|_| ApiError::internal("the export stopped before it started"))??;
        let (filename, content_type) = file_of("events", format);
        Ok(ExportStream { filename, content_type, chunks: rx })
    }
}

/// Appends one CSV record (CRLF-terminated, as RFC 4180 says).
pub(crate) fn csv_row(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, &f);
    }
    out.push_str("\r\n");
}

fn csv_field(out: &mut String, f: &str) {
    let formula = f.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || f.contains([',', '"', '\n', '\r']) || f.starts_with(' ') || f.ends_with(' ');
    if !quote {
        out.push_str(f);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    for ch in f.chars() {
        if ch == '"' {
            out.push('"');
        }
        out.push(ch);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut s = String::new();
        csv_row(
            &mut s,
            ["plain", "a,b", "say \"hi\"", "two\nlines", "", "=1+2", "-5", " pad"].iter().map(|s| s.to_string()),
        );
        assert_eq!(s, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,\"'=1+2\",\"'-5\",\" pad\"\r\n");
    }
}
