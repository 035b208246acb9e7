#!/usr/bin/env bash
# Rowtrail's benchmarks (`make bench`). Not tests: they measure and print a markdown table;
# nothing is written to BENCHMARKS.md automatically.
#
#   make bench                         # default sizes (20 min of measuring at load ~9 on 2 cores, plus builds)
#   BENCH_N=20000 BENCH_RECORDS=2000 make bench     # a quick run
#
# 1. Ingest: one REPLICA IDENTITY FULL table, BENCH_N inserts (transactions of 1,000 rows)
#    then BENCH_N updates in ONE transaction; `pg_recvlogical` (pgoutput, to /dev/null) and
#    `rowtrail sync` each read the same WAL from their own slot, created before the workload;
#    then the first `rowtrail events --search`, which indexes every captured event once.
# 2. History: a cache of BENCH_RECORDS x BENCH_VERSIONS events built through the engine's
#    WriterHandle; `record_history` for BENCH_LOOKUPS random records against the equivalent
#    indexed PostgreSQL query (tests/src/bin/rowtrail-bench.rs).
# 3. UI: a workspace of BENCH_UI_EVENTS events with one record of BENCH_UI_VERSIONS versions
#    (`rowtrail-bench ui-cache`), then tests/e2e/bench.mjs: release `rowtrail serve` on it in
#    headless Chromium (Changes screen to first rows, opening that record, scroll frame
#    times), the UI bundle's gzip size, and the desktop app's cold start under Xvfb (through
#    tauri-driver; its release build takes many minutes on 2 cores: BENCH_UI_DESKTOP=0 skips
#    it). Needs no PostgreSQL, but runs inside the same wrapper.
#
# Environment (all optional):
#   BENCH_N         rows inserted, then updated in one transaction     (default 500000)
#   BENCH_RUNS      runs of each ingest side; the better one counts    (default 2)
#   BENCH_RECORDS   records in the history cache                       (default 100000)
#   BENCH_VERSIONS  versions per record                                (default 100)
#   BENCH_LOOKUPS   history lookups timed                              (default 1000)
#   BENCH_UI_EVENTS   events in the UI benchmark's workspace           (default 1000000)
#   BENCH_UI_VERSIONS versions of its one long-lived record             (default 1000)
#   BENCH_UI_RUNS     repetitions of each timed UI action               (default 10)
#   BENCH_UI_SCROLL_S seconds of scrolling                              (default 6)
#   BENCH_UI_DESKTOP  0 to skip the desktop app's cold start            (default 1)
#   BENCH_UI_DESKTOP_RUNS  launches of the desktop app                  (default 5)
#   BENCH_ONLY      `ingest`, `history` or `ui` to run one part only
#   BENCH_DIR       work directory for caches (default /work/scratch/rowtrail-bench if
#                   /work/scratch exists, else $TMPDIR/rowtrail-bench); emptied at the end
#   BENCH_KEEP=1    keep BENCH_DIR's caches afterwards
#   CARGO           cargo command (default cargo)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
CARGO=${CARGO:-cargo}

log() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# ---- outer: tools, release builds, then this script again inside a throwaway cluster ----
if [[ "${1:-}" != "--inner" ]]; then
    if [[ ! -x /usr/bin/time ]]; then
        log "installing GNU time (for peak RSS)"
        if [[ "$(id -u)" == 0 ]]; then
            apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
        else
            sudo apt-get install -y -qq time >/dev/null
        fi
    fi
    log "building release binaries"
    $CARGO build --release -q -p rowtrail-cli
    $CARGO build --release -q -p rowtrail-tests --bin rowtrail-bench
    if [[ -z "${BENCH_ONLY:-}" || "${BENCH_ONLY:-}" == ui ]]; then
        log "building the UI (ui/dist) and the browser driver (tests/e2e)"
        [[ -d ui/node_modules ]] || (cd ui && npm ci --no-audit --no-fund)
        (cd ui && npm run build >/dev/null)
        [[ -d tests/e2e/node_modules ]] || (cd tests/e2e && npm ci --no-audit --no-fund)
        if [[ "${BENCH_UI_DESKTOP:-1}" != 0 ]]; then
            log "building the desktop app (release; it embeds ui/dist) and tauri-driver"
            $CARGO build --release -q -p rowtrail-desktop
            src-tauri/scripts/install-tauri-driver.sh
        fi
    fi
    TARGET=$($CARGO metadata --format-version 1 --no-deps 2>/dev/null \
        | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    export BENCH_TARGET=${TARGET:-$ROOT/target}/release
    exec tests/pg-cluster.sh run "$ROOT/tests/bench/run.sh" --inner
fi

# ---- inner: the cluster is up (ROWTRAIL_TEST_PG_URL / _BIN) ----
RT=$BENCH_TARGET/rowtrail
BB=$BENCH_TARGET/rowtrail-bench
[[ -x "$RT" && -x "$BB" ]] || die "release binaries missing in $BENCH_TARGET"
PGBIN=$ROWTRAIL_TEST_PG_BIN
ADMIN=$ROWTRAIL_TEST_PG_URL
SERVER=${ADMIN%/*}                       # postgres://postgres@127.0.0.1:PORT

N=${BENCH_N:-500000}
RUNS=${BENCH_RUNS:-2}
RECORDS=${BENCH_RECORDS:-100000}
VERSIONS=${BENCH_VERSIONS:-100}
LOOKUPS=${BENCH_LOOKUPS:-1000}
ONLY=${BENCH_ONLY:-}
if [[ -n "${BENCH_DIR:-}" ]]; then
    DIR=$BENCH_DIR
elif [[ -d /work/scratch ]]; then
    DIR=/work/scratch/rowtrail-bench
else
    DIR=${TMPDIR:-/tmp}/rowtrail-bench
fi
case "$DIR" in "$ROOT"|"$ROOT"/*) die "BENCH_DIR must be outside the repository" ;; esac
rm -rf -- "$DIR"
mkdir -p "$DIR"
cleanup() { if [[ "${BENCH_KEEP:-0}" != 1 ]]; then rm -rf -- "$DIR"; fi; }
trap cleanup EXIT

psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
bytes_of() { local t=0 f; for f in "$@"; do [[ -f "$f" ]] && t=$(( t + $(stat -c %s "$f") )); done; echo "$t"; }

PG_VERSION=$(psql -d "$ADMIN" -Atc "SHOW server_version")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "PostgreSQL $PG_VERSION, load $LOAD_START, work dir $DIR"
STARTED=$(now)

# ============================== 1. ingest ==============================
ingest() {
    local url="$SERVER/bench_ingest" i
    psql -d "$ADMIN" -c "CREATE DATABASE bench_ingest"
    psql -d "$url" <<'SQL'
CREATE TABLE orders (
    id         bigint PRIMARY KEY,
    status     text NOT NULL,
    amount     numeric(12,2) NOT NULL,
    updated_at timestamptz NOT NULL,
    note       text NOT NULL
);
ALTER TABLE orders REPLICA IDENTITY FULL;
CREATE PUBLICATION bench_pub FOR TABLE orders;
SQL
    # Every slot exists before the workload, so each run reads the very same WAL.
    for (( i = 1; i <= RUNS; i++ )); do
        psql -d "$url" -Atc "SELECT pg_create_logical_replication_slot('bench_recv_$i', 'pgoutput')" >/dev/null
        "$RT" --data-dir "$DIR/rt$i" source add pg "rt$i" --url "$url?sslmode=disable" --yes >"$DIR/rt$i.add" 2>&1 \
            || { cat "$DIR/rt$i.add" >&2; die "rowtrail source add failed"; }
    done

    log "ingest: workload: $N inserts (transactions of 1,000), then $N updates in one transaction"
    local t0 t1 t2
    t0=$(now)
    psql -d "$url" -c "
DO \$\$
DECLARE b bigint;
BEGIN
  FOR b IN 0 .. ($N - 1) / 1000 LOOP
    INSERT INTO orders (id, status, amount, updated_at, note)
    SELECT g, 'pending', round(((g * 7) % 100000) / 100.0, 2),
           timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second',
           format('Order %s: customer asked us to leave the parcel at the back door and to call ahead.', g)
    FROM generate_series(b * 1000 + 1, least(b * 1000 + 1000, $N)) g;
    COMMIT;
  END LOOP;
END
\$\$;"
    t1=$(now)
    psql -d "$url" -c "UPDATE orders SET status = 'paid', amount = amount + 1, updated_at = updated_at + interval '1 hour'"
    t2=$(now)
    ENDPOS=$(psql -d "$url" -Atc "SELECT pg_current_wal_lsn()")
    EVENTS=$(( 2 * N ))
    WAL_BYTES=$(psql -d "$url" -Atc "SELECT pg_wal_lsn_diff('$ENDPOS', restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = 'bench_recv_1'")
    INSERT_S=$(calc %.1f "$t1 - $t0")
    UPDATE_S=$(calc %.1f "$t2 - $t1")
    log "ingest: workload done (inserts ${INSERT_S}s, update ${UPDATE_S}s, WAL $(( WAL_BYTES / 1048576 )) MiB), end position $ENDPOS"

    RECV_BEST=""; RT_BEST=""; RT_RSS_MAX=0; RT_STREAM_BEST=""
    for (( i = 1; i <= RUNS; i++ )); do
        # pg_recvlogical: the server's own decoding and sending, written nowhere.
        local s e took
        s=$(now)
        /usr/bin/time -v -o "$DIR/recv$i.time" "$PGBIN/pg_recvlogical" -d "$url" --slot "bench_recv_$i" --start \
            --endpos="$ENDPOS" --no-loop -o proto_version=1 -o publication_names=bench_pub -f /dev/null
        e=$(now)
        took=$(calc %.3f "$e - $s")
        log "ingest: pg_recvlogical run $i: ${took}s ($(calc %.0f "$EVENTS / $took") events/s)"
        if [[ -z "$RECV_BEST" ]] || awk "BEGIN { exit !($took < $RECV_BEST) }"; then RECV_BEST=$took; fi

        # rowtrail sync, with a watcher noting when the stream is stored and acknowledged.
        "$BB" watch-slot --pg-url "$url" --slot "rowtrail_rt$i" --lsn "$ENDPOS" >"$DIR/watch$i.out" 2>/dev/null &
        local watcher=$!
        sleep 0.5
        s=$(now)
        /usr/bin/time -v -o "$DIR/rt$i.time" "$RT" --data-dir "$DIR/rt$i" --json sync "rt$i" >"$DIR/rt$i.json" \
            || { cat "$DIR/rt$i.time" >&2; die "rowtrail sync failed"; }
        e=$(now)
        took=$(calc %.3f "$e - $s")
        sleep 0.2
        kill "$watcher" 2>/dev/null || true
        wait "$watcher" 2>/dev/null || true
        local stored stream rss cache_bytes
        stored=$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' "$DIR/rt$i.json")
        [[ "$stored" == "$EVENTS" ]] || die "rowtrail stored ${stored:-?} events, expected $EVENTS ($(cat "$DIR/rt$i.json"))"
        stream=$(sed -n 's/^reached_unix_s=//p' "$DIR/watch$i.out")
        stream=${stream:+$(calc %.3f "$stream - $s")}
        rss=$(rss_mb "$DIR/rt$i.time")
        if (( rss > RT_RSS_MAX )); then RT_RSS_MAX=$rss; fi
        cache_bytes=$(bytes_of "$DIR/rt$i/cache.sqlite" "$DIR/rt$i/cache.sqlite-wal")
        log "ingest: rowtrail sync run $i: ${took}s ($(calc %.0f "$EVENTS / $took") events/s), stream stored+acknowledged after ${stream:-?}s, peak RSS ${rss} MB, cache $(( cache_bytes / 1048576 )) MiB"
        if [[ -z "$RT_BEST" ]] || awk "BEGIN { exit !($took < $RT_BEST) }"; then
            RT_BEST=$took; RT_STREAM_BEST=$stream; CACHE_BYTES=$cache_bytes
        fi
        if (( i == RUNS )); then
            # `sync` leaves value-search indexing to the first search: time that search, which
            # indexes every event once (what a user waits for the first time they search).
            s=$(now)
            /usr/bin/time -v -o "$DIR/search.time" "$RT" --data-dir "$DIR/rt$i" events --search 'no such value' >/dev/null 2>&1 \
                || die "rowtrail events --search failed"
            e=$(now)
            SEARCH_S=$(calc %.3f "$e - $s")
            SEARCH_RSS=$(rss_mb "$DIR/search.time")
            SEARCH_BYTES=$(bytes_of "$DIR/rt$i/cache.sqlite" "$DIR/rt$i/cache.sqlite-wal")
            log "ingest: first value search after sync (indexes $EVENTS events): ${SEARCH_S}s, peak RSS ${SEARCH_RSS} MB, cache now $(( SEARCH_BYTES / 1048576 )) MiB"
        fi
        rm -rf -- "$DIR/rt$i"       # free the disk before the next run
    done
    psql -d "$ADMIN" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = 'bench_ingest'" >/dev/null
    psql -d "$ADMIN" -c "DROP DATABASE bench_ingest"
}

# ============================== 2. history ==============================
history() {
    psql -d "$ADMIN" -c "CREATE DATABASE bench_history"
    log "history: $RECORDS records x $VERSIONS versions, $LOOKUPS lookups"
    "$BB" history --dir "$DIR" --pg-url "$SERVER/bench_history" --records "$RECORDS" --versions "$VERSIONS" \
        --lookups "$LOOKUPS" >"$DIR/history.out"
    cat "$DIR/history.out" >&2
    # shellcheck disable=SC1091
    . "$DIR/history.out"
    rm -f -- "$DIR/history-cache.sqlite"*
    psql -d "$ADMIN" -c "DROP DATABASE bench_history"
}

# ============================== 3. UI ==============================
UI_EVENTS=${BENCH_UI_EVENTS:-1000000}
UI_VERSIONS=${BENCH_UI_VERSIONS:-1000}
UI_RUNS=${BENCH_UI_RUNS:-10}
UI_SCROLL_S=${BENCH_UI_SCROLL_S:-6}
UI_DESKTOP=${BENCH_UI_DESKTOP:-1}
UI_DESKTOP_RUNS=${BENCH_UI_DESKTOP_RUNS:-5}
ui() {
    log "ui: a workspace of $UI_EVENTS events, one record of $UI_VERSIONS versions"
    "$BB" ui-cache --dir "$DIR/ui" --events "$UI_EVENTS" --versions "$UI_VERSIONS" >"$DIR/ui-cache.out"
    cat "$DIR/ui-cache.out" >&2
    # shellcheck disable=SC1091
    . "$DIR/ui-cache.out"
    local parts=changes,record,scroll,bundle
    [[ "$UI_DESKTOP" == 0 ]] || parts+=,desktop
    log "ui: tests/e2e/bench.mjs ($parts), $UI_RUNS runs"
    ROWTRAIL_BIN="$RT" ROWTRAIL_DESKTOP_APP="$BENCH_TARGET/rowtrail-desktop" node tests/e2e/bench.mjs \
        --data-dir "$DIR/ui" --record "$ui_cache_source/$ui_cache_record_table/$ui_cache_record_key" \
        --runs "$UI_RUNS" --scroll-seconds "$UI_SCROLL_S" --parts "$parts" --desktop-runs "$UI_DESKTOP_RUNS" >"$DIR/ui.out" \
        || { cat "$DIR/ui.out" >&2; die "tests/e2e/bench.mjs failed"; }
    cat "$DIR/ui.out" >&2
    # shellcheck disable=SC1091
    . "$DIR/ui.out"
    rm -rf -- "$DIR/ui"
}

case "$ONLY" in
    "") ingest; history; ui ;;
    ingest) ingest ;;
    history) history ;;
    ui) ui ;;
    *) die "BENCH_ONLY must be ingest, history or ui" ;;
esac

# ============================== report ==============================
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
TOTAL_S=$(calc %.0f "$(now) - $STARTED")
WRITER=src-tauri/core/src/cache/writer.rs
setting() {
    sed -n "s/^const $1: [^=]*= \(.*\);.*/\1/p" "$2" \
        | sed -e 's/\([0-9]\)_\([0-9]\)/\1\2/g' -e 's/Duration::from_millis(\([0-9]*\))/\1 ms/' -e 's/Duration::from_secs(\([0-9]*\))/\1 s/'
}
status() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**not met**"; fi; }

echo
echo "### Rowtrail benchmarks ($(date -u +%Y-%m-%d), $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src-tauri 2>/dev/null || echo ' + uncommitted engine changes'))"
echo
echo "Machine: $(nproc) cores, $(free -h | awk '/^Mem:/ { print $2 }') RAM, PostgreSQL $PG_VERSION (throwaway cluster: fsync off), load average $LOAD_START at start, $LOAD_END at end; ${TOTAL_S}s in all (excluding builds)."
echo
echo "| Benchmark | Rowtrail | Baseline | Ratio | Goal | Status |"
echo "|---|---|---|---|---|---|"
part() { [[ -z "$ONLY" || "$ONLY" == "$1" ]]; }
if part ingest; then
    RT_EPS=$(calc %.0f "$EVENTS / $RT_BEST")
    RECV_EPS=$(calc %.0f "$EVENTS / $RECV_BEST")
    RATIO=$(calc %.2f "$RECV_BEST / $RT_BEST")
    BPE=$(calc %.0f "$CACHE_BYTES / $EVENTS")
    echo "| Ingest, $EVENTS events ($N inserts in txns of 1,000 + $N-row UPDATE in 1 txn), best of $RUNS | $RT_EPS events/s (${RT_BEST}s) | pg_recvlogical $RECV_EPS events/s (${RECV_BEST}s) | $RATIO | ≥ 0.8 | $(status "$RATIO >= 0.8") |"
    if [[ -n "$RT_STREAM_BEST" ]]; then
        STREAM_EPS=$(calc %.0f "$EVENTS / $RT_STREAM_BEST")
        echo "| … stream stored and acknowledged (seen by a slot watcher), same run | $STREAM_EPS events/s (~${RT_STREAM_BEST}s) | $RECV_EPS events/s | $(calc %.2f "$RECV_BEST / $RT_STREAM_BEST") | — | — |"
    fi
    echo "| First value search after that sync (\`rowtrail events --search\`, indexes all $EVENTS events once) | ${SEARCH_S}s ($(calc %.0f "$EVENTS / $SEARCH_S") events/s), peak RSS ${SEARCH_RSS} MB, cache then $(calc %.0f "$SEARCH_BYTES / $EVENTS") bytes/event | — | — | — | — |"
    echo "| Peak RSS of \`rowtrail sync\`, worst of $RUNS ($N-row transaction) | ${RT_RSS_MAX} MB | — | — | < 200 MB | $(status "$RT_RSS_MAX < 200") |"
    echo "| Cache size after sync (db + -wal) | $BPE bytes/event ($(( CACHE_BYTES / 1048576 )) MiB) | WAL read: $(calc %.0f "$WAL_BYTES / $EVENTS") bytes/event | — | — | — |"
fi
if part history; then
    echo "| History of one record ($history_versions versions) in a $history_events-event cache, $history_lookups random records: median | $rt_median_ms ms | indexed PostgreSQL query $pg_median_ms ms | $history_ratio_median | median < 10 ms | $(status "$rt_median_ms < 10") |"
    echo "| … p95 / max | $rt_p95_ms / $rt_max_ms ms | $pg_p95_ms / $pg_max_ms ms | $(calc %.2f "$rt_p95_ms / $pg_p95_ms") (p95) | — | — |"
    echo "| … of which the cache query alone (\`Cache::record_events\`, other random records): median / p95 | $rt_query_median_ms / $rt_query_p95_ms ms | $pg_median_ms / $pg_p95_ms ms | $(calc %.2f "$rt_query_median_ms / $pg_median_ms") | — | — |"
    echo "| Building the $history_events-event cache (WriterHandle, txns of 1,000) | ${cache_build_s}s ($cache_build_events_per_s events/s on average, $cache_build_last_tenth_events_per_s events/s over the last tenth), $(( cache_bytes / 1048576 )) MiB ($(calc %.0f "$cache_bytes / $history_events") bytes/event) | PostgreSQL table (UNLOGGED) + index: ${pg_build_s}s, $(( pg_bytes / 1048576 )) MiB | — | — | — |"
fi
if part ui; then
    kb() { calc %.1f "$1 / 1000"; }
    echo "| UI: Changes screen, app opened (navigation start → first rows painted), $ui_cache_events-event workspace, $UI_RUNS runs: median / max | $changes_load_paint_median_ms / $changes_load_paint_max_ms ms | — | — | median < 300 ms | $(status "$changes_load_paint_median_ms < 300") |"
    echo "| … the first page load after \`rowtrail serve\` started (builds the list's position index over every event) | $changes_first_load_paint_ms ms | — | — | — | — |"
    echo "| … in-app navigation to Changes (hash change → first rows painted): median / max | $changes_nav_paint_median_ms / $changes_nav_paint_max_ms ms | — | — | median < 300 ms | $(status "$changes_nav_paint_median_ms < 300") |"
    echo "| UI: open a record with $record_versions versions (hash change → timeline and version painted), $UI_RUNS runs: median / max | $record_paint_median_ms / $record_paint_max_ms ms | — | — | median < 200 ms | $(status "$record_paint_median_ms < 200") |"
    echo "| UI: scrolling the Changes list ${scroll_seconds}s (wheel, fast scrollTop, jump to 98 %, wheel): frames over 50 ms / p95 / max of $scroll_frames frames | $scroll_frames_over_50ms / $scroll_frame_p95_ms / $scroll_frame_max_ms ms | — | — | no frame over 50 ms | $(status "$scroll_frames_over_50ms == 0") |"
    echo "| … after the jump to 98 %: rows (not placeholders) painted | $scroll_jump_rows_ms ms | — | — | — | — |"
    echo "| UI bundle (ui/dist JS + CSS, gzip -9, libraries included) | $(kb "$bundle_gzip_bytes") kB (JS $(kb "$bundle_js_gzip_bytes"), CSS $(kb "$bundle_css_gzip_bytes"); $(kb "$bundle_raw_bytes") kB raw) | — | — | < 150 kB | $(status "$bundle_gzip_bytes < 150000") |"
    if [[ "$UI_DESKTOP" != 0 ]]; then
        echo "| Desktop app cold start (spawn → first rows of Changes, Xvfb, via tauri-driver), $UI_DESKTOP_RUNS launches: median / max | $desktop_start_median_ms / $desktop_start_max_ms ms (WebDriver session, which spawns the app, $desktop_session_median_ms ms median; the page's own clock at first rows $desktop_page_median_ms ms median) | — | — | median < 1.5 s | $(status "$desktop_start_median_ms < 1500") |"
    fi
    echo "| Building the UI workspace ($ui_cache_events events, $ui_cache_transactions txns, WriterHandle) | ${ui_cache_build_s}s, $(( ui_cache_bytes / 1048576 )) MiB | — | — | — | — |"
fi
echo
if part ui; then
    echo "UI: Chromium $chromium headless (software rendering), viewport 1400×900, load $load_start at the browser part's start (${load_end} at its end); API calls (median ms): Changes load $(set | sed -n 's/^changes_load_api_\([a-z_]*\)_median_ms=\(.*\)/\1 \2/p' | paste -sd, -), record $(set | sed -n 's/^record_api_\([a-z_]*\)_median_ms=\(.*\)/\1 \2/p' | paste -sd, -)."
fi
if part ingest; then
    echo "Ingest workload on the server: inserts ${INSERT_S}s, one-transaction UPDATE ${UPDATE_S}s; WAL read by each side: $(( WAL_BYTES / 1048576 )) MiB."
fi
if part history; then
    echo "History lookups: both sides warm in the OS page cache (read once beforehand, ${warm_s}s); for each step the PostgreSQL query and \`record_history\` (same key) and the cache query alone (another key) run back to back, in rotating order."
fi
echo "Writer settings observed ($WRITER): BATCH_OPS=$(setting BATCH_OPS "$WRITER") ops per batch to the writer thread, commit every COMMIT_EVENTS=$(setting COMMIT_EVENTS "$WRITER") events or COMMIT_AGE=$(setting COMMIT_AGE "$WRITER") (at a source-transaction boundary, or when the queue is empty)."
