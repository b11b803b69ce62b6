//! `kiln runs [PROJECT]`: the builds kept in the data directory, newest first, with their
//! status, when they started, how long they took and where their log is.

use std::path::PathBuf;
use std::process::ExitCode;

use kiln_core::build::{layout, timestamp::format_ms};
use kiln_core::ports::BuildStore;
use kiln_local::FsBuildStore;

/// Arguments of `kiln runs`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0, or 2 when the data directory cannot be read.")]
pub struct Args {
    /// Only this project's builds.
    #[arg(value_name = "PROJECT")]
    project: Option<String>,
    /// The data directory.
    #[arg(long, value_name = "DIR", default_value = ".kiln")]
    data_dir: PathBuf,
    /// At most this many builds.
    #[arg(long, value_name = "N", default_value_t = 50)]
    limit: usize,
}

/// Runs `kiln runs`.
pub fn run(args: &Args) -> ExitCode {
    let store = FsBuildStore::new(&args.data_dir);
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kiln runs: start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let builds = match runtime.block_on(store.list_recent(args.project.as_deref(), args.limit)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "kiln runs: read {}: {}",
                args.data_dir.display(),
                kiln_core::error_chain(&e)
            );
            return ExitCode::from(2);
        }
    };
    if builds.is_empty() {
        eprintln!("kiln runs: no builds in {}", args.data_dir.display());
        return ExitCode::SUCCESS;
    }
    let mut out = String::from("BUILD\tSTATUS\tSTARTED\tDURATION\tLOG\n");
    for b in &builds {
        let at = b.build_ref();
        let took = b.end_time.map_or_else(
            || "-".to_owned(),
            |end| format!("{:.1}s", (end - b.start_time) as f64 / 1000.0),
        );
        let log = args.data_dir.join(layout::log_key(&at));
        out.push_str(&format!(
            "{} #{}\t{}\t{}\t{took}\t{}\n",
            at.project,
            at.number,
            b.state,
            format_ms(b.start_time),
            log.display()
        ));
    }
    match crate::print::stdout(|w| w.write_all(out.as_bytes())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.exit_code("runs", 2),
    }
}
