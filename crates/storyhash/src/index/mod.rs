//! A persistent, incremental near-duplicate index for ingestion pipelines: ask, per
//! arriving article, "is this a duplicate, and of which cluster?", and record it, without
//! re-running the corpus.
//!
//! Each stored document is a [`DocRecord`] of the shared per-document core (exact
//! shingle set, for exact Jaccard and containment; signature; LSH band keys; publication
//! time) plus its verified links to earlier documents. Clusters are the connected
//! components of the links, as in `cluster` and `dedup`, so inserting a stream gives the
//! same clusters as clustering it in one batch. A cluster is named by the id of its
//! earliest-inserted member still in the index.
//!
//! Exact copies (a document whose exact set equals a stored one's) link to that first
//! document only and are never put in the band buckets, so the links and buckets of
//! 100,000 copies of one wire story grow with the copies, not with their pairs; they
//! share its set in memory. When the first document is removed, its earliest copy takes
//! its place (its links and bucket entries).
//!
//! Near-copies (a story republished under new headlines) share every band key: a new
//! document is compared with the newest `lsh::MAX_BUCKET_PIVOTS` members of each of its
//! buckets only, so it joins their cluster through them and links stay in proportion to
//! documents; its reported matches are then among those members, not every earlier copy.
//!
//! Concurrency: [`Index`] is `Send + Sync`; queries take a read lock and run in parallel,
//! writers take the write lock. Analysis (the expensive part) happens outside the lock.
//!
//! Persistence: [`Index::save`] writes one file atomically (temporary file, fsync,
//! rename) in the `persist` container, format version [`FORMAT_VERSION`]; [`Index::open`]
//! verifies its checksum before reading anything. Removed and evicted documents are
//! dropped from the file.
//!
//! Layout: this module holds the public API and the types behind the lock; `state`
//! matches, stores and removes documents; `format` writes and reads the file; `buckets`
//! holds the LSH buckets.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::path::Path;
use std::sync::RwLock;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cluster::UnionFind;
use crate::doc::{parse_published, Document};
use crate::error::{Error, InputProblem, Result};
use crate::minhash::Prehashed;
use crate::output::write_atomically;
use crate::persist::{ContentKind, PayloadReader, PayloadWriter};
use crate::pipeline::Params;
use crate::record::{set_fingerprint, DocRecord, Engine, ExactCopies, RecordBuffers};
use crate::shingle::jaccard_from_counts;
use crate::story::{story_tokenizer, term_frequencies, StoryParams, StoryTracker};
use crate::tokenize::Tokenizer;

mod buckets;
mod format;
mod state;

use buckets::BandIndex;
pub use format::{FORMAT_VERSION, SUPPORTED_VERSIONS};

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
    /// The parameters the index was created with.
    pub params: Params,
}

/// A document analysed for the index, before any lock is taken.
struct Prepared {
    id: String,
    record: DocRecord,
    /// Story-layer term frequencies, sorted by term.
    terms: Box<[(u64, f32)]>,
}

/// Everything behind the lock. Slots are dense positions; removed slots stay as
/// tombstones (`alive == false`) until the next save.
#[derive(Default)]
struct State {
    ids: Vec<String>,
    published: Vec<Option<i64>>,
    alive: Vec<bool>,
    /// The copy group of each slot.
    group_of: Vec<u32>,
    /// Groups of documents with one exact set.
    groups: Vec<CopyGroup>,
    /// Groups by set.
    firsts: ExactCopies,
    /// MinHash signatures, `num_perm` per slot, for the prefilter.
    signatures: Vec<u32>,
    num_perm: usize,
    /// Story-layer terms per slot.
    terms: Vec<Box<[(u64, f32)]>>,
    /// Story of each slot: the slot that started it.
    story_of: Vec<u32>,
    tracker: StoryTracker,
    /// Verified links between group holders (a copy's link to its holder is implicit);
    /// lists may name removed slots until `prune_links`.
    links: Vec<Vec<(u32, f32)>>,
    by_id: HashMap<String, u32>,
    buckets: BandIndex,
    components: UnionFind,
    /// Earliest alive slot of each component, indexed by root.
    first_of_root: Vec<u32>,
    newest_published: Option<i64>,
}

