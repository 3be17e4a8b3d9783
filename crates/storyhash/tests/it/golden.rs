//! Golden reports on the seed articles. Set `UPDATE_GOLDEN=1` to rewrite the expected
//! files after an intended change, then review the diff.

use std::path::Path;

use storyhash::input::{read_sources, ReadOptions, Source};
use storyhash::story::{cluster_stories, Granularity, StoryReport};
use storyhash::{pipeline, Preset, Report};

use crate::testdata;

fn check(expected_file: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(expected_file, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(expected_file).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1)",
            expected_file.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the report:\n--- expected\n{expected}\n--- actual\n{actual}",
            expected_file.display()
        );
    }
}

fn seed_report(preset: Preset) -> Report {
    let read = read_sources(
        &[Source::Path(testdata().join("seeds"))],
        &ReadOptions::default(),
    )
    .expect("seeds");
    let result = pipeline::run(&read.documents, &preset.params()).expect("runs");
    Report::build(&read.documents, &result, &read.warnings)
}

#[test]
fn seed_reports_match_golden_files() {
    for preset in [Preset::Dup, Preset::Story] {
        let report = seed_report(preset);
        let mut text = Vec::new();
        report.write_text(&mut text).expect("in memory");
        let mut json = Vec::new();
        report.write_json(&mut json).expect("in memory");
        let dir = testdata().join("golden");
        check(
            &dir.join(format!("seeds-{preset}.txt")),
            &String::from_utf8(text).expect("utf8"),
        );
        check(
            &dir.join(format!("seeds-{preset}.json")),
            &String::from_utf8(json).expect("utf8"),
        );
    }
}

/// The `stories` text report on the seeds, as `storyhash stories` prints it.
#[test]
fn seed_stories_match_golden_file() {
    let read = read_sources(
        &[Source::Path(testdata().join("seeds"))],
        &ReadOptions::default(),
    )
    .expect("seeds");
    let clustering = cluster_stories(&read.documents, &Granularity::Story.params()).expect("runs");
    let mut text = Vec::new();
    StoryReport::build(&read.documents, &clustering)
        .write_text(&mut text)
        .expect("in memory");
    check(
        &testdata().join("golden").join("seeds-stories.txt"),
        &String::from_utf8(text).expect("utf8"),
    );
}

/// The README shows the text reports on the seeds; they must be what the build prints
/// (a sample once drifted after a hash change).
#[test]
fn readme_samples_are_the_golden_reports() {
    let readme = std::fs::read_to_string(testdata().join("../README.md")).expect("README");
    for name in ["seeds-dup.txt", "seeds-stories.txt"] {
        let golden = std::fs::read_to_string(testdata().join("golden").join(name)).expect(name);
        assert!(
            readme.contains(golden.trim_end()),
            "README.md's sample differs from testdata/golden/{name}"
        );
    }
}

/// Text reports print input on terminals: control characters in ids and headlines come
/// out escaped, never raw (an escape sequence could clear or recolour the screen),
/// while the JSON report keeps the ids exactly.
#[test]
fn text_reports_escape_control_characters_of_the_input() {
    let body = "the minister arrived in moscow on monday for talks on trade and energy";
    let docs = vec![
        storyhash::Document::new("wire\u{1b}[31m-1", format!("\u{1b}[2J{body}")),
        storyhash::Document::new("wire-2\u{7}", format!("\u{1b}[2J{body}")),
        storyhash::Document::new("alone\u{9b}", "a\tdifferent\u{0} text about the weather"),
    ];
    let raw_control = |text: &str| text.chars().any(|c| c.is_control() && c != '\n');

    let result = pipeline::run(&docs, &Preset::Dup.params()).expect("runs");
    let report = Report::build(&docs, &result, &[]);
    let mut text = Vec::new();
    report.write_text(&mut text).expect("in memory");
    let text = String::from_utf8(text).expect("utf8");
    assert!(!raw_control(&text), "{text:?}");
    assert!(text.contains("wire\\u{1b}[31m-1"), "{text}");
    assert!(text.contains("a different\\u{0} text"), "{text}");
    let mut json = Vec::new();
    report.write_json(&mut json).expect("in memory");
    let json: serde_json::Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(json["clusters"][0]["documents"][0]["id"], docs[0].id);

    let clustering = cluster_stories(&docs, &Granularity::Story.params()).expect("runs");
    let mut stories = Vec::new();
    StoryReport::build(&docs, &clustering)
        .write_text(&mut stories)
        .expect("in memory");
    let stories = String::from_utf8(stories).expect("utf8");
    assert!(!raw_control(&stories), "{stories:?}");
    assert!(stories.contains("wire-2\\u{7}"), "{stories}");
}

/// Texts in several scripts whose analysis and hashes must never change silently: an
/// index stores shingle sets and band keys, not texts, so a change of any of them makes
/// stored indexes answer differently (docs/hashing.md).
const HASH_VECTOR_TEXTS: [&str; 6] = [
    "The Minister arrived in Moscow on Monday for talks on energy, trade and security.",
    "وصل وزير الخارجية السوري، أسعد الشيباني، إلى موسكو لإجراء مباحثات مع نظيره الروسي.",
    "İstanbul'da DİYARBAKIR toplantısı — دیدار وزیران در تهران ﻻ ﺍﻟﺴﻼﻡ",
    "外交部长周一抵达莫斯科进行会谈，讨论能源与贸易。",
    "Министр прибыл в Москву в понедельник для переговоров об энергетике.",
    "ＡＢＣ café naïve façade ﬁnance ２０２５ — ½ ① x²",
];

/// Every hash the analysis produces for the texts above under each preset: the sorted
/// exact set, the set's fingerprint, the signature and the band keys, as JSON lines.
fn hash_vectors() -> String {
    use storyhash::record::{Engine, RecordBuffers};
    let mut lines = String::new();
    for preset in [Preset::Dup, Preset::Story] {
        let engine = Engine::new(&preset.params()).expect("engine");
        for (n, text) in HASH_VECTOR_TEXTS.iter().enumerate() {
            let record = engine.record(text, None, &mut RecordBuffers::default());
            let hex = |values: &[u32]| -> Vec<String> {
                values.iter().map(|v| format!("{v:08x}")).collect()
            };
            let line = serde_json::json!({
                "preset": preset.to_string(),
                "text": n,
                "set": hex(&record.set),
                "fingerprint": format!("{:016x}", record.fingerprint),
                "signature": hex(&record.signature),
                "keys": hex(record.keys.as_deref().unwrap_or(&[])),
            });
            lines.push_str(&line.to_string());
            lines.push('\n');
        }
    }
    lines
}

#[test]
fn hash_vectors_are_a_promise() {
    check(
        &testdata().join("golden/hash-vectors.jsonl"),
        &hash_vectors(),
    );
}
