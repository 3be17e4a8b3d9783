//! How a document joins a story, shared by `stories` (whole-corpus document
//! frequencies) and the index (running ones), so both decide alike.
//!
//! - **Weights**: a term weighs (1 + ln count) · idf, idf = ln((N + 1) / (df + 1)) + 1 (N
//!   and df counting the prior's general articles too, see [`GeneralFrequencies`]), and
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
//!   [`RAREST_TERMS`] heaviest terms among those in at most 1% of the clustered
//!   documents, or 10, or 100 when a single story holds them, that some story holds),
//!   sharing two of them when it has two to offer; a term counts for a story large
//!   enough to hold it by chance only when typical of it ([`CHANCE_HOLDING`]). Rare
//!   means rare among the documents the stories are made of, not in the background: a
//!   background of a year's news weighs a beat's words down (asylum seekers, in 3-4% of
//!   Lee's 300 background articles), and they still tell this input's stories apart
//!   (in 2 of its 50). A term's postings keep its [`MAX_POSTINGS`] latest stories. Each
//!   document costs a bounded number of lookups and comparisons, so a corpus costs time
//!   and memory linear in its documents.
//! - **Subject**: a story a vector joins holds one of its [`SUBJECT_TERMS`] terms of
//!   highest weight times idf among those another document holds too or that it
//!   repeats. Two companies' reports in one template (monthly load factors, bond issues,
//!   results) share the template's words and figures' units, enough cosine to pass, and
//!   each weighs most the name it repeats, which the other lacks. A story holds the
//!   terms of its members' copies too (a group of near-duplicates weighs as one of them).

use std::collections::hash_map::Entry;
use std::collections::VecDeque;

use rayon::prelude::*;

use super::general::GeneralFrequencies;
use super::lines::Exclusions;
use super::{decay, term_frequencies, StoryAnalysis, StoryParams, TermAnalyzer, COUNT_BLOCK};
use crate::doc::Document;
use crate::error::{Error, Result};
use crate::minhash::PrehashedMap;

/// Terms of a new vector looked up in the postings. The candidate rule (two shared rare
/// terms among these) bounds the cost, and it also keeps template reports apart: with
/// every story sharing any term a candidate (no rare-term limit, no cap), `stories` on
/// Reuters corn/grain makes 407 more attachments at the `story` threshold, and of 8 of
/// them read at random 2 were the same story (an ICO quota meeting; a money-supply
/// headline and its article) and 6 were different companies' earnings, dividend or
/// split notices and different countries' outlooks. On the generated event sets recall
/// is 1.000 either way and the rule only raises precision.
const RAREST_TERMS: usize = 12;
/// A term in at most 1% of the documents, or this many, is rare for the candidate rule.
const RARE_DOCUMENTS: u64 = 10;
/// A term a single story holds is rare for the candidate rule in at most 1% of the
/// documents, or this many. A story's names are in as many documents as it has
/// reports: by 1% or 10 alone, in a corpus of a thousand articles a story past ten
/// reports can no longer be found by its names, and its later reports, sharing little
/// else with it, found stories of their own (90 generated events of up to 20 articles,
/// 1,153 documents: event recall 0.151, 1.000 with this). Held by one story, such a
/// term finds that story and no other. The bound keeps template vocabularies out: on
/// the dated wire the bond-issue series' words (`eurobond` in 253 documents,
/// `denominations` 261), held by its story alone, grew it from 44 documents to 115
/// without the bound. From 10,000 documents on 1% is above it and the rule is the
/// plain one (the dated wire's stories are unchanged).
const ONE_STORY_DOCUMENTS: u64 = 100;
/// A looked-up term counts towards a story's candidacy only while chance would seldom
/// put it there: `m` members drawn at random from the `n` documents counted would hold
/// a term in `d` of them about `m·d/n` times, and from this value on a story holds the
/// term as by chance (unless it is typical, [`TYPICAL_SHARE`]). A large story holds
/// hundreds of figures and names each of a single member, and any report shares two
/// such rare terms with it. In a new index, whose first hundred articles made one story
/// of companies' results (their template words then rare), that story went on to gather
/// 53 of the first 1,000 dated wire articles; counting only terms held below this
/// expectation, 16 (the whole wire in an index: largest story 142 → 48). `stories` is
/// all but unchanged: corn/grain loses 42 of 2,495 pairs at `story`, at topic precision
/// 0.67 (its precision 0.900 → 0.904), the dated wire gains 120 of 32,565; Lee's pairs
/// and the generated sets stay as they were. At 0.2 the index's largest story on wire
/// 1,000 was 25, at 0.5 42.
const CHANCE_HOLDING: f64 = 0.1;
/// A term is typical of a story when its mean weight among the members is at least
/// this share of its weight in the document looking (about a quarter of them hold
/// it). An event's names are in most of its reports, and in as many documents as it
/// has reports, so a large event holds them "by chance" (20 · 20 / 1,153 = 0.35 for an
/// event of 20 reports among 1,153 documents) and is found by them only as its typical
/// terms: without this, the 90 generated events of up to 20 reports scored event
/// recall 0.383 instead of 1.000 (corn/grain unchanged).
const TYPICAL_SHARE: f32 = 0.25;
/// A document's subject, of which a story it joins must hold one: its terms ranking
/// highest by weight times idf (tf · idf²: of terms it weighs alike, the rarer, an
/// event's names rather than the words its topic shares with other events), among
/// those another document holds too or that it repeats ([`StoryParams::repeated_tf`]):
/// mostly the company, place or person it is about. A term mentioned once that no other
/// document holds cannot tell a story; counted, a short report whose own figures
/// outweigh its names could join no story. A repeated term is counted before another
/// document holds it: in the index a company's name is new in its first report.
/// Measured in one run on the dated Reuters wire (20,840 articles, `story`): of the
/// linked pairs of articles both marking companies, those sharing one went from 0.683
/// without the rule to 0.756 with the heaviest two by weight alone and 0.794 by weight
/// times idf with repeated terms (the index: 0.703 to 0.765), and of the pairs marking a
/// company in common within the window, those linked from 0.780 to 0.785 and 0.785 (the
/// index: 0.732 to 0.726). On the generated sets (three events per topic sharing its
/// vocabulary, where the topic's words outweigh an event's names by weight alone) story
/// F1 went from 0.739 without the rule to 0.888 and 0.924 (40 events), 0.694 to 0.734
/// and 0.842 (400; the index 0.703 to 0.910), 0.690 to 0.945 and 0.980 (events of up to
/// 20 reports, recall 0.986: an early report lacking a later one's two most repeated
/// names started a story of its own); Lee's human-rated pairs stayed 7 of 9 joined;
/// corn/grain's topic precision 0.904, 0.901, 0.900. Ranked by tf · idf³ the subject
/// takes the rarest shared terms, chance words among them (wire recall 0.737, events of
/// up to 20 0.659); by tf · idf^2.5, wire recall 0.745. One term by weight alone gives
/// agreement 0.823 for recall 0.744; three by weight times idf, 0.753 and 0.778.
const SUBJECT_TERMS: usize = 2;
/// Candidate stories compared in full, those sharing the most rare terms first.
const MAX_CANDIDATE_STORIES: usize = 16;
/// Passes of [`StoryState::drifted`] over one story, a bound on its cost (each pass
/// measures every member once).
const SETTLE_PASSES: usize = 8;
/// Stories kept in a term's postings: the latest, as documents arrive in time order.
const MAX_POSTINGS: usize = 256;
/// A term in more than this share of the documents is boilerplate: it weighs nothing.
/// On Reuters-21578's corn/grain articles (weka's examples) the terms above it are the
/// wire's sign-off `reuter` (92%), `lt` (58%, the `&lt;` entity before company tickers),
/// units and earnings-table words (`mln`, `dlrs`, `cts`, `vs`, `shr`, `qtr`, `net`,
/// `pct`), `year`, `1986`, `inc`, `corp`, `company`: none names a happening. Below it sit
/// `march` (17%), `billion` (15%), `market` (14%), and the most widespread names of
/// places and actors are far below (`japan` 5.4%, `wheat` 4.4%, `opec` 1.3%).
pub(crate) const BOILERPLATE_SHARE: f64 = 0.2;
/// Below this many documents no term is boilerplate: in a handful of articles about one
/// event, every article names it.
pub(crate) const BOILERPLATE_MIN_DOCUMENTS: u64 = 50;

