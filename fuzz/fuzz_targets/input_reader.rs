//! Any bytes, read as a JSONL file and as a text document: the readers must never panic,
//! and every non-blank line must become a document or a warning naming its line.
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
});
