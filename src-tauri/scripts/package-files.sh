#!/bin/sh
# What the .deb ships besides the desktop app, built just before Tauri bundles it
# (tauri.conf.json: build.beforeBundleCommand): the `rowtrail` command line, and its man pages
# and shell completions generated from its clap definitions. tauri.conf.json's
# bundle.linux.deb.files maps these paths into the package; tests/tests/cli.rs checks that
# the map and this script agree.
set -eu
cd "$(dirname "$0")/../.."
cargo build --release --locked -p rowtrail-cli
target/release/rowtrail package-files target/release/package-files
