//! Index benchmark, in two modes that run as separate processes (so that what opening
//! costs is measured in a process that did nothing else). Each prints one JSON object.
//!
//! `bench_index build CORPUS.jsonl INDEX_DIR SKIP_LAST`: creates the index from all but
//! the last SKIP_LAST documents of the corpus: `insert_batch` in chunks of 20,000, a
//! commit every 100,000 documents (as an ingester would), then `compact`. Reports the
//! insertion rate (insertion only, with the rayon threads it ran with), the slowest
//! commit, the compaction, and bytes per document on disk.
//!
//! `bench_index measure INDEX_DIR PROBES.jsonl`: reads the probes, opens the index
//! (time, and resident memory before and after, from /proc/self/status), then times one
//! `query` per probe (p50/p99) and reports the resident memory after them: all of it,
//! and the anonymous part (the rest is mapped segment pages, which the kernel can drop).
//!
//! `bench_index insert INDEX_DIR DOCS.jsonl [BATCH [WARM.jsonl]]`: opens the index as its
//! writer, first (given WARM) answers WARM's documents as one `query_batch`, then inserts
//! the first 1,000 documents with one `insert_batch` (a writer's first insertion reads the
//! committed ids and fingerprints into memory) and the rest in batches of BATCH (default
//! 1,000; 1 calls `insert_or_match` per document); reports how long the first 1,000 took
//! and the steady insertion rate over the rest, with the rayon threads it ran with, then
//! commits. A process verifies each 4 KiB block of a segment the first time it reads
//! from it: without WARM the rate includes verifying the blocks the first 1,000 left
//! unread, as a fresh process pays once; with it, the blocks of the band arrays are
//! verified by the queries, as in a writer that has been running a while.

use std::time::Instant;

use storyhash::input::{read_sources, ReadOptions, Source};
use storyhash::{Document, Index, Preset};

fn read(path: &str) -> Result<Vec<Document>, Box<dyn std::error::Error>> {
    Ok(read_sources(&[Source::Path(path.into())], &ReadOptions::default())?.documents)
}

/// A /proc/self/status field in MiB (VmRSS: resident memory; RssAnon: its anonymous
/// part).
fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

fn dir_bytes(dir: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        total += entry?.metadata()?.len();
    }
    Ok(total)
}

fn build(corpus: &str, dir: &str, skip_last: usize) -> Result<(), Box<dyn std::error::Error>> {
    let docs = read(corpus)?;
    let stored = &docs[..docs.len().saturating_sub(skip_last)];
    let index = Index::create(dir, Preset::Dup.params(), None)?;
    let (mut insert_s, mut commit_s, mut slowest_commit_s) = (0.0, 0.0, 0.0f64);
    let mut duplicates = 0usize;
    for commit in stored.chunks(100_000) {
        let t = Instant::now();
        for chunk in commit.chunks(20_000) {
            for decision in index.insert_batch(chunk) {
                duplicates += usize::from(decision?.is_duplicate());
            }
        }
        insert_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        index.commit()?;
        let s = t.elapsed().as_secs_f64();
        commit_s += s;
        slowest_commit_s = slowest_commit_s.max(s);
    }
    let segments_before = index.stats()?.segments;
    let t = Instant::now();
    index.compact()?;
    let compact_s = t.elapsed().as_secs_f64();
    let bytes = dir_bytes(dir)?;
    println!(
        "{{\"mode\":\"build\",\"documents\":{},\"duplicates_found\":{duplicates},\"threads\":{},\
         \"insert_per_s\":{:.0},\"commits_s\":{commit_s:.2},\"slowest_commit_s\":{slowest_commit_s:.2},\
         \"segments_before_compact\":{segments_before},\"compact_s\":{compact_s:.2},\
         \"bytes_per_document\":{:.0},\"peak_rss_mib\":\"see /usr/bin/time\"}}",
        stored.len(),
        rayon::current_num_threads(),
        stored.len() as f64 / insert_s,
        bytes as f64 / stored.len() as f64,
    );
    Ok(())
}

