//! Story and event clustering: groups independent rewrites of one happening, with
//! near-duplicate groups nested inside each story.
//!
//! Unweighted shingle overlap cannot tell "same event" from "same topic": rewrites share
//! few phrases, and the words they do share are often the topic's common vocabulary. This
//! layer weights terms instead:
//!
//! 1. **Near-duplicate groups** first (the `dup` preset): copies of one article enter the
//!    story layer as one unit, so a story always holds whole groups.
//! 2. **Weighted terms** per group: unigrams after normalization, stopword removal and
//!    Arabic light stemming, title terms counted twice, weighted by sublinear term
//!    frequency and inverse document frequency over the input (and a [`Background`]
//!    corpus, if given, and general English and Arabic word frequencies as a prior of a
//!    few hundred articles, see `general`), boilerplate terms dropped (see `attach` for
//!    the weights, the criterion and the candidates).
//! 3. **Group-average attachment**: groups are visited in time order (then by a hash of
//!    their text, so that no order of the input changes a story; a group weighs as its
//!    longest member); each joins the candidate story whose members it resembles most
//!    on average (mean cosine), if that similarity times the time decay reaches the
//!    threshold, and otherwise starts a story. Once all have joined, a member the story
//!    drifted from (its mean cosine to the rest now below the threshold, as later
//!    reports moved on from it) leaves and joins the best other story or starts one. On
//!    the dated Reuters wire 94 members left at `story`, among them a Montreal exchange
//!    appointment at 0.03 to a story of eurobond issues; of 25 read, about 17 were
//!    rightly out and 4 or 5 (a delayed ICO board meeting among coffee-quota reports)
//!    were wrongly. Then stories whose members resemble each other's at the threshold
//!    on average merge (average link; a flash and its article that started two
//!    stories), members that resemble another story clearly more than the rest of
//!    their own move there (a story's founder that later joiners took elsewhere), and
//!    members that drifted leave again. Each story reports its least similar member.
//! 4. **Time**: when both sides have a `published` time, a group further than the window
//!    from the story's latest member cannot join it, and within the window similarity is
//!    scaled down linearly to half at the window's edge. Groups without a time match
//!    without decay. Copies published further apart than the window are split into
//!    separate groups first: a weekly template report is a near-duplicate of last
//!    week's, but another event. Nor does a later part join a story holding an earlier
//!    one, which the window, sliding with other reports, could otherwise allow: on the
//!    dated Reuters wire at `event` that parted 37 linked pairs, the Fed's daily
//!    repurchase reports and two Japanese rapeseed purchases four days apart among
//!    them.
//!
//! The index assigns arriving documents to stories with the same `attach` code, its
//! document frequencies being those of the documents stored so far. It answers each
//! document's story when it arrives and keeps that answer, so a story of the index can
//! keep a member the story later drifted from, which `stories` lets go or moves, and
//! two of its stories that `stories` would merge stay two.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::doc::{printable, DocIndex, Document};
use crate::error::{Error, Result};
use crate::minhash::PrehashedMap;
use crate::normalize::normalize;
use crate::pipeline::{self, Preset};
use crate::record::{records_of, Engine};
use crate::{KeepPolicy, Params};

pub(crate) mod attach;
use attach::{Attacher, Vector, Vocabulary};
mod general;
mod lines;
pub use attach::Background;
pub(crate) use attach::{TrackerColumns, TrackerSource, TrackerView};
pub(crate) use lines::{for_each_keyed_unit, host_of, unit_keys, Exclusions};
mod tally;
pub use lines::{BoilerplateLine, ExclusionLists, StoryLists};
pub(crate) use tally::LineTally;
mod explain;
mod report;
mod terms;
mod tracker;

pub use crate::eval::{agreement, Agreement};
pub use explain::{explain_pair, ExplainedTerm, Finding, PairExplanation, PairSide};
pub(crate) use report::day_of;
pub use report::{StoryGroupEntry, StoryReport, StoryReportEntry};
pub use terms::StoryAnalysis;
pub(crate) use terms::TermAnalyzer;
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

impl std::fmt::Display for Granularity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Granularity::Story => "story",
            Granularity::Event => "event",
        })
    }
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
    /// Mean cosine to a story's members (after time decay) a group needs to join it.
    pub threshold: f64,
    /// Time window in seconds.
    pub window_seconds: i64,
    /// Weight multiplier for title terms.
    pub title_weight: f64,
    /// How words become terms.
    pub analysis: StoryAnalysis,
}

impl StoryParams {
    /// The term frequency (as [`term_frequencies`] gives it) above which a document
    /// repeats a term: counted more often than a single mention, or a single mention in
    /// the title, gives. A term the document repeats is of its subject even when no
    /// other document holds it yet (see `attach`).
    pub(crate) fn repeated_tf(&self) -> f32 {
        (1.0 + self.title_weight.max(1.0).ln()) as f32
    }
}

