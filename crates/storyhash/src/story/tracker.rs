//! Incremental story assignment for the index.

use super::attach::{Attacher, Background, TrackerColumns, TrackerView, Vocabulary};
use super::*;

/// A stored document as [`StoryTracker::replay`] takes it: its terms, publication time
/// and story.
pub(crate) type StoredTerms = (Box<[(u64, f32)]>, Option<i64>, u32);

/// How many of a story's heaviest terms [`StoryTracker::story_terms`] looks for in its
/// headlines.
const NAMED_FROM: usize = 32;

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
            vocabulary: Vocabulary::new(params.analysis),
            params: Some(params),
            attacher: Attacher::default(),
        }
    }

    /// The story parameters, when stories are tracked.
    pub(crate) fn params(&self) -> Option<&StoryParams> {
        self.params.as_ref()
    }

    /// Whether stories are tracked at all.
    pub(crate) fn enabled(&self) -> bool {
        self.params.is_some()
    }

    /// The story window in seconds, when stories are tracked.
    pub(crate) fn window(&self) -> Option<i64> {
        self.params.as_ref().map(|p| p.window_seconds)
    }

    /// The term frequency above which a document repeats a term (none without story
    /// tracking).
    fn repeated_tf(&self) -> f32 {
        (self.params.as_ref()).map_or(f32::INFINITY, StoryParams::repeated_tf)
    }

    /// The document frequencies terms are weighed by (the documents counted, and the
    /// background's), when stories are tracked.
    pub(crate) fn background(&self) -> Option<Background> {
        let params = self.params.as_ref()?;
        Some(self.vocabulary.to_background(params.analysis))
    }

    /// Weighs terms with `background`'s document frequencies added to those of the
    /// documents counted, which must be none yet (the index refuses a background once
    /// it had a document); refused for counts of another analysis than the index's.
    /// Without story tracking, nothing is weighed and nothing changes.
    pub(crate) fn seed(&mut self, background: &Background) -> Result<()> {
        if let Some(params) = &self.params {
            background.check_analysis(params.analysis)?;
            self.vocabulary = Vocabulary::with_background(background, params.analysis);
        }
        Ok(())
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

    /// Replays stored documents, each given as its terms, publication time and story,
    /// in insertion order, onto `background`'s counts (the index's, if it has one) and
    /// no stories: the document frequencies and story sums come out as they were when
    /// the documents were inserted one by one. On an error the tracker is left empty.
    pub(crate) fn replay<E: Send>(
        &mut self,
        background: Option<&Background>,
        chunks: impl Iterator<Item = Result<Vec<StoredTerms>, E>> + Send,
    ) -> Result<(), E> {
        let Some(analysis) = self.params.as_ref().map(|p| p.analysis) else {
            return Ok(());
        };
        self.vocabulary = match background {
            Some(background) => Vocabulary::with_background(background, analysis),
            None => Vocabulary::new(analysis),
        };
        self.attacher = Attacher::default();
        self.resume(chunks)
    }

    /// Replays stored documents inserted after those counted, as [`StoryTracker::replay`]
    /// does. Reading, counting and weighing a chunk from `chunks` runs beside adding the
    /// previous chunk's vectors to their stories (`rayon::join`; on one thread, one
    /// after the other), so every update comes in the order of a one-by-one replay. On
    /// an error the tracker is left empty.
    pub(crate) fn resume<E: Send>(
        &mut self,
        mut chunks: impl Iterator<Item = Result<Vec<StoredTerms>, E>> + Send,
    ) -> Result<(), E> {
        let StoryTracker {
            params,
            vocabulary,
            attacher,
        } = self;
        let Some(analysis) = params.as_ref().map(|p| p.analysis) else {
            return Ok(());
        };
        let mut weighed: Vec<(u32, Vector, Option<i64>)> = Vec::new();
        loop {
            let ((), next) = rayon::join(
                || {
                    for (story, vector, when) in weighed.drain(..) {
                        attacher.add(story, &vector, when);
                    }
                },
                || {
                    chunks.next().map(|chunk| {
                        chunk.map(|chunk| {
                            chunk
                                .into_iter()
                                .map(|(terms, when, story)| {
                                    vocabulary.count(&terms, 1);
                                    (story, vocabulary.weigh(&terms), when)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                },
            );
            match next {
                Some(Ok(next)) => weighed = next,
                Some(Err(e)) => {
                    // Left empty rather than half counted; the next replay starts over.
                    *vocabulary = Vocabulary::new(analysis);
                    *attacher = Attacher::default();
                    return Err(e);
                }
                None => return Ok(()),
            }
        }
    }

    /// The counts and stories as the columns a commit stores, stories keyed as the
    /// tracker keys them; none without story tracking (or, see [`Attacher::view`], for
    /// `stories`' tracker).
    pub(crate) fn view(&self) -> Option<TrackerView<'_>> {
        self.params.as_ref()?;
        self.attacher.view(&self.vocabulary)
    }

    /// [`StoryTracker::view`] collected.
    #[cfg(test)]
    pub(crate) fn to_columns(&self) -> Option<TrackerColumns> {
        self.view().map(|view| view.to_columns())
    }

    /// The tracker of `params` that `columns` (as [`StoryTracker::to_columns`] gave
    /// them) hold, or what is inconsistent in them.
    pub(crate) fn from_columns(
        params: StoryParams,
        mut columns: TrackerColumns,
    ) -> std::result::Result<StoryTracker, String> {
        let vocabulary = Vocabulary::from_columns(params.analysis, &mut columns)?;
        let attacher = Attacher::from_columns(&columns, vocabulary.terms())?;
        Ok(StoryTracker {
            params: Some(params),
            vocabulary,
            attacher,
        })
    }

    /// Chooses the story of a counted document: `forced` (the story of a near-duplicate
    /// it copies) or the best candidate story but those `barred` (sorted: stories of its
    /// copies published further apart than the window), else a new story named
    /// `new_story`. Returns the story and the score that attached it (1 for a new story
    /// or a copy).
    pub(crate) fn assign(
        &mut self,
        terms: &[(u64, f32)],
        when: Option<i64>,
        forced: Option<u32>,
        barred: &[u32],
        new_story: u32,
    ) -> (u32, f64) {
        let (vector, subject) = self.vocabulary.weigh_document(terms, self.repeated_tf());
        let (story, score) = self.choose(&vector, &subject, when, forced, barred, new_story);
        if self.enabled() {
            self.attacher.add(story, &vector, when);
        }
        (story, score)
    }

    /// What [`StoryTracker::count`] then [`StoryTracker::assign`] would choose for a
    /// document, changing nothing: the terms already counted are counted once more for
    /// the choice and then taken out again, and terms never counted weigh as in one
    /// document without being added (no story holds them, and term ids stay as the
    /// documents stored gave them, so later insertions decide as without the preview).
    pub(crate) fn preview(
        &mut self,
        terms: &[(u64, f32)],
        when: Option<i64>,
        forced: Option<u32>,
        barred: &[u32],
        new_story: u32,
    ) -> (u32, f64) {
        if !self.enabled() {
            return (new_story, 1.0);
        }
        let known: Vec<(u64, f32)> = (terms.iter())
            .filter(|&&(t, _)| self.vocabulary.knows(t))
            .copied()
            .collect();
        self.vocabulary.count(&known, 1);
        let (vector, subject) = (self.vocabulary).weigh_new_document(terms, self.repeated_tf());
        let chosen = self.choose(&vector, &subject, when, forced, barred, new_story);
        self.vocabulary.uncount(&known);
        chosen
    }

    /// The terms weighing most in the sum of `story`'s members, as its members'
    /// `headlines` write them, most telling first, at most as many as `stories` lists:
    /// what ties the story. The tracker keeps term hashes, not words, so only a term a
    /// headline holds can be named: of the [`NAMED_FROM`] heaviest, those a headline
    /// writes (a title's terms weigh double, so a story's heaviest are mostly there).
    /// Empty for a story the tracker does not hold.
    pub(crate) fn story_terms<'a>(
        &self,
        story: u32,
        analyzer: &TermAnalyzer,
        headlines: impl Iterator<Item = &'a str>,
    ) -> Vec<String> {
        let Some(state) = self.attacher.stories.get(&story) else {
            return Vec::new();
        };
        let mut heaviest: Vec<(f32, u64)> = (state.sum.iter())
            .map(|(&t, &w)| (w, self.vocabulary.hash(t)))
            .collect();
        // The heaviest few picked before sorting: a story of thousands holds as many terms.
        let order = |a: &(f32, u64), b: &(f32, u64)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if heaviest.len() > NAMED_FROM {
            heaviest.select_nth_unstable_by(NAMED_FROM, order);
            heaviest.truncate(NAMED_FROM);
        }
        heaviest.sort_by(order);
        let wanted: HashSet<u64> = heaviest.iter().map(|&(_, t)| t).collect();
        let headlines: Vec<Document> = headlines.map(|h| Document::new("", h)).collect();
        let words = surface_words(
            analyzer,
            headlines.iter(),
            1.0,
            &Exclusions::default(),
            &wanted,
        );
        (heaviest.iter())
            .filter_map(|(_, t)| words.get(t).cloned())
            .take(TOP_TERMS)
            .collect()
    }

    /// `forced`, or the best story for `vector` (of `subject`) but those `barred`, or
    /// `new_story`, with the score (see [`StoryTracker::assign`]).
    fn choose(
        &mut self,
        vector: &Vector,
        subject: &[u32],
        when: Option<i64>,
        forced: Option<u32>,
        barred: &[u32],
        new_story: u32,
    ) -> (u32, f64) {
        let Some(params) = &self.params else {
            return (new_story, 1.0);
        };
        match forced {
            Some(s) => (s, 1.0),
            None => self
                .attacher
                .best(vector, subject, when, params, &self.vocabulary, barred)
                .map_or((new_story, 1.0), |(score, s)| (s, score)),
        }
    }
}
