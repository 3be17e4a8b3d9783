//! Stage 5: locality-sensitive hashing by banding. The k signature values are cut into
//! b bands of r rows; two documents become a candidate pair when all r values of at least
//! one band agree. For a pair of similarity s that happens with probability
//! P(s) = 1 − (1 − s^r)^b, an S-curve whose steep part sits near (1/b)^(1/r).
//!
//! (b, r) come from the target threshold t: over all b·r ≤ k, minimise
//! w_fp·∫₀ᵗ P(s) ds + w_fn·∫ₜ¹ (1 − P(s)) ds, the weighted areas of false positives
//! (pairs below t proposed anyway) and false negatives (pairs above t never proposed), as
//! in Leskovec, Rajaraman and Ullman, *Mining of Massive Datasets* §3.4, and datasketch's
//! `_optimal_param`. Candidates are verified exactly later, so a false positive costs one
//! set comparison while a false negative is a lost match: presets weight false negatives
//! more (see `pipeline`).
//!
//! The index is flat: per band, a vector of (band key, row) sorted by key, holding only
//! the keys that occur more than once; equal keys form buckets. Each pair is proposed by
//! the first band whose bucket surely proposes it, so pairs are not collected once per
//! band. Never does I/O.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::doc::DocIndex;
use crate::error::{Error, Result};
use crate::minhash::SignatureMatrix;

/// Buckets larger than this are not expanded into all their pairs: each member is paired
/// with the bucket's first few members (pivots) only, as many as keep the bucket's pairs
/// near `MAX_BUCKET_PIVOTS²` and never fewer than [`MIN_BUCKET_PIVOTS`]. A million
/// identical documents then make about 4 million candidate pairs instead of 5·10^11;
/// clusters stay connected through the pivots. The number of such buckets is reported.
pub const MAX_BUCKET_PIVOTS: usize = 128;

/// The fewest pivots an oversized bucket keeps.
pub const MIN_BUCKET_PIVOTS: usize = 4;

/// The longest signature accepted. A signature's Jaccard estimate has a standard
/// deviation of at most 0.5/√k: 1.6% at 1,024, finer than any threshold is chosen, while
/// signing time, index size (4 bytes per value and document) and the band search grow
/// with k.
pub const MAX_NUM_PERM: usize = 1024;

/// Bands whose sorted (key, row) vectors are built at once: bounds that memory (8 bytes
/// per repeated key per band) while giving each thread several bands.
const BANDS_PER_CHUNK: usize = 8;

/// How many pivots a bucket of `size` members keeps.
fn pivots_for(size: usize) -> usize {
    if size <= MAX_BUCKET_PIVOTS {
        size
    } else {
        (MAX_BUCKET_PIVOTS * MAX_BUCKET_PIVOTS / size).clamp(MIN_BUCKET_PIVOTS, MAX_BUCKET_PIVOTS)
    }
}

/// Banding parameters and the curve they give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LshParams {
    /// Number of bands b.
    pub bands: usize,
    /// Rows per band r.
    pub rows: usize,
}