impl Granularity {
    /// The preset's parameters. The thresholds are mean cosines of idf-weighted unit
    /// vectors (see `attach`); how they were chosen, on real and generated news, is
    /// in BENCHMARKS.md ("Story and event clustering").
    pub fn params(self) -> StoryParams {
        let (threshold, days) = match self {
            Granularity::Story => (STORY_THRESHOLD, 7),
            Granularity::Event => (EVENT_THRESHOLD, 2),
        };
        StoryParams {
            granularity: self,
            threshold,
            window_seconds: days * 86_400,
            title_weight: 2.0,
            analysis: StoryAnalysis::default(),
        }
    }
}

/// Default threshold of [`Granularity::Story`].
const STORY_THRESHOLD: f64 = 0.2;
/// Default threshold of [`Granularity::Event`].
const EVENT_THRESHOLD: f64 = 0.3;

/// The story parameters as version-6 index manifests and single-file indexes stored
/// them, when stories were compared by weighted MinHash. Their threshold measured
/// weighted Jaccard, which nothing compares any more: such an index opens with its
/// granularity's present threshold, its window and title weight kept, and the
/// analysis its terms were counted by.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StoredStoryParamsV6 {
    granularity: Granularity,
    _threshold: f64,
    window_seconds: i64,
    _num_perm: usize,
    _seed: u64,
    title_weight: f64,
}

impl From<StoredStoryParamsV6> for StoryParams {
    fn from(old: StoredStoryParamsV6) -> StoryParams {
        StoryParams {
            window_seconds: old.window_seconds,
            title_weight: old.title_weight,
            analysis: StoryAnalysis::Words,
            ..old.granularity.params()
        }
    }
}

/// The story parameters as version-7 index manifests stored them, before the analysis
/// was recorded: their terms are [`StoryAnalysis::Words`].
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StoredStoryParamsV7 {
    granularity: Granularity,
    threshold: f64,
    window_seconds: i64,
    title_weight: f64,
}

impl From<StoredStoryParamsV7> for StoryParams {
    fn from(old: StoredStoryParamsV7) -> StoryParams {
        StoryParams {
            granularity: old.granularity,
            threshold: old.threshold,
            window_seconds: old.window_seconds,
            title_weight: old.title_weight,
            analysis: StoryAnalysis::Words,
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
    /// For each group, the decayed similarity to the story's members at the moment it
    /// joined (1 for the founding group; for the founding group of a story merged into
    /// this one, the decayed mean cosine between the two stories' members).
    pub attached_with: Vec<f64>,
    /// The least mean cosine of a group to the story's other groups, at the end.
    pub min_similarity: f64,
    /// The heaviest terms of the sum of the story's vectors (surface forms), most
    /// telling first.
    pub top_terms: Vec<String>,
    /// For each group, the terms that add most to its mean cosine to the story's other
    /// groups at the end (surface forms, at most three): why it is in the story. Empty
    /// in a story of one group.
    pub shared_terms: Vec<Vec<String>>,
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
    /// Background documents whose frequencies were added to the input's.
    pub background_documents: u64,
    /// The most widespread of the terms that weighed nothing as boilerplate (at most
    /// [`BOILERPLATE_LISTED`]), most widespread first.
    pub boilerplate: Vec<BoilerplateTerm>,
    /// The most widespread of the lines left out as boilerplate (at most
    /// [`BOILERPLATE_LISTED`], or as many as [`cluster_stories_listing`] asked for):
    /// the user's lines found, then the learned ones, each most widespread first.
    pub boilerplate_lines: Vec<BoilerplateLine>,
    /// Stories, largest first, ties by earliest document.
    pub stories: Vec<Story>,
}

/// A term left out of the story vectors as boilerplate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoilerplateTerm {
    /// The term as first written.
    pub term: String,
    /// The share of the documents holding it.
    pub share: f64,
}

/// Boilerplate terms a clustering lists.
pub const BOILERPLATE_LISTED: usize = 20;

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
    cluster_stories_with(docs, params, keep, &StoryLists::default())
}

/// [`cluster_stories_keeping`] that also ignores the user's `lists` of terms and lines.
pub fn cluster_stories_with(
    docs: &[Document],
    params: &StoryParams,
    keep: KeepPolicy,
    lists: &StoryLists,
) -> Result<StoryClustering> {
    cluster_stories_listing(docs, params, keep, lists, BOILERPLATE_LISTED)
}

/// [`cluster_stories_with`], the clustering's `boilerplate_lines` holding up to
/// `lines_listed` lines instead of [`BOILERPLATE_LISTED`] (`usize::MAX`: every line
/// left out, to hand to an index as its list). Finding a learned line's text takes a
/// scan of the documents until each is found.
pub fn cluster_stories_listing(
    docs: &[Document],
    params: &StoryParams,
    keep: KeepPolicy,
    lists: &StoryLists,
    lines_listed: usize,
) -> Result<StoryClustering> {
    Ok(run(docs, params, keep, lists, lines_listed)?.clustering)
}

