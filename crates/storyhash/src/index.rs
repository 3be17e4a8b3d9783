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
//! Concurrency: [`Index`] is `Send + Sync`; queries take a read lock and run in parallel,
//! writers take the write lock. Analysis (the expensive part) happens outside the lock.
//!
//! Persistence: [`Index::save`] writes one file atomically (temporary file, fsync,
//! rename) in the `persist` container, format version [`FORMAT_VERSION`]; [`Index::open`]
//! verifies its checksum before reading anything. Removed and evicted documents are
//! dropped from the file.

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

/// The index file format this build writes; [`SUPPORTED_VERSIONS`] are those it reads.
/// No version yet changed the layout; each changed what a text hashes to, so an older
/// index's stored sets and band keys no longer match what this build computes for the
/// same text, and it is refused, never misread. Version 2: a faster token hash and a
/// rolling shingle polynomial. Version 3: normalization folds the Persian and Urdu
/// yeh, kaf and heh and the Turkish i forms; tokens lose their final mixing step and
/// word shingles are the polynomial itself (one-permutation hashing mixes each anyway).
/// Version 4: word shingles roll a cyclic polynomial (rotations and xors), and bands of
/// up to four rows are keyed by one folded multiplication instead of xxh3.
/// Version 5 hashes as version 4 and changes the layout: an exact copy is stored by
/// reference (no set, keys or signature of its own, and no links; a last section names
/// each document's copy-group holder), so 100,000 copies of one article cost about 600
/// bytes each instead of 2,500. Version 4 files are read as they are.
pub const FORMAT_VERSION: u32 = 5;
/// Index file format versions this build reads.
pub const SUPPORTED_VERSIONS: &[u32] = &[4, 5];

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
    /// seen: a sliding window that keeps memory bounded on an endless feed.
    pub fn evict_window(&self, seconds: i64) -> usize {
        let newest = self.read().newest_published;
        match newest {
            Some(newest) => self.evict_before(newest.saturating_sub(seconds)),
            None => 0,
        }
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

    /// The index as the bytes of its file.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let state = self.read();
        let live: Vec<u32> = (0..state.ids.len() as u32)
            .filter(|&s| state.alive[s as usize])
            .collect();
        let mut new_slot = vec![u32::MAX; state.ids.len()];
        for (n, &s) in live.iter().enumerate() {
            new_slot[s as usize] = n as u32;
        }
        let mut w = PayloadWriter::default();
        w.meta(&IndexMeta {
            params: self.params.clone(),
            story: self.story_params.clone(),
            writer: format!("storyhash {}", env!("CARGO_PKG_VERSION")),
            documents: live.len() as u64,
        })?;
        let mut id_bytes = Vec::new();
        let mut id_ends = Vec::with_capacity(live.len());
        let mut published = Vec::with_capacity(live.len());
        let mut has_published = Vec::with_capacity(live.len());
        let mut set_ends = Vec::with_capacity(live.len());
        let mut set_values = Vec::new();
        let mut keyed = Vec::with_capacity(live.len());
        let mut keys = Vec::new();
        let mut signatures = Vec::with_capacity(live.len() * self.params.num_perm);
        let mut term_ends = Vec::with_capacity(live.len());
        let mut term_ids = Vec::new();
        let mut term_weights = Vec::new();
        // A story is renamed after its first surviving member.
        let mut story_names: HashMap<u32, u32> = HashMap::new();
        let mut stories = Vec::with_capacity(live.len());
        let mut link_ends = Vec::with_capacity(live.len());
        let mut link_to = Vec::new();
        let mut link_jaccard = Vec::new();
        let mut holders = Vec::with_capacity(live.len());
        for &s in &live {
            let s = s as usize;
            id_bytes.extend_from_slice(state.ids[s].as_bytes());
            id_ends.push(id_bytes.len() as u64);
            published.push(state.published[s].unwrap_or(0));
            has_published.push(u8::from(state.published[s].is_some()));
            // A copy is stored by reference to its group's holder: no set, keys or
            // signature of its own.
            let holder = state.groups[state.group_of[s] as usize].holder;
            let is_holder = holder as usize == s;
            holders.push(new_slot[holder as usize]);
            if is_holder {
                let group = &state.groups[state.group_of[s] as usize];
                set_values.extend_from_slice(&group.set);
                if let Some(k) = &group.keys {
                    keys.extend_from_slice(k);
                }
                signatures.extend_from_slice(state.signature_of(s as u32));
            }
            set_ends.push(set_values.len() as u64);
            keyed.push(u8::from(
                is_holder && state.groups[state.group_of[s] as usize].keys.is_some(),
            ));
            for &(t, w) in state.terms[s].iter() {
                term_ids.push(t);
                term_weights.push(w);
            }
            term_ends.push(term_ids.len() as u64);
            let named = *story_names.entry(state.story_of[s]).or_insert(new_slot[s]);
            stories.push(named);
            for &(other, j) in &state.links[s] {
                let other = new_slot[other as usize];
                if other != u32::MAX {
                    link_to.push(other);
                    link_jaccard.push(j);
                }
            }
            link_ends.push(link_to.len() as u64);
        }
        w.bytes(&id_bytes);
        w.u64s(&id_ends);
        w.i64s(&published);
        w.bytes(&has_published);
        w.u64s(&set_ends);
        w.u32s(&set_values);
        w.bytes(&keyed);
        w.u32s(&keys);
        w.u32s(&signatures);
        w.u64s(&term_ends);
        w.u64s(&term_ids);
        w.f32s(&term_weights);
        w.u32s(&stories);
        w.u64s(&link_ends);
        w.u32s(&link_to);
        w.f32s(&link_jaccard);
        for band in 0..self.engine.lsh().bands {
            w.u64s(&state.buckets.sorted_band(band, &new_slot));
        }
        w.u32s(&holders);
        Ok(w.finish(ContentKind::Index, FORMAT_VERSION))
    }

    /// Writes the index to `path` atomically: a crash leaves the previous file intact.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let bytes = self.to_bytes()?;
        write_atomically(path, |w| std::io::Write::write_all(w, &bytes))
    }

    /// Opens an index file, refusing anything damaged, foreign or of an unknown version.
    pub fn open(path: impl AsRef<Path>) -> Result<Index> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Index::from_bytes(path, &bytes)
    }

    /// Reads an index from the bytes of its file (`path` names it in errors).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Index> {
        let (version, mut r) =
            PayloadReader::open(path, bytes, ContentKind::Index, SUPPORTED_VERSIONS)?;
        let meta: IndexMeta = r.meta()?;
        let id_bytes = r.bytes()?;
        let id_ends = r.u64s()?;
        let published = r.i64s()?;
        let has_published = r.bytes()?;
        let set_ends = r.u64s()?;
        let set_values = r.u32s()?;
        let keyed = r.bytes()?;
        let keys = r.u32s()?;
        let signatures = r.u32s()?;
        let term_ends = r.u64s()?;
        let term_ids = r.u64s()?;
        let term_weights = r.f32s()?;
        let stories = r.u32s()?;
        let link_ends = r.u64s()?;
        let link_to = r.u32s()?;
        let link_jaccard = r.f32s()?;
        let n = meta.documents as usize;
        let bands_in_file = meta
            .params
            .lsh()
            .map_err(|e| r.inconsistent(&e.to_string()))?
            .bands;
        let mut band_arrays = Vec::with_capacity(bands_in_file);
        for _ in 0..bands_in_file {
            let array = r.u64s()?;
            let sorted = array.windows(2).all(|w| w[0] <= w[1]);
            if !sorted || array.iter().any(|&e| (e & 0xFFFF_FFFF) as usize >= n) {
                return Err(r.inconsistent("a band array is unsorted or names unknown documents"));
            }
            band_arrays.push(array);
        }
        // Version 5 names each document's copy-group holder; in version 4 every
        // document holds its own set (its groups are found again from the sets).
        let holders: Vec<u32> = if version >= 5 {
            r.u32s()?
        } else {
            (0..n as u32).collect()
        };
        let holders_valid = holders.len() == n
            && holders
                .iter()
                .enumerate()
                .all(|(slot, &h)| (h as usize) <= slot && holders[h as usize] == h);
        if !holders_valid {
            return Err(r.inconsistent("a copy names no earlier holder"));
        }
        let index = Index::with_stories(meta.params, meta.story)
            .map_err(|e| r.inconsistent(&e.to_string()))?;
        let bands = index.engine.lsh().bands;
        let lengths_agree = [
            id_ends.len(),
            published.len(),
            has_published.len(),
            set_ends.len(),
            keyed.len(),
            link_ends.len(),
        ]
        .iter()
        .all(|&len| len == n)
            && link_to.len() == link_jaccard.len();
        if !lengths_agree {
            return Err(r.inconsistent("array lengths disagree"));
        }
        let slices = |ends: &[u64], total: usize| -> Option<Vec<std::ops::Range<usize>>> {
            let mut start = 0usize;
            let mut out = Vec::with_capacity(ends.len());
            for &end in ends {
                let end = usize::try_from(end).ok()?;
                if end < start || end > total {
                    return None;
                }
                out.push(start..end);
                start = end;
            }
            (start == total).then_some(out)
        };
        let bad = || r.inconsistent("offsets out of order or out of range");
        let id_ranges = slices(&id_ends, id_bytes.len()).ok_or_else(bad)?;
        let set_ranges = slices(&set_ends, set_values.len()).ok_or_else(bad)?;
        let copies_hold_nothing = (0..n).all(|slot| {
            holders[slot] as usize == slot || (set_ranges[slot].is_empty() && keyed[slot] == 0)
        });
        if !copies_hold_nothing {
            return Err(r.inconsistent("a copy holds a set or band keys of its own"));
        }
        if term_ids.len() != term_weights.len() || term_ends.len() != n || stories.len() != n {
            return Err(r.inconsistent("story terms do not match the documents"));
        }
        let term_ranges = slices(&term_ends, term_ids.len()).ok_or_else(bad)?;
        if stories
            .iter()
            .enumerate()
            .any(|(slot, &story)| story as usize > slot)
        {
            return Err(r.inconsistent("a story names a later document"));
        }
        let link_ranges = slices(&link_ends, link_to.len()).ok_or_else(bad)?;
        let k = index.params.num_perm;
        // Where each document's signature and keys are: a copy's are its holder's.
        let mut signature_row = Vec::with_capacity(n);
        let mut key_row: Vec<Option<usize>> = Vec::with_capacity(n);
        let (mut signature_rows, mut key_rows) = (0, 0);
        for (slot, &holder) in holders.iter().enumerate() {
            if holder as usize == slot {
                signature_row.push(signature_rows);
                signature_rows += 1;
                key_row.push((keyed[slot] == 1).then(|| {
                    key_rows += 1;
                    key_rows - 1
                }));
            } else {
                signature_row.push(signature_row[holder as usize]);
                key_row.push(key_row[holder as usize]);
            }
        }
        if signatures.len() != signature_rows * k {
            return Err(r.inconsistent("signatures do not match the documents"));
        }
        if key_rows * bands != keys.len() {
            return Err(r.inconsistent("band keys do not match the documents"));
        }
        r.finish()?;
        {
            let mut state = index.write();
            for slot in 0..n {
                let id = std::str::from_utf8(&id_bytes[id_ranges[slot].clone()])
                    .map_err(|_| Error::Index {
                        path: path.to_path_buf(),
                        problem: "inconsistent index: an id is not UTF-8".into(),
                    })?
                    .to_string();
                let doc_keys =
                    key_row[slot].map(|row| Box::from(&keys[row * bands..(row + 1) * bands]));
                let links: Vec<(u32, f32)> = link_ranges[slot]
                    .clone()
                    .map(|i| (link_to[i], link_jaccard[i]))
                    .collect();
                if links.iter().any(|&(to, _)| to as usize >= n) || state.by_id.contains_key(&id) {
                    return Err(Error::Index {
                        path: path.to_path_buf(),
                        problem: "inconsistent index: a link or id is invalid".into(),
                    });
                }
                let when = (has_published[slot] == 1).then_some(published[slot]);
                let terms: Box<[(u64, f32)]> = term_ranges[slot]
                    .clone()
                    .map(|i| (term_ids[i], term_weights[i]))
                    .collect();
                state.tracker.count(&terms);
                state
                    .tracker
                    .assign(&terms, when, Some(stories[slot]), slot as u32);
                let holder = holders[slot] as usize;
                let set: Box<[u32]> = set_values[set_ranges[holder].clone()].into();
                let row = signature_row[slot];
                let record = DocRecord {
                    fingerprint: set_fingerprint(&set),
                    text_len: 0,
                    set,
                    signature: signatures[row * k..(row + 1) * k].into(),
                    keys: doc_keys,
                    published: when,
                };
                let group = state.group_for(&record, slot as u32);
                let stored = Prepared { id, record, terms };
                state.push(stored, group, links, false, stories[slot]);
            }
            state.buckets.set_base(band_arrays);
            state.rebuild_components();
        }
        Ok(index)
    }
}