/// A story's summed weight of a term at or below which no member holds it: what
/// rounding leaves after the last holder leaves, far below any member's weight.
const GONE: f32 = 1e-6;

/// A unit vector over term ids (see [`Vocabulary`]).
pub(crate) type Vector = Vec<(u32, f32)>;

/// Inverse document frequency of a term in `df` of `documents` (with the prior's
/// fractional counts).
fn idf(documents: f64, df: f64) -> f64 {
    ((documents + 1.0) / (df + 1.0)).ln() + 1.0
}

/// Whether a term in `df` of `documents` is boilerplate.
fn is_boilerplate(documents: u64, df: u32) -> bool {
    documents >= BOILERPLATE_MIN_DOCUMENTS && f64::from(df) > BOILERPLATE_SHARE * documents as f64
}

/// Document frequencies of articles besides the input (`stories --background`): a file
/// of articles of the kind the input comes from, or a story-tracking index's counts. In
/// a small input every term is rare, so its idf cannot tell an event's names from
/// common words; the background's counts are added to the input's before any term is
/// weighed, and count towards the boilerplate share too. Counts apply only to terms of
/// the same [`StoryAnalysis`].
#[derive(Debug, Clone, Default)]
pub struct Background {
    df: PrehashedMap<u64, u32>,
    documents: u64,
    analysis: StoryAnalysis,
}

impl Background {
    /// No documents, to count terms by the current analysis.
    pub fn new() -> Background {
        Background::default()
    }

    /// No documents, to count terms by `analysis`.
    pub fn with_analysis(analysis: StoryAnalysis) -> Background {
        Background {
            analysis,
            ..Background::default()
        }
    }

    /// The counts as stored (an index keeps the background it was given): term hashes
    /// in ascending order, and each one's document frequency.
    pub(crate) fn to_columns(&self) -> (Vec<u64>, Vec<u32>) {
        let mut counts: Vec<(u64, u32)> = self.df.iter().map(|(&t, &df)| (t, df)).collect();
        counts.sort_unstable();
        counts.into_iter().unzip()
    }

    /// The background [`Background::to_columns`] stored, refusing (with what is wrong)
    /// anything it could not have written: columns of different lengths, hashes out of
    /// order, a count of zero or above the documents.
    pub(crate) fn from_columns(
        analysis: StoryAnalysis,
        documents: u64,
        hashes: &[u64],
        dfs: &[u32],
    ) -> std::result::Result<Background, String> {
        if hashes.len() != dfs.len() {
            return Err(format!("{} terms with {} counts", hashes.len(), dfs.len()));
        }
        if hashes.windows(2).any(|w| w[0] >= w[1]) {
            return Err("terms out of order".into());
        }
        if let Some(df) = dfs.iter().find(|&&df| df == 0 || u64::from(df) > documents) {
            return Err(format!("a term counted in {df} of {documents} documents"));
        }
        Ok(Background {
            df: hashes.iter().copied().zip(dfs.iter().copied()).collect(),
            documents,
            analysis,
        })
    }

    /// Adds `docs` (each counted once; title terms as body terms), analysed in
    /// parallel blocks as `stories` analyses its input.
    pub fn add_documents(&mut self, docs: &[Document]) {
        let analyzer = TermAnalyzer::new(self.analysis);
        let none = Exclusions::default();
        for block in docs.chunks(COUNT_BLOCK) {
            let terms: Vec<Vec<(u64, f32)>> = block
                .par_iter()
                .map(|d| term_frequencies(&analyzer, d, 1.0, &none, |_, _| {}))
                .collect();
            for terms in &terms {
                self.add_terms(terms.iter().map(|&(t, _)| t), 1);
            }
        }
    }

    /// Adds `times` documents holding each of `terms` (distinct term hashes).
    pub(crate) fn add_terms(&mut self, terms: impl Iterator<Item = u64>, times: u32) {
        self.documents += u64::from(times);
        for t in terms {
            let df = self.df.entry(t).or_insert(0);
            *df = df.saturating_add(times);
        }
    }

    /// Adds the counts of `other`, which must count terms of the same analysis.
    pub fn merge(&mut self, other: &Background) -> Result<()> {
        other.check_analysis(self.analysis)?;
        self.documents += other.documents;
        for (&t, &df) in &other.df {
            let e = self.df.entry(t).or_insert(0);
            *e = e.saturating_add(df);
        }
        Ok(())
    }

    /// The analysis whose terms it counts.
    pub fn analysis(&self) -> StoryAnalysis {
        self.analysis
    }

    /// Refuses counts of terms of another analysis than `analysis` (a story-tracking
    /// index keeps the analysis it was created with); no counts fit any.
    pub(crate) fn check_analysis(&self, analysis: StoryAnalysis) -> Result<()> {
        if self.documents == 0 || self.analysis == analysis {
            return Ok(());
        }
        Err(Error::InvalidParams(format!(
            "the background counts story terms of the {} analysis, and these are of the \
             {analysis} analysis: their counts would not meet (a story-tracking index keeps \
             the analysis it was created with; give articles as the background instead, \
             or cluster with the background's analysis, `--analysis {}`)",
            self.analysis, self.analysis
        )))
    }

    /// Documents counted.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// Distinct terms counted.
    pub fn terms(&self) -> usize {
        self.df.len()
    }
}

/// The terms counted so far: each term hash gets a dense id when first counted (so
/// vectors and story sums hold 4-byte ids), and its document frequency, with and without
/// the background's counts, and in the general prior ([`GeneralFrequencies`]).
#[derive(Debug, Default)]
pub(crate) struct Vocabulary {
    ids: PrehashedMap<u64, u32>,
    hashes: Vec<u64>,
    /// The prior idf also counts (none in a vocabulary made by `default`).
    general: Option<&'static GeneralFrequencies>,
    /// Each term's document frequency in the prior.
    general_df: Vec<f32>,
    /// Document frequency, background included: what terms are weighed by.
    df: Vec<u32>,
    documents: u64,
    /// Document frequency among the documents counted here, which the stories are made
    /// of: what the candidate rule calls rare (see [`Attacher::best`]).
    own_df: Vec<u32>,
    own_documents: u64,
}

impl Vocabulary {
    /// No terms counted, weighing terms of `analysis` with the general prior.
    pub(crate) fn new(analysis: StoryAnalysis) -> Vocabulary {
        Vocabulary {
            general: Some(GeneralFrequencies::of(analysis)),
            ..Vocabulary::default()
        }
    }

    /// A new term's id.
    fn push(&mut self, t: u64, df: u32) -> u32 {
        let id = self.hashes.len() as u32;
        self.ids.insert(t, id);
        self.hashes.push(t);
        self.df.push(df);
        self.own_df.push(0);
        self.general_df.push(self.general.map_or(0.0, |g| g.df(t)));
        id
    }

    /// Counts `times` documents with terms `terms` (term hash, tf).
    pub(crate) fn count(&mut self, terms: &[(u64, f32)], times: u32) {
        self.documents += u64::from(times);
        self.own_documents += u64::from(times);
        for &(t, _) in terms {
            let id = match self.ids.get(&t) {
                Some(&id) => id,
                None => self.push(t, 0),
            };
            let id = id as usize;
            self.df[id] = self.df[id].saturating_add(times);
            self.own_df[id] = self.own_df[id].saturating_add(times);
        }
    }

    /// A vocabulary of terms of `analysis` holding `background`'s counts. Its terms are
    /// added in hash order, so term ids do not depend on the map's iteration order.
    pub(crate) fn with_background(background: &Background, analysis: StoryAnalysis) -> Vocabulary {
        let mut terms: Vec<(u64, u32)> = background.df.iter().map(|(&t, &df)| (t, df)).collect();
        terms.sort_unstable();
        let mut vocabulary = Vocabulary::new(analysis);
        vocabulary.documents = background.documents;
        vocabulary.ids.reserve(terms.len());
        for (t, df) in terms {
            vocabulary.push(t, df);
        }
        vocabulary
    }

