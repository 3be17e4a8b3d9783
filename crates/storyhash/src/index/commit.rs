//! Writing an index: commits (the uncommitted documents as a new segment, removals as
//! deletion lists), merges of segments, compaction, and new index directories.
//!
//! Merge policy: after a commit, the newest segments are merged while the newer ones
//! together hold at least half as many live documents as the one before them and the
//! merge stays under an eighth of the index (at least 65,536 documents), so a document is
//! rewritten O(log n) times and a commit never rewrites the bulk of the index; a segment
//! with at least half its documents removed is rewritten alone. [`super::Index::compact`]
//! merges everything.

use std::ops::Range;
use std::path::Path;

use super::segment::{Segment, SegmentBuilder, SegmentDoc};
use super::state::State;
use super::store::{self, Manifest, SegmentEntry, WriterLock};
use crate::error::{Error, Result};
use crate::pipeline::Params;
use crate::record::set_fingerprint;
use crate::story::{ExclusionLists, StoryParams};

/// The fewest live documents an automatic merge may reach, whatever the index's size.
const MIN_MERGE_LIMIT: u64 = 65_536;

/// The manifest and mapped segments of the index directory `dir`, as last committed.
pub(super) fn read_committed(dir: &Path) -> Result<(Manifest, Vec<Segment>)> {
    // A merge may remove a segment between the reading of the manifest and the opening
    // of its segments: the new manifest names the segments that replaced it.
    let mut attempts = 0;
    loop {
        let manifest = store::read_manifest(dir)?;
        let bands = manifest
            .params
            .lsh()
            .map_err(|e| Error::Index {
                path: dir.join(store::MANIFEST),
                problem: format!("inconsistent manifest: {e}"),
            })?
            .bands;
        match store::open_segments(dir, &manifest, bands) {
            Err(Error::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && attempts < 8 =>
            {
                attempts += 1;
            }
            result => return result.map(|segments| (manifest, segments)),
        }
    }
}

pub(super) fn not_a_directory_index(path: &Path) -> Error {
    let problem = if path.is_file() {
        "a single-file index of an earlier format: write it as a directory with \
         `storyhash index upgrade` (or save it to a new path) first"
    } else {
        "not an index directory (it has no MANIFEST)"
    };
    Error::Index {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

/// The writer lock for a write to `dir`: the one `state` holds, or a new one held
/// for the write.
fn lock_for(state: &mut State, dir: &Path) -> Result<Option<WriterLock>> {
    match state.origin.as_ref().and_then(|o| o.lock.as_ref()) {
        Some(lock) if lock.dir() == dir => Ok(None),
        _ => WriterLock::acquire(dir, |_| {}).map(Some),
    }
}

/// Refuses to write on top of a commit this state has not seen.
fn check_generation(state: &State, dir: &Path) -> Result<Manifest> {
    let current = store::read_manifest(dir)?;
    let seen = state.origin.as_ref().map_or(0, |o| o.generation);
    if current.generation != seen {
        return Err(Error::Index {
            path: dir.to_path_buf(),
            problem: format!(
                "changed by another writer since it was opened (commit {seen}, now {}): \
                 open it again and repeat the changes",
                current.generation
            ),
        });
    }
    Ok(current)
}

/// Makes `state` that of what `dir` holds now, after its own write, keeping its lock
/// ([`State::after_write`]).
fn reload(state: &mut State, dir: &Path, manifest: Manifest) -> Result<()> {
    let lock = state.origin.as_mut().and_then(|o| o.lock.take());
    let segments = store::open_segments(dir, &manifest, state.bands)?;
    state.after_write(dir, manifest, segments, lock)
}

/// Commits `state` to the directory it was loaded from.
pub(super) fn commit(
    state: &mut State,
    params: &Params,
    story: Option<&StoryParams>,
    story_lists: &ExclusionLists,
) -> Result<()> {
    let dir = own_dir(state)?;
    let _lock = lock_for(state, &dir)?;
    let current = check_generation(state, &dir)?;
    store::remove_unreferenced(&dir, &current)?;
    let dirty = state.segments.iter().any(|s| s.dirty);
    if state.uncommitted() == 0
        && !dirty
        && current.story_lists == *story_lists
        && state.tally_to_commit().is_none()
        && state.background_to_commit().is_none()
        && !state.store_tracker_next
        && !state.stored_tracker_void
    {
        return Ok(());
    }
    let generation = current.generation + 1;
    let mut manifest = current;
    manifest.generation = generation;
    manifest.params = params.clone();
    manifest.story = story.cloned();
    manifest.story_lists = story_lists.clone();
    manifest.writer = writer();
    manifest.next_seq = state.mem_first_seq + state.uncommitted() as u64;
    manifest.newest_published = state.newest_published;
    if let Some(tally) = state.tally_to_commit() {
        let name = store::tally_name(generation);
        store::write_tally(&dir, &name, tally)?;
        manifest.line_tally = Some(name);
    }
    if let Some(background) = state.background_to_commit() {
        manifest.story_background = Some(store::write_background(&dir, generation, background)?);
    }
    for (s, entry) in state.segments.iter().zip(&mut manifest.segments) {
        if s.dirty {
            let removed: Vec<u32> = (0..s.segment.docs() as u32)
                .filter(|&local| !state.alive[(s.base + local) as usize])
                .collect();
            let name = store::deletes_name(&entry.name, generation);
            store::write_deletes(&dir, &name, &removed)?;
            entry.deletes = Some(name);
            entry.deleted = removed.len() as u64;
        }
    }
    if state.stored_tracker_void {
        manifest.story_tracker = None;
    }
    let counted = (manifest.next_seq, state.live() as u64);
    let stored_tracker = match (state.tracker_to_write()?, story) {
        (Some((view, seqs)), Some(story)) => {
            let file =
                store::write_tracker(&dir, generation, story.analysis, counted, &view, &seqs)?;
            manifest.story_tracker = Some(file);
            true
        }
        _ => false,
    };
    let mut builder = state.segment_builder(&dir);
    let mut removed = Vec::new();
    append_uncommitted(state, &mut builder, &mut removed)?;
    if let Some(entry) = write_segment(&dir, generation, builder, &removed)? {
        manifest.segments.push(entry);
    }
    store::write_manifest(&dir, &manifest)?;
    reload(state, &dir, manifest)?;
    state.tracker_committed(stored_tracker);
    merge(state, &dir, false)?;
    Ok(())
}

/// The directory `state` belongs to.
fn own_dir(state: &State) -> Result<std::path::PathBuf> {
    state.origin_dir().map(Path::to_path_buf).ok_or_else(|| {
        Error::InvalidParams("this index has no directory: save it to a path first".into())
    })
}

/// Merges every segment of the committed `state` into one.
pub(super) fn compact(state: &mut State) -> Result<()> {
    let dir = own_dir(state)?;
    let _lock = lock_for(state, &dir)?;
    check_generation(state, &dir)?;
    merge(state, &dir, true)
}

/// Merges segments of the committed `state`: those the policy picks, or all of them.
fn merge(state: &mut State, dir: &Path, everything: bool) -> Result<()> {
    let Some(origin) = &state.origin else {
        return Ok(());
    };
    let entries = &origin.manifest.segments;
    let ranges = if everything {
        let worth = entries.len() > 1 || entries.iter().any(|e| e.deleted > 0);
        if worth {
            std::iter::once(0..entries.len()).collect()
        } else {
            Vec::new()
        }
    } else {
        plan_merges(entries)
    };
    if ranges.is_empty() {
        return Ok(());
    }
    let mut manifest = origin.manifest.clone();
    let mut segments: Vec<SegmentEntry> = Vec::new();
    let mut next = 0;
    for range in ranges {
        segments.extend_from_slice(&manifest.segments[next..range.start]);
        manifest.generation += 1;
        let mut builder = state.segment_builder(dir);
        let mut removed = Vec::new();
        for i in range.clone() {
            append_segment(state, i, &mut builder, &mut removed)?;
        }
        segments.extend(write_segment(dir, manifest.generation, builder, &removed)?);
        next = range.end;
    }
    segments.extend_from_slice(&manifest.segments[next..]);
    manifest.segments = segments;
    manifest.writer = writer();
    store::write_manifest(dir, &manifest)?;
    store::remove_unreferenced(dir, &manifest)?;
    reload(state, dir, manifest)
}

/// The segment ranges the merge policy (module docs) merges.
fn plan_merges(entries: &[SegmentEntry]) -> Vec<Range<usize>> {
    let live = |e: &SegmentEntry| e.docs - e.deleted;
    let total: u64 = entries.iter().map(live).sum();
    let limit = (total / 8).max(MIN_MERGE_LIMIT);
    let n = entries.len();
    let mut ranges = Vec::new();
    let mut tail_start = n;
    if n >= 2 {
        let mut k = n - 1;
        let mut sum = live(&entries[k]);
        while k > 0 && sum * 2 >= live(&entries[k - 1]) && sum + live(&entries[k - 1]) <= limit {
            sum += live(&entries[k - 1]);
            k -= 1;
        }
        if k < n - 1 {
            tail_start = k;
        }
    }
    for (i, e) in entries[..tail_start].iter().enumerate() {
        if e.deleted > 0 && e.deleted * 2 >= e.docs {
            ranges.push(i..i + 1);
        }
    }
    if tail_start < n {
        ranges.push(tail_start..n);
    }
    ranges
}

/// Writes a new index directory at `path` holding every stored document of `state`,
/// which then belongs to it.
pub(super) fn write_new(
    state: &mut State,
    path: &Path,
    params: &Params,
    story: Option<&StoryParams>,
    story_lists: &ExclusionLists,
) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        let problem = if store::is_index_dir(path) {
            "holds another index: changes are committed to an index only by the index \
             opened from it (open it, insert, save); to copy this index, save to a new path"
        } else {
            "already exists: an index is saved to its own directory or to a new path"
        };
        return Err(Error::Index {
            path: path.to_path_buf(),
            problem: problem.into(),
        });
    }
    // The new directory does not exist yet: its parent holds the spilled sections.
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = state.segment_builder(parent);
    let mut removed = Vec::new();
    for i in 0..state.segments.len() {
        append_segment(state, i, &mut builder, &mut removed)?;
    }
    append_uncommitted(state, &mut builder, &mut removed)?;
    let tally = state
        .tally_if_any()?
        .map(|t| (store::tally_name(1), t.clone()));
    let background = state.story_background()?;
    let manifest = Manifest {
        params: params.clone(),
        story: story.cloned(),
        writer: writer(),
        generation: 1,
        next_seq: state.mem_first_seq + state.uncommitted() as u64,
        newest_published: state.newest_published,
        segments: Vec::new(),
        story_lists: story_lists.clone(),
        line_tally: None,
        story_background: None,
        story_tracker: None,
    };
    let manifest = store::create_dir(path, &manifest, |dir, manifest| {
        manifest
            .segments
            .extend(write_segment(dir, 1, builder, &removed)?);
        if let Some((name, tally)) = tally {
            store::write_tally(dir, &name, &tally)?;
            manifest.line_tally = Some(name);
        }
        if let Some(background) = &background {
            manifest.story_background = Some(store::write_background(dir, 1, background)?);
        }
        Ok(())
    })?;
    let segments = store::open_segments(path, &manifest, state.bands)?;
    let mut loaded = State::load(path, manifest, segments, state.bands, None)?;
    loaded.keep_stories_of(state);
    loaded.keep_tally_of(state);
    *state = loaded;
    Ok(())
}

fn writer() -> String {
    format!("storyhash {}", env!("CARGO_PKG_VERSION"))
}

/// Writes `builder` as segment `generation` of `dir`, with `removed` (its removed holders
/// kept for their copies) as its deletion list. None when it holds no document.
fn write_segment(
    dir: &Path,
    generation: u64,
    builder: SegmentBuilder,
    removed: &[u32],
) -> Result<Option<SegmentEntry>> {
    if builder.len() == 0 {
        return Ok(None);
    }
    let name = store::segment_name(generation);
    let (first_seq, last_seq) = builder.seq_range();
    let docs = builder.len() as u64;
    store::write_segment(dir, &name, builder)?;
    let deletes = if removed.is_empty() {
        None
    } else {
        let deletes = store::deletes_name(&name, generation);
        store::write_deletes(dir, &deletes, removed)?;
        Some(deletes)
    };
    Ok(Some(SegmentEntry {
        name,
        docs,
        first_seq,
        last_seq,
        deletes,
        deleted: removed.len() as u64,
    }))
}

/// Appends the uncommitted documents that must be kept to `builder`; removed ones kept
/// for their copies go to `removed` too.
fn append_uncommitted(
    state: &State,
    builder: &mut SegmentBuilder,
    removed: &mut Vec<u32>,
) -> Result<()> {
    let mut links = Vec::new();
    let mut scratch = Vec::new();
    for i in 0..state.uncommitted() {
        let d = state.mem_base + i as u32;
        if !state.kept(d) {
            continue;
        }
        let mem = &state.mem;
        links.clear();
        for &(to, j) in &mem.links[i] {
            if state.kept(to) {
                links.push((state.seq_of(to)?, j));
            }
        }
        let holder = state.holder[i + state.mem_base as usize];
        let is_holder = holder == d;
        let story = match state.story_of.get(d as usize) {
            Some(&s) => state.story_seq_of(s)?,
            None => state.mem_first_seq + i as u64,
        };
        let reference = if is_holder {
            reference(state, builder, &links, &mut scratch)?
        } else {
            None
        };
        let doc = SegmentDoc {
            seq: state.mem_first_seq + i as u64,
            id: &mem.ids[i],
            published: mem.published[i],
            holder: state.seq_of(holder)?,
            set: is_holder.then_some(&*mem.sets[i]),
            sketch: &mem.sketches[i],
            fingerprint: mem.fingerprints[i],
            reference,
            keys: if is_holder {
                mem.keys[i].as_deref()
            } else {
                None
            },
            links: &links,
            terms: &mem.terms[i],
            story,
            headline: &mem.headlines[i],
        };
        push(builder, doc, !state.alive[d as usize], removed)?;
    }
    Ok(())
}

/// Appends the documents of committed segment `i` that must be kept to `builder`.
fn append_segment(
    state: &State,
    i: usize,
    builder: &mut SegmentBuilder,
    removed: &mut Vec<u32>,
) -> Result<()> {
    let s = &state.segments[i];
    let seg = &s.segment;
    let mut renumbered = vec![u32::MAX; seg.docs()];
    let mut set = Vec::new();
    let mut stored_links = Vec::new();
    let mut links = Vec::new();
    let mut scratch = Vec::new();
    for local in 0..seg.docs() as u32 {
        let d = s.base + local;
        if !state.kept(d) {
            continue;
        }
        let is_holder = state.holder[d as usize] == d;
        if is_holder {
            seg.set(local, &mut set)?;
        }
        stored_links.clear();
        seg.links(local, &mut stored_links)?;
        links.clear();
        for &(to, j) in &stored_links {
            if state.number_of_seq(to)?.is_some_and(|t| state.kept(t)) {
                links.push((to, j));
            }
        }
        let alive = state.alive[d as usize];
        let (terms, headline) = if alive {
            (seg.terms(local)?, seg.headline(local)?.unwrap_or(""))
        } else {
            (Box::new([]) as Box<[_]>, "")
        };
        let sketch = seg.sketch(local)?.0;
        let reference = if is_holder {
            reference(state, builder, &links, &mut scratch)?
        } else {
            None
        };
        let doc = SegmentDoc {
            seq: seg.seq(local)?,
            id: seg.id(local)?,
            published: seg.published(local)?,
            holder: seg.holder(local)?,
            set: is_holder.then_some(&set[..]),
            sketch,
            fingerprint: if is_holder { set_fingerprint(&set) } else { 0 },
            reference,
            keys: None,
            links: &links,
            terms: &terms,
            story: seg.story(local)?,
            headline,
        };
        renumbered[local as usize] = builder.len() as u32;
        push(builder, doc, !alive, removed)?;
    }
    for band in 0..state.bands {
        seg.for_each_band_entry(band, |key, local| {
            match renumbered.get(local as usize) {
                Some(&new) if new != u32::MAX => builder.push_band_entry(band, key, new),
                _ => {}
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// The set a holder linked to `links` (seq, Jaccard) is stored against: that of the
/// closest linked document whose group's set `builder` already holds whole, with that
/// holder's seq. A near-copy's set is then mostly positions in it (`codec`).
fn reference<'a>(
    state: &'a State,
    builder: &SegmentBuilder,
    links: &[(u64, f32)],
    scratch: &'a mut Vec<u32>,
) -> Result<Option<(u64, &'a [u32])>> {
    let mut best: Option<(f32, u64, u32)> = None;
    for &(to, j) in links {
        let Some(d) = state.number_of_seq(to)? else {
            continue;
        };
        let holder = state.holder[d as usize];
        let seq = state.seq_of(holder)?;
        if best.is_none_or(|(b, _, _)| j > b) && builder.whole_local_of_seq(seq).is_some() {
            best = Some((j, seq, holder));
        }
    }
    match best {
        Some((_, seq, holder)) => Ok(Some((seq, state.set_of(holder, scratch)?))),
        None => Ok(None),
    }
}

fn push(
    builder: &mut SegmentBuilder,
    doc: SegmentDoc<'_>,
    is_removed: bool,
    removed: &mut Vec<u32>,
) -> Result<()> {
    let local = builder.len() as u32;
    let id = doc.id.to_owned();
    builder
        .push(doc)
        .map_err(|problem| Error::InvalidParams(format!("cannot store {id:?}: {problem}")))?;
    if is_removed {
        removed.push(local);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    fn entry(docs: u64, deleted: u64) -> SegmentEntry {
        SegmentEntry {
            name: "seg-1.seg".into(),
            docs,
            first_seq: 0,
            last_seq: docs,
            deletes: None,
            deleted,
        }
    }

    #[test]
    fn merges_keep_big_segments_and_gather_small_ones() {
        // A big segment and one commit: nothing to merge.
        assert!(plan_merges(&[entry(1_000_000, 0), entry(10_000, 0)]).is_empty());
        // Two commits of similar size merge; the big segment stays.
        assert_eq!(
            plan_merges(&[entry(1_000_000, 0), entry(10_000, 0), entry(10_000, 0)]),
            [1..3]
        );
        // A segment mostly removed is rewritten alone.
        assert_eq!(
            plan_merges(&[entry(1_000_000, 600_000), entry(10_000, 0)]),
            [0..1]
        );
        // Small segments below the floor merge whatever the index's size.
        assert_eq!(plan_merges(&[entry(10, 0), entry(10, 0)]), [0..2]);
    }
}

/// A writer's state after its commits and merges against the state loaded afresh from
/// what they wrote.
#[cfg(test)]
mod after_write {
    use super::*;
    use crate::index::Index;
    use crate::pipeline::Preset;
    use crate::story::Granularity;
    use crate::synth::StoryCorpus;
    use crate::Document;

    fn loaded(dir: &Path, bands: usize) -> State {
        let (manifest, segments) = read_committed(dir).expect("read");
        State::load(dir, manifest, segments, bands, None).expect("load")
    }

    #[test]
    fn a_story_writer_holds_what_its_writes_load() {
        writer_holds_what_its_writes_load(Some(Granularity::Story.params()), "story");
    }

    #[test]
    fn a_copy_writer_holds_what_its_writes_load() {
        writer_holds_what_its_writes_load(None, "copy");
    }

    /// Commits taking the writer's own state over (every document kept) and commits
    /// and merges that drop removed documents (loaded afresh) both leave the writer
    /// holding what a reader of the directory loads: holders, copy groups and heirs,
    /// links, clusters, stories and keys; and the writer then answers new documents as
    /// a writer opened afresh does.
    fn writer_holds_what_its_writes_load(story: Option<StoryParams>, name: &str) {
        let docs: Vec<Document> = StoryCorpus {
            seed: 11,
            events: 30,
            copied_fraction: 0.3,
            ..StoryCorpus::default()
        }
        .generate()
        .into_iter()
        .map(|d| Document {
            published: d.published,
            ..Document::new(d.id, d.text)
        })
        .collect();
        let scratch = format!("storyhash-after-write-{name}-{}", std::process::id());
        let base = std::env::temp_dir().join(scratch);
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).expect("scratch");
        let dir = base.join("idx");
        let index = Index::create(&dir, Preset::Dup.params(), story).expect("create");
        let bands = index.engine.lsh().bands;
        let (mut fast, mut fresh) = (0, 0);
        for (round, chunk) in docs[..docs.len() - 10].chunks(12).enumerate() {
            for (i, d) in chunk.iter().enumerate() {
                index.insert(d).expect("insert");
                if i % 4 == 0 {
                    let copy = Document::new(format!("copy-{}", d.id), d.text.clone());
                    index.insert(&copy).expect("insert copy");
                }
            }
            // A holder whose copy stays (kept for it: an heir), or a document with no
            // copy (dropped by the commit or a later merge: renumbered).
            match round % 3 {
                0 => index.remove(&chunk[0].id).expect("remove holder"),
                1 => index.remove(&chunk[1].id).expect("remove"),
                _ => {}
            }
            let documents = index.read().documents();
            index.commit().expect("commit");
            let mut writer = index.write();
            match writer.documents() == documents {
                true => fast += 1,
                false => fresh += 1,
            }
            let ours = writer.digest().expect("digest");
            let theirs = loaded(&dir, bands).digest().expect("digest");
            assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                assert_eq!(a, b, "after commit {round}");
            }
        }
        assert!(
            fast >= 3 && fresh >= 3,
            "{fast} commits kept every document, {fresh} not"
        );
        let probes = &docs[docs.len() - 10..];
        let answers = |index: &Index| -> Vec<String> {
            let answer = |d: &Document| format!("{:?}", index.insert(d).expect("insert"));
            probes.iter().map(answer).collect()
        };
        let running = answers(&index);
        drop(index);
        assert_eq!(
            running,
            answers(&Index::open_writer(&dir, |_| {}).expect("open"))
        );
        let _ = std::fs::remove_dir_all(&base);
    }
}

#[cfg(test)]
mod stored_tracker {
    use super::*;
    use crate::index::Index;
    use crate::pipeline::Preset;
    use crate::story::{Granularity, TrackerColumns};
    use crate::synth::StoryCorpus;
    use crate::Document;

    /// Generated news with exact copies, in time order.
    fn corpus() -> Vec<Document> {
        let docs = StoryCorpus {
            seed: 5,
            events: 24,
            copied_fraction: 0.3,
            ..StoryCorpus::default()
        }
        .generate();
        (docs.into_iter())
            .map(|d| Document {
                published: d.published,
                ..Document::new(d.id, d.text)
            })
            .collect()
    }

    /// A loaded state of `dir` with its story tracker built, from the tracker its
    /// manifest names (`stored`) or by replaying every live document; and how many
    /// documents were replayed.
    fn built(dir: &Path, bands: usize, stored: bool) -> (TrackerColumns, u64) {
        let (mut manifest, segments) = read_committed(dir).expect("read");
        if !stored {
            manifest.story_tracker = None;
        }
        let mut state = State::load(dir, manifest, segments, bands, None).expect("load");
        state.ensure_stories().expect("stories");
        let columns = state.tracker.to_columns().expect("columns");
        (columns, state.tracked_since_stored)
    }

    /// A new story index in a scratch folder of its own: the folder, the index's
    /// directory, the index.
    fn new_story_index(name: &str) -> (std::path::PathBuf, std::path::PathBuf, Index) {
        let base = std::env::temp_dir().join(format!(
            "storyhash-stored-tracker-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).expect("scratch");
        let dir = base.join("idx");
        let story = Some(Granularity::Story.params());
        let index = Index::create(&dir, Preset::Dup.params(), story).expect("create");
        (base, dir, index)
    }

    /// The tracker a commit stored, read back with the documents stored after it
    /// replayed on top, is the tracker replaying every live document builds: the same
    /// term ids and counts, the same sums to the bit, the same postings. Once a
    /// document it counted is removed it no longer holds, and every document is
    /// replayed.
    #[test]
    fn read_with_what_came_after_it_is_the_replayed_tracker() {
        let docs = corpus();
        let (base, dir, index) = new_story_index("replayed");
        let bands = index.engine.lsh().bands;
        let mut read_stored = 0;
        for (round, chunk) in docs.chunks(7).enumerate() {
            for d in chunk {
                index.insert(d).expect("insert");
            }
            if round == 6 {
                index.remove(&docs[3].id).expect("remove");
            }
            index.commit().expect("commit");
            let (replayed, all) = built(&dir, bands, false);
            let (stored, tail) = built(&dir, bands, true);
            // Compared whole, reported briefly: the columns run to thousands of numbers.
            assert!(
                stored == replayed,
                "after commit {round}, the trackers differ"
            );
            let live = index.read().live() as u64;
            assert_eq!(all, live);
            if tail < live {
                read_stored += 1;
            }
            if round == 6 {
                assert_eq!(
                    tail, live,
                    "a tracker that counted a removed document is read"
                );
            }
        }
        assert!(
            read_stored >= 5,
            "a stored tracker read after {read_stored} commits"
        );
        let _ = std::fs::remove_dir_all(&base);
    }

    /// A writer that read the stored tracker answers new articles as a writer that
    /// replayed every document does.
    #[test]
    fn a_writer_that_read_it_answers_as_one_that_replayed() {
        let docs = corpus();
        let (base, dir, index) = new_story_index("answers");
        let copy = base.join("copy");
        let (stored, probes) = docs.split_at(docs.len() - 12);
        for chunk in stored.chunks(9) {
            for d in chunk {
                index.insert(d).expect("insert");
            }
            index.commit().expect("commit");
        }
        drop(index);
        std::fs::create_dir_all(&copy).expect("copy");
        let mut tracker_files = 0;
        for entry in std::fs::read_dir(&dir).expect("list").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("tracker-") {
                tracker_files += 1;
            } else if name != store::LOCK {
                std::fs::copy(entry.path(), copy.join(&name)).expect("copy");
            }
        }
        assert_eq!(tracker_files, 1, "one stored tracker, the latest");
        let answers = |dir: &Path| -> Vec<String> {
            let index = Index::open_writer(dir, |_| {}).expect("open");
            let answer = |d: &Document| format!("{:?}", index.insert(d).expect("insert"));
            let answers = probes.iter().map(answer).collect();
            let read = index.read().tracked_since_stored < stored.len() as u64;
            assert_eq!(
                read,
                dir.ends_with("idx"),
                "the stored tracker read only where it is"
            );
            answers
        };
        assert_eq!(answers(&dir), answers(&copy));
        let _ = std::fs::remove_dir_all(&base);
    }

    /// `commit_story_tracker` stores the tracker however few documents were counted
    /// since, also once a removal voided the stored one and left the writer's tracker
    /// holding the removed document's weight (rebuilt first): the tracker stored is the
    /// replayed one, read with nothing on top. An index with no directory is refused.
    #[test]
    fn committing_it_stores_it_at_once() {
        let docs = corpus();
        let (base, dir, index) = new_story_index("at-once");
        let bands = index.engine.lsh().bands;
        let stored_documents = || {
            let manifest = store::read_manifest(&dir).expect("manifest");
            manifest.story_tracker.map(|t| t.documents)
        };
        for d in &docs[..30] {
            index.insert(d).expect("insert");
        }
        index.commit().expect("commit");
        assert_eq!(stored_documents(), Some(30));
        for d in &docs[30..32] {
            index.insert(d).expect("insert");
        }
        index.remove(&docs[0].id).expect("remove");
        index.commit().expect("commit");
        assert_eq!(stored_documents(), None, "voided by the removal");
        index.commit_story_tracker().expect("store");
        assert_eq!(stored_documents(), Some(31));
        let (replayed, _) = built(&dir, bands, false);
        let (stored, tail) = built(&dir, bands, true);
        assert!(
            stored == replayed && tail == 0,
            "the stored tracker is the replayed one"
        );
        let unsaved = Index::with_stories(Preset::Dup.params(), Some(Granularity::Story.params()));
        assert!(unsaved.expect("new").commit_story_tracker().is_err());
        let _ = std::fs::remove_dir_all(&base);
    }

    /// An index saved to a new directory counts everything as not yet stored there
    /// (though its first directory stored it): the first commit that adds one document
    /// to it stores the tracker.
    #[test]
    fn a_save_to_a_new_directory_stores_it_at_the_next_commit() {
        let docs = corpus();
        let (base, _, index) = new_story_index("saved");
        for d in &docs[..12] {
            index.insert(d).expect("insert");
        }
        index
            .commit()
            .expect("commit, storing the tracker in the first directory");
        let moved = base.join("moved");
        index.save(&moved).expect("save");
        let stored = || {
            store::read_manifest(&moved)
                .expect("manifest")
                .story_tracker
        };
        assert!(stored().is_none(), "a save writes no tracker");
        index.insert(&docs[12]).expect("insert");
        index.commit().expect("commit");
        assert_eq!(stored().map(|t| t.documents), Some(13));
        let _ = std::fs::remove_dir_all(&base);
    }

    /// A change to a stored tracker's columns and story seqs.
    type Tamper = Box<dyn Fn(&mut TrackerColumns, &mut Vec<u64>)>;

    /// A stored tracker whose columns contradict themselves, written with a valid
    /// checksum, is passed over: the tracker is replayed, and nothing panics. Bytes
    /// changed at random and the checksum recomputed never panic either.
    #[test]
    fn a_tampered_one_is_passed_over() {
        let docs = corpus();
        let (base, dir, index) = new_story_index("tampered");
        let bands = index.engine.lsh().bands;
        for d in &docs[..40] {
            index.insert(d).expect("insert");
        }
        index.commit().expect("commit");
        drop(index);
        let (replayed, all) = built(&dir, bands, false);
        let manifest = store::read_manifest(&dir).expect("manifest");
        let file = manifest.story_tracker.clone().expect("a stored tracker");
        let analysis = Granularity::Story.params().analysis;
        let (columns, seqs) = store::read_tracker(&dir, &file, analysis).expect("read");
        let (stored, tail) = built(&dir, bands, true);
        assert!(
            stored == replayed && tail == 0,
            "the stored tracker read whole"
        );
        let tampers: Vec<(&str, Tamper)> = vec![
            (
                "a posting of no story",
                Box::new(|c, _| c.postings[0] = u32::MAX),
            ),
            (
                "a term out of range",
                Box::new(|c, _| c.sum_terms[0] = u32::MAX),
            ),
            ("sums out of order", Box::new(|c, _| c.sum_ends.swap(0, 1))),
            (
                "a weight not a number",
                Box::new(|c, _| c.sum_weights[0] = f32::NAN),
            ),
            ("a term twice", Box::new(|c, _| c.hashes[1] = c.hashes[0])),
            (
                "a column short",
                Box::new(|c, _| {
                    c.own_df.pop();
                }),
            ),
            ("a story of no document", Box::new(|_, s| s[0] = u64::MAX)),
            (
                "a story not named by its key",
                Box::new(|_, s| s.swap(0, 1)),
            ),
            (
                "postings of unknown terms",
                Box::new(|c, _| c.holding.push(1)),
            ),
        ];
        let name = dir.join(&file.name);
        for (what, tamper) in tampers {
            let (mut c, mut s) = (columns.clone(), seqs.clone());
            tamper(&mut c, &mut s);
            std::fs::remove_file(&name).expect("remove");
            let counted = (file.next_seq, file.documents);
            store::write_tracker(&dir, manifest.generation, analysis, counted, &c, &s)
                .expect("write");
            let (stored, tail) = built(&dir, bands, true);
            assert!(stored == replayed && tail == all, "{what}: not passed over");
        }
        std::fs::remove_file(&name).expect("remove");
        let counted = (file.next_seq, file.documents);
        store::write_tracker(
            &dir,
            manifest.generation,
            analysis,
            counted,
            &columns,
            &seqs,
        )
        .expect("write");
        let good = std::fs::read(&name).expect("read");
        let mut rng = crate::synth::Rng::new(7);
        for _ in 0..300 {
            // A bit of the payload (after the 24-byte header, before the checksum).
            let mut bytes = good.clone();
            let at = 24 + (rng.next_u64() as usize) % (bytes.len() - 32);
            bytes[at] ^= 1 << (rng.next_u64() % 8);
            let body = bytes.len() - 8;
            let checksum = xxhash_rust::xxh3::xxh3_64(&bytes[..body]);
            bytes[body..].copy_from_slice(&checksum.to_le_bytes());
            std::fs::write(&name, &bytes).expect("write");
            let (mut manifest, segments) = read_committed(&dir).expect("read");
            manifest.story_tracker = Some(file.clone());
            let mut state = State::load(&dir, manifest, segments, bands, None).expect("load");
            state.ensure_stories().expect("stories");
        }
        let _ = std::fs::remove_dir_all(&base);
    }
}
