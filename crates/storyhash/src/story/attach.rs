//! How a document joins a story, shared by `stories` (whole-corpus document
//! frequencies) and the index (running ones), so both decide alike.
//!
//! - **Weights**: a term weighs (1 + ln count) · idf, idf = ln((N + 1) / (df + 1)) + 1, and
//!   each vector is scaled to unit length, so that a long article and a short one are on
//!   one scale. Terms in more than [`BOILERPLATE_SHARE`] of the documents (of a corpus of
//!   at least [`BOILERPLATE_MIN_DOCUMENTS`]) weigh nothing: wire sign-offs, entity debris
//!   and a beat's vocabulary name no happening.
//! - **Criterion**: group-average link. A vector's similarity to a story is its mean cosine
//!   to the story's members, Σ_t v_t·S_t / n with S the sum of the members' unit vectors;
//!   it joins the best story whose similarity, times the time decay, reaches the
//!   threshold. A chain A~B, B~C cannot carry C into A's story: C must resemble the
//!   members on average.
//! - **Candidates**: only stories holding one of the vector's rarest terms (its
//!   [`RAREST_TERMS`] heaviest terms among those in at most 1% of the documents, or 10),
//!   sharing two of them when it has two to offer. A term's postings keep its
//!   [`MAX_POSTINGS`] latest stories. Each document costs a bounded number of lookups and
//!   comparisons, so a corpus costs time and memory linear in its documents.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};

use super::{decay, StoryParams, Weights};

/// Terms of a new vector looked up in the postings.
const RAREST_TERMS: usize = 12;
/// Candidate stories compared in full, those sharing the most rare terms first.
const MAX_CANDIDATE_STORIES: usize = 16;
/// Stories kept in a term's postings: the latest, as documents arrive in time order.
const MAX_POSTINGS: usize = 256;
/// A term in more than this share of the documents is boilerplate: it weighs nothing.
/// On Reuters-21578's corn/grain articles the terms above it are `reuter` (62%), `lt`
/// (the `&lt;` entity), `mln`, `pct`, `year`, `dlrs`: no happening is named by them,
/// while the most widespread names of events there (`gatt`, `ussr`, `ec`) are in under
/// 15% of the articles.
pub(crate) const BOILERPLATE_SHARE: f64 = 0.2;
/// Below this many documents no term is boilerplate: in a handful of articles about one
/// event, every article names it.
pub(crate) const BOILERPLATE_MIN_DOCUMENTS: u64 = 50;

/// Inverse document frequency of a term in `df` of `documents`.
pub(crate) fn idf(documents: u64, df: u32) -> f64 {
    ((documents as f64 + 1.0) / (f64::from(df) + 1.0)).ln() + 1.0
}

/// Whether a term in `df` of `documents` is boilerplate.
pub(crate) fn is_boilerplate(documents: u64, df: u32) -> bool {
    documents >= BOILERPLATE_MIN_DOCUMENTS && f64::from(df) > BOILERPLATE_SHARE * documents as f64
}

/// The unit vector of term frequencies `terms` (as [`super::term_frequencies`] gives
/// them), weighted by idf, boilerplate dropped.
pub(crate) fn weigh(terms: &[(u64, f32)], documents: u64, df: impl Fn(u64) -> u32) -> Weights {
    let mut vector: Weights = terms
        .iter()
        .filter_map(|&(t, tf)| {
            let df = df(t);
            (!is_boilerplate(documents, df)).then(|| (t, f64::from(tf) * idf(documents, df)))
        })
        .collect();
    let norm = vector.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
    if norm > 0.0 {
        for (_, w) in &mut vector {
            *w /= norm;
        }
    }
    vector
}

/// One story as attachment sees it.
#[derive(Debug, Default)]
pub(crate) struct StoryState {
    /// Sum of the members' unit vectors.
    pub(crate) sum: HashMap<u64, f64>,
    /// Members (vectors added).
    pub(crate) size: usize,
    /// The latest publication time of a member.
    pub(crate) latest: Option<i64>,
}

impl StoryState {
    /// Mean cosine of unit vector `v` to the members.
    pub(crate) fn similarity(&self, v: &Weights) -> f64 {
        if self.size == 0 {
            return 0.0;
        }
        let dot: f64 = v
            .iter()
            .map(|&(t, w)| w * self.sum.get(&t).copied().unwrap_or(0.0))
            .sum();
        dot / self.size as f64
    }

    /// Mean cosine of member `v` (added earlier) to the other members; 1 for a story of
    /// one.
    pub(crate) fn similarity_to_others(&self, v: &Weights) -> f64 {
        if self.size <= 1 {
            return 1.0;
        }
        let dot: f64 = v
            .iter()
            .map(|&(t, w)| w * self.sum.get(&t).copied().unwrap_or(0.0))
            .sum();
        let own: f64 = v.iter().map(|(_, w)| w * w).sum();
        ((dot - own) / (self.size - 1) as f64).max(0.0)
    }
}

/// Stories and the postings that find them.
#[derive(Debug, Default)]
pub(crate) struct Attacher {
    pub(crate) stories: HashMap<u32, StoryState>,
    postings: HashMap<u64, VecDeque<u32>>,
}

impl Attacher {
    /// The best story for unit vector `v` published `when`, and its decayed similarity,
    /// if one reaches the threshold. `df` and `documents` are the frequencies the vector
    /// was weighted with.
    pub(crate) fn best(
        &self,
        v: &Weights,
        when: Option<i64>,
        params: &StoryParams,
        documents: u64,
        df: impl Fn(u64) -> u32,
    ) -> Option<(f64, u32)> {
        let rare_limit = (documents / 100).max(10);
        let mut rarest: Vec<&(u64, f64)> = v
            .iter()
            .filter(|(t, _)| u64::from(df(*t)) <= rare_limit)
            .collect();
        rarest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut shared: HashMap<u32, u32> = HashMap::new();
        let mut looked_up = 0;
        for (t, _) in rarest.iter().take(RAREST_TERMS) {
            let Some(postings) = self.postings.get(t) else {
                continue;
            };
            looked_up += 1;
            for &s in postings {
                *shared.entry(s).or_insert(0) += 1;
            }
        }
        // Rewrites of one event share several of its names; one shared rare term is
        // chance, unless the document has only one to offer.
        let needed = if looked_up >= 2 { 2 } else { 1 };
        let mut candidates: Vec<(u32, u32)> =
            shared.into_iter().filter(|&(_, n)| n >= needed).collect();
        candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        candidates.truncate(MAX_CANDIDATE_STORIES);
        let mut best: Option<(f64, u32)> = None;
        for (s, _) in candidates {
            let story = &self.stories[&s];
            let Some(decay) = decay(when, story.latest, params.window_seconds) else {
                continue;
            };
            let score = story.similarity(v) * decay;
            let better = best.is_none_or(|(b, bs)| score > b || (score == b && s < bs));
            if score >= params.threshold && better {
                best = Some((score, s));
            }
        }
        best
    }

    /// Adds unit vector `v` published `when` to story `s` (created if new).
    pub(crate) fn add(&mut self, s: u32, v: &Weights, when: Option<i64>) {
        let story = self.stories.entry(s).or_default();
        for &(t, w) in v {
            match story.sum.entry(t) {
                Entry::Occupied(mut slot) => *slot.get_mut() += w,
                Entry::Vacant(slot) => {
                    slot.insert(w);
                    let postings = self.postings.entry(t).or_default();
                    if postings.len() >= MAX_POSTINGS {
                        postings.pop_front();
                    }
                    postings.push_back(s);
                }
            }
        }
        story.size += 1;
        story.latest = match (story.latest, when) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}
