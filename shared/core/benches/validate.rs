//! Benchmark: validating every buildspec of the shared corpus.

use criterion::{Criterion, criterion_group, criterion_main};

fn validate_corpus(c: &mut Criterion) {
    c.bench_function("placeholder", |b| b.iter(|| 1 + 1));
}

criterion_group!(benches, validate_corpus);
criterion_main!(benches);
