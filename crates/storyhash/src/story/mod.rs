//! Story and event clustering: groups independent rewrites of one happening, with
//! near-duplicate groups nested inside each story.
//!
//! Unweighted shingle overlap cannot tell "same event" from "same topic": rewrites share
//! few phrases, and the words they do share are often the topic's common vocabulary. This
//! layer weights terms instead:
//!
//! 1. **Near-duplicate groups** first (the `dup` preset): copies of one article enter the
//!    story layer as one unit, so a story always holds whole groups.
//! 2. **Weighted features** per group: unigrams after normalization, stopword removal and
//!    Arabic light stemming, weighted by inverse document frequency over the input,
//!    idf(t) = ln((N + 1) / (df(t) + 1)) + 1 — rare terms such as names weigh most — with
//!    title terms counted twice. A term's weight is tf-idf, tf = 1 + ln(count).
//! 3. **Weighted MinHash**: Ioffe's Improved Consistent Weighted Sampling (ICWS, ICDM
//!    2010): k samples, each agreeing between two vectors with probability equal to their
//!    weighted (generalised) Jaccard Σ min / Σ max. Banded like plain signatures to
//!    propose candidate pairs.
//! 4. **Attachment to a story as a whole**: groups are visited in time order (then input
//!    order); each joins the candidate story whose centroid (mean weight vector) it is most
//!    similar to, if that similarity (times the time decay) reaches the threshold, and
//!    otherwise starts a story. A chain A~B, B~C cannot drag C into A's story unless C
//!    resembles the story itself. Each story reports its least similar member.
//! 5. **Time**: when both sides have a `published` time, a group further than the window
//!    from the story's latest member cannot join it, and within the window similarity is
//!    scaled down linearly to half at the window's edge. Groups without a time match
//!    without decay.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::doc::{printable, DocIndex, Document};
use crate::error::{Error, Result};
use crate::lsh::{band_keys_into, BandKeys, LshParams};
use crate::minhash::{fmix64, splitmix64};
use crate::normalize::normalize;
use crate::pipeline::{self, Preset};
use crate::shingle::token_hash;
use crate::stopwords::Language;
use crate::tokenize::{TokenOptions, Tokenizer};
use crate::{KeepPolicy, Params};

mod report;
mod tracker;

pub use crate::eval::{agreement, Agreement};
pub use report::{StoryGroupEntry, StoryReport, StoryReportEntry};
pub(crate) use tracker::StoryTracker;

/// Story granularity presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// A topic thread over days: lower threshold, 7-day window.
    Story,
    /// One happening: higher threshold, 2-day window.
    Event,
}

impl std::str::FromStr for Granularity {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "story" => Ok(Granularity::Story),
            "event" => Ok(Granularity::Event),
            _ => Err(format!("granularity must be story or event, got {s:?}")),
        }
    }
}

/// Parameters of the story layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryParams {
    /// The preset these values came from.
    pub granularity: Granularity,
    /// Weighted-Jaccard similarity (after time decay) a group needs to join a story.
    pub threshold: f64,
    /// Time window in seconds.
    pub window_seconds: i64,
    /// Weighted MinHash samples.
    pub num_perm: usize,
    /// Seed of the sampling.
    pub seed: u64,
    /// Weight multiplier for title terms.
    pub title_weight: f64,
}

impl Granularity {
    /// The preset's parameters. Thresholds: on the generated multi-event corpora, whose
    /// rewrites are calibrated to the seed articles' overlap, idf-weighted Jaccard to a
    /// story centroid is 0.10–0.30 within an event and under 0.03 across events; real
    /// news has more shared topic vocabulary across events than that, so `story` sits at
    /// 0.08 (lenient, a topic thread) and `event` at 0.14 (one happening).
    pub fn params(self) -> StoryParams {
        let (threshold, days) = match self {
            Granularity::Story => (0.08, 7),
            Granularity::Event => (0.14, 2),
        };
        StoryParams {
            granularity: self,
            threshold,
            window_seconds: days * 86_400,
            num_perm: 64,
            seed: pipeline::DEFAULT_SEED,
            title_weight: 2.0,
        }
    }
}

