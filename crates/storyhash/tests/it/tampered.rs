//! The tampered-index catalogue (`testdata/index/tampered/`): index directories edited
//! field by field and resealed with valid checksums (`storyhash::index::forge`), as
//! anyone can. Every one is refused by its content with an error, or (where noted)
//! still answers as a sound index would; none panics, hangs or allocates what it
//! announces. `UPDATE_GOLDEN=1` writes the catalogue when it is missing.

use std::path::{Path, PathBuf};

use serde_json::json;
use storyhash::index::forge::{self, header, SECTION_NAMES};
use storyhash::index::Index;
use storyhash::story::Granularity;
use storyhash::{Document, Preset};

use crate::testdata;

const SEGMENT: &str = "seg-0000000001.seg";

/// Cases the readers tolerate: the edit leaves a sound index (a link to a document that
/// no longer exists is ignored, as after a merge dropped it).
const TOLERATED: &[&str] = &["link-to-nowhere"];

fn base_documents() -> Vec<Document> {
    let mut docs = crate::seed_documents();
    let mut copy = docs[0].clone();
    copy.id = "copy-of-000".into();
    let mut near = docs[1].clone();
    near.id = "near-001".into();
    near.text = near.text.replacen(' ', "  extra words here ", 1);
    docs.extend([copy, near]);
    docs
}

fn catalogue() -> PathBuf {
    testdata().join("index/tampered")
}

fn section(segment: &[u8], name: &str) -> (usize, usize) {
    let i = SECTION_NAMES
        .iter()
        .position(|&n| n == name)
        .expect("a section name");
    let (offset, len) = forge::segment_sections(segment).expect("table")[i];
    (offset as usize, len as usize)
}

fn put_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn get_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Where the first set stored as a delta (`codec`) begins its code, after its sketch:
/// the near copy's, stored against the article it copies.
fn delta_set(segment: &[u8]) -> usize {
    let (ends, len) = section(segment, "set_ends");
    let (bytes, _) = section(segment, "set_bytes");
    let mut start = 0;
    for i in 0..len / 8 {
        let end = get_u64(segment, ends + 8 * i) as usize;
        let code = bytes + start + sketch_len();
        if end > start + sketch_len() + 1 && segment[code] == 0 {
            assert!(segment[code + 1] < 0x7F, "a one-byte reference");
            return code;
        }
        start = end;
    }
    panic!("the base index stores the near copy as a delta");
}

/// The sketch bytes before each set's code: the signature length.
fn sketch_len() -> usize {
    Preset::Dup.params().num_perm
}

type SegmentEdit = fn(&mut Vec<u8>);
type ManifestEdit = fn(&mut serde_json::Value);

