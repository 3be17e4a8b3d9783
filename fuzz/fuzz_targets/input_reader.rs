//! Any bytes, read as a JSONL file and as a text document: the readers must never panic,
//! and every non-blank line must become a document or a warning naming its line. A
//! single line read as a JSONL record must give the text serde_json reads in it.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use storyhash::input::{parse_record, read_jsonl, Batch, InputFile, ReadOptions, RecordMeta};

fuzz_target!(|data: &[u8]| {
    for strict in [false, true] {
        let options = ReadOptions {
            strict,
            max_document_bytes: 4096,
            ..ReadOptions::default()
        };
        if let Ok(outcome) = read_jsonl(data, Path::new("fuzz.jsonl"), &options) {
            let lines = data.split(|&b| b == b'\n').count() as u64;
            for warning in &outcome.warnings {
                assert!(warning.location.line >= 1 && warning.location.line <= lines.max(1));
            }
        }
    }
    let file = InputFile::from_path(Path::new("fuzz.txt")).expect("a .txt name");
    let mut batch = Batch::default();
    batch.data.extend_from_slice(data);
    let meta = RecordMeta {
        file: 0,
        line: 1,
        range: 0..data.len(),
        offset: 0,
        problem: None,
    };
    let _ = parse_record(&file, &meta, batch.bytes_of(&meta), &ReadOptions::default());
    if !data.contains(&b'\n') {
        let jsonl = InputFile::from_path(Path::new("fuzz.jsonl")).expect("a .jsonl name");
        let ours = parse_record(&jsonl, &meta, data, &ReadOptions::default()).map(|d| d.text);
        let theirs = serde_json::from_slice::<serde_json::Value>(data)
            .ok()
            .and_then(|record| Some(record.get("text")?.as_str()?.to_owned()));
        match (ours, theirs) {
            (Ok(ours), theirs) => assert_eq!(Some(ours), theirs),
            // Blank text is refused by storyhash, not by serde_json.
            (Err(_), Some(text)) => assert!(text.trim().is_empty(), "refused {text:?}"),
            (Err(_), None) => {}
        }
    }
});