/// Every line and sentence `stories` leaves out of `docs` with `lists`, as
/// [`cluster_stories_listing`] lists them with `usize::MAX` (the listed lines found, then
/// the learned ones, most widespread first), without clustering: what `stories
/// --save-boilerplate` writes ([`crate::Index::learn_story_lines`] applies the same rule
/// to counts kept across batches). Exact copies count once, as in `stories`, so that a
/// wire story a site republished many times is not learned as the site's boilerplate.
pub fn boilerplate_lines(
    docs: &[Document],
    analysis: StoryAnalysis,
    lists: &StoryLists,
) -> Result<Vec<BoilerplateLine>> {
    // Only the exact copies are needed: the near-duplicate run's first step alone.
    let (records, copy_of) = records_of(&Engine::new(&Preset::Dup.params())?, docs);
    drop(records);
    let copies = copy_counts(docs, &copy_of);
    let counted: Vec<usize> = (0..docs.len()).filter(|&d| copies[d] > 0).collect();
    let analyzer = TermAnalyzer::new(analysis);
    Ok(Exclusions::learn(docs, &counted, &analyzer, lists, usize::MAX).1)
}

/// Per document, how many documents its terms stand for: an exact copy under the same
/// title as an earlier document (`copy_of`, from the near-duplicate run) counts as that
/// one and stands for none itself.
fn copy_counts(docs: &[Document], copy_of: &[Option<DocIndex>]) -> Vec<u32> {
    let mut copies = vec![0u32; docs.len()];
    for (d, first) in copy_of.iter().enumerate() {
        let same = first.filter(|&f| docs[f as usize].title == docs[d].title);
        copies[same.map_or(d, |f| f as usize)] += 1;
    }
    copies
}

/// A story clustering and what decided it, for [`explain_pair`].
struct Run {
    clustering: StoryClustering,
    analyzer: TermAnalyzer,
    exclusions: Exclusions,
    vocabulary: Vocabulary,
    attacher: Attacher,
    /// Groups of copies, in visiting order, the member each one weighs as, and its
    /// vector and subject.
    groups: Vec<Vec<DocIndex>>,
    sources: Vec<DocIndex>,
    vectors: Vec<Vector>,
    subjects: Vec<Vec<u32>>,
    /// Per group, the story it joined (numbered in founding order, as in `attacher`),
    /// and per story so numbered, its position in `clustering.stories`.
    story_of_group: Vec<u32>,
    reported_as: Vec<usize>,
}

