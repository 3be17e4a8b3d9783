//! Single-core kernel throughput on a JSONL corpus, for the corpus benchmark: one xxh3
//! pass over each document's bytes (the ceiling); dedup's per-document work of pass 1
//! stage by stage (parse the JSON line, analyze into word 5-gram hashes, OPH-sign them);
//! and MinHash signing (OPH and classic) of precomputed shingle sets. Prints one JSON
//! object.
//!
//! Usage: bench_kernels CORPUS.jsonl

use std::time::Instant;

use storyhash::input::{parse_fields, read_sources, InputFile, ReadOptions, RecordMeta, Source};
use storyhash::pipeline::Scratch;
use storyhash::{Analyzer, MinHasher, Preset, SketchKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: bench_kernels CORPUS.jsonl")?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()?;
    let options = ReadOptions::default();
    let docs = read_sources(&[Source::Path(path.clone().into())], &options)?.documents;
    let raw = std::fs::read(&path)?;
    let lines: Vec<&[u8]> = raw
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let file = InputFile::from_path(std::path::Path::new(&path)).ok_or("not a .jsonl file")?;
    let meta = |line: &[u8]| RecordMeta {
        file: 0,
        line: 1,
        range: 0..line.len(),
        offset: 0,
        problem: None,
    };
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
    let parse = best_of(5, &mut || {
        let mut total = 0;
        for line in &lines {
            let fields =
                parse_fields(&file, &meta(line), line, &options).map_err(|w| w.to_string());
            total += fields.map_or(0, |f| f.text.len() as u64);
        }
        total
    });
    let mut scratch = Scratch::default();
    let analyze = best_of(5, &mut || {
        let mut folded = 0;
        for d in &docs {
            analyzer.for_each_shingle_hash(&d.text, &mut scratch, |h| folded ^= h);
        }
        folded
    });
    let oph = MinHasher::with_kind(SketchKind::Oph, 128, 42);
    let mut signature = vec![0u32; 128];
    let analyze_sign = best_of(5, &mut || {
        let mut folded = 0;
        for d in &docs {
            let mut sketch = oph.sketch(&mut signature);
            sketch.add_all(analyzer.shingle_hashes(&d.text, &mut scratch));
            sketch.finish();
            folded ^= u64::from(signature[0]);
        }
        folded
    });
    let sets: Vec<Vec<u64>> = docs.iter().map(|d| analyzer.shingle_set(&d.text)).collect();
    let sign = |kind: SketchKind| {
        let hasher = MinHasher::with_kind(kind, 128, 42);
        best_of(3, &mut || u64::from(hasher.sign_all(&sets).row(0)[0]))
    };
    let oph_only = sign(SketchKind::Oph);
    let classic = sign(SketchKind::Classic);
    let n = docs.len() as f64;
    println!(
        "{{\"docs\":{},\"bytes\":{bytes},\"xxh3_docs_per_s\":{:.0},\"parse_docs_per_s\":{:.0},\"analyze_docs_per_s\":{:.0},\"analyze_and_oph_sign_docs_per_s\":{:.0},\"oph_sign_docs_per_s\":{:.0},\"classic_sign_docs_per_s\":{:.0}}}",
        docs.len(),
        n / xxh3,
        n / parse,
        n / analyze,
        n / analyze_sign,
        n / oph_only,
        n / classic
    );
    Ok(())
}