impl State {
    /// The exact set of `slot` (its group's).
    fn set_of(&self, slot: u32) -> &[u32] {
        &self.groups[self.group_of[slot as usize] as usize].set
    }

    fn signature_of(&self, slot: u32) -> &[u32] {
        let k = self.num_perm;
        &self.signatures[slot as usize * k..(slot as usize + 1) * k]
    }

    /// Stored documents matching `record`, most similar first: group holders only, so
    /// an exact copy of stored documents meets the first of them.
    fn matches(&self, record: &DocRecord, engine: &Engine) -> Vec<Match> {
        let Some(keys) = &record.keys else {
            return Vec::new();
        };
        let mut candidates: Vec<u32> = Vec::new();
        for (band, &key) in keys.iter().enumerate() {
            self.buckets.lookup(band, key, &mut candidates);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut found: Vec<(u32, Match)> = candidates
            .into_iter()
            // Index files written before copies were left out of the buckets hold every
            // copy's keys: only holders are compared (a copy's holder is a candidate too).
            .filter(|&s| self.alive[s as usize] && self.is_holder(s))
            .filter_map(|s| {
                let stored = self.set_of(s);
                let shared = engine.shared_if_similar(
                    &record.set,
                    &record.signature,
                    stored,
                    self.signature_of(s),
                )?;
                let shared_f = shared as f64;
                let m = Match {
                    id: self.ids[s as usize].clone(),
                    jaccard: jaccard_from_counts(shared, record.set.len(), stored.len()),
                    containment_of_query: shared_f / record.set.len().max(1) as f64,
                    containment_of_stored: shared_f / stored.len().max(1) as f64,
                    cluster: self.cluster_name_readonly(s),
                };
                Some((s, m))
            })
            .collect();
        found.sort_by(|a, b| b.1.jaccard.total_cmp(&a.1.jaccard).then(a.0.cmp(&b.0)));
        found.into_iter().map(|(_, m)| m).collect()
    }

    fn is_holder(&self, slot: u32) -> bool {
        self.groups[self.group_of[slot as usize] as usize].holder == slot
    }

    /// Stores `p` after matching it against what is stored.
    fn insert(&mut self, p: Prepared, engine: &Engine) -> Result<Decision> {
        if self.by_id.contains_key(&p.id) {
            return Err(Error::DuplicateId(p.id));
        }
        let matches = self.matches(&p.record, engine);
        let new_slot = self.ids.len() as u32;
        let group = self.group_for(&p.record, new_slot);
        let copy = self.groups[group as usize].holder != new_slot;
        // A copy's only link is implicit (its holder); a new text links to every match.
        let links: Vec<(u32, f32)> = if copy {
            Vec::new()
        } else {
            matches
                .iter()
                .map(|m| (self.by_id[&m.id], m.jaccard as f32))
                .collect()
        };
        let copied_story = matches
            .first()
            .map(|m| self.story_of[self.by_id[&m.id] as usize]);
        let tracking = self.tracker.enabled();
        self.tracker.count(&p.terms);
        let (story, story_score) =
            self.tracker
                .assign(&p.terms, p.record.published, copied_story, new_slot);
        let id = p.id.clone();
        let slot = self.push(p, group, links.clone(), true, story);
        for &(other, j) in &links {
            self.links[other as usize].push((slot, j));
            self.join(slot, other);
        }
        if copy {
            self.join(slot, self.groups[group as usize].holder);
        }
        // Cluster names may have changed with this document's links.
        let mut matches = matches;
        for m in &mut matches {
            let other = self.by_id[&m.id];
            m.cluster = self.cluster_name(other);
        }
        let cluster = self.cluster_name(slot);
        Ok(Decision {
            id,
            matches,
            cluster,
            story: tracking.then(|| self.ids[story as usize].clone()),
            story_score: tracking.then_some(story_score),
        })
    }

    /// The group `record` (to be stored at `slot`) belongs to: the group of a stored
    /// document with an equal exact set, or a new group held by `slot`. A record without
    /// shingles is a group of its own (it matches nothing, not even its copies).
    fn group_for(&mut self, record: &DocRecord, slot: u32) -> u32 {
        let new_group = self.groups.len() as u32;
        let existing = if record.set.is_empty() {
            None
        } else {
            let groups = &self.groups;
            self.firsts
                .representative(new_group, record.fingerprint, &record.set, |g| {
                    &groups[g as usize].set
                })
        };
        match existing {
            Some(group) => {
                self.groups[group as usize].later.push_back(slot);
                group
            }
            None => {
                self.groups.push(CopyGroup {
                    holder: slot,
                    set: record.set.clone(),
                    keys: record.keys.clone(),
                    fingerprint: record.fingerprint,
                    later: Default::default(),
                });
                new_group
            }
        }
    }

    /// Appends a slot in `group` (links given from the new slot's side only). A new
    /// group's band keys go into the recent entries if `index_keys` (not when the loaded
    /// base arrays hold them).
    fn push(
        &mut self,
        p: Prepared,
        group: u32,
        links: Vec<(u32, f32)>,
        index_keys: bool,
        story: u32,
    ) -> u32 {
        debug_assert_eq!(p.record.signature.len(), self.num_perm);
        self.signatures.extend_from_slice(&p.record.signature);
        let slot = self.ids.len() as u32;
        let holder = &self.groups[group as usize];
        if let (Some(keys), true, true) = (&holder.keys, index_keys, holder.holder == slot) {
            self.buckets.insert(slot, keys);
        }
        if let Some(t) = p.record.published {
            self.newest_published = Some(self.newest_published.map_or(t, |n| n.max(t)));
        }
        self.by_id.insert(p.id.clone(), slot);
        self.ids.push(p.id);
        self.published.push(p.record.published);
        self.alive.push(true);
        self.group_of.push(group);
        self.terms.push(p.terms);
        self.story_of.push(story);
        self.links.push(links);
        self.components.push();
        self.first_of_root.push(slot);
        slot
    }

    fn join(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.components.find(a), self.components.find(b));
        if ra == rb {
            return;
        }
        let first = self.first_of_root[ra as usize].min(self.first_of_root[rb as usize]);
        self.components.union(a, b);
        let root = self.components.find(a);
        self.first_of_root[root as usize] = first;
    }