impl LshParams {
    /// The (b, r) with b·r ≤ `num_perm` minimising the weighted error areas at
    /// `threshold`, given the weight of false negatives (`fn_weight`, in [0, 1]; false
    /// positives get 1 − fn_weight).
    pub fn optimal(threshold: f64, num_perm: usize, fn_weight: f64) -> Result<LshParams> {
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(Error::InvalidParams(format!(
                "threshold must be in (0, 1], got {threshold}"
            )));
        }
        if !(0.0..=1.0).contains(&fn_weight) {
            return Err(Error::InvalidParams(format!(
                "false-negative weight must be in [0, 1], got {fn_weight}"
            )));
        }
        if num_perm == 0 || num_perm > MAX_NUM_PERM {
            return Err(Error::InvalidParams(format!(
                "num_perm must be 1 to {MAX_NUM_PERM}, got {num_perm}"
            )));
        }
        // Error areas of every (b, r), by the midpoint rule over [0, t] and [t, 1]. For
        // each r, (1 − s^r)^b is carried from b to b + 1 by one multiplication per
        // point, and s^r from r to r + 1 likewise: the search costs one multiply-add per
        // point and candidate, where `powi` calls per point took a few milliseconds of
        // every run at k = 128 (1% of a dedup of 22,600 articles).
        let (below, below_step) = midpoints(0.0, threshold);
        let (above, above_step) = midpoints(threshold, 1.0);
        // s^r at each point, for the r being evaluated.
        let mut power_below = vec![1.0; below.len()];
        let mut power_above = vec![1.0; above.len()];
        // Errors by r, then by b − 1.
        let errors_by_rows: Vec<Vec<f64>> = (1..=num_perm)
            .map(|rows| {
                let miss = |power: &mut [f64], points: &[f64]| -> Vec<f64> {
                    power
                        .iter_mut()
                        .zip(points)
                        .map(|(p, s)| {
                            *p *= s;
                            1.0 - *p
                        })
                        .collect()
                };
                let miss_below = miss(&mut power_below, &below);
                let miss_above = miss(&mut power_above, &above);
                // P(not a candidate) at each point with the current band count.
                let mut apart_below = vec![1.0; below.len()];
                let mut apart_above = vec![1.0; above.len()];
                (1..=num_perm / rows)
                    .map(|_bands| {
                        let mut false_pos = 0.0;
                        for (apart, miss) in apart_below.iter_mut().zip(&miss_below) {
                            *apart *= miss;
                            false_pos += 1.0 - *apart;
                        }
                        let mut false_neg = 0.0;
                        for (apart, miss) in apart_above.iter_mut().zip(&miss_above) {
                            *apart *= miss;
                            false_neg += *apart;
                        }
                        (1.0 - fn_weight) * false_pos * below_step
                            + fn_weight * false_neg * above_step
                    })
                    .collect()
            })
            .collect();
        let error_of = |params: LshParams| errors_by_rows[params.rows - 1][params.bands - 1];
        let mut best: Option<(f64, LshParams)> = None;
        for bands in 1..=num_perm {
            for rows in 1..=num_perm / bands {
                let params = LshParams { bands, rows };
                let error = error_of(params);
                // Strictly smaller only: ties keep the first (fewest bands), so the choice is
                // deterministic.
                if best.is_none_or(|(e, _)| error < e) {
                    best = Some((error, params));
                }
            }
        }
        Ok(best.expect("num_perm ≥ 1 gives at least one candidate").1)
    }

    /// P(candidate | similarity s) = 1 − (1 − s^r)^b.
    pub fn probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// Signature values used (b·r ≤ k).
    pub fn used_perm(&self) -> usize {
        self.bands.saturating_mul(self.rows)
    }
}

impl std::str::FromStr for LshParams {
    type Err = String;

    /// `BANDSxROWS`, such as `32x4`, each 1 to [`MAX_NUM_PERM`]; whether the signature is
    /// long enough for them is [`crate::Params::check`]'s to say.
    fn from_str(s: &str) -> std::result::Result<LshParams, String> {
        let (b, r) = s
            .split_once(['x', 'X'])
            .ok_or_else(|| format!("expected BANDSxROWS such as 32x4, got {s:?}"))?;
        let number = |v: &str| {
            v.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_NUM_PERM).contains(n))
                .ok_or_else(|| format!("{v:?} is not a whole number from 1 to {MAX_NUM_PERM}"))
        };
        Ok(LshParams {
            bands: number(b)?,
            rows: number(r)?,
        })
    }
}

/// The points of the midpoint rule with 1,000 steps over [from, to], and the step: the
/// integrands are smooth, and the optimiser only compares areas, so 1e-6 accuracy is
/// ample.
fn midpoints(from: f64, to: f64) -> (Vec<f64>, f64) {
    const STEPS: usize = 1000;
    let step = (to - from) / STEPS as f64;
    let points = (0..STEPS).map(|i| from + (i as f64 + 0.5) * step).collect();
    (points, step)
}

/// Candidate pairs and what producing them took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Pairs (a, b) with a < b, sorted, unique.
    pub pairs: Vec<(DocIndex, DocIndex)>,
    /// Buckets larger than [`MAX_BUCKET_PIVOTS`] that were expanded through pivots only.
    pub oversized_buckets: usize,
}

