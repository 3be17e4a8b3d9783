//! The whole pipeline in one call: [`Params`] (usually from a [`Preset`]) and documents
//! in, a [`Clustering`] out. Owns the composition of the stages and the presets; the
//! stages themselves live in their modules.
//!
//! ## Presets and how their values were chosen
//!
//! **`dup`** (near-duplicates): word 5-grams, no stemming or stopword removal (copies
//! keep function words too, and they make 5-grams specific), threshold t = 0.4.
//! If each of two documents shares a fraction f of its shingles with the other (and the
//! rest is its own), J = f / (2 − f). So t = 0.4 accepts a copy when about 57% of its
//! 5-grams survive the republisher's edits (a 4% word-edit rate alone leaves
//! (1 − 0.04)^5 ≈ 82%), and merges two unrelated articles through shared publisher
//! boilerplate only when that boilerplate is over 57% of each. Copies that share
//! 0.45–0.7 of their 5-grams are found with margin for the banding curve, which is
//! chosen with false negatives weighted 0.9 (verification is exact, so extra candidates
//! only cost time): at k = 128 that gives 42 bands × 3 rows, P(candidate) ≈ 0.94 at
//! J = 0.4 and ≈ 0.98 at 0.45.
//!
//! **`story`** (rewrites of one story): word unigrams after stopword removal (Arabic and
//! English) and Lucene's Arabic light stemming, threshold t = 0.15. Independent rewrites
//! share names, places and key vocabulary but almost no phrases, so unigrams are the
//! only shingles that see them; once function words are gone, two unrelated articles in
//! one language share only topic-neutral vocabulary, typically well under a tenth of
//! their distinct terms, while rewrites of one event share their protagonists and
//! setting. t = 0.15 sits between the two. Banding weights false negatives 0.75 here,
//! not 0.9: at so low a threshold the 0.9 optimum is r = 1, which proposes 70% of pairs
//! at J = 0.05 (unrelated articles in one language); 0.75 gives 64 bands × 2 rows,
//! P(candidate) ≈ 0.77 at J = 0.15 and 0.15 at J = 0.05. Story clustering by shingle
//! overlap alone cannot tell "same event" from "same topic"; it is a coarse grouping.

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cluster::{connected_components, Cluster, DocFacts, KeepPolicy};
use crate::doc::{DocIndex, Document};
use crate::error::{Error, Result};
use crate::lsh::{BandKeys, LshParams, MAX_NUM_PERM};
use crate::minhash::SketchKind;
use crate::normalize::{normalize_into, normalize_into_within, OutputLetters};
use crate::record::{records_of, Engine};
use crate::shingle::{
    for_each_shingle, token_hash, token_hash_at, word_shingle_hashes_in_place, ShingleSpec,
    MAX_SHINGLE_SIZE, TOKEN_PADDING,
};
use crate::stopwords::Language;
use crate::tokenize::{three_byte_role, two_byte_letters, BeyondAscii, TokenOptions, Tokenizer};
use crate::verify::ScoredPair;

/// A named parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Near-duplicate copies (see the module docs).
    Dup,
    /// Rewrites of one story (see the module docs).
    Story,
}

impl Preset {
    /// The preset's parameters.
    pub fn params(self) -> Params {
        match self {
            Preset::Dup => Params {
                preset: Some(self),
                shingle: ShingleSpec::Word(5),
                tokens: TokenOptions::default(),
                threshold: 0.4,
                num_perm: 128,
                sketch: SketchKind::Oph,
                seed: DEFAULT_SEED,
                fn_weight: 0.9,
                bands: None,
                keep: KeepPolicy::First,
            },
            Preset::Story => Params {
                preset: Some(self),
                shingle: ShingleSpec::Word(1),
                tokens: TokenOptions {
                    stopwords: Language::ALL.to_vec(),
                    stem_arabic: true,
                },
                threshold: 0.15,
                num_perm: 128,
                sketch: SketchKind::Oph,
                seed: DEFAULT_SEED,
                fn_weight: 0.75,
                bands: None,
                keep: KeepPolicy::First,
            },
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Preset::Dup => "dup",
            Preset::Story => "story",
        })
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "dup" => Ok(Preset::Dup),
            "story" => Ok(Preset::Story),
            _ => Err(format!("preset must be dup or story, got {s:?}")),
        }
    }
}

/// The default MinHash seed (any fixed value; changing it changes signatures, not quality).
pub const DEFAULT_SEED: u64 = 42;