    /// Numbers the terms in hash order. Ids are given as terms are first counted, so in
    /// input order; ties between equal weights go to the lower id (which rare terms a
    /// group looks stories up by, a story's listed terms), and sums run in id order.
    /// Numbered so once all are counted, none of that depends on the input's order.
    pub(crate) fn number_by_hash(&mut self) {
        let mut by_hash: Vec<u32> = (0..self.hashes.len() as u32).collect();
        by_hash.sort_unstable_by_key(|&id| self.hashes[id as usize]);
        fn permute<T: Copy>(order: &[u32], values: &[T]) -> Vec<T> {
            order.iter().map(|&id| values[id as usize]).collect()
        }
        self.df = permute(&by_hash, &self.df);
        self.own_df = permute(&by_hash, &self.own_df);
        self.general_df = permute(&by_hash, &self.general_df);
        self.hashes = permute(&by_hash, &self.hashes);
        for (id, &t) in self.hashes.iter().enumerate() {
            self.ids.insert(t, id as u32);
        }
    }

    /// The counts, of terms of `analysis`, as a background for another corpus.
    pub(crate) fn to_background(&self, analysis: StoryAnalysis) -> Background {
        let df = self
            .hashes
            .iter()
            .zip(&self.df)
            .filter(|&(_, &df)| df > 0)
            .map(|(&t, &df)| (t, df))
            .collect();
        Background {
            df,
            documents: self.documents,
            analysis,
        }
    }

    /// Removes one document with terms `terms` from the counts.
    pub(crate) fn uncount(&mut self, terms: &[(u64, f32)]) {
        self.documents = self.documents.saturating_sub(1);
        self.own_documents = self.own_documents.saturating_sub(1);
        for &(t, _) in terms {
            if let Some(&id) = self.ids.get(&t) {
                let id = id as usize;
                self.df[id] = self.df[id].saturating_sub(1);
                self.own_df[id] = self.own_df[id].saturating_sub(1);
            }
        }
    }

    fn df(&self, id: u32) -> u32 {
        self.df[id as usize]
    }

    /// The story size from which a story holds term `id` as often as chance would (see
    /// [`CHANCE_HOLDING`]).
    fn chance_size(&self, id: u32) -> f64 {
        let df = self.own_df[id as usize].max(1);
        CHANCE_HOLDING * self.own_documents as f64 / f64::from(df)
    }

    /// Whether a term is in at most 1% of the documents counted here, or `floor`: rare
    /// for the candidate rule (see [`Attacher::best`]).
    fn is_rare(&self, id: u32, floor: u64) -> bool {
        u64::from(self.own_df[id as usize]) <= (self.own_documents / 100).max(floor)
    }

    /// The term hash of an id.
    pub(crate) fn hash(&self, id: u32) -> u64 {
        self.hashes[id as usize]
    }

    /// Up to `limit` boilerplate terms, most widespread first (ties by hash): their
    /// hashes and shares of the documents.
    pub(crate) fn boilerplate(&self, limit: usize) -> Vec<(u64, f64)> {
        let mut found: Vec<(u32, u64)> = (0..self.df.len() as u32)
            .filter(|&id| is_boilerplate(self.documents, self.df(id)))
            .map(|id| (self.df(id), self.hash(id)))
            .collect();
        found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        found
            .into_iter()
            .take(limit)
            .map(|(df, t)| (t, f64::from(df) / self.documents as f64))
            .collect()
    }

    /// The unit vector of term frequencies `terms` (as [`super::term_frequencies`] gives
    /// them), weighted by idf, boilerplate and never-counted terms left out.
    pub(crate) fn weigh(&self, terms: &[(u64, f32)]) -> Vector {
        self.weigh_terms(terms, false, None).0
    }

    /// [`Vocabulary::weigh`] of a counted document, and its subject ([`SUBJECT_TERMS`]):
    /// a term is in it when another document holds it too, or when its frequency is
    /// above `repeated` ([`StoryParams::repeated_tf`]).
    pub(crate) fn weigh_document(&self, terms: &[(u64, f32)], repeated: f32) -> (Vector, Vec<u32>) {
        self.weigh_terms(terms, false, Some(repeated))
    }

    /// [`Vocabulary::weigh_document`] of a document whose terms this vocabulary knows are
    /// counted and whose others are not: those weigh as terms of one document, in the
    /// vector's length and in the subject's ranking, and are left out of both (no story
    /// holds them). Equal, bit for bit, to counting all of them and weighing, less those.
    pub(crate) fn weigh_new_document(
        &self,
        terms: &[(u64, f32)],
        repeated: f32,
    ) -> (Vector, Vec<u32>) {
        self.weigh_terms(terms, true, Some(repeated))
    }

    /// The vector of `terms` and, given `repeated`, its subject.
    fn weigh_terms(
        &self,
        terms: &[(u64, f32)],
        unseen_once: bool,
        repeated: Option<f32>,
    ) -> (Vector, Vec<u32>) {
        let articles = self.general.map_or(0.0, |g| g.articles());
        // (id, weight before scaling, idf, whether a subject term).
        let weighted: Vec<(Option<u32>, f64, f64, bool)> = terms
            .iter()
            .filter_map(|&(t, tf)| {
                let (id, df, general_df) = match self.ids.get(&t) {
                    Some(&id) => (Some(id), self.df(id), self.general_df[id as usize]),
                    None if unseen_once => (None, 1, self.general.map_or(0.0, |g| g.df(t))),
                    None => return None,
                };
                (!is_boilerplate(self.documents, df)).then(|| {
                    let idf = idf(
                        self.documents as f64 + articles,
                        f64::from(df) + f64::from(general_df),
                    );
                    let shared = id.is_some_and(|id| self.own_df[id as usize] >= 2);
                    let subject = shared || repeated.is_some_and(|r| tf > r);
                    (id, f64::from(tf) * idf, idf, subject)
                })
            })
            .collect();
        let subject = match repeated {
            Some(_) => heaviest_with_ties(
                (weighted.iter())
                    .filter(|&&(.., subject)| subject)
                    .map(|&(id, w, idf, _)| (id, w * idf))
                    .collect(),
            ),
            None => Vec::new(),
        };
        let norm = weighted.iter().map(|(_, w, ..)| w * w).sum::<f64>().sqrt();
        let norm = if norm > 0.0 { norm } else { 1.0 };
        let vector = weighted
            .into_iter()
            .filter_map(|(id, w, ..)| Some((id?, (w / norm) as f32)))
            .collect();
        (vector, subject)
    }

    /// The idf term `id` is weighed by.
    fn idf_of(&self, id: u32) -> f64 {
        let articles = self.general.map_or(0.0, |g| g.articles());
        let df = f64::from(self.df(id)) + f64::from(self.general_df[id as usize]);
        idf(self.documents as f64 + articles, df)
    }

    /// The id of a counted term.
    pub(crate) fn id(&self, t: u64) -> Option<u32> {
        self.ids.get(&t).copied()
    }

    /// Whether a term was ever counted.
    pub(crate) fn knows(&self, t: u64) -> bool {
        self.ids.contains_key(&t)
    }
}

/// One story as attachment sees it.
#[derive(Debug, Default)]
pub(crate) struct StoryState {
    /// Sum of the members' unit vectors, by term id.
    pub(crate) sum: PrehashedMap<u32, f32>,
    /// Members (vectors added).
    pub(crate) size: usize,
    /// The latest publication time of a member.
    pub(crate) latest: Option<i64>,
    /// Terms that members' copies hold beyond the members' vectors (a group of
    /// near-duplicates weighs as one of them), with how many members' copies hold them.
    copied: PrehashedMap<u32, u32>,
}

impl StoryState {
    /// Whether a member, or a copy of one, holds one of `terms`.
    fn holds_any(&self, terms: &[u32]) -> bool {
        (terms.iter()).any(|t| self.sum.contains_key(t) || self.copied.contains_key(t))
    }

    /// Mean cosine of unit vector `v` to the members.
    pub(crate) fn similarity(&self, v: &Vector) -> f64 {
        if self.size == 0 {
            return 0.0;
        }
        self.dot(v) / self.size as f64
    }

