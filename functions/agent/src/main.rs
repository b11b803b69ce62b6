//! `kiln-agent`: the entry point of the build container. Runs the build described by the JSON
//! file given as its argument (or `KILN_BUILD_DESCRIPTION`), prints the log, writes the summary;
//! exits 0 when the build succeeded, 1 when it did not, 2 when it could not start. Called as
//! `codebuild-hash-files` or `kiln-hash-files` (links the agent puts on the build's `PATH`), it
//! is that tool.

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(code) = kiln_agent::tools::dispatch(&args) {
        return code;
    }
    kiln_agent::description::main_with(args.get(1).cloned())
}