impl StoryParams {
    /// Refuses values no story clustering can use, with the message every front end
    /// shows ([`Error::InvalidParams`]).
    pub fn check(&self) -> Result<()> {
        let refuse = |message: String| Err(Error::InvalidParams(message));
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return refuse(format!(
                "threshold must be in (0, 1], got {}",
                self.threshold
            ));
        }
        if self.window_seconds < 0 {
            return refuse(format!(
                "the time window cannot be negative, got {} s",
                self.window_seconds
            ));
        }
        if self.num_perm == 0 || self.num_perm > crate::lsh::MAX_NUM_PERM {
            return refuse(format!(
                "story samples must be 1 to {}, got {}",
                crate::lsh::MAX_NUM_PERM,
                self.num_perm
            ));
        }
        if !(self.title_weight.is_finite() && self.title_weight >= 0.0) {
            return refuse(format!(
                "title weight must be a finite number ≥ 0, got {}",
                self.title_weight
            ));
        }
        Ok(())
    }
}

/// One member of a story: a document and how it joined.
#[derive(Debug, Clone, Serialize)]
pub struct StoryMember {
    /// Input position.
    pub doc: DocIndex,
    /// The near-duplicate group it belongs to (index into `groups` of its story).
    pub group: usize,
}

/// A story: near-duplicate groups joined by weighted similarity.
#[derive(Debug, Clone, Serialize)]
pub struct Story {
    /// Near-duplicate groups, each a list of input positions (first = representative),
    /// in the order they joined.
    pub groups: Vec<Vec<DocIndex>>,
    /// For each group, the decayed similarity to the story's centroid at the moment it
    /// joined (1 for the founding group).
    pub attached_with: Vec<f64>,
    /// The least similarity of any group to the final centroid.
    pub min_similarity: f64,
    /// The heaviest terms of the centroid (surface forms), most telling first.
    pub top_terms: Vec<String>,
}

impl Story {
    /// Documents in the story.
    pub fn len(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }

