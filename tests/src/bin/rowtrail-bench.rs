//! `rowtrail-bench`: the Rust half of `make bench` (tests/bench/run.sh drives it).
//!
//! Not a test: it measures and prints `KEY=VALUE` lines on stdout (progress on stderr), which
//! run.sh turns into the markdown table that goes into BENCHMARKS.md.
//!
//! ```text
//! rowtrail-bench history --dir DIR --pg-url URL [--records 100000] [--versions 100]
//!                        [--lookups 1000] [--txn-events 1000] [--seed 42] [--skip-build 1]
//! rowtrail-bench watch-slot --pg-url URL --slot SLOT --lsn LSN
//! rowtrail-bench search-index --cache PATH
//! ```
//!
//! `watch-slot` polls `pg_replication_slots` (one connection, every 50 ms) and prints
//! `reached_unix_s=…` once SLOT's `confirmed_flush_lsn` reaches LSN: run beside
//! `rowtrail sync`, it tells when the stream was stored and acknowledged, before the
//! post-sync search indexing.
//!
//! `search-index` is a diagnostic (not run by run.sh): on a synced cache it empties the
//! value-search index and times rebuilding it with the engine's `index_pending`, then with
//! FTS5 automerge off (and one `optimize`), then indexing the after image only (the before
//! image only for deletes), to show where `rowtrail sync`'s post-stream time goes.
//!
//! `history` builds a cache of records × versions events through the engine's own
//! `WriterHandle` (one source, one table shaped like the ingest benchmark's `orders`), builds
//! the same events as an indexed PostgreSQL table `events(record_key, id, before, after)`, and
//! times `rowtrail_core::history::record_history` against the equivalent indexed query
//! (`WHERE record_key = $1 ORDER BY id`, a prepared statement) over the same random keys.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rowtrail_core::cache::{Cache, WriteOp, WriterHandle};
use rowtrail_core::event::{Cell, ChangeEvent, ColumnDef, Op, Relation, TxnMeta};
use rowtrail_core::source::postgres::pgoutput::format_lsn;
use rowtrail_core::time_fmt::format_us;