    fn cluster_name(&mut self, slot: u32) -> String {
        let root = self.components.find(slot);
        self.ids[self.first_of_root[root as usize] as usize].clone()
    }

    fn cluster_name_readonly(&self, slot: u32) -> String {
        let root = self.components.find_readonly(slot);
        self.ids[self.first_of_root[root as usize] as usize].clone()
    }

    /// Marks `slot` removed. A group holder hands its place (bucket entries, links) to
    /// the earliest alive member of its group. Links naming removed slots stay until
    /// [`State::prune_links`], so that removing many documents costs one pass.
    fn forget(&mut self, slot: u32) {
        let s = slot as usize;
        self.alive[s] = false;
        self.by_id.remove(&self.ids[s]);
        let terms = std::mem::take(&mut self.terms[s]);
        self.tracker.uncount(&terms);
        let g = self.group_of[s] as usize;
        if self.groups[g].holder != slot {
            return;
        }
        let heir = loop {
            match self.groups[g].later.pop_front() {
                Some(next) if self.alive[next as usize] => break Some(next),
                Some(_) => continue,
                None => break None,
            }
        };
        let links = std::mem::take(&mut self.links[s]);
        let group = &mut self.groups[g];
        match heir {
            Some(heir) => {
                group.holder = heir;
                // Band entries of removed slots stay until the index is saved and opened
                // again (lookups skip them); the heir's are added now.
                if let Some(keys) = group.keys.clone() {
                    self.buckets.insert(heir, &keys);
                }
                // Same set, same Jaccard: every link of the old holder is the heir's.
                for (other, j) in links {
                    if self.alive[other as usize] {
                        self.links[other as usize].push((heir, j));
                        self.links[heir as usize].push((other, j));
                    }
                }
            }
            None => {
                let fingerprint = group.fingerprint;
                group.set = Box::new([]);
                group.keys = None;
                self.firsts.forget(g as u32, fingerprint);
            }
        }
    }