    fn dot(&self, v: &Vector) -> f64 {
        v.iter()
            .map(|&(t, w)| f64::from(w) * f64::from(self.sum.get(&t).copied().unwrap_or(0.0)))
            .sum()
    }

    /// Whether term `t`, of weight `w` in a document, is typical of the story (see
    /// [`TYPICAL_SHARE`]).
    fn typical(&self, t: u32, w: f32) -> bool {
        let mean = self.sum.get(&t).copied().unwrap_or(0.0) / self.size.max(1) as f32;
        mean >= TYPICAL_SHARE * w
    }

    /// Mean cosine of member `v` (added earlier) to the other members; 1 for a story of
    /// one.
    pub(crate) fn similarity_to_others(&self, v: &Vector) -> f64 {
        mean_to_others(&self.sum, self.size, v)
    }

    /// The positions in `members` (the story's member vectors) of those that drifted
    /// from the rest: whose mean cosine to the others is below `threshold`. Found in
    /// passes, at most [`SETTLE_PASSES`]: each takes out every member below it but the
    /// most similar one, and the rest are measured again without them (an early member
    /// the later ones drifted from leaves; those it pulled down may then reach it).
    pub(crate) fn drifted(&self, members: &[&Vector], threshold: f64) -> Vec<usize> {
        // The sum is copied only for a story that loses a member.
        let mut sum: Option<PrehashedMap<u32, f32>> = None;
        let mut staying: Vec<usize> = (0..members.len()).collect();
        let mut leaving = Vec::new();
        for _ in 0..SETTLE_PASSES {
            let n = staying.len();
            if n < 2 {
                break;
            }
            let current = sum.as_ref().unwrap_or(&self.sum);
            let similarity: Vec<f64> = staying
                .iter()
                .map(|&i| mean_to_others(current, n, members[i]))
                .collect();
            // The most similar member stays (the first of equals), so a story keeps one.
            let kept = (0..n).fold(0, |k, i| if similarity[i] > similarity[k] { i } else { k });
            let below: Vec<usize> = (0..n)
                .filter(|&i| i != kept && similarity[i] < threshold)
                .collect();
            if below.is_empty() {
                break;
            }
            let sum = sum.get_or_insert_with(|| self.sum.clone());
            for &i in &below {
                for &(t, w) in members[staying[i]] {
                    if let Some(s) = sum.get_mut(&t) {
                        *s -= w;
                    }
                }
                leaving.push(staying[i]);
            }
            let mut position = 0;
            staying.retain(|_| {
                position += 1;
                below.binary_search(&(position - 1)).is_err()
            });
        }
        leaving.sort_unstable();
        leaving
    }
}

/// Mean cosine of member `v` to the other members of a story of `size` members whose
/// vectors sum to `sum`; 1 for a story of one.
fn mean_to_others(sum: &PrehashedMap<u32, f32>, size: usize, v: &Vector) -> f64 {
    if size <= 1 {
        return 1.0;
    }
    let dot: f64 = v
        .iter()
        .map(|&(t, w)| f64::from(w) * f64::from(sum.get(&t).copied().unwrap_or(0.0)))
        .sum();
    let own: f64 = v.iter().map(|&(_, w)| f64::from(w) * f64::from(w)).sum();
    ((dot - own) / (size - 1) as f64).max(0.0)
}

/// The subject of a story's mean vector `v` ([`SUBJECT_TERMS`]): its terms another
/// document holds too, ranked by weight times idf.
pub(crate) fn subject(v: &Vector, vocabulary: &Vocabulary) -> Vec<u32> {
    heaviest_with_ties(
        (v.iter())
            .filter(|&&(t, _)| vocabulary.own_df[t as usize] >= 2)
            .map(|&(t, w)| (Some(t), f64::from(w) * vocabulary.idf_of(t)))
            .collect(),
    )
}

/// The ids of the ranked terms ranking at least as high as the [`SUBJECT_TERMS`]-th
/// (more than that many on a tie, so that terms of one rank are all in or all out, and
/// every engine picks alike), highest first, then by id; terms without an id (never
/// counted) take their place in the ranking and are left out.
fn heaviest_with_ties(mut ranked: Vec<(Option<u32>, f64)>) -> Vec<u32> {
    let mut top = [f64::NEG_INFINITY; SUBJECT_TERMS];
    for &(_, r) in &ranked {
        if let Some(at) = top.iter().position(|&x| r > x) {
            top[at..].rotate_right(1);
            top[at] = r;
        }
    }
    let floor = top[SUBJECT_TERMS - 1];
    ranked.retain(|&(id, r)| r >= floor && id.is_some());
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.into_iter().filter_map(|(id, _)| id).collect()
}

/// How many looked-up terms a story must hold to be compared with a document that looks
/// up `looked_up` terms: rewrites of one event share several of its names; one shared
/// rare term is chance, unless the document has only one to offer.
fn needed(looked_up: usize) -> usize {
    if looked_up >= 2 {
        2
    } else {
        1
    }
}

/// Whether term `t`, of weight `w` in the document looking, counts towards the
/// candidacy of story `s`, which holds it and whose size from `by_chance` on holds it
/// as by chance ([`CHANCE_HOLDING`]): only below that size, or when typical of the
/// story. Sizes are read from a slot per story; only a story large enough to hold the
/// term by chance has its sum looked up.
fn counts_towards(
    sizes: &[u32],
    stories: &PrehashedMap<u32, StoryState>,
    s: u32,
    by_chance: f64,
    t: u32,
    w: f32,
) -> bool {
    f64::from(sizes[s as usize]) < by_chance
        || stories.get(&s).is_some_and(|story| story.typical(t, w))
}

/// Why a story is, or is not, compared with a document (see [`Attacher::candidacy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidacy {
    /// The document's looked-up terms that count towards the story, heaviest first.
    pub(crate) terms: Vec<u32>,
    /// How many a story needs to be compared.
    pub(crate) needed: usize,
    /// Whether the story is among those compared (it may hold enough and still rank
    /// below the [`MAX_CANDIDATE_STORIES`] holding most).
    pub(crate) compared: bool,
    /// The document's subject ([`SUBJECT_TERMS`] heaviest terms, ties included),
    /// heaviest first.
    pub(crate) subject: Vec<u32>,
    /// Whether the story holds one of them, as a story it joins must.
    pub(crate) holds_subject: bool,
}

/// Stories and the postings that find them.
#[derive(Debug, Default)]
pub(crate) struct Attacher {
    pub(crate) stories: PrehashedMap<u32, StoryState>,
    /// By term id (ids are dense): the stories holding the term, oldest first; empty
    /// for a term no story holds.
    postings: Vec<VecDeque<u32>>,
    /// By story id: how many looked-up postings hold the story, while [`Attacher::best`]
    /// counts them; zero between calls.
    shared: Vec<u32>,
    /// By story id: its members, as in its [`StoryState`], read without a map lookup.
    sizes: Vec<u32>,
    /// By term id: how many stories hold the term (a weight in their sum; a member
    /// leaving takes the terms only it held, [`Attacher::remove`]).
    holding: Vec<u32>,
}

