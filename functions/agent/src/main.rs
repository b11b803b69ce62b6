//! `kiln-agent`: the entry point of the build container. Runs the build described by the JSON
//! file given as its argument (or `KILN_BUILD_DESCRIPTION`), prints the log, writes the summary;
//! exits 0 when the build succeeded, 1 when it did not, 2 when it could not start.

fn main() -> std::process::ExitCode {
    kiln_agent::description::main_with(std::env::args().nth(1))
}
