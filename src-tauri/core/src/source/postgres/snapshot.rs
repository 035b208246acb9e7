//! The optional initial snapshot: every current row recorded once as a baseline version,
//! consistent with the slot's starting point.
//!
//! The slot is created over the replication protocol with an exported snapshot; the rows are
//! read in a REPEATABLE READ transaction that adopts it, so the baseline is exactly the state
//! the stream starts from — no change is missed or counted twice.

use futures_util::StreamExt;
use pgwire_replication::ReplicationClient;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::catalog::{quote_ident, type_names, TableInfo};
use super::conn::{describe_pg_error, session_set_sql, PgConnInfo};
use super::pgoutput::{format_lsn, parse_lsn};
use crate::cache::{WriteOp, WriterHandle};
use crate::event::{Cell, ChangeEvent, ColumnDef, Op, Relation, TxnMeta};
use crate::source::SourceError;

/// Creates `slot` with an exported snapshot and stores every row of `tables` as an insert
/// in one baseline transaction (txid `snapshot`, context `{"kind": "snapshot"}`). Returns the
/// number of rows stored.
pub async fn create_slot_with_snapshot(
    source: &str,
    info: &PgConnInfo,
    slot: &str,
    publications: Vec<String>,
    tables: &[TableInfo],
    writer: &mut WriterHandle,
) -> Result<u64, SourceError> {
    let fail = |detail: String| SourceError::Config {
        source_name: source.to_string(),
        message: format!("snapshot failed: {detail}"),
    };
    let mut repl = ReplicationClient::connect_gated(info.replication_config(slot, publications))
        .await
        .map_err(|e| fail(e.to_string()))?;
    let rows = repl
        .simple_query(&format!(
            "CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT 'export')",
            quote_ident(slot)
        ))
        .await
        .map_err(|e| fail(e.to_string()))?;
    let row = rows.first().ok_or_else(|| fail("CREATE_REPLICATION_SLOT returned no row".into()))?;
    let text = |i: usize| {
        row.get(i)
            .and_then(|v| v.as_ref())
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    let (consistent, snapshot_name) = (text(1), text(2));
    let lsn = parse_lsn(&consistent).ok_or_else(|| fail(format!("unreadable consistent point {consistent:?}")))?;

    // The exported snapshot lives while the replication session stays idle, so the copy runs
    // on a second connection before `repl` is dropped.
    let client = info.connect().await.map_err(fail)?;
    client
        .batch_execute(&format!(
            "{}; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {}",
            session_set_sql(),
            super::catalog::quote_literal(&snapshot_name)
        ))
        .await
        .map_err(|e| fail(describe_pg_error(&e)))?;
    writer
        .push(WriteOp::Begin(TxnMeta {
            txid: "snapshot".into(),
            position: format_lsn(lsn),
            // Transactions committing at the consistent point itself must still be stored.
            position_num: lsn as i64 - 1,
            committed_us: crate::time_fmt::now_us(),
        }))
        .await?;
    writer
        .push(WriteOp::Context { key: "kind".into(), value: "snapshot".into() })
        .await?;
    let mut count = 0u64;
    for t in tables {
        count += copy_table(&client, t, writer).await.map_err(|d| fail(format!("{}.{}: {d}", t.schema, t.name)))?;
    }
    writer.push(WriteOp::Commit).await?;
    writer.flush().await?;
    let _ = client.batch_execute("COMMIT").await;
    drop(repl);
    Ok(count)
}

async fn copy_table(client: &Client, t: &TableInfo, writer: &mut WriterHandle) -> Result<u64, String> {
    let err = |e: tokio_postgres::Error| describe_pg_error(&e);
    let oid: u32 = client
        .query_one("SELECT ($1::text)::regclass::oid", &[&t.quoted()])
        .await
        .map_err(err)?
        .get(0);
    let cols = client
        .query(
            "SELECT a.attname::text, a.atttypid, a.atttypmod,
                    coalesce(a.attnum = ANY (pk.indkey), false) AS in_pk,
                    coalesce(a.attnum = ANY (ri.indkey), false) AS in_ri
             FROM pg_attribute a
             LEFT JOIN pg_index pk ON pk.indrelid = a.attrelid AND pk.indisprimary
             LEFT JOIN pg_index ri ON ri.indrelid = a.attrelid AND ri.indisreplident
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&oid],
        )
        .await
        .map_err(err)?;
    let types: Vec<(u32, i32)> = cols.iter().map(|r| (r.get(1), r.get(2))).collect();
    let names = type_names(client, &types).await?;
    let has_pk = cols.iter().any(|r| r.get::<_, bool>(3));
    let has_ri = cols.iter().any(|r| r.get::<_, bool>(4));
    let full = t.replica_identity == "full";
    let relation = Relation {
        schema: t.schema.clone(),
        table: t.name.clone(),
        columns: cols
            .iter()
            .zip(names)
            .map(|(r, type_name)| ColumnDef {
                name: r.get(0),
                type_name,
                key: if has_pk {
                    r.get(3)
                } else if has_ri {
                    r.get(4)
                } else {
                    full
                },
            })
            .collect(),
    };
    let select = relation
        .columns
        .iter()
        .map(|c| quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    writer
        .push(WriteOp::Relation { id: oid, relation })
        .await
        .map_err(|e| e.to_string())?;
    let stream = client
        .simple_query_raw(&format!("SELECT {select} FROM {}", t.quoted()))
        .await
        .map_err(err)?;
    futures_util::pin_mut!(stream);
    let mut n = 0;
    while let Some(msg) = stream.next().await {
        if let SimpleQueryMessage::Row(row) = msg.map_err(err)? {
            let after = (0..row.len())
                .map(|i| match row.get(i) {
                    Some(s) => Cell::Text(s.to_string()),
                    None => Cell::Null,
                })
                .collect();
            writer
                .push(WriteOp::Event {
                    relation: oid,
                    event: ChangeEvent { op: Op::Insert, before: None, after: Some(after) },
                })
                .await
                .map_err(|e| e.to_string())?;
            n += 1;
        }
    }
    Ok(n)
}
