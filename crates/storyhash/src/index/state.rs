//! The state behind the index's lock: the committed segments, the documents inserted
//! since, and the small per-document arrays that clusters need, all in one numbering.
//!
//! Documents are numbered densely in seq order: the committed segments' documents in
//! manifest order, then the uncommitted ones. The numbers live in memory only (links and
//! holders are stored as seqs) and are renumbered whenever the index is loaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::buckets::MemBands;
use super::segment::Segment;
use super::store::{self, Manifest, SegmentEntry, WriterLock};
use super::{Decision, Match, Prepared};
use crate::cluster::UnionFind;
use crate::error::{Error, Result};
use crate::lsh::MAX_BUCKET_PIVOTS;
use crate::pipeline::Params;
use crate::record::{sketch_of, DocRecord, Engine, ExactCopies};
use crate::shingle::{intersection_size_u32, jaccard_from_counts};
use crate::story::{Background, LineTally, StoryParams, StoryTracker, TermAnalyzer, TrackerView};

/// What a new document matches and which stories it must and must not join, decided
/// against the stored documents (see [`State::plan`]).
struct Plan {
    /// Matched documents (numbered), most similar first.
    numbered: Vec<(u32, Match)>,
    /// The holder of the copy group it falls in, if it is an exact copy.
    group: Option<u32>,
    /// Its links to earlier documents (none for a copy: its holder links it).
    links: Vec<(u32, f32)>,
    /// The story of the copy it joins, if any.
    copied_story: Option<u32>,
    /// Stories of copies published further from it than the story window (sorted).
    apart_stories: Vec<u32>,
}

/// Stored documents read per chunk when the story tracker is rebuilt: a chunk is read
/// and weighed while the one before is added to its stories.
const REPLAY_CHUNK: usize = 1024;

/// The fewest documents counted since the story tracker was last stored for a commit
/// to store it again (see [`State::tracker_to_write`]): replaying 10,000 documents takes
/// about a fifth of a second (`benches/story_index.sh`), below which reading a stored
/// tracker saves little.
#[cfg(not(test))]
const TRACKER_EVERY: u64 = 10_000;
/// In this crate's tests, a few documents: their indexes store trackers.
#[cfg(test)]
const TRACKER_EVERY: u64 = 4;

/// Where the index lives on disk.
#[derive(Debug)]
pub(super) struct Origin {
    pub dir: PathBuf,
    /// The manifest generation this state was loaded from.
    pub generation: u64,
    pub manifest: Manifest,
    /// Held when this index is the directory's writer.
    pub lock: Option<WriterLock>,
}

/// A committed segment and the number of its first document.
#[derive(Debug)]
pub(super) struct Seg {
    pub segment: Segment,
    pub base: u32,
    pub entry: SegmentEntry,
    /// A document of it was removed since the last commit.
    pub dirty: bool,
}

/// Documents inserted since the last commit.
#[derive(Debug, Default)]
pub(super) struct Mem {
    pub ids: Vec<String>,
    /// Id → document number, for live documents.
    pub by_id: HashMap<String, u32>,
    pub published: Vec<Option<i64>>,
    /// A holder's exact set; empty for a copy.
    pub sets: Vec<Box<[u32]>>,
    /// A holder's sketch (its signature's low bytes); empty for a copy.
    pub sketches: Vec<Box<[u8]>>,
    pub keys: Vec<Option<Box<[u32]>>>,
    pub fingerprints: Vec<u64>,
    /// Links to earlier documents: (document number, Jaccard).
    pub links: Vec<Vec<(u32, f32)>>,
    pub terms: Vec<Box<[(u64, f32)]>>,
    /// Headlines, cut as a segment keeps them (empty: none, or no stories tracked).
    pub headlines: Vec<Box<str>>,
    /// Copy groups held by uncommitted documents, by set.
    pub firsts: ExactCopies,
    pub bands: MemBands,
}

/// What a document brings to its story: the story it joined (a document number), its
/// story terms and its headline (both empty in an index without stories).
struct StoryEntry {
    story: u32,
    terms: Box<[(u64, f32)]>,
    headline: Box<str>,
}

/// Where a document is.
#[derive(Debug, Clone, Copy)]
pub(super) enum At {
    Seg(usize, u32),
    Mem(usize),
}

/// Everything behind the lock.
#[derive(Debug)]
pub(super) struct State {
    pub origin: Option<Origin>,
    pub segments: Vec<Seg>,
    /// Number of the first uncommitted document, and its seq.
    pub mem_base: u32,
    pub mem_first_seq: u64,
    pub mem: Mem,
    pub bands: usize,
    /// Sketch bytes per holder: the signature length.
    sketch_len: usize,
    tracking: bool,
    pub alive: Vec<bool>,
    /// Per document, the document number of its copy-group holder (its own for a holder).
    pub holder: Vec<u32>,
    /// Committed documents' links to earlier documents, as numbers (CSR).
    seg_link_ends: Vec<u32>,
    seg_link_to: Vec<u32>,
    /// Per document, the story it is in (the number of the document that names it).
    pub story_of: Vec<u32>,
    pub tracker: StoryTracker,
    /// The tracker holds every stored document's terms. A loaded index defers it to
    /// the first call that needs it ([`State::ensure_stories`]): readers that ask only
    /// about copies and clusters never pay for it.
    stories_counted: bool,
    /// The tracker holds what replaying the live documents gives: none was removed
    /// since it was built (a removal takes a document's counts out but leaves its weight
    /// in its story's sum). Only such a tracker is written ([`State::tracker_to_write`]).
    tracker_exact: bool,
    /// Documents the tracker counted since it was last read or written whole: what a
    /// later reader would replay on top of the stored one.
    pub(super) tracked_since_stored: u64,
    /// The next commit stores the tracker, whatever it counted since it was last stored.
    pub store_tracker_next: bool,
    /// The stored tracker the manifest names was found not to hold (a document it
    /// counted removed since) or not to read: the next commit names it no more.
    pub stored_tracker_void: bool,
    components: UnionFind,
    /// Earliest live document of each component, indexed by root (u32::MAX: none).
    first_of_root: Vec<u32>,
    /// Later members of each copy group with any, in order.
    copies: HashMap<u32, Vec<u32>>,
    /// Removed holders whose copies remain → their earliest remaining copy.
    pub heirs: HashMap<u32, u32>,
    live: usize,
    pub newest_published: Option<i64>,
    /// The committed documents' id hashes and holders' fingerprints in memory, built on
    /// the first insertion: a writer then finds ids and copy groups with one probe
    /// instead of a binary search in every segment. Readers never build it.
    committed_keys: Option<CommittedKeys>,
    /// The per-site line counts learned from, once read or begun ([`State::line_tally`]).
    line_tally: Option<LineTally>,
    /// Whether they changed since the last commit.
    pub tally_changed: bool,
    /// A story background given to this index and not yet written: the next commit
    /// or save writes it ([`State::set_story_background`]).
    background_to_write: Option<Background>,
}

/// Committed documents by id hash and committed holders by fingerprint.
#[derive(Debug, Default)]
struct CommittedKeys {
    ids: KeyMap,
    fingerprints: KeyMap,
}

impl CommittedKeys {
    /// These keys with those of the documents from `first_new` on, read from the
    /// `segments` a write put them in (as a full build reads every key).
    fn with_written(mut self, segments: &[Seg], first_new: u32) -> Result<CommittedKeys> {
        for s in segments {
            if s.base + s.segment.docs() as u32 <= first_new {
                continue;
            }
            let new = |local: u32| Some(s.base + local).filter(|&d| d >= first_new);
            s.segment.for_each_key(
                |h, local| new(local).map_or((), |d| self.ids.insert(h, d)),
                |fp, local| new(local).map_or((), |d| self.fingerprints.insert(fp, d)),
            )?;
        }
        Ok(self)
    }
}

/// 64-bit hashes to document numbers: one entry per key in a map (the keys are hashes
/// already, so the map does not hash them again), and the rare further documents of a
/// key (a collision, or an id removed and added again) beside it.
#[derive(Debug, Default)]
struct KeyMap {
    first: HashMap<u64, u32, std::hash::BuildHasherDefault<crate::minhash::Prehashed>>,
    more: HashMap<u64, Vec<u32>>,
}

