//! The one writer for standard output, used by every command.
//!
//! std's `println!` panics when stdout is a pipe whose reader has gone
//! (`rowtrail history shp 1007 | head`), printing a backtrace and exiting 101. The crate's
//! `println!`/`print!` (defined in main.rs, before the modules, so they replace std's
//! everywhere in this program) come here instead: a closed pipe ends the program quietly
//! with the status a shell reports for a program stopped by SIGPIPE, and any other write
//! failure (a full disk) is an error naming the cause.

use std::fmt;
use std::io::{self, Write};

/// The exit status after the reader of stdout went away: 128 + SIGPIPE (13), what a shell
/// reports for `yes | head` and what `set -o pipefail` scripts already expect.
pub const CLOSED_PIPE_EXIT: i32 = 141;

/// Writes `args` and a newline to stdout (the crate's `println!`).
pub fn line(args: fmt::Arguments<'_>) {
    let mut o = io::stdout().lock();
    if let Err(e) = o.write_fmt(args).and_then(|()| o.write_all(b"\n")) {
        failed(e);
    }
}

/// Writes `args` to stdout without a newline (the crate's `print!`).
pub fn text(args: fmt::Arguments<'_>) {
    if let Err(e) = io::stdout().lock().write_fmt(args) {
        failed(e);
    }
}

/// Flushes stdout, so a line without a newline is seen before the program waits.
pub fn flush() {
    if let Err(e) = io::stdout().flush() {
        failed(e);
    }
}

/// Ends the program after a write to stdout failed. Exiting here loses nothing: every cache
/// write is a committed transaction and capture resumes from the last one (it survives
/// `kill -9`), so even a `watch` whose output reader has gone may stop at any point.
pub fn failed(e: io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(CLOSED_PIPE_EXIT);
    }
    // stderr may be gone too; nothing more can be said then.
    let _ = writeln!(
        io::stderr(),
        "rowtrail: cannot write to standard output: {e}"
    );
    std::process::exit(1);
}
