#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for Rowtrail's tests.
#
#   tests/pg-cluster.sh run CMD [ARG...]
#       Start a cluster in a fresh temporary directory, export
#         ROWTRAIL_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres
#         ROWTRAIL_TEST_PG_BIN=<the PostgreSQL bin directory>
#         ROWTRAIL_TEST_PG_DIR=<the cluster directory: socket, data/, postgres.log>
#       run CMD, then stop the cluster and delete the directory, whatever happens
#       (success, failure, Ctrl-C, SIGTERM). Exits with CMD's exit code.
#
#   tests/pg-cluster.sh start DIR
#       Create (if needed) and start a cluster in DIR; print the `export` lines above,
#       so `eval "$(tests/pg-cluster.sh start /tmp/rt-pg)"` works. DIR is kept.
#
#   tests/pg-cluster.sh stop DIR
#       Stop the cluster in DIR (the files stay; delete DIR yourself).
#
# The machine's own PostgreSQL server (port 5432) is never used. The newest
# /usr/lib/postgresql/*/bin is used unless ROWTRAIL_TEST_PG_BIN names another bin directory.
# initdb and postgres refuse to run as root, so as root they run as the `postgres` user
# (runuser) in a directory owned by it.
#
# Settings: wal_level=logical, trust auth on the socket and 127.0.0.1 (replication too),
# fsync/synchronous_commit/full_page_writes off: fast, and unsafe for anything but tests.
set -euo pipefail

die() { echo "pg-cluster: $*" >&2; exit 1; }

# --- locating PostgreSQL ------------------------------------------------------------------