impl KeyMap {
    fn insert(&mut self, key: u64, d: u32) {
        if let Some(&first) = self.first.get(&key) {
            let more = self.more.entry(key).or_default();
            more.push(d);
            more.push(first);
            more.sort_unstable();
            more.dedup();
        } else {
            self.first.insert(key, d);
        }
    }

    /// The documents with `key`, in number order.
    fn get(&self, key: u64) -> Vec<u32> {
        match (self.more.get(&key), self.first.get(&key)) {
            (Some(all), _) => all.clone(),
            (None, Some(&d)) => vec![d],
            (None, None) => Vec::new(),
        }
    }
}

/// Matches without their document numbers.
fn unnumbered(numbered: Vec<(u32, Match)>) -> Vec<Match> {
    numbered.into_iter().map(|(_, m)| m).collect()
}

fn damaged(path: &Path, what: &str) -> Error {
    Error::Index {
        path: path.to_path_buf(),
        problem: format!("inconsistent index: {what}"),
    }
}

impl State {
    /// An empty in-memory state.
    pub(super) fn empty(params: &Params, bands: usize, story: Option<StoryParams>) -> State {
        State {
            sketch_len: params.num_perm,
            tracking: story.is_some(),
            origin: None,
            segments: Vec::new(),
            mem_base: 0,
            mem_first_seq: 0,
            mem: Mem {
                bands: MemBands::new(bands),
                ..Mem::default()
            },
            bands,
            alive: Vec::new(),
            holder: Vec::new(),
            seg_link_ends: vec![0],
            seg_link_to: Vec::new(),
            story_of: Vec::new(),
            stories_counted: true,
            tracker_exact: true,
            tracked_since_stored: 0,
            store_tracker_next: false,
            stored_tracker_void: false,
            tracker: story.map(StoryTracker::new).unwrap_or_default(),
            components: UnionFind::new(0),
            first_of_root: Vec::new(),
            copies: HashMap::new(),
            heirs: HashMap::new(),
            live: 0,
            newest_published: None,
            committed_keys: None,
            line_tally: None,
            tally_changed: false,
            background_to_write: None,
        }
    }

    /// The per-site line counts learned from: read from the directory's file the first
    /// time, empty if it has none.
    pub(super) fn line_tally(&mut self) -> Result<&mut LineTally> {
        if self.line_tally.is_none() {
            let stored = self
                .origin
                .as_ref()
                .and_then(|o| Some((&o.dir, o.manifest.line_tally.as_deref()?)));
            let tally = match stored {
                Some((dir, name)) => super::store::read_tally(dir, name)?,
                None => LineTally::bounded(),
            };
            self.line_tally = Some(tally);
        }
        Ok(self.line_tally.get_or_insert_with(LineTally::bounded))
    }

    /// The line counts, if any were learned (read from the directory if not yet).
    pub(super) fn tally_if_any(&mut self) -> Result<Option<&LineTally>> {
        let stored = (self.origin.as_ref()).is_some_and(|o| o.manifest.line_tally.is_some());
        if self.line_tally.is_none() && !stored {
            return Ok(None);
        }
        Ok(Some(self.line_tally()?))
    }

    /// The line counts a commit writes: those changed since the last one.
    pub(super) fn tally_to_commit(&self) -> Option<&LineTally> {
        self.line_tally.as_ref().filter(|_| self.tally_changed)
    }

    /// Takes the line counts of `before`, the state this one reloads after a write that
    /// stored them.
    pub(super) fn keep_tally_of(&mut self, before: &mut State) {
        self.line_tally = before.line_tally.take();
        self.tally_changed = false;
    }

    /// Gives the story tracker `background`'s counts, to add to those of the documents
    /// it counts; refused once a document was ever added, or a background given, and on
    /// counts of another analysis. The next commit or save writes it.
    pub(super) fn set_story_background(&mut self, background: Background) -> Result<()> {
        let given = self.background_to_write.is_some()
            || (self.origin.as_ref()).is_some_and(|o| o.manifest.story_background.is_some());
        if given || self.mem_first_seq + self.uncommitted() as u64 > 0 {
            return Err(Error::InvalidParams(format!(
                "a story background is given to an index before its first document, and \
                 once: this one {}",
                if given {
                    "has one"
                } else {
                    "has had documents"
                }
            )));
        }
        self.tracker.seed(&background)?;
        self.stories_counted = true;
        self.background_to_write = Some(background);
        Ok(())
    }

    /// The story background: the one given and not yet written, or the one the
    /// directory holds (read from it), if any.
    pub(super) fn story_background(&self) -> Result<Option<Background>> {
        if let Some(background) = &self.background_to_write {
            return Ok(Some(background.clone()));
        }
        let stored = (self.origin.as_ref())
            .and_then(|o| Some((&o.dir, o.manifest.story_background.as_ref()?)));
        stored
            .map(|(dir, file)| super::store::read_background(dir, file))
            .transpose()
    }

    /// Documents counted in the story background, without reading it (0: none).
    pub(super) fn story_background_documents(&self) -> u64 {
        match &self.background_to_write {
            Some(background) => background.documents(),
            None => (self.origin.as_ref())
                .and_then(|o| o.manifest.story_background.as_ref())
                .map_or(0, |file| file.documents),
        }
    }

    /// The story background a commit writes: one given since the last.
    pub(super) fn background_to_commit(&self) -> Option<&Background> {
        self.background_to_write.as_ref()
    }

    /// Builds [`CommittedKeys`] if it is not built yet.
    fn ensure_committed_keys(&mut self) -> Result<()> {
        if self.committed_keys.is_some() {
            return Ok(());
        }
        let mut keys = CommittedKeys::default();
        let docs = self.mem_base as usize;
        keys.ids.first.reserve(docs);
        keys.fingerprints.first.reserve(docs);
        for s in &self.segments {
            s.segment.for_each_key(
                |h, local| keys.ids.insert(h, s.base + local),
                |fp, local| keys.fingerprints.insert(fp, s.base + local),
            )?;
        }
        self.committed_keys = Some(keys);
        Ok(())
    }

    /// The state of a committed index: its segments mapped, their deletion lists read,
    /// and holders, links and (with story tracking) terms read into memory.
    pub(super) fn load(
        dir: &Path,
        manifest: Manifest,
        segments: Vec<Segment>,
        bands: usize,
        lock: Option<WriterLock>,
    ) -> Result<State> {
        let mut state = State::empty(&manifest.params, bands, manifest.story.clone());
        let total: u64 = manifest.docs();
        let total = u32::try_from(total)
            .ok()
            .filter(|&t| t < u32::MAX)
            .ok_or_else(|| damaged(dir, "more documents than an index holds (2^32)"))?;
        let mut base = 0u32;
        for (segment, entry) in segments.into_iter().zip(&manifest.segments) {
            let docs = segment.docs() as u32;
            state.segments.push(Seg {
                segment,
                base,
                entry: entry.clone(),
                dirty: false,
            });
            base += docs;
        }
        state.mem_base = total;
        state.mem_first_seq = manifest.next_seq;
        state.newest_published = manifest.newest_published;
        state.alive = vec![true; total as usize];
        for s in &state.segments {
            if let Some(name) = &s.entry.deletes {
                let deleted =
                    super::store::read_deletes(dir, name, s.segment.docs(), s.entry.deleted)?;
                for local in deleted {
                    state.alive[(s.base + local) as usize] = false;
                }
            }
        }
        state.live = state.alive.iter().filter(|&&a| a).count();
        // Holders and links, as numbers. A seq that no longer resolves names a document a
        // merge dropped (removed, with no copy left): the link is gone with it.
        let mut holders = Vec::with_capacity(total as usize);
        let mut link_ends = Vec::with_capacity(total as usize + 1);
        link_ends.push(0u32);
        let mut link_to = Vec::new();
        // Every segment's seqs in memory while loading (8 bytes a document, freed after):
        // holders and links name documents by seq, and most resolve within a segment.
        let seqs: Vec<Vec<u64>> = state
            .segments
            .iter()
            .map(|s| Ok(s.segment.seqs_and_holders()?.map(|(seq, _)| seq).collect()))
            .collect::<Result<_>>()?;
        let resolve = |seq: u64| -> Option<u32> {
            let i = state.segments.partition_point(|s| s.entry.last_seq < seq);
            let s = state.segments.get(i)?;
            let local = seqs[i].binary_search(&seq).ok()?;
            Some(s.base + local as u32)
        };
        for s in &state.segments {
            for (local, (seq, holder_seq)) in s.segment.seqs_and_holders()?.enumerate() {
                let d = s.base + local as u32;
                let holder = if holder_seq == seq {
                    d
                } else {
                    match resolve(holder_seq) {
                        Some(h) if h < d => h,
                        Some(_) => {
                            return Err(damaged(s.segment.path(), "a copy names a later holder"))
                        }
                        None if state.alive[d as usize] => {
                            return Err(damaged(s.segment.path(), "a copy's holder is missing"))
                        }
                        None => d,
                    }
                };
                holders.push(holder);
            }
            // Per document the end of its links: documents before `local` are closed
            // when a later document's first link arrives.
            let mut closed = 0u32;
            s.segment.for_each_link(|local, to| {
                while closed < local {
                    link_ends.push(link_to.len() as u32);
                    closed += 1;
                }
                if let Some(t) = resolve(to) {
                    if t < s.base + local {
                        link_to.push(t);
                    }
                }
                Ok(())
            })?;
            while (closed as usize) < s.segment.docs() {
                link_ends.push(link_to.len() as u32);
                closed += 1;
            }
        }
        drop(seqs);
        state.holder = holders;
        state.seg_link_ends = link_ends;
        state.seg_link_to = link_to;
        for d in 0..total {
            let h = state.holder[d as usize];
            if h != d {
                state.copies.entry(h).or_default().push(d);
            }
        }
        state.components = UnionFind::new(total as usize);
        state.first_of_root = vec![u32::MAX; total as usize];
        if state.tracker.enabled() {
            state.name_stories()?;
            state.stories_counted = false;
        }
        state.rebuild_components();
        state.origin = Some(Origin {
            dir: dir.to_path_buf(),
            generation: manifest.generation,
            manifest,
            lock,
        });
        Ok(state)
    }

