//! Structure-aware fuzzing of the index directory format: a valid index (a few articles,
//! with a copy, a near-copy and story terms) is edited at decoded fields (header counts,
//! section table entries, values inside any section, the manifest's fields), resealed
//! with valid checksums as anyone can (`storyhash::index::forge`), and then opened,
//! queried, listed and checked. Every edit must give an error or a sound answer, never a
//! panic, a hang or an allocation the file announces.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use storyhash::index::forge::{self, header, SECTION_NAMES};
use storyhash::{Document, Index, Preset};

const SEGMENT: &str = "seg-0000000001.seg";

fn probes() -> Vec<Document> {
    let body = "the minister arrived in moscow on monday for talks on energy trade and security \
                with his counterpart who said the two countries would sign several agreements";
    vec![
        Document::new("a", body),
        Document::new("copy", body),
        Document::new("near", body.replace("monday", "tuesday")),
        Document::new("other", "a storm closed the port of rotterdam for two days last week"),
    ]
}

/// The base index's files: (manifest, segment).
fn base() -> &'static (Vec<u8>, Vec<u8>) {
    static BASE: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("base.idx");
        let story = storyhash::story::Granularity::Event.params();
        let index = Index::with_stories(Preset::Dup.params(), Some(story)).expect("index");
        for d in probes() {
            index.insert(&d).expect("insert");
        }
        index.save(&path).expect("save");
        (
            std::fs::read(path.join("MANIFEST")).expect("manifest"),
            std::fs::read(path.join(SEGMENT)).expect("segment"),
        )
    })
}

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("storyhash-fuzz-index-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch");
        dir
    })
}

/// Applies one edit taken from `op` (12 bytes) to the segment.
fn edit_segment(segment: &mut [u8], op: &[u8]) {
    let value = u64::from_le_bytes(op[4..12].try_into().expect("8 bytes"));
    let offset = u32::from_le_bytes(op[0..4].try_into().expect("4 bytes")) as usize;
    let Some(table) = forge::segment_sections(segment) else { return };
    let (at, width) = match op[0] % 8 {
        0 => ([header::DOCS, header::KEYED][offset % 2], 8),
        1 => ([header::BANDS, header::DIR_BITS][offset % 2], 4),
        2 => (header::TABLE + 8 * (offset % (2 * SECTION_NAMES.len())), 8),
        _ => {
            // A value inside a section, 1, 4 or 8 bytes wide.
            let Some(&(start, len)) = table.get((offset >> 8) % table.len().max(1)) else {
                return;
            };
            if len == 0 {
                return;
            }
            let width = [1, 4, 8][(offset >> 3) as usize % 3];
            (start as usize + (offset >> 16) % len as usize, width)
        }
    };
    if let Some(bytes) = segment.get_mut(at..at + width) {
        bytes.copy_from_slice(&value.to_le_bytes()[..width]);
    }
}

fn edit_manifest(manifest: &[u8], op: &[u8]) -> Option<Vec<u8>> {
    let mut fields = forge::decode_manifest(manifest)?;
    let value = serde_json::Value::from(u64::from_le_bytes(op[4..12].try_into().ok()?));
    let small = serde_json::Value::from(op[4] as i64 - 64);
    match op[0] % 10 {
        0 => fields["params"]["num_perm"] = value,
        1 => fields["segments"][0]["docs"] = value,
        2 => fields["segments"][0]["first_seq"] = value,
        3 => fields["segments"][0]["last_seq"] = value,
        4 => fields["next_seq"] = value,
        5 => fields["params"]["threshold"] = serde_json::Value::from(f64::from(op[5]) / 100.0),
        6 => fields["story"]["window_seconds"] = small,
        7 => fields["segments"][0]["deleted"] = value,
        8 => fields["params"]["bands"] = serde_json::json!({"bands": op[5], "rows": op[6]}),
        _ => fields["generation"] = value,
    }
    forge::encode_manifest(fields)
}

fn exercise(path: &Path) {
    let Ok(index) = Index::open(path) else { return };
    let _ = index.stats();
    let _ = index.clusters();
    let _ = index.cluster_list(None, 1);
    for d in probes() {
        let _ = index.query(&d);
        let _ = index.cluster_of(&d.id);
        let _ = index.story_of(&d.id);
    }
    let _ = index.verify();
}

fuzz_target!(|data: &[u8]| {
    let (manifest, segment) = base();
    let (mut manifest, mut segment) = (manifest.clone(), segment.clone());
    // Up to 8 edits of 13 bytes: a target byte (segment or manifest) and the edit.
    for op in data.chunks_exact(13).take(8) {
        if op[0] & 0x80 == 0 {
            edit_segment(&mut segment, &op[1..]);
        } else if let Some(edited) = edit_manifest(&manifest, &op[1..]) {
            manifest = edited;
        }
    }
    // Resealed, or (when the input says so) left with stale checksums.
    if data.first().is_none_or(|b| b & 0x40 == 0) {
        forge::reseal_segment(&mut segment);
    }
    let dir = scratch().join("i.idx");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("MANIFEST"), &manifest).expect("manifest");
    std::fs::write(dir.join(SEGMENT), &segment).expect("segment");
    exercise(&dir);
});
