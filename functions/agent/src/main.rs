//! `kiln-agent`: the entry point of the build container.

fn main() {
    eprintln!("kiln-agent: not available yet");
    std::process::exit(2);
}
