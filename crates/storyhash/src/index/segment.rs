//! Index segments: immutable files of documents, written once by a commit or a merge and
//! then only mapped and read.
//!
//! ```text
//! offset        size        field
//! 0             8           magic "STORYSEG"
//! 8             4           segment format version (u32 LE)
//! 12            4           number of sections (u32 LE)
//! 16            8           documents n
//! 24            8           keyed documents m (group holders with band keys)
//! 32            4           bands b
//! 36            4           band directory bits d
//! 40            4           sketch bytes per holder s (the signature's k low bytes)
//! 44            4           flags (bit 0: story terms and stories are stored)
//! 48            16 × S      section table: offset and length in bytes (u64 LE each)
//! ...                       sections, each at an offset that is a multiple of 8
//! c             8 × B       xxh3-64 of each 4 KiB block of the bytes between the table
//!                           and c
//! end − 24      8, 8, 8     c, B, xxh3-64 of the header, table and block checksums
//! ```
//!
//! Sections (little-endian arrays; `seq` numbers are the index-wide insertion order and
//! never change, so links and copy holders survive merges):
//! `seqs` u64 × n (increasing) · `id_ends` u32 × n and `id_bytes` · `id_hashes` u64 ×
//! n and `id_locals` u32 × n (sorted by the xxh3 of the id) · `published` i64 × n
//! (i64::MIN: none) · `holders` u64 × n (seq of the copy-group holder; a document's own
//! for holders) · `set_ends` u64 × n and `set_bytes` (per holder with shingles, its s
//! sketch bytes then its Rice-coded exact set, or from format 2, when shorter, its
//! difference from an earlier set of the segment stored whole, `codec`; a holder without
//! shingles has the one-byte code of the empty set; empty for copies) · `fp_hashes` u64
//! and `fp_locals` u32 (holders with shingles, by set fingerprint) · `link_ends` u32 ×
//! n, `link_targets` u64 (seqs) and `link_jaccard`
//! f32 · `bands` b × m entries (per band, sorted by key, then local) · `directory` u32 ×
//! b × (2^d + 1) (per band, where each d-bit key prefix starts) · `term_ends` u64 × n,
//! `term_ids` u64, `term_weights` f32 (story terms) · `stories` u64 × n (seq of the
//! story's first document) · from format 3, `headline_ends` u32 × n and
//! `headline_bytes` (each document's headline, at most [`MAX_HEADLINE_BYTES`], so that
//! a story listing can say what its stories are); the last six are empty in an index
//! without stories. Formats 1 and 2 have 20 sections and no headlines.
//!
//! A band entry of format 2 is w = ⌈(32 − d + l) / 8⌉ bytes (little-endian) holding
//! `(key mod 2^(32 − d)) << l | local`, where l is the bits of the largest local number:
//! the key's top d bits are its directory prefix, which the directory already says, so
//! an entry of a million-document segment takes 5 bytes. Format 1 (still read) stored
//! `key << 32 | local` in 8.
//!
//! Opening reads the header, table and block checksums only (a few hundred kilobytes for
//! a million documents) and checks every section's place and length against the counts;
//! a block's checksum is verified the first time anything in it is read. Every read is
//! bounds-checked, so a file edited and re-checksummed gives errors, never a panic or an
//! allocation it announces.

use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use xxhash_rust::xxh3::xxh3_64;

use super::codec;
use super::mapped::Bytes;
use crate::error::{Error, Result};

/// The first eight bytes of a segment file.
pub(super) const SEGMENT_MAGIC: &[u8; 8] = b"STORYSEG";
/// The segment layout this build writes.
pub(super) const SEGMENT_VERSION: u32 = 3;
/// The oldest segment layout this build reads (format 1: 8-byte band entries).
const OLDEST_SEGMENT_VERSION: u32 = 1;
const HEADER_LEN: usize = 48;
pub(super) const FOOTER_LEN: usize = 24;
/// Checksummed unit: one page. A query touches a few dozen scattered entries (one per
/// band, a few sets); verifying the 4 KiB around each on first touch costs well under a
/// microsecond, where 64 KiB blocks made a cold query's verification most of its time.
/// The checksums take 8 bytes per 4 KiB (0.2%), read when the segment is opened.
pub(super) const BLOCK: usize = 4 * 1024;
/// A `published` value meaning "no publication time".
const NO_TIME: i64 = i64::MIN;
/// Key-directory prefixes are sized for about this many entries each. Band keys are
/// uniform hashes, so a lookup interpolates its key's place within the prefix's range
/// (off by about the square root of its length, a cache line or two) instead of
/// needing a fine directory: at 64 the directory of a million documents is 1.4 MB over
/// all bands and stays in cache, and a band lookup touches one page of entries where a
/// directory of 8 entries a prefix (11 MB) cost a second scattered read.
const ENTRIES_PER_PREFIX: usize = 64;
/// Lookups of one band whose entries are loaded together ahead of their searches in
/// [`Segment::lookup_band_sorted`]: enough to keep the memory system busy.
const LOOKAHEAD: usize = 32;

/// The sections, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum Sec {
    Seqs,
    IdEnds,
    IdBytes,
    IdHashes,
    IdLocals,
    Published,
    Holders,
    SetEnds,
    SetBytes,
    FpHashes,
    FpLocals,
    LinkEnds,
    LinkTargets,
    LinkJaccard,
    Bands,
    Directory,
    TermEnds,
    TermIds,
    TermWeights,
    Stories,
    HeadlineEnds,
    HeadlineBytes,
}
/// Sections of the layout this build writes.
pub(super) const SECTIONS: usize = 22;
/// Sections of formats 1 and 2, before the headlines.
const SECTIONS_BEFORE_HEADLINES: usize = 20;

/// Where the section table of a segment of `sections` sections ends and its
/// checksummed data begins.
pub(super) const fn table_end(sections: usize) -> usize {
    HEADER_LEN + 16 * sections
}

/// The most bytes of a headline a segment keeps (a longer one is cut at a word and closed
/// with "…"): a headline is a line, and a long first line standing in for a missing
/// title must not make every document cost a paragraph.
pub const MAX_HEADLINE_BYTES: usize = 200;

/// `text` cut to at most `max` bytes at a character boundary.
fn cut_at_char(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `headline` as a segment keeps it: whole when it fits in [`MAX_HEADLINE_BYTES`], else
/// cut at the last space that leaves room for a closing "…" (at a character, when that
/// space would drop more than half).
pub(super) fn kept_headline(headline: &str) -> std::borrow::Cow<'_, str> {
    if headline.len() <= MAX_HEADLINE_BYTES {
        return headline.into();
    }
    let room = cut_at_char(headline, MAX_HEADLINE_BYTES - '…'.len_utf8());
    let cut = match room.rfind(char::is_whitespace) {
        Some(at) if at > room.len() / 2 => &room[..at],
        _ => room,
    };
    format!("{}…", cut.trim_end()).into()
}

/// One document as written to a segment.
#[derive(Debug, Clone, Copy)]
pub(super) struct SegmentDoc<'a> {
    pub seq: u64,
    pub id: &'a str,
    pub published: Option<i64>,
    /// Seq of its copy-group holder (its own for a holder).
    pub holder: u64,
    /// A holder's exact set; None for a copy.
    pub set: Option<&'a [u32]>,
    /// A holder's sketch (the low bytes of its signature), stored with a non-empty set.
    pub sketch: &'a [u8],
    pub fingerprint: u64,
    /// The seq and set of an earlier document of this segment the set may be stored
    /// against (as a delta, when that is shorter and that set is stored whole).
    pub reference: Option<(u64, &'a [u32])>,
    /// A holder's band keys (None for a copy or a document without shingles).
    pub keys: Option<&'a [u32]>,
    pub links: &'a [(u64, f32)],
    pub terms: &'a [(u64, f32)],
    pub story: u64,
    /// Its headline (kept with stories, as [`kept_headline`] cuts it; empty: none).
    pub headline: &'a str,
}

/// Builds a segment document by document, in increasing seq order.
#[derive(Debug)]
pub(super) struct SegmentBuilder {
    bands: usize,
    sketch_len: usize,
    stories_kept: bool,
    docs: usize,
    last_seq: Option<u64>,
    seqs: Vec<u8>,
    id_ends: Vec<u8>,
    id_bytes: Vec<u8>,
    ids: Vec<(u64, u32)>,
    published: Vec<u8>,
    holders: Vec<u8>,
    set_ends: Vec<u8>,
    set_bytes: Spillable,
    /// Scratch for one set's code, and its delta code.
    code: Vec<u8>,
    delta: Vec<u8>,
    /// Per document, the fingerprint of its set if that is stored whole and not empty
    /// (else 0): which documents can be a later set's reference.
    whole: Vec<u64>,
    fps: Vec<(u64, u32)>,
    link_ends: Vec<u8>,
    link_targets: Vec<u8>,
    link_jaccard: Vec<u8>,
    link_count: u64,
    /// Per band, `key << 32 | local` (8 bytes LE) per keyed holder, in push order.
    band_entries: Vec<Spillable>,
    term_ends: Vec<u8>,
    term_ids: Spillable,
    term_weights: Spillable,
    term_count: u64,
    stories: Vec<u8>,
    headline_ends: Vec<u8>,
    headline_bytes: Vec<u8>,
}

