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
    /// Generated columns: the change stream leaves them out.
    pub generated_columns: Vec<String>,
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
    /// Publications that exist already and are used as they are (`--reuse-publication`):
    /// Rowtrail neither creates, alters nor drops them.
    pub reused_publications: Vec<ExistingPublication>,
    /// The schema whose publication is `FOR TABLES IN SCHEMA` (PostgreSQL 15+), so tables
    /// created there later are captured too; `None` for a fixed table list.
    pub schema_publication: Option<String>,
    /// Per-table facts behind `warnings`, recorded in the cache so the stream does not say
    /// them again.
    pub table_warnings: Vec<TableWarning>,
}

/// A publication that already exists under a name a plan wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExistingPublication {
    /// Publication name.
    pub name: String,
    /// `FOR ALL TABLES`.
    pub all_tables: bool,
    /// The tables it publishes now, as `schema.name`.
    pub tables: Vec<String>,
    /// What it publishes: `insert`, `update`, `delete`.
    pub publishes: Vec<String>,
}

impl ExistingPublication {
    /// One line for the user: its tables and operations.
    pub fn describe(&self) -> String {
        let tables = if self.all_tables {
            "FOR ALL TABLES".to_string()
        } else if self.tables.is_empty() {
            "no tables".to_string()
        } else {
            let mut t = self.tables.iter().take(20).cloned().collect::<Vec<_>>().join(", ");
            if self.tables.len() > 20 {
                t.push_str(&format!(" and {} more", self.tables.len() - 20));
            }
            format!("tables {t}")
        };
        format!("{} ({tables}; publishes {})", self.name, self.publishes.join(", "))
    }
}

/// Something the user should hear once about one captured table; the cache remembers it per
/// source so neither `source add` nor later syncs say it twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableWarning {
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
    /// `partial` (updates carry only the key), `insert_only`, `generated`.
    pub kind: String,
    /// The sentence to show.
    pub message: String,
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
    /// The source of this workspace that uses it; `None` for an orphaned slot (another
    /// cache's, or left by `source rm` without `--drop-slot`).
    pub used_by: Option<String>,
}