/// Proposes candidate pairs among the documents `docs` (rows of `signatures`).
pub fn candidate_pairs(
    signatures: &SignatureMatrix,
    docs: &[DocIndex],
    params: LshParams,
) -> Candidates {
    let mut keys = BandKeys::new(params.bands);
    let mut row = Vec::with_capacity(params.bands);
    for &doc in docs {
        band_keys_into(signatures.row(doc as usize), params, &mut row);
        keys.push(doc, &row);
    }
    keys.candidate_pairs()
}

/// The band keys of one signature: for band j, a 32-bit hash of its r values, seeded by
/// j so that equal values in different bands never share a bucket. 32 bits suffice:
/// unrelated documents that collide in a band only become a candidate pair, which exact
/// verification then rejects.
pub fn band_keys_into(signature: &[u32], params: LshParams, out: &mut Vec<u32>) {
    out.clear();
    out.resize(params.bands, 0);
    band_keys_to(signature, params, out);
}

/// [`band_keys_into`] written into `out`, which holds one slot per band.
pub fn band_keys_to(signature: &[u32], params: LshParams, out: &mut [u32]) {
    for (band, key) in out.iter_mut().enumerate().take(params.bands) {
        let values = &signature[band * params.rows..(band + 1) * params.rows];
        *key = band_key(values, band) as u32;
    }
}

/// Band keys of many documents, stored flat (one row of b keys per document), from
/// which candidate pairs are found band by band: 4·b bytes per document.
#[derive(Debug, Clone, Default)]
pub(crate) struct BandKeys {
    bands: usize,
    docs: Vec<DocIndex>,
    keys: Vec<u32>,
}