/// [`cluster_stories_listing`], keeping what decided the clustering.
fn run(
    docs: &[Document],
    params: &StoryParams,
    keep: KeepPolicy,
    lists: &StoryLists,
    lines_listed: usize,
) -> Result<Run> {
    params.check()?;
    lists.background.check_analysis(params.analysis)?;
    // Only the groups of copies are needed from the near-duplicate run; its sets go.
    let (groups, copy_of) = {
        let dup = pipeline::run(
            docs,
            &Params {
                keep,
                ..Preset::Dup.params()
            },
        )?;
        let groups: Vec<Vec<DocIndex>> = dup
            .clusters
            .iter()
            .map(|c| {
                let mut members = vec![c.representative];
                members.extend(c.members.iter().copied().filter(|&m| m != c.representative));
                members
            })
            .collect();
        (groups, dup.copy_of)
    };
    let times: Vec<Option<i64>> = docs.iter().map(Document::published_time).collect();
    let mut parts = split_by_window(groups, &times, params.window_seconds);
    // Visit groups in time order, so that the founding member of a story is its
    // earliest report; undated groups, and groups published at the same time (feeds
    // that give the day alone), in the order of their texts' hashes, then input order
    // (identical texts): any order of the same documents gives the same stories.
    let group_time = |g: &Vec<DocIndex>| g.iter().filter_map(|&m| times[m as usize]).min();
    let text_hash: Vec<u64> = docs
        .par_iter()
        .map(|d| xxh3_64(d.text.as_bytes()))
        .collect();
    parts.sort_by_cached_key(|(g, _)| {
        let text = g.iter().map(|&m| text_hash[m as usize]).min();
        (
            group_time(g).unwrap_or(i64::MAX),
            text,
            g.iter().min().copied(),
        )
    });
    let (groups, origins): (Vec<Vec<DocIndex>>, Vec<Option<usize>>) = parts.into_iter().unzip();
    // A group weighs as its longest member (the fullest text; ties by the text's hash,
    // then the title), whichever member represents it: the representative of `--keep
    // first` is the first in input order.
    let sources: Vec<DocIndex> = groups
        .iter()
        .map(|g| {
            let key = |&m: &DocIndex| {
                let doc = &docs[m as usize];
                let text = (std::cmp::Reverse(doc.text.len()), text_hash[m as usize]);
                (text, doc.title.as_deref(), m)
            };
            // (A group is never empty.)
            g.iter()
                .min_by(|a, b| key(a).cmp(&key(b)))
                .copied()
                .unwrap_or_default()
        })
        .collect();
    drop(text_hash);

    // Document frequencies count every document; an exact copy under the same title
    // has its first document's terms, so each distinct text is analysed once, in
    // blocks (analysed in parallel, counted in input order) that bound the memory.
    let analyzer = TermAnalyzer::new(params.analysis);
    let copies = copy_counts(docs, &copy_of);
    let counted: Vec<usize> = (0..docs.len()).filter(|&d| copies[d] > 0).collect();
    let (exclusions, boilerplate_lines) =
        Exclusions::learn(docs, &counted, &analyzer, lists, lines_listed);
    let terms_of = |d: usize| {
        term_frequencies(
            &analyzer,
            &docs[d],
            params.title_weight,
            &exclusions,
            |_, _| {},
        )
    };
    // The group of each member that is not its group's source and whose text differs:
    // the terms it holds, kept as counted, are held by its group's story too.
    let mut copy_in = vec![u32::MAX; docs.len()];
    for (g, (members, &source)) in groups.iter().zip(&sources).enumerate() {
        let text = &docs[source as usize].text;
        for &m in members.iter().filter(|&&m| docs[m as usize].text != *text) {
            copy_in[m as usize] = g as u32;
        }
    }
    let mut copied: Vec<Vec<u64>> = vec![Vec::new(); groups.len()];
    let mut vocabulary = Vocabulary::with_background(&lists.background, params.analysis);
    for block in counted.chunks(COUNT_BLOCK) {
        let terms: Vec<Vec<(u64, f32)>> = block.par_iter().map(|&d| terms_of(d)).collect();
        for (&d, terms) in block.iter().zip(&terms) {
            vocabulary.count(terms, copies[d]);
            if let Some(held) = copied.get_mut(copy_in[d] as usize) {
                let distinct = held.len();
                held.extend(terms.iter().map(|&(t, _)| t));
                // Thousands of copies of one text hold its terms once.
                if held.len() > 2 * distinct + 1024 {
                    held.sort_unstable();
                    held.dedup();
                }
            }
        }
    }
    drop(copy_in);
    vocabulary.number_by_hash();
    // A group's vector and subject: its source's terms.
    let repeated = params.repeated_tf();
    let (vectors, subjects): (Vec<Vector>, Vec<Vec<u32>>) = sources
        .par_iter()
        .map(|&d| vocabulary.weigh_document(&terms_of(d as usize), repeated))
        .unzip();
    // What a group's other members hold beyond its vector: its story holds that too
    // (each copy is a document counted, whose terms can be another's subject).
    let copied: Vec<Vec<u32>> = (copied.into_par_iter().zip(&vectors))
        .map(|(held, vector)| {
            if held.is_empty() {
                return Vec::new();
            }
            let mut weighed: Vec<u32> = vector.iter().map(|&(t, _)| t).collect();
            weighed.sort_unstable();
            let mut held: Vec<u32> = (held.into_iter())
                .filter_map(|t| vocabulary.id(t))
                .filter(|t| weighed.binary_search(t).is_err())
                .collect();
            held.sort_unstable();
            held.dedup();
            held
        })
        .collect();

    // Attach groups to stories, in visiting order; story s is the s-th founded. The
    // parts of one group of copies split by time are other events to each other: none
    // joins a story holding another (see `split_by_window`).
    let whens: Vec<Option<i64>> = groups.iter().map(group_time).collect();
    let mut attached = Attached {
        vectors: &vectors,
        subjects: &subjects,
        copied: &copied,
        whens: &whens,
        origins: &origins,
        params,
        vocabulary: &vocabulary,
        attacher: Attacher::default(),
        members: Vec::new(),
        story_of_group: Vec::with_capacity(groups.len()),
        stories_of_origin: HashMap::new(),
    };
    for g in 0..groups.len() {
        attached.attach(g, &[]);
    }
    attached.settle();
    attached.merge();
    attached.regroup();
    attached.settle();
    let Attached {
        attacher,
        members,
        story_of_group,
        ..
    } = attached;

    let stories: Vec<Story> = members
        .into_par_iter()
        .enumerate()
        .map(|(s, joined)| {
            let state = &attacher.stories[&(s as u32)];
            let min_similarity = joined
                .iter()
                .map(|&(g, _)| state.similarity_to_others(&vectors[g]))
                .fold(1.0f64, f64::min);
            let mut heaviest: Vec<(u32, f32)> = state.sum.iter().map(|(&t, &w)| (t, w)).collect();
            heaviest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let top: Vec<u64> = heaviest
                .iter()
                .take(TOP_TERMS)
                .map(|&(t, _)| vocabulary.hash(t))
                .collect();
            let shared: Vec<Vec<u64>> = joined
                .iter()
                .map(|&(g, _)| {
                    if joined.len() < 2 {
                        return Vec::new();
                    }
                    shared_with_others(&vectors[g], state, GROUP_TERMS)
                        .into_iter()
                        .map(|t| vocabulary.hash(t))
                        .collect()
                })
                .collect();
            let wanted: HashSet<u64> = top.iter().chain(shared.iter().flatten()).copied().collect();
            let words = surface_words(
                &analyzer,
                joined.iter().map(|&(g, _)| &docs[sources[g] as usize]),
                params.title_weight,
                &exclusions,
                &wanted,
            );
            let written = |terms: &[u64]| -> Vec<String> {
                terms.iter().filter_map(|t| words.get(t).cloned()).collect()
            };
            Story {
                groups: joined.iter().map(|&(g, _)| groups[g].clone()).collect(),
                attached_with: joined.iter().map(|&(_, score)| score).collect(),
                min_similarity,
                top_terms: written(&top),
                shared_terms: shared.iter().map(|terms| written(terms)).collect(),
            }
        })
        .collect();
    // Stories merged into another are empty and not reported.
    let mut order: Vec<usize> = (0..stories.len())
        .filter(|&s| !stories[s].is_empty())
        .collect();
    order.sort_by_key(|&s| {
        let first = stories[s].groups.iter().flatten().min().copied();
        (std::cmp::Reverse(stories[s].len()), first)
    });
    let mut reported_as = vec![0; stories.len()];
    for (position, &s) in order.iter().enumerate() {
        reported_as[s] = position;
    }
    let mut founded: Vec<Option<Story>> = stories.into_iter().map(Some).collect();
    let stories: Vec<Story> = order.iter().filter_map(|&s| founded[s].take()).collect();
    let boilerplate = vocabulary.boilerplate(BOILERPLATE_LISTED);
    let words = surface_words(
        &analyzer,
        docs.iter(),
        params.title_weight,
        &Exclusions::default(),
        &boilerplate.iter().map(|&(t, _)| t).collect(),
    );
    let clustering = StoryClustering {
        params: params.clone(),
        background_documents: lists.background.documents(),
        boilerplate_lines,
        boilerplate: boilerplate
            .iter()
            .filter_map(|&(t, share)| {
                let term = words.get(&t)?.clone();
                Some(BoilerplateTerm { term, share })
            })
            .collect(),
        stories,
    };
    Ok(Run {
        clustering,
        analyzer,
        exclusions,
        vocabulary,
        attacher,
        groups,
        sources,
        vectors,
        subjects,
        story_of_group,
        reported_as,
    })
}

