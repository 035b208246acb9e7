#!/usr/bin/env bash
# Installs tauri-driver (the WebDriver bridge the desktop smoke test drives the app through)
# from crates.io into target/tools/bin, if it is not there at this version. The other half,
# WebKitWebDriver, is Debian's webkit2gtk-driver (.ci/install-deps).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
version=2.1.0
root=target/tools
if [[ -x $root/bin/tauri-driver ]] && grep -q "tauri-driver $version" "$root/.crates.toml" 2>/dev/null; then
    exit 0
fi
echo "install-tauri-driver: cargo install tauri-driver@$version into $root" >&2
cargo install tauri-driver --version "=$version" --locked --root "$root" --quiet