    /// The story of every stored document, from the stored story seqs: a story is named
    /// by its first document still stored.
    fn name_stories(&mut self) -> Result<()> {
        let mut first_of_story: HashMap<u64, u32> = HashMap::new();
        self.story_of = Vec::with_capacity(self.alive.len());
        for s in &self.segments {
            for local in 0..s.segment.docs() as u32 {
                let d = s.base + local;
                if !self.alive[d as usize] {
                    self.story_of.push(d);
                    continue;
                }
                let story_seq = s.segment.story(local)?;
                self.story_of
                    .push(*first_of_story.entry(story_seq).or_insert(d));
            }
        }
        Ok(())
    }

    /// Builds the story tracker, if it is not built yet: what inserting, removing and
    /// the story background need. The tracker a commit stored ([`State::stored_tracker`])
    /// is read, and the live documents stored after it are replayed on top, in
    /// insertion order; without one that holds, every live document's terms are.
    pub(super) fn ensure_stories(&mut self) -> Result<()> {
        if self.stories_counted {
            return Ok(());
        }
        let stored = self.stored_tracker().ok().flatten();
        let named = (self.origin.as_ref()).is_some_and(|o| o.manifest.story_tracker.is_some());
        self.stored_tracker_void = named && stored.is_none();
        let start = stored.as_ref().map_or(0, |&(_, start)| start);
        let background = match stored {
            Some((tracker, _)) => {
                self.tracker = tracker;
                None
            }
            None => Some(self.story_background()?),
        };
        let (segments, alive, story_of) = (&self.segments, &self.alive, &self.story_of);
        let mut alive_docs = segments
            .iter()
            .flat_map(|s| (0..s.segment.docs() as u32).map(move |local| (s, local)))
            .filter(|&(s, local)| s.base + local >= start && alive[(s.base + local) as usize]);
        let mut replayed = 0u64;
        let chunks = std::iter::from_fn(|| {
            let chunk: Vec<(&Seg, u32)> = alive_docs.by_ref().take(REPLAY_CHUNK).collect();
            replayed += chunk.len() as u64;
            (!chunk.is_empty()).then(|| {
                chunk
                    .into_iter()
                    .map(|(s, local)| {
                        Ok((
                            s.segment.terms(local)?,
                            s.segment.published(local)?,
                            story_of[(s.base + local) as usize],
                        ))
                    })
                    .collect::<Result<Vec<_>>>()
            })
        });
        match background {
            Some(background) => self.tracker.replay(background.as_ref(), chunks)?,
            None => self.tracker.resume(chunks)?,
        }
        self.stories_counted = true;
        self.tracker_exact = true;
        self.tracked_since_stored = replayed;
        Ok(())
    }

    /// The story tracker the manifest names, if it holds for the documents stored now,
    /// and the number of the first document stored after it; none if there is none or
    /// it does not hold. It holds when the live documents stored before it are the ones
    /// it counted (none removed since). A file that cannot be read, or whose stories are
    /// not named by live documents that name them still, is an error here; building
    /// the tracker passes it over ([`State::ensure_stories`]): the stored terms it was
    /// made from are all still there, and replaying them gives the same tracker.
    fn stored_tracker(&self) -> Result<Option<(StoryTracker, u32)>> {
        let (Some(origin), Some(params)) = (&self.origin, self.tracker.params()) else {
            return Ok(None);
        };
        let Some(file) = &origin.manifest.story_tracker else {
            return Ok(None);
        };
        let start = self.first_number_from_seq(file.next_seq)?;
        let live_before = self.alive[..start as usize].iter().filter(|&&a| a).count();
        if live_before as u64 != file.documents {
            return Ok(None);
        }
        let (mut columns, seqs) = store::read_tracker(&origin.dir, file, params.analysis)?;
        let inconsistent = |problem: String| Error::Index {
            path: origin.dir.join(&file.name),
            problem: format!("inconsistent story tracker: {problem}"),
        };
        columns.story_keys = Vec::with_capacity(seqs.len());
        for &seq in &seqs {
            let d = self.number_of_seq(seq)?;
            match d.filter(|&d| self.alive[d as usize] && self.story_of[d as usize] == d) {
                Some(d) => columns.story_keys.push(d),
                None => {
                    return Err(inconsistent(format!(
                        "a story keyed by seq {seq}, which names no story"
                    )))
                }
            }
        }
        let tracker = StoryTracker::from_columns(params.clone(), columns).map_err(inconsistent)?;
        Ok(Some((tracker, start)))
    }

    /// The number of the first document whose seq is `seq` or later (the count of
    /// documents when there is none).
    fn first_number_from_seq(&self, seq: u64) -> Result<u32> {
        if seq >= self.mem_first_seq {
            let uncommitted = self.mem.ids.len() as u64;
            return Ok(self.mem_base + (seq - self.mem_first_seq).min(uncommitted) as u32);
        }
        let i = self.segments.partition_point(|s| s.entry.last_seq < seq);
        match self.segments.get(i) {
            Some(s) => Ok(s.base + s.segment.locals_before(seq)?),
            None => Ok(self.mem_base),
        }
    }

    /// The story tracker as the columns to store, each story keyed by its naming
    /// document's seq, when it is due: built, exact, and having counted since it was
    /// last read or written at least [`TRACKER_EVERY`] documents and an eighth of the
    /// live ones. A reader then replays at most that many on top of it, and the writes
    /// cost a bounded multiple of the documents added (each writes what is live, at
    /// most eight times what was counted since the last).
    pub(super) fn tracker_to_write(&self) -> Result<Option<(TrackerView<'_>, Vec<u64>)>> {
        let due = self.tracker.enabled()
            && self.stories_counted
            && self.tracker_exact
            && (self.store_tracker_next
                || self.tracked_since_stored >= TRACKER_EVERY.max(self.live as u64 / 8));
        if !due {
            return Ok(None);
        }
        let Some(view) = self.tracker.view() else {
            return Ok(None);
        };
        let seqs = (view.story_keys().iter())
            .map(|&d| self.seq_of(d))
            .collect::<Result<Vec<u64>>>()?;
        Ok(Some((view, seqs)))
    }

    /// Builds the story tracker if it is not built, and rebuilds it from the stored
    /// terms if a removal left it holding the removed documents' weights: it then holds
    /// what replaying the live documents gives, its stories named as loading the index
    /// names them (by their first live document, where the writer's kept the name of a
    /// removed one), as a commit stores it. Only with every document committed (a
    /// replay reads the segments).
    pub(super) fn exact_stories(&mut self) -> Result<()> {
        if !self.tracker_exact && self.uncommitted() == 0 {
            self.name_stories()?;
            self.stories_counted = false;
        }
        self.ensure_stories()
    }

