//! Incremental story assignment for the index.

use super::attach::{Attacher, Background, Vocabulary};
use super::*;

/// Incremental story assignment for the index: document frequencies kept up to date as
/// documents arrive and leave, and the stories of [`Attacher`], which a new document is
/// weighted and attached by exactly as `stories` attaches a group, with the
/// frequencies of the documents counted so far.
#[derive(Debug, Default)]
pub(crate) struct StoryTracker {
    params: Option<StoryParams>,
    vocabulary: Vocabulary,
    attacher: Attacher,
}

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

    /// The story window in seconds, when stories are tracked.
    pub(crate) fn window(&self) -> Option<i64> {
        self.params.as_ref().map(|p| p.window_seconds)
    }

    /// The document frequencies of the documents counted, when stories are tracked.
    pub(crate) fn background(&self) -> Option<Background> {
        self.enabled().then(|| self.vocabulary.to_background())
    }

    /// Counts a document's terms in the document frequencies.
    pub(crate) fn count(&mut self, terms: &[(u64, f32)]) {
        if !self.enabled() {
            return;
        }
        self.vocabulary.count(terms, 1);
    }

    /// Removes a document's terms from the document frequencies. (Its weight stays in its
    /// story's sum until the tracker is next rebuilt: the index opened again, or a write
    /// that dropped removed documents.)
    pub(crate) fn uncount(&mut self, terms: &[(u64, f32)]) {
        if !self.enabled() {
            return;
        }
        self.vocabulary.uncount(terms);
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
        let Some(params) = &self.params else {
            return (new_story, 1.0);
        };
        let vector = self.vocabulary.weigh(terms);
        let (story, score) = match forced {
            Some(s) => (s, 1.0),
            None => self
                .attacher
                .best(&vector, when, params, &self.vocabulary)
                .map_or((new_story, 1.0), |(score, s)| (s, score)),
        };
        self.attacher.add(story, &vector, when);
        (story, score)
    }
}
