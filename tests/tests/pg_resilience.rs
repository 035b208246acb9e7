//! Nothing lost, nothing duplicated, whatever happens to the capture process or its connection.
//!
//! Against a real server, the real `rowtrail` binary and a real SQLite cache, these tests prove:
//! - `rowtrail watch` killed with SIGKILL at random moments while a writer commits thousands
//!   of small transactions, and restarted each time, ends (after a final `rowtrail sync`) with
//!   exactly the writer's ground truth: every transaction once, in commit order, with the
//!   server's txid and the right rows and values;
//! - a streaming source whose walsender is terminated on the server (once with changes made
//!   while it is away, once in the middle of a burst of writes) reconnects by itself and stores
//!   every change exactly once.
//!
//! Build the CLI first: `cargo build -p rowtrail-cli`.

mod common;

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{wait_until, PgSrc, Rng};
use rowtrail_core::source::SourceState;
use rowtrail_tests::tokio_postgres::Client;
use rowtrail_tests::{connect, rowtrail_bin, temp_data_dir, txn_with_txid, TestDb};
use serde_json::Value;

/// One row change the writer made: (table, id, op, value of `v` after it, or None).
type Change = (String, String, String, Option<String>);

/// A committed transaction of the writer: its txid and its changes in statement order.
#[derive(Debug, Clone)]
struct Txn {
    txid: String,
    changes: Vec<Change>,
}

/// How far a background writer has got, and where it must wait.
struct Pace {
    /// Transactions committed so far.
    done: AtomicUsize,
    /// The writer waits before committing transaction number `gate` until it is raised: a
    /// loaded machine starts a restarted `rowtrail watch` slower than the writer commits, and
    /// without a pause the watches would see next to nothing of what they are meant to capture.
    gate: AtomicUsize,
}

impl Default for Pace {
    fn default() -> Pace {
        Pace {
            done: AtomicUsize::new(0),
            gate: AtomicUsize::new(usize::MAX),
        }
    }
}

/// Commits `count` small random transactions on `t` (ids from `id_base`), logging each.
async fn write_transactions(
    client: &Client,
    count: usize,
    id_base: i64,
    seed: u64,
    pace: &Pace,
) -> Vec<Txn> {
    let mut rng = Rng(seed);
    let mut live: Vec<i64> = Vec::new();
    let mut next_id = id_base;
    let mut log = Vec::with_capacity(count);
    for i in 0..count {
        while i >= pace.gate.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut sql = String::new();
        let mut changes = Vec::new();
        for k in 0..rng.range(1, 4) {
            let roll = rng.range(0, 100);
            if live.is_empty() || roll < 50 {
                let id = next_id;
                next_id += 1;
                let v = format!("i{i}.{k}");
                sql.push_str(&format!("INSERT INTO t VALUES ({id}, '{v}');"));
                live.push(id);
                changes.push(("t".into(), id.to_string(), "insert".into(), Some(v)));
            } else if roll < 90 {
                let id = live[rng.range(0, live.len() as u64) as usize];
                let v = format!("u{i}.{k}");
                sql.push_str(&format!("UPDATE t SET v = '{v}' WHERE id = {id};"));
                changes.push(("t".into(), id.to_string(), "update".into(), Some(v)));
            } else {
                let idx = rng.range(0, live.len() as u64) as usize;
                let id = live.swap_remove(idx);
                sql.push_str(&format!("DELETE FROM t WHERE id = {id};"));
                changes.push(("t".into(), id.to_string(), "delete".into(), None));
            }
        }
        let txid = txn_with_txid(client, &sql).await;
        log.push(Txn { txid, changes });
        pace.done.store(i + 1, Ordering::SeqCst);
    }
    log
}

/// Events as (txid, change) in stored order, from the contract JSON.
fn changes_of(events: &[Value]) -> Vec<(String, Change)> {
    events
        .iter()
        .map(|e| {
            let op = e["op"].as_str().unwrap().to_string();
            let v = if op == "delete" {
                None
            } else {
                e["after"]["v"].as_str().map(str::to_string)
            };
            (
                e["txid"].as_str().unwrap().to_string(),
                (
                    e["table"].as_str().unwrap().to_string(),
                    e["key"]["id"].as_str().unwrap_or("?").to_string(),
                    op,
                    v,
                ),
            )
        })
        .collect()
}

/// Compares stored events with the writer's log: same transactions in the same order, each
/// with exactly its changes. Panics with the first difference.
fn assert_matches_log(stored: &[(String, Change)], log: &[Txn]) {
    let expected: Vec<(String, Change)> = log
        .iter()
        .flat_map(|t| t.changes.iter().map(move |c| (t.txid.clone(), c.clone())))
        .collect();
    // Every change is unique (each statement writes its own value; a deleted id is never
    // reused), so a repeated one is a duplicate.
    let mut seen = std::collections::HashSet::new();
    for s in stored {
        assert!(seen.insert(s.clone()), "event stored twice: {s:?}");
    }
    if stored.len() != expected.len() || stored != expected.as_slice() {
        let first = stored
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(stored.len().min(expected.len()));
        panic!(
            "stored {} events, the writer made {}; first difference at #{first}: stored {:?}, expected {:?}",
            stored.len(),
            expected.len(),
            stored.get(first),
            expected.get(first)
        );
    }
}

