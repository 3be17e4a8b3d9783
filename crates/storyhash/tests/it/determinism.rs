//! The same input and parameters give the same report whatever the thread count.

use storyhash::synth::DupCorpus;
use storyhash::{pipeline, Preset, Report};

use crate::documents;

fn report_on_threads(threads: usize, preset: Preset) -> Vec<u8> {
    let docs = documents(
        &DupCorpus {
            originals: 150,
            copied_fraction: 0.4,
            ..DupCorpus::default()
        }
        .generate(),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    pool.install(|| {
        let result = pipeline::run(&docs, &preset.params()).expect("runs");
        let mut json = Vec::new();
        Report::build(&docs, &result, &[])
            .write_json(&mut json)
            .expect("in memory");
        Report::build(&docs, &result, &[])
            .write_text(&mut json)
            .expect("in memory");
        json
    })
}

#[test]
fn reports_do_not_depend_on_thread_count() {
    for preset in [Preset::Dup, Preset::Story] {
        let one = report_on_threads(1, preset);
        assert_eq!(
            one,
            report_on_threads(2, preset),
            "{preset}: 1 vs 2 threads"
        );
        assert_eq!(
            one,
            report_on_threads(5, preset),
            "{preset}: 1 vs 5 threads"
        );
    }
}

#[test]
fn every_document_is_in_exactly_one_cluster() {
    let docs = documents(&DupCorpus::default().generate()[..400]);
    let result = pipeline::run(&docs, &Preset::Dup.params()).expect("runs");
    let report = Report::build(&docs, &result, &[]);
    let mut json = Vec::new();
    report.write_json(&mut json).expect("in memory");
    let value: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
    let mut seen: Vec<String> = value["clusters"]
        .as_array()
        .expect("clusters array")
        .iter()
        .flat_map(|c| c["members"].as_array().expect("members").clone())
        .map(|m| m.as_str().expect("string id").to_string())
        .collect();
    seen.sort();
    let mut expected: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
    expected.sort();
    assert_eq!(seen, expected);
    assert!(value["clusters"][0]["size"].as_u64().expect("size") >= 2);
}
