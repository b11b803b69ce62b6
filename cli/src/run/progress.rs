//! The one-line progress display of `kiln run` on a terminal: the current phase, the time it
//! has run and the whole build's, redrawn on stderr below the log.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct State {
    phase: String,
    started: Instant,
    phase_started: Instant,
    shown: bool,
    done: bool,
}

impl State {
    fn clear(&mut self) {
        if self.shown {
            let _ = std::io::stderr().write_all(b"\r\x1b[K");
            self.shown = false;
        }
    }

    fn draw(&mut self) {
        if self.done {
            return;
        }
        let total = self.started.elapsed().as_secs();
        let phase = self.phase_started.elapsed().as_secs();
        let line = format!(
            "\r\x1b[K\x1b[2m▶ {} {:02}:{:02} (build {:02}:{:02})\x1b[0m",
            self.phase,
            phase / 60,
            phase % 60,
            total / 60,
            total % 60
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
        self.shown = true;
    }
}

/// The progress line.
pub struct Progress {
    state: Arc<Mutex<State>>,
}

impl Progress {
    /// Starts drawing, once a second.
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            phase: "SUBMITTED".into(),
            started: Instant::now(),
            phase_started: Instant::now(),
            shown: false,
            done: false,
        }));
        let weak = Arc::downgrade(&state);
        std::thread::spawn(move || {
            while let Some(state) = weak.upgrade() {
                if let Ok(mut s) = state.lock() {
                    if s.done {
                        break;
                    }
                    s.draw();
                }
                drop(state);
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        Self { state }
    }

    /// An output that clears the line before each write and redraws it after a full line.
    pub fn wrap(&self, inner: Box<dyn Write + Send>) -> impl Write + Send + 'static {
        Wrapped { inner, state: Arc::clone(&self.state) }
    }

    /// The observer that follows `Entering phase X` messages.
    pub fn observer(&self) -> kiln_agent::output::Observer {
        let state = Arc::clone(&self.state);
        Box::new(move |message: &str| {
            if let Some(phase) = message.strip_prefix("Entering phase ")
                && let Ok(mut s) = state.lock()
            {
                s.phase = phase.to_owned();
                s.phase_started = Instant::now();
            }
        })
    }

    /// Removes the line for good.
    pub fn finish(self) {
        if let Ok(mut s) = self.state.lock() {
            s.clear();
            s.done = true;
        }
    }
}

struct Wrapped {
    inner: Box<dyn Write + Send>,
    state: Arc<Mutex<State>>,
}

impl Write for Wrapped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut state =
            self.state.lock().map_err(|_| std::io::Error::other("progress state poisoned"))?;
        state.clear();
        self.inner.write_all(buf)?;
        self.inner.flush()?;
        if buf.ends_with(b"\n") {
            state.draw();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
