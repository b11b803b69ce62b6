//! Colour on a terminal: `--color auto|always|never`, `NO_COLOR` honoured, and a writer that
//! sets kiln's own log lines apart from command output on the way to the terminal (the log file
//! stays plain).
//!
//! kiln's lines (`[Container] <time> …`) are dimmed up to the message; `Entering phase X` is
//! bold; phase and build states are green when SUCCEEDED, red when FAILED or TIMED_OUT, yellow
//! when FAULT or STOPPED.

use std::io::Write;

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to a terminal when `terminal` says it is one.
    pub fn enabled(self, terminal: bool) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// ANSI styles, or nothing when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    /// Styles that colour when `on`.
    pub fn new(on: bool) -> Self {
        Self { on }
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    /// Dim text.
    pub fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }

    /// Bold text.
    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// A state name in its colour.
    pub fn state(self, name: &str) -> String {
        let code = match name {
            "SUCCEEDED" => "1;32",
            "FAILED" | "TIMED_OUT" => "1;31",
            "FAULT" | "STOPPED" => "1;33",
            _ => "1;34",
        };
        self.wrap(code, name)
    }
}

/// Colours kiln's own lines in a stream of log text.
pub struct Colorize {
    inner: Box<dyn Write + Send>,
    style: Style,
    at_line_start: bool,
    pending: Vec<u8>,
}

impl Colorize {
    /// Colours what is written to `inner`.
    pub fn new(inner: Box<dyn Write + Send>, style: Style) -> Self {
        Self { inner, style, at_line_start: true, pending: Vec::new() }
    }

    fn kiln_line(&self, line: &str) -> String {
        let (line, newline) = match line.strip_suffix('\n') {
            Some(l) => (l, "\n"),
            None => (line, ""),
        };
        let Some(rest) = line.strip_prefix("[Container] ") else {
            return format!("{line}{newline}");
        };
        let (stamp, message) = match rest.match_indices(' ').nth(1) {
            Some((at, _)) => (&rest[..at], &rest[at + 1..]),
            None => (rest, ""),
        };
        let message = if let Some(phase) = message.strip_prefix("Entering phase ") {
            format!("Entering phase {}", self.style.bold(phase))
        } else if let Some((head, state)) = message.rsplit_once(" State: ") {
            format!("{head} State: {}", self.style.state(state))
        } else {
            message.to_owned()
        };
        format!("{} {message}{newline}", self.style.dim(&format!("[Container] {stamp}")))
    }
}

impl Write for Colorize {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            if self.at_line_start || !self.pending.is_empty() {
                // A line that may be kiln's: keep it until its end to colour it whole.
                let end = rest.iter().position(|b| *b == b'\n');
                let take = end.map_or(rest.len(), |i| i + 1);
                self.pending.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                let may_be_kiln =
                    b"[Container] ".starts_with(&self.pending[..self.pending.len().min(12)]);
                if end.is_some() || !may_be_kiln {
                    let text = String::from_utf8_lossy(&self.pending).into_owned();
                    let out = if may_be_kiln { self.kiln_line(&text) } else { text };
                    self.inner.write_all(out.as_bytes())?;
                    self.at_line_start = end.is_some();
                    self.pending.clear();
                }
            } else {
                let end = rest.iter().position(|b| *b == b'\n');
                let take = end.map_or(rest.len(), |i| i + 1);
                self.inner.write_all(&rest[..take])?;
                self.at_line_start = end.is_some();
                rest = &rest[take..];
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() && !b"[Container] ".starts_with(&self.pending) {
            let pending = std::mem::take(&mut self.pending);
            self.inner.write_all(&pending)?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn kiln_lines_are_set_apart_and_command_output_is_untouched() {
        let out = Shared::default();
        let mut c = Colorize::new(Box::new(out.clone()), Style::new(true));
        c.write_all(b"[Container] 2026/12/01 10:00:00.000001 Phase complete: BUILD State: FAILED\nplain [Container] x\n").expect("write");
        c.write_all(b"[Cont").expect("write");
        c.write_all(b"ainer] 2026/12/01 10:00:00.000002 Entering phase BUILD\n").expect("write");
        c.flush().expect("flush");
        let text = String::from_utf8(out.0.lock().expect("lock").clone()).expect("utf-8");
        assert!(text.starts_with("\x1b[2m[Container] 2026/12/01 10:00:00.000001\x1b[0m Phase complete: BUILD State: \x1b[1;31mFAILED\x1b[0m\n"), "{text:?}");
        assert!(text.contains("\nplain [Container] x\n"), "{text:?}");
        assert!(text.contains("Entering phase \x1b[1mBUILD\x1b[0m"), "{text:?}");
        assert!(!Style::new(false).state("FAILED").contains('\x1b'));
    }
}
