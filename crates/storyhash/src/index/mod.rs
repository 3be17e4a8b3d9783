//! A persistent, incremental near-duplicate index for ingestion pipelines: ask, per
//! arriving article, "is this a duplicate, and of which cluster?", and record it, without
//! re-running the corpus.
//!
//! Each stored document keeps what the shared per-document core decides about it (its
//! exact shingle set, for exact Jaccard and containment; its LSH band keys; its
//! publication time) plus its verified links to earlier documents. Clusters are the
//! connected components of the links, as in `cluster` and `dedup`, so inserting a stream
//! gives the same clusters as clustering it in one batch. A cluster is named by the id of
//! its earliest-inserted member still in the index.
//!
//! Exact copies (a document whose exact set equals a stored one's) belong to the copy
//! group of the first such document, its holder: they store no set or keys of their own
//! and are never put in the band buckets, so 100,000 copies of one wire story cost a few
//! dozen bytes each. When a holder is removed it stays as a carrier of its set, links and
//! bucket entries while any copy remains, and its earliest remaining copy answers for it.
//!
//! Near-copies (a story republished under new headlines) share every band key: a new
//! document is compared with the newest `lsh::MAX_BUCKET_PIVOTS` members of each of its
//! buckets only, so it joins their cluster through them and links stay in proportion to
//! documents.
//!
//! Storage: an index is a directory (`store`): immutable segments (`segment`) named by a
//! manifest that each commit replaces atomically. Documents inserted since the last
//! commit live in memory; [`Index::save`] (or [`Index::commit`]) writes them as a new
//! segment and records removals as deletion lists, so a commit costs what was added, not
//! what is stored. Opening maps the segments and reads the manifest, deletion lists and
//! the small per-document arrays the clusters need (holders, links): a few dozen bytes a
//! document, never the sets. Small segments are merged as they accumulate;
//! [`Index::compact`] merges everything and drops deleted documents. A story index's
//! tracker (document frequencies, stories, postings) is built when first needed from
//! the tracker a commit last stored, with the documents stored after it replayed on
//! top (a commit stores it again once it counted an eighth of the live documents
//! since, [`Index::commit_story_tracker`] at once); without one that holds, from every
//! stored document's terms.
//!
//! Concurrency: [`Index`] is `Send + Sync`; queries take a read lock and run in
//! parallel, writers take the write lock, and analysis (the expensive part) happens
//! outside the lock. Across processes, one writer holds the directory's lock
//! ([`Index::open_writer`]; [`Index::save`] takes it for the commit if needed) and any
//! number of readers open the last committed manifest.
//!
//! Layout: this module holds the public API; `state` matches, stores and removes
//! documents; `commit` writes and merges segments; `store` the directory; `segment` and
//! `codec` the file layout; `legacy` reads the one-file formats 4 and 5; `buckets` the
//! band buckets of documents not yet committed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rayon::prelude::*;
use serde::Serialize;

use crate::doc::{parse_published, Document};
use crate::error::{Error, InputProblem, Result};
use crate::pipeline::Params;
use crate::record::{records_of, DocRecord, Engine, RecordBuffers};
use crate::story::{
    for_each_keyed_unit, host_of, term_frequencies, unit_keys, BoilerplateLine, ExclusionLists,
    Exclusions, LineTally, StoryAnalysis, StoryParams, TermAnalyzer,
};

mod buckets;
mod codec;
mod commit;
#[cfg(feature = "internals")]
pub mod forge;
mod legacy;
mod mapped;
mod segment;
mod state;
mod store;

pub use segment::MAX_HEADLINE_BYTES;
use state::State;
pub use store::WriterLock;

/// Whether `path` is an index directory (it holds a manifest).
pub fn is_index_directory(path: &Path) -> bool {
    store::is_index_dir(path)
}

/// The index format this build writes: 6, a directory of segments. Single-file indexes
/// of formats 4 and 5 ([`LEGACY_VERSIONS`]) are read, and written again as a directory
/// by [`Index::save`] to a new path (`storyhash index upgrade`).
pub const FORMAT_VERSION: u32 = store::MANIFEST_VERSION;
/// The single-file index formats this build reads.
pub const LEGACY_VERSIONS: &[u32] = legacy::SUPPORTED_VERSIONS;

/// A stored document similar to a queried one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// The stored document's id.
    pub id: String,
    /// Exact Jaccard similarity of the shingle sets.
    pub jaccard: f64,
    /// |query ∩ stored| / |query|: how much of the query the stored document contains.
    pub containment_of_query: f64,
    /// |query ∩ stored| / |stored|: how much of the stored document the query contains.
    pub containment_of_stored: f64,
    /// The cluster (story) the stored document belongs to: its earliest member's id.
    pub cluster: String,
    /// The stored document's headline, as [`IndexStory::headlines`] gives it: kept by
    /// an index that tracks stories (None in one that does not, or for a document
    /// with neither title nor text).
    pub headline: Option<String>,
}

/// What [`Index::insert_or_match`] found and did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The document's id.
    pub id: String,
    /// Stored documents at or above the threshold, most similar first.
    pub matches: Vec<Match>,
    /// The cluster the document is in after insertion (its own id if it matched nothing).
    pub cluster: String,
    /// With story tracking on: the story the document joined, named by its first
    /// document (its own id if it started one). A near-duplicate joins the story of what
    /// it copies.
    pub story: Option<String>,
    /// The time-decayed weighted similarity to the story that attached it (1 for a copy
    /// or a new story).
    pub story_score: Option<f64>,
    /// The headline of the story's first document (this document's own when it started
    /// the story), so that a person reading the answer can tell which story it is; None
    /// without story tracking or when that document had neither title nor text.
    pub story_headline: Option<String>,
}