/// Everything that determines a run's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// The preset these values started from, if any.
    pub preset: Option<Preset>,
    /// How documents are cut into shingles.
    pub shingle: ShingleSpec,
    /// Token filters.
    pub tokens: TokenOptions,
    /// Exact-Jaccard threshold for a verified pair.
    pub threshold: f64,
    /// MinHash signature length k.
    pub num_perm: usize,
    /// MinHash scheme.
    pub sketch: SketchKind,
    /// MinHash seed.
    pub seed: u64,
    /// Weight of false negatives when choosing bands (see `lsh`).
    pub fn_weight: f64,
    /// Explicit bands × rows, overriding the optimiser.
    pub bands: Option<LshParams>,
    /// Which member represents a cluster.
    pub keep: KeepPolicy,
}

impl Default for Params {
    fn default() -> Self {
        Preset::Dup.params()
    }
}

impl Params {
    /// The banding this run uses: the explicit one, or the optimum for the threshold
    /// (after [`Params::check`]).
    pub fn lsh(&self) -> Result<LshParams> {
        self.check()?;
        match self.bands {
            Some(p) => Ok(p),
            None => LshParams::optimal(self.threshold, self.num_perm, self.fn_weight),
        }
    }

    /// Refuses parameters that cannot work, without choosing the banding (whose search
    /// costs a few milliseconds).
    pub fn check(&self) -> Result<()> {
        // Checked here too for parameters built in code rather than parsed: the rolling
        // word shingle hash gives each position of a window its own rotation, which
        // holds up to 64 positions.
        let (ShingleSpec::Word(n) | ShingleSpec::Char(n)) = self.shingle;
        if n == 0 || n > MAX_SHINGLE_SIZE {
            return Err(Error::InvalidParams(format!(
                "shingle size must be 1 to {MAX_SHINGLE_SIZE}, got {n}"
            )));
        }
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::InvalidParams(format!(
                "threshold must be in (0, 1], got {}",
                self.threshold
            )));
        }
        if self.num_perm == 0 || self.num_perm > MAX_NUM_PERM {
            return Err(Error::InvalidParams(format!(
                "num_perm must be 1 to {MAX_NUM_PERM}, got {}",
                self.num_perm
            )));
        }
        if !(0.0..=1.0).contains(&self.fn_weight) {
            return Err(Error::InvalidParams(format!(
                "false-negative weight must be in [0, 1], got {}",
                self.fn_weight
            )));
        }
        // Each language once: a list read from a damaged file could name one millions of
        // times, and building the stopword set would take minutes.
        let stopwords = &self.tokens.stopwords;
        if stopwords.len() > Language::ALL.len()
            || stopwords
                .iter()
                .enumerate()
                .any(|(i, l)| stopwords[..i].contains(l))
        {
            return Err(Error::InvalidParams(format!(
                "stopword languages must be distinct, got {} of them",
                stopwords.len()
            )));
        }
        match self.bands {
            Some(p) if p.bands == 0 || p.rows == 0 || p.used_perm() > self.num_perm => {
                Err(Error::InvalidParams(format!(
                    "{} bands × {} rows needs 1 to {} signature values",
                    p.bands, p.rows, self.num_perm
                )))
            }
            _ => Ok(()),
        }
    }
}

/// Values that replace a preset's, each when given: what the CLI's flags and the Python
/// functions' keyword arguments set. [`Params::with_overrides`] applies and checks them,
/// so every front end refuses the same parameters with the same message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Exact-Jaccard threshold.
    pub threshold: Option<f64>,
    /// Shingles.
    pub shingle: Option<ShingleSpec>,
    /// MinHash signature length.
    pub num_perm: Option<usize>,
    /// MinHash seed.
    pub seed: Option<u64>,
    /// Explicit bands × rows.
    pub bands: Option<LshParams>,
    /// Stopword languages.
    pub stopwords: Option<Vec<Language>>,
    /// Arabic light stemming.
    pub stem_arabic: Option<bool>,
    /// Which member represents a cluster.
    pub keep: Option<KeepPolicy>,
    /// MinHash scheme.
    pub sketch: Option<SketchKind>,
}