impl Attacher {
    /// The best story for unit vector `v` published `when`, and its decayed similarity,
    /// if one reaches the threshold; never one of `barred` (sorted: the stories of the
    /// vector's own copies published further apart than the window, another event's).
    /// `vocabulary` is the one the vector was weighted by.
    pub(crate) fn best(
        &mut self,
        v: &Vector,
        subject: &[u32],
        when: Option<i64>,
        params: &StoryParams,
        vocabulary: &Vocabulary,
        barred: &[u32],
    ) -> Option<(f64, u32)> {
        let mut best: Option<(f64, u32)> = None;
        for (s, _) in self.candidates(v, vocabulary, barred) {
            let story = &self.stories[&s];
            if !story.holds_any(subject) {
                continue;
            }
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

    /// The stories [`Attacher::best`] compares `v` with (the subject rule aside), and how
    /// many of its looked-up terms each holds: those holding [`needed`] of them, most
    /// first, none of `barred`, at most [`MAX_CANDIDATE_STORIES`].
    fn candidates(
        &mut self,
        v: &Vector,
        vocabulary: &Vocabulary,
        barred: &[u32],
    ) -> Vec<(u32, u32)> {
        let looked_up = self.looked_up(v, vocabulary);
        // How many of the looked-up terms each story holds (a story is in a term's
        // postings once), counted in a slot per story id: the up to 12 × 256 entries
        // cost an increment each. `stories` on 200,000 documents of random words, whose
        // every term is rare and every posting list full, took 22.7 s counting so and
        // 29.4 s sorting the entries into runs.
        let (shared, sizes, stories) = (&mut self.shared, &self.sizes, &self.stories);
        let mut candidates: Vec<(u32, u32)> = Vec::new();
        for &(t, w) in &looked_up {
            let by_chance = vocabulary.chance_size(t);
            for &s in &self.postings[t as usize] {
                if !counts_towards(sizes, stories, s, by_chance, t, w) {
                    continue;
                }
                let count = &mut shared[s as usize];
                if *count == 0 {
                    candidates.push((s, 0));
                }
                *count += 1;
            }
        }
        for (s, n) in &mut candidates {
            *n = std::mem::take(&mut shared[*s as usize]);
        }
        let needed = needed(looked_up.len());
        candidates.retain(|&(_, n)| n as usize >= needed);
        candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        candidates.retain(|(s, _)| barred.binary_search(s).is_err());
        candidates.truncate(MAX_CANDIDATE_STORIES);
        candidates
    }

    /// The terms of `v` looked up in the postings, with their weights: its heaviest rare
    /// terms that some story holds, at most [`RAREST_TERMS`].
    fn looked_up(&self, v: &Vector, vocabulary: &Vocabulary) -> Vec<(u32, f32)> {
        let holding = &self.holding;
        let rare = |t: u32| {
            vocabulary.is_rare(t, RARE_DOCUMENTS)
                || (holding.get(t as usize) == Some(&1)
                    && vocabulary.is_rare(t, ONE_STORY_DOCUMENTS))
        };
        let mut rarest: Vec<(u32, f32)> = v.iter().copied().filter(|&(t, _)| rare(t)).collect();
        rarest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // Only terms some story holds can find one: a long article's own figures and
        // names, rarest of all, would otherwise take every slot and hide the terms it
        // shares with a short report of the same event (a headline-only flash).
        rarest.retain(|&(t, _)| self.postings.get(t as usize).is_some_and(|p| !p.is_empty()));
        rarest.truncate(RAREST_TERMS);
        rarest
    }

    /// Why story `s` is, or is not, compared with `v` (see [`Attacher::best`]), as things
    /// stand: of `v`'s looked-up terms, those counting towards `s`.
    pub(crate) fn candidacy(
        &mut self,
        v: &Vector,
        subject: &[u32],
        vocabulary: &Vocabulary,
        s: u32,
    ) -> Candidacy {
        let looked_up = self.looked_up(v, vocabulary);
        let terms = looked_up
            .iter()
            .filter(|&&(t, w)| {
                self.postings[t as usize].contains(&s)
                    && counts_towards(
                        &self.sizes,
                        &self.stories,
                        s,
                        vocabulary.chance_size(t),
                        t,
                        w,
                    )
            })
            .map(|&(t, _)| t)
            .collect();
        Candidacy {
            terms,
            needed: needed(looked_up.len()),
            holds_subject: self
                .stories
                .get(&s)
                .is_some_and(|story| story.holds_any(subject)),
            subject: subject.to_vec(),
            compared: self
                .candidates(v, vocabulary, &[])
                .iter()
                .any(|&(c, _)| c == s),
        }
    }

    /// Takes member `v` out of story `s`, whose latest publication time is then
    /// `latest`. Terms no member left holds leave the story's sum and postings, so that
    /// they neither find it (a candidate slot, and a looked-up term's count towards it)
    /// nor count as held by it (the one-story rule). Members move seldom (settling), so
    /// the scan of a term's postings (at most [`MAX_POSTINGS`]) is paid seldom.
    pub(crate) fn remove(&mut self, s: u32, v: &Vector, latest: Option<i64>) {
        let Some(story) = self.stories.get_mut(&s) else {
            return;
        };
        for &(t, w) in v {
            if let Entry::Occupied(mut slot) = story.sum.entry(t) {
                *slot.get_mut() -= w;
                // The last member holding the term left (what rounding leaves of a sum
                // is far below any member's weight): the story no longer holds it.
                if *slot.get() <= GONE {
                    slot.remove();
                    if let Some(n) = self.holding.get_mut(t as usize) {
                        *n = n.saturating_sub(1);
                    }
                    if let Some(p) = self.postings.get_mut(t as usize) {
                        p.retain(|&x| x != s);
                    }
                }
            }
        }
        story.size = story.size.saturating_sub(1);
        story.latest = latest;
        self.sizes[s as usize] = story.size as u32;
    }

    /// Adds terms that a member of story `s` added with [`Attacher::add`] holds in copies
    /// of it and not in its vector: the story holds them for the subject rule.
    pub(crate) fn add_copied(&mut self, s: u32, terms: &[u32]) {
        if let Some(story) = self.stories.get_mut(&s) {
            for &t in terms {
                *story.copied.entry(t).or_default() += 1;
            }
        }
    }

    /// Takes out terms [`Attacher::add_copied`] added for a member leaving story `s`.
    pub(crate) fn remove_copied(&mut self, s: u32, terms: &[u32]) {
        if let Some(story) = self.stories.get_mut(&s) {
            for t in terms {
                if let Entry::Occupied(mut slot) = story.copied.entry(*t) {
                    *slot.get_mut() -= 1;
                    if *slot.get() == 0 {
                        slot.remove();
                    }
                }
            }
        }
    }

    /// Empties story `s` (its members merged into another). It stays in postings, where
    /// it scores nothing.
    pub(crate) fn clear(&mut self, s: u32) {
        if let Some(story) = self.stories.get_mut(&s) {
            for &t in story.sum.keys() {
                if let Some(n) = self.holding.get_mut(t as usize) {
                    *n = n.saturating_sub(1);
                }
            }
            *story = StoryState::default();
            self.sizes[s as usize] = 0;
        }
    }

    /// Adds unit vector `v` published `when` to story `s` (created if new).
    pub(crate) fn add(&mut self, s: u32, v: &Vector, when: Option<i64>) {
        let story = self.stories.entry(s).or_default();
        // Most stories are one document: a new story's sum is sized once for its terms.
        if story.size == 0 {
            story.sum.reserve(v.len());
            if self.shared.len() <= s as usize {
                self.shared.resize(s as usize + 1, 0);
                self.sizes.resize(s as usize + 1, 0);
            }
        }
        for &(t, w) in v {
            match story.sum.entry(t) {
                Entry::Occupied(mut slot) => *slot.get_mut() += w,
                Entry::Vacant(slot) => {
                    slot.insert(w);
                    if self.postings.len() <= t as usize {
                        self.postings.resize_with(t as usize + 1, VecDeque::new);
                    }
                    if self.holding.len() <= t as usize {
                        self.holding.resize(t as usize + 1, 0);
                    }
                    self.holding[t as usize] += 1;
                    let postings = &mut self.postings[t as usize];
                    if postings.len() >= MAX_POSTINGS {
                        postings.pop_front();
                    }
                    postings.push_back(s);
                }
            }
        }
        story.size += 1;
        self.sizes[s as usize] = story.size as u32;
        story.latest = match (story.latest, when) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// A tracker's counts and stories as flat columns ([`StoryTracker`]'s `to_columns`), to
/// be stored and read back exactly: the same term ids, sums to the bit, postings in
/// their order.
///
/// [`StoryTracker`]: super::StoryTracker
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct TrackerColumns {
    /// Term hashes by id, and each term's document frequency with the background's
    /// counts and without.
    pub(crate) hashes: Vec<u64>,
    pub(crate) df: Vec<u32>,
    pub(crate) own_df: Vec<u32>,
    /// Documents counted, with the background's and without.
    pub(crate) documents: u64,
    pub(crate) own_documents: u64,
    /// Stories by increasing key: the key, members, latest publication time (i64::MIN:
    /// none) and where its terms end in `sum_terms`.
    pub(crate) story_keys: Vec<u32>,
    pub(crate) story_sizes: Vec<u32>,
    pub(crate) story_latest: Vec<i64>,
    pub(crate) sum_ends: Vec<u64>,
    /// Each story's summed weights, by increasing term id.
    pub(crate) sum_terms: Vec<u32>,
    pub(crate) sum_weights: Vec<f32>,
    /// By term id, where its postings end in `postings`, which hold positions in
    /// `story_keys`, oldest story first.
    pub(crate) posting_ends: Vec<u64>,
    pub(crate) postings: Vec<u32>,
    /// By term id: how many stories hold it.
    pub(crate) holding: Vec<u32>,
}

/// What a stored tracker file holds, in [`TrackerColumns`]' layout, from wherever it
/// is: the columns themselves, or a live tracker ([`TrackerView`]) whose large columns
/// are produced as they are written rather than copied first.
pub(crate) trait TrackerSource {
    /// Documents counted, with the background's and without.
    fn counted(&self) -> (u64, u64);
    fn hashes(&self) -> &[u64];
    fn df(&self) -> &[u32];
    fn own_df(&self) -> &[u32];
    fn story_sizes(&self) -> &[u32];
    fn story_latest(&self) -> &[i64];
    fn sum_ends(&self) -> &[u64];
    /// The stories' summed terms and weights (as many as the last of `sum_ends`).
    fn sum_terms(&self) -> Box<dyn Iterator<Item = u32> + '_>;
    fn sum_weights(&self) -> Box<dyn Iterator<Item = f32> + '_>;
    /// How many terms have postings, and how many postings there are.
    fn posting_counts(&self) -> (usize, usize);
    fn posting_ends(&self) -> Box<dyn Iterator<Item = u64> + '_>;
    fn postings(&self) -> Box<dyn Iterator<Item = u32> + '_>;
    fn holding(&self) -> &[u32];
}

impl TrackerSource for TrackerColumns {
    fn counted(&self) -> (u64, u64) {
        (self.documents, self.own_documents)
    }
    fn hashes(&self) -> &[u64] {
        &self.hashes
    }
    fn df(&self) -> &[u32] {
        &self.df
    }
    fn own_df(&self) -> &[u32] {
        &self.own_df
    }
    fn story_sizes(&self) -> &[u32] {
        &self.story_sizes
    }
    fn story_latest(&self) -> &[i64] {
        &self.story_latest
    }
    fn sum_ends(&self) -> &[u64] {
        &self.sum_ends
    }
    fn sum_terms(&self) -> Box<dyn Iterator<Item = u32> + '_> {
        Box::new(self.sum_terms.iter().copied())
    }
    fn sum_weights(&self) -> Box<dyn Iterator<Item = f32> + '_> {
        Box::new(self.sum_weights.iter().copied())
    }
    fn posting_counts(&self) -> (usize, usize) {
        (self.posting_ends.len(), self.postings.len())
    }
    fn posting_ends(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        Box::new(self.posting_ends.iter().copied())
    }
    fn postings(&self) -> Box<dyn Iterator<Item = u32> + '_> {
        Box::new(self.postings.iter().copied())
    }
    fn holding(&self) -> &[u32] {
        &self.holding
    }
}

/// A live tracker seen as its stored columns ([`Attacher::view`]): the vocabulary's
/// columns borrowed, the per-story ones built (a few words a story), the stories'
/// sums and the postings produced as written. Storing a tracker so holds no second
/// copy of it (the copy cost about a tenth more peak memory at a commit that stored).
pub(crate) struct TrackerView<'a> {
    vocabulary: &'a Vocabulary,
    attacher: &'a Attacher,
    /// Story ids in increasing order, and per story its members, latest time and
    /// where its sum ends.
    keys: Vec<u32>,
    sizes: Vec<u32>,
    latest: Vec<i64>,
    sum_ends: Vec<u64>,
    /// By story id: its place in `keys`, which postings store.
    position: Vec<u32>,
    postings: usize,
}

