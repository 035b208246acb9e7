//! What `sync` and `watch` show on stderr while they run: one status line per source (state,
//! events stored, time of the last change), so an idle `watch` still says it is alive.
//!
//! On a terminal the lines are redrawn in place, at most ten times a second. Elsewhere (a log
//! file, a service manager) `watch` prints a plain line when a source's state changes, and
//! at most every few seconds while only its counts move; `sync` prints nothing there but its
//! result. Notes from sources (warnings, reasons for reconnecting) are always printed.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rowtrail_core::source::{Progress, ProgressFn, SourceState};
use rowtrail_core::time_fmt::{format_us, now_us};

use crate::output::sanitize;

/// How the status is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing but notes (`sync` when stderr is not a terminal).
    Quiet,
    /// Lines redrawn in place (stderr is a terminal).
    Redraw,
    /// Plain lines on change (`watch` when stderr is not a terminal).
    Log,
}

/// The shortest time between two redraws on a terminal.
const REDRAW_EVERY: Duration = Duration::from_millis(100);
/// In log mode, the shortest time between two lines for a source whose state stayed the same.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// One source's status.
struct Row {
    name: String,
    /// `None` until the source's first report.
    state: Option<SourceState>,
    /// Events in the cache before this run.
    stored_before: u64,
    /// Events stored during this run.
    events: u64,
    /// Commit time of the newest stored change (Unix µs), as far as known.
    last_change_us: Option<i64>,
    behind: Option<u64>,
    /// Log mode: the state and time of the last line printed.
    logged: Option<(Option<SourceState>, Instant)>,
    /// Log mode: something changed since the last line.
    pending: bool,
}

impl Row {
    fn text(&self) -> String {
        let state = match self.state {
            None => "starting",
            Some(SourceState::Connecting) => "connecting",
            Some(SourceState::CatchingUp) => "catching up",
            Some(SourceState::Live) => "live",
            Some(SourceState::Reconnecting) => "reconnecting",
            Some(SourceState::Stopped) => "done",
        };
        let behind = match (self.state, self.behind) {
            (Some(SourceState::CatchingUp), Some(b)) if b > 0 => format!(", {b} behind"),
            _ => String::new(),
        };
        let last = self.last_change_us.map_or("none yet".to_string(), |us| {
            // `2026-11-02T09:14:03.120Z` → `2026-11-02 09:14:03 UTC`: seconds are enough here.
            let t = format_us(us);
            match (t.get(..10), t.get(11..19)) {
                (Some(d), Some(h)) => format!("{d} {h} UTC"),
                _ => t,
            }
        });
        format!(
            "{}: {state}{behind}, {} events, last change {last}",
            sanitize(&self.name),
            self.stored_before + self.events
        )
    }
}

struct Board {
    rows: Vec<Row>,
    /// Terminal lines currently drawn (redraw mode).
    shown: usize,
    last_draw: Option<Instant>,
    /// Something changed since the last redraw.
    dirty: bool,
    /// `finish` was called: nothing is drawn any more.
    closed: bool,
}

/// Shows progress reports; clones share one display.
#[derive(Clone)]
pub struct Reporter {
    mode: Mode,
    board: Arc<Mutex<Board>>,
}

impl Reporter {
    /// A reporter: redrawn lines when `tty`, else plain lines when `follow` (`watch`), else
    /// only notes.
    pub fn new(tty: bool, follow: bool) -> Reporter {
        let mode = if tty {
            Mode::Redraw
        } else if follow {
            Mode::Log
        } else {
            Mode::Quiet
        };
        let board = Board {
            rows: Vec::new(),
            shown: 0,
            last_draw: None,
            dirty: false,
            closed: false,
        };
        Reporter {
            mode,
            board: Arc::new(Mutex::new(board)),
        }
    }

    /// Adds a source to the display before it reports, with what the cache held before this
    /// run (events and the commit time of the newest), so the first line is already right.
    pub fn add_source(&self, name: &str, stored: u64, last_change_us: Option<i64>) {
        if let Ok(mut b) = self.board.lock() {
            b.rows.push(Row {
                name: name.to_string(),
                state: None,
                stored_before: stored,
                events: 0,
                last_change_us,
                behind: None,
                logged: None,
                pending: true,
            });
        }
    }