    /// Live documents the stored story tracker counts (0: none stored).
    pub(super) fn stored_tracker_documents(&self) -> u64 {
        (self.origin.as_ref())
            .and_then(|o| o.manifest.story_tracker.as_ref())
            .map_or(0, |file| file.documents)
    }

    /// Notes what the commit just made did with the stored tracker: stored this one
    /// (`stored`), or kept or dropped the one named before.
    pub(super) fn tracker_committed(&mut self, stored: bool) {
        if stored {
            self.tracked_since_stored = 0;
        }
        self.stored_tracker_void = false;
    }

    /// Takes over the story tracker of `before`, the state this one was loaded from
    /// after it was saved to a new directory, when that kept every document: documents
    /// are numbered in seq order, so the same documents have the same numbers, and the
    /// tracker (and the story names it keys its stories by) holds for them as it is. A
    /// save that dropped removed documents renumbers the rest; the tracker is then
    /// rebuilt when next needed.
    pub(super) fn keep_stories_of(&mut self, before: &mut State) {
        if self.tracker.enabled()
            && before.stories_counted
            && before.documents() == self.documents()
            && before.story_of.len() == self.story_of.len()
        {
            self.tracker = std::mem::take(&mut before.tracker);
            self.story_of = std::mem::take(&mut before.story_of);
            self.stories_counted = true;
            self.tracker_exact = before.tracker_exact;
            // The new directory stores no tracker yet: all it counts is since.
            self.tracked_since_stored = self.live as u64;
        }
    }

    /// Makes this state that of `dir` as its own commit or merge just wrote it
    /// (`manifest`, `segments`), its `lock` kept.
    ///
    /// When the write kept every document, each keeps its number (documents are
    /// numbered in seq order, and a commit appends the uncommitted ones as they are
    /// numbered), and what [`State::load`] would read back from every segment (holders,
    /// links, stories, components) is what this state holds: it stays, the uncommitted
    /// documents' links joining the committed ones as the commit wrote them, so a
    /// commit costs what it writes, not the size of the index. A write that dropped
    /// removed documents renumbers the rest, and the state is loaded afresh.
    pub(super) fn after_write(
        &mut self,
        dir: &Path,
        manifest: Manifest,
        segments: Vec<Segment>,
        lock: Option<WriterLock>,
    ) -> Result<()> {
        let kept_all = manifest.docs() == u64::from(self.documents())
            && manifest.next_seq == self.mem_first_seq + self.uncommitted() as u64
            && segments.len() == manifest.segments.len();
        if !kept_all {
            let mut loaded = State::load(dir, manifest, segments, self.bands, lock)?;
            loaded.keep_tally_of(self);
            *self = loaded;
            return Ok(());
        }
        let mut base = 0u32;
        let segments: Vec<Seg> = (segments.into_iter().zip(&manifest.segments))
            .map(|(segment, entry)| {
                let seg = Seg {
                    base,
                    entry: entry.clone(),
                    dirty: false,
                    segment,
                };
                base += seg.segment.docs() as u32;
                seg
            })
            .collect();
        // What can fail comes first: on an error this state is left as it was but for
        // its key map, built again when next needed.
        self.committed_keys = (self.committed_keys.take())
            .map(|keys| keys.with_written(&segments, self.mem_base))
            .transpose()?;
        let mut link_to = std::mem::take(&mut self.seg_link_to);
        for links in &self.mem.links {
            // As the commit wrote them: links to documents it keeps.
            link_to.extend(
                (links.iter())
                    .filter(|&&(to, _)| self.kept(to))
                    .map(|&(to, _)| to),
            );
            self.seg_link_ends.push(link_to.len() as u32);
        }
        self.seg_link_to = link_to;
        self.segments = segments;
        self.mem = Mem {
            bands: MemBands::new(self.bands),
            ..Mem::default()
        };
        self.mem_base = self.documents();
        self.mem_first_seq = manifest.next_seq;
        self.newest_published = manifest.newest_published;
        self.tally_changed = false;
        self.background_to_write = None;
        self.origin = Some(Origin {
            dir: dir.to_path_buf(),
            generation: manifest.generation,
            manifest,
            lock,
        });
        Ok(())
    }

    /// A builder for a segment of this index, spilling its large sections to `dir`
    /// (the directory the segment goes to, or the one the index directory is made in).
    pub(super) fn segment_builder(&self, dir: &Path) -> super::segment::SegmentBuilder {
        super::segment::SegmentBuilder::new(self.bands, self.sketch_len, self.tracking, Some(dir))
    }

    pub(super) fn set_lock(&mut self, lock: WriterLock) {
        if let Some(origin) = &mut self.origin {
            origin.lock = Some(lock);
        }
    }

    pub(super) fn origin_dir(&self) -> Option<&Path> {
        self.origin.as_ref().map(|o| o.dir.as_path())
    }