impl Params {
    /// `preset`'s parameters with `overrides` applied, checked as every run checks them
    /// ([`Params::lsh`]). The result names the preset only when none of the values that
    /// decide similarity (threshold, shingles, k, bands, stopwords, stemming) was changed:
    /// reports then say "preset dup" only when its values are the ones used.
    pub fn with_overrides(preset: Preset, overrides: &Overrides) -> Result<Params> {
        let mut params = preset.params();
        let o = overrides;
        let customised = o.threshold.is_some()
            || o.shingle.is_some()
            || o.num_perm.is_some()
            || o.bands.is_some()
            || o.stopwords.is_some()
            || o.stem_arabic.is_some();
        params.threshold = o.threshold.unwrap_or(params.threshold);
        params.shingle = o.shingle.unwrap_or(params.shingle);
        params.num_perm = o.num_perm.unwrap_or(params.num_perm);
        params.seed = o.seed.unwrap_or(params.seed);
        params.bands = o.bands.or(params.bands);
        if let Some(languages) = &o.stopwords {
            params.tokens.stopwords = languages.clone();
        }
        params.tokens.stem_arabic = o.stem_arabic.unwrap_or(params.tokens.stem_arabic);
        params.keep = o.keep.unwrap_or(params.keep);
        params.sketch = o.sketch.unwrap_or(params.sketch);
        if customised {
            params.preset = None;
        }
        params.check()?;
        Ok(params)
    }
}

/// Normalization, tokenization and shingling for one parameter set.
#[derive(Debug, Clone)]
pub struct Analyzer {
    tokenizer: Tokenizer,
    shingle: ShingleSpec,
}

impl Analyzer {
    /// Builds the analyzer of `params`.
    pub fn new(params: &Params) -> Self {
        Analyzer {
            tokenizer: Tokenizer::new(&params.tokens),
            shingle: params.shingle,
        }
    }

    /// The tokenizer in use.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The shingle spec in use.
    pub fn shingle_spec(&self) -> ShingleSpec {
        self.shingle
    }

    /// The sorted, deduplicated shingle hashes of raw `text`.
    ///
    /// A text with no word at all (only punctuation, symbols or emoji) gets one shingle:
    /// the hash of its whole normalized text, so it matches its exact copies and nothing
    /// else. Only a text that normalizes to nothing has no shingle.
    pub fn shingle_set(&self, text: &str) -> Vec<u64> {
        let mut set = Vec::new();
        self.for_each_shingle_hash(text, &mut Scratch::default(), |h| set.push(h));
        set.sort_unstable();
        set.dedup();
        set
    }

    /// Calls `emit` with every shingle hash of raw `text`, repeats included, reusing the
    /// buffers in `scratch`: no allocation per token or shingle once they have grown.
    pub fn for_each_shingle_hash(&self, text: &str, scratch: &mut Scratch, emit: impl FnMut(u64)) {
        self.shingle_hashes(text, scratch)
            .iter()
            .copied()
            .for_each(emit);
    }

    /// Every shingle hash of raw `text` in text order, repeats included, in a buffer of
    /// `scratch` (no allocation per token or shingle once its buffers have grown).
    ///
    /// A slice rather than a callback lets each consumer run its own tight loop over it
    /// (signing, copying, summing): one loop doing all of them kept its state in memory
    /// and re-checked each consumer's settings per shingle.
    pub fn shingle_hashes<'s>(&self, text: &str, scratch: &'s mut Scratch) -> &'s [u64] {
        let Scratch { normalized, hashes } = scratch;
        hashes.clear();
        match self.shingle {
            ShingleSpec::Word(n) => {
                let beyond_ascii = normalize_for_words(text, normalized);
                // Zero padding after the text lets short tokens be hashed in place
                // (`token_hash_at` reads whole words past a token's end).
                let text_len = normalized.len();
                normalized.extend(std::iter::repeat_n('\0', TOKEN_PADDING));
                let buffer = normalized.as_bytes();
                let base = buffer.as_ptr() as usize;
                let body = &normalized[..text_len];
                // Checked once here if the normalizer could not tell, for both tokenizer
                // calls below.
                let beyond_ascii = beyond_ascii.of(body);
                let as_spans =
                    self.tokenizer
                        .try_for_each_span(body, beyond_ascii, |start, end| {
                            hashes.push(token_hash_at(buffer, start, end - start));
                        });
                if !as_spans {
                    let hash_token = |t: &str| {
                        // Tokens are sub-slices of the text (stems included).
                        let start = (t.as_ptr() as usize).wrapping_sub(base);
                        hashes.push(if start < text_len {
                            token_hash_at(buffer, start, t.len())
                        } else {
                            token_hash(t)
                        });
                    };
                    self.tokenizer
                        .for_each_token_knowing(body, beyond_ascii, hash_token);
                }
                if hashes.is_empty() {
                    normalize_into(text, normalized);
                    if !normalized.is_empty() {
                        hashes.push(whole_text_shingle(normalized));
                    }
                } else {
                    // The token hashes become the shingle hashes.
                    word_shingle_hashes_in_place(hashes, n);
                }
            }
            ShingleSpec::Char(_) => {
                normalize_into(text, normalized);
                let tokens = self.tokenizer.tokens(normalized);
                if tokens.is_empty() && !normalized.is_empty() {
                    hashes.push(whole_text_shingle(normalized));
                } else {
                    for_each_shingle(&tokens, self.shingle, |h, _| hashes.push(h));
                }
            }
        }
        hashes
    }
}

