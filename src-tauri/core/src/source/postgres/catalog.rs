//! Catalog work on the source server: checking prerequisites, planning and creating the
//! publication and slot, slot health, and the column facts the stream needs (type names and
//! primary keys). Every identifier is quoted and every value bound.

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::conn::describe_pg_error;

/// Which tables a source captures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum TableScope {
    /// Every user table of the database.
    All,
    /// Every table of one schema.
    Schema(String),
    /// These tables (`name` or `schema.name`).
    List(Vec<String>),
}

/// A table on the server with what matters for capturing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableInfo {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// `default`, `full`, `index` or `nothing`.
    pub replica_identity: String,
    /// Whether the table has a primary key.
    pub has_primary_key: bool,
    /// Whether the connected role may add it to a publication (owns it or is superuser).
    pub can_publish: bool,
}

impl TableInfo {
    /// Whether UPDATE/DELETE can be published without making them fail on the source.
    pub fn has_replica_identity(&self) -> bool {
        match self.replica_identity.as_str() {
            "full" | "index" => true,
            "default" => self.has_primary_key,
            _ => false,
        }
    }

    /// `"schema"."name"`, quoted.
    pub fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }
}

/// Exactly what `source add` will create on the server; shown to the user before anything runs.
#[derive(Debug, Clone, Serialize)]
pub struct SetupPlan {
    /// The logical replication slot.
    pub slot: String,
    /// Publication for tables published with inserts, updates, deletes and truncates.
    pub publication: String,
    /// Publication for tables without a replica identity, published for inserts only
    /// (publishing their updates would make every UPDATE/DELETE on them fail on the source).
    pub insert_only_publication: Option<String>,
    /// Tables published fully.
    pub tables: Vec<TableInfo>,
    /// Tables published for inserts only.
    pub insert_only_tables: Vec<TableInfo>,
    /// Warnings to show (partial images, insert-only tables).
    pub warnings: Vec<String>,
    /// The SQL that will run, in order.
    pub statements: Vec<String>,
}

/// A problem that stops setup, with the command that fixes it.
#[derive(Debug, Clone)]
pub struct Prereq {
    /// What is missing.
    pub problem: String,
    /// What to run or change.
    pub fix: String,
}

/// Health of one `rowtrail_%` replication slot.
#[derive(Debug, Clone, Serialize)]
pub struct SlotStatus {
    /// Slot name.
    pub slot: String,
    /// Whether a client is streaming from it now.
    pub active: bool,
    /// `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13+).
    pub wal_status: Option<String>,
    /// Bytes of WAL the server keeps for this slot.
    pub retained_bytes: Option<i64>,
    /// Bytes between the server's current WAL position and what the slot confirmed.
    pub lag_bytes: Option<i64>,
    /// The slot's confirmed position.
    pub confirmed_flush: Option<String>,
}

/// Quotes an identifier for SQL (`"a""b"`).
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The slot and publication base name for a source name: `rowtrail_` + lowercase letters,
/// digits and underscores (slot names allow nothing else), at most 63 bytes with suffixes.
pub fn object_name(source: &str) -> String {
    let mut s: String = source
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    s.truncate(40);
    format!("rowtrail_{s}")
}

fn err(e: tokio_postgres::Error) -> String {
    describe_pg_error(&e)
}

/// Checks `wal_level` and the REPLICATION attribute; each problem comes with its fix.
pub async fn check_prerequisites(client: &Client) -> Result<Vec<Prereq>, String> {
    let mut out = Vec::new();
    let wal_level: String = client.query_one("SHOW wal_level", &[]).await.map_err(err)?.get(0);
    if wal_level != "logical" {
        out.push(Prereq {
            problem: format!("the server's wal_level is {wal_level}, logical replication needs logical"),
            fix: "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (on a managed service, enable logical replication in its settings, e.g. rds.logical_replication = 1 or cloudsql.logical_decoding = on)".into(),
        });
    }
    let row = client
        .query_one(
            "SELECT current_user::text, rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .map_err(err)?;
    let (user, can): (String, bool) = (row.get(0), row.get(1));
    if !can {
        out.push(Prereq {
            problem: format!("role {user} lacks the REPLICATION attribute"),
            fix: format!("ALTER ROLE {} WITH REPLICATION;  (run as a superuser)", quote_ident(&user)),
        });
    }
    Ok(out)
}

/// Lists the user tables in `scope` with their replica identity and whether we may publish them.
pub async fn list_tables(client: &Client, scope: &TableScope) -> Result<Vec<TableInfo>, String> {
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text,
                    CASE c.relreplident WHEN 'd' THEN 'default' WHEN 'f' THEN 'full' WHEN 'i' THEN 'index' ELSE 'nothing' END,
                    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
                    pg_has_role(current_user, c.relowner, 'USAGE')
                      OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
             ORDER BY 1, 2",
            &[],
        )
        .await
        .map_err(err)?;
    let all: Vec<TableInfo> = rows
        .iter()
        .map(|r| TableInfo {
            schema: r.get(0),
            name: r.get(1),
            replica_identity: r.get(2),
            has_primary_key: r.get(3),
            can_publish: r.get(4),
        })
        .collect();
    match scope {
        TableScope::All => Ok(all),
        TableScope::Schema(s) => Ok(all.into_iter().filter(|t| &t.schema == s).collect()),
        TableScope::List(names) => {
            let mut out = Vec::new();
            for n in names {
                let found: Vec<&TableInfo> = all
                    .iter()
                    .filter(|t| {
                        &format!("{}.{}", t.schema, t.name) == n || (t.name == *n && t.schema == "public")
                    })
                    .collect();
                match found.first() {
                    Some(t) => out.push((*t).clone()),
                    None => return Err(format!("no table {n:?} in the database")),
                }
            }
            Ok(out)
        }
    }
}

