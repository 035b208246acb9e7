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
//! rowtrail-bench ui-cache --dir DIR [--events 1000000] [--versions 1000] [--seed 42]
//! ```
//!
//! `ui-cache` writes a workspace (DIR/cache.sqlite, which `rowtrail --data-dir DIR` opens) for
//! the UI benchmark (tests/bench/ui.mjs): `--events` realistic changes over three tables, in
//! transactions, through the engine's WriterHandle, with exactly one record of `--versions`
//! versions, whose table and key it prints.
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
        Some("ui-cache") => rt.block_on(ui_cache(&Opts::parse_with(&args[1..], 1_000_000, 1_000))),
        _ => Err("usage: rowtrail-bench history --dir DIR --pg-url URL [--records N] [--versions N] [--lookups N] [--txn-events N] [--seed N]\n       rowtrail-bench watch-slot --pg-url URL --slot SLOT --lsn LSN\n       rowtrail-bench ui-cache --dir DIR [--events 1000000] [--versions 1000] [--seed N]".into()),
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
    /// `ui-cache`: events in all.
    events: u64,
}

impl Opts {
    fn parse(args: &[String]) -> Opts {
        Opts::parse_with(args, 0, 100)
    }

    /// With other defaults for `--events` and `--versions`.
    fn parse_with(args: &[String], events: u64, versions: u64) -> Opts {
        let mut o = Opts {
            dir: PathBuf::from("/tmp/rowtrail-bench"),
            pg_url: std::env::var("ROWTRAIL_TEST_PG_URL").unwrap_or_default(),
            records: 100_000,
            versions,
            lookups: 1000,
            txn_events: 1000,
            seed: 42,
            slot: String::new(),
            lsn: String::new(),
            cache: PathBuf::new(),
            skip_build: false,
            events,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let v = it.next().unwrap_or_else(|| panic!("{a} needs a value"));
            let num = || {
                v.parse::<u64>()
                    .unwrap_or_else(|_| panic!("{a}: not a number: {v}"))
            };
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
                "--events" => o.events = num(),
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

fn relation() -> Relation {
    let col = |name: &str, t: &str, key: bool| ColumnDef {
        name: name.into(),
        type_name: t.into(),
        key,
    };
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

/// Fills a new cache through the engine's own `WriterHandle`, as a source would: one source,
/// numbered transactions (each `begin` commits the previous one and marks the boundary, as
/// sources do at every commit), progress on stderr every 10 s. Shared by `history` and
/// `ui-cache`.
struct CacheFill {
    w: WriterHandle,
    txn: i64,
    open: bool,
    events: u64,
    total: u64,
    started: Instant,
    last_report: Instant,
}

fn werr(e: rowtrail_core::cache::CacheError) -> String {
    e.to_string()
}

impl CacheFill {
    /// Creates `path` afresh (removing any old cache there) with one source; `total` is only
    /// for the progress lines.
    async fn create(
        path: &Path,
        source: &str,
        kind: &str,
        config: serde_json::Value,
        total: u64,
    ) -> Result<CacheFill, String> {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let cache = Cache::open(path).map_err(|e| e.to_string())?;
        let src = cache
            .add_source(source, kind, &config)
            .map_err(|e| e.to_string())?;
        drop(cache);
        let w = WriterHandle::spawn(path, src.id).map_err(werr)?;
        let now = Instant::now();
        Ok(CacheFill {
            w,
            txn: 0,
            open: false,
            events: 0,
            total,
            started: now,
            last_report: now,
        })
    }

    async fn relation(&mut self, id: u32, relation: Relation) -> Result<(), String> {
        self.w
            .push(WriteOp::Relation { id, relation })
            .await
            .map_err(werr)
    }

    /// Commits the open transaction, if any, and begins the next one.
    async fn begin(&mut self, committed_us: i64) -> Result<(), String> {
        self.commit().await?;
        self.txn += 1;
        let pos = 0x1_0000_0000 + self.txn * 4096;
        self.open = true;
        self.w
            .push(WriteOp::Begin(TxnMeta {
                txid: (1000 + self.txn).to_string(),
                position: format_lsn(pos as u64),
                position_num: pos,
                committed_us,
            }))
            .await
            .map_err(werr)
    }

    async fn context(&mut self, key: &str, value: &str) -> Result<(), String> {
        self.w
            .push(WriteOp::Context {
                key: key.into(),
                value: value.into(),
            })
            .await
            .map_err(werr)
    }

    async fn event(&mut self, relation: u32, event: ChangeEvent) -> Result<(), String> {
        self.w
            .push(WriteOp::Event { relation, event })
            .await
            .map_err(werr)?;
        self.events += 1;
        if self.last_report.elapsed() >= Duration::from_secs(10) {
            self.last_report = Instant::now();
            eprintln!(
                "  cache: {}/{} events ({:.0}/s)",
                self.events,
                self.total,
                self.events as f64 / self.started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), String> {
        if self.open {
            self.open = false;
            self.w.push(WriteOp::Commit).await.map_err(werr)?;
            // As sources do at every commit: lets the writer see a transaction boundary.
            self.w.boundary().await.map_err(werr)?;
        }
        Ok(())
    }

    /// Commits, closes the writer and checks that it stored every event: (events, time taken).
    async fn finish(mut self) -> Result<(u64, Duration), String> {
        self.commit().await?;
        let d = self.w.close().await.map_err(werr)?;
        if d.events != self.events {
            return Err(format!(
                "the writer stored {} events, expected {}",
                d.events, self.events
            ));
        }
        Ok((d.events, self.started.elapsed()))
    }
}

/// Events in commit order: version-major, so one record's versions are spread over the whole
/// file (as a record changed now and then over a long history), `txn_events` per transaction.
async fn build_cache(o: &Opts, path: &Path) -> Result<(u64, Duration), String> {
    let total = o.records * o.versions;
    let mut fill =
        CacheFill::create(path, "bench", "postgres", serde_json::json!({}), total).await?;
    fill.relation(1, relation()).await?;
    let mut n: u64 = 0;
    let mut last_tenth: Option<Instant> = None;
    let mut prev: Vec<Option<Vec<Cell>>> = vec![None; o.records as usize];
    for v in 0..o.versions {
        for r in 1..=o.records {
            if n % o.txn_events == 0 {
                fill.begin((BASE_SECS + (v * 100_000 + r) as i64) * 1_000_000)
                    .await?;
            }
            // The before image of version v is the after image of version v-1.
            let after = cells(row(r, v));
            let before = prev[(r - 1) as usize].replace(after.clone());
            let op = if before.is_none() {
                Op::Insert
            } else {
                Op::Update
            };
            fill.event(
                1,
                ChangeEvent {
                    op,
                    before,
                    after: Some(after),
                },
            )
            .await?;
            n += 1;
            if n == total - total / 10 {
                last_tenth = Some(Instant::now());
            }
        }
    }
    let (events, took) = fill.finish().await?;
    if events != total {
        return Err(format!(
            "the writer stored {events} events, expected {total}"
        ));
    }
    if let Some(t) = last_tenth {
        // The rate over the last tenth, once the cache is large.
        println!(
            "cache_build_last_tenth_events_per_s={:.0}",
            (total / 10) as f64 / t.elapsed().as_secs_f64()
        );
    }
    Ok((events, took))
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
            eprintln!(
                "  postgres: {} of {} versions inserted ({:.0}s)",
                v + 1,
                o.versions,
                started.elapsed().as_secs_f64()
            );
        }
    }
    client
        .batch_execute("SET maintenance_work_mem = '1GB'; CREATE INDEX events_record ON events (record_key, id)")
        .await
        .map_err(e)?;
    client
        .batch_execute("VACUUM ANALYZE events")
        .await
        .map_err(e)?;
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
    let median = if n % 2 == 1 {
        ms(d[n / 2])
    } else {
        (ms(d[n / 2 - 1]) + ms(d[n / 2])) / 2.0
    };
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
        eprintln!(
            "history: building a cache of {} events at {}",
            o.records * o.versions,
            path.display()
        );
        let (events, took) = build_cache(o, &path).await?;
        println!("cache_build_s={:.1}", took.as_secs_f64());
        println!(
            "cache_build_events_per_s={:.0}",
            events as f64 / took.as_secs_f64()
        );
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
    eprintln!(
        "history: {} keys: PostgreSQL query, record_history, cache query alone",
        keys.len()
    );
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
    let other_keys = random_keys(
        o.seed.wrapping_mul(31).wrapping_add(7),
        o.records,
        o.lookups,
    );
    let mut times: [Vec<Duration>; 3] = Default::default();
    for (i, (&k, &k2)) in keys.iter().zip(&other_keys).enumerate() {
        for j in 0..3 {
            let which = (i + j) % 3;
            let t = Instant::now();
            let n = match which {
                0 => {
                    // PostgreSQL: the equivalent indexed query, prepared once, rows decoded as JSON.
                    let rows = client
                        .query(&stmt, &[&format!("[\"{k}\"]")])
                        .await
                        .map_err(|e| e.to_string())?;
                    for r in &rows {
                        let _id: i64 = r.get(0);
                        let _before: Option<serde_json::Value> = r.get(1);
                        let _after: Option<serde_json::Value> = r.get(2);
                    }
                    rows.len()
                }
                1 => {
                    // Rowtrail: the engine's own history call (table lookup, events, diffs).
                    rowtrail_core::history::record_history(
                        &cache,
                        Some("bench"),
                        "orders",
                        &[k.to_string()],
                    )
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
                return Err(format!(
                    "measurement {which}: record {k}/{k2} has {n} versions, expected {versions}"
                ));
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
        let rows = client
            .query(&stmt, &[&o.slot, &o.lsn])
            .await
            .map_err(|e| e.to_string())?;
        if rows.first().is_some_and(|r| r.get::<_, bool>(0)) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|e| e.to_string())?;
            println!("reached_unix_s={:.3}", now.as_secs_f64());
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "slot {} did not reach {} within an hour",
        o.slot, o.lsn
    ))
}

fn search_index(o: &Opts) -> Result<(), String> {
    let cache = Cache::open(&o.cache).map_err(|e| e.to_string())?;
    let conn = cache.conn();
    let sql = |q: &str| conn.execute_batch(q).map_err(|e| format!("{q}: {e}"));
    let reset = || -> Result<(), String> {
        sql(
            "INSERT INTO events_text (events_text) VALUES ('delete-all');
             INSERT INTO events_text (events_text, rank) VALUES ('automerge', 4);
             INSERT INTO events_text (events_text, rank) VALUES ('crisismerge', 16);
             UPDATE search_progress SET last_event_id = 0;
             PRAGMA wal_checkpoint(TRUNCATE);",
        )
    };
    // Bytes of the FTS5 index itself (its segments and structure).
    let size = || -> u64 {
        conn.query_row(
            "SELECT coalesce(sum(length(block)), 0) FROM events_text_data",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_or(0) as u64
    };
    let events = cache.event_count().map_err(|e| e.to_string())?;
    println!("events={events}");

    println!("index_bytes_before_reset={}", size());
    reset()?;
    let base = size();
    let t = Instant::now();
    let n =
        rowtrail_core::cache::search::index_pending(conn, usize::MAX).map_err(|e| e.to_string())?;
    println!(
        "index_pending_s={:.2} (indexed {n}, index {} MiB)",
        t.elapsed().as_secs_f64(),
        size().saturating_sub(base) >> 20
    );

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
    let text_of = |img: &str| {
        format!("coalesce((SELECT group_concat(value, char(10)) FROM json_each({img}) WHERE type = 'text'), '')")
    };
    let changed_before = "coalesce((SELECT group_concat(b.value, char(10)) FROM json_each(before) b JOIN json_each(after) a ON a.key = b.key
                          WHERE b.type = 'text' AND b.value IS NOT a.value), '')";
    let variants = [
        (
            "both_images_sql",
            format!("{} || char(10) || {}", text_of("before"), text_of("after")),
        ),
        ("after_image_only_sql", text_of("coalesce(after, before)")),
        (
            "after_plus_changed_before_sql",
            format!(
                "CASE WHEN after IS NULL THEN {} ELSE {} || char(10) || {changed_before} END",
                text_of("before"),
                text_of("after")
            ),
        ),
    ];
    for (label, body) in variants {
        reset()?;
        let base = size();
        let t = Instant::now();
        sql(&format!("BEGIN; INSERT INTO events_text (rowid, body) SELECT id, {body} FROM events ORDER BY id; COMMIT;"))?;
        println!(
            "{label}_s={:.2} (index {} MiB)",
            t.elapsed().as_secs_f64(),
            size().saturating_sub(base) >> 20
        );
    }
    Ok(())
}

/// xorshift64*: deterministic pseudo-random numbers without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let x = &mut self.0;
        *x ^= *x >> 12;
        *x ^= *x << 25;
        *x ^= *x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in 0..n.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A timestamp in PostgreSQL's text form (`2026-01-01 00:00:00+00`).
fn pg_ts(us: i64) -> String {
    let ts = format_us(us);
    format!("{} {}+00", &ts[..10], &ts[11..19])
}

fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

const ORDER_STATUSES: [&str; 6] = [
    "pending",
    "paid",
    "packed",
    "shipped",
    "delivered",
    "cancelled",
];
const ACTORS: [&str; 8] = [
    "alice@shop.example",
    "bob@shop.example",
    "carol@shop.example",
    "svc:checkout",
    "svc:billing",
    "svc:fulfilment",
    "svc:inventory-sync",
    "dave@shop.example",
];
const REASONS: [&str; 5] = [
    "checkout",
    "payment captured",
    "picked and packed",
    "carrier scan",
    "stock count",
];
const WAREHOUSES: [&str; 4] = ["AMS-1", "BER-2", "LYS-1", "MAD-3"];
const TIERS: [&str; 3] = ["standard", "plus", "business"];
const FIRST: [&str; 8] = [
    "Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances",
];
const LAST: [&str; 8] = [
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen",
];

/// The relation ids of `ui-cache`'s tables.
const REL_ORDERS: u32 = 1;
const REL_CUSTOMERS: u32 = 2;
const REL_INVENTORY: u32 = 3;
/// Stock keeping units of the inventory table; the first is the record with many versions.
const INVENTORY_SKUS: u64 = 5_000;
const CUSTOMERS: u64 = 20_000;

fn ui_relations() -> [(u32, Relation); 3] {
    let col = |name: &str, t: &str, key: bool| ColumnDef {
        name: name.into(),
        type_name: t.into(),
        key,
    };
    let rel = |table: &str, columns: Vec<ColumnDef>| Relation {
        schema: "public".into(),
        table: table.into(),
        columns,
    };
    [
        (
            REL_ORDERS,
            rel(
                "orders",
                vec![
                    col("id", "bigint", true),
                    col("customer_id", "bigint", false),
                    col("status", "text", false),
                    col("total", "numeric(12,2)", false),
                    col("updated_at", "timestamp with time zone", false),
                    col("note", "text", false),
                ],
            ),
        ),
        (
            REL_CUSTOMERS,
            rel(
                "customers",
                vec![
                    col("id", "bigint", true),
                    col("name", "text", false),
                    col("email", "text", false),
                    col("tier", "text", false),
                    col("updated_at", "timestamp with time zone", false),
                ],
            ),
        ),
        (
            REL_INVENTORY,
            rel(
                "inventory",
                vec![
                    col("sku", "text", true),
                    col("warehouse", "text", false),
                    col("qty", "integer", false),
                    col("reserved", "integer", false),
                    col("updated_at", "timestamp with time zone", false),
                ],
            ),
        ),
    ]
}

#[derive(Clone, Copy)]
struct OrderState {
    customer: u64,
    status: u8,
    cents: u64,
    rev: u32,
    updated_us: i64,
}

fn order_row(id: u64, s: &OrderState) -> Vec<Cell> {
    let note = if s.rev == 0 {
        format!("Order {id}: please leave the parcel with the neighbour at number {} if nobody answers.", id % 97)
    } else {
        format!("Order {id} (rev {}): customer called, delivery window moved; ring twice, parcel is fragile.", s.rev)
    };
    cells([
        id.to_string(),
        s.customer.to_string(),
        ORDER_STATUSES[s.status as usize].to_string(),
        money(s.cents),
        pg_ts(s.updated_us),
        note,
    ])
}

#[derive(Clone, Copy)]
struct CustomerState {
    tier: u8,
    email_rev: u32,
    updated_us: i64,
}

fn customer_row(id: u64, s: &CustomerState) -> Vec<Cell> {
    let first = FIRST[(id % 8) as usize];
    let last = LAST[(id / 8 % 8) as usize];
    let email = if s.email_rev == 0 {
        format!(
            "{}.{}{id}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        )
    } else {
        format!(
            "{}{id}+{}@mail.example.org",
            first.to_lowercase(),
            s.email_rev
        )
    };
    cells([
        id.to_string(),
        format!("{first} {last}"),
        email,
        TIERS[s.tier as usize].to_string(),
        pg_ts(s.updated_us),
    ])
}

#[derive(Clone, Copy)]
struct StockState {
    qty: u64,
    reserved: u64,
    updated_us: i64,
}

fn sku(n: u64) -> String {
    format!("SKU-{n:06}")
}

fn stock_row(n: u64, s: &StockState) -> Vec<Cell> {
    cells([
        sku(n),
        WAREHOUSES[(n % 4) as usize].to_string(),
        s.qty.to_string(),
        s.reserved.to_string(),
        pg_ts(s.updated_us),
    ])
}

fn cells<const N: usize>(vals: [String; N]) -> Vec<Cell> {
    vals.into_iter().map(Cell::Text).collect()
}

/// `ui-cache`: a workspace for the UI benchmark (tests/bench/ui.mjs): `events` changes in
/// transactions of 1 to 8 events over three tables of one (paused) PostgreSQL source, with an
/// actor on every transaction, written through the engine's WriterHandle into the workspace's
/// cache. Orders are inserted, moved through their statuses and now and then deleted;
/// customers and stock levels change. Exactly one record, inventory `SKU-000001`, gets
/// `versions` versions, spread evenly over the whole history; every other record has far
/// fewer (a few on average, well under 100 at most).
async fn ui_cache(o: &Opts) -> Result<(), String> {
    let total = o.events;
    let hot_versions = o.versions;
    if hot_versions == 0 || hot_versions > total {
        return Err(format!(
            "--versions must be between 1 and --events ({total})"
        ));
    }
    std::fs::create_dir_all(&o.dir).map_err(|e| format!("{}: {e}", o.dir.display()))?;
    let ws = rowtrail_core::workspace::Workspace::resolve(Some(&o.dir));
    let path = ws.cache_path();
    eprintln!("ui-cache: {total} events into {}", path.display());
    // Paused: `rowtrail serve` and the app do not try to reach this (made-up) server.
    let config = serde_json::json!({"url": "postgres://shop@db.shop.example/shop", "paused": true});
    let mut fill = CacheFill::create(&path, "shop", "postgres", config, total).await?;
    for (id, rel) in ui_relations() {
        fill.relation(id, rel).await?;
    }

    let mut rng = Rng(o.seed.max(1));
    let mut now_us: i64 = BASE_SECS * 1_000_000;
    let mut orders: Vec<Option<OrderState>> = vec![None]; // index = order id; 0 unused
    let mut live_orders: Vec<u64> = Vec::new();
    let mut customers: Vec<Option<CustomerState>> = vec![None; CUSTOMERS as usize + 1];
    let mut stock: Vec<Option<StockState>> = vec![None; INVENTORY_SKUS as usize + 1];
    let hot_every = total / hot_versions;
    let mut hot_done: u64 = 0;
    let mut counts = [0u64; 4]; // insert, update, delete, hot
    let mut n: u64 = 0;
    while n < total {
        now_us += 200_000 + rng.below(3_000_000) as i64;
        fill.begin(now_us).await?;
        fill.context("actor", ACTORS[rng.below(ACTORS.len() as u64) as usize])
            .await?;
        if rng.below(3) == 0 {
            fill.context("reason", REASONS[rng.below(REASONS.len() as u64) as usize])
                .await?;
        }
        let size = 1 + rng.below(8);
        for _ in 0..size {
            if n == total {
                break;
            }
            let event;
            let rel;
            if n % hot_every == 0 && hot_done < hot_versions {
                // The record with many versions: stock of SKU-000001 moving all day.
                let before = stock[1].map(|s| stock_row(1, &s));
                let s = StockState {
                    qty: 500 + rng.below(1000),
                    reserved: rng.below(50),
                    updated_us: now_us,
                };
                stock[1] = Some(s);
                let op = if before.is_some() {
                    Op::Update
                } else {
                    Op::Insert
                };
                event = ChangeEvent {
                    op,
                    before,
                    after: Some(stock_row(1, &s)),
                };
                rel = REL_INVENTORY;
                hot_done += 1;
                counts[3] += 1;
            } else {
                let pick = rng.below(100);
                if pick < 30 || live_orders.len() < 100 {
                    // A new order.
                    let id = orders.len() as u64;
                    let s = OrderState {
                        customer: 1 + rng.below(CUSTOMERS),
                        status: 0,
                        cents: 500 + rng.below(50_000),
                        rev: 0,
                        updated_us: now_us,
                    };
                    orders.push(Some(s));
                    live_orders.push(id);
                    event = ChangeEvent {
                        op: Op::Insert,
                        before: None,
                        after: Some(order_row(id, &s)),
                    };
                    rel = REL_ORDERS;
                    counts[0] += 1;
                } else if pick < 70 {
                    // An order moves on (mostly recent ones).
                    let len = live_orders.len() as u64;
                    let i = if rng.below(4) == 0 {
                        rng.below(len)
                    } else {
                        len - 1 - rng.below(len.min(5_000))
                    };
                    let id = live_orders[i as usize];
                    let old = orders[id as usize].expect("live order");
                    let mut s = old;
                    s.updated_us = now_us;
                    if s.status < 4 && rng.below(5) != 0 {
                        s.status += 1;
                    } else {
                        s.rev += 1;
                        s.cents = 500 + rng.below(50_000);
                    }
                    orders[id as usize] = Some(s);
                    event = ChangeEvent {
                        op: Op::Update,
                        before: Some(order_row(id, &old)),
                        after: Some(order_row(id, &s)),
                    };
                    rel = REL_ORDERS;
                    counts[1] += 1;
                } else if pick < 74 {
                    // An order is deleted.
                    let i = rng.below(live_orders.len() as u64) as usize;
                    let id = live_orders.swap_remove(i);
                    let old = orders[id as usize].take().expect("live order");
                    event = ChangeEvent {
                        op: Op::Delete,
                        before: Some(order_row(id, &old)),
                        after: None,
                    };
                    rel = REL_ORDERS;
                    counts[2] += 1;
                } else if pick < 86 {
                    // A customer signs up or changes tier or email.
                    let id = 1 + rng.below(CUSTOMERS);
                    let old = customers[id as usize];
                    let s = match old {
                        None => CustomerState {
                            tier: 0,
                            email_rev: 0,
                            updated_us: now_us,
                        },
                        Some(mut s) => {
                            if rng.below(2) == 0 {
                                s.tier = ((s.tier as u64 + 1 + rng.below(2)) % 3) as u8;
                            } else {
                                s.email_rev += 1;
                            }
                            s.updated_us = now_us;
                            s
                        }
                    };
                    customers[id as usize] = Some(s);
                    let op = if old.is_some() {
                        Op::Update
                    } else {
                        Op::Insert
                    };
                    event = ChangeEvent {
                        op,
                        before: old.map(|o| customer_row(id, &o)),
                        after: Some(customer_row(id, &s)),
                    };
                    rel = REL_CUSTOMERS;
                    counts[if old.is_some() { 1 } else { 0 }] += 1;
                } else {
                    // A stock level changes (never the record with many versions).
                    let k = 2 + rng.below(INVENTORY_SKUS - 1);
                    let old = stock[k as usize];
                    let s = StockState {
                        qty: rng.below(2_000),
                        reserved: rng.below(40),
                        updated_us: now_us,
                    };
                    stock[k as usize] = Some(s);
                    let op = if old.is_some() {
                        Op::Update
                    } else {
                        Op::Insert
                    };
                    event = ChangeEvent {
                        op,
                        before: old.map(|o| stock_row(k, &o)),
                        after: Some(stock_row(k, &s)),
                    };
                    rel = REL_INVENTORY;
                    counts[if old.is_some() { 1 } else { 0 }] += 1;
                }
            }
            fill.event(rel, event).await?;
            n += 1;
        }
    }
    let txns = fill.txn;
    let (events, took) = fill.finish().await?;
    if hot_done != hot_versions {
        return Err(format!(
            "the record with many versions got {hot_done} versions, expected {hot_versions}"
        ));
    }
    println!("ui_cache_dir={}", o.dir.display());
    println!("ui_cache_events={events}");
    println!("ui_cache_transactions={txns}");
    println!(
        "ui_cache_inserts={} ui_cache_updates={} ui_cache_deletes={}",
        counts[0] + 1,
        counts[1] + counts[3] - 1,
        counts[2]
    );
    println!("ui_cache_source=shop");
    println!("ui_cache_record_table=public.inventory");
    println!("ui_cache_record_key={}", sku(1));
    println!("ui_cache_record_versions={hot_done}");
    println!("ui_cache_build_s={:.1}", took.as_secs_f64());
    println!("ui_cache_bytes={}", sqlite_bytes(&path));
    Ok(())
}