/// Normalizes `text` into `normalized` as far as word segmentation needs, and says what
/// the tokenizer may assume of its characters beyond ASCII. The words (and terms) of the
/// result are those of [`crate::normalize::normalize`]'s (property-tested below).
pub(crate) fn normalize_for_words(text: &str, normalized: &mut String) -> BeyondAscii {
    if text.is_ascii() {
        // Words of ASCII text are the same whether or not whitespace was folded first
        // (every run of spaces and controls is a boundary either way; property-tested),
        // so lowercasing a copy is enough.
        normalized.clear();
        normalized.push_str(text);
        normalized.make_ascii_lowercase();
        return BeyondAscii::Nothing;
    }
    match normalize_into_within(text, normalized, two_byte_letters(), three_byte_role) {
        Some(OutputLetters { in_set: true, .. }) => BeyondAscii::TwoByteLetters,
        Some(OutputLetters {
            letters: Some(true),
            ..
        }) => BeyondAscii::Letters,
        Some(OutputLetters {
            letters: Some(false),
            ..
        }) => BeyondAscii::Other,
        _ => BeyondAscii::Unknown,
    }
}

/// Calls `emit(word, term, term text)` for each term of raw `text` under `tokenizer`
/// (the words and terms of its normalized form, left in `normalized`), the word and the
/// term as their byte ranges in `normalized`.
pub(crate) fn for_each_term_of(
    tokenizer: &Tokenizer,
    text: &str,
    normalized: &mut String,
    mut emit: impl FnMut(std::ops::Range<usize>, std::ops::Range<usize>, &str),
) {
    let beyond_ascii = normalize_for_words(text, normalized);
    let base = normalized.as_ptr() as usize;
    // Words, and the terms made from them (stems are sub-slices), are slices of the
    // normalized text.
    let range = |s: &str| {
        let start = (s.as_ptr() as usize).wrapping_sub(base);
        start..start + s.len()
    };
    tokenizer.for_each_term_knowing(normalized, beyond_ascii, |word, term| {
        emit(range(word), range(term), term)
    });
}

/// Reusable buffers for [`Analyzer::shingle_hashes`].
#[derive(Debug, Default)]
pub struct Scratch {
    normalized: String,
    /// Token hashes, then the shingle hashes rolled over them.
    hashes: Vec<u64>,
}

/// The single shingle of a text without words (seeded apart from n-gram hashes).
fn whole_text_shingle(normalized: &str) -> u64 {
    const WHOLE_TEXT_SEED: u64 = 0x5748_4f4c_4554_5854; // "WHOLETXT"
    xxhash_rust::xxh3::xxh3_64_with_seed(normalized.as_bytes(), WHOLE_TEXT_SEED)
}

/// Counts describing a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunStats {
    /// Documents clustered.
    pub documents: usize,
    /// Documents whose text normalizes to nothing (only whitespace or invisible marks):
    /// never candidates, each its own cluster.
    pub featureless_documents: usize,
    /// Distinct candidate pairs from the LSH index (exact copies are never candidates:
    /// they join the first document with their set).
    pub candidate_pairs: usize,
    /// Pairs at or above the threshold: verified candidates, and each exact copy with the
    /// first document with its set.
    pub verified_pairs: usize,
    /// LSH buckets expanded through pivots only (see `lsh::MAX_BUCKET_PIVOTS`).
    pub oversized_buckets: usize,
    /// Clusters, singletons included.
    pub clusters: usize,
    /// Clusters with two or more members.
    pub multi_member_clusters: usize,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Clustering {
    /// The parameters used.
    pub params: Params,
    /// The banding used.
    pub lsh: LshParams,
    /// Each document's exact shingle set ([`DocRecord::set`](crate::record::DocRecord)),
    /// by input position; empty for an exact copy, whose set is its first document's
    /// ([`Clustering::set`]).
    pub sets: Vec<Box<[u32]>>,
    /// For each document, the earlier document with an equal exact set (an exact copy's
    /// first), if any.
    pub copy_of: Vec<Option<DocIndex>>,
    /// Verified pairs, sorted by (a, b).
    pub pairs: Vec<ScoredPair>,
    /// Clusters, largest first.
    pub clusters: Vec<Cluster>,
    /// Counts.
    pub stats: RunStats,
}

