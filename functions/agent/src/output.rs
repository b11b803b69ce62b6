//! The build's output stream: kiln's own log lines and every command's stdout and stderr, masked
//! for secrets, written as they come to each output (kiln's stdout, the build's log file).
//!
//! Command output is never held until a command exits: a reader thread forwards each chunk as
//! soon as the pipe yields it. The masker may hold back the end of a chunk that could be the
//! start of a secret (only output that does not end with a newline can be held); a ticker
//! flushes it after [`FLUSH_AFTER`] of silence [INF: long enough for a value printed in two
//! writes, short enough not to be noticed], and kiln's next own line flushes it at once.
//! The `RETRY-<regex>` capture keeps command output only, not kiln's own lines.
//!
//! An output that fails (kiln's stdout closed by `kiln run | head -1`, a full disk) is not
//! written again and its error is kept for [`LogSink::take_output_errors`]; the other outputs
//! and the build go on.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use kiln_core::logs::{LogMessage, Masker, format_line};

/// How long the masker may hold a possible secret start before showing it.
pub const FLUSH_AFTER: Duration = Duration::from_secs(1);

/// How much of a phase attempt's output is kept for `RETRY-<regex>` matching (its end; up to
/// twice as much between trims).
pub const CAPTURE_LIMIT: usize = 1 << 20;

/// A callback seeing each of kiln's own log messages.
pub type Observer = Box<dyn FnMut(&str) + Send>;

/// Where output goes, shared by the agent and the reader threads. Cloning shares the stream.
#[derive(Clone)]
pub struct LogSink {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSink").finish_non_exhaustive()
    }
}

/// One output and the error that ended it, if one did.
struct Output {
    out: Box<dyn Write + Send>,
    failed: bool,
    error: Option<std::io::Error>,
}

impl Output {
    fn write(&mut self, data: &[u8]) {
        if !self.failed
            && let Err(e) = self.out.write_all(data)
        {
            self.fail(e);
        }
    }

    fn flush(&mut self) {
        if !self.failed
            && let Err(e) = self.out.flush()
        {
            self.fail(e);
        }
    }

    fn fail(&mut self, error: std::io::Error) {
        self.failed = true;
        self.error = Some(error);
    }
}

struct Inner {
    secrets: Vec<String>,
    masker: Masker,
    outputs: Vec<Output>,
    buf: Vec<u8>,
    held_since: Option<Instant>,
    capture: Option<Vec<u8>>,
    observer: Option<Observer>,
}

