//! A progress line on a terminal for a long `tilesim run`: after the first second, the stage
//! and its share done, redrawn in place a few times a second and cleared at the end. Nothing
//! is drawn when stderr is not a terminal (a pipe, a file, CI), so output stays byte-stable.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tilesim::engine::Progress;

/// Quiet this long before the line first shows: short runs print nothing.
const DELAY: Duration = Duration::from_secs(1);
/// At most this often redrawn.
const EVERY: Duration = Duration::from_millis(250);

struct Line {
    start: Instant,
    last: Option<Instant>,
    drawn: bool,
}

/// The progress line of one run: give [`Self::progress`] to the engine, call
/// [`Self::finish`] when it returns.
pub struct Terminal {
    line: Option<Arc<Mutex<Line>>>,
}

impl Terminal {
    /// A line on stderr if stderr is a terminal, else nothing.
    pub fn on_stderr() -> Terminal {
        let line = std::io::stderr().is_terminal().then(|| {
            Arc::new(Mutex::new(Line {
                start: Instant::now(),
                last: None,
                drawn: false,
            }))
        });
        Terminal { line }
    }

    /// The engine's callback, if there is a terminal to draw on.
    pub fn progress(&self) -> Option<Progress> {
        let line = self.line.clone()?;
        Some(Progress(Arc::new(move |stage: &str, done: f64| {
            let Ok(mut l) = line.lock() else {
                return;
            };
            let now = Instant::now();
            let elapsed = now - l.start;
            if elapsed < DELAY || l.last.is_some_and(|t| now - t < EVERY) {
                return;
            }
            l.last = Some(now);
            l.drawn = true;
            let pct = (done.clamp(0.0, 1.0) * 100.0).floor();
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[K{stage}: {pct:.0} % ({:.0} s)",
                elapsed.as_secs_f64()
            );
            let _ = err.flush();
        })))
    }

    /// Clears the line, if one was drawn.
    pub fn finish(&self) {
        if let Some(line) = &self.line
            && let Ok(l) = line.lock()
            && l.drawn
        {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}