    /// Drops links to removed slots.
    fn prune_links(&mut self) {
        let alive = &self.alive;
        for links in &mut self.links {
            links.retain(|&(other, _)| alive[other as usize]);
        }
    }

    /// Components from scratch: every alive slot joins its group's holder and its links.
    fn rebuild_components(&mut self) {
        let n = self.ids.len();
        self.components = UnionFind::new(n);
        self.first_of_root = (0..n as u32).collect();
        for slot in 0..n as u32 {
            if !self.alive[slot as usize] {
                continue;
            }
            let holder = self.groups[self.group_of[slot as usize] as usize].holder;
            if holder != slot {
                self.join(slot, holder);
            }
            for i in 0..self.links[slot as usize].len() {
                let other = self.links[slot as usize][i].0;
                self.join(slot, other);
            }
        }
    }
}

/// LSH buckets: per band, a sorted base array of (key << 32 | slot), searched by binary
/// search and stored in the index file as is (so opening needs no rebuilding), plus the
/// entries added since ([`RecentBand`]), merged into the base once they hold more than
/// an eighth as many documents. Lookups may return removed slots (their entries stay
/// until the index is saved and opened again); callers filter them.
#[derive(Debug, Default)]
struct BandIndex {
    base: Vec<Vec<u64>>,
    /// Per band, where each key prefix starts in `base`.
    directories: Vec<KeyDirectory>,
    recent: Vec<RecentBand>,
    recent_docs: usize,
    base_docs: usize,
}

