//! The per-document core that every command shares: one [`Engine`] turns a document into
//! the [`DocRecord`] that `cluster`, `stories`, the index and the Python functions keep
//! (exact shingle set, MinHash signature, band keys, text length, publication time), and
//! judges a pair of records by one rule ([`Engine::similarity`]). `dedup` streams and
//! keeps less per document, but signs, bands and verifies through the same functions
//! (`Analyzer`, `MinHasher`, `band_keys_to`, `jaccard_u32`), and the cross-path suite
//! (`tests/it/paths.rs`) holds every path to the same clusters, kept ids and Jaccard
//! values.
//!
//! Exact copies: documents whose exact sets are equal (`ExactCopies`) are one text as
//! far as similarity goes. Only the first of them (the copy group's representative) is
//! banded and verified; each later one joins it with Jaccard 1. A wire story
//! republished 100,000 times then costs 100,000 links and one bucket entry per band,
//! not 5·10^9 pairs.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::doc::{DocIndex, Document};
use crate::error::Result;
use crate::lsh::{band_keys_into, LshParams};
use crate::minhash::{estimate_jaccard, MinHasher, Prefilter};
use crate::pipeline::{Analyzer, Params, Scratch};
use crate::shingle::{intersection_size_u32, into_hash_set, jaccard_from_counts, set_element};

/// What every path keeps of one document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocRecord {
    /// The exact shingle set: sorted, distinct low 32 bits of the shingle hashes
    /// ([`set_element`]). Empty for a text that normalizes to nothing.
    pub set: Box<[u32]>,
    /// The MinHash signature (k values).
    pub signature: Box<[u32]>,
    /// One LSH key per band; None for a document without shingles, which is never a
    /// candidate.
    pub keys: Option<Box<[u32]>>,
    /// A 64-bit hash of `set`: equal sets have equal fingerprints.
    pub fingerprint: u64,
    /// The text's length in bytes (what `--keep longest` compares).
    pub text_len: usize,
    /// Publication time in Unix seconds, when known.
    pub published: Option<i64>,
}

/// Buffers [`Engine::record`] reuses from document to document.
#[derive(Debug, Default)]
pub struct RecordBuffers {
    analysis: Scratch,
    /// The radix sort's second buffer.
    sort: Vec<u32>,
}

/// Analysis, signing, banding and verification for one parameter set.
#[derive(Debug, Clone)]
pub struct Engine {
    params: Params,
    lsh: LshParams,
    analyzer: Analyzer,
    hasher: MinHasher,
    prefilter: Prefilter,
}