const STATUSES: [&str; 5] = ["pending", "paid", "packed", "shipped", "delivered"];
/// 2026-01-01 00:00:00 UTC in Unix seconds.
const BASE_SECS: i64 = 1_767_225_600;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let res = match args.first().map(String::as_str) {
        Some("history") => rt.block_on(history(&Opts::parse(&args[1..]))),
        Some("watch-slot") => rt.block_on(watch_slot(&Opts::parse(&args[1..]))),
        Some("search-index") => search_index(&Opts::parse(&args[1..])),
        _ => Err("usage: rowtrail-bench history --dir DIR --pg-url URL [--records N] [--versions N] [--lookups N] [--txn-events N] [--seed N]\n       rowtrail-bench watch-slot --pg-url URL --slot SLOT --lsn LSN".into()),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rowtrail-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Opts {
    dir: PathBuf,
    pg_url: String,
    records: u64,
    versions: u64,
    lookups: usize,
    txn_events: u64,
    seed: u64,
    slot: String,
    lsn: String,
    cache: PathBuf,
    /// Reuse the cache and table of an earlier run (for profiling the lookups).
    skip_build: bool,
}

impl Opts {
    fn parse(args: &[String]) -> Opts {
        let mut o = Opts {
            dir: PathBuf::from("/tmp/rowtrail-bench"),
            pg_url: std::env::var("ROWTRAIL_TEST_PG_URL").unwrap_or_default(),
            records: 100_000,
            versions: 100,
            lookups: 1000,
            txn_events: 1000,
            seed: 42,
            slot: String::new(),
            lsn: String::new(),
            cache: PathBuf::new(),
            skip_build: false,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let v = it.next().unwrap_or_else(|| panic!("{a} needs a value"));
            let num = || v.parse::<u64>().unwrap_or_else(|_| panic!("{a}: not a number: {v}"));
            match a.as_str() {
                "--dir" => o.dir = PathBuf::from(v),
                "--pg-url" => o.pg_url = v.clone(),
                "--records" => o.records = num(),
                "--versions" => o.versions = num(),
                "--lookups" => o.lookups = num() as usize,
                "--txn-events" => o.txn_events = num(),
                "--seed" => o.seed = num(),
                "--slot" => o.slot = v.clone(),
                "--lsn" => o.lsn = v.clone(),
                "--cache" => o.cache = PathBuf::from(v),
                "--skip-build" => o.skip_build = num() != 0,
                other => panic!("unknown option {other}"),
            }
        }
        o
    }
}

/// The values of record `r` (1-based) at version `v` (0-based), in the database's text form.
/// The SQL in [`build_pg`] computes the very same strings.
fn row(r: u64, v: u64) -> [String; 5] {
    let cents = (r * 7 + v * 13) % 100_000;
    let secs = BASE_SECS + (v * 100_000 + r) as i64;
    let ts = format_us(secs * 1_000_000);
    [
        r.to_string(),
        STATUSES[(v % 5) as usize].to_string(),
        format!("{}.{:02}", cents / 100, cents % 100),
        format!("{} {}+00", &ts[..10], &ts[11..19]),
        note(r, v),
    ]
}

/// About 100 bytes of prose, revised every 10 versions.
fn note(r: u64, v: u64) -> String {
    format!("Order {r} (rev {}): customer asked us to leave the parcel at the back door and to call ahead.", v / 10)
}

fn cells(vals: [String; 5]) -> Vec<Cell> {
    vals.into_iter().map(Cell::Text).collect()
}

fn relation() -> Relation {
    let col = |name: &str, t: &str, key: bool| ColumnDef { name: name.into(), type_name: t.into(), key };
    Relation {
        schema: "public".into(),
        table: "orders".into(),
        columns: vec![
            col("id", "bigint", true),
            col("status", "text", false),
            col("amount", "numeric(12,2)", false),
            col("updated_at", "timestamp with time zone", false),
            col("note", "text", false),
        ],
    }
}

/// Total size of a SQLite database with its -wal and -shm files.
fn sqlite_bytes(path: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum()
}

/// Events in commit order: version-major, so one record's versions are spread over the whole
/// file (as a record changed now and then over a long history), `txn_events` per transaction.
async fn build_cache(o: &Opts, path: &Path) -> Result<(u64, Duration), String> {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(format!("{}-wal", path.display()));
    let _ = std::fs::remove_file(format!("{}-shm", path.display()));
    let cache = Cache::open(path).map_err(|e| e.to_string())?;
    let src = cache
        .add_source("bench", "postgres", &serde_json::json!({}))
        .map_err(|e| e.to_string())?;
    drop(cache);
    let started = Instant::now();
    let mut w = WriterHandle::spawn(path, src.id).map_err(|e| e.to_string())?;
    let err = |e: rowtrail_core::cache::CacheError| e.to_string();
    w.push(WriteOp::Relation { id: 1, relation: relation() }).await.map_err(err)?;
    let total = o.records * o.versions;
    let mut n: u64 = 0;
    let mut txn: i64 = 0;
    let mut last_report = Instant::now();
    let mut last_tenth: Option<Instant> = None;
    let mut prev: Vec<Option<Vec<Cell>>> = vec![None; o.records as usize];
    for v in 0..o.versions {
        for r in 1..=o.records {
            if n % o.txn_events == 0 {
                if n > 0 {
                    w.push(WriteOp::Commit).await.map_err(err)?;
                    // As sources do at every commit: lets the writer see a transaction boundary.
                    w.boundary().await.map_err(err)?;
                }
                txn += 1;
                let pos = 0x1_0000_0000 + txn * 4096;
                w.push(WriteOp::Begin(TxnMeta {
                    txid: (1000 + txn).to_string(),
                    position: format_lsn(pos as u64),
                    position_num: pos,
                    committed_us: (BASE_SECS + (v * 100_000 + r) as i64) * 1_000_000,
                }))
                .await
                .map_err(err)?;
            }
            // The before image of version v is the after image of version v-1.
            let after = cells(row(r, v));
            let before = prev[(r - 1) as usize].replace(after.clone());
            let op = if before.is_none() { Op::Insert } else { Op::Update };
            let event = ChangeEvent { op, before, after: Some(after) };
            w.push(WriteOp::Event { relation: 1, event }).await.map_err(err)?;
            n += 1;
            if n == total - total / 10 {
                last_tenth = Some(Instant::now());
            }
            if last_report.elapsed() >= Duration::from_secs(10) {
                last_report = Instant::now();
                eprintln!(
                    "  cache: {n}/{total} events ({:.0}/s)",
                    n as f64 / started.elapsed().as_secs_f64()
                );
            }
        }
    }
    w.push(WriteOp::Commit).await.map_err(err)?;
    let d = w.close().await.map_err(err)?;
    if d.events != total {
        return Err(format!("the writer stored {} events, expected {total}", d.events));
    }
    if let Some(t) = last_tenth {
        // The rate over the last tenth, once the cache is large.
        println!("cache_build_last_tenth_events_per_s={:.0}", (total / 10) as f64 / t.elapsed().as_secs_f64());
    }
    Ok((d.events, started.elapsed()))
}

/// The same events as rows of an indexed PostgreSQL table, built with INSERT … SELECT
/// generate_series, one statement per version.
async fn build_pg(o: &Opts, client: &tokio_postgres::Client) -> Result<Duration, String> {
    let e = |e: tokio_postgres::Error| format!("{e:?}");
    let started = Instant::now();
    client
        .batch_execute(
            "DROP TABLE IF EXISTS events;
             CREATE UNLOGGED TABLE events (record_key text NOT NULL, id bigint NOT NULL, before jsonb, after jsonb);
             CREATE OR REPLACE FUNCTION bench_row(r bigint, v bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $f$
               SELECT jsonb_build_object(
                 'id', r::text,
                 'status', (ARRAY['pending','paid','packed','shipped','delivered'])[v % 5 + 1],
                 'amount', ((r * 7 + v * 13) % 100000 / 100) || '.' || lpad(((r * 7 + v * 13) % 100) :: text, 2, '0'),
                 'updated_at', to_char(timestamp '2026-01-01 00:00:00' + make_interval(secs => v * 100000 + r), 'YYYY-MM-DD HH24:MI:SS') || '+00',
                 'note', format('Order %s (rev %s): customer asked us to leave the parcel at the back door and to call ahead.', r, v / 10))
             $f$;",
        )
        .await
        .map_err(e)?;
    let ins = client
        .prepare(
            "INSERT INTO events (record_key, id, before, after)
             SELECT '[\"' || r || '\"]', $1::bigint * $2::bigint + r,
                    CASE WHEN $1::bigint = 0 THEN NULL ELSE bench_row(r, $1::bigint - 1) END,
                    bench_row(r, $1::bigint)
             FROM generate_series(1::bigint, $2::bigint) r",
        )
        .await
        .map_err(e)?;
    let recs = o.records as i64;
    for v in 0..o.versions as i64 {
        client.execute(&ins, &[&v, &recs]).await.map_err(e)?;
        if v % 10 == 9 {
            eprintln!("  postgres: {} of {} versions inserted ({:.0}s)", v + 1, o.versions, started.elapsed().as_secs_f64());
        }
    }
    client
        .batch_execute("SET maintenance_work_mem = '1GB'; CREATE INDEX events_record ON events (record_key, id)")
        .await
        .map_err(e)?;
    client.batch_execute("VACUUM ANALYZE events").await.map_err(e)?;
    Ok(started.elapsed())
}

struct Stats {
    median_ms: f64,
    p95_ms: f64,
    max_ms: f64,
    mean_ms: f64,
}

fn stats(mut d: Vec<Duration>) -> Stats {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    let n = d.len();
    let median = if n % 2 == 1 { ms(d[n / 2]) } else { (ms(d[n / 2 - 1]) + ms(d[n / 2])) / 2.0 };
    let p95 = ms(d[((n as f64 * 0.95).ceil() as usize).clamp(1, n) - 1]);
    Stats {
        median_ms: median,
        p95_ms: p95,
        max_ms: ms(d[n - 1]),
        mean_ms: d.iter().map(|x| ms(*x)).sum::<f64>() / n as f64,
    }
}

fn print_stats(prefix: &str, s: &Stats) {
    println!("{prefix}_median_ms={:.3}", s.median_ms);
    println!("{prefix}_p95_ms={:.3}", s.p95_ms);
    println!("{prefix}_max_ms={:.3}", s.max_ms);
    println!("{prefix}_mean_ms={:.3}", s.mean_ms);
}

/// `n` record numbers in 1..=records from xorshift64*: deterministic, without a dependency.
fn random_keys(seed: u64, records: u64, n: usize) -> Vec<u64> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) % records) + 1
        })
        .collect()
}