/// One band's entries since the last merge, as chains through one vector: a document
/// costs one entry and one map update per band, where a map of vectors allocated a
/// vector for every new key (most keys, most bands: dozens of allocations per insert).
#[derive(Debug, Default)]
struct RecentBand {
    /// Key → index in `entries` of its newest entry.
    newest: HashMap<u32, u32, BuildHasherDefault<Prehashed>>,
    /// (slot, index of the previous entry with the same key or `NO_ENTRY`).
    entries: Vec<(u32, u32)>,
}

/// Ends a chain of [`RecentBand`] entries.
const NO_ENTRY: u32 = u32::MAX;

impl RecentBand {
    fn insert(&mut self, key: u32, slot: u32) {
        let at = self.entries.len() as u32;
        let previous = self.newest.insert(key, at).unwrap_or(NO_ENTRY);
        self.entries.push((slot, previous));
    }

    /// The slots with `key`, newest first.
    fn slots(&self, key: u32) -> impl Iterator<Item = u32> + '_ {
        let mut at = self.newest.get(&key).copied().unwrap_or(NO_ENTRY);
        std::iter::from_fn(move || {
            let &(slot, previous) = self.entries.get(at as usize)?;
            at = previous;
            Some(slot)
        })
    }

    /// Every entry as `key << 32 | slot`.
    fn packed(&self) -> impl Iterator<Item = u64> + '_ {
        self.newest.keys().flat_map(|&key| {
            self.slots(key)
                .map(move |slot| u64::from(key) << 32 | u64::from(slot))
        })
    }
}