impl SegmentBuilder {
    /// A builder for an index with `bands` bands and `sketch_len`-byte sketches, keeping
    /// story terms and stories if `stories_kept`. Its largest sections (the sets and
    /// the story terms) go to unnamed temporary files in `spill_dir` once they pass
    /// [`SPILL_BYTES`] (kept in memory when it is None).
    pub(super) fn new(
        bands: usize,
        sketch_len: usize,
        stories_kept: bool,
        spill_dir: Option<&Path>,
    ) -> SegmentBuilder {
        let spillable = || Spillable::new(spill_dir);
        SegmentBuilder {
            bands,
            sketch_len,
            stories_kept,
            docs: 0,
            last_seq: None,
            seqs: Vec::new(),
            id_ends: Vec::new(),
            id_bytes: Vec::new(),
            ids: Vec::new(),
            published: Vec::new(),
            holders: Vec::new(),
            set_ends: Vec::new(),
            set_bytes: spillable(),
            code: Vec::new(),
            delta: Vec::new(),
            whole: Vec::new(),
            fps: Vec::new(),
            link_ends: Vec::new(),
            link_targets: Vec::new(),
            link_jaccard: Vec::new(),
            link_count: 0,
            // Each band spills at its share of the budget: all bands together hold
            // what one set section does.
            band_entries: (0..bands)
                .map(|_| Spillable::new(spill_dir).spilling_at(SPILL_BYTES / bands.max(1)))
                .collect(),
            term_ends: Vec::new(),
            term_ids: spillable(),
            term_weights: spillable(),
            term_count: 0,
            stories: Vec::new(),
            headline_ends: Vec::new(),
            headline_bytes: Vec::new(),
        }
    }

    /// The builder spilling past `bytes` bytes per section.
    #[cfg(test)]
    fn spilling_at(mut self, bytes: usize) -> SegmentBuilder {
        for s in [
            &mut self.set_bytes,
            &mut self.term_ids,
            &mut self.term_weights,
        ]
        .into_iter()
        .chain(&mut self.band_entries)
        {
            s.spill_at = bytes;
        }
        self
    }

    /// Documents pushed so far.
    pub(super) fn len(&self) -> usize {
        self.docs
    }

    /// The first and last seq pushed ((0, 0) when empty).
    pub(super) fn seq_range(&self) -> (u64, u64) {
        let first = self.seqs.get(..8).map_or(0, |b| {
            let mut w = [0u8; 8];
            w.copy_from_slice(b);
            u64::from_le_bytes(w)
        });
        (first, self.last_seq.unwrap_or(0))
    }

