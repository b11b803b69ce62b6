//! Benchmark: build output through the secret masker, in pipe-sized writes, for a few short
//! secrets and for many large ones (certificates and keys of 20 to 80 KB). Criterion reports
//! the throughput in bytes per second; the agent's `scripts/bench-agent` measures the whole
//! path without secrets, where the masker is bypassed.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kiln_core::logs::Masker;

/// Pseudo-random printable bytes, so the benchmark needs no data files.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b' ' + (x % 95) as u8
        })
        .collect()
}

/// 8 MiB of log-like lines with a secret printed about every MiB.
fn output(secrets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 << 20);
    let mut i = 0u64;
    while out.len() < 8 << 20 {
        let mut line = bytes(i, 100);
        line.push(b'\n');
        out.extend_from_slice(&line);
        if i.is_multiple_of(10_000) {
            out.extend_from_slice(&secrets[(i as usize / 10_000) % secrets.len()]);
            out.push(b'\n');
        }
        i += 1;
    }
    out
}

fn mask(c: &mut Criterion) {
    let cases: [(&str, Vec<Vec<u8>>); 2] = [
        ("5 short secrets", (0..5).map(|i| bytes(1000 + i, 24)).collect()),
        (
            "20 secrets of 20-80 KB",
            (0..20).map(|i| bytes(i, 20_000 + 3_000 * i as usize)).collect(),
        ),
    ];
    let mut group = c.benchmark_group("mask");
    for (name, secrets) in cases {
        let text = output(&secrets);
        let masker = Masker::new(&secrets);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut m = masker.clone();
                let mut out = Vec::with_capacity(1 << 17);
                let mut shown = 0usize;
                for chunk in text.chunks(1 << 16) {
                    m.push(std::hint::black_box(chunk), &mut out);
                    shown += out.len();
                    out.clear();
                }
                m.flush(&mut out);
                shown + out.len()
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = mask
}
criterion_main!(benches);