    /// Whether `path` names the directory this state was loaded from.
    pub(super) fn is_origin(&self, path: &Path) -> bool {
        let Some(dir) = self.origin_dir() else {
            return false;
        };
        match (std::fs::canonicalize(dir), std::fs::canonicalize(path)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }

    pub(super) fn live(&self) -> usize {
        self.live
    }

    /// The stories of the live documents, counted (None without story tracking).
    pub(super) fn story_counts(&self) -> Option<super::StoryCounts> {
        if !self.tracker.enabled() {
            return None;
        }
        let groups = self.live_groups(|d| self.story_key(d));
        let sizes = || groups.values().map(Vec::len);
        Some(super::StoryCounts {
            stories: groups.len(),
            multi_document_stories: sizes().filter(|&n| n > 1).count(),
            largest: sizes().max().unwrap_or(0),
        })
    }

    pub(super) fn segment_count(&self) -> usize {
        self.segments.len()
    }

    pub(super) fn uncommitted(&self) -> usize {
        self.mem.ids.len()
    }

    pub(super) fn newest_published(&self) -> Option<i64> {
        self.newest_published
    }

    pub(super) fn documents(&self) -> u32 {
        self.alive.len() as u32
    }

    /// Where document `d` is.
    pub(super) fn at(&self, d: u32) -> At {
        if d >= self.mem_base {
            return At::Mem((d - self.mem_base) as usize);
        }
        let i = self.segments.partition_point(|s| s.base <= d) - 1;
        At::Seg(i, d - self.segments[i].base)
    }

    /// The document with `seq`, if it is stored (live or not).
    pub(super) fn number_of_seq(&self, seq: u64) -> Result<Option<u32>> {
        if seq >= self.mem_first_seq {
            let i = seq - self.mem_first_seq;
            return Ok((i < self.mem.ids.len() as u64).then(|| self.mem_base + i as u32));
        }
        let i = self.segments.partition_point(|s| s.entry.last_seq < seq);
        match self.segments.get(i) {
            Some(s) if seq >= s.entry.first_seq => {
                Ok(s.segment.local_of_seq(seq)?.map(|l| s.base + l))
            }
            _ => Ok(None),
        }
    }

    pub(super) fn seq_of(&self, d: u32) -> Result<u64> {
        match self.at(d) {
            At::Mem(i) => Ok(self.mem_first_seq + i as u64),
            At::Seg(s, local) => self.segments[s].segment.seq(local),
        }
    }

    /// The seq a segment stores for the story named by document `s`: the one its own
    /// segment stores for it when committed (a loaded index names a story by its first
    /// document still live, which may store an earlier, removed document's seq), its
    /// own seq when uncommitted (a new story is named by its first document).
    pub(super) fn story_seq_of(&self, s: u32) -> Result<u64> {
        match self.at(s) {
            At::Mem(i) => Ok(self.mem_first_seq + i as u64),
            At::Seg(seg, local) => self.segments[seg].segment.story(local),
        }
    }

    pub(super) fn id_of(&self, d: u32) -> Result<String> {
        match self.at(d) {
            At::Mem(i) => Ok(self.mem.ids[i].clone()),
            At::Seg(s, local) => self.segments[s].segment.id(local).map(str::to_owned),
        }
    }

    /// The document's headline, if it had one and the index keeps them.
    pub(super) fn headline_of(&self, d: u32) -> Result<Option<&str>> {
        match self.at(d) {
            At::Mem(i) => Ok(Some(&*self.mem.headlines[i]).filter(|h| !h.is_empty())),
            At::Seg(s, local) => self.segments[s].segment.headline(local),
        }
    }

    pub(super) fn published_of(&self, d: u32) -> Result<Option<i64>> {
        match self.at(d) {
            At::Mem(i) => Ok(self.mem.published[i]),
            At::Seg(s, local) => self.segments[s].segment.published(local),
        }
    }

    pub(super) fn terms_of(&self, d: u32) -> Result<Box<[(u64, f32)]>> {
        if !self.tracker.enabled() {
            return Ok(Box::new([]));
        }
        match self.at(d) {
            At::Mem(i) => Ok(self.mem.terms[i].clone()),
            At::Seg(s, local) => self.segments[s].segment.terms(local),
        }
    }

    /// The exact set of holder `d`: borrowed when uncommitted, else decoded into
    /// `scratch`.
    pub(super) fn set_of<'a>(&'a self, d: u32, scratch: &'a mut Vec<u32>) -> Result<&'a [u32]> {
        match self.at(d) {
            At::Mem(i) => Ok(&self.mem.sets[i]),
            At::Seg(s, local) => {
                self.segments[s].segment.set(local, scratch)?;
                Ok(scratch)
            }
        }
    }

    /// The live document with `id`.
    pub(super) fn find(&self, id: &str) -> Result<Option<u32>> {
        if let Some(&d) = self.mem.by_id.get(id) {
            return Ok(Some(d));
        }
        if let Some(keys) = &self.committed_keys {
            let hash = xxhash_rust::xxh3::xxh3_64(id.as_bytes());
            for d in keys.ids.get(hash) {
                if self.alive[d as usize] && self.id_of(d)? == id {
                    return Ok(Some(d));
                }
            }
            return Ok(None);
        }
        for s in self.segments.iter().rev() {
            if let Some(local) = s.segment.local_of_id(id)? {
                let d = s.base + local;
                if self.alive[d as usize] {
                    return Ok(Some(d));
                }
            }
        }
        Ok(None)
    }

    pub(super) fn contains(&self, id: &str) -> Result<bool> {
        Ok(self.find(id)?.is_some())
    }

    /// Whether `d` still stands for a copy group: live, or removed with copies left.
    fn holds_group(&self, d: u32) -> bool {
        self.alive[d as usize] || self.heirs.contains_key(&d)
    }

    /// The document that answers for holder `d` in matches: itself, or its heir.
    fn answering(&self, d: u32) -> Option<u32> {
        if self.alive[d as usize] {
            Some(d)
        } else {
            self.heirs.get(&d).copied()
        }
    }

    /// Stored documents matching `record`, most similar first. Only holders are in the
    /// buckets, so an exact copy of stored documents meets the first of them.
    pub(super) fn matches(&self, record: &DocRecord, engine: &Engine) -> Result<Vec<Match>> {
        Ok(unnumbered(self.numbered_matches(record, engine)?))
    }

    /// [`State::matches`] with the number of each matched document.
    fn numbered_matches(&self, record: &DocRecord, engine: &Engine) -> Result<Vec<(u32, Match)>> {
        let Some(keys) = &record.keys else {
            return Ok(Vec::new());
        };
        let mut found: Vec<(u32, u32)> = Vec::new();
        let mut locals: Vec<(u32, u32)> = Vec::new();
        for s in &self.segments {
            locals.clear();
            s.segment
                .lookup_bands(keys, MAX_BUCKET_PIVOTS, &mut locals)?;
            found.extend(locals.iter().map(|&(band, l)| (band, s.base + l)));
        }
        self.numbered_among(record, engine, found)
    }

    /// The committed band entries each of `records`' band keys meets, as (band,
    /// document) per record: the segment half of [`State::numbered_matches`], looked
    /// up band by band in key order (see [`Segment::lookup_band_sorted`]) for a batch.
    /// Valid while no segment is added or replaced.
    pub(super) fn segment_hits(&self, records: &[&DocRecord]) -> Result<Vec<Vec<(u32, u32)>>> {
        // An index kept in memory has nothing committed: no keys to sort.
        if self.segments.is_empty() {
            return Ok(vec![Vec::new(); records.len()]);
        }
        let per_band: Vec<Vec<(u32, u32)>> = (0..self.bands)
            .into_par_iter()
            .map(|band| {
                let mut queries: Vec<(u32, u32)> = records
                    .iter()
                    .enumerate()
                    .filter_map(|(q, r)| Some((*r.keys.as_ref()?.get(band)?, q as u32)))
                    .collect();
                queries.sort_unstable();
                let (mut found, mut locals) = (Vec::new(), Vec::new());
                for s in &self.segments {
                    locals.clear();
                    s.segment
                        .lookup_band_sorted(band, &queries, MAX_BUCKET_PIVOTS, &mut locals)?;
                    found.extend(locals.iter().map(|&(q, l)| (q, s.base + l)));
                }
                Ok(found)
            })
            .collect::<Result<_>>()?;
        let mut hits = vec![Vec::new(); records.len()];
        for (band, found) in per_band.into_iter().enumerate() {
            for (q, d) in found {
                hits[q as usize].push((band as u32, d));
            }
        }
        Ok(hits)
    }

    /// [`State::matches`] given the record's committed entries from
    /// [`State::segment_hits`].
    pub(super) fn matches_among(
        &self,
        record: &DocRecord,
        engine: &Engine,
        found: Vec<(u32, u32)>,
    ) -> Result<Vec<Match>> {
        Ok(unnumbered(self.numbered_among(record, engine, found)?))
    }

    /// The matches of `record` among `found`, its keys' (band, document) entries in the
    /// committed segments, and the uncommitted documents' buckets.
    fn numbered_among(
        &self,
        record: &DocRecord,
        engine: &Engine,
        mut found: Vec<(u32, u32)>,
    ) -> Result<Vec<(u32, Match)>> {
        let Some(keys) = &record.keys else {
            return Ok(Vec::new());
        };
        let mut candidates: Vec<u32> = Vec::new();
        let mut in_band: Vec<u32> = Vec::new();
        // Per band the newest members of the bucket, whichever segments hold them.
        for (band, &key) in keys.iter().enumerate() {
            in_band.clear();
            self.mem
                .bands
                .lookup(band, key, &mut in_band, MAX_BUCKET_PIVOTS);
            found.extend(in_band.iter().map(|&d| (band as u32, d)));
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut taken = 0;
        for (i, &(band, d)) in found.iter().enumerate() {
            taken = if i > 0 && found[i - 1].0 == band {
                taken + 1
            } else {
                1
            };
            if taken <= MAX_BUCKET_PIVOTS {
                candidates.push(d);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let threshold = engine.params().threshold;
        let query_sketch = sketch_of(&record.signature);
        let mut scratch = Vec::new();
        let mut found: Vec<(u32, Match)> = Vec::new();
        for c in candidates {
            if self.holder.get(c as usize) != Some(&c) {
                continue;
            }
            let Some(answer) = self.answering(c) else {
                continue;
            };
            // The b-bit prefilter first, as in `dedup`: chance collisions of documents
            // that share only boilerplate are dismissed without decoding a set.
            let (sketch, len) = match self.at(c) {
                At::Mem(i) => (&*self.mem.sketches[i], self.mem.sets[i].len()),
                At::Seg(s, local) => self.segments[s].segment.sketch(local)?,
            };
            if !engine.sketches_may_match(record.set.len(), &query_sketch, len, sketch) {
                continue;
            }
            let stored = self.set_of(c, &mut scratch)?;
            let shared = intersection_size_u32(&record.set, stored);
            let jaccard = jaccard_from_counts(shared, record.set.len(), stored.len());
            if jaccard < threshold {
                continue;
            }
            let shared_f = shared as f64;
            let m = Match {
                id: self.id_of(answer)?,
                jaccard,
                containment_of_query: shared_f / record.set.len().max(1) as f64,
                containment_of_stored: shared_f / stored.len().max(1) as f64,
                cluster: self.cluster_name(answer)?,
                headline: self.headline_of(answer)?.map(str::to_owned),
            };
            found.push((answer, m));
        }
        found.sort_by(|a, b| b.1.jaccard.total_cmp(&a.1.jaccard).then(a.0.cmp(&b.0)));
        Ok(found)
    }

    /// The copy group `record` belongs to: a committed or uncommitted holder with an
    /// equal set that still stands for its group. None registers document `d`, if
    /// given, as a new holder. A record without shingles is a group of its own.
    fn group_for(&mut self, record: &DocRecord, d: Option<u32>) -> Result<Option<u32>> {
        if record.set.is_empty() {
            return Ok(None);
        }
        let mut holders = Vec::new();
        match &self.committed_keys {
            Some(keys) => holders.extend(keys.fingerprints.get(record.fingerprint)),
            None => {
                let mut locals = Vec::new();
                for s in &self.segments {
                    locals.clear();
                    s.segment
                        .holders_with_fingerprint(record.fingerprint, &mut locals)?;
                    holders.extend(locals.iter().map(|&l| s.base + l));
                }
            }
        }
        let mut scratch = Vec::new();
        for h in holders {
            if self.holder[h as usize] == h && self.holds_group(h) {
                if let At::Seg(s, local) = self.at(h) {
                    self.segments[s].segment.set(local, &mut scratch)?;
                    if *scratch == *record.set {
                        return Ok(Some(h));
                    }
                }
            }
        }
        let (mem_base, sets, alive, heirs) =
            (self.mem_base, &self.mem.sets, &self.alive, &self.heirs);
        // A group whose holder and copies are all gone compares as empty: never equal.
        let set_of = |h: u32| -> &[u32] {
            if alive[h as usize] || heirs.contains_key(&h) {
                &sets[(h - mem_base) as usize]
            } else {
                &[]
            }
        };
        let firsts = &mut self.mem.firsts;
        Ok(match d {
            Some(d) => firsts.representative(d, record.fingerprint, &record.set, set_of),
            None => firsts.find(record.fingerprint, &record.set, set_of),
        })
    }

    /// Stores `p` after matching it against what is stored; `hits` are its entries in
    /// the committed segments when [`State::segment_hits`] looked them up already.
    pub(super) fn insert(
        &mut self,
        p: Prepared,
        hits: Option<Vec<(u32, u32)>>,
        engine: &Engine,
    ) -> Result<Decision> {
        self.ensure_stories()?;
        self.ensure_committed_keys()?;
        if self.contains(&p.id)? {
            return Err(Error::DuplicateId(p.id));
        }
        if self.alive.len() >= u32::MAX as usize - 1 {
            return Err(Error::InvalidParams(
                "the index holds 2^32 documents, its most".into(),
            ));
        }
        let d = self.documents();
        let Plan {
            numbered,
            group,
            links,
            copied_story,
            apart_stories,
        } = self.plan(&p, hits, engine, Some(d))?;
        let holder = group.unwrap_or(d);
        let tracking = self.tracker.enabled();
        self.tracker.count(&p.terms);
        self.tracked_since_stored += 1;
        let (story, story_score) = self.tracker.assign(
            &p.terms,
            p.record.published,
            copied_story,
            &apart_stories,
            d,
        );
        let id = p.id;
        let (terms, headline) = if tracking {
            (p.terms, p.headline)
        } else {
            (Box::new([]) as Box<[_]>, Box::from(""))
        };
        let entry = StoryEntry {
            story,
            terms,
            headline,
        };
        self.push_uncommitted(id.clone(), p.record, group, links.clone(), entry);
        if holder != d {
            self.join(d, holder);
        }
        for &(other, _) in &links {
            self.join(d, other);
        }
        // Cluster names may have changed with this document's links.
        let mut matches = Vec::with_capacity(numbered.len());
        for (other, mut m) in numbered {
            m.cluster = self.cluster_name(other)?;
            matches.push(m);
        }
        Ok(Decision {
            id,
            matches,
            cluster: self.cluster_name(d)?,
            story: if tracking {
                Some(self.id_of(story)?)
            } else {
                None
            },
            story_score: tracking.then_some(story_score),
            story_headline: self.headline_of(story)?.map(str::to_owned),
        })
    }

    /// What [`State::insert`] would answer for `p`, storing nothing (the story tracker's
    /// counts are restored as they were). Its id need not be new.
    pub(super) fn preview(
        &mut self,
        p: &Prepared,
        hits: Option<Vec<(u32, u32)>>,
        engine: &Engine,
    ) -> Result<Decision> {
        self.ensure_stories()?;
        self.ensure_committed_keys()?;
        let d = self.documents();
        let plan = self.plan(p, hits, engine, None)?;
        let tracking = self.tracker.enabled();
        let (story, story_score) = self.tracker.preview(
            &p.terms,
            p.record.published,
            plan.copied_story,
            &plan.apart_stories,
            d,
        );
        // The components `insert` would join to the new document, and the earliest
        // live document among them, which would name the joined cluster.
        let joined: Vec<u32> = (plan.group.into_iter())
            .chain(plan.links.iter().map(|&(o, _)| o))
            .map(|o| self.components.find_readonly(o))
            .collect();
        let first = (joined.iter())
            .map(|&root| self.first_of_root[root as usize])
            .fold(d, u32::min);
        let name = |first: u32| {
            if first == d {
                Ok(p.id.clone())
            } else {
                self.id_of(first)
            }
        };
        let cluster = name(first)?;
        let matches = (plan.numbered.into_iter())
            .map(|(other, mut m)| {
                if joined.contains(&self.components.find_readonly(other)) {
                    m.cluster = cluster.clone();
                }
                m
            })
            .collect();
        let story_headline = if story == d {
            Some(&*p.headline).filter(|h| !h.is_empty())
        } else {
            self.headline_of(story)?
        };
        Ok(Decision {
            id: p.id.clone(),
            matches,
            cluster,
            story: if tracking { Some(name(story)?) } else { None },
            story_score: tracking.then_some(story_score),
            story_headline: story_headline.map(str::to_owned),
        })
    }

    /// What a new document `p` matches among the stored ones, the copy group it falls
    /// in (registering it as a new holder as document `d`, when given) and the stories
    /// it must and must not join: what [`State::insert`] stores and
    /// [`State::preview`] answers.
    fn plan(
        &mut self,
        p: &Prepared,
        hits: Option<Vec<(u32, u32)>>,
        engine: &Engine,
        d: Option<u32>,
    ) -> Result<Plan> {
        let numbered = match hits {
            Some(found) => self.numbered_among(&p.record, engine, found)?,
            None => self.numbered_matches(&p.record, engine)?,
        };
        let group = self.group_for(&p.record, d)?;
        // A copy's only link is implicit (its holder); a new text links to every match.
        let links: Vec<(u32, f32)> = if group.is_none() {
            numbered
                .iter()
                .map(|(o, m)| (*o, m.jaccard as f32))
                .collect()
        } else {
            Vec::new()
        };
        // A copy joins its original's (closest copy's) story, unless published further
        // from it than the story window: a template report with new figures a week on
        // is another event (as `stories` splits such groups of copies). Nor may it join
        // the story of any copy that far from it, as `stories` keeps the parts of a
        // split group out of each other's stories. Times are read only when stories are
        // tracked and the new document has a time: each is a scattered read of the
        // mapped index.
        let dated = self.tracker.window().zip(p.record.published);
        // Undated, only the closest copy matters: it gives the story.
        let looked_at = if dated.is_some() { numbered.len() } else { 1 };
        let mut apart_stories: Vec<u32> = Vec::new();
        let mut copied_story = None;
        for (i, &(o, _)) in numbered.iter().take(looked_at).enumerate() {
            let apart = match dated {
                Some((window, a)) => self
                    .published_of(o)?
                    .is_some_and(|b| a.abs_diff(b) > window.unsigned_abs()),
                None => false,
            };
            match (apart, self.story_of.get(o as usize).copied()) {
                (true, Some(s)) => apart_stories.push(s),
                (false, Some(s)) if i == 0 => copied_story = Some(s),
                _ => {}
            }
        }
        apart_stories.sort_unstable();
        apart_stories.dedup();
        copied_story = copied_story.filter(|s| apart_stories.binary_search(s).is_err());
        Ok(Plan {
            numbered,
            group,
            links,
            copied_story,
            apart_stories,
        })
    }

    /// Appends a document read from a single-file index, as it was stored there: its
    /// links (to earlier documents) and story (an earlier document) are given, not
    /// matched. Components are rebuilt by the caller.
    pub(super) fn push_loaded(
        &mut self,
        id: String,
        record: DocRecord,
        links: Vec<(u32, f32)>,
        terms: Box<[(u64, f32)]>,
        story: u32,
    ) -> Result<()> {
        let d = self.documents();
        let group = self.group_for(&record, Some(d))?;
        self.tracker.count(&terms);
        self.tracked_since_stored += 1;
        self.tracker
            .assign(&terms, record.published, Some(story), &[], d);
        let links = if group.is_none() { links } else { Vec::new() };
        // Single-file indexes kept no headlines.
        let story = StoryEntry {
            story,
            terms,
            headline: Box::from(""),
        };
        self.push_uncommitted(id, record, group, links, story);
        Ok(())
    }

    /// Appends an uncommitted document: in copy group `group` (None: a holder of its
    /// own), with its links to earlier documents and its story entry. Its components
    /// join nothing yet.
    fn push_uncommitted(
        &mut self,
        id: String,
        record: DocRecord,
        group: Option<u32>,
        links: Vec<(u32, f32)>,
        story: StoryEntry,
    ) {
        let StoryEntry {
            story,
            terms,
            headline,
        } = story;
        let d = self.documents();
        if let Some(t) = record.published {
            self.newest_published = Some(self.newest_published.map_or(t, |n| n.max(t)));
        }
        match group {
            None => {
                if let Some(keys) = &record.keys {
                    self.mem.bands.insert(d, keys);
                }
                self.mem.sketches.push(if record.set.is_empty() {
                    Box::new([])
                } else {
                    sketch_of(&record.signature)
                });
                self.mem.sets.push(record.set);
                self.mem.keys.push(record.keys);
            }
            Some(holder) => {
                self.mem.sets.push(Box::new([]));
                self.mem.sketches.push(Box::new([]));
                self.mem.keys.push(None);
                self.copies.entry(holder).or_default().push(d);
            }
        }
        self.mem.by_id.insert(id.clone(), d);
        self.mem.ids.push(id);
        self.mem.published.push(record.published);
        self.mem.fingerprints.push(record.fingerprint);
        self.mem.links.push(links);
        self.mem.terms.push(terms);
        self.mem.headlines.push(headline);
        self.alive.push(true);
        self.holder.push(group.unwrap_or(d));
        if self.tracker.enabled() {
            self.story_of.push(story);
        }
        self.components.push();
        self.first_of_root.push(d);
        self.live += 1;
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

    /// The cluster of `d`: its component's earliest live document.
    pub(super) fn cluster_name(&self, d: u32) -> Result<String> {
        let root = self.components.find_readonly(d);
        match self.first_of_root[root as usize] {
            u32::MAX => self.id_of(d),
            first => self.id_of(first),
        }
    }

    pub(super) fn story_name(&self, d: u32) -> Result<Option<String>> {
        if !self.tracker.enabled() {
            return Ok(None);
        }
        self.id_of(self.story_key(d)).map(Some)
    }

    /// Marks `d` removed (components are rebuilt by the caller, once per batch).
    pub(super) fn forget(&mut self, d: u32) -> Result<()> {
        if !self.alive[d as usize] {
            return Ok(());
        }
        self.ensure_stories()?;
        let terms = self.terms_of(d)?;
        self.tracker.uncount(&terms);
        self.tracker_exact = false;
        let stored = (self.origin.as_ref()).and_then(|o| o.manifest.story_tracker.as_ref());
        if let Some(file) = stored {
            // It counted this document: it no longer holds.
            self.stored_tracker_void |= self.seq_of(d)? < file.next_seq;
        }
        self.alive[d as usize] = false;
        self.live -= 1;
        match self.at(d) {
            At::Mem(i) => {
                self.mem.by_id.remove(&self.mem.ids[i]);
                self.mem.terms[i] = Box::new([]);
                self.mem.headlines[i] = Box::from("");
            }
            At::Seg(s, _) => self.segments[s].dirty = true,
        }
        Ok(())
    }

    /// Removes every live document published before `cutoff`.
    pub(super) fn evict_before(&mut self, cutoff: i64) -> Result<usize> {
        let mut old = Vec::new();
        for d in 0..self.documents() {
            if self.alive[d as usize] && self.published_of(d)?.is_some_and(|t| t < cutoff) {
                old.push(d);
            }
        }
        for &d in &old {
            self.forget(d)?;
        }
        if !old.is_empty() {
            self.rebuild_components();
        }
        Ok(old.len())
    }

    /// The links of document `d` to earlier documents.
    fn links_of(&self, d: u32) -> impl Iterator<Item = u32> + '_ {
        let (committed, uncommitted): (&[u32], &[(u32, f32)]) = match self.at(d) {
            At::Mem(i) => (&[], &self.mem.links[i]),
            At::Seg(..) => {
                let (a, b) = (
                    self.seg_link_ends[d as usize] as usize,
                    self.seg_link_ends[d as usize + 1] as usize,
                );
                (&self.seg_link_to[a..b], &[])
            }
        };
        committed
            .iter()
            .copied()
            .chain(uncommitted.iter().map(|&(to, _)| to))
    }

    /// Heirs and components from scratch: every live document joins its group's holder
    /// and its links; a removed holder with copies left still joins them (its copies
    /// keep its links), other removed documents join nothing.
    pub(super) fn rebuild_components(&mut self) {
        self.heirs.clear();
        for (&h, members) in &self.copies {
            if !self.alive[h as usize] {
                if let Some(&heir) = members.iter().find(|&&m| self.alive[m as usize]) {
                    self.heirs.insert(h, heir);
                }
            }
        }
        let n = self.alive.len();
        self.components = UnionFind::new(n);
        self.first_of_root = (0..n as u32)
            .map(|d| if self.alive[d as usize] { d } else { u32::MAX })
            .collect();
        let mut targets = Vec::new();
        for d in 0..n as u32 {
            if !self.holds_group(d) {
                continue;
            }
            let h = self.holder[d as usize];
            if h != d && self.alive[d as usize] {
                self.join(d, h);
            }
            targets.clear();
            targets.extend(self.links_of(d).filter(|&to| self.holds_group(to)));
            for &to in &targets {
                self.join(d, to);
            }
        }
    }

    /// The live documents grouped by `key`, each group in insertion order.
    fn live_groups(&self, key: impl Fn(u32) -> u32) -> HashMap<u32, Vec<u32>> {
        let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
        for d in (0..self.documents()).filter(|&d| self.alive[d as usize]) {
            groups.entry(key(d)).or_default().push(d);
        }
        groups
    }

    /// The groups of two or more of `groups`, each as (its first member's id, the member
    /// ids).
    fn named_groups(&self, groups: HashMap<u32, Vec<u32>>) -> Result<super::NamedGroups> {
        let mut out = Vec::new();
        for members in groups.into_values().filter(|m| m.len() > 1) {
            let ids: Vec<String> = members
                .iter()
                .map(|&m| self.id_of(m))
                .collect::<Result<_>>()?;
            out.push((ids[0].clone(), ids));
        }
        Ok(out)
    }

    /// The story key of document `d`: its story's first document.
    fn story_key(&self, d: u32) -> u32 {
        self.story_of.get(d as usize).copied().unwrap_or(d)
    }

    /// Every multi-member cluster: (name, member ids in insertion order).
    pub(super) fn clusters(&self) -> Result<super::NamedGroups> {
        let groups = self.live_groups(|d| self.components.find_readonly(d));
        let mut out = self.named_groups(groups)?;
        out.sort();
        Ok(out)
    }

    /// Every cluster of at least `min_size` live documents with a member published at or
    /// after `since` (when given), largest first, then by name, with each member's
    /// best match among the other members (see [`super::Index::cluster_list`]).
    pub(super) fn cluster_list(
        &self,
        since: Option<i64>,
        min_size: usize,
    ) -> Result<Vec<super::IndexCluster>> {
        let groups = self.live_groups(|d| self.components.find_readonly(d));
        let mut out = Vec::new();
        for (root, members) in groups.into_iter().filter(|(_, m)| m.len() >= min_size) {
            let published = members
                .iter()
                .map(|&m| self.published_of(m))
                .collect::<Result<Vec<_>>>()?;
            if since.is_some_and(|since| super::latest(&published).is_none_or(|t| t < since)) {
                continue;
            }
            let matched = members
                .iter()
                .map(|&m| self.best_match(m, root))
                .collect::<Result<Vec<_>>>()?;
            out.push(super::IndexCluster {
                cluster: self.id_of(members[0])?,
                members: members
                    .iter()
                    .map(|&m| self.id_of(m))
                    .collect::<Result<_>>()?,
                published,
                headlines: members
                    .iter()
                    .map(|&m| Ok(self.headline_of(m)?.map(str::to_owned)))
                    .collect::<Result<_>>()?,
                matched,
            });
        }
        out.sort_by(|a, b| {
            (b.members.len().cmp(&a.members.len())).then_with(|| a.cluster.cmp(&b.cluster))
        });
        Ok(out)
    }

    /// The member of the cluster rooted at `root` that live document `d` matched
    /// best: its copy group's holder (or the holder's heir) when it is a copy, else the
    /// most similar of the documents its group linked to on arriving (ties to the
    /// earliest), each answered for by its heir when removed. None when it linked to no
    /// member.
    fn best_match(&self, d: u32, root: u32) -> Result<Option<super::ClusterMatch>> {
        let holder = self.holder[d as usize];
        if holder != d {
            if let Some(h) = self.answering(holder).filter(|&h| h != d) {
                return Ok(Some(super::ClusterMatch {
                    member: self.id_of(h)?,
                    jaccard: 1.0,
                    copy: true,
                }));
            }
        }
        // A holder's links, or those of the removed holder `d` answers for as its heir.
        let links: Vec<(u32, f32)> = match self.at(holder) {
            At::Mem(i) => self.mem.links[i].clone(),
            At::Seg(s, local) => {
                let mut stored = Vec::new();
                self.segments[s].segment.links(local, &mut stored)?;
                let mut links = Vec::with_capacity(stored.len());
                for (seq, jaccard) in stored {
                    if let Some(to) = self.number_of_seq(seq)?.filter(|&to| to < holder) {
                        links.push((to, jaccard));
                    }
                }
                links
            }
        };
        let best = links
            .into_iter()
            .filter_map(|(to, jaccard)| Some((self.answering(to)?, jaccard)))
            .filter(|&(to, _)| to != d && self.components.find_readonly(to) == root)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        best.map(|(to, jaccard)| {
            Ok(super::ClusterMatch {
                member: self.id_of(to)?,
                // Stored as f32: widened to the value its shortest decimal writes
                // (0.7826087, not 0.782608687877655), as a report should print it.
                jaccard: jaccard.to_string().parse().unwrap_or(f64::from(jaccard)),
                copy: false,
            })
        })
        .transpose()
    }

    /// Every story of at least `min_size` live documents with a member published at or
    /// after `since` (when given), largest first, then by name; None without story
    /// tracking (see [`super::Index::story_list`]). With `analyzer` (the index's), each
    /// story's terms are named, which needs the tracker built ([`State::ensure_stories`]);
    /// without, they are left empty.
    pub(super) fn story_list(
        &self,
        since: Option<i64>,
        min_size: usize,
        analyzer: Option<&TermAnalyzer>,
    ) -> Result<Option<Vec<super::IndexStory>>> {
        if !self.tracker.enabled() {
            return Ok(None);
        }
        let groups = self.live_groups(|d| self.story_key(d));
        let mut out = Vec::new();
        for members in groups.into_values().filter(|m| m.len() >= min_size) {
            let published = members
                .iter()
                .map(|&m| self.published_of(m))
                .collect::<Result<Vec<_>>>()?;
            let headlines = members
                .iter()
                .map(|&m| Ok(self.headline_of(m)?.map(str::to_owned)))
                .collect::<Result<Vec<_>>>()?;
            let key = self.story_key(members[0]);
            let mut story = super::IndexStory {
                story: self.id_of(key)?,
                members: members
                    .iter()
                    .map(|&m| self.id_of(m))
                    .collect::<Result<_>>()?,
                published,
                headlines,
                clusters: members
                    .iter()
                    .map(|&m| self.cluster_name(m))
                    .collect::<Result<_>>()?,
                top_terms: Vec::new(),
            };
            if since.is_none_or(|since| story.last_published().is_some_and(|t| t >= since)) {
                if let Some(analyzer) = analyzer {
                    let headlines = story.headlines.iter().flatten().map(String::as_str);
                    story.top_terms = self.tracker.story_terms(key, analyzer, headlines);
                }
                out.push(story);
            }
        }
        out.sort_by(|a, b| {
            (b.members.len().cmp(&a.members.len())).then_with(|| a.story.cmp(&b.story))
        });
        Ok(Some(out))
    }

    /// Stored shingles: the set size of every live document (a copy counts its group's).
    pub(super) fn shingles(&self) -> Result<usize> {
        let mut total = 0;
        for d in 0..self.documents() {
            if self.alive[d as usize] {
                let h = self.holder[d as usize];
                total += match self.at(h) {
                    At::Mem(i) => self.mem.sets[i].len(),
                    At::Seg(s, local) => self.segments[s].segment.set_len(local)?,
                };
            }
        }
        Ok(total)
    }

    /// Links between live documents (or a removed holder's, which its copies keep).
    pub(super) fn links(&self) -> usize {
        (0..self.documents())
            .filter(|&d| self.alive[d as usize])
            .map(|d| self.links_of(d).filter(|&to| self.holds_group(to)).count())
            .sum()
    }

    pub(super) fn verify(&self) -> Result<()> {
        for s in &self.segments {
            s.segment.verify()?;
        }
        if let Some(origin) = &self.origin {
            if let Some(name) = &origin.manifest.line_tally {
                super::store::read_tally(&origin.dir, name)?;
            }
            if let Some(file) = &origin.manifest.story_background {
                super::store::read_background(&origin.dir, file)?;
            }
            self.stored_tracker()?;
        }
        Ok(())
    }

    /// Whether `d` must be written by a commit or merge: live, or a removed holder
    /// whose copies remain.
    pub(super) fn kept(&self, d: u32) -> bool {
        self.holds_group(d)
    }

    /// What a state knows of its documents, in a form two states of one index compare
    /// by: numbering, removals, copy groups and heirs, the links that join components,
    /// clusters and stories as partitions of the live documents, and the committed
    /// keys (built here if not yet).
    #[cfg(test)]
    pub(super) fn digest(&mut self) -> Result<Vec<String>> {
        fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
            v.sort();
            v
        }
        self.ensure_committed_keys()?;
        let keys = self.committed_keys.as_ref().map(|k| {
            let entries = |m: &KeyMap| sorted(m.first.keys().map(|&k| (k, m.get(k))).collect());
            (entries(&k.ids), entries(&k.fingerprints))
        });
        let live: Vec<u32> = (0..self.documents())
            .filter(|&d| self.alive[d as usize])
            .collect();
        let partition = |key: &dyn Fn(u32) -> u32| {
            let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
            for &d in &live {
                groups.entry(key(d)).or_default().push(d);
            }
            sorted(groups.into_values().collect::<Vec<_>>())
        };
        let links: Vec<Vec<u32>> = (0..self.documents())
            .map(|d| match self.holds_group(d) {
                true => sorted(self.links_of(d).filter(|&t| self.holds_group(t)).collect()),
                false => Vec::new(),
            })
            .collect();
        let segments: Vec<(u32, &str)> = (self.segments.iter())
            .map(|s| (s.base, s.entry.name.as_str()))
            .collect();
        Ok(vec![
            format!(
                "{} documents from {} (seq {}), {} live",
                self.documents(),
                self.mem_base,
                self.mem_first_seq,
                self.live
            ),
            format!("segments {segments:?}, newest {:?}", self.newest_published),
            format!("alive {:?}", self.alive),
            format!("holder {:?}", self.holder),
            format!("copies {:?}", sorted(self.copies.iter().collect())),
            format!("heirs {:?}", sorted(self.heirs.iter().collect())),
            format!("links {links:?}"),
            format!(
                "clusters {:?}",
                partition(&|d| self.components.find_readonly(d))
            ),
            format!("stories {:?}", partition(&|d| self.story_key(d))),
            format!("keys {keys:?}"),
        ])
    }
}