impl Decision {
    /// Whether the document duplicates something already stored.
    pub fn is_duplicate(&self) -> bool {
        !self.matches.is_empty()
    }
}

/// Counts describing an index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexStats {
    /// The version of this JSON shape ([`crate::report::SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Documents stored.
    pub documents: usize,
    /// Clusters with two or more documents.
    pub multi_member_clusters: usize,
    /// Documents in such clusters.
    pub clustered_documents: usize,
    /// Stored shingles (sum of set sizes).
    pub shingles: usize,
    /// Verified links between stored documents.
    pub links: usize,
    /// Committed segments.
    pub segments: usize,
    /// Documents inserted since the last commit.
    pub uncommitted: usize,
    /// The parameters the index was created with.
    pub params: Params,
    /// Its story parameters, when it tracks stories (their `analysis` is the one the
    /// index was created with and keeps).
    pub story: Option<StoryParams>,
    /// The stopwords and boilerplate lines its story terms leave out.
    pub story_lists: ExclusionLists,
    /// Its stories, counted, when it tracks stories.
    pub story_counts: Option<StoryCounts>,
    /// Documents counted in the story background it was given (0: none given).
    pub story_background_documents: u64,
    /// Live documents the stored story tracker counts (0: none stored): a writer or
    /// reader replays the documents stored after them on top of it.
    pub story_tracker_documents: u64,
}

/// Groups of stored documents (clusters or stories), each its name and its member ids in
/// insertion order.
pub type NamedGroups = Vec<(String, Vec<String>)>;

/// A story of a story-tracking index with its members' publication times, as
/// [`Index::story_list`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStory {
    /// Its name, as [`Index::story_of`] gives it: its first document's id.
    pub story: String,
    /// Member ids in the order they arrived.
    pub members: Vec<String>,
    /// Each member's publication time in Unix seconds (None when it gave none), in the
    /// order of `members`.
    pub published: Vec<Option<i64>>,
    /// Each member's headline (its title, or else its first line; one longer than
    /// [`MAX_HEADLINE_BYTES`] cut at a word and closed with "…";
    /// None when it had neither or was stored by a build that kept none), in the order
    /// of `members`.
    pub headlines: Vec<Option<String>>,
    /// Each member's near-duplicate cluster, named as [`Index::cluster_of`] names it
    /// (its first document's id: a member's own when no earlier document is a near
    /// duplicate of it), in the order of `members`: which members are copies or near
    /// copies of which, as `stories` nests copies in their story.
    pub clusters: Vec<String>,
    /// The terms weighing most in the story, most telling first, as its headlines write
    /// them (at most 8): what ties it. The index keeps its documents' terms as hashes,
    /// so a term none of the headlines holds is not named.
    pub top_terms: Vec<String>,
}

impl IndexStory {
    /// The earliest publication time of a member (None when none gave one).
    pub fn first_published(&self) -> Option<i64> {
        earliest(&self.published)
    }

    /// The latest publication time of a member (None when none gave one).
    pub fn last_published(&self) -> Option<i64> {
        latest(&self.published)
    }

    /// The story's headline: its earliest member's with one.
    pub fn headline(&self) -> Option<&str> {
        first_headline(&self.headlines)
    }
}

/// The earliest of members' publication times.
pub(crate) fn earliest(published: &[Option<i64>]) -> Option<i64> {
    published.iter().flatten().min().copied()
}

/// The latest of members' publication times.
pub(crate) fn latest(published: &[Option<i64>]) -> Option<i64> {
    published.iter().flatten().max().copied()
}

/// The first of members' headlines that is given.
fn first_headline(headlines: &[Option<String>]) -> Option<&str> {
    headlines.iter().flatten().next().map(String::as_str)
}

/// A story as `index stories --format json` and Python's `Index.story_list` give it: its
/// name, size, first and last publication times, headline, top terms, members, and each
/// member's time, headline and near-duplicate cluster, the times as RFC 3339 text (null
/// where none was given).
impl Serialize for IndexStory {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Listed<'a> {
            story: &'a str,
            size: usize,
            first_published: Option<String>,
            last_published: Option<String>,
            headline: Option<&'a str>,
            top_terms: &'a [String],
            members: &'a [String],
            published: Vec<Option<String>>,
            headlines: &'a [Option<String>],
            clusters: &'a [String],
        }
        let time = |t: Option<i64>| t.and_then(crate::doc::published_text);
        Listed {
            story: &self.story,
            size: self.members.len(),
            first_published: time(self.first_published()),
            last_published: time(self.last_published()),
            headline: self.headline(),
            top_terms: &self.top_terms,
            members: &self.members,
            published: self.published.iter().map(|&t| time(t)).collect(),
            headlines: &self.headlines,
            clusters: &self.clusters,
        }
        .serialize(serializer)
    }
}