    /// Whether it has no documents (never true for a produced story).
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// The story clustering of a corpus: every document in exactly one story.
#[derive(Debug, Clone, Serialize)]
pub struct StoryClustering {
    /// Parameters used.
    pub params: StoryParams,
    /// Stories, largest first, ties by earliest document.
    pub stories: Vec<Story>,
}

/// A sparse weight vector: (term hash, weight), sorted by term.
type Weights = Vec<(u64, f64)>;

/// A document's term frequencies (see [`term_frequencies`]), and token hash → the
/// surface word it was first seen as (for reports).
type DocTerms = (Vec<(u64, f32)>, HashMap<u64, String>);

/// Groups `docs` into stories with near-duplicate groups nested inside.
pub fn cluster_stories(docs: &[Document], params: &StoryParams) -> Result<StoryClustering> {
    cluster_stories_keeping(docs, params, KeepPolicy::First)
}

/// [`cluster_stories`] with `keep` choosing each group of copies' representative (the
/// member whose text and headline stand for the group).
pub fn cluster_stories_keeping(
    docs: &[Document],
    params: &StoryParams,
    keep: KeepPolicy,
) -> Result<StoryClustering> {
    params.check()?;
    let dup = pipeline::run(
        docs,
        &Params {
            keep,
            ..Preset::Dup.params()
        },
    )?;
    let mut groups: Vec<Vec<DocIndex>> = dup
        .clusters
        .iter()
        .map(|c| {
            let mut members = vec![c.representative];
            members.extend(c.members.iter().copied().filter(|&m| m != c.representative));
            members
        })
        .collect();
    // Visit groups in time order, then input order: the founding member of a story is
    // its earliest report.
    let times: Vec<Option<i64>> = docs.iter().map(Document::published_time).collect();
    let group_time = |g: &Vec<DocIndex>| g.iter().filter_map(|&m| times[m as usize]).min();
    groups.sort_by_key(|g| (group_time(g).unwrap_or(i64::MAX), g.iter().min().copied()));

    let tokenizer = story_tokenizer();
    // Terms of the documents that head a group, and the surface word each was first
    // seen as, for reports: only a group's representative gives its vector and names.
    let mut heads = vec![false; docs.len()];
    for g in &groups {
        heads[g[0] as usize] = true;
    }
    let doc_terms: Vec<Option<DocTerms>> = docs
        .par_iter()
        .zip(&heads)
        .map(|(d, &head)| {
            head.then(|| {
                let mut surface = HashMap::new();
                let terms = term_frequencies(&tokenizer, d, params.title_weight, |t, word| {
                    surface.entry(t).or_insert_with(|| word.to_string());
                });
                (terms, surface)
            })
        })
        .collect();
    // Document frequencies count every document; an exact copy under the same title
    // has its first document's terms, so each distinct text is analysed once.
    let mut copies = vec![0u32; docs.len()];
    for (d, first) in dup.copy_of.iter().enumerate() {
        let same = first.filter(|&f| docs[f as usize].title == docs[d].title);
        copies[same.map_or(d, |f| f as usize)] += 1;
    }
    // Terms of the counted documents that head no group (the heads' are above).
    let others: Vec<Option<Vec<(u64, f32)>>> = docs
        .par_iter()
        .enumerate()
        .map(|(d, doc)| {
            (copies[d] > 0 && doc_terms[d].is_none())
                .then(|| term_frequencies(&tokenizer, doc, params.title_weight, |_, _| {}))
        })
        .collect();
    let mut df: HashMap<u64, u32> = HashMap::new();
    for (d, own) in others.iter().enumerate() {
        let terms = own
            .as_deref()
            .or_else(|| doc_terms[d].as_ref().map(|(terms, _)| terms.as_slice()));
        for &(t, _) in terms.into_iter().flatten() {
            *df.entry(t).or_insert(0) += copies[d];
        }
    }
    drop(others);
    let n = docs.len() as f64;
    let idf = |t: u64| ((n + 1.0) / (f64::from(df[&t]) + 1.0)).ln() + 1.0;
    // A group's vector: its representative's terms (copies add no information).
    let vectors: Vec<Weights> = groups
        .iter()
        .map(|g| {
            let (terms, _) = doc_terms[g[0] as usize]
                .as_ref()
                .expect("a group's head has terms");
            terms
                .iter()
                .map(|&(t, tf)| (t, f64::from(tf) * idf(t)))
                .collect()
        })
        .collect();

    // Candidate pairs of groups by banding their ICWS samples.
    let lsh = LshParams::optimal(params.threshold.max(0.01), params.num_perm, 0.75)?;
    let sketches: Vec<Vec<u32>> = vectors
        .par_iter()
        .map(|v| icws(v, params.num_perm, params.seed))
        .collect();
    let mut keys = BandKeys::new(lsh.bands);
    let mut row = Vec::new();
    for (g, sketch) in sketches.iter().enumerate() {
        if !vectors[g].is_empty() {
            band_keys_into(sketch, lsh, &mut row);
            keys.push(g as DocIndex, &row);
        }
    }
    let mut earlier: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    for (a, b) in keys.candidate_pairs().pairs {
        earlier[b as usize].push(a as usize);
    }

    // Attach groups to stories, in visiting order.
    let mut story_of: Vec<usize> = Vec::with_capacity(groups.len());
    let mut centroids: Vec<HashMap<u64, f64>> = Vec::new();
    let mut totals: Vec<f64> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    let mut latest: Vec<Option<i64>> = Vec::new();
    let mut members: Vec<Vec<(usize, f64)>> = Vec::new();
    for (g, vector) in vectors.iter().enumerate() {
        let when = group_time(&groups[g]);
        let mut candidates: Vec<usize> = earlier[g].iter().map(|&e| story_of[e]).collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<(f64, usize)> = None;
        for s in candidates {
            let Some(decay) = decay(when, latest[s], params.window_seconds) else {
                continue;
            };
            let score =
                weighted_jaccard_to_centroid(vector, &centroids[s], sizes[s], totals[s]) * decay;
            if score >= params.threshold && best.is_none_or(|(b, _)| score > b) {
                best = Some((score, s));
            }
        }
        let s = match best {
            Some((score, s)) => {
                members[s].push((g, score));
                s
            }
            None => {
                centroids.push(HashMap::new());
                totals.push(0.0);
                sizes.push(0);
                latest.push(None);
                members.push(vec![(g, 1.0)]);
                centroids.len() - 1
            }
        };
        for &(t, w) in vector {
            *centroids[s].entry(t).or_insert(0.0) += w;
            totals[s] += w;
        }
        sizes[s] += 1;
        latest[s] = match (latest[s], when) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        story_of.push(s);
    }

    let mut stories: Vec<Story> = members
        .into_iter()
        .enumerate()
        .map(|(s, joined)| {
            let min_similarity = joined
                .iter()
                .map(|&(g, _)| {
                    weighted_jaccard_to_centroid(&vectors[g], &centroids[s], sizes[s], totals[s])
                })
                .fold(1.0f64, f64::min);
            let mut heaviest: Vec<(u64, f64)> =
                centroids[s].iter().map(|(&t, &w)| (t, w)).collect();
            heaviest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let top_terms = heaviest
                .iter()
                .take(8)
                .filter_map(|&(t, _)| {
                    joined.iter().find_map(|&(g, _)| {
                        doc_terms[groups[g][0] as usize]
                            .as_ref()
                            .and_then(|(_, surface)| surface.get(&t).cloned())
                    })
                })
                .collect();
            Story {
                groups: joined.iter().map(|&(g, _)| groups[g].clone()).collect(),
                attached_with: joined.iter().map(|&(_, score)| score).collect(),
                min_similarity,
                top_terms,
            }
        })
        .collect();
    stories.sort_by_key(|s| {
        let first = s.groups.iter().flatten().min().copied();
        (std::cmp::Reverse(s.len()), first)
    });
    Ok(StoryClustering {
        params: params.clone(),
        stories,
    })
}

/// Time eligibility and decay: None if both times are known and further apart than the
/// window; otherwise a factor falling linearly from 1 (same time) to 0.5 (window edge).
fn decay(a: Option<i64>, b: Option<i64>, window: i64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let gap = a.abs_diff(b) as f64;
            let window = window.max(1) as f64;
            (gap <= window).then(|| 1.0 - 0.5 * gap / window)
        }
        _ => Some(1.0),
    }
}