impl TrackerView<'_> {
    /// Story ids in increasing order, as the columns list the stories.
    pub(crate) fn story_keys(&self) -> &[u32] {
        &self.keys
    }

    /// Each story's sum by increasing term id.
    fn sums(&self) -> impl Iterator<Item = Vec<(u32, f32)>> + '_ {
        self.keys.iter().map(|k| {
            let mut sum: Vec<(u32, f32)> = (self.attacher.stories[k].sum.iter())
                .map(|(&t, &w)| (t, w))
                .collect();
            sum.sort_unstable_by_key(|&(t, _)| t);
            sum
        })
    }

    /// The columns collected, as a reader gets them back.
    #[cfg(test)]
    pub(crate) fn to_columns(&self) -> TrackerColumns {
        let (documents, own_documents) = self.counted();
        TrackerColumns {
            hashes: self.hashes().to_vec(),
            df: self.df().to_vec(),
            own_df: self.own_df().to_vec(),
            documents,
            own_documents,
            story_keys: self.keys.clone(),
            story_sizes: self.sizes.clone(),
            story_latest: self.latest.clone(),
            sum_ends: self.sum_ends.clone(),
            sum_terms: self.sum_terms().collect(),
            sum_weights: self.sum_weights().collect(),
            posting_ends: self.posting_ends().collect(),
            postings: self.postings().collect(),
            holding: self.holding().to_vec(),
        }
    }
}

impl TrackerSource for TrackerView<'_> {
    fn counted(&self) -> (u64, u64) {
        (self.vocabulary.documents, self.vocabulary.own_documents)
    }
    fn hashes(&self) -> &[u64] {
        &self.vocabulary.hashes
    }
    fn df(&self) -> &[u32] {
        &self.vocabulary.df
    }
    fn own_df(&self) -> &[u32] {
        &self.vocabulary.own_df
    }
    fn story_sizes(&self) -> &[u32] {
        &self.sizes
    }
    fn story_latest(&self) -> &[i64] {
        &self.latest
    }
    fn sum_ends(&self) -> &[u64] {
        &self.sum_ends
    }
    fn sum_terms(&self) -> Box<dyn Iterator<Item = u32> + '_> {
        Box::new(self.sums().flat_map(|sum| sum.into_iter().map(|(t, _)| t)))
    }
    fn sum_weights(&self) -> Box<dyn Iterator<Item = f32> + '_> {
        Box::new(self.sums().flat_map(|sum| sum.into_iter().map(|(_, w)| w)))
    }
    fn posting_counts(&self) -> (usize, usize) {
        (self.attacher.postings.len(), self.postings)
    }
    fn posting_ends(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        let mut end = 0u64;
        Box::new(self.attacher.postings.iter().map(move |list| {
            end += list.len() as u64;
            end
        }))
    }
    fn postings(&self) -> Box<dyn Iterator<Item = u32> + '_> {
        // Every posting's story has a place: `Attacher::view` checked.
        let place = |s: &u32| self.position.get(*s as usize).copied().unwrap_or(u32::MAX);
        Box::new(self.attacher.postings.iter().flatten().map(place))
    }
    fn holding(&self) -> &[u32] {
        &self.attacher.holding
    }
}

/// `ends` as ranges of an array of `len` entries, or what is wrong with them.
fn column_ranges(
    ends: &[u64],
    len: usize,
    what: &str,
) -> std::result::Result<Vec<std::ops::Range<usize>>, String> {
    let mut start = 0usize;
    let mut ranges = Vec::with_capacity(ends.len());
    for &end in ends {
        let end = usize::try_from(end).unwrap_or(usize::MAX);
        if end < start || end > len {
            return Err(format!("{what} out of order"));
        }
        ranges.push(start..end);
        start = end;
    }
    if start != len {
        return Err(format!("{what} do not cover their entries"));
    }
    Ok(ranges)
}

impl Vocabulary {
    /// Terms numbered.
    pub(crate) fn terms(&self) -> usize {
        self.hashes.len()
    }