    /// The local number of the document with `seq` if its set is stored whole and not
    /// empty: a set a later one can be stored against.
    pub(super) fn whole_local_of_seq(&self, seq: u64) -> Option<u32> {
        let seq_at = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.seqs[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        let i = partition_point(self.docs, |i| seq_at(i) < seq);
        (i < self.docs && seq_at(i) == seq && self.whole[i] != 0).then_some(i as u32)
    }

    /// Adds a band entry of an already pushed holder (merges copy entries over from
    /// the sorted band arrays, where a holder's keys are kept).
    pub(super) fn push_band_entry(&mut self, band: usize, key: u32, local: u32) {
        if let Some(entries) = self.band_entries.get_mut(band) {
            entries.append(&(u64::from(key) << 32 | u64::from(local)).to_le_bytes());
        }
    }

    /// Appends a document. Refuses what the layout cannot hold (more than 2^32
    /// documents or id bytes in one segment), seqs out of order, and a reference that is
    /// not a set stored whole here; a refused document leaves the builder as it was.
    pub(super) fn push(&mut self, doc: SegmentDoc<'_>) -> std::result::Result<(), String> {
        let local =
            u32::try_from(self.docs).map_err(|_| "a segment holds at most 2^32 documents")?;
        if self.last_seq.is_some_and(|last| doc.seq <= last) {
            return Err(format!("document seq {} is out of order", doc.seq));
        }
        let id_end = u32::try_from(self.id_bytes.len() + doc.id.len())
            .map_err(|_| "a segment holds at most 4 GiB of ids")?;
        let link_end = u32::try_from(self.link_count + doc.links.len() as u64)
            .map_err(|_| "a segment holds at most 2^32 links")?;
        let headline = cut_at_char(doc.headline, MAX_HEADLINE_BYTES);
        let headline_end = u32::try_from(self.headline_bytes.len() + headline.len())
            .map_err(|_| "a segment holds at most 4 GiB of headlines")?;
        let set = doc.set.unwrap_or_default();
        if !set.is_empty() && doc.sketch.len() != self.sketch_len {
            return Err(format!(
                "a sketch of {} bytes where the index keeps {}",
                doc.sketch.len(),
                self.sketch_len
            ));
        }
        if doc.keys.is_some_and(|keys| keys.len() != self.bands) {
            return Err(format!(
                "band keys of another count than the index's {}",
                self.bands
            ));
        }
        self.code.clear();
        self.delta.clear();
        if doc.set.is_some() {
            codec::encode_set(set, &mut self.code);
        }
        if let Some((seq, reference)) = doc.reference.filter(|_| !set.is_empty()) {
            let r = self
                .whole_local_of_seq(seq)
                .ok_or("a reference set not stored whole")?;
            if self.whole[r as usize] != crate::record::set_fingerprint(reference).max(1) {
                return Err(format!(
                    "the reference set of seq {seq} is not the one stored"
                ));
            }
            codec::encode_delta(set, reference, u64::from(local - r), &mut self.delta);
        }
        let as_delta = !self.delta.is_empty() && self.delta.len() < self.code.len();
        self.last_seq = Some(doc.seq);
        self.seqs.extend_from_slice(&doc.seq.to_le_bytes());
        self.id_bytes.extend_from_slice(doc.id.as_bytes());
        self.id_ends.extend_from_slice(&id_end.to_le_bytes());
        self.ids.push((xxh3_64(doc.id.as_bytes()), local));
        self.published
            .extend_from_slice(&doc.published.unwrap_or(NO_TIME).to_le_bytes());
        self.holders.extend_from_slice(&doc.holder.to_le_bytes());
        if !set.is_empty() {
            self.set_bytes.append(doc.sketch);
            self.fps.push((doc.fingerprint, local));
        }
        // A set's fingerprint is `set_fingerprint` of it (the `fp_hashes` table).
        let whole = !set.is_empty() && !as_delta;
        self.whole
            .push(if whole { doc.fingerprint.max(1) } else { 0 });
        self.set_bytes
            .append(if as_delta { &self.delta } else { &self.code });
        self.set_ends
            .extend_from_slice(&self.set_bytes.len().to_le_bytes());
        if let Some(keys) = doc.keys {
            for (entries, &key) in self.band_entries.iter_mut().zip(keys) {
                entries.append(&(u64::from(key) << 32 | u64::from(local)).to_le_bytes());
            }
        }
        for &(to, j) in doc.links {
            self.link_targets.extend_from_slice(&to.to_le_bytes());
            self.link_jaccard.extend_from_slice(&j.to_le_bytes());
        }
        self.link_count += doc.links.len() as u64;
        self.link_ends.extend_from_slice(&link_end.to_le_bytes());
        if self.stories_kept {
            for &(t, w) in doc.terms {
                self.term_ids.append(&t.to_le_bytes());
                self.term_weights.append(&w.to_le_bytes());
            }
            self.term_count += doc.terms.len() as u64;
            self.term_ends
                .extend_from_slice(&self.term_count.to_le_bytes());
            self.stories.extend_from_slice(&doc.story.to_le_bytes());
            self.headline_bytes.extend_from_slice(headline.as_bytes());
            self.headline_ends
                .extend_from_slice(&headline_end.to_le_bytes());
        }
        self.docs += 1;
        Ok(())
    }

    /// Writes the segment file to `w`; returns its length in bytes. Besides the spilled
    /// sections, what it holds is the per-document tables and lookup tables (BENCHMARKS.md
    /// gives their bytes per document), and while it writes the band arrays, one band's
    /// entries at a time, read back and sorted.
    pub(super) fn write(mut self, w: impl Write) -> io::Result<u64> {
        let keyed = self.band_entries.first().map_or(0, |b| b.len() / 8) as usize;
        let dir_bits = (keyed / ENTRIES_PER_PREFIX)
            .checked_ilog2()
            .unwrap_or(0)
            .min(24);
        let layout = EntryLayout::packed(self.docs, dir_bits);
        // Filled while the band arrays are written, written right after them.
        let directory_len = self.bands * ((1 << dir_bits) + 1) * 4;
        let mut directory = Vec::with_capacity(directory_len);
        self.ids.sort_unstable();
        self.fps.sort_unstable();
        let split = |pairs: &[(u64, u32)]| -> (Vec<u8>, Vec<u8>) {
            (
                pairs.iter().flat_map(|p| p.0.to_le_bytes()).collect(),
                pairs.iter().flat_map(|p| p.1.to_le_bytes()).collect(),
            )
        };
        let (id_hashes, id_locals) = split(&self.ids);
        let (fp_hashes, fp_locals) = split(&self.fps);
        let mut sections: [Part<'_>; SECTIONS] = [
            Part::Bytes(&self.seqs),
            Part::Bytes(&self.id_ends),
            Part::Bytes(&self.id_bytes),
            Part::Bytes(&id_hashes),
            Part::Bytes(&id_locals),
            Part::Bytes(&self.published),
            Part::Bytes(&self.holders),
            Part::Bytes(&self.set_ends),
            Part::Spilled(&mut self.set_bytes),
            Part::Bytes(&fp_hashes),
            Part::Bytes(&fp_locals),
            Part::Bytes(&self.link_ends),
            Part::Bytes(&self.link_targets),
            Part::Bytes(&self.link_jaccard),
            Part::Bands(&mut self.band_entries, dir_bits, layout),
            Part::Directory(directory_len as u64),
            Part::Bytes(&self.term_ends),
            Part::Spilled(&mut self.term_ids),
            Part::Spilled(&mut self.term_weights),
            Part::Bytes(&self.stories),
            Part::Bytes(&self.headline_ends),
            Part::Bytes(&self.headline_bytes),
        ];
        let table_end = table_end(SECTIONS);
        let mut head = Vec::with_capacity(table_end);
        head.extend_from_slice(SEGMENT_MAGIC);
        head.extend_from_slice(&SEGMENT_VERSION.to_le_bytes());
        head.extend_from_slice(&(SECTIONS as u32).to_le_bytes());
        head.extend_from_slice(&(self.docs as u64).to_le_bytes());
        head.extend_from_slice(&(keyed as u64).to_le_bytes());
        head.extend_from_slice(&(self.bands as u32).to_le_bytes());
        head.extend_from_slice(&dir_bits.to_le_bytes());
        head.extend_from_slice(&(self.sketch_len as u32).to_le_bytes());
        head.extend_from_slice(&u32::from(self.stories_kept).to_le_bytes());
        let mut offset = table_end as u64;
        for s in &sections {
            offset = offset.next_multiple_of(8);
            head.extend_from_slice(&offset.to_le_bytes());
            head.extend_from_slice(&s.len().to_le_bytes());
            offset += s.len();
        }
        let checksums_at = offset.next_multiple_of(8);
        let mut w = BlockWriter::new(w);
        w.inner.write_all(&head)?;
        let mut at = table_end as u64;
        for s in &mut sections {
            let pad = at.next_multiple_of(8) - at;
            w.write(&[0u8; 8][..pad as usize])?;
            s.write_to(&mut w, &mut directory)?;
            at += pad + s.len();
        }
        w.write(&[0u8; 8][..(checksums_at - at) as usize])?;
        let (mut inner, block_hashes) = w.finish()?;
        let checksums: Vec<u8> = block_hashes.iter().flat_map(|h| h.to_le_bytes()).collect();
        inner.write_all(&checksums)?;
        head.extend_from_slice(&checksums);
        inner.write_all(&checksums_at.to_le_bytes())?;
        inner.write_all(&(block_hashes.len() as u64).to_le_bytes())?;
        inner.write_all(&xxh3_64(&head).to_le_bytes())?;
        Ok(checksums_at + checksums.len() as u64 + FOOTER_LEN as u64)
    }
}

/// A section's bytes as the writer finds them.
enum Part<'a> {
    Bytes(&'a [u8]),
    Spilled(&'a mut Spillable),
    /// The band arrays (held as `key << 32 | local` each), each sorted as it is written,
    /// one after another, in the layout given; their directory (of the given bits) is
    /// built on the way.
    Bands(&'a mut [Spillable], u32, EntryLayout),
    /// The directory the band arrays built, of this many bytes.
    Directory(u64),
}

impl Part<'_> {
    fn len(&self) -> u64 {
        match self {
            Part::Bytes(b) => b.len() as u64,
            Part::Spilled(s) => s.len(),
            Part::Bands(bands, _, layout) => bands
                .iter()
                .map(|b| b.len() / 8 * layout.width as u64)
                .sum(),
            Part::Directory(len) => *len,
        }
    }

    /// Writes the section; the band arrays append their directory to `directory`, which
    /// the directory section then writes.
    fn write_to<W: Write>(
        &mut self,
        w: &mut BlockWriter<W>,
        directory: &mut Vec<u8>,
    ) -> io::Result<()> {
        match self {
            Part::Bytes(b) => w.write(b),
            Part::Spilled(s) => s.write_to(w),
            Part::Directory(len) => {
                if directory.len() as u64 != *len {
                    return Err(io::Error::other("band arrays of unequal lengths"));
                }
                w.write(directory)
            }
            Part::Bands(bands, dir_bits, layout) => {
                let (dir_bits, layout) = (*dir_bits, *layout);
                let mut chunk = Vec::with_capacity(64 * 1024);
                for band in bands.iter_mut() {
                    // Read back straight into entries, the one copy of the band held
                    // while it is sorted.
                    let mut entries = EntryReader::with_bytes(band.len());
                    band.for_each_chunk(|b| {
                        entries.push(b);
                        Ok(())
                    })?;
                    let mut entries = entries.finish()?;
                    entries.sort_unstable();
                    let mut at = 0usize;
                    for prefix in 0..=(1u64 << dir_bits) {
                        while at < entries.len() && prefix_of(entries[at] >> 32, dir_bits) < prefix
                        {
                            at += 1;
                        }
                        directory.extend_from_slice(&(at as u32).to_le_bytes());
                    }
                    for &e in &entries {
                        let packed = layout.encode((e >> 32) as u32, e as u32);
                        chunk.extend_from_slice(&packed.to_le_bytes()[..layout.width]);
                        if chunk.len() >= 64 * 1024 {
                            w.write(&chunk)?;
                            chunk.clear();
                        }
                    }
                }
                w.write(&chunk)
            }
        }
    }
}

/// Band entries (8 bytes each, little-endian) decoded from chunks that may end inside
/// an entry.
struct EntryReader {
    entries: Vec<u64>,
    /// The bytes of an entry a chunk ended inside.
    partial: Vec<u8>,
}

impl EntryReader {
    /// A reader for a section of `bytes` bytes (its entries are allocated once).
    fn with_bytes(bytes: u64) -> EntryReader {
        EntryReader {
            entries: Vec::with_capacity(usize::try_from(bytes / 8).unwrap_or(0)),
            partial: Vec::with_capacity(8),
        }
    }

    fn push(&mut self, mut chunk: &[u8]) {
        if !self.partial.is_empty() {
            let take = (8 - self.partial.len()).min(chunk.len());
            self.partial.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if let Ok(e) = <[u8; 8]>::try_from(self.partial.as_slice()) {
                self.entries.push(u64::from_le_bytes(e));
                self.partial.clear();
            }
        }
        let mut whole = chunk.chunks_exact(8);
        self.entries.extend(
            whole
                .by_ref()
                .map(|e| u64::from_le_bytes([e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7]])),
        );
        self.partial.extend_from_slice(whole.remainder());
    }

    /// The entries; an error if the bytes ended inside one.
    fn finish(self) -> io::Result<Vec<u64>> {
        if !self.partial.is_empty() {
            return Err(io::Error::other("a band section ends inside an entry"));
        }
        Ok(self.entries)
    }
}

/// A section kept in memory up to this many bytes, then in a temporary file.
const SPILL_BYTES: usize = 16 << 20;

/// An append-only section (the sets, the story terms, the band entries): in memory up
/// to [`SPILL_BYTES`] (a band's share of it for band entries),
/// then in an unnamed temporary file in the index's directory, so that merging
/// segments of any size holds only the small per-document arrays in memory. The file
/// has no name, so the system removes it however the process ends. A failure to write
/// it is kept and returned when the segment is written.
struct Spillable {
    dir: Option<PathBuf>,
    /// Bytes held in memory before spilling ([`SPILL_BYTES`]; less in tests).
    spill_at: usize,
    memory: Vec<u8>,
    file: Option<io::BufWriter<std::fs::File>>,
    len: u64,
    error: Option<io::Error>,
}

impl std::fmt::Debug for Spillable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spillable")
            .field("len", &self.len)
            .field("spilled", &self.file.is_some())
            .finish()
    }
}

impl Spillable {
    fn new(dir: Option<&Path>) -> Spillable {
        Spillable {
            dir: dir.map(Path::to_path_buf),
            spill_at: SPILL_BYTES,
            memory: Vec::new(),
            file: None,
            len: 0,
            error: None,
        }
    }

    /// The section spilling past `bytes` bytes.
    fn spilling_at(mut self, bytes: usize) -> Spillable {
        self.spill_at = bytes;
        self
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn append(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.error.is_some() {
            return;
        }
        if let Some(file) = &mut self.file {
            if let Err(e) = file.write_all(bytes) {
                self.error = Some(e);
            }
            return;
        }
        self.memory.extend_from_slice(bytes);
        if self.memory.len() < self.spill_at {
            return;
        }
        let Some(dir) = &self.dir else {
            return;
        };
        let spilled = tempfile::tempfile_in(dir).and_then(|file| {
            let mut file = io::BufWriter::with_capacity(self.spill_at.clamp(4096, 1 << 20), file);
            file.write_all(&self.memory)?;
            Ok(file)
        });
        match spilled {
            Ok(file) => {
                self.file = Some(file);
                self.memory = Vec::new();
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn write_to<W: Write>(&mut self, w: &mut BlockWriter<W>) -> io::Result<()> {
        self.for_each_chunk(|b| w.write(b))
    }

    /// Hands the section's bytes to `each`, in order, in chunks of any length; a spilled
    /// section is read back from its file, once.
    fn for_each_chunk(&mut self, mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        use std::io::{Read, Seek};
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let Some(file) = self.file.take() else {
            return each(&self.memory);
        };
        let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.seek(io::SeekFrom::Start(0))?;
        let mut buffer = vec![0u8; 1 << 20];
        let mut left = self.len;
        while left > 0 {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "a temporary section file came back short",
                ));
            }
            let n = n.min(usize::try_from(left).unwrap_or(usize::MAX));
            each(&buffer[..n])?;
            left -= n as u64;
        }
        Ok(())
    }
}

/// The locals of the newest `cap` entries of `key` among a directory prefix's `entries`
/// (laid out as `layout` says; sorted by key, then local), searched from `guess`.
/// Searches that double their step: a crowded key (thousands of near-copies) is not
/// walked.
fn newest_entries<'a>(
    entries: &'a [u8],
    layout: EntryLayout,
    guess: usize,
    key: u32,
    cap: usize,
) -> impl Iterator<Item = u32> + 'a {
    let key = layout.key_low(key);
    let key_at = move |i: usize| layout.load(entries, i) >> layout.local_bits;
    let n = entries.len() / layout.width;
    let start = partition_point_near(n, guess, |i| key_at(i) < key);
    let end = partition_point_near(n, start, |i| key_at(i) <= key);
    (end - (end - start).min(cap)..end).map(move |i| layout.local(layout.load(entries, i)))
}