/// Where the entries of each key prefix start in a band's sorted base array, so that a
/// lookup reads two offsets and a few neighbouring entries instead of binary-searching
/// the whole array (about 20 probes at a million documents, most of them cache misses:
/// half of an insert's matching time). Built when a base array is loaded or merged;
/// prefixes are sized for about eight entries each, which costs half a byte per entry.
#[derive(Debug, Clone)]
struct KeyDirectory {
    /// 32 − prefix bits: a key's prefix is `key >> shift`, taken in 64 bits so that a
    /// shift of 32 leaves one prefix for an array too short to split.
    shift: u32,
    /// starts[p]..starts[p + 1]: the entries whose key has prefix p.
    starts: Vec<u32>,
}

impl KeyDirectory {
    fn build(entries: &[u64]) -> KeyDirectory {
        const ENTRIES_PER_PREFIX: usize = 8;
        let bits = (entries.len() / ENTRIES_PER_PREFIX)
            .checked_ilog2()
            .unwrap_or(0)
            .min(24);
        let shift = 32 - bits;
        let mut starts = vec![0u32; (1 << bits) + 1];
        for &e in entries {
            starts[((e >> 32) >> shift) as usize + 1] += 1;
        }
        for p in 1..starts.len() {
            starts[p] += starts[p - 1];
        }
        KeyDirectory { shift, starts }
    }

