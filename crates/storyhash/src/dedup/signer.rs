//! The streaming path's per-document work as one value, [`DocSigner`]: what pass 1 keeps
//! of a text (band keys, signature low bytes, the exact-copy fingerprint), the set pass 2
//! verifies with, and the rules a candidate pair is judged by. `dedup` runs it per record;
//! the Python package's Arrow kernels run it per row inside Spark's `mapInArrow`, so a
//! corpus deduplicated on Spark gives the kept ids and clusters of `storyhash dedup`.

use super::*;

/// Per-document machinery of one parameter set.
#[derive(Debug, Clone)]
pub struct DocSigner {
    lsh: LshParams,
    analyzer: Analyzer,
    hasher: MinHasher,
    prefilter: Prefilter,
    threshold: f64,
}

/// What signing one text learns besides its keys and low bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedText {
    /// Shingles, repeats included (0: the text normalizes to nothing and is never a
    /// candidate).
    pub shingles: usize,
    /// A hash of the shingle hashes as a multiset (their sum, mixed with their count):
    /// exact copies of a text share it; different texts share it with probability
    /// 2^-64. Among documents with shingles, each later one with an earlier one's
    /// fingerprint is an exact copy of it.
    pub fingerprint: u64,
    /// Whether the b-bit prefilter may judge this document: its set is large enough for
    /// the sketch agreement to bound its Jaccard similarity.
    pub prefiltered: bool,
}

/// Buffers [`DocSigner`] reuses from text to text.
#[derive(Debug, Default)]
pub struct SignerScratch {
    analysis: Scratch,
    signature: Vec<u32>,
    sort: Vec<u32>,
}

impl DocSigner {
    /// The signer of `params` (refused as [`Params::lsh`] refuses them).
    pub fn new(params: &Params) -> Result<DocSigner> {
        Ok(DocSigner {
            lsh: params.lsh()?,
            analyzer: Analyzer::new(params),
            hasher: MinHasher::with_kind(params.sketch, params.num_perm, params.seed),
            prefilter: Prefilter::new(params.threshold, params.num_perm),
            threshold: params.threshold,
        })
    }

    /// The banding in use.
    pub fn lsh(&self) -> LshParams {
        self.lsh
    }

    /// Signature length k (bytes of a document's low bytes).
    pub fn num_perm(&self) -> usize {
        self.hasher.num_perm()
    }

    /// The analyzer in use.
    pub(super) fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Signs `text`: its band keys into `keys` (one per band) and the low byte of each
    /// signature value into `low_bytes` (k), both left as they are for a text without
    /// shingles. Returns what else pass 1 keeps, and the shingle hashes in text order.
    pub fn sign<'s>(
        &self,
        text: &str,
        scratch: &'s mut SignerScratch,
        keys: &mut [u32],
        low_bytes: &mut [u8],
    ) -> (SignedText, &'s [u64]) {
        let SignerScratch {
            analysis,
            signature,
            ..
        } = scratch;
        self.sign_into(text, analysis, signature, keys, low_bytes)
    }

    /// [`DocSigner::sign`] and [`DocSigner::exact_set`] of one text, analysed once.
    pub fn sign_with_set(
        &self,
        text: &str,
        scratch: &mut SignerScratch,
        keys: &mut [u32],
        low_bytes: &mut [u8],
    ) -> (SignedText, Vec<u32>) {
        let SignerScratch {
            analysis,
            signature,
            sort,
        } = scratch;
        let (signed, hashes) = self.sign_into(text, analysis, signature, keys, low_bytes);
        let mut set: Vec<u32> = hashes.iter().map(|&h| set_element(h)).collect();
        into_hash_set(&mut set, sort);
        (signed, set)
    }

    fn sign_into<'s>(
        &self,
        text: &str,
        analysis: &'s mut Scratch,
        signature: &mut Vec<u32>,
        keys: &mut [u32],
        low_bytes: &mut [u8],
    ) -> (SignedText, &'s [u64]) {
        signature.resize(self.num_perm(), 0);
        let mut sketch = self.hasher.sketch(signature);
        let hashes = self.analyzer.shingle_hashes(text, analysis);
        sketch.add_all(hashes);
        sketch.finish();
        let shingles = hashes.len();
        let sum = hashes.iter().fold(0u64, |s, &h| s.wrapping_add(h));
        if shingles > 0 {
            band_keys_to(signature, self.lsh, keys);
            for (byte, &value) in low_bytes.iter_mut().zip(signature.iter()) {
                *byte = value as u8;
            }
        }
        let signed = SignedText {
            shingles,
            fingerprint: fmix64(sum ^ (shingles as u64).rotate_left(32)),
            prefiltered: self.prefilter.covers(shingles),
        };
        (signed, hashes)
    }

    /// The exact shingle set of `text` as pass 2 builds it: sorted, distinct
    /// [`set_element`]s of its shingle hashes.
    pub fn exact_set(&self, text: &str, scratch: &mut SignerScratch) -> Vec<u32> {
        let hashes = self.analyzer.shingle_hashes(text, &mut scratch.analysis);
        let mut set: Vec<u32> = hashes.iter().map(|&h| set_element(h)).collect();
        into_hash_set(&mut set, &mut scratch.sort);
        set
    }

    /// Whether a candidate pair goes on to exact verification: the b-bit prefilter
    /// dismisses it only when both documents are covered and their low bytes agree
    /// in too few places.
    pub fn survives_prefilter(
        &self,
        prefiltered_a: bool,
        low_a: &[u8],
        prefiltered_b: bool,
        low_b: &[u8],
    ) -> bool {
        !(prefiltered_a && prefiltered_b) || self.prefilter.keeps(low_byte_agreement(low_a, low_b))
    }

    /// The exact Jaccard similarity of two sets when it reaches the threshold.
    pub fn verify(&self, set_a: &[u32], set_b: &[u32]) -> Option<f64> {
        let j = jaccard_u32(set_a, set_b);
        (j >= self.threshold).then_some(j)
    }
}