/// [`partition_point`] searched outward from `guess`: steps doubling away from it until
/// the answer is bracketed, then a binary search, O(log distance) reads near the guess.
fn partition_point_near(n: usize, guess: usize, before: impl Fn(usize) -> bool) -> usize {
    let g = guess.min(n);
    let (lo, hi) = if g < n && before(g) {
        // The answer is above g.
        let (mut lo, mut step) = (g + 1, 1);
        loop {
            let probe = g + step;
            if probe >= n {
                break (lo, n);
            }
            if !before(probe) {
                break (lo, probe);
            }
            lo = probe + 1;
            step *= 2;
        }
    } else {
        // The answer is g or below.
        let (mut hi, mut step) = (g, 1);
        loop {
            if step > g {
                break (0, hi);
            }
            let probe = g - step;
            if before(probe) {
                break (probe + 1, hi);
            }
            hi = probe;
            step *= 2;
        }
    };
    lo + partition_point(hi - lo, |i| before(lo + i))
}

/// The first of `0..n` for which `before` is false (`before` holds for a prefix of the
/// range), as `slice::partition_point` for values not in a slice.
fn partition_point(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The directory prefix of a key.
fn prefix_of(key: u64, bits: u32) -> u64 {
    key >> (32 - bits)
}

/// The band entries of a segment of format `version`, `docs` documents and a directory
/// of `dir_bits` bits: (bytes per entry, bits of the local number).
#[cfg(feature = "internals")]
pub(super) fn entry_layout(version: u32, docs: usize, dir_bits: u32) -> (usize, u32) {
    let layout = EntryLayout::of(version, docs, dir_bits);
    (layout.width, layout.local_bits)
}

/// How a segment lays out its band entries (module docs): `width` bytes each, holding a
/// key's bits below its `stripped` prefix bits above the entry's `local_bits`-bit local
/// number. Sorting entries by this value sorts them by key, then local, within a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntryLayout {
    width: usize,
    local_bits: u32,
    stripped: u32,
}

impl EntryLayout {
    /// Format 1: `key << 32 | local` in 8 bytes.
    const WIDE: EntryLayout = EntryLayout {
        width: 8,
        local_bits: 32,
        stripped: 0,
    };

    /// The layout of a segment of format `version`.
    fn of(version: u32, docs: usize, dir_bits: u32) -> EntryLayout {
        if version == 1 {
            EntryLayout::WIDE
        } else {
            EntryLayout::packed(docs, dir_bits)
        }
    }

    /// Format 2, for a segment of `docs` documents and a directory of `dir_bits` bits.
    fn packed(docs: usize, dir_bits: u32) -> EntryLayout {
        let local_bits = (usize::BITS - docs.saturating_sub(1).leading_zeros()).max(1);
        EntryLayout {
            width: (32 - dir_bits + local_bits).div_ceil(8) as usize,
            local_bits,
            stripped: dir_bits,
        }
    }

    /// The bits of `key` an entry keeps.
    fn key_low(&self, key: u32) -> u64 {
        u64::from(key) & ((1u64 << (32 - self.stripped)) - 1)
    }

    fn encode(&self, key: u32, local: u32) -> u64 {
        self.key_low(key) << self.local_bits | u64::from(local)
    }

    /// Entry `i` of `entries`.
    fn load(&self, entries: &[u8], i: usize) -> u64 {
        let at = i * self.width;
        if let Some(word) = entries.get(at..at + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let v = u64::from_le_bytes(w);
            return if self.width == 8 {
                v
            } else {
                v & ((1u64 << (8 * self.width)) - 1)
            };
        }
        let mut w = [0u8; 8];
        w[..self.width].copy_from_slice(&entries[at..at + self.width]);
        u64::from_le_bytes(w)
    }

    fn local(&self, entry: u64) -> u32 {
        (entry & ((1u64 << self.local_bits) - 1)) as u32
    }

    /// The full key of an entry under directory prefix `prefix`.
    fn key(&self, entry: u64, prefix: u64) -> u32 {
        let low = entry >> self.local_bits;
        if self.stripped == 0 {
            low as u32
        } else {
            (prefix << (32 - self.stripped) | low) as u32
        }
    }
}

/// Writes bytes through and hashes them in [`BLOCK`]s.
struct BlockWriter<W: Write> {
    inner: W,
    block: Vec<u8>,
    hashes: Vec<u64>,
}

impl<W: Write> BlockWriter<W> {
    fn new(inner: W) -> Self {
        BlockWriter {
            inner,
            block: Vec::with_capacity(BLOCK),
            hashes: Vec::new(),
        }
    }

    fn write(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let take = (BLOCK - self.block.len()).min(bytes.len());
            self.block.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.block.len() == BLOCK {
                self.flush_block()?;
            }
        }
        Ok(())
    }

    fn flush_block(&mut self) -> io::Result<()> {
        self.hashes.push(xxh3_64(&self.block));
        self.inner.write_all(&self.block)?;
        self.block.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<(W, Vec<u64>)> {
        if !self.block.is_empty() {
            self.flush_block()?;
        }
        Ok((self.inner, self.hashes))
    }
}

/// A segment opened for reading.
pub(super) struct Segment {
    path: PathBuf,
    bytes: Bytes,
    docs: usize,
    keyed: usize,
    bands: usize,
    dir_bits: u32,
    layout: EntryLayout,
    sketch_len: usize,
    stories_kept: bool,
    /// Section ranges (a section the segment's format lacks is empty).
    table: [Range<usize>; SECTIONS],
    /// Where the section table ends and the checksummed data begins.
    data_start: usize,
    checksums_at: usize,
    /// One bit per block: its checksum was verified.
    verified: Vec<AtomicU64>,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("path", &self.path)
            .field("docs", &self.docs)
            .finish()
    }
}

impl Segment {
    /// Maps the segment file at `path`, for an index with `bands` bands and
    /// `sketch_len`-byte sketches.
    pub(super) fn open(path: &Path, bands: usize, sketch_len: usize) -> Result<Segment> {
        Segment::new(path.to_path_buf(), Bytes::map(path)?, bands, sketch_len)
    }

    /// A segment from bytes in memory (`path` names it in errors).
    #[cfg(test)]
    pub(super) fn from_vec(
        path: &Path,
        bytes: Vec<u8>,
        bands: usize,
        sketch_len: usize,
    ) -> Result<Segment> {
        Segment::new(path.to_path_buf(), Bytes::Owned(bytes), bands, sketch_len)
    }