/// A near-duplicate cluster of an index with its members' times and headlines, and the
/// verified similarity that brought each member in, as [`Index::cluster_list`] lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexCluster {
    /// Its name, as [`Index::cluster_of`] gives it: its first document's id.
    pub cluster: String,
    /// Member ids in the order they arrived.
    pub members: Vec<String>,
    /// Each member's publication time in Unix seconds (None when it gave none), in the
    /// order of `members`.
    pub published: Vec<Option<i64>>,
    /// Each member's headline, as [`IndexStory::headlines`] gives it (kept by
    /// story-tracking indexes only; None in a dedup index), in the order of `members`.
    pub headlines: Vec<Option<String>>,
    /// For each member, in the order of `members`, the member it matched best when it
    /// arrived: an earlier one, unless that document was removed and a later copy of it
    /// answers for it (None for the first, and for a member that only later arrivals
    /// matched).
    pub matched: Vec<Option<ClusterMatch>>,
}

/// The member of its cluster a document matched best when it arrived.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterMatch {
    /// The member's id.
    pub member: String,
    /// Their exact Jaccard similarity (1 for a copy), as the index stores it: to seven
    /// digits, where a query computes it afresh to sixteen.
    pub jaccard: f64,
    /// Whether the document is a copy of it: the same shingle set, stored once.
    pub copy: bool,
}

impl IndexCluster {
    /// The earliest publication time of a member (None when none gave one).
    pub fn first_published(&self) -> Option<i64> {
        earliest(&self.published)
    }

    /// The latest publication time of a member (None when none gave one).
    pub fn last_published(&self) -> Option<i64> {
        latest(&self.published)
    }

    /// The cluster's headline: its earliest member's with one.
    pub fn headline(&self) -> Option<&str> {
        first_headline(&self.headlines)
    }

    /// The lowest similarity that brought a member in (None for a cluster whose members
    /// record none, which a cluster of two or more never is).
    pub fn min_jaccard(&self) -> Option<f64> {
        (self.matched.iter().flatten())
            .map(|m| m.jaccard)
            .min_by(f64::total_cmp)
    }
}

/// A cluster as `index clusters --format json` and Python's `Index.cluster_list` give it:
/// its name, size, first and last publication times, headline, lowest similarity,
/// members, and each member's time, headline and match, the times as RFC 3339 text (null
/// where none was given).
impl Serialize for IndexCluster {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Listed<'a> {
            cluster: &'a str,
            size: usize,
            first_published: Option<String>,
            last_published: Option<String>,
            headline: Option<&'a str>,
            min_jaccard: Option<f64>,
            members: &'a [String],
            published: Vec<Option<String>>,
            headlines: &'a [Option<String>],
            matched: &'a [Option<ClusterMatch>],
        }
        let time = |t: Option<i64>| t.and_then(crate::doc::published_text);
        Listed {
            cluster: &self.cluster,
            size: self.members.len(),
            first_published: time(self.first_published()),
            last_published: time(self.last_published()),
            headline: self.headline(),
            min_jaccard: self.min_jaccard(),
            members: &self.members,
            published: self.published.iter().map(|&t| time(t)).collect(),
            headlines: &self.headlines,
            matched: &self.matched,
        }
        .serialize(serializer)
    }
}

/// The stories of a story-tracking index's documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoryCounts {
    /// Stories.
    pub stories: usize,
    /// Stories of two or more documents.
    pub multi_document_stories: usize,
    /// Documents in the largest story.
    pub largest: usize,
}

/// A document analysed for the index, before any lock is taken.
pub(crate) struct Prepared {
    id: String,
    record: DocRecord,
    /// Story-layer term frequencies, sorted by term.
    terms: Box<[(u64, f32)]>,
    /// Its headline as a segment keeps it (empty in an index without stories).
    headline: Box<str>,
}

/// Documents of a batch whose committed band entries are looked up together: enough
/// that a band's lookups fall on neighbouring pages, few enough that their entries stay
/// small beside the documents themselves.
const LOOKUP_CHUNK: usize = 8192;

/// The most bytes of story lists an index keeps: they are rewritten with the manifest at
/// every commit, and a manifest over 64 MiB is refused as not one.
const MAX_STORY_LIST_BYTES: usize = 8 << 20;

/// Refuses story lists without story tracking, and lists larger than an index keeps.
fn check_story_lists(story: Option<&StoryParams>, lists: &ExclusionLists) -> Result<()> {
    if story.is_none() && !lists.is_empty() {
        return Err(Error::InvalidParams(
            "stopword and boilerplate lists apply to story tracking: give story parameters \
             too"
            .into(),
        ));
    }
    let bytes: usize = (lists.stopwords.iter())
        .chain(&lists.boilerplate_lines)
        .map(String::len)
        .sum();
    if bytes > MAX_STORY_LIST_BYTES {
        return Err(Error::InvalidParams(format!(
            "story lists of {bytes} bytes: an index keeps them in its manifest, which takes \
             at most {MAX_STORY_LIST_BYTES} bytes of them"
        )));
    }
    Ok(())
}

/// The user's story lists in force, as the manifest keeps them, and what they exclude.
struct ListsInForce {
    lists: ExclusionLists,
    exclusions: Exclusions,
}

impl ListsInForce {
    fn new(analyzer: &TermAnalyzer, lists: ExclusionLists) -> Arc<ListsInForce> {
        Arc::new(ListsInForce {
            exclusions: Exclusions::listed(analyzer, &lists.stopwords, &lists.boilerplate_lines),
            lists,
        })
    }
}

