//! A one-line progress display on stderr, redrawn at most ten times a second, and silent
//! when stderr is not a terminal (warnings are still printed).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rowtrail_core::source::{Progress, ProgressFn, SourceState};

/// Draws progress reports.
#[derive(Clone)]
pub struct Reporter {
    tty: bool,
    last: Arc<Mutex<Option<Instant>>>,
}

impl Reporter {
    /// A reporter; `tty` turns the redrawn line on.
    pub fn new(tty: bool) -> Reporter {
        Reporter { tty, last: Arc::new(Mutex::new(None)) }
    }

    /// The callback sources call.
    pub fn callback(&self) -> ProgressFn {
        let me = self.clone();
        Arc::new(move |p: &Progress| me.draw(p))
    }

    fn draw(&self, p: &Progress) {
        if let Some(m) = &p.message {
            if self.tty {
                eprint!("\r\x1b[2K");
            }
            eprintln!("{}: {}", crate::output::sanitize(&p.source), crate::output::sanitize(m));
        }
        if !self.tty {
            return;
        }
        let Ok(mut last) = self.last.lock() else { return };
        if last.is_some_and(|t| t.elapsed().as_millis() < 100) && p.state != SourceState::Stopped {
            return;
        }
        *last = Some(Instant::now());
        let state = match p.state {
            SourceState::Connecting => "connecting",
            SourceState::CatchingUp => "catching up",
            SourceState::Live => "live",
            SourceState::Reconnecting => "reconnecting",
            SourceState::Stopped => "done",
        };
        let behind = p.behind.map(|b| format!(", {b} behind")).unwrap_or_default();
        eprint!(
            "\r\x1b[2K{}: {state} — {} events, {} transactions, at {}{behind}",
            crate::output::sanitize(&p.source),
            p.events,
            p.transactions,
            if p.position.is_empty() { "-" } else { &p.position }
        );
        let _ = std::io::stderr().flush();
    }

    /// Ends the progress line.
    pub fn finish(&self) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
    }
}