fn rowtrail(data_dir: &Path) -> Command {
    let mut c = Command::new(rowtrail_bin());
    c.arg("--data-dir").arg(data_dir);
    c.env_remove("ROWTRAIL_PG_PASSWORD")
        .env_remove("PGPASSWORD");
    c
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("rowtrail runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn spawn_watch(data_dir: &Path, name: &str, round: usize) -> Child {
    let log = |kind: &str| File::create(data_dir.join(format!("watch-{round}.{kind}"))).unwrap();
    rowtrail(data_dir)
        .args(["watch", name])
        .stdin(Stdio::null())
        .stdout(log("out"))
        .stderr(log("err"))
        .spawn()
        .expect("rowtrail watch starts")
}

fn watch_logs(data_dir: &Path) -> String {
    let mut s = String::new();
    let mut files: Vec<_> = std::fs::read_dir(data_dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("watch-"))
        })
        .collect();
    files.sort();
    for f in files {
        s.push_str(&format!(
            "--- {}\n{}\n",
            f.display(),
            std::fs::read_to_string(&f).unwrap_or_default()
        ));
    }
    s
}

async fn slot_active(admin: &Client, slot: &str) -> bool {
    admin
        .query_opt(
            "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .unwrap()
        .is_some_and(|r| r.get::<_, bool>(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_watch_loses_and_duplicates_nothing() {
    const TXNS: usize = 3000;
    let db = TestDb::new("kill9").await;
    db.exec("CREATE TABLE t (id bigint PRIMARY KEY, v text)")
        .await;
    let name = db.name.clone();
    let slot = rowtrail_core::source::postgres::catalog::object_name(&name);
    let dir = temp_data_dir();
    let data = dir.path().to_path_buf();
    run_ok(rowtrail(&data).args(["source", "add", "pg", &name, "--url", &db.url, "--yes"]));

    let mut rng = Rng::from_env_or_clock("kill_9_during_watch");
    let writer_seed = rng.next() | 1;
    // Kill points: three random moments spread over the run.
    let kills: Vec<usize> = vec![
        rng.range(TXNS as u64 / 20, TXNS as u64 / 3) as usize,
        rng.range(TXNS as u64 / 3, 2 * TXNS as u64 / 3) as usize,
        rng.range(2 * TXNS as u64 / 3, TXNS as u64 * 19 / 20) as usize,
    ];
    eprintln!("killing rowtrail watch after transactions {kills:?}");

    let mut round = 0;
    let mut child = spawn_watch(&data, &name, round);
    let admin = connect(&db.admin_url).await;
    assert!(
        wait_until(Duration::from_secs(20), || slot_active(&admin, &slot)).await,
        "rowtrail watch never started streaming:\n{}",
        watch_logs(&data)
    );

    // The writer runs on for a while past each kill point (so the kill lands while changes
    // stream), then waits until the restarted watch streams again.
    const RUN_ON: usize = 200;
    let mut seen = vec![walsender_pid(&admin, &slot, &[]).await];
    let pace = Arc::new(Pace::default());
    pace.gate.store(kills[0] + RUN_ON, Ordering::SeqCst);
    let writer = {
        let (url, pace) = (db.url.clone(), pace.clone());
        tokio::spawn(async move {
            let client = connect(&url).await;
            write_transactions(&client, TXNS, 1, writer_seed, &pace).await
        })
    };
    for (j, &at) in kills.iter().enumerate() {
        while pace.done.load(Ordering::SeqCst) < at && !writer.is_finished() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.range(0, 40))).await;
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "rowtrail watch exited by itself ({status}):\n{}",
                watch_logs(&data)
            );
        }
        child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
        child.wait().unwrap();
        tokio::time::sleep(Duration::from_millis(rng.range(0, 300))).await;
        round += 1;
        child = spawn_watch(&data, &name, round);
        // Streaming again: a walsender other than the killed watches' (whose own may linger).
        seen.push(walsender_pid(&admin, &slot, &seen).await);
        let next = kills.get(j + 1).map_or(usize::MAX, |k| k + RUN_ON);
        pace.gate.store(next, Ordering::SeqCst);
    }
    let log = writer.await.expect("writer finished");
    // Let the last watch stream for a moment, then kill it too.
    tokio::time::sleep(Duration::from_millis(rng.range(0, 500))).await;
    if let Some(status) = child.try_wait().unwrap() {
        panic!(
            "rowtrail watch exited by itself ({status}):\n{}",
            watch_logs(&data)
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        wait_until(Duration::from_secs(20), || async {
            !slot_active(&admin, &slot).await
        })
        .await,
        "the killed watch's walsender never went away"
    );

    let summary = run_ok(rowtrail(&data).args(["sync", &name]));
    let out = run_ok(rowtrail(&data).args(["events", "--json", "--source", &name]));
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect();
    let logs = watch_logs(&data);
    assert!(
        !logs.contains("lost"),
        "a watch reported lost events:\n{logs}"
    );
    eprintln!("final sync: {}", summary.trim());
    assert_matches_log(&changes_of(&events), &log);
    // The watches did the work; the final sync only read the tail after the last kill.
    let final_events: usize = summary
        .split("stored ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected sync output: {summary}"));
    assert!(
        final_events < events.len() / 2,
        "the final sync stored {final_events} of {} events: the watches captured too little",
        events.len()
    );
}

