//! Export texts for the UI's download buttons: CSV (RFC 4180) and JSON Lines.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

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
    /// The export stopped at its limit; more rows match.
    pub truncated: bool,
}

impl ExportText {
    /// An export named after `stem` in `format`.
    pub(crate) fn new(stem: &str, format: ExportFormat, text: String, rows: u64, truncated: bool) -> ExportText {
        let stem: String = stem
            .chars()
            .map(|c| if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' })
            .collect();
        let (ext, content_type) = match format {
            ExportFormat::Csv => ("csv", "text/csv; charset=utf-8"),
            ExportFormat::Json => ("jsonl", "application/x-ndjson"),
        };
        ExportText {
            filename: format!("{stem}.{ext}"),
            content_type: content_type.to_string(),
            text,
            rows,
            truncated,
        }
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