/// Documents with one exact set: the holder (its earliest alive member) stands for all
/// of them in the buckets and in links; the others join it in the clusters.
#[derive(Debug)]
struct CopyGroup {
    holder: u32,
    set: Box<[u32]>,
    keys: Option<Box<[u32]>>,
    fingerprint: u64,
    /// Later members in slot order; removed ones are skipped when a holder is replaced.
    later: std::collections::VecDeque<u32>,
}

/// Metadata stored as the index file's bincode section.
#[derive(Debug, Serialize, Deserialize)]
struct IndexMeta {
    params: Params,
    story: Option<StoryParams>,
    writer: String,
    documents: u64,
}

/// The persistent, incremental index.
pub struct Index {
    params: Params,
    story_params: Option<StoryParams>,
    story_tokenizer: Tokenizer,
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
    /// An empty index with `params` (usually a preset's), without story tracking.
    pub fn new(params: Params) -> Result<Index> {
        Index::with_stories(params, None)
    }

    /// An empty index with `params` for near-duplicates and, if `story` is given, story
    /// tracking with those parameters. Story tracking keeps each document's weighted terms
    /// (about twice the index size) and costs several times the insertion time.
    pub fn with_stories(params: Params, story: Option<StoryParams>) -> Result<Index> {
        let engine = Engine::new(&params)?;
        if let Some(story) = &story {
            story.check()?;
        }
        let state = State {
            buckets: BandIndex::new(engine.lsh().bands),
            components: UnionFind::new(0),
            num_perm: params.num_perm,
            tracker: story.clone().map(StoryTracker::new).unwrap_or_default(),
            ..State::default()
        };
        Ok(Index {
            story_tokenizer: story_tokenizer(),
            story_params: story,
            engine,
            params,
            state: RwLock::new(state),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Documents stored.
    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    fn prepare(&self, doc: &Document, buffers: &mut RecordBuffers) -> Result<Prepared> {
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
                Some(story) => {
                    term_frequencies(&self.story_tokenizer, doc, story.title_weight, |_, _| {})
                        .into_boxed_slice()
                }
                None => Box::new([]),
            },
        })
    }

    /// Stored documents similar to `doc` (at or above the threshold), most similar first.
    /// An exact copy of stored documents matches the first of them (the others are its
    /// copies, in its cluster).
    pub fn query(&self, doc: &Document) -> Vec<Match> {
        let record = self
            .engine
            .record(&doc.text, None, &mut RecordBuffers::default());
        self.read().matches(&record, &self.engine)
    }

    /// [`Index::query`] for many documents, in parallel.
    pub fn query_batch(&self, docs: &[Document]) -> Vec<Vec<Match>> {
        let records: Vec<DocRecord> = docs
            .par_iter()
            .map_init(RecordBuffers::default, |buffers, doc| {
                self.engine.record(&doc.text, None, buffers)
            })
            .collect();
        let state = self.read();
        records
            .par_iter()
            .map(|r| state.matches(r, &self.engine))
            .collect()
    }

    /// Stores `doc` (failing if its id is taken) and returns what it matched.
    pub fn insert(&self, doc: &Document) -> Result<Decision> {
        self.insert_or_match(doc)
    }

    /// One call that answers and records: the stored documents `doc` duplicates, and the
    /// cluster it joins. The id must be new.
    pub fn insert_or_match(&self, doc: &Document) -> Result<Decision> {
        let prepared = self.prepare(doc, &mut RecordBuffers::default())?;
        let mut state = self.write();
        let decision = state.insert(prepared, &self.engine);
        state.buckets.maybe_merge();
        decision
    }

    /// [`Index::insert_or_match`] for many documents: analysed in parallel, inserted in
    /// order (so the result equals inserting them one by one).
    pub fn insert_batch(&self, docs: &[Document]) -> Vec<Result<Decision>> {
        let prepared: Vec<Result<Prepared>> = docs
            .par_iter()
            .map_init(RecordBuffers::default, |buffers, doc| {
                self.prepare(doc, buffers)
            })
            .collect();
        let mut state = self.write();
        prepared
            .into_iter()
            .map(|p| {
                let decision = state.insert(p?, &self.engine);
                state.buckets.maybe_merge();
                decision
            })
            .collect()
    }