impl Clustering {
    /// The kept document of each document ([`crate::cluster::kept_of`]).
    pub fn kept_of(&self) -> Vec<DocIndex> {
        crate::cluster::kept_of(self.sets.len(), &self.clusters)
    }

    /// The exact set of a document of the run (an exact copy's is its first document's).
    pub fn set(&self, doc: DocIndex) -> &[u32] {
        let owner = self.copy_of[doc as usize].unwrap_or(doc);
        &self.sets[owner as usize]
    }

    /// The exact Jaccard similarity of two documents of the run.
    pub fn similarity(&self, a: DocIndex, b: DocIndex) -> f64 {
        let first = |d: DocIndex| self.copy_of[d as usize].unwrap_or(d);
        if first(a) == first(b) && !self.set(a).is_empty() {
            return 1.0;
        }
        crate::shingle::jaccard_u32(self.set(a), self.set(b))
    }

    /// Each cluster as the ids of its members (input order within a cluster, clusters
    /// largest first), given the documents the clustering was run on.
    pub fn member_ids<'a>(&self, docs: &'a [Document]) -> Vec<Vec<&'a str>> {
        self.clusters
            .iter()
            .map(|c| {
                c.members
                    .iter()
                    .map(|&m| docs[m as usize].id.as_str())
                    .collect()
            })
            .collect()
    }
}

/// Runs the pipeline over `docs` on the current rayon pool. The result does not depend on
/// the pool's thread count.
///
/// Every document becomes a [`DocRecord`](crate::record::DocRecord) through the shared
/// [`Engine`]; exact copies join the first document with their set (Jaccard 1) and only
/// those first documents are banded and verified, so a text repeated thousands of times
/// costs links in proportion to its copies.
pub fn run(docs: &[Document], params: &Params) -> Result<Clustering> {
    let engine = Engine::new(params)?;
    if docs.len() > DocIndex::MAX as usize {
        return Err(Error::InvalidParams(format!(
            "at most {} documents per run, got {}",
            DocIndex::MAX,
            docs.len()
        )));
    }
    let (records, copy_of) = records_of(&engine, docs);
    let lsh = engine.lsh();
    let mut keys = BandKeys::new(lsh.bands);
    let mut featureless = 0;
    for (doc, record) in (0..).zip(&records) {
        match (copy_of[doc as usize], &record.keys) {
            // An exact copy joins its first document below.
            (Some(_), _) => {}
            (None, Some(keys_of_doc)) => keys.push(doc, keys_of_doc),
            (None, None) => featureless += 1,
        }
    }
    // Pivots by id, so that the clusters do not depend on the input's order.
    let ranks = crate::lsh::id_ranks(
        docs.len(),
        |d| &docs[d].id,
        copy_of
            .iter()
            .zip(0..)
            .filter_map(|(&first, copy)| Some((copy, first?))),
    );
    let candidates = keys.candidate_pairs_ranked(|doc| ranks[doc as usize]);
    drop((keys, ranks));
    let mut pairs: Vec<ScoredPair> = candidates
        .pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let jaccard = engine.similarity(&records[a as usize], &records[b as usize])?;
            Some(ScoredPair { a, b, jaccard })
        })
        .collect();
    let copies = copy_of
        .iter()
        .zip(0..)
        .filter_map(|(&first, doc)| Some(ScoredPair::copy(first?, doc)));
    pairs.extend(copies);
    pairs.par_sort_unstable_by_key(|p| (p.a, p.b));
    let facts = DocFacts::of_records(&records);
    let clusters = connected_components(docs.len(), &pairs, &facts, params.keep);
    let stats = RunStats {
        documents: docs.len(),
        featureless_documents: featureless,
        candidate_pairs: candidates.pairs.len(),
        verified_pairs: pairs.len(),
        oversized_buckets: candidates.oversized_buckets,
        clusters: clusters.len(),
        multi_member_clusters: clusters.iter().filter(|c| c.members.len() > 1).count(),
    };
    Ok(Clustering {
        params: params.clone(),
        lsh,
        sets: records.into_iter().map(|r| r.set).collect(),
        copy_of,
        pairs,
        clusters,
        stats,
    })
}

