//! Tracing for a Lambda function: one JSON object per event on stdout when Lambda's log format
//! is JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`, which CloudWatch then indexes by field), plain text
//! otherwise; the level from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging controls) or
//! `RUST_LOG`, `info` by default.

use tracing_subscriber::EnvFilter;

use crate::config::Vars;

/// Installs the subscriber as `vars` say; call once, first thing in `main`.
pub fn init_tracing(vars: &Vars) {
    let filter = vars
        .log_level()
        .and_then(|level| EnvFilter::try_new(level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .without_time();
    let installed = if vars.json_logs() {
        builder.json().flatten_event(true).with_current_span(false).try_init()
    } else {
        builder.try_init()
    };
    if installed.is_err() {
        eprintln!("kiln: tracing was already set up");
    }
}