fn measure(dir: &str, probes: &str) -> Result<(), Box<dyn std::error::Error>> {
    let probes = read(probes)?;
    let rss_before_open = rss_mib();
    let t = Instant::now();
    let index = Index::open(dir)?;
    let open_s = t.elapsed().as_secs_f64();
    let rss_after_open = rss_mib();
    let mut latencies: Vec<f64> = Vec::with_capacity(probes.len());
    let mut matched = 0usize;
    for doc in &probes {
        let t = Instant::now();
        let matches = std::hint::black_box(index.query(doc)?);
        latencies.push(t.elapsed().as_secs_f64() * 1e6);
        matched += usize::from(!matches.is_empty());
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    println!(
        "{{\"mode\":\"measure\",\"documents\":{},\"segments\":{},\"open_s\":{open_s:.3},\
         \"rss_before_open_mib\":{rss_before_open:.0},\"rss_after_open_mib\":{rss_after_open:.0},\
         \"queries\":{},\"queries_matched\":{matched},\"query_p50_us\":{:.0},\"query_p99_us\":{:.0},\
         \"rss_after_queries_mib\":{:.0},\"anonymous_rss_after_queries_mib\":{:.0}}}",
        index.len(),
        index.stats()?.segments,
        probes.len(),
        pct(0.5),
        pct(0.99),
        rss_mib(),
        status_mib("RssAnon:"),
    );
    Ok(())
}

fn insert(
    dir: &str,
    docs: &str,
    batch: usize,
    warm: Option<&str>,
) -> Result<(), Box<dyn std::error::Error>> {
    let docs = read(docs)?;
    let warm_docs = warm.map(read).transpose()?;
    let index = Index::open_writer(dir, |_| {})?;
    let before = index.len();
    let t = Instant::now();
    if let Some(warm_docs) = &warm_docs {
        index.query_batch(warm_docs)?;
    }
    let warm_s = t.elapsed().as_secs_f64();
    let (first, rest) = docs.split_at(docs.len().min(1_000));
    let t = Instant::now();
    for decision in index.insert_batch(first) {
        decision?;
    }
    let first_chunk_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    if batch == 1 {
        for doc in rest {
            index.insert_or_match(doc)?;
        }
    } else {
        for chunk in rest.chunks(batch) {
            for decision in index.insert_batch(chunk) {
                decision?;
            }
        }
    }
    let insert_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    index.commit()?;
    let commit_s = t.elapsed().as_secs_f64();
    println!(
        "{{\"mode\":\"insert\",\"documents_before\":{before},\"inserted\":{},\"batch\":{batch},\
         \"warmed_with_queries\":{},\"warm_s\":{warm_s:.2},\"threads\":{},\
         \"first_1000_s\":{first_chunk_s:.2},\"steady_insert_per_s\":{:.0},\"commit_s\":{commit_s:.2}}}",
        docs.len(),
        warm_docs.as_ref().map_or(0, Vec::len),
        rayon::current_num_threads(),
        rest.len() as f64 / insert_s,
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("build") if args.len() == 5 => build(&args[2], &args[3], args[4].parse()?),
        Some("measure") if args.len() == 4 => measure(&args[2], &args[3]),
        Some("insert") if args.len() == 4 => insert(&args[2], &args[3], 1_000, None),
        Some("insert") if (5..=6).contains(&args.len()) => match args[4].parse() {
            Ok(batch) if batch > 0 => {
                insert(&args[2], &args[3], batch, args.get(5).map(String::as_str))
            }
            _ => Err(format!("BATCH must be a positive number, not {:?}", args[4]).into()),
        },
        _ => Err(
            "usage: bench_index build CORPUS.jsonl INDEX_DIR SKIP_LAST | \
                  bench_index measure INDEX_DIR PROBES.jsonl | \
                  bench_index insert INDEX_DIR DOCS.jsonl [BATCH [WARM.jsonl]]"
                .into(),
        ),
    }
}