    fn new(path: PathBuf, bytes: Bytes, bands: usize, sketch_len: usize) -> Result<Segment> {
        let fail = |problem: String| Error::Index {
            path: path.clone(),
            problem,
        };
        let b: &[u8] = &bytes;
        if b.len() < SEGMENT_MAGIC.len() || &b[..SEGMENT_MAGIC.len()] != SEGMENT_MAGIC {
            return Err(fail("not a storyhash index segment".into()));
        }
        let truncated = || fail(format!("truncated segment: {} bytes", b.len()));
        if b.len() < table_end(SECTIONS_BEFORE_HEADLINES) + FOOTER_LEN {
            return Err(truncated());
        }
        let u32_at = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let u64_at = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[at..at + 8]);
            u64::from_le_bytes(w)
        };
        let version = u32_at(8);
        if !(OLDEST_SEGMENT_VERSION..=SEGMENT_VERSION).contains(&version) {
            return Err(fail(format!(
                "segment format version {version} is not supported by this build (it reads \
                 versions {OLDEST_SEGMENT_VERSION} to {SEGMENT_VERSION})"
            )));
        }
        let sections = if version >= 3 {
            SECTIONS
        } else {
            SECTIONS_BEFORE_HEADLINES
        };
        let data_start = table_end(sections);
        if b.len() < data_start + FOOTER_LEN {
            return Err(truncated());
        }
        let footer = b.len() - FOOTER_LEN;
        let (checksums_at, blocks, head_hash) =
            (u64_at(footer), u64_at(footer + 8), u64_at(footer + 16));
        let data_len = checksums_at.checked_sub(data_start as u64);
        let blocks_fit = blocks
            .checked_mul(8)
            .and_then(|n| n.checked_add(checksums_at))
            .is_some_and(|end| end == footer as u64);
        let Some(data_len) = data_len.filter(|_| blocks_fit) else {
            return Err(fail(
                "truncated or damaged segment: its footer does not match its length".into(),
            ));
        };
        if blocks != (data_len as usize).div_ceil(BLOCK) as u64 {
            return Err(fail(
                "damaged segment: block count does not match its data".into(),
            ));
        }
        let checksums_at = checksums_at as usize;
        let mut head = Vec::with_capacity(data_start + blocks as usize * 8);
        head.extend_from_slice(&b[..data_start]);
        head.extend_from_slice(&b[checksums_at..footer]);
        if xxh3_64(&head) != head_hash {
            return Err(fail(
                "checksum mismatch: the segment's header is damaged".into(),
            ));
        }
        let damaged = |what: &str| fail(format!("damaged segment: {what}"));
        if u32_at(12) as usize != sections {
            return Err(damaged("unexpected number of sections"));
        }
        // Counts are bounded by the bytes that must hold them before any is used.
        let docs = usize::try_from(u64_at(16)).map_err(|_| damaged("document count"))?;
        let keyed = usize::try_from(u64_at(24)).map_err(|_| damaged("keyed count"))?;
        let file_bands = u32_at(32) as usize;
        let dir_bits = u32_at(36);
        if file_bands != bands {
            return Err(damaged(&format!(
                "{file_bands} bands where the index has {bands}"
            )));
        }
        if u32_at(40) as usize != sketch_len || u32_at(44) > 1 {
            return Err(damaged("sketch length or flags differ from the index's"));
        }
        let stories_kept = u32_at(44) == 1;
        if dir_bits > 24 || keyed > docs || docs > b.len() / 8 || docs > u32::MAX as usize {
            return Err(damaged("counts out of range"));
        }
        let layout = EntryLayout::of(version, docs, dir_bits);
        let mut table: [Range<usize>; SECTIONS] = std::array::from_fn(|_| 0..0);
        for (i, range) in table.iter_mut().enumerate().take(sections) {
            let at = HEADER_LEN + 16 * i;
            let (offset, len) = (u64_at(at), u64_at(at + 8));
            let end = offset.checked_add(len);
            if offset % 8 != 0
                || offset < data_start as u64
                || end.is_none_or(|end| end > checksums_at as u64)
            {
                return Err(damaged("a section lies outside the data"));
            }
            *range = offset as usize..(offset + len) as usize;
        }
        let len_of = |s: Sec| table[s as usize].len();
        let n = docs;
        let exact = [
            (Sec::Seqs, n * 8),
            (Sec::IdEnds, n * 4),
            (Sec::IdHashes, n * 8),
            (Sec::IdLocals, n * 4),
            (Sec::Published, n * 8),
            (Sec::Holders, n * 8),
            (Sec::SetEnds, n * 8),
            (Sec::LinkEnds, n * 4),
            (Sec::TermEnds, if stories_kept { n * 8 } else { 0 }),
            (Sec::Stories, if stories_kept { n * 8 } else { 0 }),
            (
                Sec::HeadlineEnds,
                if stories_kept && version >= 3 {
                    n * 4
                } else {
                    0
                },
            ),
            (Sec::Bands, bands * keyed * layout.width),
            (Sec::Directory, bands * ((1usize << dir_bits) + 1) * 4),
        ];
        let pairs_agree = len_of(Sec::FpHashes) / 8 == len_of(Sec::FpLocals) / 4
            && len_of(Sec::FpHashes) % 8 == 0
            && len_of(Sec::FpLocals) % 4 == 0
            && len_of(Sec::LinkTargets) % 8 == 0
            && len_of(Sec::LinkTargets) / 8 == len_of(Sec::LinkJaccard) / 4
            && len_of(Sec::LinkJaccard) % 4 == 0
            && len_of(Sec::TermIds) % 8 == 0
            && len_of(Sec::TermIds) / 8 == len_of(Sec::TermWeights) / 4
            && len_of(Sec::TermWeights) % 4 == 0
            && (stories_kept || len_of(Sec::TermIds) == 0)
            && (stories_kept || len_of(Sec::HeadlineBytes) == 0);
        if !pairs_agree || exact.iter().any(|&(s, want)| len_of(s) != want) {
            return Err(damaged("section lengths do not match the document counts"));
        }
        let verified = (0..(blocks as usize).div_ceil(64))
            .map(|_| AtomicU64::new(0))
            .collect();
        Ok(Segment {
            path,
            bytes,
            docs,
            keyed,
            bands,
            dir_bits,
            layout,
            sketch_len,
            stories_kept,
            table,
            data_start,
            checksums_at,
            verified,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Documents in the segment (deleted ones included).
    pub(super) fn docs(&self) -> usize {
        self.docs
    }

    /// Calls `each(key, local)` for every entry of band `band`, in order: under each
    /// directory prefix in turn, the prefix's entries.
    pub(super) fn for_each_band_entry(
        &self,
        band: usize,
        mut each: impl FnMut(u32, u32) -> Result<()>,
    ) -> Result<()> {
        if band >= self.bands {
            return Err(self.damaged("a band out of range"));
        }
        let w = self.layout.width;
        let entries = self.raw(Sec::Bands, band * self.keyed * w, self.keyed * w)?;
        let prefixes = (1usize << self.dir_bits) + 1;
        let directory = self.raw(Sec::Directory, band * prefixes * 4, prefixes * 4)?;
        let start_of = |p: usize| {
            let b = &directory[p * 4..p * 4 + 4];
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
        };
        if start_of(0) != 0 || start_of(prefixes - 1) != self.keyed {
            return Err(self.damaged("a band directory does not cover its entries"));
        }
        for prefix in 0..prefixes - 1 {
            let (lo, hi) = (start_of(prefix), start_of(prefix + 1));
            if lo > hi || hi > self.keyed {
                return Err(self.damaged("a band directory is out of order"));
            }
            for i in lo..hi {
                let e = self.layout.load(entries, i);
                let key = self.layout.key(e, prefix as u64);
                // Format 1 entries carry their prefix, which must be the directory's.
                if prefix_of(u64::from(key), self.dir_bits) != prefix as u64 {
                    return Err(self.damaged("a band directory does not cover its entries"));
                }
                each(key, self.layout.local(e))?;
            }
        }
        Ok(())
    }

    fn damaged(&self, what: &str) -> Error {
        Error::Index {
            path: self.path.clone(),
            problem: format!("damaged segment: {what}"),
        }
    }

    /// `len` bytes at `start` of section `s`, their blocks verified.
    fn raw(&self, s: Sec, start: usize, len: usize) -> Result<&[u8]> {
        let section = &self.table[s as usize];
        let end = start
            .checked_add(len)
            .filter(|&end| end <= section.len())
            .ok_or_else(|| self.damaged("a read runs past its section"))?;
        let (from, to) = (section.start + start, section.start + end);
        if to > from {
            let first = (from - self.data_start) / BLOCK;
            let last = (to - 1 - self.data_start) / BLOCK;
            for block in first..=last {
                self.verify_block(block)?;
            }
        }
        Ok(&self.bytes[from..to])
    }

    fn verify_block(&self, block: usize) -> Result<()> {
        let (word, bit) = (&self.verified[block / 64], 1u64 << (block % 64));
        if word.load(Ordering::Relaxed) & bit != 0 {
            return Ok(());
        }
        let start = self.data_start + block * BLOCK;
        let end = (start + BLOCK).min(self.checksums_at);
        let at = self.checksums_at + block * 8;
        let mut stored = [0u8; 8];
        stored.copy_from_slice(&self.bytes[at..at + 8]);
        if xxh3_64(&self.bytes[start..end]) != u64::from_le_bytes(stored) {
            return Err(self.damaged(&format!("checksum mismatch in block {block}")));
        }
        word.fetch_or(bit, Ordering::Relaxed);
        Ok(())
    }

    fn u32(&self, s: Sec, i: usize) -> Result<u32> {
        let b = self.raw(s, i.saturating_mul(4), 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&self, s: Sec, i: usize) -> Result<u64> {
        let b = self.raw(s, i.saturating_mul(8), 8)?;
        let mut w = [0u8; 8];
        w.copy_from_slice(b);
        Ok(u64::from_le_bytes(w))
    }

    /// The byte range `ends[i - 1]..ends[i]` of a section indexed by an `ends` array.
    fn span(&self, ends: Sec, wide: bool, i: usize, within: usize) -> Result<Range<usize>> {
        let end_at = |j: usize| -> Result<u64> {
            if wide {
                self.u64(ends, j)
            } else {
                self.u32(ends, j).map(u64::from)
            }
        };
        let start = if i == 0 { 0 } else { end_at(i - 1)? };
        let end = end_at(i)?;
        if start > end || end > within as u64 {
            return Err(self.damaged("offsets out of order or out of range"));
        }
        Ok(start as usize..end as usize)
    }

    fn check_local(&self, local: u32) -> Result<usize> {
        let local = local as usize;
        if local < self.docs {
            Ok(local)
        } else {
            Err(self.damaged("a document number out of range"))
        }
    }

    pub(super) fn seq(&self, local: u32) -> Result<u64> {
        self.u64(Sec::Seqs, self.check_local(local)?)
    }

    /// How many of this segment's documents have seqs below `seq`.
    pub(super) fn locals_before(&self, seq: u64) -> Result<u32> {
        Ok(self.lower_bound(Sec::Seqs, self.docs, seq)? as u32)
    }

    /// The local number of the document with `seq`, if this segment holds it.
    pub(super) fn local_of_seq(&self, seq: u64) -> Result<Option<u32>> {
        let at = self.lower_bound(Sec::Seqs, self.docs, seq)?;
        Ok((at < self.docs && self.u64(Sec::Seqs, at)? == seq).then_some(at as u32))
    }

    pub(super) fn id(&self, local: u32) -> Result<&str> {
        let local = self.check_local(local)?;
        let span = self.span(
            Sec::IdEnds,
            false,
            local,
            self.table[Sec::IdBytes as usize].len(),
        )?;
        let bytes = self.raw(Sec::IdBytes, span.start, span.len())?;
        std::str::from_utf8(bytes).map_err(|_| self.damaged("an id is not UTF-8"))
    }

    /// The local number of the document with `id`.
    pub(super) fn local_of_id(&self, id: &str) -> Result<Option<u32>> {
        let hash = xxh3_64(id.as_bytes());
        let mut at = self.lower_bound(Sec::IdHashes, self.docs, hash)?;
        while at < self.docs && self.u64(Sec::IdHashes, at)? == hash {
            let local = self.u32(Sec::IdLocals, at)?;
            if self.id(local)? == id {
                return Ok(Some(local));
            }
            at += 1;
        }
        Ok(None)
    }

    /// The first position in the sorted u64 section `s` (of `len` values) not below `v`.
    fn lower_bound(&self, s: Sec, len: usize, v: u64) -> Result<usize> {
        let (mut lo, mut hi) = (0usize, len);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.u64(s, mid)? < v {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    pub(super) fn published(&self, local: u32) -> Result<Option<i64>> {
        let t = self.u64(Sec::Published, self.check_local(local)?)? as i64;
        Ok((t != NO_TIME).then_some(t))
    }

    /// Seq of the document's copy-group holder.
    pub(super) fn holder(&self, local: u32) -> Result<u64> {
        self.u64(Sec::Holders, self.check_local(local)?)
    }

    /// A holder's sketch and set code (an empty sketch for an empty set; both empty
    /// for a copy).
    fn set_entry(&self, local: u32) -> Result<(&[u8], &[u8])> {
        let local = self.check_local(local)?;
        let span = self.span(
            Sec::SetEnds,
            true,
            local,
            self.table[Sec::SetBytes as usize].len(),
        )?;
        let entry = self.raw(Sec::SetBytes, span.start, span.len())?;
        match entry.len() {
            0 | 1 => Ok((&[], entry)),
            len if len > self.sketch_len => Ok(entry.split_at(self.sketch_len)),
            _ => Err(self.damaged("a set entry is shorter than its sketch")),
        }
    }

    fn set_code(&self, local: u32) -> Result<&[u8]> {
        Ok(self.set_entry(local)?.1)
    }

    /// A holder's sketch (empty when its set is empty) and set size.
    pub(super) fn sketch(&self, local: u32) -> Result<(&[u8], usize)> {
        let (sketch, code) = self.set_entry(local)?;
        let len = if code.is_empty() {
            0
        } else {
            codec::set_len(code).ok_or_else(|| self.damaged("a shingle set does not decode"))?
        };
        Ok((sketch, len))
    }

    /// Decodes a holder's exact set into `out` (empty for a copy). A set stored as a
    /// delta is applied to its reference, which must be an earlier set stored whole.
    pub(super) fn set(&self, local: u32, out: &mut Vec<u32>) -> Result<()> {
        let code = self.set_code(local)?;
        let undecodable = || self.damaged("a shingle set does not decode");
        match codec::parse(code).ok_or_else(undecodable)? {
            codec::Code::Whole([]) => {
                out.clear();
                Ok(())
            }
            codec::Code::Whole(code) => codec::decode_set(code, out).ok_or_else(undecodable),
            codec::Code::Delta { back, len, body } => {
                let reference = u64::from(local)
                    .checked_sub(back)
                    .filter(|_| back > 0)
                    .ok_or_else(|| self.damaged("a shingle set refers to no earlier set"))?;
                let mut whole = Vec::new();
                match codec::parse(self.set_code(reference as u32)?) {
                    Some(codec::Code::Whole(code)) if !code.is_empty() => {
                        codec::decode_set(code, &mut whole).ok_or_else(undecodable)?;
                    }
                    _ => {
                        return Err(
                            self.damaged("a shingle set refers to a set that is not stored whole")
                        )
                    }
                }
                codec::apply_delta(body, len, &whole, out).ok_or_else(undecodable)
            }
        }
    }

    /// The size of a holder's exact set, without decoding it.
    pub(super) fn set_len(&self, local: u32) -> Result<usize> {
        let code = self.set_code(local)?;
        if code.is_empty() {
            return Ok(0);
        }
        codec::set_len(code).ok_or_else(|| self.damaged("a shingle set does not decode"))
    }

    /// Holders whose set has fingerprint `fp`, pushed to `out`.
    pub(super) fn holders_with_fingerprint(&self, fp: u64, out: &mut Vec<u32>) -> Result<()> {
        let len = self.table[Sec::FpHashes as usize].len() / 8;
        let mut at = self.lower_bound(Sec::FpHashes, len, fp)?;
        while at < len && self.u64(Sec::FpHashes, at)? == fp {
            out.push(self.u32(Sec::FpLocals, at)?);
            at += 1;
        }
        Ok(())
    }

    /// Every document's (seq, holder seq), in local order, read as two whole columns.
    pub(super) fn seqs_and_holders(&self) -> Result<impl Iterator<Item = (u64, u64)> + '_> {
        let seqs = self.raw(Sec::Seqs, 0, self.docs * 8)?;
        let holders = self.raw(Sec::Holders, 0, self.docs * 8)?;
        let word = |b: &[u8]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(b);
            u64::from_le_bytes(w)
        };
        Ok(seqs
            .chunks_exact(8)
            .zip(holders.chunks_exact(8))
            .map(move |(s, h)| (word(s), word(h))))
    }

    /// Calls `each(local, target seq)` for every link, in local order.
    pub(super) fn for_each_link(&self, mut each: impl FnMut(u32, u64) -> Result<()>) -> Result<()> {
        let ends = self.raw(Sec::LinkEnds, 0, self.docs * 4)?;
        let total = self.table[Sec::LinkTargets as usize].len() / 8;
        let targets = self.raw(Sec::LinkTargets, 0, total * 8)?;
        let mut start = 0usize;
        for (local, end) in ends.chunks_exact(4).enumerate() {
            let end = u32::from_le_bytes([end[0], end[1], end[2], end[3]]) as usize;
            if end < start || end > total {
                return Err(self.damaged("offsets out of order or out of range"));
            }
            for t in targets[start * 8..end * 8].chunks_exact(8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(t);
                each(local as u32, u64::from_le_bytes(w))?;
            }
            start = end;
        }
        Ok(())
    }

    /// Calls `each(id hash, local)` for every document, then `each_fp(fingerprint,
    /// local)` for every holder with shingles: the lookup tables, read in one pass each.
    pub(super) fn for_each_key(
        &self,
        mut each_id: impl FnMut(u64, u32),
        mut each_fp: impl FnMut(u64, u32),
    ) -> Result<()> {
        for (hashes, locals, each) in [
            (
                Sec::IdHashes,
                Sec::IdLocals,
                &mut each_id as &mut dyn FnMut(u64, u32),
            ),
            (Sec::FpHashes, Sec::FpLocals, &mut each_fp),
        ] {
            let n = self.table[locals as usize].len() / 4;
            let h = self.raw(hashes, 0, n * 8)?;
            let l = self.raw(locals, 0, n * 4)?;
            for (h, l) in h.chunks_exact(8).zip(l.chunks_exact(4)) {
                let local = u32::from_le_bytes([l[0], l[1], l[2], l[3]]);
                let mut w = [0u8; 8];
                w.copy_from_slice(h);
                each(u64::from_le_bytes(w), self.check_local(local)? as u32);
            }
        }
        Ok(())
    }

    /// The document's links: (seq, Jaccard), pushed to `out`.
    pub(super) fn links(&self, local: u32, out: &mut Vec<(u64, f32)>) -> Result<()> {
        let local = self.check_local(local)?;
        let total = self.table[Sec::LinkTargets as usize].len() / 8;
        let span = self.span(Sec::LinkEnds, false, local, total)?;
        for i in span {
            let to = self.u64(Sec::LinkTargets, i)?;
            let j = f32::from_bits(self.u32(Sec::LinkJaccard, i)?);
            out.push((to, j));
        }
        Ok(())
    }

    /// For each band `b`, the holders with band key `keys[b]` (at most `cap` of them,
    /// those inserted last), pushed to `out` as (band, local). Keys are uniform within
    /// their prefix's range of entries, so the search starts where the key's value puts
    /// it. The entry at that guess is read for every band before any band is searched, so
    /// that those reads (one page each, scattered over the mapping) are independent and
    /// overlap instead of waiting for each other.
    pub(super) fn lookup_bands(
        &self,
        keys: &[u32],
        cap: usize,
        out: &mut Vec<(u32, u32)>,
    ) -> Result<()> {
        if self.keyed == 0 {
            return Ok(());
        }
        let mut places = Vec::with_capacity(keys.len().min(self.bands));
        for (band, &key) in keys.iter().enumerate().take(self.bands) {
            places.push(self.place_of(band, key)?);
        }
        // A loop of nothing but the loads, so the processor has all of them in flight at
        // once; the searches below read (and verify) the same lines again from cache.
        let touched = places
            .iter()
            .enumerate()
            .fold(0u8, |t, (band, &(lo, _, guess))| {
                let at = self.table[Sec::Bands as usize].start
                    + (band * self.keyed + lo + guess) * self.layout.width;
                t ^ self.bytes.get(at).copied().unwrap_or(0)
            });
        std::hint::black_box(touched);
        for (band, (&key, (lo, hi, guess))) in keys.iter().zip(places).enumerate() {
            let w = self.layout.width;
            let entries = self.raw(Sec::Bands, (band * self.keyed + lo) * w, (hi - lo) * w)?;
            out.extend(
                newest_entries(entries, self.layout, guess, key, cap)
                    .map(|local| (band as u32, local)),
            );
        }
        Ok(())
    }

    /// Where `key` is in `band`: its directory prefix's entries `lo..hi` and the
    /// interpolated guess of its place among them.
    fn place_of(&self, band: usize, key: u32) -> Result<(usize, usize, usize)> {
        let prefixes = (1usize << self.dir_bits) + 1;
        // The bits of a key below its prefix, and their count.
        let shift = 32 - self.dir_bits;
        let below = (1u64 << shift) - 1;
        let dir = band * prefixes + prefix_of(u64::from(key), self.dir_bits) as usize;
        let ends = self.raw(Sec::Directory, dir * 4, 8)?;
        let lo = u32::from_le_bytes([ends[0], ends[1], ends[2], ends[3]]) as usize;
        let hi = u32::from_le_bytes([ends[4], ends[5], ends[6], ends[7]]) as usize;
        if lo > hi || hi > self.keyed {
            return Err(self.damaged("a band directory is out of order"));
        }
        let guess = (((u64::from(key) & below) * (hi - lo) as u64) >> shift) as usize;
        Ok((lo, hi, guess))
    }

    /// [`Segment::lookup_bands`] for many documents in one band: `queries` holds (key,
    /// query number) in key order, and `out` receives (query number, local) for the
    /// newest `cap` entries of each key. In key order the band's directory and entries
    /// are read front to back, so neighbouring lookups share pages and their address
    /// translations, where one document's lookups land on a page of every band.
    pub(super) fn lookup_band_sorted(
        &self,
        band: usize,
        queries: &[(u32, u32)],
        cap: usize,
        out: &mut Vec<(u32, u32)>,
    ) -> Result<()> {
        if self.keyed == 0 || band >= self.bands {
            return Ok(());
        }
        // Each query's prefix's entries and its guessed place among them.
        let mut places: [(&[u8], usize); LOOKAHEAD] = [(&[], 0); LOOKAHEAD];
        for block in queries.chunks(LOOKAHEAD) {
            for (place, &(key, _)) in places.iter_mut().zip(block) {
                let (lo, hi, guess) = self.place_of(band, key)?;
                let w = self.layout.width;
                let entries = self.raw(Sec::Bands, (band * self.keyed + lo) * w, (hi - lo) * w)?;
                *place = (entries, guess);
            }
            // A loop of nothing but the block's loads, so they are all in flight at
            // once; the searches below read the same lines again from cache.
            let touched = places[..block.len()]
                .iter()
                .fold(0u8, |t, &(entries, guess)| {
                    t ^ entries.get(guess * self.layout.width).copied().unwrap_or(0)
                });
            std::hint::black_box(touched);
            for (&(entries, guess), &(key, query)) in places.iter().zip(block) {
                out.extend(
                    newest_entries(entries, self.layout, guess, key, cap)
                        .map(|local| (query, local)),
                );
            }
        }
        Ok(())
    }

    /// The document's story terms.
    pub(super) fn terms(&self, local: u32) -> Result<Box<[(u64, f32)]>> {
        let local = self.check_local(local)?;
        if !self.stories_kept {
            return Ok(Box::new([]));
        }
        let total = self.table[Sec::TermIds as usize].len() / 8;
        let span = self.span(Sec::TermEnds, true, local, total)?;
        span.map(|i| {
            Ok((
                self.u64(Sec::TermIds, i)?,
                f32::from_bits(self.u32(Sec::TermWeights, i)?),
            ))
        })
        .collect()
    }

    /// The document's headline, as much of it as was kept (None: it had none, or its
    /// segment is of a format before headlines or of an index without stories).
    pub(super) fn headline(&self, local: u32) -> Result<Option<&str>> {
        let local = self.check_local(local)?;
        if self.table[Sec::HeadlineEnds as usize].is_empty() {
            return Ok(None);
        }
        let within = self.table[Sec::HeadlineBytes as usize].len();
        let span = self.span(Sec::HeadlineEnds, false, local, within)?;
        let bytes = self.raw(Sec::HeadlineBytes, span.start, span.len())?;
        let headline =
            std::str::from_utf8(bytes).map_err(|_| self.damaged("a headline is not UTF-8"))?;
        Ok((!headline.is_empty()).then_some(headline))
    }

    /// Seq of the first document of the document's story.
    pub(super) fn story(&self, local: u32) -> Result<u64> {
        if !self.stories_kept {
            return self.seq(local);
        }
        self.u64(Sec::Stories, self.check_local(local)?)
    }

    /// Reads and checks everything: every block's checksum, the order of every sorted
    /// array, every set, and every band entry (each keyed holder once per band, under its
    /// prefix). What `index check` runs; opening checks only the header.
    pub(super) fn verify(&self) -> Result<()> {
        for block in 0..(self.checksums_at - self.data_start).div_ceil(BLOCK) {
            self.verify_block(block)?;
        }
        let mut previous = None;
        let mut set = Vec::new();
        let mut links = Vec::new();
        for local in 0..self.docs as u32 {
            let seq = self.seq(local)?;
            if previous.is_some_and(|p| seq <= p) {
                return Err(self.damaged("seqs out of order"));
            }
            previous = Some(seq);
            self.id(local)?;
            self.headline(local)?;
            self.set(local, &mut set)?;
            links.clear();
            self.links(local, &mut links)?;
            self.terms(local)?;
        }
        for (hashes, locals) in [
            (Sec::IdHashes, Sec::IdLocals),
            (Sec::FpHashes, Sec::FpLocals),
        ] {
            let len = self.table[locals as usize].len() / 4;
            let mut last = 0;
            for i in 0..len {
                let h = self.u64(hashes, i)?;
                if h < last {
                    return Err(self.damaged("a lookup table is out of order"));
                }
                last = h;
                self.check_local(self.u32(locals, i)?)?;
            }
        }
        for local in 0..self.docs as u32 {
            let id = self.id(local)?;
            if self.local_of_id(id)? != Some(local) {
                return Err(self.damaged("the id table does not find every id"));
            }
        }
        for band in 0..self.bands {
            let mut seen = vec![false; self.docs];
            let mut last = None;
            self.for_each_band_entry(band, |key, local| {
                let local = self.check_local(local)?;
                let entry = (key, local);
                if last.is_some_and(|l| entry < l) || std::mem::replace(&mut seen[local], true) {
                    return Err(self.damaged("a band array is out of order or repeats a document"));
                }
                last = Some(entry);
                Ok(())
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc<'a>(seq: u64, id: &'a str, set: &'a [u32], keys: &'a [u32]) -> SegmentDoc<'a> {
        SegmentDoc {
            seq,
            id,
            published: Some(seq as i64 * 10),
            holder: seq,
            set: Some(set),
            sketch: &[7, 7],
            fingerprint: crate::record::set_fingerprint(set),
            reference: None,
            keys: Some(keys),
            links: &[],
            terms: &[],
            story: seq,
            headline: "",
        }
    }

    /// The headline [`sample`] gives document `i`: none for every third, a long Arabic
    /// line (past [`MAX_HEADLINE_BYTES`], two bytes a letter) for every fifth.
    fn sample_headline(i: usize) -> String {
        match i {
            _ if i.is_multiple_of(3) => String::new(),
            _ if i.is_multiple_of(5) => format!("{i} {}", "عنوان طويل ".repeat(30)),
            _ => format!("Headline of document {i}"),
        }
    }

    fn sample(n: u64) -> Vec<u8> {
        let mut b = SegmentBuilder::new(2, 2, true, None);
        let sets: Vec<Vec<u32>> = (0..n).map(|i| vec![i as u32, 1000 + i as u32]).collect();
        let keys: Vec<[u32; 2]> = (0..n).map(|i| [(i % 7) as u32 * 0x1000_0000, 5]).collect();
        let ids: Vec<String> = (0..n).map(|i| format!("doc-{i}")).collect();
        let headlines: Vec<String> = (0..n as usize)
            .map(|i| kept_headline(&sample_headline(i)).into_owned())
            .collect();
        for i in 0..n as usize {
            let mut d = doc(i as u64 * 3, &ids[i], &sets[i], &keys[i]);
            d.headline = &headlines[i];
            b.push(d).expect("push");
        }
        let mut out = Vec::new();
        b.write(&mut out).expect("write");
        out
    }

    /// Sections spilled to temporary files come back byte for byte, and the files are
    /// gone once the segment is written.
    #[test]
    fn spilled_sections_write_the_same_segment() {
        let dir = std::env::temp_dir().join(format!("storyhash-spill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let build = |b: SegmentBuilder, spills: bool| {
            let mut b = b;
            let sets: Vec<Vec<u32>> = (0..500u32).map(|i| (i..i + 40).collect()).collect();
            let ids: Vec<String> = (0..500).map(|i| format!("doc-{i}")).collect();
            let terms: Vec<(u64, f32)> = (0..30).map(|t| (t, 0.5)).collect();
            // Keys out of order, some shared, so each band's array needs its sort.
            let keys: Vec<[u32; 2]> = (0..500u32)
                .map(|i| [((i * 7919) % 211) << 24, 500 - i / 3])
                .collect();
            for i in 0..500 {
                let mut d = doc(i as u64, &ids[i], &sets[i], &keys[i]);
                d.terms = &terms;
                b.push(d).expect("push");
            }
            assert_eq!(b.set_bytes.file.is_some(), spills);
            assert_eq!(b.term_ids.file.is_some(), spills);
            assert!(b.band_entries.iter().all(|e| e.file.is_some() == spills));
            let mut out = Vec::new();
            b.write(&mut out).expect("write");
            out
        };
        let in_memory = build(SegmentBuilder::new(2, 2, true, None), false);
        let spilled = build(
            SegmentBuilder::new(2, 2, true, Some(&dir)).spilling_at(1000),
            true,
        );
        assert_eq!(in_memory, spilled);
        assert!(Segment::from_vec(Path::new("s"), spilled, 2, 2).is_ok());
        let left: Vec<_> = std::fs::read_dir(&dir).expect("list").collect();
        assert!(left.is_empty(), "{left:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn entries_read_back_from_chunks_split_anywhere() {
        let entries: Vec<u64> = (0..100u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let bytes: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
        for step in [1, 3, 7, 8, 9, 13, 800, 801] {
            let mut reader = EntryReader::with_bytes(bytes.len() as u64);
            for chunk in bytes.chunks(step) {
                reader.push(chunk);
            }
            let read = reader.finish().expect("whole entries");
            assert_eq!(read, entries, "chunks of {step}");
        }
        let mut cut = EntryReader::with_bytes(12);
        cut.push(&bytes[..12]);
        assert!(cut.finish().is_err());
    }

    #[test]
    fn documents_read_back() {
        let seg = Segment::from_vec(Path::new("s"), sample(300), 2, 2).expect("opens");
        seg.verify().expect("verifies");
        assert_eq!(seg.docs(), 300);
        assert_eq!(seg.id(7).expect("id"), "doc-7");
        assert_eq!(seg.local_of_id("doc-299").expect("lookup"), Some(299));
        assert_eq!(seg.local_of_id("nope").expect("lookup"), None);
        assert_eq!(seg.local_of_seq(21).expect("seq"), Some(7));
        assert_eq!(seg.local_of_seq(22).expect("seq"), None);
        assert_eq!(seg.published(4).expect("time"), Some(120));
        assert_eq!(seg.headline(3).expect("headline"), None);
        assert_eq!(
            seg.headline(7).expect("headline"),
            Some("Headline of document 7")
        );
        let long = seg.headline(10).expect("headline").expect("kept");
        assert!(long.len() > MAX_HEADLINE_BYTES / 2 && long.len() <= MAX_HEADLINE_BYTES);
        let kept = long.strip_suffix('…').expect("marked as cut");
        let whole = sample_headline(10);
        assert!(whole.starts_with(kept), "{kept:?}");
        assert_eq!(
            whole[kept.len()..].chars().next(),
            Some(' '),
            "cut at a space"
        );
        let mut set = Vec::new();
        seg.set(5, &mut set).expect("set");
        assert_eq!(set, [5, 1005]);
        let mut found = Vec::new();
        seg.lookup_bands(&[3 * 0x1000_0000, 5], 4, &mut found)
            .expect("lookup");
        let want: Vec<(u32, u32)> = (0..300)
            .filter(|i| i % 7 == 3)
            .map(|i| (0, i))
            .skip(39)
            .chain((296..300).map(|i| (1, i)))
            .collect();
        assert_eq!(found, want, "the newest of each band under a cap");
        found.clear();
        seg.lookup_bands(&[3 * 0x1000_0000], usize::MAX, &mut found)
            .expect("lookup");
        assert_eq!(found.len(), 43);
        let mut fp = Vec::new();
        seg.holders_with_fingerprint(crate::record::set_fingerprint(&[9, 1009]), &mut fp)
            .expect("fp");
        assert_eq!(fp, [9]);
    }

    #[test]
    fn the_search_from_a_guess_finds_what_binary_search_finds() {
        let values: Vec<u32> = [0u32, 1, 1, 1, 4, 9, 9, 12, 20, 20, 20, 20, 21, 30].to_vec();
        for n in 0..=values.len() {
            for key in 0..32 {
                let want = partition_point(n, |i| values[i] < key);
                for guess in 0..n + 3 {
                    let got = partition_point_near(n, guess, |i| values[i] < key);
                    assert_eq!(got, want, "n {n} key {key} guess {guess}");
                }
            }
        }
    }

    /// Random keys over a directory of several bits, a crowded key among them: every
    /// lookup finds exactly the documents holding the key (or the newest `cap`).
    #[test]
    fn lookups_interpolate_to_every_holder_of_a_key() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state = crate::minhash::fmix64(state.wrapping_add(0x9E37_79B9_7F4A_7C15));
            state as u32
        };
        let n = 6000usize;
        let keys: Vec<[u32; 2]> = (0..n)
            .map(|i| [next(), if i % 3 == 0 { 77 } else { next() % 500 }])
            .collect();
        let sets: Vec<Vec<u32>> = (0..n as u32).map(|i| vec![i]).collect();
        let ids: Vec<String> = (0..n).map(|i| format!("doc-{i}")).collect();
        let mut b = SegmentBuilder::new(2, 2, true, None);
        for i in 0..n {
            b.push(doc(i as u64, &ids[i], &sets[i], &keys[i]))
                .expect("push");
        }
        let mut bytes = Vec::new();
        b.write(&mut bytes).expect("write");
        let seg = Segment::from_vec(Path::new("s"), bytes, 2, 2).expect("opens");
        assert!(seg.dir_bits >= 6, "a directory of several bits");
        for probe in (0..n)
            .step_by(7)
            .map(|i| keys[i])
            .chain([[0, 0], [u32::MAX, 499]])
        {
            for cap in [3, usize::MAX] {
                let mut found = Vec::new();
                seg.lookup_bands(&probe, cap, &mut found).expect("lookup");
                let mut want = Vec::new();
                for band in 0..2 {
                    let holders: Vec<u32> = (0..n as u32)
                        .filter(|&i| keys[i as usize][band] == probe[band])
                        .collect();
                    let skip = holders.len().saturating_sub(cap);
                    want.extend(holders[skip..].iter().map(|&i| (band as u32, i)));
                }
                assert_eq!(found, want, "keys {probe:?}, cap {cap}");
            }
        }
    }

    #[test]
    fn packed_entries_keep_key_and_local() {
        // A million documents under a 13-bit directory: 19 key bits and 20 local bits.
        let layout = EntryLayout::packed(1_000_000, 13);
        assert_eq!((layout.width, layout.local_bits), (5, 20));
        assert_eq!(EntryLayout::packed(1, 0).width, 5);
        assert_eq!(EntryLayout::packed(1 << 32, 0).width, 8);
        let mut bytes = Vec::new();
        let entries = [(0u32, 0u32), (0x1234_5678, 999_999), (u32::MAX, 524_288)];
        for &(key, local) in &entries {
            bytes.extend_from_slice(&layout.encode(key, local).to_le_bytes()[..5]);
        }
        for (i, &(key, local)) in entries.iter().enumerate() {
            let e = layout.load(&bytes, i);
            assert_eq!(layout.key(e, prefix_of(u64::from(key), 13)), key);
            assert_eq!(layout.local(e), local);
        }
    }

    /// A near copy's set stored against an earlier whole set reads back as itself; a
    /// set cannot be stored against one that is a delta itself.
    #[test]
    fn near_copies_are_stored_as_deltas_and_read_back() {
        let original: Vec<u32> = (0..400u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect();
        let mut original = original;
        original.sort_unstable();
        let mut near = original.clone();
        near.retain(|v| v % 17 != 0);
        near.extend([5, 7, 11]);
        near.sort_unstable();
        near.dedup();
        let keys = [1u32, 2];
        let ids = ["a", "b", "c"];
        let mut b = SegmentBuilder::new(2, 2, false, None);
        b.push(doc(10, ids[0], &original, &keys)).expect("push");
        let mut d = doc(11, ids[1], &near, &keys);
        d.reference = Some((10, &original));
        b.push(d).expect("push");
        let mut d = doc(12, ids[2], &near, &keys);
        d.reference = Some((11, &near));
        assert!(b.push(d).is_err(), "a delta is no reference");
        let mut d = doc(12, ids[2], &near, &keys);
        d.reference = Some((10, &near));
        assert!(b.push(d).is_err(), "a reference must be the set stored");
        let mut bytes = Vec::new();
        b.write(&mut bytes).expect("write");
        let seg = Segment::from_vec(Path::new("s"), bytes, 2, 2).expect("opens");
        seg.verify().expect("verifies");
        let mut set = Vec::new();
        seg.set(1, &mut set).expect("set");
        assert_eq!(set, near);
        assert_eq!(seg.set_len(1).expect("len"), near.len());
        let (whole, delta) = (
            seg.set_code(0).expect("code"),
            seg.set_code(1).expect("code"),
        );
        assert!(
            delta.len() * 4 < whole.len(),
            "{} against {}",
            delta.len(),
            whole.len()
        );
    }

    #[test]
    fn a_flipped_byte_is_found_when_its_block_is_read() {
        let good = sample(5000);
        assert!(good.len() > 2 * BLOCK, "spans several blocks");
        for at in [
            table_end(SECTIONS) + 10,
            good.len() / 2,
            good.len() - FOOTER_LEN - 9,
        ] {
            let mut bad = good.clone();
            bad[at] ^= 1;
            let verdict = Segment::from_vec(Path::new("s"), bad, 2, 2).and_then(|s| s.verify());
            assert!(verdict.is_err(), "byte {at} flipped unnoticed");
        }
        for len in [0, 8, table_end(SECTIONS), good.len() / 2, good.len() - 1] {
            assert!(Segment::from_vec(Path::new("s"), good[..len].to_vec(), 2, 2).is_err());
        }
    }
}
