//! Single-core kernel throughput on a JSONL corpus, for the corpus benchmark: one xxh3
//! pass over each document's bytes (the ceiling), and MinHash signing (OPH and classic)
//! of precomputed word 5-gram shingle sets. Prints one JSON object.
//!
//! Usage: bench_kernels CORPUS.jsonl

use std::time::Instant;

use storyhash::input::{read_sources, ReadOptions, Source};
use storyhash::{Analyzer, MinHasher, Preset, SketchKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: bench_kernels CORPUS.jsonl")?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()?;
    let docs = read_sources(&[Source::Path(path.into())], &ReadOptions::default())?.documents;
    let bytes: usize = docs.iter().map(|d| d.text.len()).sum();
    let best_of = |runs: usize, f: &mut dyn FnMut() -> u64| {
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let xxh3 = best_of(5, &mut || {
        docs.iter()
            .map(|d| xxhash_rust::xxh3::xxh3_64(d.text.as_bytes()))
            .fold(0, |a, h| a ^ h)
    });
    let analyzer = Analyzer::new(&Preset::Dup.params());
    let sets: Vec<Vec<u64>> = docs.iter().map(|d| analyzer.shingle_set(&d.text)).collect();
    let sign = |kind: SketchKind| {
        let hasher = MinHasher::with_kind(kind, 128, 42);
        best_of(3, &mut || u64::from(hasher.sign_all(&sets).row(0)[0]))
    };
    let oph = sign(SketchKind::Oph);
    let classic = sign(SketchKind::Classic);
    let n = docs.len() as f64;
    println!(
        "{{\"docs\":{},\"bytes\":{bytes},\"xxh3_docs_per_s\":{:.0},\"oph_sign_docs_per_s\":{:.0},\"classic_sign_docs_per_s\":{:.0}}}",
        docs.len(),
        n / xxh3,
        n / oph,
        n / classic
    );
    Ok(())
}