impl LogSink {
    /// A stream masking `secrets`, written to every one of `outputs`.
    pub fn new(secrets: &[String], outputs: Vec<Box<dyn Write + Send>>) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            secrets: secrets.to_vec(),
            masker: Masker::new(secrets),
            outputs: outputs
                .into_iter()
                .map(|out| Output { out, failed: false, error: None })
                .collect(),
            buf: Vec::with_capacity(1 << 16),
            held_since: None,
            capture: None,
            observer: None,
        }));
        let weak: Weak<Mutex<Inner>> = Arc::downgrade(&inner);
        std::thread::spawn(move || {
            while let Some(inner) = weak.upgrade() {
                if let Ok(mut guard) = inner.lock()
                    && guard.held_since.is_some_and(|t| t.elapsed() >= FLUSH_AFTER)
                {
                    guard.flush_held();
                }
                drop(inner);
                std::thread::sleep(FLUSH_AFTER / 10);
            }
        });
        Self { inner }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds secret values to mask from now on (values resolved after the stream began).
    pub fn add_secrets(&self, secrets: &[String]) {
        let mut inner = self.lock();
        inner.flush_held();
        inner.secrets.extend(secrets.iter().cloned());
        inner.masker = Masker::new(&inner.secrets);
    }

    /// `text` with every secret value known so far replaced by `***`, for values that leave
    /// the build outside the log (exported variables in the summary).
    pub fn mask(&self, text: &str) -> String {
        kiln_core::logs::mask_all(&self.lock().masker, text)
    }

    /// Calls `observer` with each of kiln's own log messages (unmasked text, no prefix), for a
    /// progress display.
    pub fn set_observer(&self, observer: Observer) {
        self.lock().observer = Some(observer);
    }

    /// Writes one of kiln's own lines.
    pub fn line(&self, message: &LogMessage<'_>) {
        let text = format_line(time::OffsetDateTime::now_utc(), message);
        let mut inner = self.lock();
        inner.flush_held();
        if let Some(observer) = inner.observer.as_mut() {
            observer(&message.to_string());
        }
        let capture = inner.capture.take();
        inner.write(text.as_bytes());
        inner.capture = capture;
        inner.flush_held();
    }

    /// Writes a chunk of command output.
    pub fn output(&self, data: &[u8]) {
        self.lock().write(data);
    }

    /// Starts keeping output for a phase attempt (for `RETRY-<regex>`), dropping what was kept.
    /// Nothing is kept until this is called.
    pub fn start_capture(&self) {
        self.lock().capture = Some(Vec::new());
    }

    /// Stops keeping output.
    pub fn stop_capture(&self) {
        self.lock().capture = None;
    }

    /// What was kept since [`LogSink::start_capture`], unmasked.
    pub fn captured(&self) -> String {
        self.lock()
            .capture
            .as_deref()
            .map(String::from_utf8_lossy)
            .map(|s| s.into_owned())
            .unwrap_or_default()
    }

    /// Shows anything held back and flushes every output.
    pub fn flush(&self) {
        let mut inner = self.lock();
        inner.flush_held();
        for out in &mut inner.outputs {
            out.flush();
        }
    }

    /// The errors that ended outputs since the last call, each with the output's index in
    /// the list given to [`LogSink::new`]. An ended output is not written again.
    pub fn take_output_errors(&self) -> Vec<(usize, std::io::Error)> {
        self.lock()
            .outputs
            .iter_mut()
            .enumerate()
            .filter_map(|(i, out)| out.error.take().map(|e| (i, e)))
            .collect()
    }

    /// Forwards everything read from `reader` until its end, on a new thread. The returned
    /// receiver gets a message once the end was reached.
    pub fn forward(&self, mut reader: impl Read + Send + 'static) -> std::sync::mpsc::Receiver<()> {
        let (done, ended) = std::sync::mpsc::channel();
        let sink = self.clone();
        std::thread::spawn(move || {
            let mut chunk = vec![0u8; 1 << 16];
            loop {
                match reader.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => sink.output(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = done.send(());
        });
        ended
    }
}

/// A writer that hands its bytes to a thread of its own, so a slow output (a log file on disk)
/// does not hold up reading command output. Writes are kept in order; at most a few chunks
/// wait in between. Dropping it waits for everything to be written.
///
/// When writing fails, the thread stops and the next write returns its error.
#[derive(Debug)]
pub struct BackgroundWriter {
    chunks: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    done: Option<std::thread::JoinHandle<()>>,
    error: Arc<Mutex<Option<std::io::Error>>>,
}

impl BackgroundWriter {
    /// Writes to `inner` from a new thread.
    pub fn new(mut inner: impl Write + Send + 'static) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
        let error = Arc::new(Mutex::new(None));
        let failed = Arc::clone(&error);
        let done = std::thread::spawn(move || {
            let result = rx.iter().try_for_each(|chunk| inner.write_all(&chunk));
            if let Err(e) = result.and_then(|()| inner.flush()) {
                *failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
            }
        });
        Self { chunks: Some(tx), done: Some(done), error }
    }
}

impl Write for BackgroundWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let tx = self.chunks.as_ref().ok_or_else(|| std::io::Error::other("writer closed"))?;
        if tx.send(buf.to_vec()).is_err() {
            let error = self.error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            return Err(error.unwrap_or_else(|| std::io::Error::other("writer thread ended")));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for BackgroundWriter {
    fn drop(&mut self) {
        self.chunks.take();
        if let Some(done) = self.done.take() {
            let _ = done.join();
        }
    }
}

impl Inner {
    fn write(&mut self, data: &[u8]) {
        if let Some(capture) = self.capture.as_mut() {
            capture.extend_from_slice(data);
            if capture.len() > 2 * CAPTURE_LIMIT {
                let cut = capture.len() - CAPTURE_LIMIT;
                capture.drain(..cut);
            }
        }
        if self.masker.is_empty() {
            Self::emit(&mut self.outputs, data);
            return;
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        self.masker.push(data, &mut buf);
        Self::emit(&mut self.outputs, &buf);
        self.buf = buf;
        self.held_since = self.masker.is_holding().then(Instant::now);
    }

    fn flush_held(&mut self) {
        if self.masker.is_holding() {
            let mut buf = Vec::new();
            self.masker.flush(&mut buf);
            Self::emit(&mut self.outputs, &buf);
        }
        self.held_since = None;
    }

    fn emit(outputs: &mut [Output], data: &[u8]) {
        if data.is_empty() {
            return;
        }
        for out in outputs.iter_mut() {
            out.write(data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    impl Shared {
        fn text(&self) -> String {
            self.0.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
        }
    }

    /// A writer whose pipe was closed: every write fails.
    #[derive(Clone, Default)]
    struct Closed(Arc<Mutex<usize>>);

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            *self.0.lock().map_err(|_| std::io::Error::other("poisoned"))? += 1;
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_output_is_dropped_and_the_others_go_on() {
        let closed = Closed::default();
        let out = Shared::default();
        let sink = LogSink::new(&[], vec![Box::new(closed.clone()), Box::new(out.clone())]);
        for _ in 0..100 {
            sink.output(b"line\n");
        }
        sink.flush();
        assert_eq!(out.text(), "line\n".repeat(100));
        assert_eq!(*closed.0.lock().expect("count"), 1);
        let errors = sink.take_output_errors();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].0, errors[0].1.kind()), (0, std::io::ErrorKind::BrokenPipe));
        assert!(sink.take_output_errors().is_empty());
        let mut background = BackgroundWriter::new(closed.clone());
        let mut failure = None;
        for _ in 0..100 {
            if let Err(e) = background.write(b"x") {
                failure = Some(e.kind());
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(failure, Some(std::io::ErrorKind::BrokenPipe));
    }

    #[test]
    fn held_secret_start_is_flushed_after_a_pause() {
        let out = Shared::default();
        let sink = LogSink::new(&["topsecret".into()], vec![Box::new(out.clone())]);
        sink.output(b"prompt: top");
        assert_eq!(out.text(), "prompt: ");
        std::thread::sleep(FLUSH_AFTER * 2);
        assert_eq!(out.text(), "prompt: top");
        sink.output(b"x topsecret\n");
        assert_eq!(out.text(), "prompt: topx ***\n");
    }
}