find_bindir() {
    if [[ -n "${ROWTRAIL_TEST_PG_BIN:-}" && -x "${ROWTRAIL_TEST_PG_BIN}/initdb" ]]; then
        echo "$ROWTRAIL_TEST_PG_BIN"
        return
    fi
    local d best=""
    # Newest major version: sort the version directories numerically.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n); do
        [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && best="$d"
    done
    [[ -n "$best" ]] || die "no PostgreSQL server found (/usr/lib/postgresql/*/bin/initdb); run .ci/install-deps (or: apt-get install postgresql)"
    echo "$best"
}

is_root() { [[ "$(id -u)" == 0 ]]; }

# Run a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
# From / so that a working directory postgres cannot read (e.g. under /root) does not matter.
as_owner() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# --- ports --------------------------------------------------------------------------------

# Print a TCP port on 127.0.0.1 that nobody listens on right now. Asks the kernel (bind) via
# python3 where available, else probes with bash's /dev/tcp; starts from a random port in
# 20000-31999 (below Linux's ephemeral range, away from common fixed ports).
free_port() {
    local start=$(( 20000 + RANDOM % 12000 ))
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$start" <<'PY' && return
import socket, sys
start = int(sys.argv[1])
for i in range(2000):
    port = 20000 + (start - 20000 + i) % 12000
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
    fi
    local i port
    for (( i = 0; i < 2000; i++ )); do
        port=$(( 20000 + (start - 20000 + i) % 12000 ))
        # A refused connection means nobody listens there.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "found no free TCP port"
}

# --- start / stop -------------------------------------------------------------------------

# Print the shell lines that point a client at the cluster in $1.
env_lines() {
    local dir=$1 port bindir
    port=$(cat "$dir/port")
    bindir=$(cat "$dir/bindir")
    printf 'export ROWTRAIL_TEST_PG_URL=%q\n' "postgres://postgres@127.0.0.1:$port/postgres"
    printf 'export ROWTRAIL_TEST_PG_BIN=%q\n' "$bindir"
    printf 'export ROWTRAIL_TEST_PG_DIR=%q\n' "$dir"
}

show_logs() {
    local dir=$1 f
    for f in "$dir/initdb.log" "$dir/postgres.log"; do
        if [[ -s "$f" ]]; then
            echo "---- $f (last 40 lines) ----" >&2
            tail -n 40 "$f" >&2 || true
        fi
    done
}

init_cluster() {
    local dir=$1 bindir=$2 data="$1/data"
    if ! as_owner "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
            >"$dir/initdb.log" 2>&1; then
        show_logs "$dir"
        die "initdb failed in $data"
    fi
    cat >>"$data/postgresql.conf" <<EOF

# ---- rowtrail test cluster (tests/pg-cluster.sh) ----
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 128MB
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
wal_sender_timeout = 10s
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
# The port lives in its own file so a retry on a taken port rewrites one line.
include 'rowtrail-port.conf'
EOF
    cat >"$data/pg_hba.conf" <<'EOF'
# rowtrail test cluster: trust everything local. Never use these settings elsewhere.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   trust
host    replication  all   127.0.0.1/32   trust
EOF
    if is_root; then chown postgres: "$data/postgresql.conf" "$data/pg_hba.conf"; fi
}

cmd_start() {
    local dir=${1:-}
    [[ -n "$dir" ]] || die "usage: $0 start DIR"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    # The socket path must fit in sun_path (107 bytes): DIR/.s.PGSQL.NNNNN
    (( ${#dir} <= 90 )) || die "directory path too long for a Unix socket: $dir"

    local bindir
    bindir=$(find_bindir)
    echo "$bindir" >"$dir/bindir"
    if is_root; then
        id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to own the cluster (apt-get install postgresql creates it)"
        chown postgres: "$dir"
        chmod 700 "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            die "user postgres cannot write to $dir (is a parent directory closed to it?); use a directory under /tmp"
        fi
    fi

    local data="$dir/data"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        init_cluster "$dir" "$bindir"
    elif as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        env_lines "$dir"   # already running: nothing to do
        return 0
    fi

    local attempt port started=""
    for attempt in 1 2 3 4 5; do
        # A restarted cluster keeps its port when it can, so URLs handed out stay valid.
        port=""
        if (( attempt == 1 )) && [[ -s "$dir/port" ]]; then
            port=$(cat "$dir/port")
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then port=""; fi
        fi
        [[ -n "$port" ]] || port=$(free_port)
        echo "port = $port" >"$data/rowtrail-port.conf"
        if is_root; then chown postgres: "$data/rowtrail-port.conf"; fi
        touch "$dir/starting"   # tells cmd_stop that a postmaster may be on its way
        : >"$dir/postgres.log"
        if is_root; then chown postgres: "$dir/postgres.log"; fi
        if as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 -s start >/dev/null 2>&1; then
            started=1
            break
        fi
        # Someone took the port between the probe and the bind: try another one.
        if grep -q -e 'could not bind' -e 'Address already in use' "$dir/postgres.log" 2>/dev/null; then
            continue
        fi
        break
    done
    if [[ -z "$started" ]]; then
        show_logs "$dir"
        die "PostgreSQL did not start in $data"
    fi
    echo "$port" >"$dir/port"
    rm -f "$dir/starting"

    local i
    for (( i = 0; i < 300; i++ )); do
        if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 2; then
            env_lines "$dir"
            return 0
        fi
        sleep 0.1
    done
    show_logs "$dir"
    cmd_stop "$dir" || true
    die "PostgreSQL started but does not answer on 127.0.0.1:$port"
}

cmd_stop() {
    local dir=${1:-}
    [[ -n "$dir" ]] || die "usage: $0 stop DIR"
    [[ -d "$dir/data" ]] || return 0
    local data="$dir/data" bindir pid i
    bindir=$(cat "$dir/bindir" 2>/dev/null || find_bindir)
    if [[ -f "$dir/starting" ]]; then
        # Interrupted while pg_ctl was starting the server: its lock file may be a moment away.
        for (( i = 0; i < 30; i++ )); do [[ -f "$data/postmaster.pid" ]] && break; sleep 0.1; done
    fi
    if [[ -f "$data/postmaster.pid" ]]; then
        # Immediate: the cluster is throwaway, there is nothing worth a clean shutdown.
        as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 -s stop >/dev/null 2>&1 || true
    fi
    if [[ -f "$data/postmaster.pid" ]]; then
        pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
        if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
            for (( i = 0; i < 50; i++ )); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    fi
    return 0
}

# --- run ----------------------------------------------------------------------------------

RUN_DIR=""
CHILD=""

run_cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [[ -n "$RUN_DIR" ]]; then
        cmd_stop "$RUN_DIR" || true
        rm -rf -- "$RUN_DIR" || true
    fi
    exit "$rc"
}

# On a signal: pass it to CMD, give CMD a moment to finish, then leave (EXIT cleans up).
run_on_signal() {
    local sig=$1 code=$2 i
    if [[ -n "$CHILD" ]] && kill -0 "$CHILD" 2>/dev/null; then
        kill -"$sig" "$CHILD" 2>/dev/null || true
        for (( i = 0; i < 100; i++ )); do kill -0 "$CHILD" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$CHILD" 2>/dev/null || true
    fi
    exit "$code"
}

cmd_run() {
    (( $# > 0 )) || die "usage: $0 run CMD [ARG...]"
    trap run_cleanup EXIT
    trap 'run_on_signal INT 130' INT
    trap 'run_on_signal TERM 143' TERM
    trap 'run_on_signal HUP 129' HUP

    local base=${TMPDIR:-/tmp}
    if is_root && ! runuser -u postgres -- test -w "$base" 2>/dev/null; then
        base=/tmp   # e.g. TMPDIR under /root, which postgres cannot enter
    fi
    RUN_DIR=$(mktemp -d "$base/rowtrail-pg.XXXXXX")

    local lines
    lines=$(cmd_start "$RUN_DIR")
    eval "$lines"

    # CMD runs in the background so that a signal to this script is handled at once
    # (bash defers traps while a foreground command runs). It keeps our stdin, and gets
    # back the default SIGINT/SIGQUIT that bash takes from background commands, so Ctrl-C
    # reaches it (and whatever it starts, e.g. cargo's test binaries) as usual.
    local rc=0
    ( trap - INT QUIT; exec "$@" ) <&0 &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=""
    exit "$rc"
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    stop)  shift; cmd_stop "$@" ;;
    run)   shift; cmd_run "$@" ;;
    *)
        sed -n '2,/^set /s/^# \{0,1\}//p' "$0" | sed '/^#/d' >&2
        exit 2
        ;;
esac