/// Rounds of [`Attached::settle`]: members leave the stories they drifted from and join
/// another, whose members are then measured again.
const SETTLE_ROUNDS: usize = 4;

/// How much more, as a share of the threshold, a member must resemble another story
/// than the rest of its own to move there (see [`Attached::regroup`]). On Reuters
/// corn/grain, moves for any gain were 32, and those gaining less than a tenth of the
/// threshold mostly took a report between two threads of one topic, some back again
/// (a French cereal export bid, a Belgian jobless figure): the pairs' topic precision
/// fell from 0.910 to 0.898. With a tenth or a quarter it stayed at 0.910. Of 30 moves
/// read on the dated wire at a quarter, 22 joined the same company's or event's
/// reports (a stock split's flash to its notice, a Texaco court filing to the others),
/// 4 moved within a template series (hog markets, the Paris dollar fixing) and 4
/// joined another company's or country's (a Bahrain bill tender to Quebec's).
const REGROUP_MARGIN: f64 = 0.25;

/// Stories as attachment builds them, groups numbered in visiting order and stories in
/// founding order.
struct Attached<'a> {
    /// Per group: its vector, subject, the terms its copies add, publication time, and
    /// the group of copies it was split from by time, if it was.
    vectors: &'a [Vector],
    subjects: &'a [Vec<u32>],
    copied: &'a [Vec<u32>],
    whens: &'a [Option<i64>],
    origins: &'a [Option<usize>],
    params: &'a StoryParams,
    vocabulary: &'a Vocabulary,
    attacher: Attacher,
    /// Per story, its groups and the decayed similarity each joined with, in the order
    /// they joined.
    members: Vec<Vec<(usize, f64)>>,
    story_of_group: Vec<u32>,
    /// Per group of copies split by time (see [`split_by_window`]), the stories its
    /// parts are in (sorted): another part's event, barred to each part.
    stories_of_origin: HashMap<usize, Vec<u32>>,
}

