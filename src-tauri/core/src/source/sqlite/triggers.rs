//! The capture triggers' SQL.

use super::shape::TableShape;
use super::{quote_ident, CONTEXT_TABLE, LOG_TABLE, PREFIX};
use crate::event::Op;

/// A trigger's name: `_rowtrail_<table>_<op>`, the table name reduced to `[A-Za-z0-9_]` and,
/// when that changed it, followed by a hash of the exact name so that distinct tables never
/// share a trigger name.
pub(super) fn trigger_name(table: &str, op: Op) -> String {
    let mut s: String = table
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s != table {
        s.push_str(&format!("_{:08x}", fnv1a32(table.as_bytes())));
    }
    format!("{PREFIX}{s}_{}", op.as_str())
}

pub(super) fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The SQL expression building the JSON object of a row image (`NEW` or `OLD`).
///
/// Built by concatenating `json_quote` of each value rather than one `json_object(…)` call, so
/// wide tables do not hit SQLite's limit on function arguments; the concatenation is a
/// balanced tree so they do not hit the expression depth limit either.
pub(super) fn image_expr(row: &str, shape: &TableShape) -> String {
    let mut terms: Vec<String> = Vec::with_capacity(shape.columns.len() * 2 + 1);
    for (i, c) in shape.columns.iter().enumerate() {
        let json_key = serde_json::Value::String(c.name.clone()).to_string();
        let sep = if i == 0 { "{" } else { "," };
        terms.push(quote_literal(&format!("{sep}{json_key}:")));
        let v = if shape.rowid == Some(c.name.as_str()) && c.key {
            format!("{row}.{}", c.name)
        } else {
            format!("{row}.{}", quote_ident(&c.name))
        };
        terms.push(format!(
            "json_quote(CASE typeof({v}) WHEN 'blob' THEN '\\x' || lower(hex({v})) ELSE CAST({v} AS TEXT) END)"
        ));
    }
    if terms.is_empty() {
        return "'{}'".to_string();
    }
    terms.push("'}'".to_string());
    balanced_concat(&terms)
}

pub(super) fn balanced_concat(terms: &[String]) -> String {
    match terms.len() {
        0 => "''".to_string(),
        1 => terms[0].clone(),
        n => {
            let (a, b) = terms.split_at(n / 2);
            format!("({} || {})", balanced_concat(a), balanced_concat(b))
        }
    }
}

pub(super) fn trigger_sql(table: &str, shape: &TableShape, op: Op) -> String {
    let (event, old, new) = match op {
        Op::Insert => ("INSERT", "NULL".to_string(), image_expr("NEW", shape)),
        Op::Update => ("UPDATE", image_expr("OLD", shape), image_expr("NEW", shape)),
        _ => ("DELETE", image_expr("OLD", shape), "NULL".to_string()),
    };
    format!(
        "CREATE TRIGGER {trigger} AFTER {event} ON {table_q} FOR EACH ROW BEGIN
  INSERT INTO {LOG_TABLE} (txn, stmt_at, tbl, op, old, new, actor, reason)
  SELECT coalesce(c.txn, 0), strftime('%Y-%m-%d %H:%M:%f', 'now'), {table_lit}, '{op}', {old}, {new}, c.actor, c.reason
  FROM (SELECT 1) LEFT JOIN (SELECT txn, actor, reason FROM {CONTEXT_TABLE} LIMIT 1) AS c;
END",
        trigger = quote_ident(&trigger_name(table, op)),
        table_q = quote_ident(table),
        table_lit = quote_literal(table),
        op = op.as_str(),
    )
}

/// Quotes an SQL string literal: single quotes, inner single quotes doubled.
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
