//! `kiln schema`: prints the JSON Schema of buildspec.yml for editors.

use std::io::Write;
use std::process::ExitCode;

use kiln_core::buildspec::schema::json_schema;

/// Arguments of `kiln schema`.
#[derive(Debug, clap::Args)]
#[command(after_help = "For VS Code with the YAML extension, save the output (or use the copy in \
    the repository's schema/ folder) and add `# yaml-language-server: $schema=<path or URL>` at \
    the top of buildspec.yml, or map it in the `yaml.schemas` setting.")]
pub struct Args {}

/// Runs `kiln schema`.
pub fn run(_args: &Args) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut out, &json_schema())
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kiln schema: cannot write the schema: {error}");
            ExitCode::from(2)
        }
    }
}