impl Attached<'_> {
    /// Attaches group `g` to the best story it may join (see [`Self::best_for`]), or
    /// founds a story.
    fn attach(&mut self, g: usize, left: &[u32]) {
        let (s, score) = match self.best_for(g, left) {
            Some((score, s)) => (s as usize, score),
            None => {
                self.members.push(Vec::new());
                (self.members.len() - 1, 1.0)
            }
        };
        self.join(g, s, score);
    }

    /// The best story group `g` may join and its decayed similarity, if one reaches
    /// the threshold: never one of `left` (sorted), nor one holding another part of
    /// its group of copies.
    fn best_for(&mut self, g: usize, left: &[u32]) -> Option<(f64, u32)> {
        let of_origin = self.origins[g]
            .and_then(|o| self.stories_of_origin.get(&o))
            .map_or(&[][..], Vec::as_slice);
        let mut barred: Vec<u32>;
        let barred = if left.is_empty() {
            of_origin
        } else {
            barred = of_origin.iter().chain(left).copied().collect();
            barred.sort_unstable();
            barred.dedup();
            &barred
        };
        let (vector, subject, when) = (&self.vectors[g], &self.subjects[g], self.whens[g]);
        (self.attacher).best(vector, subject, when, self.params, self.vocabulary, barred)
    }

    /// Takes groups `gone` (sorted) out of story `s`.
    fn take_out(&mut self, s: usize, gone: &[usize]) {
        let whens = self.whens;
        self.members[s].retain(|(g, _)| gone.binary_search(g).is_err());
        let latest = self.members[s].iter().filter_map(|&(g, _)| whens[g]).max();
        for &g in gone {
            self.attacher.remove(s as u32, &self.vectors[g], latest);
            self.attacher.remove_copied(s as u32, &self.copied[g]);
        }
    }

    /// Adds group `g` to story `s`, which it joined with decayed similarity `score`.
    fn join(&mut self, g: usize, s: usize, score: f64) {
        let (vector, when, origin) = (&self.vectors[g], self.whens[g], self.origins[g]);
        self.members[s].push((g, score));
        if g < self.story_of_group.len() {
            self.story_of_group[g] = s as u32;
        } else {
            self.story_of_group.push(s as u32);
        }
        self.attacher.add(s as u32, vector, when);
        self.attacher.add_copied(s as u32, &self.copied[g]);
        if let Some(o) = origin {
            let barred = self.stories_of_origin.entry(o).or_default();
            if let Err(at) = barred.binary_search(&(s as u32)) {
                barred.insert(at, s as u32);
            }
        }
    }

    /// Lets members leave the stories they drifted from. Attachment checks a group's
    /// mean cosine to a story's members when it joins; as later reports join, an early
    /// one can end below the threshold to the rest (the first issue of a bond series
    /// shares little with the issues of the weeks after). Such members leave (see
    /// [`StoryState::drifted`](attach::StoryState::drifted)) and, in visiting order,
    /// join the best story they may (never one they left) or found one; the stories
    /// they join are measured again, for at most [`SETTLE_ROUNDS`] rounds. A round
    /// costs a pass over the members of the stories it measures and an attachment per
    /// member that left.
    fn settle(&mut self) {
        let vectors = self.vectors;
        // A story of two always holds: its second member joined with the cosine
        // between them at the threshold or above.
        let mut measured: Vec<usize> = (0..self.members.len())
            .filter(|&s| self.members[s].len() > 2)
            .collect();
        let mut left: HashMap<usize, Vec<u32>> = HashMap::new();
        for _ in 0..SETTLE_ROUNDS {
            let leaving: Vec<(usize, Vec<usize>)> = measured
                .par_iter()
                .filter_map(|&s| {
                    let joined = &self.members[s];
                    let of: Vec<&Vector> = joined.iter().map(|&(g, _)| &vectors[g]).collect();
                    let drifted =
                        self.attacher.stories[&(s as u32)].drifted(&of, self.params.threshold);
                    let mut gone: Vec<usize> = drifted.into_iter().map(|i| joined[i].0).collect();
                    gone.sort_unstable();
                    (!gone.is_empty()).then_some((s, gone))
                })
                .collect();
            if leaving.is_empty() {
                break;
            }
            let mut leavers = Vec::new();
            for (s, gone) in leaving {
                self.take_out(s, &gone);
                for &g in &gone {
                    left.entry(g).or_default().push(s as u32);
                }
                leavers.extend(gone);
            }
            leavers.sort_unstable();
            measured.clear();
            for g in leavers {
                let mut from = left.get(&g).cloned().unwrap_or_default();
                from.sort_unstable();
                self.attach(g, &from);
                let s = self.story_of_group[g] as usize;
                if self.members[s].len() > 2 {
                    measured.push(s);
                }
            }
            measured.sort_unstable();
            measured.dedup();
        }
    }

    /// Moves members to another story they resemble more than the rest of their own.
    /// A story's first members decide what it is about: on Lee's rated articles a report
    /// of Abu Nidal's death in Baghdad founded a story that two later reports on Saddam
    /// Hussein's Iraq joined, and when a second report of the death came, its mean
    /// cosine to the three stayed below the threshold although its cosine to the first
    /// was 0.34. Each member of a story of two or more, in visiting order, looks for the
    /// best other story (never one it left, nor one barred by time); it moves when its
    /// decayed similarity there exceeds its mean cosine to the rest of its story by
    /// [`REGROUP_MARGIN`] of the threshold. Members of the stories that changed are
    /// measured again, for at most [`SETTLE_ROUNDS`] rounds; the settling after it lets
    /// go those the moves left below the threshold. A round costs one candidate lookup
    /// per member of a story of two or more.
    fn regroup(&mut self) {
        let vectors = self.vectors;
        let mut measured: Vec<usize> = (0..self.members.len())
            .filter(|&s| self.members[s].len() > 1)
            .collect();
        let mut left: HashMap<usize, Vec<u32>> = HashMap::new();
        let margin = REGROUP_MARGIN * self.params.threshold;
        for _ in 0..SETTLE_ROUNDS {
            let mut groups: Vec<usize> = (measured.iter())
                .flat_map(|&s| self.members[s].iter().map(|&(g, _)| g))
                .collect();
            groups.sort_unstable();
            measured.clear();
            for g in groups {
                let s = self.story_of_group[g] as usize;
                if self.members[s].len() < 2 {
                    continue;
                }
                let own = self.attacher.stories[&(s as u32)].similarity_to_others(&vectors[g]);
                let mut from: Vec<u32> = (left.get(&g).into_iter().flatten().copied())
                    .chain([s as u32])
                    .collect();
                from.sort_unstable();
                let best = self.best_for(g, &from);
                let Some((score, t)) = best.filter(|&(score, _)| score > own + margin) else {
                    continue;
                };
                self.take_out(s, &[g]);
                left.entry(g).or_default().push(s as u32);
                self.join(g, t as usize, score);
                measured.extend([s, t as usize]);
            }
            if measured.is_empty() {
                break;
            }
            measured.sort_unstable();
            measured.dedup();
            measured.retain(|&s| self.members[s].len() > 1);
        }
    }

    /// Merges stories that formed apart but resemble each other on average: each story,
    /// in founding order, joins the best other story its members' mean vector reaches
    /// the threshold with (the mean cosine between the two stories' members, decayed
    /// by the time from the other's latest member to its earliest), the criterion of
    /// average-link clustering. Attachment looks at a group's rarest terms only, so a
    /// wire flash (a headline alone) and its article, minutes apart, can start two
    /// stories: the article's rarest terms are its own figures and names, the flash
    /// shares one or two of them. Seen from the flash, the article's story is found. On
    /// the dated Reuters wire, 918 stories merged at `story` and 549 at `event`; of 25
    /// read at `event`, 18 were one happening (a company's results flash and its
    /// table, a Fed report's flash and its text) and 5 were not (two companies'
    /// debt shelf filings the same day).
    fn merge(&mut self) {
        for b in 0..self.members.len() {
            let Some(state) = self.attacher.stories.get(&(b as u32)) else {
                continue;
            };
            if self.members[b].is_empty() || state.size == 0 {
                continue;
            }
            let n = state.size as f32;
            let mut mean: Vector = (state.sum.iter())
                .filter(|&(_, &w)| w > 1e-6)
                .map(|(&t, &w)| (t, w / n))
                .collect();
            mean.sort_unstable_by_key(|&(t, _)| t);
            let joined = &self.members[b];
            let when = joined.iter().filter_map(|&(g, _)| self.whens[g]).min();
            // Never itself, nor a story holding another part of one of its groups of
            // copies split by time.
            let mut barred = vec![b as u32];
            for o in joined.iter().filter_map(|&(g, _)| self.origins[g]) {
                barred.extend(self.stories_of_origin.get(&o).into_iter().flatten());
            }
            barred.sort_unstable();
            barred.dedup();
            let (params, subject) = (self.params, attach::subject(&mean, self.vocabulary));
            let Some((score, a)) =
                (self.attacher).best(&mean, &subject, when, params, self.vocabulary, &barred)
            else {
                continue;
            };
            let moved = std::mem::take(&mut self.members[b]);
            self.attacher.clear(b as u32);
            for (i, &(g, joined_with)) in moved.iter().enumerate() {
                self.attacher.add(a, &self.vectors[g], self.whens[g]);
                self.attacher.add_copied(a, &self.copied[g]);
                self.story_of_group[g] = a;
                // The founding group joined with the stories' mean cosine.
                let joined_with = if i == 0 { score } else { joined_with };
                self.members[a as usize].push((g, joined_with));
                if let Some(o) = self.origins[g] {
                    let stories = self.stories_of_origin.entry(o).or_default();
                    stories.retain(|&s| s != b as u32);
                    if let Err(at) = stories.binary_search(&a) {
                        stories.insert(at, a);
                    }
                }
            }
        }
    }
}

