//! The shapes of captured tables: as the database has them now and as [`install`](super::install)
//! recorded them.

use std::collections::HashMap;

use rusqlite::Connection;

use super::is_internal;
use crate::event::ColumnDef;

/// `(name, kind)` of every table-like object of the main schema (`table`, `view`, `virtual`, …).
pub(super) fn list_tables(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT name, type FROM pragma_table_list WHERE schema = 'main' AND type <> 'shadow' ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// A table's captured columns.
pub(super) struct TableShape {
    /// Columns in image order (the rowid alias first when the table has no primary key).
    pub(super) columns: Vec<ColumnDef>,
    /// Key column names in primary-key order.
    pub(super) key_order: Vec<String>,
    /// The rowid alias used as key when the table has no primary key.
    pub(super) rowid: Option<&'static str>,
}

impl TableShape {
    pub(super) fn key_names(&self) -> Vec<String> {
        self.key_order.clone()
    }
}

/// Reads a table's shape from `pragma_table_info`; `None` when the table does not exist.
/// Without a primary key, a `rowid` alias that no column shadows becomes the key column.
pub(super) fn table_shape(conn: &Connection, table: &str) -> rusqlite::Result<Option<TableShape>> {
    let mut stmt = conn
        .prepare_cached("SELECT name, type, pk FROM pragma_table_info(?1, 'main') ORDER BY cid")?;
    let rows = stmt.query_map([table], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let cols: Vec<(String, String, i64)> = rows.collect::<Result<_, _>>()?;
    if cols.is_empty() {
        return Ok(None);
    }
    let mut pk: Vec<(i64, String)> = cols
        .iter()
        .filter(|c| c.2 > 0)
        .map(|c| (c.2, c.0.clone()))
        .collect();
    pk.sort();
    let mut columns: Vec<ColumnDef> = cols
        .into_iter()
        .map(|(name, type_name, pk)| ColumnDef {
            name,
            type_name,
            key: pk > 0,
        })
        .collect();
    if !pk.is_empty() {
        return Ok(Some(TableShape {
            columns,
            key_order: pk.into_iter().map(|p| p.1).collect(),
            rowid: None,
        }));
    }
    let alias = ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|a| !columns.iter().any(|c| c.name.eq_ignore_ascii_case(a)));
    if let Some(alias) = alias {
        columns.insert(
            0,
            ColumnDef {
                name: alias.to_string(),
                type_name: "INTEGER".to_string(),
                key: true,
            },
        );
        Ok(Some(TableShape {
            columns,
            key_order: vec![alias.to_string()],
            rowid: Some(alias),
        }))
    } else {
        Ok(Some(TableShape {
            columns,
            key_order: Vec::new(),
            rowid: None,
        }))
    }
}

/// Column shapes known for the captured tables: as recorded by [`install`], and as the
/// database has them now.
#[derive(Default)]
pub(super) struct Shapes {
    pub(super) recorded: HashMap<String, Vec<ColumnDef>>,
    pub(super) live: HashMap<String, Vec<ColumnDef>>,
}

pub(super) fn load_shapes(conn: &Connection) -> rusqlite::Result<Shapes> {
    let mut shapes = Shapes::default();
    let has_shapes: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '_rowtrail_tables'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if has_shapes {
        let mut stmt = conn.prepare("SELECT tbl, columns FROM _rowtrail_tables")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (tbl, cols) = row?;
            // A damaged shape row only costs types and key flags: the live table fills in.
            if let Ok(cols) = serde_json::from_str::<Vec<ColumnDef>>(&cols) {
                shapes.recorded.insert(tbl, cols);
            }
        }
    }
    for (name, kind) in list_tables(conn)? {
        if kind == "table" && !is_internal(&name) {
            if let Some(shape) = table_shape(conn, &name)? {
                shapes.live.insert(name, shape.columns);
            }
        }
    }
    Ok(shapes)
}