    /// The vocabulary of terms of `analysis` that `c`'s columns hold (taken from it),
    /// or what is inconsistent in them.
    pub(crate) fn from_columns(
        analysis: StoryAnalysis,
        c: &mut TrackerColumns,
    ) -> std::result::Result<Vocabulary, String> {
        let n = c.hashes.len();
        if c.df.len() != n || c.own_df.len() != n || u32::try_from(n).is_err() {
            return Err("term columns of different lengths".into());
        }
        if c.own_documents > c.documents {
            return Err("more documents counted than in all".into());
        }
        let mut vocabulary = Vocabulary::new(analysis);
        vocabulary.ids.reserve(n);
        for (id, &t) in c.hashes.iter().enumerate() {
            if vocabulary.ids.insert(t, id as u32).is_some() {
                return Err("a term listed twice".into());
            }
        }
        let general = vocabulary.general;
        vocabulary.general_df = (c.hashes.iter())
            .map(|&t| general.map_or(0.0, |g| g.df(t)))
            .collect();
        vocabulary.hashes = std::mem::take(&mut c.hashes);
        vocabulary.df = std::mem::take(&mut c.df);
        vocabulary.own_df = std::mem::take(&mut c.own_df);
        vocabulary.documents = c.documents;
        vocabulary.own_documents = c.own_documents;
        Ok(vocabulary)
    }
}

impl Attacher {
    /// The tracker of these stories and `vocabulary`'s counts as its stored columns,
    /// or none if a story holds terms of its members' copies ([`Attacher::add_copied`],
    /// which only `stories` uses), which the columns do not keep.
    pub(crate) fn view<'a>(&'a self, vocabulary: &'a Vocabulary) -> Option<TrackerView<'a>> {
        let mut keys: Vec<u32> = self.stories.keys().copied().collect();
        keys.sort_unstable();
        let (mut sizes, mut latest) = (Vec::with_capacity(keys.len()), Vec::new());
        let (mut sum_ends, mut entries) = (Vec::with_capacity(keys.len()), 0u64);
        latest.reserve(keys.len());
        for s in &keys {
            let story = &self.stories[s];
            if !story.copied.is_empty() {
                return None;
            }
            entries += story.sum.len() as u64;
            sum_ends.push(entries);
            sizes.push(story.size as u32);
            latest.push(story.latest.unwrap_or(i64::MIN));
        }
        let slots = keys.last().map_or(0, |&k| k as usize + 1);
        let mut position = vec![u32::MAX; slots];
        for (i, &k) in keys.iter().enumerate() {
            position[k as usize] = i as u32;
        }
        let mut postings = 0;
        for list in &self.postings {
            let known = |s: &u32| position.get(*s as usize).is_some_and(|&p| p != u32::MAX);
            if !list.iter().all(known) {
                return None;
            }
            postings += list.len();
        }
        Some(TrackerView {
            vocabulary,
            attacher: self,
            keys,
            sizes,
            latest,
            sum_ends,
            position,
            postings,
        })
    }