/// The pid of the walsender streaming `slot` for Rowtrail, other than those in `not` (a
/// terminated walsender shows as the slot's active pid until it has exited). Waits up to 30 s.
async fn walsender_pid(admin: &Client, slot: &str, not: &[i32]) -> i32 {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let row = admin
            .query_one(
                "SELECT r.active_pid FROM pg_replication_slots r
                 JOIN pg_stat_replication s ON s.pid = r.active_pid
                 WHERE r.slot_name = $1 AND s.application_name = 'rowtrail'
                 UNION ALL SELECT NULL LIMIT 1",
                &[&slot],
            )
            .await
            .unwrap();
        match row.get::<_, Option<i32>>(0).filter(|p| !not.contains(p)) {
            Some(pid) => return pid,
            None if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            None => panic!("no Rowtrail walsender is streaming {slot}"),
        }
    }
}

/// Terminates one walsender, as `SELECT pg_terminate_backend(pid) FROM pg_stat_replication
/// WHERE application_name = 'rowtrail'` would (restricted to our slot: tests run in parallel).
async fn terminate(admin: &Client, pid: i32) {
    let done: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(done, "walsender {pid} is terminated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_reconnects_and_delivers_everything_once() {
    const PHASE: usize = 300;
    let src = PgSrc::new("dropconn", "CREATE TABLE t (id bigint PRIMARY KEY, v text)").await;
    let admin = connect(&src.db.admin_url).await;
    let slot = src.slot();

    let watch = src.watch();
    assert!(
        wait_until(Duration::from_secs(20), || slot_active(&admin, &slot)).await,
        "the source never started streaming"
    );

    // Phase 1 streams normally; then the walsender is terminated and phase 2 is written
    // while the source is away; once it is back, phase 3 is written and the new walsender is
    // terminated in the middle of it.
    let client = connect(&src.db.url).await;
    let unused = Pace::default();
    let mut log = write_transactions(&client, PHASE, 1, 0x5eed_1234_5678_9abd, &unused).await;
    let mut terminated: Vec<i32> = Vec::new();
    let pid = walsender_pid(&admin, &slot, &terminated).await;
    terminate(&admin, pid).await;
    terminated.push(pid);
    log.extend(write_transactions(&client, PHASE, 100_001, 0x0dd5_eed5_0000_0001, &unused).await);

    let pid = walsender_pid(&admin, &slot, &terminated).await;
    let pace = Arc::new(Pace::default());
    let writer = {
        let (url, pace) = (src.db.url.clone(), pace.clone());
        tokio::spawn(async move {
            let client = connect(&url).await;
            write_transactions(&client, PHASE, 200_001, 0x0dd5_eed5_0000_0003, &pace).await
        })
    };
    while pace.done.load(Ordering::SeqCst) < PHASE / 3 && !writer.is_finished() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    terminate(&admin, pid).await;
    terminated.push(pid);
    log.extend(writer.await.expect("writer finished"));
    let expected: usize = log.iter().map(|t| t.changes.len()).sum();

    let caught_up = wait_until(Duration::from_secs(30), || async {
        src.cache().event_count().unwrap_or(0) as usize >= expected
    })
    .await;
    let reports = watch.reports.lock().unwrap().clone();
    let result = watch.stop().await;
    let reconnects: Vec<String> = reports
        .iter()
        .filter(|p| p.state == SourceState::Reconnecting)
        .map(|p| p.message.clone().unwrap_or_default())
        .collect();
    assert!(
        caught_up,
        "not every change arrived; reconnects: {reconnects:#?}"
    );
    let durable =
        result.unwrap_or_else(|e| panic!("the source failed: {e}; reconnects: {reconnects:#?}"));
    assert!(
        reconnects.len() >= terminated.len(),
        "the source reported {} reconnect(s) for {} terminated connection(s): {reconnects:#?}",
        reconnects.len(),
        terminated.len()
    );
    assert_eq!(durable.events as usize, expected);

    assert_matches_log(&changes_of(&src.events_json()), &log);
}