/// The persistent, incremental index.
pub struct Index {
    params: Params,
    story_params: Option<StoryParams>,
    story_analyzer: TermAnalyzer,
    /// Replaced whole by [`Index::set_story_lists`]; a batch is analysed with the lists
    /// in force when it began.
    story_lists: RwLock<Arc<ListsInForce>>,
    engine: Engine,
    state: RwLock<State>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("params", &self.params)
            .field("documents", &self.len())
            .finish()
    }
}

impl Index {
    /// An empty index in memory with `params` (usually a preset's), without story
    /// tracking. [`Index::save`] writes it as a directory.
    pub fn new(params: Params) -> Result<Index> {
        Index::with_stories(params, None)
    }

    /// An empty index in memory with `params` for near-duplicates and, if `story` is
    /// given, story tracking with those parameters. Story tracking keeps each document's
    /// weighted terms (about twice the index size) and costs several times the insertion
    /// time; an opened index replays every document's terms the first time it inserts,
    /// removes or gives its story background (queries and cluster questions do not).
    pub fn with_stories(params: Params, story: Option<StoryParams>) -> Result<Index> {
        Index::with_story_lists(params, story, ExclusionLists::default())
    }

    /// [`Index::with_stories`], the story terms of every document added leaving out the
    /// terms and the lines or sentences `lists` names, as `stories` does with the same
    /// lists (`--stopwords-file`, `--boilerplate-file`). The index keeps the lists:
    /// every later writer applies them. Lists need story tracking.
    pub fn with_story_lists(
        params: Params,
        story: Option<StoryParams>,
        lists: ExclusionLists,
    ) -> Result<Index> {
        let engine = Engine::new(&params)?;
        if let Some(story) = &story {
            story.check()?;
        }
        check_story_lists(story.as_ref(), &lists)?;
        let state = State::empty(&params, engine.lsh().bands, story.clone());
        let story_analyzer = TermAnalyzer::new(
            story
                .as_ref()
                .map_or(StoryAnalysis::default(), |s| s.analysis),
        );
        Ok(Index {
            story_lists: RwLock::new(ListsInForce::new(&story_analyzer, lists)),
            story_analyzer,
            story_params: story,
            engine,
            params,
            state: RwLock::new(state),
        })
    }

    /// Creates an empty index directory at `path` (refusing an existing path) and returns
    /// the index, ready to insert into and commit.
    pub fn create(
        path: impl AsRef<Path>,
        params: Params,
        story: Option<StoryParams>,
    ) -> Result<Index> {
        Index::create_with_story_lists(path, params, story, ExclusionLists::default())
    }

    /// [`Index::create`] with story lists (see [`Index::with_story_lists`]).
    pub fn create_with_story_lists(
        path: impl AsRef<Path>,
        params: Params,
        story: Option<StoryParams>,
        lists: ExclusionLists,
    ) -> Result<Index> {
        let index = Index::with_story_lists(params, story, lists)?;
        index.save(path)?;
        Ok(index)
    }

    /// Opens an index: a directory (its last committed state, without locking: any
    /// number of processes may read while one writes) or a single file of format 4 or 5
    /// (read whole; save it to a new path to upgrade it). Damaged, foreign and unknown
    /// files are refused by name.
    pub fn open(path: impl AsRef<Path>) -> Result<Index> {
        let path = path.as_ref();
        if path.is_dir() {
            let (manifest, segments) = commit::read_committed(path)?;
            let index = Index::with_story_lists(
                manifest.params.clone(),
                manifest.story.clone(),
                manifest.story_lists.clone(),
            )
            .map_err(|e| Error::Index {
                path: path.to_path_buf(),
                problem: format!("inconsistent manifest: {e}"),
            })?;
            let state = State::load(path, manifest, segments, index.engine.lsh().bands, None)?;
            *index.write() = state;
            Ok(index)
        } else {
            legacy::open(path)
        }
    }