    /// The range of the base array holding every entry of `key`.
    fn range(&self, key: u32) -> std::ops::Range<usize> {
        let prefix = (u64::from(key) >> self.shift) as usize;
        match (self.starts.get(prefix), self.starts.get(prefix + 1)) {
            (Some(&start), Some(&end)) => start as usize..end as usize,
            _ => 0..0,
        }
    }
}

/// Below this many recent documents the recent entries are never merged.
const MIN_MERGE: usize = 1 << 16;

impl BandIndex {
    fn new(bands: usize) -> Self {
        BandIndex {
            base: vec![Vec::new(); bands],
            directories: vec![KeyDirectory::build(&[]); bands],
            recent: (0..bands).map(|_| RecentBand::default()).collect(),
            recent_docs: 0,
            base_docs: 0,
        }
    }

    fn set_base(&mut self, base: Vec<Vec<u64>>) {
        self.base_docs = base.first().map_or(0, Vec::len);
        self.directories = base
            .par_iter()
            .map(|band| KeyDirectory::build(band))
            .collect();
        self.base = base;
    }

    fn lookup(&self, band: usize, key: u32, out: &mut Vec<u32>) {
        out.extend(self.recent[band].slots(key));
        let base = &self.base[band][self.directories[band].range(key)];
        let low = u64::from(key) << 32;
        let start = base.partition_point(|&e| e < low);
        out.extend(
            base[start..]
                .iter()
                .take_while(|&&e| e >> 32 == u64::from(key))
                .map(|&e| e as u32),
        );
    }

    fn insert(&mut self, slot: u32, keys: &[u32]) {
        for (recent, &key) in self.recent.iter_mut().zip(keys) {
            recent.insert(key, slot);
        }
        self.recent_docs += 1;
    }

    /// Merges the recent entries into the base once they have grown enough.
    fn maybe_merge(&mut self) {
        if self.recent_docs > MIN_MERGE.max(self.base_docs / 8) {
            self.merge();
        }
    }

    /// Folds the recent entries into the sorted base arrays.
    fn merge(&mut self) {
        let recent = std::mem::take(&mut self.recent);
        let merged: Vec<Vec<u64>> = std::mem::take(&mut self.base)
            .into_par_iter()
            .zip(recent.into_par_iter())
            .map(|(mut base, recent)| {
                base.extend(recent.packed());
                base.sort_unstable();
                base
            })
            .collect();
        self.recent = (0..merged.len()).map(|_| RecentBand::default()).collect();
        self.set_base(merged);
        self.recent_docs = 0;
    }

