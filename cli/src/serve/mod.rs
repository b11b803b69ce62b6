//! `kiln serve`: the whole installation in one process. GitHub webhooks in (`POST /webhook`),
//! builds queued and run as child processes of the agent binary, commit statuses out, build
//! pages, logs, the build API and badges — the same services the Lambda functions call, with
//! local adapters: build state and objects under the data directory, the `ProcessTaskRunner`,
//! GitHub through `kiln-github`.
//!
//! Every accepted build ends with a terminal status: a child's exit is finalized at once; at
//! start-up, builds a previous run left open end `error` ("kiln restarted"); a sweeper retries
//! status posts GitHub refused and stops builds past their deadline.

mod app;
mod config;
mod routes;
mod worker;

use std::process::ExitCode;

pub use config::Args;

/// Runs `kiln serve` until it is stopped (SIGINT, SIGTERM).
pub fn run(args: Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kiln serve: start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiln serve: {}", kiln_core::error_chain(&e));
            ExitCode::from(2)
        }
    }
}

async fn serve(args: Args) -> Result<(), config::ServeError> {
    let config = config::Config::read(args)?;
    crate::logging::init();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| config::ServeError::Listen(config.listen.to_string(), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| config::ServeError::Listen(config.listen.to_string(), e))?;
    let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{local}"));
    let (app, ended) = app::App::new(&config, public_url)?;
    worker::recover(&app).await;
    tokio::spawn(worker::finalizer(app.clone(), ended));
    tokio::spawn(worker::sweeper(app.clone()));
    eprintln!("kiln serve: listening on http://{local} (webhook: POST /webhook, builds: GET /)");
    axum::serve(listener, routes::router(app))
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| config::ServeError::Listen(local.to_string(), e))
}

async fn shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) =
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}