    /// Opens the index directory at `path` as its one writer: waits for (calling
    /// `on_wait` once) and holds its lock until dropped, so that what it commits is
    /// based on the latest committed state and no other writer commits meanwhile.
    pub fn open_writer(path: impl AsRef<Path>, on_wait: impl FnOnce(&Path)) -> Result<Index> {
        let path = path.as_ref();
        if !store::is_index_dir(path) {
            return Err(commit::not_a_directory_index(path));
        }
        let lock = WriterLock::acquire(path, on_wait)?;
        let index = Index::open(path)?;
        index.write().set_lock(lock);
        Ok(index)
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The story parameters, when stories are tracked.
    pub fn story_params(&self) -> Option<&StoryParams> {
        self.story_params.as_ref()
    }

    /// The stopwords and boilerplate lines the story terms leave out.
    pub fn story_lists(&self) -> ExclusionLists {
        self.lists_in_force().lists.clone()
    }

    fn lists_in_force(&self) -> Arc<ListsInForce> {
        // Lists are replaced whole, never left half-written by a panic.
        let lists = self
            .story_lists
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(&lists)
    }

    /// Replaces the story lists: documents added from now on leave out these terms and
    /// lines (a site's new footer, lines `stories` learned on a sample of the feed);
    /// documents stored before keep the terms they were weighed with. The next commit
    /// writes the lists to the manifest, even with nothing added. Refused, the lists
    /// unchanged, on an index without story tracking or over the size an index keeps.
    pub fn set_story_lists(&self, lists: ExclusionLists) -> Result<()> {
        check_story_lists(self.story_params.as_ref(), &lists)?;
        let lists = ListsInForce::new(&self.story_analyzer, lists);
        *self
            .story_lists
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = lists;
        Ok(())
    }

    /// Learns boilerplate lines from `docs` and adds those the boilerplate list lacks
    /// to it, the most widespread first while the lists stay within the size an index
    /// keeps; returns the lines added. A line or sentence is boilerplate as `stories`
    /// finds it, on more than a fifth of one site's documents, of a site with at least
    /// 50 of them, copies counted once: among `docs` alone, or among every batch this
    /// index learned from, whose per-site counts it keeps (bounded, recent pages
    /// weighing most: `story::tally`) and the next commit writes. So a feed learned a
    /// few articles at a time finds each site's footer once the site has 50 pages.
    /// Given a batch before inserting it, the batch's own documents leave the lines out;
    /// documents stored before keep their terms. A document counts once: an exact copy
    /// of an earlier one of the batch or of a stored one counts for nothing. Refused on
    /// an index without story tracking.
    pub fn learn_story_lines(&self, docs: &[Document]) -> Result<Vec<BoilerplateLine>> {
        if self.story_params.is_none() {
            return Err(Error::InvalidParams(
                "boilerplate lines apply to story tracking, which this index does not do".into(),
            ));
        }
        let (records, copy_of) = records_of(&self.engine, docs);
        let stored = self.matches_of_records(&records)?;
        drop(records);
        let counted: Vec<bool> = (copy_of.iter().zip(&stored))
            .map(|(copy, matches)| copy.is_none() && !matches.iter().any(|m| m.jaccard == 1.0))
            .collect();
        // Each document's source and distinct line keys, sentence or not.
        let units: Vec<(u64, Vec<u64>)> = docs
            .par_iter()
            .map(|doc| {
                let mut keys = unit_keys(&doc.text);
                keys.iter_mut().for_each(|k| *k &= !1);
                (Exclusions::source(doc), keys)
            })
            .collect();
        let mut batch = LineTally::exact();
        let in_force = self.lists_in_force();
        // (source, key) → share, for the lines of this batch that are boilerplate now.
        let mut learned: HashMap<(u64, u64), f64> = HashMap::new();
        {
            let mut state = self.write();
            let tally = state.line_tally()?;
            for ((source, keys), _) in units.iter().zip(&counted).filter(|(_, &c)| c) {
                tally.count_document(*source, keys);
                batch.count_document(*source, keys);
            }
            for (source, keys) in &units {
                for &key in keys.iter().filter(|&&k| !in_force.exclusions.lists_line(k)) {
                    let shares = [
                        batch.boilerplate_share(*source, key),
                        tally.boilerplate_share(*source, key),
                    ];
                    if let Some(share) = shares.into_iter().flatten().reduce(f64::max) {
                        learned.insert((*source, key), share);
                    }
                }
            }
            state.tally_changed |= counted.contains(&true);
        }
        // Each line's text as first seen.
        let mut found: Vec<BoilerplateLine> = Vec::new();
        for (doc, (source, _)) in docs.iter().zip(&units) {
            if learned.is_empty() {
                break;
            }
            for_each_keyed_unit(&doc.text, |key, unit| {
                if let Some(share) = learned.remove(&(*source, key)) {
                    found.push(BoilerplateLine {
                        source: host_of(doc),
                        line: unit.to_owned(),
                        share,
                        listed: false,
                    });
                }
            });
        }
        found.sort_by(|a, b| {
            (b.share.total_cmp(&a.share))
                .then_with(|| a.line.cmp(&b.line))
                .then_with(|| a.source.cmp(&b.source))
        });
        // Added to the lists in force now, which another thread may have replaced
        // meanwhile.
        let mut in_force = self
            .story_lists
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut lists = in_force.lists.clone();
        let mut bytes: usize = (lists.stopwords.iter())
            .chain(&lists.boilerplate_lines)
            .map(String::len)
            .sum();
        // The same text learned at two sites, or listed already, is listed once.
        let mut listed: HashSet<String> = lists.boilerplate_lines.iter().cloned().collect();
        let mut added = Vec::new();
        for line in found {
            if bytes + line.line.len() > MAX_STORY_LIST_BYTES || !listed.insert(line.line.clone()) {
                continue;
            }
            bytes += line.line.len();
            lists.boilerplate_lines.push(line.line.clone());
            added.push(line);
        }
        if !added.is_empty() {
            *in_force = ListsInForce::new(&self.story_analyzer, lists);
        }
        Ok(added)
    }

    /// Documents stored.
    pub fn len(&self) -> usize {
        self.read().live()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The directory this index was opened from or last saved to.
    pub fn path(&self) -> Option<PathBuf> {
        self.read().origin_dir().map(Path::to_path_buf)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated in a way a
        // reader could misuse: every update completes before its fields are read.
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Analyses `doc`; an unreadable publication time is refused (the CLI's readers
    /// drop it with a warning first), never stored as "undated" without a word.
    fn prepare(
        &self,
        doc: &Document,
        lists: &ListsInForce,
        buffers: &mut RecordBuffers,
    ) -> Result<Prepared> {
        let published = match doc.published.as_deref().map(parse_published) {
            None => None,
            Some(Ok(t)) => Some(t),
            Some(Err(problem)) => {
                return Err(Error::Input {
                    location: doc.location.clone(),
                    problem: InputProblem::BadDate(problem),
                })
            }
        };
        Ok(Prepared {
            id: doc.id.clone(),
            record: self.engine.record(&doc.text, published, buffers),
            terms: match &self.story_params {
                Some(story) => term_frequencies(
                    &self.story_analyzer,
                    doc,
                    story.title_weight,
                    &lists.exclusions,
                    |_, _| {},
                )
                .into_boxed_slice(),
                None => Box::new([]),
            },
            headline: match &self.story_params {
                Some(_) => Box::from(segment::kept_headline(doc.headline())),
                None => Box::from(""),
            },
        })
    }

    /// Stored documents similar to `doc` (at or above the threshold), most similar first.
    /// An exact copy of stored documents matches the first of them (the others are its
    /// copies, in its cluster). Fails only on a damaged segment.
    pub fn query(&self, doc: &Document) -> Result<Vec<Match>> {
        let record = self
            .engine
            .record(&doc.text, None, &mut RecordBuffers::default());
        self.read().matches(&record, &self.engine)
    }

    /// [`Index::query`] for many documents, in parallel.
    pub fn query_batch(&self, docs: &[Document]) -> Result<Vec<Vec<Match>>> {
        let records: Vec<DocRecord> = docs
            .par_iter()
            .map_init(RecordBuffers::default, |buffers, doc| {
                self.engine.record(&doc.text, None, buffers)
            })
            .collect();
        self.matches_of_records(&records)
    }

    /// The stored documents each of `records` matches.
    fn matches_of_records(&self, records: &[DocRecord]) -> Result<Vec<Vec<Match>>> {
        let state = self.read();
        let mut matches = Vec::with_capacity(records.len());
        for chunk in records.chunks(LOOKUP_CHUNK) {
            let refs: Vec<&DocRecord> = chunk.iter().collect();
            let hits = state.segment_hits(&refs)?;
            let answers: Vec<Vec<Match>> = chunk
                .par_iter()
                .zip(hits)
                .map(|(r, found)| state.matches_among(r, &self.engine, found))
                .collect::<Result<_>>()?;
            matches.extend(answers);
        }
        Ok(matches)
    }

    /// What [`Index::insert`] would answer for `doc`, storing nothing: the stored
    /// documents it duplicates, the cluster it would be in and, with story tracking,
    /// the story it would join and the score that would attach it ("is this a copy, and
    /// of which story?" asked of an index without adding to it). Its id need not be
    /// new: a stored document previewed again matches itself. Takes the index's write
    /// lock for the story tracker, whose counts are restored (the first call on an
    /// opened story-tracking index reads every stored document's story terms).
    pub fn preview(&self, doc: &Document) -> Result<Decision> {
        let lists = self.lists_in_force();
        let prepared = self.prepare(doc, &lists, &mut RecordBuffers::default())?;
        self.write().preview(&prepared, None, &self.engine)
    }

    /// [`Index::preview`] for many documents, each answered against the stored
    /// documents alone (never against another of `docs`), analysed in parallel.
    pub fn preview_batch(&self, docs: &[Document]) -> Vec<Result<Decision>> {
        let prepared = self.prepare_all(docs);
        decide_prepared(&mut self.write(), prepared, false, |state, p, hits| {
            state.preview(&p, hits, &self.engine)
        })
    }

    /// Stores `doc` (failing if its id is taken) and returns what it matched.
    pub fn insert(&self, doc: &Document) -> Result<Decision> {
        self.insert_or_match(doc)
    }

    /// One call that answers and records: the stored documents `doc` duplicates, and the
    /// cluster it joins. The id must be new.
    pub fn insert_or_match(&self, doc: &Document) -> Result<Decision> {
        let lists = self.lists_in_force();
        let prepared = self.prepare(doc, &lists, &mut RecordBuffers::default())?;
        self.write().insert(prepared, None, &self.engine)
    }

    fn prepare_all(&self, docs: &[Document]) -> Vec<Result<Prepared>> {
        let lists = self.lists_in_force();
        docs.par_iter()
            .map_init(RecordBuffers::default, |buffers, doc| {
                self.prepare(doc, &lists, buffers)
            })
            .collect()
    }

    /// [`Index::insert_or_match`] for many documents: analysed in parallel, inserted in
    /// order (so the result equals inserting them one by one). Cheaper per document than
    /// one at a time, the more so the larger the batch up to 8,192: the documents' band
    /// entries in the committed segments are looked up together, band by band in key
    /// order, so that neighbouring lookups share pages.
    pub fn insert_batch(&self, docs: &[Document]) -> Vec<Result<Decision>> {
        let prepared = self.prepare_all(docs);
        self.insert_prepared(&mut self.write(), prepared, false)
    }

    /// Inserts `prepared` in order (up to the first failure when `stop_at_error`).
    fn insert_prepared(
        &self,
        state: &mut State,
        prepared: Vec<Result<Prepared>>,
        stop_at_error: bool,
    ) -> Vec<Result<Decision>> {
        decide_prepared(state, prepared, stop_at_error, |state, p, hits| {
            state.insert(p, hits, &self.engine)
        })
    }

    /// [`Index::insert_batch`], all or nothing: when any document would fail (an id
    /// already stored or repeated in the batch, an unreadable publication time),
    /// nothing is stored and the first such error is returned.
    pub fn insert_all(&self, docs: &[Document]) -> Result<Vec<Decision>> {
        let prepared: Vec<Prepared> = self.prepare_all(docs).into_iter().collect::<Result<_>>()?;
        let mut state = self.write();
        let mut batch_ids = std::collections::HashSet::with_capacity(prepared.len());
        for p in &prepared {
            if state.contains(&p.id)? || !batch_ids.insert(p.id.as_str()) {
                return Err(Error::DuplicateId(p.id.clone()));
            }
        }
        drop(batch_ids);
        let prepared = prepared.into_iter().map(Ok).collect();
        self.insert_prepared(&mut state, prepared, true)
            .into_iter()
            .collect()
    }

    /// Removes a document; its links go with it, which may split its cluster.
    pub fn remove(&self, id: &str) -> Result<()> {
        let mut state = self.write();
        let doc = state
            .find(id)?
            .ok_or_else(|| Error::UnknownId(id.to_string()))?;
        state.forget(doc)?;
        state.rebuild_components();
        Ok(())
    }

    /// Removes every document published before `cutoff` (Unix seconds); documents
    /// without a publication time are kept. Returns how many were removed.
    pub fn evict_before(&self, cutoff: i64) -> Result<usize> {
        self.write().evict_before(cutoff)
    }

    /// Removes documents published more than `seconds` before the newest publication time
    /// seen: a sliding window that keeps memory bounded on an endless feed. A negative
    /// window is refused (it would empty the index).
    pub fn evict_window(&self, seconds: i64) -> Result<usize> {
        if seconds < 0 {
            return Err(Error::InvalidParams(format!(
                "the time window cannot be negative, got {seconds} s"
            )));
        }
        match self.newest_published() {
            Some(newest) => self.evict_before(newest.saturating_sub(seconds)),
            None => Ok(0),
        }
    }

    /// The cluster of a stored document.
    pub fn cluster_of(&self, id: &str) -> Result<Option<String>> {
        let state = self.read();
        match state.find(id)? {
            Some(doc) => state.cluster_name(doc).map(Some),
            None => Ok(None),
        }
    }

    /// The story of a stored document, named by its first document (None when the id is
    /// unknown or the index does not track stories).
    pub fn story_of(&self, id: &str) -> Result<Option<String>> {
        let state = self.read();
        match state.find(id)? {
            Some(doc) => state.story_name(doc),
            None => Ok(None),
        }
    }

    /// Gives a new story-tracking index `background`'s document frequencies (articles of
    /// the feed it will hold, or another index's counts: [`Index::story_background`]),
    /// added to those of the documents it counts before any term is weighed, as
    /// `stories --background` adds them: from its first document, its idf tells a
    /// beat's vocabulary and a template's words from an event's names, as it otherwise
    /// does only once it has stored many articles. The background is kept for the
    /// index's life (the next commit or save writes it); removed and evicted documents
    /// leave it as it is. Refused on an index without story tracking, once a document
    /// was ever added or a background given, and on counts of another
    /// [`crate::story::StoryAnalysis`] than the index's.
    pub fn set_story_background(&self, background: crate::story::Background) -> Result<()> {
        if self.story_params.is_none() {
            return Err(Error::InvalidParams(
                "a background applies to story tracking, which this index does not do".into(),
            ));
        }
        self.write().set_story_background(background)
    }

    /// The document frequencies of the stored documents' story terms, and of the
    /// background it was given, as a background for `stories` (None when the index
    /// does not track stories). The first call on an opened index reads every stored
    /// document's terms.
    pub fn story_background(&self) -> Result<Option<crate::story::Background>> {
        let mut state = self.write();
        state.ensure_stories()?;
        Ok(state.tracker.background())
    }

    /// Every multi-member cluster: (cluster name, member ids in insertion order).
    pub fn clusters(&self) -> Result<NamedGroups> {
        self.read().clusters()
    }

    /// The clusters of at least `min_size` documents (1 lists every document, each alone
    /// in its cluster or not) with a member published at or after `since` (Unix
    /// seconds; when given, a cluster none of whose members gave a time is left out),
    /// largest first, then by name: each member's time and headline, and the member it
    /// matched best on arriving with their Jaccard similarity, so that a reader sees how
    /// alike a cluster's documents are, not only that they are grouped.
    pub fn cluster_list(&self, since: Option<i64>, min_size: usize) -> Result<Vec<IndexCluster>> {
        self.read().cluster_list(since, min_size)
    }

    /// Every story of two or more documents: (story name, as [`Index::story_of`] gives
    /// it, and member ids in insertion order), largest first, then by name. None when the
    /// index does not track stories.
    pub fn stories(&self) -> Result<Option<NamedGroups>> {
        let listed = self.read().story_list(None, 2, None)?;
        Ok(listed.map(|stories| stories.into_iter().map(|s| (s.story, s.members)).collect()))
    }

    /// The stories of at least `min_size` documents (1 lists every story) that were
    /// still running at `since` (Unix seconds), with their members' publication times,
    /// largest first, then by name: with `since`, only the stories with a member
    /// published at or after it (a story none of whose members gave a time is left out).
    /// A feed's index asked for the stories of its last day lists the stories that ran
    /// that day, whenever they began. None when the index does not track stories.
    /// Naming each story's terms weighs every stored document's terms, as the first
    /// insertion after opening does.
    pub fn story_list(
        &self,
        since: Option<i64>,
        min_size: usize,
    ) -> Result<Option<Vec<IndexStory>>> {
        let mut state = self.write();
        state.ensure_stories()?;
        state.story_list(since, min_size, Some(&self.story_analyzer))
    }

    /// The latest publication time of a document the index stored (None when none gave
    /// one): the time [`Index::evict_window`] counts back from.
    pub fn newest_published(&self) -> Option<i64> {
        self.read().newest_published()
    }

    /// Counts.
    pub fn stats(&self) -> Result<IndexStats> {
        let clusters = self.clusters()?;
        let state = self.read();
        Ok(IndexStats {
            schema_version: crate::report::SCHEMA_VERSION,
            documents: state.live(),
            multi_member_clusters: clusters.len(),
            clustered_documents: clusters.iter().map(|(_, m)| m.len()).sum(),
            shingles: state.shingles()?,
            links: state.links(),
            segments: state.segment_count(),
            uncommitted: state.uncommitted(),
            params: self.params.clone(),
            story: self.story_params.clone(),
            story_lists: self.story_lists(),
            story_counts: state.story_counts(),
            story_background_documents: state.story_background_documents(),
            story_tracker_documents: state.stored_tracker_documents(),
        })
    }

    /// Writes the index to `path`. To the directory it was opened from (or last saved
    /// to), this commits: documents inserted since are written as a new segment and
    /// removals as deletion lists, then the manifest is replaced atomically; small
    /// segments are merged. To a path that does not exist, it writes a new index
    /// directory holding every stored document, and the index then belongs to it. Any
    /// other path is refused (it holds another index or a file). A crash at any moment
    /// leaves the last committed state readable.
    ///
    /// A commit takes the directory's writer lock if this index does not hold it, and is
    /// refused if another writer committed since this index was opened (its documents
    /// were matched against a state that is no longer the latest).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let lists = self.story_lists();
        let mut state = self.write();
        if state.is_origin(path) {
            commit::commit(&mut state, &self.params, self.story_params.as_ref(), &lists)
        } else {
            let story = self.story_params.as_ref();
            commit::write_new(&mut state, path, &self.params, story, &lists)
        }
    }

    /// Commits to the directory the index belongs to ([`Index::save`] to it).
    pub fn commit(&self) -> Result<()> {
        let dir = self.path().ok_or_else(|| {
            Error::InvalidParams("this index has no directory: save it to a path first".into())
        })?;
        self.save(dir)
    }

    /// Commits, storing the story tracker as it stands, so that the next writer or
    /// reader that needs it reads it instead of replaying the documents counted since
    /// it was last stored (a commit stores it by itself once that is at least 10,000
    /// documents and an eighth of the live ones). A tracker a removal left holding its
    /// documents' weights is first rebuilt from the stored terms, as opening the index
    /// again would. For a feed that is about to stop, or before copying an index.
    pub fn commit_story_tracker(&self) -> Result<()> {
        if self.story_params.is_none() {
            return Err(Error::InvalidParams(
                "this index does not track stories: it has no story tracker".into(),
            ));
        }
        let lists = self.story_lists();
        let (params, story) = (&self.params, self.story_params.as_ref());
        let mut state = self.write();
        // Refused for an index with no directory, as a commit is.
        commit::commit(&mut state, params, story, &lists)?;
        state.exact_stories()?;
        state.store_tracker_next = true;
        let stored = commit::commit(&mut state, params, story, &lists);
        state.store_tracker_next = false;
        stored
    }

    /// Commits, then merges every segment into one, dropping removed documents. Readers
    /// that opened the index before keep their segments (mapped files outlive their
    /// names) until they open it again.
    pub fn compact(&self) -> Result<()> {
        self.commit()?;
        let mut state = self.write();
        commit::compact(&mut state)
    }

    /// Reads every byte of every committed segment and checks it: checksums, the order
    /// of every sorted array, every set, every band entry; and the line counts, if any.
    /// Opening checks only headers.
    pub fn verify(&self) -> Result<()> {
        self.read().verify()
    }
}

/// Answers `prepared` in order by `decide` (up to the first failure when
/// `stop_at_error`), looking up the committed segments' band entries of
/// [`LOOKUP_CHUNK`] documents at a time: the segments do not change meanwhile.
fn decide_prepared(
    state: &mut State,
    prepared: Vec<Result<Prepared>>,
    stop_at_error: bool,
    mut decide: impl FnMut(&mut State, Prepared, Option<Vec<(u32, u32)>>) -> Result<Decision>,
) -> Vec<Result<Decision>> {
    let mut decisions = Vec::with_capacity(prepared.len());
    let mut prepared = prepared.into_iter().peekable();
    while prepared.peek().is_some() {
        let chunk: Vec<Result<Prepared>> = prepared.by_ref().take(LOOKUP_CHUNK).collect();
        let records: Vec<&DocRecord> = chunk.iter().flatten().map(|p| &p.record).collect();
        // A damaged segment fails the batched lookup; each document then looks up
        // its own entries and reports the error itself.
        let mut hits = match state.segment_hits(&records) {
            Ok(hits) => hits.into_iter().map(Some).collect(),
            Err(_) => Vec::new(),
        }
        .into_iter();
        for p in chunk {
            // Hits were looked up for the prepared documents only.
            let decision = p.and_then(|p| decide(state, p, hits.next().flatten()));
            let failed = decision.is_err();
            decisions.push(decision);
            if failed && stop_at_error {
                return decisions;
            }
        }
    }
    decisions
}