/// The server's version as `server_version_num` (150004 for 15.4).
pub async fn server_version_num(client: &Client) -> Result<i32, String> {
    let v: String = client.query_one("SHOW server_version_num", &[]).await.map_err(err)?.get(0);
    v.parse().map_err(|_| format!("unreadable server_version_num {v:?}"))
}

/// Plans the slot, publications and table list for a new source on a server of version
/// `server_version_num`.
pub fn plan_setup(source: &str, tables: Vec<TableInfo>, server_version_num: i32) -> Result<SetupPlan, String> {
    if tables.is_empty() {
        return Err("no tables to capture".into());
    }
    if let Some(t) = tables.iter().find(|t| !t.can_publish) {
        return Err(format!(
            "the connected role does not own table {}.{}; connect as its owner or run ALTER TABLE {} OWNER TO <this role>",
            t.schema,
            t.name,
            t.quoted()
        ));
    }
    let base = object_name(source);
    let (full, insert_only): (Vec<TableInfo>, Vec<TableInfo>) =
        tables.into_iter().partition(|t| t.has_replica_identity());
    let mut warnings = Vec::new();
    let mut statements = Vec::new();
    for t in &full {
        if t.replica_identity == "default" || t.replica_identity == "index" {
            warnings.push(format!(
                "{}.{} has REPLICA IDENTITY {}: updates and deletes carry only the key, so earlier values are inferred from Rowtrail's own history (marked as inferred), and a history started mid-way lacks them. For full images: ALTER TABLE {} REPLICA IDENTITY FULL (takes an ACCESS EXCLUSIVE lock and adds WAL; run it with a lock_timeout)",
                t.schema,
                t.name,
                t.replica_identity.to_uppercase(),
                t.quoted()
            ));
        }
    }
    for t in &insert_only {
        warnings.push(format!(
            "{}.{} has no replica identity (no primary key, identity {}): it is published for INSERTs only, because publishing its updates and deletes would make every UPDATE/DELETE on it fail on the server. To capture them: add a primary key, or ALTER TABLE {} REPLICA IDENTITY FULL",
            t.schema,
            t.name,
            t.replica_identity.to_uppercase(),
            t.quoted()
        ));
    }
    let list = |ts: &[TableInfo]| ts.iter().map(TableInfo::quoted).collect::<Vec<_>>().join(", ");
    // Partitioned tables' changes are published under the table users query, not the
    // partition they landed in (PostgreSQL 13+; older servers cannot publish them at all).
    let via_root = server_version_num >= 130000;
    let with = |publish: Option<&str>| {
        let mut opts = Vec::new();
        if let Some(p) = publish {
            opts.push(format!("publish = '{p}'"));
        }
        if via_root {
            opts.push("publish_via_partition_root = true".to_string());
        }
        if opts.is_empty() {
            String::new()
        } else {
            format!(" WITH ({})", opts.join(", "))
        }
    };
    if !full.is_empty() {
        statements.push(format!("CREATE PUBLICATION {} FOR TABLE {}{}", quote_ident(&base), list(&full), with(None)));
    }
    let insert_only_publication = if insert_only.is_empty() {
        None
    } else {
        let name = format!("{base}_ins");
        statements.push(format!(
            "CREATE PUBLICATION {} FOR TABLE {}{}",
            quote_ident(&name),
            list(&insert_only),
            with(Some("insert"))
        ));
        Some(name)
    };
    statements.push(format!(
        "SELECT pg_create_logical_replication_slot('{base}', 'pgoutput')"
    ));
    Ok(SetupPlan {
        slot: base.clone(),
        publication: base,
        insert_only_publication,
        tables: full,
        insert_only_tables: insert_only,
        warnings,
        statements,
    })
}

