//! Byte-level access to an index's files, for the tampered-file catalogue and the
//! structure-aware fuzz target: where each field of a segment is, and resealing
//! checksums after an edit, as the format allows anyone to. Not a stable API
//! (feature `internals`).
//!
//! A checksum is not a MAC: whoever edits a file can recompute it. These helpers make
//! such files so that the readers can be shown to refuse them by their content.

use xxhash_rust::xxh3::xxh3_64;

use super::segment::{table_end, BLOCK, FOOTER_LEN, SECTIONS};
use super::store::Manifest;
use crate::persist::{ContentKind, PayloadReader, PayloadWriter};

/// Names of a segment's sections, in file order (as in the `segment` module docs).
pub const SECTION_NAMES: [&str; SECTIONS] = [
    "seqs",
    "id_ends",
    "id_bytes",
    "id_hashes",
    "id_locals",
    "published",
    "holders",
    "set_ends",
    "set_bytes",
    "fp_hashes",
    "fp_locals",
    "link_ends",
    "link_targets",
    "link_jaccard",
    "bands",
    "directory",
    "term_ends",
    "term_ids",
    "term_weights",
    "stories",
    "headline_ends",
    "headline_bytes",
];

/// Offsets of a segment header's fields.
pub mod header {
    /// Segment format version (u32).
    pub const VERSION: usize = 8;
    /// Sections (u32): 20 before format 3, 22 from it.
    pub const SECTIONS: usize = 12;
    /// Documents (u64).
    pub const DOCS: usize = 16;
    /// Keyed documents (u64).
    pub const KEYED: usize = 24;
    /// Bands (u32).
    pub const BANDS: usize = 32;
    /// Band directory bits (u32).
    pub const DIR_BITS: usize = 36;
    /// The section table: per section, offset (u64) and length (u64).
    pub const TABLE: usize = 48;
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// The number of sections the header states, if this build knows it.
fn section_count(bytes: &[u8]) -> Option<usize> {
    let at = header::SECTIONS;
    let count = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
    (count <= SECTIONS).then_some(count)
}

/// Each section's (offset, length) as the table states them, in the order of
/// [`SECTION_NAMES`] (an older format's table is shorter).
pub fn segment_sections(bytes: &[u8]) -> Option<Vec<(u64, u64)>> {
    (0..section_count(bytes)?)
        .map(|i| {
            let at = header::TABLE + 16 * i;
            Some((u64_at(bytes, at)?, u64_at(bytes, at + 8)?))
        })
        .collect()
}

/// A segment's band entries as its header implies them: (bytes per entry, bits of the
/// document number at the bottom of each).
pub fn band_entry_layout(bytes: &[u8]) -> Option<(usize, u32)> {
    let u32_at = |at: usize| Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let docs = usize::try_from(u64_at(bytes, header::DOCS)?).ok()?;
    Some(super::segment::entry_layout(
        u32_at(header::VERSION)?,
        docs,
        u32_at(header::DIR_BITS)?.min(24),
    ))
}

/// Recomputes a segment's block checksums and header checksum after an edit, trusting
/// its footer's layout. False when the footer does not describe the file.
pub fn reseal_segment(bytes: &mut [u8]) -> bool {
    let Some(footer) = bytes.len().checked_sub(FOOTER_LEN) else {
        return false;
    };
    let (Some(at), Some(blocks)) = (u64_at(bytes, footer), u64_at(bytes, footer + 8)) else {
        return false;
    };
    let at = at as usize;
    let Some(data_start) = section_count(bytes).map(table_end) else {
        return false;
    };
    if at < data_start || at.checked_add(blocks as usize * 8) != Some(footer) {
        return false;
    }
    for block in 0..blocks as usize {
        let start = data_start + block * BLOCK;
        let end = (start + BLOCK).min(at);
        if start > end {
            return false;
        }
        let hash = xxh3_64(&bytes[start..end]);
        bytes[at + block * 8..at + block * 8 + 8].copy_from_slice(&hash.to_le_bytes());
    }
    let mut head = bytes[..data_start].to_vec();
    head.extend_from_slice(&bytes[at..footer]);
    let hash = xxh3_64(&head);
    bytes[footer + 16..].copy_from_slice(&hash.to_le_bytes());
    true
}

/// Recomputes the checksum (and payload length) of a manifest or deletion list after an
/// edit.
pub fn reseal_container(bytes: &mut [u8]) -> bool {
    if bytes.len() < 32 {
        return false;
    }
    let payload = (bytes.len() - 32) as u64;
    bytes[16..24].copy_from_slice(&payload.to_le_bytes());
    let body = bytes.len() - 8;
    let hash = xxh3_64(&bytes[..body]);
    bytes[body..].copy_from_slice(&hash.to_le_bytes());
    true
}

/// A reader over a manifest file's sections.
fn manifest_reader(bytes: &[u8]) -> Option<PayloadReader<'_>> {
    let path = std::path::Path::new("MANIFEST");
    PayloadReader::open(
        path,
        bytes,
        ContentKind::Manifest,
        &[super::store::MANIFEST_VERSION],
    )
    .ok()
    .map(|(_, r)| r)
}

/// The manifest's fields as JSON, for editing with [`encode_manifest`].
pub fn decode_manifest(bytes: &[u8]) -> Option<serde_json::Value> {
    let manifest: Manifest = manifest_reader(bytes)?.meta().ok()?;
    serde_json::to_value(manifest).ok()
}

/// A manifest file holding `fields` (as [`decode_manifest`] gives them, edited), with a
/// valid checksum.
pub fn encode_manifest(fields: serde_json::Value) -> Option<Vec<u8>> {
    let manifest: Manifest = serde_json::from_value(fields).ok()?;
    let mut w = PayloadWriter::default();
    w.meta(&manifest).ok()?;
    Some(w.finish(ContentKind::Manifest, super::store::MANIFEST_VERSION))
}

/// A manifest file whose metadata section is `meta` as given (any bytes), with a valid
/// checksum: for lengths and values no encoder would write.
pub fn manifest_with_raw_meta(meta: &[u8]) -> Vec<u8> {
    let mut w = PayloadWriter::default();
    w.bytes(meta);
    w.finish(ContentKind::Manifest, super::store::MANIFEST_VERSION)
}

/// The metadata section of a manifest file.
pub fn manifest_raw_meta(bytes: &[u8]) -> Option<Vec<u8>> {
    manifest_reader(bytes)?.bytes().ok().map(<[u8]>::to_vec)
}
