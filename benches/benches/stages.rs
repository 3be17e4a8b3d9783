//! Criterion benchmarks, one group per pipeline stage, on a fixed synthetic corpus of
//! news-sized articles (`synth::DupCorpus` defaults: ~450 words, 15% republished).
//! Each bench checks what it timed, so a broken stage cannot look fast.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use storyhash::lsh::candidate_pairs;
use storyhash::normalize::normalize;
use storyhash::pipeline::Scratch;
use storyhash::shingle::set_element;
use storyhash::synth::{DupCorpus, Script};
use storyhash::verify::verify_pairs;
use storyhash::{pipeline, Analyzer, Document, MinHasher, Preset, SketchKind};

fn corpus(script: Script, originals: usize) -> Vec<Document> {
    DupCorpus {
        script,
        originals,
        ..DupCorpus::default()
    }
    .generate()
    .into_iter()
    .map(|d| Document::new(d.id, d.text))
    .collect()
}

fn bytes(docs: &[Document]) -> u64 {
    docs.iter().map(|d| d.text.len() as u64).sum()
}

fn stages(c: &mut Criterion) {
    let params = Preset::Dup.params();
    for script in [Script::Latin, Script::Arabic] {
        let docs = corpus(script, 200);
        let name = format!("{script:?}").to_lowercase();
        let mut group = c.benchmark_group(format!("normalize/{name}"));
        group.throughput(Throughput::Bytes(bytes(&docs)));
        group.bench_function("corpus", |b| {
            b.iter(|| {
                let total: usize = docs
                    .iter()
                    .map(|d| normalize(black_box(&d.text)).len())
                    .sum();
                assert!(total > 0);
                total
            })
        });
        group.finish();

        let analyzer = Analyzer::new(&Preset::Dup.params());
        let mut group = c.benchmark_group(format!("analyze/{name}"));
        group.throughput(Throughput::Bytes(bytes(&docs)));
        group.bench_function("normalize+tokenize+word5", |b| {
            let mut scratch = Scratch::default();
            b.iter(|| {
                let mut total = 0usize;
                for d in &docs {
                    analyzer.for_each_shingle_hash(black_box(&d.text), &mut scratch, |h| {
                        total += (h & 1) as usize
                    });
                }
                assert!(total > 1000);
                total
            })
        });
        group.bench_function("shingle_set", |b| {
            b.iter(|| {
                let total: usize = docs
                    .iter()
                    .map(|d| analyzer.shingle_set(&d.text).len())
                    .sum();
                assert!(total > 1000);
                total
            })
        });
        group.finish();
    }

    let docs = corpus(Script::Latin, 1000);
    let analyzer = Analyzer::new(&params);
    let sets: Vec<Vec<u64>> = docs.iter().map(|d| analyzer.shingle_set(&d.text)).collect();
    let mut group = c.benchmark_group("minhash");
    group.throughput(Throughput::Elements(sets.len() as u64));
    for kind in [SketchKind::Classic, SketchKind::Oph] {
        for k in [64, 128, 256] {
            let hasher = MinHasher::with_kind(kind, k, 1);
            group.bench_with_input(BenchmarkId::new(kind.to_string(), k), &k, |b, _| {
                b.iter(|| {
                    let sigs = hasher.sign_all(black_box(&sets));
                    assert_eq!(sigs.len(), sets.len());
                    sigs
                })
            });
        }
    }
    group.finish();

    let lsh = params.lsh().expect("preset is valid");
    let signatures = MinHasher::new(params.num_perm, params.seed).sign_all(&sets);
    let all: Vec<u32> = (0..sets.len() as u32).collect();
    let exact: Vec<Box<[u32]>> = sets
        .iter()
        .map(|set| {
            let mut exact: Vec<u32> = set.iter().map(|&h| set_element(h)).collect();
            exact.sort_unstable();
            exact.dedup();
            exact.into_boxed_slice()
        })
        .collect();
    let mut group = c.benchmark_group("lsh+verify");
    group.throughput(Throughput::Elements(sets.len() as u64));
    group.bench_function("dup-preset", |b| {
        b.iter(|| {
            let candidates = candidate_pairs(&signatures, &all, lsh);
            let verified = verify_pairs(&candidates.pairs, &exact, params.threshold);
            assert!(!verified.is_empty());
            verified.len()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(docs.len() as u64));
    group.sample_size(10);
    for preset in [Preset::Dup, Preset::Story] {
        group.bench_function(preset.to_string(), |b| {
            b.iter(|| {
                let result = pipeline::run(black_box(&docs), &preset.params()).expect("runs");
                assert!(result.stats.multi_member_clusters > 0);
                result.stats.clusters
            })
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
