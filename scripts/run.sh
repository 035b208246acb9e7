#!/usr/bin/env bash
# `make run`: open the built-in demo.
#
# - With a display (DISPLAY or WAYLAND_DISPLAY set): build the UI and the desktop app (release),
#   then open its window on a fresh copy of the demo.
# - Without one (a server, an SSH session): build the UI and the CLI (release), then start
#   `rowtrail serve --demo`, which prints the address to open in a browser. Ctrl-C stops it.
#
# Either way the demo lives in its own workspace, target/demo-workspace (ROWTRAIL_DEMO_DIR to
# change it), so your own workspace (~/.local/share/rowtrail) is neither touched nor replaced
# as the desktop app's "last workspace". `make setup` (.ci/install-deps) runs before this.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo=${CARGO:-cargo}
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
demo_dir=${ROWTRAIL_DEMO_DIR:-$target_dir/demo-workspace}

build_ui() {
    # The desktop app compiles ui/dist into its binary; `rowtrail serve` serves it.
    (cd ui && npm ci --no-audit --no-fund && npm run build)
}

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    build_ui
    "$cargo" build -p rowtrail-desktop --release
    # An open app keeps its workspace open: do not pull the demo out from under it.
    # (Matched on the command line: a process name is cut to 15 characters, "rowtrail-deskto".)
    if pid=$(pgrep -u "$(id -u)" -f '^([^ ]*/)?rowtrail-desktop( |$)' | head -n 1) && [ -n "$pid" ]; then
        echo "Rowtrail is already open (process $pid). Quit it (File → Quit) and run this again for a fresh demo." >&2
        exit 1
    fi
    # A fresh demo each time: the app creates the demo (database and source) when it opens a
    # workspace without a cache. Only the files it made there are removed.
    mkdir -p "$demo_dir"
    rm -f "$demo_dir"/cache.sqlite* "$demo_dir"/demo.sqlite*
    echo "Opening the Rowtrail desktop app on the built-in demo (workspace: $demo_dir)" >&2
    # ROWTRAIL_DATA_DIR, unlike --data-dir, is not remembered as the app's last workspace.
    ROWTRAIL_DATA_DIR=$demo_dir exec "$target_dir/release/rowtrail-desktop"
else
    echo "No display (neither DISPLAY nor WAYLAND_DISPLAY is set): starting the demo in the browser face, rowtrail serve." >&2
    build_ui
    "$cargo" build -p rowtrail-cli --release
    # --demo creates (or refreshes) the demo in the workspace and captures it before serving.
    exec "$target_dir/release/rowtrail" serve --demo --data-dir "$demo_dir"
fi
