//! Incremental story assignment for the index.

use super::*;

/// Incremental story assignment for the index: document frequencies kept up to date as
/// documents arrive and leave, and per story a centroid, size and latest time. A new
/// document is compared with the stories that contain its rarest terms (postings of
/// its 12 highest-idf terms), which is where the rewrites of one event meet.
#[derive(Debug, Default)]
pub(crate) struct StoryTracker {
    params: Option<StoryParams>,
    df: HashMap<u64, u32>,
    documents: u64,
    stories: HashMap<u32, TrackedStory>,
    postings: HashMap<u64, Vec<u32>>,
}

#[derive(Debug, Default)]
struct TrackedStory {
    centroid: HashMap<u64, f64>,
    total: f64,
    size: usize,
    latest: Option<i64>,
}

/// Terms of a new document looked up in the postings: its rarest ones, and only those in
/// at most 1% of documents (at least 10), where the names that identify an event are.
const RAREST_TERMS: usize = 12;
/// Candidate stories compared in full, those sharing the most rare terms first.
const MAX_CANDIDATE_STORIES: usize = 16;
/// A term found in more stories than this identifies none of them: its postings stop
/// growing and it proposes no candidates.
const MAX_POSTINGS: usize = 256;

impl StoryTracker {
    pub(crate) fn new(params: StoryParams) -> Self {
        StoryTracker {
            params: Some(params),
            ..StoryTracker::default()
        }
    }

    /// Whether stories are tracked at all.
    pub(crate) fn enabled(&self) -> bool {
        self.params.is_some()
    }

    fn idf(&self, t: u64) -> f64 {
        let df = self.df.get(&t).copied().unwrap_or(0);
        ((self.documents as f64 + 1.0) / (f64::from(df) + 1.0)).ln() + 1.0
    }

    /// Counts a document's terms in the document frequencies.
    pub(crate) fn count(&mut self, terms: &[(u64, f32)]) {
        if !self.enabled() {
            return;
        }
        self.documents += 1;
        for &(t, _) in terms {
            *self.df.entry(t).or_insert(0) += 1;
        }
    }

    /// Removes a document's terms from the document frequencies. (Its weight stays in its
    /// story's centroid until the index is next opened.)
    pub(crate) fn uncount(&mut self, terms: &[(u64, f32)]) {
        if !self.enabled() {
            return;
        }
        self.documents = self.documents.saturating_sub(1);
        for &(t, _) in terms {
            if let Some(df) = self.df.get_mut(&t) {
                *df = df.saturating_sub(1);
            }
        }
    }

    /// Chooses the story of a counted document: `forced` (the story of a near-duplicate
    /// it copies) or the best candidate story, else a new story named `new_story`.
    /// Returns the story and the score that attached it (1 for a new story or a copy).
    pub(crate) fn assign(
        &mut self,
        terms: &[(u64, f32)],
        when: Option<i64>,
        forced: Option<u32>,
        new_story: u32,
    ) -> (u32, f64) {
        let Some(params) = self.params.clone() else {
            return (new_story, 1.0);
        };
        let vector: Weights = terms
            .iter()
            .map(|&(t, tf)| (t, f64::from(tf) * self.idf(t)))
            .collect();
        let (story, score) = match forced {
            Some(s) => (s, 1.0),
            None => {
                let rare_limit = (self.documents / 100).max(10);
                let mut rarest: Vec<&(u64, f64)> = vector
                    .iter()
                    .filter(|(t, _)| u64::from(self.df.get(t).copied().unwrap_or(0)) <= rare_limit)
                    .collect();
                rarest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let mut shared: HashMap<u32, u32> = HashMap::new();
                let mut looked_up = 0;
                for (t, _) in rarest.iter().take(RAREST_TERMS) {
                    let postings = self.postings.get(t).map_or(&[][..], Vec::as_slice);
                    if postings.len() >= MAX_POSTINGS {
                        continue;
                    }
                    looked_up += 1;
                    for &s in postings {
                        *shared.entry(s).or_insert(0) += 1;
                    }
                }
                // Rewrites of one event share several of its names; one shared rare term
                // is chance, unless the document has only one to offer.
                let needed = if looked_up >= 2 { 2 } else { 1 };
                let mut candidates: Vec<(u32, u32)> =
                    shared.into_iter().filter(|&(_, n)| n >= needed).collect();
                candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                candidates.truncate(MAX_CANDIDATE_STORIES);
                let candidates: Vec<u32> = candidates.into_iter().map(|(s, _)| s).collect();
                let mut best: Option<(f64, u32)> = None;
                for s in candidates {
                    let story = &self.stories[&s];
                    let Some(decay) = decay(when, story.latest, params.window_seconds) else {
                        continue;
                    };
                    let score = weighted_jaccard_to_centroid(
                        &vector,
                        &story.centroid,
                        story.size,
                        story.total,
                    ) * decay;
                    if score >= params.threshold && best.is_none_or(|(b, _)| score > b) {
                        best = Some((score, s));
                    }
                }
                best.map_or((new_story, 1.0), |(score, s)| (s, score))
            }
        };
        let entry = self.stories.entry(story).or_default();
        for &(t, w) in &vector {
            let slot = entry.centroid.entry(t).or_insert(0.0);
            if *slot == 0.0 {
                let postings = self.postings.entry(t).or_default();
                if postings.len() < MAX_POSTINGS {
                    postings.push(story);
                }
            }
            *slot += w;
            entry.total += w;
        }
        entry.size += 1;
        entry.latest = match (entry.latest, when) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        (story, score)
    }
}
