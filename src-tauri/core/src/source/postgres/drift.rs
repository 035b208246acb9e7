//! Changes made on the server behind Rowtrail's back that leave holes in what is captured:
//! a table taken out of a publication (`ALTER PUBLICATION … DROP TABLE`), a publication
//! dropped, a table dropped, or dropped and created again under the same name.
//!
//! Checked whenever a source connects (`sync`, `watch`), by `source status` and by the
//! Sources screen, against what Rowtrail knows of each table: its OID when the source was
//! added ([`PgSourceConfig::tables`]) or, newer, when the stream last announced it (the
//! cache's `tables.source_oid`). A re-created table's changes start a new history in the
//! cache (see `cache::incarnation`); this module only says what happened.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::catalog::quote_ident;
use super::conn::describe_pg_error;
use super::PgSourceConfig;

/// A captured table as it was when Rowtrail last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownTable {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// The server's OID for it then (a re-created table gets a new one).
    pub oid: u32,
}

/// The OIDs of `tables` (`(schema, name)`) on the server now, in one round trip; missing
/// tables are left out.
pub async fn table_oids(client: &Client, tables: &[(String, String)]) -> Result<Vec<KnownTable>, String> {
    let schemas: Vec<&str> = tables.iter().map(|t| t.0.as_str()).collect();
    let names: Vec<&str> = tables.iter().map(|t| t.1.as_str()).collect();
    let rows = client
        .query(
            "SELECT s, n, to_regclass(quote_ident(s) || '.' || quote_ident(n))::oid
             FROM unnest($1::text[], $2::text[]) AS t(s, n)",
            &[&schemas, &names],
        )
        .await
        .map_err(|e| describe_pg_error(&e))?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(KnownTable {
                schema: r.get(0),
                name: r.get(1),
                oid: r.get::<_, Option<u32>>(2)?,
            })
        })
        .collect())
}

/// What changed on the server that leaves a hole in this source's capture, one sentence
/// each (naming the table or publication and what to run); empty when nothing did.
/// `cache_oids` holds the OIDs the stream last announced per `(schema, table)`; they win
/// over the ones recorded when the source was added.
pub async fn capture_drift(
    client: &Client,
    cfg: &PgSourceConfig,
    cache_oids: &HashMap<(String, String), u32>,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let rows = client
        .query(
            "SELECT p.pubname::text, t.schemaname::text, t.tablename::text
             FROM pg_publication p LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname
             WHERE p.pubname = ANY($1)",
            &[&cfg.publications],
        )
        .await
        .map_err(|e| describe_pg_error(&e))?;
    let mut existing: Vec<String> = Vec::new();
    let mut published: HashMap<(String, String), String> = HashMap::new();
    for r in &rows {
        let pubname: String = r.get(0);
        if let (Some(s), Some(t)) = (r.get::<_, Option<String>>(1), r.get::<_, Option<String>>(2)) {
            published.insert((s, t), pubname.clone());
        }
        if !existing.contains(&pubname) {
            existing.push(pubname);
        }
    }
    for p in &cfg.publications {
        if !existing.contains(p) {
            problems.push(format!(
                "publication {p} no longer exists on the server: none of its tables' changes are captured (remove the source and add it again)"
            ));
        }
    }
    let mut known: Vec<KnownTable> = cfg.tables.clone();
    for ((schema, name), oid) in cache_oids {
        match known.iter_mut().find(|k| &k.schema == schema && &k.name == name) {
            Some(k) => k.oid = *oid,
            None => known.push(KnownTable {
                schema: schema.clone(),
                name: name.clone(),
                oid: *oid,
            }),
        }
    }
    known.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    let names: Vec<(String, String)> = known.iter().map(|k| (k.schema.clone(), k.name.clone())).collect();
    let now = table_oids(client, &names).await?;
    // The publication a table would be added back to: the one that holds tables with
    // replica identity (the first), as `source add` made it.
    let main_pub = cfg.publications.first().cloned().unwrap_or_default();
    for k in &known {
        let label = format!("{}.{}", k.schema, k.name);
        let quoted = format!("{}.{}", quote_ident(&k.schema), quote_ident(&k.name));
        let current = now.iter().find(|n| n.schema == k.schema && n.name == k.name);
        let in_pub = published.contains_key(&(k.schema.clone(), k.name.clone()));
        match current {
            None => problems.push(format!(
                "table {label} was dropped on the server: nothing more of it is captured"
            )),
            Some(c) if c.oid != k.oid => problems.push(if in_pub {
                format!(
                    "table {label} was dropped and created again (OID {} is now {}): changes between the drop and its return to the publication are missing, and the new table's changes start a new history",
                    k.oid, c.oid
                )
            } else {
                format!(
                    "table {label} was dropped and created again (OID {} is now {}) and the new table is not in publication {main_pub}: its changes are not captured. To capture them: ALTER PUBLICATION {} ADD TABLE {quoted}",
                    k.oid,
                    c.oid,
                    quote_ident(&main_pub)
                )
            }),
            Some(_) if !in_pub && existing.contains(&main_pub) => problems.push(format!(
                "table {label} is no longer in publication {main_pub} (altered outside Rowtrail): its changes are not captured. To capture them again: ALTER PUBLICATION {} ADD TABLE {quoted}",
                quote_ident(&main_pub)
            )),
            Some(_) => {}
        }
    }
    Ok(problems)
}