/// One threshold of a [`sweep`]: what clustering at it gives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRow {
    /// The exact-Jaccard threshold.
    pub threshold: f64,
    /// Verified pairs at or above it.
    pub verified_pairs: usize,
    /// Clusters of two or more documents.
    pub multi_member_clusters: usize,
    /// Documents in such clusters.
    pub clustered_documents: usize,
    /// The largest cluster's size.
    pub largest_cluster: usize,
}

/// Clusters `docs` at each of `thresholds` from one run: candidates are banded and
/// verified once at the lowest threshold, and each row keeps the verified pairs at or
/// above its own. A higher threshold's row can therefore hold pairs that its own banding
/// would have missed (recall is that of the lowest threshold's banding, which is never
/// lower), so a row can differ slightly from a separate run at that threshold.
pub fn sweep(docs: &[Document], params: &Params, thresholds: &[f64]) -> Result<Vec<SweepRow>> {
    let Some(lowest) = thresholds.iter().copied().reduce(f64::min) else {
        return Ok(Vec::new());
    };
    let base = run(
        docs,
        &Params {
            threshold: lowest,
            ..params.clone()
        },
    )?;
    let facts = DocFacts::default();
    let mut rows: Vec<SweepRow> = thresholds
        .iter()
        .map(|&threshold| {
            let pairs: Vec<ScoredPair> = base
                .pairs
                .iter()
                .filter(|p| p.jaccard >= threshold)
                .copied()
                .collect();
            let clusters = connected_components(docs.len(), &pairs, &facts, KeepPolicy::First);
            let multi: Vec<&Cluster> = clusters.iter().filter(|c| c.members.len() > 1).collect();
            SweepRow {
                threshold,
                verified_pairs: pairs.len(),
                multi_member_clusters: multi.len(),
                clustered_documents: multi.iter().map(|c| c.members.len()).sum(),
                largest_cluster: clusters.first().map_or(0, |c| c.members.len()),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.threshold.total_cmp(&b.threshold));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shingles of `text` as the general path makes them: normalize, tokenize into
    /// words, shingle the words.
    fn general_shingles(analyzer: &Analyzer, params: &Params, text: &str) -> Vec<u64> {
        let normalized = crate::normalize::normalize(text);
        let tokens = analyzer.tokenizer().tokens(&normalized);
        if tokens.is_empty() && !normalized.is_empty() {
            return vec![whole_text_shingle(&normalized)];
        }
        crate::shingle::shingle_set(&tokens, params.shingle)
    }

    #[test]
    fn shingle_sizes_beyond_the_limit_are_refused_in_code_as_on_the_command_line() {
        for shingle in [
            ShingleSpec::Word(0),
            ShingleSpec::Word(MAX_SHINGLE_SIZE + 1),
            ShingleSpec::Char(100),
        ] {
            let params = Params {
                shingle,
                ..Params::default()
            };
            let err = params.lsh().expect_err("refused");
            let expected = format!("shingle size must be 1 to {MAX_SHINGLE_SIZE}");
            assert!(err.to_string().contains(&expected), "{err}");
        }
        let params = Params {
            shingle: ShingleSpec::Word(MAX_SHINGLE_SIZE),
            ..Params::default()
        };
        assert!(params.lsh().is_ok());
    }

    proptest::proptest! {
        /// Beyond ASCII: two-byte letters (which the dup preset segments as byte ranges)
        /// mixed with characters that send the text down the general segmenter (a
        /// combining mark, a Hebrew letter, the middle dot, CJK, an emoji).
        #[test]
        fn span_path_gives_the_general_shingles(
            text in proptest::prop_oneof![
                "[a-zA-Z0-9 .:,;'_\\-!?\n\t\u{0}éàçœßÉДжЁΣςάԱաابتةپ\u{301}א·中😀]{0,80}",
                // Arabic words with the prefixes and suffixes a light stemmer strips.
                "((وال|ال|بال)?[كتبلمنسر]{3,5}(ها|ات|ين|ة)?[ .]){1,12}",
            ]
        ) {
            let stemming_only = Params {
                tokens: TokenOptions {
                    stopwords: Vec::new(),
                    stem_arabic: true,
                },
                ..Preset::Dup.params()
            };
            for params in [Preset::Dup.params(), Preset::Story.params(), stemming_only] {
                let analyzer = Analyzer::new(&params);
                proptest::prop_assert_eq!(
                    analyzer.shingle_set(&text),
                    general_shingles(&analyzer, &params, &text)
                );
            }
        }

        #[test]
        fn ascii_fast_path_gives_the_general_shingles(
            text in "[a-zA-Z0-9 .:,;'_\\-!?\\n\\t\\r\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{7f}]{0,60}"
        ) {
            for params in [Preset::Dup.params(), Preset::Story.params()] {
                let analyzer = Analyzer::new(&params);
                proptest::prop_assert_eq!(
                    analyzer.shingle_set(&text),
                    general_shingles(&analyzer, &params, &text)
                );
            }
        }
    }

    #[test]
    fn dup_preset_banding_matches_its_documentation() {
        let lsh = Preset::Dup.params().lsh().expect("valid preset");
        assert_eq!((lsh.bands, lsh.rows), (42, 3));
        assert!(lsh.probability(0.4) > 0.93);
        assert!(lsh.probability(0.45) > 0.97);
    }

    #[test]
    fn story_preset_banding_matches_its_documentation() {
        let lsh = Preset::Story.params().lsh().expect("valid preset");
        assert_eq!((lsh.bands, lsh.rows), (64, 2));
        assert!((lsh.probability(0.15) - 0.77).abs() < 0.01);
        assert!(lsh.probability(0.05) < 0.16);
        let recall_first = LshParams::optimal(0.15, 128, 0.9).expect("valid");
        assert_eq!(recall_first.rows, 1);
        assert!(recall_first.probability(0.05) > 0.65);
    }

    #[test]
    fn overrides_apply_are_checked_and_unname_the_preset_only_when_similarity_changes() {
        let same = Params::with_overrides(
            Preset::Story,
            &Overrides {
                seed: Some(7),
                keep: Some(KeepPolicy::Longest),
                ..Overrides::default()
            },
        )
        .expect("valid");
        assert_eq!(same.preset, Some(Preset::Story));
        assert_eq!((same.seed, same.keep), (7, KeepPolicy::Longest));
        let changed = Params::with_overrides(
            Preset::Dup,
            &Overrides {
                threshold: Some(0.6),
                ..Overrides::default()
            },
        )
        .expect("valid");
        assert_eq!((changed.preset, changed.threshold), (None, 0.6));
        for bad in [
            Overrides {
                threshold: Some(1.5),
                ..Overrides::default()
            },
            Overrides {
                bands: Some(LshParams { bands: 64, rows: 4 }),
                ..Overrides::default()
            },
        ] {
            assert!(
                Params::with_overrides(Preset::Dup, &bad).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn explicit_bands_are_checked_against_num_perm() {
        let mut params = Preset::Dup.params();
        params.bands = Some(LshParams { bands: 64, rows: 4 });
        assert!(params.lsh().is_err());
        params.bands = Some(LshParams { bands: 32, rows: 4 });
        assert_eq!(params.lsh().expect("fits").used_perm(), 128);
    }

    #[test]
    fn exact_copies_cluster_and_empty_texts_stay_apart() {
        let docs = vec![
            Document::new("a", "one two three four five six seven"),
            Document::new("b", "completely different words in this text here"),
            Document::new("c", "One two three, four five six seven!"),
            Document::new("d", "!!! ..."),
            Document::new("e", "???"),
            Document::new("f", "\u{200B}\u{200F}"),
            Document::new("g", "!!!  ..."),
            Document::new("h", "\u{FEFF}"),
        ];
        let result = run(&docs, &Preset::Dup.params()).expect("runs");
        let members: Vec<&[u32]> = result
            .clusters
            .iter()
            .map(|c| c.members.as_slice())
            .collect();
        // Texts without words match their exact (normalized) copies only; texts that
        // normalize to nothing match nothing, not even each other.
        assert_eq!(members, [&[0, 2][..], &[3, 6], &[1], &[4], &[5], &[7]]);
        assert_eq!(result.stats.featureless_documents, 2);
    }
}