async fn history(o: &Opts) -> Result<(), String> {
    if o.pg_url.is_empty() {
        return Err("--pg-url (or ROWTRAIL_TEST_PG_URL) is required".into());
    }
    std::fs::create_dir_all(&o.dir).map_err(|e| format!("{}: {e}", o.dir.display()))?;
    let path = o.dir.join("history-cache.sqlite");
    println!("history_events={}", o.records * o.versions);
    println!("history_records={}", o.records);
    println!("history_versions={}", o.versions);
    println!("history_lookups={}", o.lookups);

    if !o.skip_build {
        eprintln!("history: building a cache of {} events at {}", o.records * o.versions, path.display());
        let (events, took) = build_cache(o, &path).await?;
        println!("cache_build_s={:.1}", took.as_secs_f64());
        println!("cache_build_events_per_s={:.0}", events as f64 / took.as_secs_f64());
    }
    println!("cache_bytes={}", sqlite_bytes(&path));

    let (client, conn) = tokio_postgres::connect(&o.pg_url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", o.pg_url))?;
    tokio::spawn(conn);
    if !o.skip_build {
        eprintln!("history: building the PostgreSQL baseline table");
        let took = build_pg(o, &client).await?;
        println!("pg_build_s={:.1}", took.as_secs_f64());
    }
    let size: i64 = client
        .query_one("SELECT pg_total_relation_size('events')", &[])
        .await
        .map_err(|e| e.to_string())?
        .get(0);
    println!("pg_bytes={size}");

    let keys = random_keys(o.seed, o.records, o.lookups);
    let versions = o.versions as usize;

    // Both sides are read warm: every file in the OS page cache (the machine has the memory),
    // so neither pays for disk reads left over from building the other.
    eprintln!("history: warming the OS page cache (cache file, PostgreSQL table and index)");
    let t = Instant::now();
    warm_file(&path)?;
    warm_file(Path::new(&format!("{}-wal", path.display())))?;
    let prewarm = client
        .batch_execute(
            "CREATE EXTENSION IF NOT EXISTS pg_prewarm;
             SELECT pg_prewarm('events', 'read'); SELECT pg_prewarm('events_record', 'read');",
        )
        .await;
    if prewarm.is_err() {
        // Without the contrib module a sequential scan and an index-only scan do the same.
        client
            .batch_execute("SELECT count(*) FROM events; SET enable_seqscan = off; SELECT count(*) FROM events WHERE record_key > ''; RESET enable_seqscan;")
            .await
            .map_err(|e| e.to_string())?;
    }
    println!("warm_s={:.1}", t.elapsed().as_secs_f64());

    // Three measurements per step, in rotating order so that all three see the same machine
    // (other work on it, the page cache's state): PostgreSQL's indexed query and Rowtrail's
    // whole history call for the same key; and the cache's query alone (its part of the
    // history call) for another random key, so that it never reads pages the history call
    // of the same key has just put into SQLite's page cache.
    eprintln!("history: {} keys: PostgreSQL query, record_history, cache query alone", keys.len());
    let stmt = client
        .prepare("SELECT id, before, after FROM events WHERE record_key = $1 ORDER BY id")
        .await
        .map_err(|e| e.to_string())?;
    let cache = Cache::open(&path).map_err(|e| e.to_string())?;
    let table_id = cache
        .find_tables(Some("bench"), "orders")
        .map_err(|e| e.to_string())?
        .first()
        .map(|t| t.id)
        .ok_or("the cache has no table orders")?;
    let other_keys = random_keys(o.seed.wrapping_mul(31).wrapping_add(7), o.records, o.lookups);
    let mut times: [Vec<Duration>; 3] = Default::default();
    for (i, (&k, &k2)) in keys.iter().zip(&other_keys).enumerate() {
        for j in 0..3 {
            let which = (i + j) % 3;
            let t = Instant::now();
            let n = match which {
                0 => {
                    // PostgreSQL: the equivalent indexed query, prepared once, rows decoded as JSON.
                    let rows = client.query(&stmt, &[&format!("[\"{k}\"]")]).await.map_err(|e| e.to_string())?;
                    for r in &rows {
                        let _id: i64 = r.get(0);
                        let _before: Option<serde_json::Value> = r.get(1);
                        let _after: Option<serde_json::Value> = r.get(2);
                    }
                    rows.len()
                }
                1 => {
                    // Rowtrail: the engine's own history call (table lookup, events, diffs).
                    rowtrail_core::history::record_history(&cache, Some("bench"), "orders", &[k.to_string()])
                        .map_err(|e| e.to_string())?
                        .versions
                        .len()
                }
                _ => cache
                    .record_events(table_id, &format!("[\"{k2}\"]"))
                    .map_err(|e| e.to_string())?
                    .len(),
            };
            times[which].push(t.elapsed());
            if n != versions {
                return Err(format!("measurement {which}: record {k}/{k2} has {n} versions, expected {versions}"));
            }
        }
    }
    let [pg, rt, rt_query] = times.map(stats);
    print_stats("pg", &pg);
    print_stats("rt", &rt);
    print_stats("rt_query", &rt_query);
    println!("history_ratio_median={:.2}", rt.median_ms / pg.median_ms);
    Ok(())
}

/// Reads a file once so that its pages are in the OS page cache (a missing file is fine).
fn warm_file(path: &Path) -> Result<(), String> {
    match std::fs::File::open(path) {
        Ok(mut f) => std::io::copy(&mut f, &mut std::io::sink())
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(_) => Ok(()),
    }
}

async fn watch_slot(o: &Opts) -> Result<(), String> {
    let (client, conn) = tokio_postgres::connect(&o.pg_url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", o.pg_url))?;
    tokio::spawn(conn);
    let stmt = client
        .prepare(
            "SELECT coalesce(confirmed_flush_lsn >= $2::text::pg_lsn, false) FROM pg_replication_slots WHERE slot_name = $1",
        )
        .await
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(3600);
    while Instant::now() < deadline {
        let rows = client.query(&stmt, &[&o.slot, &o.lsn]).await.map_err(|e| e.to_string())?;
        if rows.first().is_some_and(|r| r.get::<_, bool>(0)) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|e| e.to_string())?;
            println!("reached_unix_s={:.3}", now.as_secs_f64());
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("slot {} did not reach {} within an hour", o.slot, o.lsn))
}

fn search_index(o: &Opts) -> Result<(), String> {
    let cache = Cache::open(&o.cache).map_err(|e| e.to_string())?;
    let conn = cache.conn();
    let sql = |q: &str| conn.execute_batch(q).map_err(|e| format!("{q}: {e}"));
    let reset = || -> Result<(), String> {
        sql("INSERT INTO events_text (events_text) VALUES ('delete-all');
             INSERT INTO events_text (events_text, rank) VALUES ('automerge', 4);
             INSERT INTO events_text (events_text, rank) VALUES ('crisismerge', 16);
             UPDATE search_progress SET last_event_id = 0;
             PRAGMA wal_checkpoint(TRUNCATE);")
    };
    // Bytes of the FTS5 index itself (its segments and structure).
    let size = || -> u64 {
        conn.query_row("SELECT coalesce(sum(length(block)), 0) FROM events_text_data", [], |r| r.get::<_, i64>(0))
            .unwrap_or(0) as u64
    };
    let events = cache.event_count().map_err(|e| e.to_string())?;
    println!("events={events}");

    println!("index_bytes_before_reset={}", size());
    reset()?;
    let base = size();
    let t = Instant::now();
    let n = rowtrail_core::cache::search::index_pending(conn, usize::MAX).map_err(|e| e.to_string())?;
    println!("index_pending_s={:.2} (indexed {n}, index {} MiB)", t.elapsed().as_secs_f64(), size().saturating_sub(base) >> 20);

    // FTS5 settings for a bulk load, each then followed by one 'optimize'.
    for (label, setting) in [
        ("automerge_off", "INSERT INTO events_text (events_text, rank) VALUES ('automerge', 0);
                           INSERT INTO events_text (events_text, rank) VALUES ('crisismerge', 1000000);"),
        ("hashsize_64mb", "INSERT INTO events_text (events_text, rank) VALUES ('hashsize', 67108864);"),
    ] {
        reset()?;
        sql(setting)?;
        let base = size();
        let t = Instant::now();
        rowtrail_core::cache::search::index_pending(conn, usize::MAX).map_err(|e| e.to_string())?;
        let a = t.elapsed().as_secs_f64();
        let t = Instant::now();
        sql("INSERT INTO events_text (events_text) VALUES ('optimize')")?;
        println!(
            "index_pending_{label}_s={a:.2} then optimize_s={:.2} (index {} MiB)",
            t.elapsed().as_secs_f64(),
            size().saturating_sub(base) >> 20
        );
        sql("INSERT INTO events_text (events_text, rank) VALUES ('hashsize', 1048576)")?;
    }

    // The same trigram index over SQL-built bodies: both images (what index_pending indexes),
    // the after image only (before for deletes), and the after image plus the before values
    // of changed columns only.
    let text_of = |img: &str| format!("coalesce((SELECT group_concat(value, char(10)) FROM json_each({img}) WHERE type = 'text'), '')");
    let changed_before = "coalesce((SELECT group_concat(b.value, char(10)) FROM json_each(before) b JOIN json_each(after) a ON a.key = b.key
                          WHERE b.type = 'text' AND b.value IS NOT a.value), '')";
    let variants = [
        ("both_images_sql", format!("{} || char(10) || {}", text_of("before"), text_of("after"))),
        ("after_image_only_sql", text_of("coalesce(after, before)")),
        (
            "after_plus_changed_before_sql",
            format!("CASE WHEN after IS NULL THEN {} ELSE {} || char(10) || {changed_before} END", text_of("before"), text_of("after")),
        ),
    ];
    for (label, body) in variants {
        reset()?;
        let base = size();
        let t = Instant::now();
        sql(&format!("BEGIN; INSERT INTO events_text (rowid, body) SELECT id, {body} FROM events ORDER BY id; COMMIT;"))?;
        println!("{label}_s={:.2} (index {} MiB)", t.elapsed().as_secs_f64(), size().saturating_sub(base) >> 20);
    }
    Ok(())
}