impl BandKeys {
    /// An empty set of rows of `bands` keys.
    pub fn new(bands: usize) -> Self {
        BandKeys {
            bands,
            docs: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// Keys per document.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// Bytes the rows pushed so far take.
    pub fn bytes(&self) -> usize {
        4 * (self.docs.len() + self.keys.len())
    }

    /// Makes room for `documents` more rows at once, if memory allows (else rows are
    /// added as before, the tables growing as they fill).
    pub fn reserve(&mut self, documents: usize) {
        let _ = self.docs.try_reserve(documents);
        let _ = self.keys.try_reserve(documents.saturating_mul(self.bands));
    }

    /// The documents pushed, each with its keys, in the order they were pushed.
    pub fn rows(&self) -> impl Iterator<Item = (DocIndex, &[u32])> {
        self.docs
            .iter()
            .copied()
            .zip(self.keys.chunks_exact(self.bands.max(1)))
    }

    /// Adds document `doc` with its keys (one per band).
    pub fn push(&mut self, doc: DocIndex, keys: &[u32]) {
        debug_assert_eq!(keys.len(), self.bands);
        self.docs.push(doc);
        self.keys.extend_from_slice(keys);
    }

    /// [`BandKeys::candidate_pairs_ranked`] with documents ranked by position: an
    /// oversized bucket's pivots are its earliest documents.
    pub fn candidate_pairs(&self) -> Candidates {
        self.candidate_pairs_ranked(u64::from)
    }

    /// Candidate pairs: per band (in parallel), the keys seen more than once
    /// (`KeyFilter`) packed with their row's rank into a u64, sorted, and cut into
    /// buckets of equal keys. A near-duplicate pair shares a bucket in many bands (most
    /// of the 42 at J = 0.9); it is proposed by the first of them only, so every pair is
    /// proposed exactly once and pairs are never collected per band and then
    /// deduplicated.
    ///
    /// `rank` orders the documents (ties by position): an oversized bucket's pivots are
    /// its lowest-ranked members. Ranked by something that travels with a document (its
    /// id, see [`id_rank`]), the candidates do not depend on the input's order.
    pub fn candidate_pairs_ranked(&self, rank: impl Fn(DocIndex) -> u64 + Sync) -> Candidates {
        let bands = self.bands;
        let rows = self.docs.len();
        // Rows renumbered by rank: within a bucket, rows sort by rank, so its first rows
        // (the pivots) are its lowest-ranked documents.
        let (rank_of_row, row_of_rank) = {
            let mut order: Vec<(u64, u32)> = self
                .docs
                .par_iter()
                .enumerate()
                .map(|(row, &doc)| (rank(doc), row as u32))
                .collect();
            order.par_sort_unstable();
            let mut rank_of_row = vec![0u32; rows];
            for (position, &(_, row)) in order.iter().enumerate() {
                rank_of_row[row as usize] = position as u32;
            }
            let row_of_rank: Vec<u32> = order.iter().map(|&(_, row)| row).collect();
            (rank_of_row, row_of_rank)
        };
        let row = |ranked: usize| row_of_rank[ranked] as usize;
        let mut pairs: Vec<(DocIndex, DocIndex)> = Vec::new();
        // Per band, its buckets expanded through pivots, by key: sharing such a bucket
        // proposed a pair only if its first row was a pivot there.
        let mut oversized: Vec<Vec<PivotBucket>> = Vec::with_capacity(bands);
        let all_bands: Vec<usize> = (0..bands).collect();
        for chunk in all_bands.chunks(BANDS_PER_CHUNK) {
            let keyed: Vec<Vec<u64>> = chunk
                .par_iter()
                .map_init(
                    || (KeyFilter::new(rows), Vec::with_capacity(rows), Vec::new()),
                    |(filter, column, selected), &band| {
                        // The band's keys gathered once: a strided pass over the rows
                        // fetches a cache line per key, too dear to make twice.
                        column.clear();
                        column.extend(self.keys.iter().skip(band).step_by(bands));
                        filter.clear();
                        column.iter().for_each(|&key| filter.insert(key));
                        // Every entry is written and the end moves on only for a key
                        // seen again: a quarter of keys are, at random, and a branch on
                        // each mispredicted often enough to cost more than the stores.
                        selected.resize(column.len(), 0);
                        let mut kept = 0;
                        for (&key, &ranked) in column.iter().zip(&rank_of_row) {
                            selected[kept] = u64::from(key) << 32 | u64::from(ranked);
                            kept += usize::from(filter.seen_again(key));
                        }
                        let mut keyed = selected[..kept].to_vec();
                        keyed.sort_unstable();
                        keyed
                    },
                )
                .collect();
            for band in &keyed {
                oversized.push(
                    band.chunk_by(|x, y| x >> 32 == y >> 32)
                        .filter(|bucket| bucket.len() > MAX_BUCKET_PIVOTS)
                        .map(|bucket| PivotBucket {
                            key: (bucket[0] >> 32) as u32,
                            pivots: bucket[..pivots_for(bucket.len())]
                                .iter()
                                .map(|&k| k as u32)
                                .collect(),
                        })
                        .collect(),
                );
            }
            let row_keys =
                |ranked: usize| &self.keys[row(ranked) * bands..(row(ranked) + 1) * bands];
            // Whether an earlier band proposed (a, b), ranks a < b: they share a bucket
            // there that is either fully expanded or has a among its pivots (pivots are
            // the lowest ranks of a bucket, so if b is one, a is too).
            let proposed_earlier = |band: usize, a: usize, b: usize| {
                let (keys_a, keys_b) = (&row_keys(a)[..band], &row_keys(b)[..band]);
                keys_a
                    .iter()
                    .zip(keys_b)
                    .zip(&oversized)
                    .any(|((x, y), buckets)| {
                        x == y
                            && match buckets.binary_search_by_key(x, |bucket| bucket.key) {
                                Err(_) => true,
                                Ok(i) => buckets[i].pivots.binary_search(&(a as u32)).is_ok(),
                            }
                    })
            };
            let found: Vec<(DocIndex, DocIndex)> = chunk
                .par_iter()
                .zip(&keyed)
                .flat_map_iter(|(&band, keyed)| {
                    let mut found = Vec::new();
                    for_each_pair_in_buckets(keyed, |a, b| {
                        if !proposed_earlier(band, a, b) {
                            let (x, y) = (self.docs[row(a)], self.docs[row(b)]);
                            found.push((x.min(y), x.max(y)));
                        }
                    });
                    found
                })
                .collect();
            pairs.extend(found);
        }
        pairs.par_sort_unstable();
        Candidates {
            pairs,
            oversized_buckets: oversized.iter().map(Vec::len).sum(),
        }
    }
}

/// The rank candidate generation gives a document by its id (oversized buckets keep their
/// lowest-ranked members as pivots): a hash, so that pivots are a fair sample of a
/// bucket, and the same whatever the input order.
/// Two ids with one 64-bit hash (about one pair in 10^7 runs of a million documents)
/// fall back to their positions.
pub fn id_rank(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// The ranks of `n` documents by id ([`id_rank`]), a group of exact copies (`(copy,
/// first)` pairs, only the first banded) ranked by its lowest id: which copy came first
/// must not change the candidates either.
pub(crate) fn id_ranks<'a>(
    n: usize,
    id_of: impl Fn(usize) -> &'a str + Sync,
    copies: impl IntoIterator<Item = (DocIndex, DocIndex)>,
) -> Vec<u64> {
    let mut ranks: Vec<u64> = (0..n).into_par_iter().map(|d| id_rank(id_of(d))).collect();
    for (copy, first) in copies {
        ranks[first as usize] = ranks[first as usize].min(ranks[copy as usize]);
    }
    ranks
}

/// A bucket of one band expanded through pivots: its key and its pivot ranks, sorted.
#[derive(Debug)]
struct PivotBucket {
    key: u32,
    pivots: Vec<u32>,
}

/// Which band keys may be shared, found in two passes over a band's keys instead of
/// sorting them all: most keys of a corpus are unique to their document and form no
/// bucket. Keys index about 8 two-bit slots per key by their top bits (band keys are
/// hashes, so their top bits are uniform): the first pass marks a slot seen, or seen
/// again if it already was; the second keeps the keys whose slot was seen again. A key
/// in a real bucket is always kept; a unique key is kept too when another key shares its
/// slot (at most about 1 in 8: the slot count rounds up to a power of two), and then
/// sorts alone into a bucket of one, which makes no pair. On the corpus benchmark's
/// 78,000 articles this sorts a quarter of each band's keys: the 20% in real buckets and
/// 6% of the rest.
#[derive(Debug)]
struct KeyFilter {
    /// Two bits per slot, side by side so that a key touches one word: bit 2i says slot
    /// i was seen, bit 2i + 1 that it was seen again.
    slots: Vec<u64>,
    shift: u32,
}

impl KeyFilter {
    fn new(keys: usize) -> Self {
        // 2^bits slots, at least 8 per key: 6 to 32 bits, so the shift is below 32.
        let bits = (keys.max(8) * 8)
            .next_power_of_two()
            .trailing_zeros()
            .min(32);
        KeyFilter {
            slots: vec![0; (1usize << bits).div_ceil(32)],
            shift: 32 - bits,
        }
    }

    fn clear(&mut self) {
        self.slots.fill(0);
    }

    /// The word holding `key`'s slot, and the position of its "seen" bit.
    fn slot(&self, key: u32) -> (usize, u32) {
        let slot = (key >> self.shift) as usize;
        (slot / 32, 2 * (slot % 32) as u32)
    }

    fn insert(&mut self, key: u32) {
        let (word, bit) = self.slot(key);
        let w = self.slots[word];
        self.slots[word] = w | 1 << bit | (w >> bit & 1) << (bit + 1);
    }

    fn seen_again(&self, key: u32) -> bool {
        let (word, bit) = self.slot(key);
        self.slots[word] >> (bit + 1) & 1 != 0
    }
}

/// Bands of at most this many rows are keyed by [`short_band_key`].
const SHORT_BAND_ROWS: usize = 4;

fn band_key(values: &[u32], band: usize) -> u64 {
    if values.len() <= SHORT_BAND_ROWS {
        return short_band_key(values, band);
    }
    // The bytes hashed are the values, little-endian, whatever the tier.
    let mut bytes = [0u8; 4 * 64];
    if values.len() <= 64 {
        for (slot, v) in bytes.chunks_exact_mut(4).zip(values) {
            slot.copy_from_slice(&v.to_le_bytes());
        }
        return xxh3_64_with_seed(&bytes[..4 * values.len()], band as u64);
    }
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    xxh3_64_with_seed(&bytes, band as u64)
}

/// The key of a band of up to four rows (the presets have 2 and 3): its values packed
/// into two 64-bit words, each xored with a secret (the first also with the band), and
/// the two halves of their 128-bit product xored together (wyhash's mix). One
/// multiplication per band where xxh3 took about five times as long; a dedup computes 42
/// keys per document. A word equal to its secret would zero the product, so every
/// band with that word would collide: 2^-64 for MinHash values.
fn short_band_key(values: &[u32], band: usize) -> u64 {
    const SECRET_LO: u64 = 0xA076_1D64_78BD_642F;
    const SECRET_HI: u64 = 0xE703_7ED1_A0B4_28DB;
    const BAND_STEP: u64 = 0x8EBC_6AF0_9C88_C6E3;
    // Up to two values, the first in the low half (written out: as an iterator fold
    // the compiler did not always flatten it, doubling the cost of band keys).
    let word = |pair: &[u32]| match *pair {
        [] => 0,
        [a] => u64::from(a),
        [a, b, ..] => u64::from(b) << 32 | u64::from(a),
    };
    let (lo, hi) = values.split_at(values.len().min(2));
    let a = word(lo) ^ SECRET_LO ^ (band as u64).wrapping_mul(BAND_STEP);
    let b = word(hi) ^ SECRET_HI ^ values.len() as u64;
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Calls `pair(a, b)` for the pairs of each run of equal keys in a sorted vector of
/// (key << 32 | row), a < b: every pair of a bucket of up to [`MAX_BUCKET_PIVOTS`]
/// members, and each pivot (the first [`pivots_for`] members) with every later member of
/// a larger one.
fn for_each_pair_in_buckets(keyed: &[u64], mut pair: impl FnMut(usize, usize)) {
    for bucket in keyed.chunk_by(|x, y| x >> 32 == y >> 32) {
        // Within a bucket, ranks are sorted (keys equal), so a < b.
        bucket_pairs(bucket.len(), |i, j| {
            pair(bucket[i] as u32 as usize, bucket[j] as u32 as usize)
        });
    }
}

/// Calls `pair(i, j)`, i < j, for the pairs a bucket of `len` members ranked in order
/// proposes: all of them up to [`MAX_BUCKET_PIVOTS`] members, and each pivot (the first
/// few members) with every later member beyond. The rule of every path, Spark's
/// included (the Python kernels call it on buckets grouped there).
pub fn bucket_pairs(len: usize, mut pair: impl FnMut(usize, usize)) {
    if len < 2 {
        return;
    }
    for i in 0..pivots_for(len) {
        for j in i + 1..len {
            pair(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::MinHasher;

    /// The weighted error area of `params`, straight from [`LshParams::probability`].
    fn error_by_direct_integration(params: LshParams, threshold: f64, fn_weight: f64) -> f64 {
        let integrate = |f: &dyn Fn(f64) -> f64, from: f64, to: f64| {
            let (points, step) = midpoints(from, to);
            points.iter().map(|&s| f(s)).sum::<f64>() * step
        };
        let false_pos = integrate(&|s| params.probability(s), 0.0, threshold);
        let false_neg = integrate(&|s| 1.0 - params.probability(s), threshold, 1.0);
        (1.0 - fn_weight) * false_pos + fn_weight * false_neg
    }

    #[test]
    fn optimal_params_minimise_the_directly_integrated_error() {
        // Up to rounding: where many choices leave an error below 1e-16 (all weight on
        // false negatives), which one wins is down to the last bit.
        for num_perm in [1, 2, 7, 64, 128, 256] {
            for threshold in [0.05, 0.2, 0.4, 0.5, 0.75, 0.9, 1.0] {
                for fn_weight in [0.0, 0.5, 0.9, 1.0] {
                    let chosen = LshParams::optimal(threshold, num_perm, fn_weight).expect("valid");
                    let chosen_error = error_by_direct_integration(chosen, threshold, fn_weight);
                    for bands in 1..=num_perm {
                        for rows in 1..=num_perm / bands {
                            let other = LshParams { bands, rows };
                            let error = error_by_direct_integration(other, threshold, fn_weight);
                            assert!(
                                chosen_error <= error + 1e-12,
                                "t = {threshold}, k = {num_perm}, weight = {fn_weight}: \
                                 {chosen:?} ({chosen_error}) against {other:?} ({error})"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn optimal_params_respect_budget_and_move_with_threshold() {
        for t in [0.2, 0.4, 0.6, 0.8] {
            let p = LshParams::optimal(t, 128, 0.5).expect("valid");
            assert!(p.used_perm() <= 128);
            // The curve's midpoint (1/b)^(1/r) lies near the threshold.
            let midpoint = (1.0 / p.bands as f64).powf(1.0 / p.rows as f64);
            assert!(
                (midpoint - t).abs() < 0.15,
                "t={t} {p:?} midpoint {midpoint}"
            );
        }
        let low = LshParams::optimal(0.3, 128, 0.5).expect("valid");
        let high = LshParams::optimal(0.8, 128, 0.5).expect("valid");
        assert!(low.rows < high.rows);
    }

    #[test]
    fn false_negative_weight_raises_recall_at_threshold() {
        let balanced = LshParams::optimal(0.4, 128, 0.5).expect("valid");
        let recall_first = LshParams::optimal(0.4, 128, 0.9).expect("valid");
        assert!(recall_first.probability(0.4) > balanced.probability(0.4));
    }

    #[test]
    fn invalid_params_are_errors() {
        assert!(LshParams::optimal(0.0, 128, 0.5).is_err());
        assert!(LshParams::optimal(1.5, 128, 0.5).is_err());
        assert!(LshParams::optimal(0.5, 0, 0.5).is_err());
        assert!(LshParams::optimal(0.5, 128, 2.0).is_err());
    }

    #[test]
    fn identical_documents_are_candidates_and_disjoint_ones_are_not() {
        let hasher = MinHasher::new(64, 1);
        let sets = vec![
            (0..100).collect::<Vec<u64>>(),
            (1000..1100).collect(),
            (0..100).collect(),
        ];
        let sigs = hasher.sign_all(&sets);
        let params = LshParams { bands: 16, rows: 4 };
        let found = candidate_pairs(&sigs, &[0, 1, 2], params);
        assert_eq!(found.pairs, [(0, 2)]);
        // Documents left out of `docs` are never proposed.
        assert!(candidate_pairs(&sigs, &[0, 1], params).pairs.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn each_pair_is_proposed_once_whatever_the_buckets(
            keys in proptest::collection::vec(
                proptest::prop_oneof![0u32..3, 0u32..60, proptest::num::u32::ANY],
                0..2400,
            ),
            bands in 1usize..12,
        ) {
            // Keys shared by hundreds of documents (buckets expanded through pivots),
            // by a few, or by none; more bands than one merge takes.
            let docs = keys.len() / bands;
            let mut band_keys = BandKeys::new(bands);
            for doc in 0..docs {
                band_keys.push(doc as DocIndex, &keys[doc * bands..(doc + 1) * bands]);
            }
            // The definition: every band's buckets over all its keys, pairs united.
            let (mut expected, mut oversized) = (Vec::new(), 0);
            for band in 0..bands {
                let mut keyed: Vec<u64> = (0..docs)
                    .map(|doc| u64::from(keys[doc * bands + band]) << 32 | doc as u64)
                    .collect();
                keyed.sort_unstable();
                oversized += keyed
                    .chunk_by(|x, y| x >> 32 == y >> 32)
                    .filter(|bucket| bucket.len() > MAX_BUCKET_PIVOTS)
                    .count();
                for_each_pair_in_buckets(&keyed, |a, b| {
                    expected.push((a as DocIndex, b as DocIndex))
                });
            }
            expected.sort_unstable();
            expected.dedup();
            let found = band_keys.candidate_pairs();
            proptest::prop_assert_eq!(found.pairs, expected);
            proptest::prop_assert_eq!(found.oversized_buckets, oversized);
        }
    }

    #[test]
    fn long_band_keys_hash_the_values_little_endian_in_every_tier() {
        // Keys are stored in index files: every buffer size must hash the same bytes.
        for rows in [5usize, 8, 9, 64, 65, 100] {
            let values: Vec<u32> = (0..rows as u32)
                .map(|v| v.wrapping_mul(0x9E37_79B9))
                .collect();
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            for band in [0usize, 5] {
                assert_eq!(
                    band_key(&values, band),
                    xxh3_64_with_seed(&bytes, band as u64),
                    "{rows} rows"
                );
            }
        }
    }

    #[test]
    fn short_band_keys_depend_on_every_value_and_the_band_and_spread_like_random() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u32
        };
        for rows in 1..=SHORT_BAND_ROWS {
            let mut seen = std::collections::HashSet::new();
            let mut collisions = 0;
            let samples = 100_000;
            for _ in 0..samples {
                let values: Vec<u32> = (0..rows).map(|_| next()).collect();
                let key = band_key(&values, 3) as u32;
                collisions += usize::from(!seen.insert(key));
                assert_ne!(band_key(&values, 3), band_key(&values, 4), "{values:?}");
                for i in 0..rows {
                    for bit in [0, 17, 31] {
                        let mut changed = values.clone();
                        changed[i] ^= 1 << bit;
                        assert_ne!(band_key(&changed, 3), band_key(&values, 3));
                    }
                }
            }
            // 10^5 random 32-bit keys share a value about 1.2 times; a key that lost
            // bits of its input would collide hundreds of times.
            assert!(collisions <= 10, "{rows} rows: {collisions} collisions");
        }
        // Sequential values (the low bits of nearby MinHash values) too.
        let keys: std::collections::HashSet<u32> = (0..100_000u32)
            .map(|v| band_key(&[v, v + 1, v + 2], 0) as u32)
            .collect();
        assert!(keys.len() >= 100_000 - 10, "{} distinct", keys.len());
    }

    #[test]
    fn key_filter_keeps_every_repeated_key() {
        for keys in [1usize, 7, 1000] {
            let mut filter = KeyFilter::new(keys);
            let values: Vec<u32> = (0..keys as u32)
                .map(|k| k.wrapping_mul(0x9e37_79b9))
                .collect();
            values.iter().for_each(|&k| filter.insert(k));
            // Nothing repeated yet: only slot sharing can flag a key.
            let flagged = values.iter().filter(|&&k| filter.seen_again(k)).count();
            assert!(flagged * 4 <= keys, "{flagged} of {keys} flagged");
            filter.insert(values[0]);
            assert!(filter.seen_again(values[0]));
            filter.clear();
            assert!(!filter.seen_again(values[0]));
        }
    }

    #[test]
    fn giant_buckets_expand_through_pivots() {
        let n = MAX_BUCKET_PIVOTS + 50;
        let mut keys = BandKeys::new(1);
        for doc in 0..n {
            keys.push(doc as DocIndex, &[7]);
        }
        let found = keys.candidate_pairs();
        assert_eq!(found.oversized_buckets, 1);
        let pairs = found.pairs;
        let p = pivots_for(n);
        assert!(p < n && p >= MIN_BUCKET_PIVOTS);
        // Pivot pairs among themselves plus every later member with every pivot.
        assert_eq!(pairs.len(), p * (p - 1) / 2 + p * (n - p));
        assert!(pairs.iter().all(|&(a, b)| a < b));
    }

    #[test]
    fn pivots_shrink_as_buckets_grow_so_pairs_stay_linear() {
        assert_eq!(pivots_for(10), 10);
        assert_eq!(pivots_for(MAX_BUCKET_PIVOTS), MAX_BUCKET_PIVOTS);
        assert_eq!(pivots_for(1_000_000), MIN_BUCKET_PIVOTS);
        for size in [129, 500, 5_000, 100_000, 1_000_000] {
            let pairs = pivots_for(size) * size;
            assert!(
                pairs
                    <= (MAX_BUCKET_PIVOTS * MAX_BUCKET_PIVOTS).max(MIN_BUCKET_PIVOTS * size) + size
            );
        }
    }

    #[test]
    fn identical_documents_in_every_band_are_one_pair_each() {
        let hasher = MinHasher::new(32, 1);
        let sets: Vec<Vec<u64>> = (0..300).map(|_| (0..50).collect()).collect();
        let sigs = hasher.sign_all(&sets);
        let docs: Vec<DocIndex> = (0..300).collect();
        let found = candidate_pairs(&sigs, &docs, LshParams { bands: 16, rows: 2 });
        assert_eq!(found.oversized_buckets, 16);
        let p = pivots_for(300);
        assert_eq!(found.pairs.len(), p * (p - 1) / 2 + p * (300 - p));
    }
}
