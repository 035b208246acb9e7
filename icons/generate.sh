#!/usr/bin/env bash
# Regenerates every icon the Tauri bundler uses from icons/icon.svg, with the Tauri CLI (src-tauri/package.json: cd src-tauri && npm ci).
set -euo pipefail; cd "$(dirname "$0")/.."; t=$(mktemp -d); trap 'rm -rf "$t"' EXIT; src-tauri/node_modules/.bin/tauri icon icons/icon.svg -o "$t" >/dev/null 2>&1; cp "$t"/{32x32.png,128x128.png,128x128@2x.png,icon.png,icon.ico,icon.icns} icons/