/// Edits of the segment file, resealed afterwards (except where the case is about the
/// checksum itself).
fn segment_cases() -> Vec<(&'static str, SegmentEdit)> {
    vec![
        ("docs-2^40", |s| put_u64(s, header::DOCS, 1 << 40)),
        ("keyed-over-docs", |s| {
            let docs = get_u64(s, header::DOCS);
            put_u64(s, header::KEYED, docs + 1);
        }),
        ("directory-bits-31", |s| put_u32(s, header::DIR_BITS, 31)),
        ("bands-mismatch", |s| put_u32(s, header::BANDS, 7)),
        ("section-past-the-end", |s| {
            let i = SECTION_NAMES
                .iter()
                .position(|&n| n == "set_bytes")
                .expect("set_bytes");
            put_u64(s, header::TABLE + 16 * i, u64::MAX - 7);
        }),
        ("section-length-wrong", |s| {
            let len = get_u64(s, header::TABLE + 8);
            put_u64(s, header::TABLE + 8, len + 8);
        }),
        ("set-length-2^60", |s| {
            // The first set's code (after its sketch) begins with its length: 2^60 in
            // the same bytes.
            let at = section(s, "set_bytes").0 + sketch_len();
            let forged = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
            s[at..at + forged.len()].copy_from_slice(&forged);
        }),
        ("set-rice-parameter-40", |s| {
            let at = section(s, "set_bytes").0 + sketch_len();
            let varint_len = s[at..].iter().position(|b| b & 0x80 == 0).expect("varint") + 1;
            s[at + varint_len] = 40;
        }),
        ("id-ends-reversed", |s| {
            let (at, _) = section(s, "id_ends");
            put_u32(s, at, 1_000);
        }),
        ("id-ends-past-the-ids", |s| {
            let (at, len) = section(s, "id_ends");
            put_u32(s, at + len - 4, u32::MAX);
        }),
        ("id-not-utf8", |s| {
            let (at, _) = section(s, "id_bytes");
            s[at] = 0xFF;
        }),
        ("id-lookup-out-of-range", |s| {
            let (at, _) = section(s, "id_locals");
            put_u32(s, at, 1_000_000);
        }),
        ("fingerprint-lookup-out-of-range", |s| {
            let (at, _) = section(s, "fp_locals");
            put_u32(s, at, 1_000_000);
        }),
        ("band-directory-reversed", |s| {
            let (at, _) = section(s, "directory");
            put_u32(s, at, u32::MAX);
        }),
        ("band-entry-unknown-document", |s| {
            // The first entry's document number, all ones: past the segment's documents.
            let (at, _) = section(s, "bands");
            let (width, local_bits) = forge::band_entry_layout(s).expect("layout");
            let docs = get_u64(s, header::DOCS);
            assert!((1u64 << local_bits) > docs, "all ones name no document");
            let mut entry = [0u8; 8];
            entry[..width].copy_from_slice(&s[at..at + width]);
            let forged = u64::from_le_bytes(entry) | ((1u64 << local_bits) - 1);
            s[at..at + width].copy_from_slice(&forged.to_le_bytes()[..width]);
        }),
        ("band-entries-unsorted", |s| {
            let (at, _) = section(s, "bands");
            let (width, _) = forge::band_entry_layout(s).expect("layout");
            let keyed = get_u64(s, header::KEYED) as usize;
            let last = at + width * (keyed - 1);
            let first_entry = s[at..at + width].to_vec();
            s.copy_within(last..last + width, at);
            s[last..last + width].copy_from_slice(&first_entry);
        }),
        ("set-delta-refers-to-itself", |s| {
            let at = delta_set(s);
            s[at + 1] = 0;
        }),
        ("set-delta-refers-before-the-first", |s| {
            let at = delta_set(s);
            s[at + 1] = 0x7F;
        }),
        ("set-delta-length-wrong", |s| {
            // The length follows the one-byte `back`; its low bits, one more.
            let at = delta_set(s);
            s[at + 2] = (s[at + 2] & 0x80) | (s[at + 2].wrapping_add(1) & 0x7F);
        }),
        ("holder-is-later", |s| {
            let (holders, len) = section(s, "holders");
            let (seqs, _) = section(s, "seqs");
            let last_seq = get_u64(s, seqs + len - 8);
            put_u64(s, holders, last_seq);
        }),
        ("holder-missing", |s| {
            let (holders, _) = section(s, "holders");
            put_u64(s, holders + 8, 99_999);
        }),
        ("seqs-unsorted", |s| {
            let (seqs, _) = section(s, "seqs");
            put_u64(s, seqs, 1 << 40);
        }),
        ("term-ends-2^64", |s| {
            let (at, _) = section(s, "term_ends");
            put_u64(s, at, u64::MAX);
        }),
        ("headline-not-utf8", |s| {
            let (at, _) = section(s, "headline_bytes");
            s[at] = 0xFF;
        }),
        ("headline-ends-past-the-headlines", |s| {
            let (at, len) = section(s, "headline_ends");
            put_u32(s, at + len - 4, u32::MAX);
        }),
        ("link-to-nowhere", |s| {
            let (at, len) = section(s, "link_targets");
            assert!(len >= 8, "the base index has a link");
            put_u64(s, at, 99_999);
        }),
    ]
}