/// Weighted Jaccard Σ min / Σ max between a vector and a story's mean vector.
/// `total` is the sum of the centroid's weights, so that the centroid's mass outside
/// `v` costs nothing to find: the comparison is O(|v|) whatever the story's size.
fn weighted_jaccard_to_centroid(
    v: &Weights,
    centroid: &HashMap<u64, f64>,
    size: usize,
    total: f64,
) -> f64 {
    if size == 0 {
        return 0.0;
    }
    let size = size as f64;
    let (mut min_sum, mut max_sum) = (0.0, 0.0);
    let mut shared_mass = 0.0;
    for &(t, w) in v {
        let c = centroid.get(&t).copied().unwrap_or(0.0);
        shared_mass += c;
        let c = c / size;
        min_sum += w.min(c);
        max_sum += w.max(c);
    }
    max_sum += ((total - shared_mass) / size).max(0.0);
    if max_sum == 0.0 {
        0.0
    } else {
        min_sum / max_sum
    }
}

/// Exact weighted Jaccard Σ min / Σ max of two sparse vectors sorted by term.
pub fn weighted_jaccard(a: &[(u64, f64)], b: &[(u64, f64)]) -> f64 {
    let (mut i, mut j) = (0, 0);
    let (mut min_sum, mut max_sum) = (0.0, 0.0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(&(ta, wa)), Some(&(tb, wb))) if ta == tb => {
                min_sum += wa.min(wb);
                max_sum += wa.max(wb);
                i += 1;
                j += 1;
            }
            (Some(&(ta, wa)), Some(&(tb, _))) if ta < tb => {
                max_sum += wa;
                i += 1;
            }
            (Some(&(_, wa)), None) => {
                max_sum += wa;
                i += 1;
            }
            (_, Some(&(_, wb))) => {
                max_sum += wb;
                j += 1;
            }
            (None, None) => break,
        }
    }
    if max_sum == 0.0 {
        0.0
    } else {
        min_sum / max_sum
    }
}

