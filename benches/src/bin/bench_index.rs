//! Index benchmark: inserts a JSONL corpus with `insert_batch`, then times single
//! queries (p50/p99), the index file's bytes per document, and how long opening it takes.
//! Prints one JSON object.
//!
//! Usage: `bench_index CORPUS.jsonl INDEX_FILE [QUERIES]`

use std::time::Instant;

use storyhash::input::{read_sources, ReadOptions, Source};
use storyhash::{Index, Preset};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: bench_index CORPUS.jsonl INDEX_FILE [QUERIES]".into());
    }
    let queries: usize = args
        .get(3)
        .map(|q| q.parse())
        .transpose()?
        .unwrap_or(10_000);
    let docs = read_sources(
        &[Source::Path(args[1].clone().into())],
        &ReadOptions::default(),
    )?
    .documents;
    let (stored, probes) = docs.split_at(docs.len() - queries.min(docs.len() / 2));
    let index = Index::new(Preset::Dup.params())?;

    let start = Instant::now();
    let mut duplicates = 0usize;
    for chunk in stored.chunks(20_000) {
        for decision in index.insert_batch(chunk) {
            duplicates += usize::from(decision?.is_duplicate());
        }
    }
    let insert_s = start.elapsed().as_secs_f64();

    let mut latencies: Vec<f64> = probes
        .iter()
        .map(|doc| {
            let t = Instant::now();
            std::hint::black_box(index.query(doc).expect("query"));
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];

    let t = Instant::now();
    index.save(&args[2])?;
    let save_s = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&args[2])?.len();
    let t = Instant::now();
    let reopened = Index::open(&args[2])?;
    let open_s = t.elapsed().as_secs_f64();
    assert_eq!(reopened.len(), stored.len());
    println!(
        "{{\"documents\":{},\"duplicates_found\":{duplicates},\"threads\":{},\"insert_per_s\":{:.0},\"query_p50_us\":{:.0},\"query_p99_us\":{:.0},\"index_bytes_per_document\":{:.0},\"save_s\":{save_s:.2},\"open_s\":{open_s:.2}}}",
        stored.len(),
        rayon::current_num_threads(),
        stored.len() as f64 / insert_s,
        pct(0.5),
        pct(0.99),
        bytes as f64 / stored.len() as f64,
    );
    Ok(())
}