/// Edits of the manifest's fields, re-encoded with a valid checksum.
fn manifest_cases() -> Vec<(&'static str, ManifestEdit)> {
    vec![
        ("manifest-num-perm-2^24", |m| {
            m["params"]["num_perm"] = json!(1 << 24)
        }),
        ("manifest-bands-times-rows-overflow", |m| {
            m["params"]["bands"] = json!({"bands": 1u64 << 62, "rows": 1u64 << 62})
        }),
        ("manifest-stopwords-repeated", |m| {
            m["params"]["tokens"]["stopwords"] = json!(vec!["en"; 100_000])
        }),
        ("manifest-names-a-path-outside", |m| {
            m["segments"][0]["name"] = json!("../../../../etc/passwd")
        }),
        ("manifest-document-count-wrong", |m| {
            let docs = m["segments"][0]["docs"].as_u64().expect("docs");
            m["segments"][0]["docs"] = json!(docs + 1);
        }),
        ("manifest-segments-overlap", |m| {
            let first = m["segments"][0].clone();
            m["segments"].as_array_mut().expect("segments").push(first);
        }),
        ("manifest-story-window-negative", |m| {
            m["story"]["window_seconds"] = json!(-5)
        }),
        ("manifest-story-lists-without-stories", |m| {
            m["story"] = json!(null);
            m["story_lists"]["stopwords"] = json!(["reuter"]);
        }),
        ("manifest-deletes-out-of-range", |m| {
            m["segments"][0]["deletes"] = json!("seg-0000000001.del-1");
            m["segments"][0]["deleted"] = json!(1);
        }),
    ]
}

/// Writes the catalogue from a fresh base index.
fn write_catalogue(root: &Path) {
    std::fs::create_dir_all(root).expect("mkdir");
    let base = root.join("base");
    let index =
        Index::with_stories(Preset::Dup.params(), Some(Granularity::Story.params())).expect("new");
    for d in &base_documents() {
        index.insert(d).expect("insert");
    }
    index.save(&base).expect("save");
    let segment = std::fs::read(base.join(SEGMENT)).expect("segment");
    let manifest = std::fs::read(base.join("MANIFEST")).expect("manifest");
    let case_dir = |name: &str| {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("MANIFEST"), &manifest).expect("manifest");
        std::fs::write(dir.join(SEGMENT), &segment).expect("segment");
        dir
    };
    for (name, edit) in segment_cases() {
        let mut bytes = segment.clone();
        edit(&mut bytes);
        assert!(forge::reseal_segment(&mut bytes), "{name}: reseal");
        std::fs::write(case_dir(name).join(SEGMENT), bytes).expect("write");
    }
    for (name, edit) in manifest_cases() {
        let mut fields = forge::decode_manifest(&manifest).expect("decodes");
        edit(&mut fields);
        let bytes = forge::encode_manifest(fields).expect("encodes");
        std::fs::write(case_dir(name).join("MANIFEST"), bytes).expect("write");
    }
    // A deletion list naming a document the segment does not have.
    let mut deletes = b"STORYHSH".to_vec();
    deletes.extend_from_slice(&1u32.to_le_bytes());
    deletes.extend_from_slice(&3u32.to_le_bytes());
    deletes.extend_from_slice(&[0; 8]);
    deletes.extend_from_slice(&4u64.to_le_bytes());
    deletes.extend_from_slice(&999u32.to_le_bytes());
    deletes.extend_from_slice(&[0; 8]);
    assert!(forge::reseal_container(&mut deletes));
    std::fs::write(
        root.join("manifest-deletes-out-of-range/seg-0000000001.del-1"),
        deletes,
    )
    .expect("deletes");
    // A 2^40-byte string length in the manifest's metadata.
    let meta = forge::manifest_raw_meta(&manifest).expect("meta");
    let writer = format!("storyhash {}", env!("CARGO_PKG_VERSION"));
    let at = meta
        .windows(writer.len())
        .position(|w| w == writer.as_bytes())
        .expect("the writer string");
    let mut forged = meta[..at - 1].to_vec();
    forged.push(0xFD);
    forged.extend_from_slice(&(1u64 << 40).to_le_bytes());
    forged.extend_from_slice(&meta[at..]);
    std::fs::write(
        case_dir("manifest-string-length-2^40").join("MANIFEST"),
        forge::manifest_with_raw_meta(&forged),
    )
    .expect("write");
    // Not resealed: a flipped byte behind the checksums.
    let mut flipped = segment.clone();
    let (at, _) = section(&flipped, "set_bytes");
    flipped[at + 20] ^= 0x40;
    std::fs::write(case_dir("segment-byte-flipped").join(SEGMENT), flipped).expect("write");
    let mut flipped = manifest.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    std::fs::write(case_dir("manifest-byte-flipped").join("MANIFEST"), flipped).expect("write");
    std::fs::write(
        case_dir("segment-truncated").join(SEGMENT),
        &segment[..segment.len() - 100],
    )
    .expect("write");
    std::fs::remove_dir_all(&base).expect("base");
}

