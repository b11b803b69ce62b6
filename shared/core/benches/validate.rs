//! Benchmark: validating every buildspec of the shared corpus (`../shared/corpora/buildspecs`).
//! Criterion reports the throughput in files per second.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kiln_core::buildspec::parse;

fn corpus() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/buildspecs");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} is absent: CI runs beside ../shared and must not skip the corpus tests",
            dir.display()
        );
        eprintln!("skipping: {} is absent (no ../shared beside this checkout)", dir.display());
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
}

fn validate_corpus(c: &mut Criterion) {
    let texts = corpus();
    if texts.is_empty() {
        return;
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    eprintln!("corpus: {} files, {bytes} bytes", texts.len());
    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("corpus", |b| {
        b.iter(|| {
            let mut errors = 0usize;
            for text in &texts {
                errors += parse(std::hint::black_box(text)).errors().count();
            }
            errors
        });
    });
    group.finish();
}

criterion_group!(benches, validate_corpus);
criterion_main!(benches);