    /// Band `band`'s entries for live slots, renumbered by `new_slot` (u32::MAX: gone),
    /// sorted: the form stored in files.
    fn sorted_band(&self, band: usize, new_slot: &[u32]) -> Vec<u64> {
        let renumber = |key: u64, slot: u32| {
            let new = new_slot[slot as usize];
            (new != u32::MAX).then_some(key << 32 | u64::from(new))
        };
        let mut entries: Vec<u64> = self.base[band]
            .iter()
            .filter_map(|&e| renumber(e >> 32, e as u32))
            .chain(
                self.recent[band]
                    .packed()
                    .filter_map(|e| renumber(e >> 32, e as u32)),
            )
            .collect();
        entries.sort_unstable();
        entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_entries_chain_every_slot_of_a_key_newest_first() {
        let mut band = RecentBand::default();
        for (key, slot) in [(7, 0), (9, 1), (7, 2), (7, 3), (u32::MAX, 4)] {
            band.insert(key, slot);
        }
        assert_eq!(band.slots(7).collect::<Vec<_>>(), [3, 2, 0]);
        assert_eq!(band.slots(9).collect::<Vec<_>>(), [1]);
        assert_eq!(band.slots(u32::MAX).collect::<Vec<_>>(), [4]);
        assert_eq!(band.slots(8).count(), 0);
        let mut packed: Vec<u64> = band.packed().collect();
        packed.sort_unstable();
        let pack = |key: u64, slot: u64| key << 32 | slot;
        assert_eq!(
            packed,
            [
                pack(7, 0),
                pack(7, 2),
                pack(7, 3),
                pack(9, 1),
                pack(u64::from(u32::MAX), 4)
            ]
        );
    }

    proptest::proptest! {
        /// A key's directory range holds every base entry of that key, whatever the
        /// array's length (none, one prefix, many) and however keys cluster.
        #[test]
        fn a_key_directory_range_holds_all_of_its_keys_entries(
            keys in proptest::collection::vec(proptest::prop_oneof![
                proptest::num::u32::ANY,
                0u32..4,
                (u32::MAX - 3)..=u32::MAX,
            ], 0..1000),
            probe in proptest::num::u32::ANY,
        ) {
            let mut entries: Vec<u64> = keys
                .iter()
                .enumerate()
                .map(|(slot, &key)| u64::from(key) << 32 | slot as u64)
                .collect();
            entries.sort_unstable();
            let directory = KeyDirectory::build(&entries);
            for key in keys.iter().copied().chain([probe, 0, u32::MAX]) {
                let range = directory.range(key);
                let inside = entries[range].iter().filter(|&&e| (e >> 32) as u32 == key).count();
                let all = entries.partition_point(|&e| e >> 32 <= u64::from(key))
                    - entries.partition_point(|&e| e >> 32 < u64::from(key));
                proptest::prop_assert_eq!(inside, all, "key {}", key);
            }
        }
    }

    #[test]
    fn lookups_find_entries_before_and_after_a_merge() {
        let mut index = BandIndex::new(2);
        index.insert(0, &[5, 6]);
        index.insert(1, &[5, 8]);
        let found = |index: &BandIndex, band: usize, key: u32| {
            let mut out = Vec::new();
            index.lookup(band, key, &mut out);
            out.sort_unstable();
            out
        };
        assert_eq!(found(&index, 0, 5), [0, 1]);
        assert_eq!(found(&index, 1, 8), [1]);
        index.merge();
        index.insert(2, &[5, 6]);
        assert_eq!(found(&index, 0, 5), [0, 1, 2]);
        assert_eq!(found(&index, 1, 6), [0, 2]);
        assert_eq!(
            index.recent[0].slots(5).collect::<Vec<_>>(),
            [2],
            "only since the merge"
        );
    }
}