impl SetupPlan {
    /// The publications the stream subscribes to.
    pub fn publications(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.tables.is_empty() {
            v.push(self.publication.clone());
        }
        v.extend(self.insert_only_publication.clone());
        v
    }
}

/// Creates the publications (and, unless `create_slot` is false, the slot) of `plan`. Stops at
/// the first failure and removes what it created, so the server is left as it was.
pub async fn apply_setup(client: &Client, plan: &SetupPlan, create_slot: bool) -> Result<(), String> {
    let n = if create_slot { plan.statements.len() } else { plan.statements.len() - 1 };
    for (i, sql) in plan.statements.iter().take(n).enumerate() {
        if let Err(e) = client.batch_execute(sql).await {
            let _ = drop_objects(client, &plan.slot, &plan.publications(), i > plan.publications().len()).await;
            return Err(format!("{sql}: {}", describe_pg_error(&e)));
        }
    }
    Ok(())
}

/// Drops the slot (if `slot` is true) and publications of a source; missing ones are fine.
pub async fn drop_objects(
    client: &Client,
    slot: &str,
    publications: &[String],
    drop_slot: bool,
) -> Result<(), String> {
    if drop_slot {
        // A walsender that is still exiting keeps the slot active for a moment.
        for attempt in 0..50 {
            let r = client
                .execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
                    &[&slot],
                )
                .await;
            match r {
                Ok(_) => break,
                Err(e) if attempt < 49 && e.code() == Some(&tokio_postgres::error::SqlState::OBJECT_IN_USE) => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => return Err(describe_pg_error(&e)),
            }
        }
    }
    for p in publications {
        client
            .batch_execute(&format!("DROP PUBLICATION IF EXISTS {}", quote_ident(p)))
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// Health of every `rowtrail_%` slot on the server.
pub async fn slot_statuses(client: &Client) -> Result<Vec<SlotStatus>, String> {
    let rows = client
        .query(
            "SELECT slot_name::text, active, wal_status::text,
                    (pg_current_wal_lsn() - restart_lsn)::int8,
                    (pg_current_wal_lsn() - confirmed_flush_lsn)::int8,
                    confirmed_flush_lsn::text
             FROM pg_replication_slots WHERE slot_name LIKE 'rowtrail\\_%' ORDER BY 1",
            &[],
        )
        .await
        .map_err(err)?;
    Ok(rows
        .iter()
        .map(|r| SlotStatus {
            slot: r.get(0),
            active: r.get(1),
            wal_status: r.get(2),
            retained_bytes: r.get(3),
            lag_bytes: r.get(4),
            confirmed_flush: r.get(5),
        })
        .collect())
}

/// Type names for `(type oid, typmod)` pairs, as `format_type` prints them (`numeric(10,2)`,
/// `timestamp with time zone`, `text[]`, an enum's or domain's own name).
pub async fn type_names(client: &Client, types: &[(u32, i32)]) -> Result<Vec<String>, String> {
    let oids: Vec<u32> = types.iter().map(|t| t.0).collect();
    let mods: Vec<i32> = types.iter().map(|t| t.1).collect();
    let rows = client
        .query(
            "SELECT format_type(t.oid, NULLIF(t.m, -1)) FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS t(oid, m, n) ORDER BY n",
            &[&oids, &mods],
        )
        .await
        .map_err(err)?;
    Ok(rows.iter().map(|r| r.get::<_, Option<String>>(0).unwrap_or_else(|| "unknown".into())).collect())
}

/// The primary-key column names of a table, in key order (empty when it has none).
pub async fn primary_key(client: &Client, table_oid: u32) -> Result<Vec<String>, String> {
    let rows = client
        .query(
            "SELECT a.attname::text FROM pg_index i
               CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.n",
            &[&table_oid],
        )
        .await
        .map_err(err)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The server's current WAL insert position (not the write position, which lags behind asynchronous commits).
pub async fn current_wal_lsn(client: &Client) -> Result<u64, String> {
    let s: String = client
        .query_one("SELECT pg_current_wal_insert_lsn()::text", &[])
        .await
        .map_err(err)?
        .get(0);
    super::pgoutput::parse_lsn(&s).ok_or_else(|| format!("unreadable LSN {s:?}"))
}