    /// Starts the display: the first lines now, then a timer thread that draws what the
    /// throttle held back (reports stop coming when a source is idle, and the last one must
    /// still be shown).
    pub fn start(&self) {
        if self.mode == Mode::Quiet {
            return;
        }
        self.tick(true);
        let me = self.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(250));
            if !me.tick(false) {
                return;
            }
        });
    }

    /// The callback sources call.
    pub fn callback(&self) -> ProgressFn {
        let me = self.clone();
        Arc::new(move |p: &Progress| me.report(p))
    }

    fn report(&self, p: &Progress) {
        let Ok(mut b) = self.board.lock() else { return };
        if let Some(m) = &p.message {
            clear(&mut b);
            // Source errors already start with "source NAME: "; say the name once.
            let m = m
                .strip_prefix(&format!("source {}: ", p.source))
                .unwrap_or(m);
            eprintln!("{}: {}", sanitize(&p.source), sanitize(m));
        }
        let idx = match b.rows.iter().position(|r| r.name == p.source) {
            Some(i) => i,
            None => {
                b.rows.push(Row {
                    name: p.source.clone(),
                    state: None,
                    stored_before: 0,
                    events: 0,
                    last_change_us: None,
                    behind: None,
                    logged: None,
                    pending: true,
                });
                b.rows.len() - 1
            }
        };
        let row = &mut b.rows[idx];
        if p.events > row.events {
            // Reports carry no commit times; new events were committed about now.
            row.last_change_us = Some(now_us());
        }
        row.events = p.events;
        row.behind = p.behind;
        row.state = Some(p.state);
        row.pending = true;
        b.dirty = true;
        drop(b);
        // In log mode the timer prints, so that quick steps (connecting, then live a few
        // milliseconds later) make one line.
        if self.mode == Mode::Redraw || p.state == SourceState::Stopped {
            self.tick(p.state == SourceState::Stopped);
        }
    }

    /// Draws what changed if the throttle allows (or `force`); false once finished.
    fn tick(&self, force: bool) -> bool {
        let Ok(mut b) = self.board.lock() else {
            return false;
        };
        if b.closed {
            return false;
        }
        match self.mode {
            Mode::Quiet => {}
            Mode::Redraw => {
                let due = b.last_draw.is_none_or(|t| t.elapsed() >= REDRAW_EVERY);
                if (b.dirty && due) || force {
                    clear(&mut b);
                    let width = terminal_width();
                    let lines: Vec<String> = b.rows.iter().map(|r| fit(&r.text(), width)).collect();
                    eprint!("{}", lines.join("\n"));
                    let _ = std::io::stderr().flush();
                    b.shown = lines.len();
                    b.last_draw = Some(Instant::now());
                    b.dirty = false;
                }
            }
            Mode::Log => {
                for r in b.rows.iter_mut().filter(|r| r.pending && r.state.is_some()) {
                    let due = match r.logged {
                        None => true,
                        Some((state, at)) => state != r.state || at.elapsed() >= LOG_EVERY,
                    };
                    if due {
                        eprintln!("{}", r.text());
                        r.logged = Some((r.state, Instant::now()));
                        r.pending = false;
                    }
                }
            }
        }
        true
    }

    /// Clears the status lines before other output; they come back with the next report.
    pub fn clear(&self) {
        if let Ok(mut b) = self.board.lock() {
            clear(&mut b);
            b.dirty = true;
        }
    }

    /// Ends the display for good, clearing the status lines.
    pub fn finish(&self) {
        if let Ok(mut b) = self.board.lock() {
            clear(&mut b);
            b.closed = true;
        }
    }
}

/// Erases the lines drawn in place (the cursor is at the end of the last one).
fn clear(b: &mut Board) {
    if b.shown == 0 {
        return;
    }
    let mut s = String::from("\r\x1b[2K");
    for _ in 1..b.shown {
        s.push_str("\x1b[1A\x1b[2K");
    }
    eprint!("{s}");
    let _ = std::io::stderr().flush();
    b.shown = 0;
}

/// The terminal's width as the shell exports it (`COLUMNS`), else the classic 80. A line
/// longer than the terminal would wrap, and erasing it in place would leave the rest behind.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&w: &usize| w >= 20)
        .unwrap_or(80)
}

/// `s` cut to fit `width` columns (one column per character is close enough for names).
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() < width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width.saturating_sub(2)).collect();
    t.push('…');
    t
}