/// Quotes an identifier for SQL (`"a""b"`).
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Quotes a string literal for SQL shown to the user and run as it is shown (`'a''b'`).
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
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
    // `attgenerated` exists from PostgreSQL 12 on; before that no column is generated.
    let generated = if server_version_num(client).await? >= 120000 {
        "array(SELECT a.attname::text FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> ''
                           ORDER BY a.attnum)"
    } else {
        "'{}'::text[]"
    };
    let rows = client
        .query(
            &format!("SELECT n.nspname::text, c.relname::text,
                    CASE c.relreplident WHEN 'd' THEN 'default' WHEN 'f' THEN 'full' WHEN 'i' THEN 'index' ELSE 'nothing' END,
                    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
                    pg_has_role(current_user, c.relowner, 'USAGE')
                      OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                    {generated}
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
             ORDER BY 1, 2"),
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
            generated_columns: r.get(5),
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

/// What the server and the user's choice allow when planning a source.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The server's `server_version_num`.
    pub server_version_num: i32,
    /// The user asked for one schema (`--schema`).
    pub schema: Option<String>,
    /// The connected role is a superuser (PostgreSQL 15 allows `FOR TABLES IN SCHEMA` only to
    /// superusers).
    pub superuser: bool,
}

/// `schema.name (note)` for each table, one list for one warning.
fn table_list(tables: &[&TableInfo], note: impl Fn(&TableInfo) -> Option<String>) -> String {
    tables
        .iter()
        .map(|t| match note(t) {
            Some(n) => format!("{}.{} ({n})", t.schema, t.name),
            None => format!("{}.{}", t.schema, t.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What to tell the user once about a table's replica identity, as the stream reports it in a
/// Relation message (`d`efault, `f`ull, `i`ndex, `n`othing): `None` when updates and deletes
/// carry whole rows.
pub fn identity_warning(schema: &str, table: &str, identity: u8, has_primary_key: bool) -> Option<TableWarning> {
    let quoted = format!("{}.{}", quote_ident(schema), quote_ident(table));
    let (kind, message) = match identity {
        b'f' => return None,
        b'd' if has_primary_key => (
            "partial",
            format!("{schema}.{table}: updates and deletes carry only the primary key (REPLICA IDENTITY DEFAULT), so earlier values are inferred from Rowtrail's own history and unknown for rows changed before capture started. For full before-images: ALTER TABLE {quoted} REPLICA IDENTITY FULL (takes an ACCESS EXCLUSIVE lock and adds WAL)"),
        ),
        b'i' => (
            "partial",
            format!("{schema}.{table}: updates and deletes carry only the columns of its replica-identity index (REPLICA IDENTITY USING INDEX), so earlier values are inferred from Rowtrail's own history and unknown for rows changed before capture started. For full before-images: ALTER TABLE {quoted} REPLICA IDENTITY FULL"),
        ),
        b'n' => (
            "insert_only",
            format!("{schema}.{table} has REPLICA IDENTITY NOTHING: inserts only (its updates and deletes are not published)"),
        ),
        _ => (
            "insert_only",
            format!("{schema}.{table} has no key: inserts only (without a primary key or replica identity its updates and deletes cannot be published)"),
        ),
    };
    Some(TableWarning { schema: schema.to_string(), table: table.to_string(), kind: kind.to_string(), message })
}

/// Plans the slot, publications and table list for a new source. Long warnings are said once,
/// naming every table they concern, rather than once per table.
pub fn plan_setup(source: &str, tables: Vec<TableInfo>, opts: &PlanOptions) -> Result<SetupPlan, String> {
    if tables.is_empty() {
        return Err(match &opts.schema {
            Some(s) => format!("no tables to capture in schema {s:?}"),
            None => "no tables to capture".into(),
        });
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
    let mut table_warnings = Vec::new();
    let mut statements = Vec::new();

    let partial: Vec<&TableInfo> =
        full.iter().filter(|t| t.replica_identity == "default" || t.replica_identity == "index").collect();
    if !partial.is_empty() {
        warnings.push(format!(
            "Updates and deletes of {} carry only the key, so earlier values are inferred from Rowtrail's own history (marked inferred) and unknown for rows changed before capture started. For full before-images: ALTER TABLE … REPLICA IDENTITY FULL (takes an ACCESS EXCLUSIVE lock and adds WAL; run it with a lock_timeout). Tables: {}",
            if partial.len() == 1 { "this table" } else { "these tables" },
            table_list(&partial, |t| Some(if t.replica_identity == "index" { "USING INDEX".into() } else { "primary key".into() }))
        ));
        for t in &partial {
            table_warnings.extend(identity_warning(&t.schema, &t.name, if t.replica_identity == "index" { b'i' } else { b'd' }, t.has_primary_key));
        }
    }
    if !insert_only.is_empty() {
        let refs: Vec<&TableInfo> = insert_only.iter().collect();
        warnings.push(format!(
            "No key: inserts only. {} no replica identity, so {} published for INSERTs only: publishing {} updates and deletes would make every UPDATE/DELETE on {} fail on the server. To capture them, add a primary key or ALTER TABLE … REPLICA IDENTITY FULL. Tables: {}",
            if refs.len() == 1 { "This table has" } else { "These tables have" },
            if refs.len() == 1 { "it is" } else { "they are" },
            if refs.len() == 1 { "its" } else { "their" },
            if refs.len() == 1 { "it" } else { "them" },
            table_list(&refs, |t| Some(if t.replica_identity == "nothing" { "identity NOTHING".into() } else { "no primary key".into() }))
        ));
        for t in &insert_only {
            table_warnings.extend(identity_warning(&t.schema, &t.name, if t.replica_identity == "nothing" { b'n' } else { b'd' }, false));
        }
    }
    let generated: Vec<&TableInfo> = full.iter().chain(&insert_only).filter(|t| !t.generated_columns.is_empty()).collect();
    // PostgreSQL 18 sends them only with publish_generated_columns, which is not set here.
    if !generated.is_empty() {
        warnings.push(format!(
            "PostgreSQL {} does not send generated columns in the change stream, so their values are not captured. Tables: {}",
            opts.server_version_num / 10000,
            table_list(&generated, |t| Some(t.generated_columns.join(", ")))
        ));
        for t in &generated {
            table_warnings.push(TableWarning {
                schema: t.schema.clone(),
                table: t.name.clone(),
                kind: "generated".into(),
                message: format!(
                    "{}.{}: generated column(s) {} are not sent by PostgreSQL {}, so their values are not captured",
                    t.schema,
                    t.name,
                    t.generated_columns.join(", "),
                    opts.server_version_num / 10000
                ),
            });
        }
    }

    let list = |ts: &[TableInfo]| ts.iter().map(TableInfo::quoted).collect::<Vec<_>>().join(", ");
    // Partitioned tables' changes are published under the table users query, not the
    // partition they landed in (PostgreSQL 13+; older servers cannot publish them at all).
    let via_root = opts.server_version_num >= 130000;
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
    // A whole schema is published as a schema where the server can, so tables created there
    // later are captured too. Not when a table there has no replica identity: a schema
    // publication cannot leave it out, and publishing its updates would make them fail.
    let mut schema_publication = None;
    if let Some(schema) = &opts.schema {
        let why_not = if opts.server_version_num < 150000 {
            Some(format!("PostgreSQL {} cannot publish a whole schema (15+ can)", opts.server_version_num / 10000))
        } else if !opts.superuser {
            Some("PostgreSQL lets only a superuser publish a whole schema".to_string())
        } else if !insert_only.is_empty() {
            Some("some of its tables have no replica identity and a schema publication cannot leave them out".to_string())
        } else {
            None
        };
        match why_not {
            None => {
                schema_publication = Some(schema.clone());
                warnings.push(format!(
                    "The publication covers schema {schema} (FOR TABLES IN SCHEMA): tables created there later are captured too. PostgreSQL then rejects UPDATE and DELETE on a new table in {schema} that has no primary key or replica identity, so give new tables there a primary key."
                ));
            }
            Some(why) => warnings.push(format!(
                "The tables of schema {schema} are captured as a fixed list because {why}: tables created there later are not captured until you add them (ALTER PUBLICATION {} ADD TABLE …).",
                quote_ident(&base)
            )),
        }
    }
    if let Some(schema) = &schema_publication {
        statements.push(format!("CREATE PUBLICATION {} FOR TABLES IN SCHEMA {}{}", quote_ident(&base), quote_ident(schema), with(None)));
    } else if !full.is_empty() {
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
    statements.push(format!("SELECT pg_create_logical_replication_slot({}, 'pgoutput')", quote_literal(&base)));
    Ok(SetupPlan {
        slot: base.clone(),
        publication: base,
        insert_only_publication,
        tables: full,
        insert_only_tables: insert_only,
        warnings,
        statements,
        reused_publications: Vec::new(),
        schema_publication,
        table_warnings,
    })
}

impl SetupPlan {
    /// The publications the stream subscribes to.
    pub fn publications(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.tables.is_empty() || self.schema_publication.is_some() {
            v.push(self.publication.clone());
        }
        v.extend(self.insert_only_publication.clone());
        v
    }

    /// The publications this plan creates (not the reused ones).
    pub fn created_publications(&self) -> Vec<String> {
        self.publications()
            .into_iter()
            .filter(|p| !self.reused_publications.iter().any(|r| &r.name == p))
            .collect()
    }

    /// Uses `existing` publications as they are instead of creating them: their CREATE
    /// statements go, and a warning says which chosen tables they leave out or add.
    pub fn reuse(&mut self, existing: Vec<ExistingPublication>) {
        for e in existing {
            let create = format!("CREATE PUBLICATION {} ", quote_ident(&e.name));
            self.statements.retain(|s| !s.starts_with(&create));
            let planned: Vec<String> = if e.name == self.publication {
                self.tables.iter().map(|t| format!("{}.{}", t.schema, t.name)).collect()
            } else {
                self.insert_only_tables.iter().map(|t| format!("{}.{}", t.schema, t.name)).collect()
            };
            if !e.all_tables {
                let missing: Vec<&String> = planned.iter().filter(|t| !e.tables.contains(t)).collect();
                if !missing.is_empty() {
                    self.warnings.push(format!(
                        "The reused publication {} does not publish {}: {} not captured unless it is added to the publication.",
                        e.name,
                        missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                        if missing.len() == 1 { "it is" } else { "they are" }
                    ));
                }
            }
            self.warnings.push(format!("Reusing the existing publication {} as it is; Rowtrail will not alter or drop it.", e.describe()));
            if e.name == self.publication {
                self.schema_publication = None;
            }
            self.reused_publications.push(e);
        }
    }
}

/// The publications among `names` that exist in the connected database, with their tables.
pub async fn existing_publications(client: &Client, names: &[String]) -> Result<Vec<ExistingPublication>, String> {
    let rows = client
        .query(
            "SELECT p.pubname::text, p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete,
                    array(SELECT t.schemaname || '.' || t.tablename FROM pg_publication_tables t
                          WHERE t.pubname = p.pubname ORDER BY t.schemaname, t.tablename)::text[]
             FROM pg_publication p WHERE p.pubname = ANY($1) ORDER BY 1",
            &[&names],
        )
        .await
        .map_err(err)?;
    Ok(rows
        .iter()
        .map(|r| {
            let publishes = [(2, "insert"), (3, "update"), (4, "delete")]
                .iter()
                .filter(|(i, _)| r.get::<_, bool>(*i))
                .map(|(_, n)| n.to_string())
                .collect();
            ExistingPublication { name: r.get(0), all_tables: r.get(1), tables: r.get(5), publishes }
        })
        .collect())
}

/// Whether the table `oid` is a partition of another (PostgreSQL 10+).
pub async fn is_partition(client: &Client, oid: u32) -> Result<bool, String> {
    Ok(client
        .query_opt("SELECT relispartition FROM pg_class WHERE oid = $1", &[&oid])
        .await
        .map_err(err)?
        .is_some_and(|r| r.get(0)))
}

/// Whether the connected role is a superuser.
pub async fn is_superuser(client: &Client) -> Result<bool, String> {
    Ok(client
        .query_one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", &[])
        .await
        .map_err(err)?
        .get(0))
}

/// What [`apply_setup`] created, so that a later failure removes exactly that.
#[derive(Debug, Clone, Default)]
pub struct Created {
    /// Publications created by this run.
    pub publications: Vec<String>,
    /// The slot was created by this run.
    pub slot: bool,
}

/// Creates the publications (and, unless `create_slot` is false, the slot) of `plan`. Stops at
/// the first failure and removes only what this run created: a publication or slot that was
/// already there (someone else's, or left by `source rm` without `--drop-slot`) stays.
pub async fn apply_setup(client: &Client, plan: &SetupPlan, create_slot: bool) -> Result<Created, String> {
    let n = if create_slot { plan.statements.len() } else { plan.statements.len() - 1 };
    let mut created = Created::default();
    for (i, sql) in plan.statements.iter().take(n).enumerate() {
        if let Err(e) = client.batch_execute(sql).await {
            let mut msg = format!("{sql}: {}", describe_pg_error(&e));
            match drop_objects(client, &plan.slot, &created.publications, created.slot).await {
                Ok(()) if created.publications.is_empty() && !created.slot => msg.push_str("; nothing was created on the server"),
                Ok(()) => msg.push_str(&format!(
                    "; what this run had created was removed again ({})",
                    created.publications.iter().map(|p| format!("publication {p}")).chain(created.slot.then(|| format!("slot {}", plan.slot))).collect::<Vec<_>>().join(", ")
                )),
                Err(d) => msg.push_str(&format!(
                    "; removing what this run created failed ({d}): drop {} by hand",
                    created.publications.iter().map(|p| format!("publication {p}")).chain(created.slot.then(|| format!("slot {}", plan.slot))).collect::<Vec<_>>().join(", ")
                )),
            }
            return Err(msg);
        }
        if i + 1 == plan.statements.len() {
            created.slot = true;
        } else if let Some(p) = plan
            .created_publications()
            .into_iter()
            .find(|p| sql.starts_with(&format!("CREATE PUBLICATION {} ", quote_ident(p))))
        {
            created.publications.push(p);
        }
    }
    Ok(created)
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
            used_by: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, identity: &str, pk: bool) -> TableInfo {
        TableInfo {
            schema: "app".into(),
            name: name.into(),
            replica_identity: identity.into(),
            has_primary_key: pk,
            can_publish: true,
            generated_columns: Vec::new(),
        }
    }

    #[test]
    fn a_schema_is_published_as_a_schema_only_where_that_is_safe_and_allowed() {
        let opts = |v: i32, superuser: bool| PlanOptions { server_version_num: v, schema: Some("app".into()), superuser };
        let plan = plan_setup("s", vec![table("a", "default", true)], &opts(150004, true)).unwrap();
        assert_eq!(plan.schema_publication.as_deref(), Some("app"));
        assert!(plan.statements[0].contains("FOR TABLES IN SCHEMA \"app\""), "{:?}", plan.statements);
        for (v, superuser, keyless, why) in [
            (140009, true, false, "PostgreSQL 14 cannot publish a whole schema"),
            (150004, false, false, "only a superuser"),
            (150004, true, true, "no replica identity"),
        ] {
            let mut tables = vec![table("a", "default", true)];
            if keyless {
                tables.push(table("log", "default", false));
            }
            let plan = plan_setup("s", tables, &opts(v, superuser)).unwrap();
            assert_eq!(plan.schema_publication, None);
            assert!(plan.statements[0].contains("FOR TABLE \"app\".\"a\""), "{:?}", plan.statements);
            let w = plan.warnings.join("\n");
            assert!(w.contains("fixed list") && w.contains(why) && w.contains("not captured until you add them"), "{w}");
        }
    }
}