impl Engine {
    /// The engine of `params`, refusing parameters that cannot work
    /// ([`Params::lsh`]).
    pub fn new(params: &Params) -> Result<Engine> {
        let lsh = params.lsh()?;
        Ok(Engine {
            lsh,
            analyzer: Analyzer::new(params),
            hasher: MinHasher::with_kind(params.sketch, params.num_perm, params.seed),
            prefilter: Prefilter::new(params.threshold, params.num_perm),
            params: params.clone(),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The banding in use.
    pub fn lsh(&self) -> LshParams {
        self.lsh
    }

    /// The analyzer in use.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// The record of a document with `text` published at `published`.
    pub fn record(
        &self,
        text: &str,
        published: Option<i64>,
        buffers: &mut RecordBuffers,
    ) -> DocRecord {
        let mut signature = vec![0u32; self.params.num_perm].into_boxed_slice();
        let hashes = self.analyzer.shingle_hashes(text, &mut buffers.analysis);
        let mut sketch = self.hasher.sketch(&mut signature);
        sketch.add_all(hashes);
        sketch.finish();
        let mut set: Vec<u32> = hashes.iter().map(|&h| set_element(h)).collect();
        into_hash_set(&mut set, &mut buffers.sort);
        let keys = (!set.is_empty()).then(|| {
            let mut keys = Vec::with_capacity(self.lsh.bands);
            band_keys_into(&signature, self.lsh, &mut keys);
            keys.into_boxed_slice()
        });
        DocRecord {
            fingerprint: set_fingerprint(&set),
            set: set.into_boxed_slice(),
            signature,
            keys,
            text_len: text.len(),
            published,
        }
    }

    /// The exact Jaccard similarity of two records when it reaches the threshold, else
    /// None. Pairs whose signatures say they are far below the threshold are dismissed
    /// without the exact comparison (the b-bit prefilter: a pair at the threshold is dismissed
    /// with probability below 10^-8).
    pub fn similarity(&self, a: &DocRecord, b: &DocRecord) -> Option<f64> {
        self.shared_if_similar(&a.set, &a.signature, &b.set, &b.signature)
            .map(|shared| jaccard_from_counts(shared, a.set.len(), b.set.len()))
    }

    /// Whether a pair whose signatures' low bytes are `sketch_a` and `sketch_b` (sets of
    /// `len_a` and `len_b` shingles) is still compared exactly: the b-bit prefilter of
    /// `dedup`, for callers that keep only those bytes (index segments).
    pub(crate) fn sketches_may_match(
        &self,
        len_a: usize,
        sketch_a: &[u8],
        len_b: usize,
        sketch_b: &[u8],
    ) -> bool {
        !(self.prefilter.covers(len_a) && self.prefilter.covers(len_b))
            || sketch_a.len() != sketch_b.len()
            || self
                .prefilter
                .keeps(crate::minhash::low_byte_agreement(sketch_a, sketch_b))
    }

    /// |A ∩ B| when the pair's exact Jaccard reaches the threshold (the prefilter first),
    /// for callers that also report containment.
    pub fn shared_if_similar(
        &self,
        set_a: &[u32],
        signature_a: &[u32],
        set_b: &[u32],
        signature_b: &[u32],
    ) -> Option<usize> {
        if self.prefilter.covers(set_a.len())
            && self.prefilter.covers(set_b.len())
            && !self
                .prefilter
                .keeps(estimate_jaccard(signature_a, signature_b))
        {
            return None;
        }
        let shared = intersection_size_u32(set_a, set_b);
        (jaccard_from_counts(shared, set_a.len(), set_b.len()) >= self.params.threshold)
            .then_some(shared)
    }
}

/// The low byte of each signature value: a k-byte sketch for the b-bit prefilter
/// ([`Engine::sketches_may_match`]).
pub(crate) fn sketch_of(signature: &[u32]) -> Box<[u8]> {
    signature.iter().map(|&v| v as u8).collect()
}

/// The fingerprint of an exact set ([`DocRecord::fingerprint`]).
pub fn set_fingerprint(set: &[u32]) -> u64 {
    // Two values per multiplication, folded as in wyhash; equal fingerprints are only a
    // hint: [`ExactCopies`] compares the sets themselves.
    const SEED: u64 = 0x5345_5446_5052_4e54; // "SETFPRNT"
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = SEED ^ set.len() as u64;
    for pair in set.chunks(2) {
        let word = u64::from(pair[0]) | u64::from(*pair.get(1).unwrap_or(&0)) << 32;
        let product = u128::from(h ^ word) * u128::from(K);
        h = (product as u64) ^ ((product >> 64) as u64);
    }
    h
}

/// Documents grouped by equal exact sets, in input order: the first document of each
/// group is its representative, and only it is banded and verified.
#[derive(Debug, Default)]
pub(crate) struct ExactCopies {
    /// Fingerprint → representatives with that fingerprint (more than one only when
    /// different sets share a 64-bit fingerprint).
    first_with: HashMap<u64, Vec<DocIndex>>,
}

impl ExactCopies {
    /// The representative whose set equals `set`, if one was added; otherwise `doc`
    /// becomes the representative of its set. `set_of` gives a stored document's set.
    pub fn representative<'s>(
        &mut self,
        doc: DocIndex,
        fingerprint: u64,
        set: &[u32],
        set_of: impl Fn(DocIndex) -> &'s [u32],
    ) -> Option<DocIndex> {
        let firsts = self.first_with.entry(fingerprint).or_default();
        match firsts.iter().find(|&&first| set_of(first) == set) {
            Some(&first) => Some(first),
            None => {
                firsts.push(doc);
                None
            }
        }
    }

    /// The representative whose set equals `set`, if one was added; nothing is added.
    pub fn find<'s>(
        &self,
        fingerprint: u64,
        set: &[u32],
        set_of: impl Fn(DocIndex) -> &'s [u32],
    ) -> Option<DocIndex> {
        let firsts = self.first_with.get(&fingerprint)?;
        firsts.iter().find(|&&first| set_of(first) == set).copied()
    }
}

/// Documents analysed per parallel chunk by [`records_of`]: copies found in a chunk
/// give back their sets before the next chunk is analysed.
const RECORD_CHUNK: usize = 4096;

/// The records of `docs` in input order, and for each the earlier document with an
/// equal exact set (None for the first of each set, and for documents without
/// shingles: a text that normalizes to nothing matches nothing). An exact copy keeps
/// only its text length and time: its set, signature and keys are its first
/// document's, so 100,000 copies of one article hold one set.
pub fn records_of(engine: &Engine, docs: &[Document]) -> (Vec<DocRecord>, Vec<Option<DocIndex>>) {
    let mut records: Vec<DocRecord> = Vec::with_capacity(docs.len());
    let mut copy_of = Vec::with_capacity(docs.len());
    let mut copies = ExactCopies::default();
    for chunk in docs.chunks(RECORD_CHUNK) {
        let analysed: Vec<DocRecord> = chunk
            .par_iter()
            .map_init(RecordBuffers::default, |buffers, d| {
                engine.record(&d.text, d.published_time(), buffers)
            })
            .collect();
        for mut record in analysed {
            let doc = records.len() as DocIndex;
            let first = if record.set.is_empty() {
                None
            } else {
                copies.representative(doc, record.fingerprint, &record.set, |d| {
                    &records[d as usize].set
                })
            };
            if first.is_some() {
                record.set = Box::new([]);
                record.signature = Box::new([]);
                record.keys = None;
            }
            copy_of.push(first);
            records.push(record);
        }
    }
    (records, copy_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Preset;

    #[test]
    fn records_of_one_text_are_equal_and_copies_point_at_the_first() {
        let engine = Engine::new(&Preset::Dup.params()).expect("valid preset");
        let text = "the minister arrived in moscow on monday for talks on energy";
        let other = "a different text about the port of rotterdam";
        let docs: Vec<Document> = [text, other, text, "", text, "   "]
            .iter()
            .enumerate()
            .map(|(i, t)| Document::new(i.to_string(), *t))
            .collect();
        let (records, copy_of) = records_of(&engine, &docs);
        assert_eq!(copy_of, [None, None, Some(0), None, Some(0), None]);
        assert_eq!(records[0].text_len, text.len());
        assert_eq!(records[2].text_len, text.len());
        assert!(records[3].keys.is_none() && records[3].set.is_empty());
        // A copy gives back its set; the first keeps it.
        assert!(records[2].set.is_empty() && !records[0].set.is_empty());
        let again = engine.record(text, None, &mut RecordBuffers::default());
        assert_eq!(again, records[0]);
        assert_eq!(engine.similarity(&records[0], &again), Some(1.0));
        assert_eq!(engine.similarity(&records[0], &records[1]), None);
    }

    #[test]
    fn sets_that_share_a_fingerprint_but_differ_are_not_copies() {
        let mut copies = ExactCopies::default();
        let sets: [&[u32]; 5] = [&[1, 2], &[3, 4], &[1, 2], &[1, 2], &[1, 2]];
        assert_eq!(
            copies.representative(0, 7, sets[0], |d| sets[d as usize]),
            None
        );
        assert_eq!(
            copies.representative(1, 7, sets[1], |d| sets[d as usize]),
            None
        );
        assert_eq!(
            copies.representative(2, 7, sets[2], |d| sets[d as usize]),
            Some(0)
        );
    }
}