    /// The stories and postings `c`'s columns hold, over `terms` term ids, or what is
    /// inconsistent in them. Whatever the columns say, what is built is safe to use:
    /// every posting names a story held, every id is in range.
    pub(crate) fn from_columns(
        c: &TrackerColumns,
        terms: usize,
    ) -> std::result::Result<Attacher, String> {
        let k = c.story_keys.len();
        if c.story_sizes.len() != k || c.story_latest.len() != k || c.sum_ends.len() != k {
            return Err("story columns of different lengths".into());
        }
        if c.story_keys.windows(2).any(|w| w[0] >= w[1]) {
            return Err("stories out of order".into());
        }
        if c.sum_weights.len() != c.sum_terms.len() {
            return Err("story sums of different lengths".into());
        }
        let slots = c.story_keys.last().map_or(0, |&s| s as usize + 1);
        let mut attacher = Attacher {
            shared: vec![0; slots],
            sizes: vec![0; slots],
            ..Attacher::default()
        };
        attacher.stories.reserve(k);
        let ranges = column_ranges(&c.sum_ends, c.sum_terms.len(), "story sums")?;
        for (i, range) in ranges.into_iter().enumerate() {
            let (ts, ws) = (&c.sum_terms[range.clone()], &c.sum_weights[range]);
            if ts.windows(2).any(|w| w[0] >= w[1])
                || ts.last().is_some_and(|&t| t as usize >= terms)
            {
                return Err("a story's terms out of order or unknown".into());
            }
            if ws.iter().any(|w| !w.is_finite()) {
                return Err("a story's weight is not a number".into());
            }
            let mut sum = PrehashedMap::default();
            sum.reserve(ts.len());
            sum.extend(ts.iter().copied().zip(ws.iter().copied()));
            let (key, size) = (c.story_keys[i], c.story_sizes[i]);
            attacher.sizes[key as usize] = size;
            let latest = Some(c.story_latest[i]).filter(|&t| t != i64::MIN);
            attacher.stories.insert(
                key,
                StoryState {
                    sum,
                    size: size as usize,
                    latest,
                    copied: PrehashedMap::default(),
                },
            );
        }
        if c.posting_ends.len() > terms || c.holding.len() > terms {
            return Err("postings of unknown terms".into());
        }
        let ranges = column_ranges(&c.posting_ends, c.postings.len(), "postings")?;
        attacher.postings = Vec::with_capacity(ranges.len());
        for range in ranges {
            let list = &c.postings[range];
            if list.len() > MAX_POSTINGS || list.iter().any(|&i| i as usize >= k) {
                return Err("a term's postings too long or of unknown stories".into());
            }
            (attacher.postings).push(list.iter().map(|&i| c.story_keys[i as usize]).collect());
        }
        attacher.holding = c.holding.clone();
        Ok(attacher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::Granularity;

    /// Term hashes: a results template, the names of one happening, and five figures
    /// of each member of a story.
    const TEMPLATE: [u64; 3] = [1, 2, 3];
    const NAMES: [u64; 2] = [11, 12];
    fn figure(member: u64, k: u64) -> u64 {
        1_000 + member * 10 + k
    }

    fn terms(hashes: impl IntoIterator<Item = u64>) -> Vec<(u64, f32)> {
        hashes.into_iter().map(|t| (t, 1.0)).collect()
    }

    /// A story (id 0) of 40 reports, each holding the template, the names when `named`,
    /// and five figures of its own that four other documents quote too; another story
    /// (id 1) holds the template, so the template's words are rare by no rule.
    fn large_story(named: bool) -> (Vocabulary, Attacher) {
        let mut vocabulary = Vocabulary::new(StoryAnalysis::Words);
        let names = if named { NAMES.to_vec() } else { Vec::new() };
        let members: Vec<Vec<(u64, f32)>> = (0..40)
            .map(|m| {
                terms(
                    TEMPLATE
                        .into_iter()
                        .chain(names.clone())
                        .chain((0..5).map(|k| figure(m, k))),
                )
            })
            .collect();
        let other = terms(TEMPLATE.into_iter().chain([99]));
        for member in members.iter().chain([&other]) {
            vocabulary.count(member, 1);
        }
        for m in 0..40 {
            for k in 0..5 {
                vocabulary.count(&[(figure(m, k), 1.0)], 4);
            }
        }
        let mut attacher = Attacher::default();
        for member in &members {
            attacher.add(0, &vocabulary.weigh(member), None);
        }
        attacher.add(1, &vocabulary.weigh(&other), None);
        (vocabulary, attacher)
    }

    #[test]
    fn a_large_story_is_not_found_by_one_members_figures() {
        let params = Granularity::Story.params();
        let (mut vocabulary, mut attacher) = large_story(false);
        // Another company's report in the template, quoting two of the first report's
        // figures.
        let report = terms(TEMPLATE.into_iter().chain([figure(0, 0), figure(0, 1)]));
        vocabulary.count(&report, 1);
        let (v, subject) = vocabulary.weigh_document(&report, params.repeated_tf());
        // Its mean cosine through the template reaches the threshold and the story holds
        // its subject (the quoted figures): only the candidate rule keeps it out.
        assert!(attacher.stories[&0].similarity(&v) >= params.threshold);
        assert!(attacher.stories[&0].holds_any(&subject));
        assert_eq!(
            attacher.best(&v, &subject, None, &params, &vocabulary, &[]),
            None
        );
    }

    #[test]
    fn a_large_story_is_found_by_the_names_its_members_share() {
        let params = Granularity::Story.params();
        let (mut vocabulary, mut attacher) = large_story(true);
        let report = terms(TEMPLATE.into_iter().chain(NAMES));
        vocabulary.count(&report, 1);
        let (v, subject) = vocabulary.weigh_document(&report, params.repeated_tf());
        let found = attacher.best(&v, &subject, None, &params, &vocabulary, &[]);
        assert_eq!(found.map(|(_, s)| s), Some(0));
    }

    /// The term frequency of `count` mentions, none in a title.
    fn mentions(count: f32) -> f32 {
        1.0 + count.ln()
    }

    /// Reports in one template: `first` and `again` on the first company, `second` on
    /// the second. Each writes its company's name three times; `first` and `second`
    /// their plant's too, `again` term 41 once.
    struct Template {
        first: Vec<(u64, f32)>,
        again: Vec<(u64, f32)>,
        second: Vec<(u64, f32)>,
    }

    const COMPANY: [u64; 2] = [11, 12];
    const PLANT: [u64; 2] = [31, 32];

    impl Template {
        fn new() -> Template {
            let report = |c: usize, own: &[(u64, f32)]| -> Vec<(u64, f32)> {
                let mut terms = terms(TEMPLATE.into_iter().chain([4]));
                terms.push((COMPANY[c], mentions(3.0)));
                terms.extend_from_slice(own);
                terms.sort_by_key(|&(t, _)| t);
                terms
            };
            Template {
                first: report(0, &[(PLANT[0], mentions(3.0))]),
                again: report(0, &[(41, 1.0)]),
                second: report(1, &[(PLANT[1], mentions(3.0))]),
            }
        }

        /// The documents counted (and `more`), and a story (id 0) of the first report.
        fn counted(&self, more: &[&[(u64, f32)]]) -> (Vocabulary, Attacher) {
            let mut vocabulary = Vocabulary::new(StoryAnalysis::Words);
            for doc in [&self.first[..], &self.again, &self.second]
                .iter()
                .chain(more)
            {
                vocabulary.count(doc, 1);
            }
            let mut attacher = Attacher::default();
            attacher.add(0, &vocabulary.weigh(&self.first), None);
            (vocabulary, attacher)
        }
    }

    /// The template gives the second company's report a mean cosine past the threshold
    /// to the first's story, and the candidate rule compares them, but the story holds
    /// nothing of the report's subject (its name and plant, which another document
    /// holds too): it does not join. Another report on the first company does; a term
    /// in one document, mentioned once, is nobody's subject.
    #[test]
    fn a_story_is_joined_only_by_a_report_on_its_subject() {
        let params = Granularity::Story.params();
        let reports = Template::new();
        let elsewhere = terms([COMPANY[1], PLANT[1]]);
        let (vocabulary, mut attacher) = reports.counted(&[&elsewhere]);
        let id = |hash: u64| *vocabulary.ids.get(&hash).expect("counted");

        let (v, subject) = vocabulary.weigh_document(&reports.second, params.repeated_tf());
        assert!(attacher.stories[&0].similarity(&v) >= params.threshold);
        let found = attacher.candidacy(&v, &subject, &vocabulary, 0);
        let mut expected = vec![id(COMPANY[1]), id(PLANT[1])];
        expected.sort_unstable();
        assert!(found.compared, "{found:?}");
        assert_eq!(found.subject, expected, "{found:?}");
        assert!(!found.holds_subject);
        assert_eq!(
            attacher.best(&v, &subject, None, &params, &vocabulary, &[]),
            None
        );

        // The first company's name leads the other report's subject; term 41, in that
        // report alone and heavier than the template's words, is not in it.
        let (v, subject) = vocabulary.weigh_document(&reports.again, params.repeated_tf());
        let found = attacher.candidacy(&v, &subject, &vocabulary, 0);
        assert_eq!(found.subject[0], id(COMPANY[0]), "{found:?}");
        assert!(!found.subject.contains(&id(41)), "{found:?}");
        assert!(found.holds_subject);
        let joined = attacher.best(&v, &subject, None, &params, &vocabulary, &[]);
        assert_eq!(joined.map(|(_, s)| s), Some(0));
    }

    /// At arrival a company's name is in its first report alone. Repeated there, it is
    /// of the report's subject all the same, and the report does not join another
    /// company's story in its template; mentioned once, it would not be, and the
    /// template's words would let the report in. Weighed before its new terms are
    /// counted (an index's preview), the report has the vector and subject it has once
    /// they are, less the terms no story can hold yet.
    #[test]
    fn a_term_a_document_repeats_is_of_its_subject_before_another_holds_it() {
        let params = Granularity::Story.params();
        let reports = Template::new();
        let (vocabulary, mut attacher) = reports.counted(&[]);
        let id = |hash: u64| *vocabulary.ids.get(&hash).expect("counted");
        let (v, subject) = vocabulary.weigh_document(&reports.second, params.repeated_tf());
        let mut expected = vec![id(COMPANY[1]), id(PLANT[1])];
        expected.sort_unstable();
        assert_eq!(subject, expected);
        assert!(attacher.stories[&0].similarity(&v) >= params.threshold);
        assert_eq!(
            attacher.best(&v, &subject, None, &params, &vocabulary, &[]),
            None
        );

        let once: Vec<(u64, f32)> = (reports.second.iter())
            .map(|&(t, tf)| (t, tf.min(1.0)))
            .collect();
        let (v, subject) = vocabulary.weigh_document(&once, params.repeated_tf());
        assert!(!subject.contains(&id(COMPANY[1])), "{subject:?}");
        let joined = attacher.best(&v, &subject, None, &params, &vocabulary, &[]);
        assert_eq!(joined.map(|(_, s)| s), Some(0));

        // The same report before its name and plant were ever counted.
        let mut before = Vocabulary::new(StoryAnalysis::Words);
        for doc in [&reports.first, &reports.again] {
            before.count(doc, 1);
        }
        let known: Vec<(u64, f32)> = (reports.second.iter())
            .filter(|&&(t, _)| before.knows(t))
            .copied()
            .collect();
        before.count(&known, 1);
        let previewed = before.weigh_new_document(&reports.second, params.repeated_tf());
        let mut after = Vocabulary::new(StoryAnalysis::Words);
        for doc in [&reports.first, &reports.again, &reports.second] {
            after.count(doc, 1);
        }
        let (v, subject) = after.weigh_document(&reports.second, params.repeated_tf());
        let new = |&(t, _): &(u32, f32)| !before.knows(after.hash(t));
        assert_eq!(v.iter().filter(|x| new(x)).count(), 2);
        assert_eq!(
            previewed.0,
            v.into_iter().filter(|x| !new(x)).collect::<Vector>()
        );
        assert_eq!(subject.len(), 2);
        assert!(previewed.1.is_empty(), "{:?}", previewed.1);
    }

    /// A member that leaves a story takes the terms only it held: they no longer find
    /// the story, nor count as held by it; the terms the others hold stay.
    #[test]
    fn a_member_leaving_takes_the_terms_only_it_held() {
        let mut vocabulary = Vocabulary::new(StoryAnalysis::Words);
        let staying = terms(NAMES.into_iter().chain([21]));
        let leaving = terms(NAMES.into_iter().chain([31, 32]));
        for doc in [&staying, &leaving] {
            vocabulary.count(doc, 1);
        }
        let (staying, leaving) = (vocabulary.weigh(&staying), vocabulary.weigh(&leaving));
        let mut attacher = Attacher::default();
        attacher.add(0, &staying, None);
        attacher.add(0, &leaving, None);
        attacher.remove(0, &leaving, None);
        let id = |hash: u64| *vocabulary.ids.get(&hash).expect("counted");
        let own = [31, 32].map(id);
        let looking = [NAMES[0], NAMES[1], 31, 32].map(|h| (id(h), 0.5));
        let found = attacher.candidacy(&looking.to_vec(), &[], &vocabulary, 0);
        assert_eq!(found.terms, NAMES.map(id), "{found:?}");
        for t in own {
            assert_eq!(attacher.holding[t as usize], 0);
            assert!(attacher.postings[t as usize].is_empty());
            assert!(!attacher.stories[&0].sum.contains_key(&t));
        }
        assert_eq!(attacher.holding[id(NAMES[0]) as usize], 1);
    }
}