/// Splits each group of copies where its members' publication times lie further apart
/// than `window`: a template report republished a week later with new figures is a
/// near-duplicate of the last one, but another event. Members are taken in time order;
/// one joins the current part while within `window` of that part's first member, and
/// otherwise starts a part. Members without a time stay in the part of the group's
/// representative, which leads its part; other parts are led by their earliest member.
/// Each part comes with the position of the group it was split from, when it was split.
fn split_by_window(
    groups: Vec<Vec<DocIndex>>,
    times: &[Option<i64>],
    window: i64,
) -> Vec<(Vec<DocIndex>, Option<usize>)> {
    let mut out = Vec::with_capacity(groups.len());
    for (origin, group) in groups.into_iter().enumerate() {
        let dated = group
            .iter()
            .filter(|&&m| times[m as usize].is_some())
            .count();
        if dated < 2 {
            out.push((group, None));
            continue;
        }
        let representative = group[0];
        let mut by_time: Vec<(i64, DocIndex)> = group
            .iter()
            .filter_map(|&m| times[m as usize].map(|t| (t, m)))
            .collect();
        by_time.sort_unstable();
        let mut parts: Vec<Vec<DocIndex>> = Vec::new();
        let mut start = i64::MIN;
        for (t, m) in by_time {
            if parts.is_empty() || t.saturating_sub(start) > window {
                parts.push(Vec::new());
                start = t;
            }
            if let Some(part) = parts.last_mut() {
                part.push(m);
            }
        }
        let undated = group.iter().filter(|&&m| times[m as usize].is_none());
        let home = parts
            .iter()
            .position(|p| p.contains(&representative))
            .unwrap_or(0);
        parts[home].extend(undated);
        let position: HashMap<DocIndex, usize> =
            group.iter().enumerate().map(|(i, &m)| (m, i)).collect();
        let split = (parts.len() > 1).then_some(origin);
        for (i, mut part) in parts.into_iter().enumerate() {
            // The representative leads its part, the rest keep the group's order.
            let lead = if i == home { representative } else { part[0] };
            part.retain(|&m| m != lead);
            part.sort_by_key(|m| position.get(m).copied());
            part.insert(0, lead);
            out.push((part, split));
        }
    }
    out
}