/// Everything a reader does with an index; the first error, if any.
fn exercise(path: &Path, probes: &[Document]) -> storyhash::Result<()> {
    let index = Index::open(path)?;
    index.stats()?;
    index.clusters()?;
    index.cluster_list(None, 1)?;
    index.stories()?;
    index.story_list(None, 1)?;
    for d in probes {
        index.query(d)?;
        index.cluster_of(&d.id)?;
        index.story_of(&d.id)?;
    }
    index.verify()
}

#[test]
fn every_tampered_index_is_refused_by_its_content_or_answers_soundly() {
    let root = catalogue();
    if std::env::var_os("UPDATE_GOLDEN").is_some() && !root.exists() {
        write_catalogue(&root);
    }
    let probes = base_documents();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("the catalogue (UPDATE_GOLDEN=1 writes it)")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for case in &cases {
        let name = case.file_name().expect("name").to_string_lossy();
        let verdict = exercise(case, &probes);
        if TOLERATED.contains(&name.as_ref()) {
            verdict.unwrap_or_else(|e| panic!("{name}: {e}"));
            // And it answers as a sound index: every stored document finds itself.
            let index = Index::open(case).expect("opens");
            for d in &probes {
                let matches = index.query(d).expect("query");
                assert!(!matches.is_empty(), "{name}: {} finds nothing", d.id);
            }
        } else {
            let err = verdict.expect_err(&name);
            let message = err.to_string();
            assert!(
                message.contains(case.to_string_lossy().as_ref()),
                "{name}: the error names the index or its file: {message}"
            );
        }
    }
}

#[test]
fn special_files_in_an_index_are_refused_without_reading_them() {
    let dir = std::env::temp_dir().join(format!("storyhash-special-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let index = Index::new(Preset::Dup.params()).expect("new");
    index.insert(&base_documents()[0]).expect("insert");
    index.save(&dir).expect("save");
    let segment = dir.join(SEGMENT);
    std::fs::remove_file(&segment).expect("rm");
    // /dev/zero would map or read endlessly; a FIFO would block the open.
    std::os::unix::fs::symlink("/dev/zero", &segment).expect("symlink");
    let err = Index::open(&dir).expect_err("a device");
    assert!(err.to_string().contains("not a regular file"), "{err}");
    std::fs::remove_file(&segment).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(&segment)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let err = Index::open(&dir).expect_err("a FIFO");
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let err = Index::open("/dev/zero").expect_err("a device as the index");
    assert!(err.to_string().contains("not an index"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