/// Ioffe's ICWS: `k` samples of a positive-weighted set. For sample i and element e the
/// randomness r, c ~ Gamma(2, 1) and β ~ U(0, 1) is a hash of (seed, i, e), so every
/// vector sees the same draws; the sample is the element minimising
/// a = c / (y·e^r), with t = ⌊ln w / r + β⌋ and y = e^{r(t−β)}, together with its t.
/// Compared in the log domain: ln a = ln c − r(t − β + 1).
pub fn icws(v: &[(u64, f64)], k: usize, seed: u64) -> Vec<u32> {
    let mut out = Vec::with_capacity(k);
    let mut state = seed;
    let sample_seeds: Vec<u64> = (0..k).map(|_| splitmix64(&mut state)).collect();
    for &sample_seed in &sample_seeds {
        let mut best = (f64::INFINITY, 0u64, 0i64);
        for &(e, w) in v {
            if w <= 0.0 {
                continue;
            }
            let h1 = fmix64(e ^ sample_seed);
            let h2 = fmix64(h1 ^ 0x9E37_79B9_7F4A_7C15);
            let h3 = fmix64(h2 ^ 0x632B_E59B_D9B4_E019);
            let unit = |x: u64| ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            let r = -(unit(h1) * unit(h2)).ln();
            let c = -(unit(h3) * unit(fmix64(h3))).ln();
            let beta = unit(fmix64(h1 ^ h3));
            let t = (w.ln() / r + beta).floor();
            let ln_a = c.ln() - r * (t - beta + 1.0);
            if ln_a < best.0 {
                best = (ln_a, e, t as i64);
            }
        }
        out.push(fmix64(best.1 ^ (best.2 as u64).wrapping_mul(0xA24B_AED4_963E_E407)) as u32);
    }
    out
}

/// The story of each document, by input position (for scoring against labels).
pub fn story_of_documents(clustering: &StoryClustering, n: usize) -> Vec<usize> {
    let mut out = vec![0; n];
    for (s, story) in clustering.stories.iter().enumerate() {
        for &d in story.groups.iter().flatten() {
            out[d as usize] = s;
        }
    }
    out
}

/// The terms of a document as the story layer weighs them before idf: (term hash,
/// 1 + ln(count)), title occurrences counted `title_weight` times, sorted by term.
/// `surface(term, word)` sees the word before stemming of every occurrence.
pub(crate) fn term_frequencies(
    tokenizer: &Tokenizer,
    doc: &Document,
    title_weight: f64,
    mut surface: impl FnMut(u64, &str),
) -> Vec<(u64, f32)> {
    let mut counts: HashMap<u64, f64> = HashMap::new();
    let mut add = |text: &str, weight: f64| {
        let normalized = normalize(text);
        tokenizer.for_each_term(&normalized, |word, token| {
            // Single Latin letters and digits identify nothing.
            if token.chars().count() >= 2 || !token.is_ascii() {
                let t = token_hash(token);
                *counts.entry(t).or_insert(0.0) += weight;
                surface(t, word);
            }
        });
    };
    if let Some(title) = &doc.title {
        add(title, title_weight);
    }
    add(&doc.text, 1.0);
    let mut terms: Vec<(u64, f32)> = counts
        .into_iter()
        .map(|(t, c)| (t, (1.0 + c.ln()) as f32))
        .collect();
    terms.sort_by_key(|&(t, _)| t);
    terms
}

/// The tokenizer of the story layer: stopwords of every language, Arabic stemming.
pub(crate) fn story_tokenizer() -> Tokenizer {
    Tokenizer::new(&TokenOptions {
        stopwords: Language::ALL.to_vec(),
        stem_arabic: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_jaccard_by_hand() {
        let a = [(1, 2.0), (2, 1.0)];
        let b = [(1, 1.0), (3, 1.0)];
        // min: 1; max: 2 + 1 + 1.
        assert!((weighted_jaccard(&a, &b) - 0.25).abs() < 1e-12);
        assert_eq!(weighted_jaccard(&a, &a), 1.0);
    }

    #[test]
    fn decay_and_window() {
        assert_eq!(decay(None, Some(5), 10), Some(1.0));
        assert_eq!(decay(Some(0), Some(0), 10), Some(1.0));
        assert_eq!(decay(Some(0), Some(10), 10), Some(0.5));
        assert_eq!(decay(Some(0), Some(11), 10), None);
    }

    #[test]
    fn adjusted_rand_extremes() {
        let truth = [0, 0, 1, 1, 2, 2];
        let perfect = agreement(&[5, 5, 6, 6, 7, 7], &truth);
        assert_eq!(
            (
                perfect.adjusted_rand,
                perfect.f1,
                perfect.misplaced_documents
            ),
            (1.0, 1.0, 0)
        );
        let lumped = agreement(&[0; 6], &truth);
        assert!(lumped.adjusted_rand.abs() < 1e-9);
        assert_eq!(lumped.misplaced_documents, 4);
    }
}