    /// [`Index::insert_batch`], all or nothing: when any document would fail (an id
    /// already stored or repeated in the batch, an unreadable publication time),
    /// nothing is stored and the first such error is returned.
    pub fn insert_all(&self, docs: &[Document]) -> Result<Vec<Decision>> {
        let prepared: Vec<Prepared> = docs
            .par_iter()
            .map_init(RecordBuffers::default, |buffers, doc| {
                self.prepare(doc, buffers)
            })
            .collect::<Result<_>>()?;
        let mut state = self.write();
        let mut batch_ids = std::collections::HashSet::with_capacity(prepared.len());
        for p in &prepared {
            if state.by_id.contains_key(&p.id) || !batch_ids.insert(p.id.as_str()) {
                return Err(Error::DuplicateId(p.id.clone()));
            }
        }
        drop(batch_ids);
        prepared
            .into_iter()
            .map(|p| {
                let decision = state.insert(p, &self.engine);
                state.buckets.maybe_merge();
                decision
            })
            .collect()
    }

    /// Removes a document; its links go with it, which may split its cluster.
    pub fn remove(&self, id: &str) -> Result<()> {
        let mut state = self.write();
        let slot = state
            .by_id
            .get(id)
            .copied()
            .ok_or_else(|| Error::UnknownId(id.to_string()))?;
        state.forget(slot);
        state.prune_links();
        state.rebuild_components();
        Ok(())
    }

    /// Removes every document published before `cutoff` (Unix seconds); documents
    /// without a publication time are kept. Returns how many were removed.
    pub fn evict_before(&self, cutoff: i64) -> usize {
        let mut state = self.write();
        let old: Vec<u32> = (0..state.ids.len() as u32)
            .filter(|&s| {
                state.alive[s as usize] && state.published[s as usize].is_some_and(|t| t < cutoff)
            })
            .collect();
        for &slot in &old {
            state.forget(slot);
        }
        if !old.is_empty() {
            state.prune_links();
            state.rebuild_components();
        }
        old.len()
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
        let newest = self.read().newest_published;
        Ok(match newest {
            Some(newest) => self.evict_before(newest.saturating_sub(seconds)),
            None => 0,
        })
    }

    /// The cluster of a stored document.
    pub fn cluster_of(&self, id: &str) -> Option<String> {
        let state = self.read();
        let slot = *state.by_id.get(id)?;
        Some(state.cluster_name_readonly(slot))
    }

    /// The story of a stored document, named by its first document (None when the id is
    /// unknown or the index does not track stories).
    pub fn story_of(&self, id: &str) -> Option<String> {
        let state = self.read();
        if !state.tracker.enabled() {
            return None;
        }
        let slot = *state.by_id.get(id)?;
        Some(state.ids[state.story_of[slot as usize] as usize].clone())
    }

    /// Every multi-member cluster: (cluster name, member ids in insertion order).
    pub fn clusters(&self) -> Vec<(String, Vec<String>)> {
        // Read-only finds: union by size keeps trees shallow, and readers need not wait
        // for the write lock.
        let state = self.read();
        let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
        for slot in 0..state.ids.len() as u32 {
            if state.alive[slot as usize] {
                let root = state.components.find_readonly(slot);
                groups.entry(root).or_default().push(slot);
            }
        }
        let mut out: Vec<(String, Vec<String>)> = groups
            .into_values()
            .filter(|m| m.len() > 1)
            .map(|members| {
                let name = state.ids[members[0] as usize].clone();
                (
                    name,
                    members
                        .iter()
                        .map(|&m| state.ids[m as usize].clone())
                        .collect(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// Counts.
    pub fn stats(&self) -> IndexStats {
        let clusters = self.clusters();
        let state = self.read();
        let alive = |s: &usize| state.alive[*s];
        IndexStats {
            schema_version: crate::report::SCHEMA_VERSION,
            documents: state.by_id.len(),
            multi_member_clusters: clusters.len(),
            clustered_documents: clusters.iter().map(|(_, m)| m.len()).sum(),
            shingles: (0..state.ids.len())
                .filter(alive)
                .map(|s| state.set_of(s as u32).len())
                .sum(),
            links: (0..state.ids.len())
                .filter(alive)
                .map(|s| state.links[s].len())
                .sum::<usize>()
                / 2,
            params: self.params.clone(),
        }
    }
}