/// Documents analysed at a time for document frequencies.
const COUNT_BLOCK: usize = 8192;
/// Terms a story lists as its most telling.
const TOP_TERMS: usize = 8;
/// Terms a group's `shared_terms` lists, at most.
const GROUP_TERMS: usize = 3;

/// The terms of unit vector `v` (a member of `story`) adding most to its mean cosine to
/// the story's other members, at most `limit`, the most first (ties by term id).
fn shared_with_others(v: &Vector, story: &attach::StoryState, limit: usize) -> Vec<u32> {
    let mut parts: Vec<(f32, u32)> = v
        .iter()
        .filter_map(|&(t, w)| {
            // The sum holds v's own weight: what is left is the others'.
            let others = story.sum.get(&t).copied().unwrap_or(0.0) - w;
            (others > 1e-6).then_some((w * others, t))
        })
        .collect();
    parts.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    parts.into_iter().take(limit).map(|(_, t)| t).collect()
}

/// The surface words of the term hashes `wanted`: each term as written most often (ties
/// to the shorter, then the first in byte order) in `docs` up to the first where every
/// term has been found. A term is a stem, written with and without prefixes (Arabic
/// وتعزيز, تعزيز): the form most of the documents read use is the one readers know it
/// by. (Reading on, through eight of a story's members, cost `stories` a fifth more
/// time on 115,105 generated articles.)
fn surface_words<'a>(
    analyzer: &TermAnalyzer,
    docs: impl Iterator<Item = &'a Document>,
    title_weight: f64,
    exclusions: &Exclusions,
    wanted: &HashSet<u64>,
) -> HashMap<u64, String> {
    let mut forms: HashMap<u64, HashMap<String, u32>> = HashMap::new();
    for doc in docs {
        if forms.len() == wanted.len() {
            break;
        }
        term_frequencies(analyzer, doc, title_weight, exclusions, |t, word| {
            if wanted.contains(&t) {
                let count = forms.entry(t).or_default();
                match count.get_mut(word) {
                    Some(n) => *n += 1,
                    None => {
                        count.insert(word.to_string(), 1);
                    }
                }
            }
        });
    }
    forms
        .into_iter()
        .filter_map(|(t, count)| {
            let best = count.into_iter().min_by(|(a, m), (b, n)| {
                (n.cmp(m))
                    .then(a.chars().count().cmp(&b.chars().count()))
                    .then(a.cmp(b))
            })?;
            Some((t, best.0))
        })
        .collect()
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
    analyzer: &TermAnalyzer,
    doc: &Document,
    title_weight: f64,
    exclusions: &Exclusions,
    mut surface: impl FnMut(u64, &str),
) -> Vec<(u64, f32)> {
    let mut counts: PrehashedMap<u64, f64> = PrehashedMap::default();
    let mut add = |normalized: &str, weight: f64| {
        analyzer.for_each_term(normalized, |t, word| {
            if exclusions.keeps_term(t) {
                *counts.entry(t).or_insert(0.0) += weight;
                surface(t, word);
            }
        });
    };
    if let Some(title) = &doc.title {
        add(&normalize(title), title_weight);
    }
    if exclusions.is_empty() {
        add(&normalize(&doc.text), 1.0);
    } else {
        // Terms never span lines or sentences, so part by part gives the same terms,
        // less the boilerplate parts.
        exclusions.for_each_kept(Exclusions::source(doc), &doc.text, |part| add(part, 1.0));
    }
    let mut terms: Vec<(u64, f32)> = counts
        .into_iter()
        .map(|(t, c)| (t, (1.0 + c.ln()) as f32))
        .collect();
    terms.sort_by_key(|&(t, _)| t);
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

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
