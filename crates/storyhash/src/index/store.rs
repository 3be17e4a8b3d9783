//! The index directory: immutable segment files, their deletion lists, the manifest that
//! names the committed ones, and the writer lock.
//!
//! ```text
//! t.idx/
//!   MANIFEST                  parameters, generation, next seq, and per segment its
//!                             file, seq range, document count and deletion list
//!   LOCK                      taken (flock) by the one writer; never removed
//!   seg-0000000007.seg        a segment (`segment`), written once
//!   seg-0000000007.del-9      the segment's deleted documents as of generation 9
//!   lines-0000000009.tally    per-site line counts as of generation 9, when learned
//!   background-0000000001.df  the story background given before the first document,
//!                             if any (written once, never replaced)
//!   tracker-0000000012.stories
//!                             the story tracker as of generation 12 (counts, stories,
//!                             postings), when one was stored
//! ```
//!
//! A commit writes new files under new names (segment, deletion lists), then replaces the
//! manifest atomically (temporary file, fsync, rename, directory fsync): a reader sees the
//! old manifest and its files or the new ones, and a writer killed at any moment leaves
//! the last committed manifest intact. Files the manifest does not name (a killed
//! writer's temporaries and unfinished segments, files replaced by a later commit) are
//! removed by the next writer, under the lock. Readers never lock: one that finds a
//! segment gone (replaced by a merge after it read the manifest) reads the manifest again.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::mapped::Bytes;
use super::segment::{Segment, SegmentBuilder};
use crate::error::{Error, Result};
use crate::output::AtomicFile;
use crate::persist::{ContentKind, PayloadReader, PayloadStream, PayloadWriter};
use crate::pipeline::Params;
use crate::story::{
    Background, ExclusionLists, LineTally, StoredStoryParamsV6, StoredStoryParamsV7, StoryAnalysis,
    StoryParams, TrackerColumns, TrackerSource,
};

/// The manifest's file name.
pub(super) const MANIFEST: &str = "MANIFEST";
/// The writer lock's file name.
pub(super) const LOCK: &str = "LOCK";
/// The manifest format version: 12, which names the story tracker's file. Version 11
/// (the story background's file and its documents), 10 (the file of per-site line
/// counts the index learns boilerplate from), 9 (the user's story lists: stopwords and
/// boilerplate lines every added document's story terms leave out), 8 (story
/// parameters naming the analysis of the stored story terms), 7 (story parameters of
/// group-average attachment, terms of [`crate::story::StoryAnalysis::Words`]) and 6 (the
/// first index that is a directory of segments) are read too, without what came later.
pub(super) const MANIFEST_VERSION: u32 = 12;
/// The version of the line-count file.
const TALLY_VERSION: u32 = 1;
/// A line-count file holds fewer than 1,536 sites of 1,024 counters of 12 bytes.
const MAX_TALLY_BYTES: u64 = 24 << 20;
/// The version of the background file.
const BACKGROUND_VERSION: u32 = 1;
/// The version of the story tracker's file.
const TRACKER_VERSION: u32 = 1;
/// A background file holds at most about 89 million terms of 12 bytes (about 4 GB in
/// memory once loaded; a million news articles hold a few million distinct terms).
const MAX_BACKGROUND_BYTES: u64 = 1 << 30;
/// A manifest is small (a line per segment); a larger file is not one.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// What a manifest records.
pub(super) type Manifest = ManifestOf<
    StoryParams,
    ExclusionLists,
    Option<String>,
    Option<BackgroundFile>,
    Option<TrackerFile>,
>;

/// A manifest whose story parameters are stored as `S` ([`StoryParams`] from version 8,
/// [`StoredStoryParamsV7`] and [`StoredStoryParamsV6`] before), its story lists as `L`
/// (from version 9; `()`, which takes no bytes, before), the name of its line-count
/// file as `T` (from version 10), its background file as `B` (from version 11) and its
/// story tracker's file as `K` (from version 12).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(unreachable_pub)]
pub(super) struct ManifestOf<S, L, T, B, K> {
    pub params: Params,
    pub story: Option<S>,
    /// The storyhash version that wrote it.
    pub writer: String,
    /// Incremented by every commit; names the files it writes.
    pub generation: u64,
    /// The seq the next inserted document gets.
    pub next_seq: u64,
    /// The newest publication time ever stored (the reference of window eviction).
    pub newest_published: Option<i64>,
    /// Segments in seq order.
    pub segments: Vec<SegmentEntry>,
    /// What every added document's story terms leave out.
    pub story_lists: L,
    /// The per-site line counts learned so far ([`tally_name`]), if any.
    pub line_tally: T,
    /// The story background, if one was given.
    pub story_background: B,
    /// The story tracker as a commit wrote it, if one did.
    pub story_tracker: K,
}

/// The story tracker's file ([`tracker_name`]) and what it counts: the documents
/// stored before seq `next_seq` that were live when it was written, `documents` of
/// them. A later manifest names it as long as no later tracker was written; it holds
/// for that manifest's documents when those before `next_seq` are still the same
/// `documents` (none removed since), and the later ones are replayed on top.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TrackerFile {
    pub name: String,
    pub next_seq: u64,
    pub documents: u64,
}

/// The story background's file ([`background_name`]) and the documents it counts (so
/// that `stats` need not read it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct BackgroundFile {
    pub name: String,
    pub documents: u64,
}

/// One committed segment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SegmentEntry {
    pub name: String,
    pub docs: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    /// Its deletion list, if any document of it was deleted.
    pub deletes: Option<String>,
    pub deleted: u64,
}

impl<S: Into<StoryParams>, L, T, B> ManifestOf<S, L, T, B, ()> {
    /// The manifest of an earlier version as the current one has it: its story
    /// parameters mapped, its story lists, line counts and background as `lists`,
    /// `tally` and `background` give them, no story tracker.
    fn upgrade(
        self,
        lists: impl FnOnce(L) -> ExclusionLists,
        tally: impl FnOnce(T) -> Option<String>,
        background: impl FnOnce(B) -> Option<BackgroundFile>,
    ) -> Manifest {
        ManifestOf {
            params: self.params,
            story: self.story.map(Into::into),
            writer: self.writer,
            generation: self.generation,
            next_seq: self.next_seq,
            newest_published: self.newest_published,
            segments: self.segments,
            story_lists: lists(self.story_lists),
            line_tally: tally(self.line_tally),
            story_background: background(self.story_background),
            story_tracker: None,
        }
    }
}

impl<S, L, T, B, K> ManifestOf<S, L, T, B, K> {
    /// Checks what the rest of the code relies on: file names that stay inside the
    /// directory, segments in seq order with counts that fit their ranges.
    fn check(&self) -> std::result::Result<(), String> {
        let mut after = None;
        for s in &self.segments {
            if !is_segment_name(&s.name)
                || s.deletes.as_deref().is_some_and(|d| !is_deletes_name(d))
            {
                return Err(format!("names a file that is not a segment: {:?}", s.name));
            }
            let span = s
                .last_seq
                .checked_sub(s.first_seq)
                .and_then(|d| d.checked_add(1));
            if span.is_none_or(|span| s.docs > span)
                || s.docs == 0
                || s.deleted > s.docs
                || after.is_some_and(|a| s.first_seq <= a)
                || s.last_seq >= self.next_seq
            {
                return Err("segments out of order or with impossible counts".into());
            }
            after = Some(s.last_seq);
        }
        Ok(())
    }

    /// Documents in committed segments (deleted ones included).
    pub(super) fn docs(&self) -> u64 {
        self.segments.iter().map(|s| s.docs).sum()
    }
}

/// Whether `name` is `prefix`, a generation number and `suffix`: a file a commit names.
fn is_numbered(name: &str, prefix: &str, suffix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|n| n.strip_suffix(suffix))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_segment_name(name: &str) -> bool {
    is_numbered(name, "seg-", ".seg")
}

/// `seg-N.del-G`: segment N's deletion list as of generation G.
fn is_deletes_name(name: &str) -> bool {
    name.split_once(".del-")
        .is_some_and(|(segment, generation)| {
            is_numbered(segment, "seg-", "") && is_numbered(generation, "", "")
        })
}

fn is_tally_name(name: &str) -> bool {
    is_numbered(name, "lines-", ".tally")
}

/// The name of the line-count file written by commit `generation`.
pub(super) fn tally_name(generation: u64) -> String {
    format!("lines-{generation:010}.tally")
}

fn is_background_name(name: &str) -> bool {
    is_numbered(name, "background-", ".df")
}

/// The name of the background file written by commit `generation`.
pub(super) fn background_name(generation: u64) -> String {
    format!("background-{generation:010}.df")
}

fn is_tracker_name(name: &str) -> bool {
    is_numbered(name, "tracker-", ".stories")
}

/// The name of the story tracker's file written by commit `generation`.
pub(super) fn tracker_name(generation: u64) -> String {
    format!("tracker-{generation:010}.stories")
}

/// The name of the segment written by commit `generation`.
pub(super) fn segment_name(generation: u64) -> String {
    format!("seg-{generation:010}.seg")
}

/// The name of a segment's deletion list as of commit `generation`.
pub(super) fn deletes_name(segment: &str, generation: u64) -> String {
    format!("{}.del-{generation}", segment.trim_end_matches(".seg"))
}

/// Whether `path` is an index directory (it holds a manifest).
pub(super) fn is_index_dir(path: &Path) -> bool {
    path.is_dir() && path.join(MANIFEST).is_file()
}

/// Refuses a path that is not a regular file (a device such as `/dev/zero`, a FIFO, a
/// directory) before it is opened: opening a FIFO blocks until someone writes to it.
pub(super) fn refuse_special(path: &Path) -> Result<()> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        Ok(())
    } else {
        Err(Error::Index {
            path: path.to_path_buf(),
            problem: "not a regular file".into(),
        })
    }
}

/// Reads a small regular file whole, refusing devices, pipes and anything over `limit`
/// bytes before reading.
fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>> {
    refuse_special(path)?;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    let fail = |problem: String| Error::Index {
        path: path.to_path_buf(),
        problem,
    };
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    if meta.len() > limit {
        return Err(fail(format!(
            "{} bytes, more than such a file can hold ({limit})",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

/// Reads and checks the manifest of the index directory `dir`.
pub(super) fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let bytes = read_small(&path, MAX_MANIFEST_BYTES)?;
    let (version, mut r) = PayloadReader::open(
        &path,
        &bytes,
        ContentKind::Manifest,
        &[6, 7, 8, 9, 10, 11, MANIFEST_VERSION],
    )?;
    /// What a version before the field's holds of it: nothing.
    fn none<T>((): ()) -> Option<T> {
        None
    }
    let no_lists = |()| ExclusionLists::default();
    let manifest: Manifest =
        match version {
            6 => r
                .meta::<ManifestOf<StoredStoryParamsV6, (), (), (), ()>>()?
                .upgrade(no_lists, none, none),
            7 => r
                .meta::<ManifestOf<StoredStoryParamsV7, (), (), (), ()>>()?
                .upgrade(no_lists, none, none),
            8 => r
                .meta::<ManifestOf<StoryParams, (), (), (), ()>>()?
                .upgrade(no_lists, none, none),
            9 => r
                .meta::<ManifestOf<StoryParams, ExclusionLists, (), (), ()>>()?
                .upgrade(|lists| lists, none, none),
            10 => r
                .meta::<ManifestOf<StoryParams, ExclusionLists, Option<String>, (), ()>>()?
                .upgrade(|lists| lists, |tally| tally, none),
            11 => {
                r.meta::<ManifestOf<
                    StoryParams,
                    ExclusionLists,
                    Option<String>,
                    Option<BackgroundFile>,
                    (),
                >>()?
                .upgrade(|lists| lists, |tally| tally, |background| background)
            }
            _ => r.meta()?,
        };
    let foreign = if manifest
        .line_tally
        .as_deref()
        .is_some_and(|n| !is_tally_name(n))
    {
        Some("a line count")
    } else if (manifest.story_background.as_ref()).is_some_and(|b| !is_background_name(&b.name)) {
        Some("a background")
    } else if (manifest.story_tracker.as_ref()).is_some_and(|t| !is_tracker_name(&t.name)) {
        Some("a story tracker")
    } else {
        None
    };
    if let Some(what) = foreign {
        return Err(Error::Index {
            path,
            problem: format!("inconsistent manifest: names a file that is not {what}"),
        });
    }
    r.finish()?;
    manifest.check().map_err(|problem| Error::Index {
        path: path.clone(),
        problem: format!("inconsistent manifest: {problem}"),
    })?;
    manifest.params.check().map_err(|e| Error::Index {
        path: path.clone(),
        problem: format!("inconsistent manifest: {e}"),
    })?;
    if let Some(story) = &manifest.story {
        story.check().map_err(|e| Error::Index {
            path: path.clone(),
            problem: format!("inconsistent manifest: {e}"),
        })?;
    } else if !manifest.story_lists.is_empty()
        || manifest.line_tally.is_some()
        || manifest.story_background.is_some()
        || manifest.story_tracker.is_some()
    {
        return Err(Error::Index {
            path,
            problem: "inconsistent manifest: story lists, line counts, a background or a \
                      story tracker without story tracking"
                .into(),
        });
    }
    Ok(manifest)
}

/// Replaces the manifest of `dir` atomically and durably.
pub(super) fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let mut w = PayloadWriter::default();
    w.meta(manifest)?;
    let bytes = w.finish(ContentKind::Manifest, MANIFEST_VERSION);
    write_durably(&dir.join(MANIFEST), &bytes)
}

/// Writes `tally` durably as `dir/name`.
pub(super) fn write_tally(dir: &Path, name: &str, tally: &LineTally) -> Result<()> {
    let mut w = PayloadWriter::default();
    w.bytes(&tally.to_bytes());
    write_durably(
        &dir.join(name),
        &w.finish(ContentKind::LineTally, TALLY_VERSION),
    )
}

/// Reads and checks the line-count file `dir/name`.
pub(super) fn read_tally(dir: &Path, name: &str) -> Result<LineTally> {
    let path = dir.join(name);
    let bytes = read_small(&path, MAX_TALLY_BYTES)?;
    let (_, mut r) = PayloadReader::open(&path, &bytes, ContentKind::LineTally, &[TALLY_VERSION])?;
    let tally = LineTally::from_bytes(r.bytes()?).map_err(|problem| Error::Index {
        path: path.clone(),
        problem: format!("inconsistent line counts: {problem}"),
    })?;
    r.finish()?;
    Ok(tally)
}

/// Writes `background` durably as the background file of commit `generation` in `dir`:
/// its documents and analysis, then its term hashes and their counts as flat columns.
pub(super) fn write_background(
    dir: &Path,
    generation: u64,
    background: &Background,
) -> Result<BackgroundFile> {
    let mut w = PayloadWriter::default();
    w.meta(&(background.documents(), background.analysis()))?;
    let (hashes, dfs) = background.to_columns();
    w.u64s(&hashes);
    w.u32s(&dfs);
    let name = background_name(generation);
    write_durably(
        &dir.join(&name),
        &w.finish(ContentKind::Background, BACKGROUND_VERSION),
    )?;
    Ok(BackgroundFile {
        name,
        documents: background.documents(),
    })
}

/// Reads and checks the background file `file` of `dir`.
pub(super) fn read_background(dir: &Path, file: &BackgroundFile) -> Result<Background> {
    let path = dir.join(&file.name);
    let bytes = read_small(&path, MAX_BACKGROUND_BYTES)?;
    let (_, mut r) = PayloadReader::open(
        &path,
        &bytes,
        ContentKind::Background,
        &[BACKGROUND_VERSION],
    )?;
    let (documents, analysis) = r.meta::<(u64, StoryAnalysis)>()?;
    let (hashes, dfs) = (r.u64s()?, r.u32s()?);
    r.finish()?;
    let inconsistent = |problem: String| Error::Index {
        path: path.clone(),
        problem: format!("inconsistent background: {problem}"),
    };
    if documents != file.documents {
        return Err(inconsistent(format!(
            "{documents} documents, where the manifest says {}",
            file.documents
        )));
    }
    Background::from_columns(analysis, documents, &hashes, &dfs).map_err(inconsistent)
}

/// What a story tracker's file says of itself, checked against the manifest's entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrackerMeta {
    analysis: StoryAnalysis,
    next_seq: u64,
    documents: u64,
    counted: u64,
    own_counted: u64,
}

/// Writes `columns` (a live tracker's view, produced as written, or columns read back)
/// durably as the story tracker file of commit `generation` in `dir`, each story keyed
/// by the seq in `story_seqs` (one per story, in the columns' order):
/// the tracker of terms of `analysis` holding the `documents` live documents stored
/// before seq `next_seq`.
pub(super) fn write_tracker(
    dir: &Path,
    generation: u64,
    analysis: StoryAnalysis,
    (next_seq, documents): (u64, u64),
    columns: &impl TrackerSource,
    story_seqs: &[u64],
) -> Result<TrackerFile> {
    let c = columns;
    let (counted, own_counted) = c.counted();
    let meta = TrackerMeta {
        analysis,
        next_seq,
        documents,
        counted,
        own_counted,
    };
    let meta = crate::persist::encode_meta(&meta)?;
    let sums = c.sum_ends().last().map_or(0, |&end| end as usize);
    let (posting_terms, postings) = c.posting_counts();
    let len = |n: usize, width: usize| PayloadStream::<File>::section_len(n, width);
    let payload = len(meta.len(), 1)
        + len(c.hashes().len(), 8)
        + len(c.df().len(), 4)
        + len(c.own_df().len(), 4)
        + len(story_seqs.len(), 8)
        + len(c.story_sizes().len(), 4)
        + len(c.story_latest().len(), 8)
        + len(c.sum_ends().len(), 8)
        + len(sums, 4)
        + len(sums, 4)
        + len(posting_terms, 8)
        + len(postings, 4)
        + len(c.holding().len(), 4);
    let name = tracker_name(generation);
    let path = dir.join(&name);
    let mut file = AtomicFile::create(&path)?;
    let mut w = PayloadStream::new(
        file.writer(),
        &path,
        ContentKind::StoryTracker,
        TRACKER_VERSION,
        payload,
    )?;
    w.bytes(&meta)?;
    w.u64s(c.hashes())?;
    w.u32s(c.df())?;
    w.u32s(c.own_df())?;
    w.u64s(story_seqs)?;
    w.u32s(c.story_sizes())?;
    w.i64s(c.story_latest())?;
    w.u64s(c.sum_ends())?;
    w.u32s_of(sums, c.sum_terms())?;
    w.f32s_of(sums, c.sum_weights())?;
    w.u64s_of(posting_terms, c.posting_ends())?;
    w.u32s_of(postings, c.postings())?;
    w.u32s(c.holding())?;
    w.finish()?;
    file.commit()?;
    Ok(TrackerFile {
        name,
        next_seq,
        documents,
    })
}

/// Reads the story tracker file `file` of `dir`, of terms of `analysis`: its columns
/// (their story keys left empty) and the seq keying each story.
pub(super) fn read_tracker(
    dir: &Path,
    file: &TrackerFile,
    analysis: StoryAnalysis,
) -> Result<(TrackerColumns, Vec<u64>)> {
    let path = dir.join(&file.name);
    let bytes = Bytes::map(&path)?;
    let (_, mut r) =
        PayloadReader::open(&path, &bytes, ContentKind::StoryTracker, &[TRACKER_VERSION])?;
    let meta = r.meta::<TrackerMeta>()?;
    if meta.analysis != analysis
        || meta.next_seq != file.next_seq
        || meta.documents != file.documents
    {
        return Err(r.inconsistent("a story tracker not of the documents the manifest names"));
    }
    let mut columns = TrackerColumns {
        documents: meta.counted,
        own_documents: meta.own_counted,
        hashes: r.u64s()?,
        df: r.u32s()?,
        own_df: r.u32s()?,
        ..TrackerColumns::default()
    };
    let story_seqs = r.u64s()?;
    columns.story_sizes = r.u32s()?;
    columns.story_latest = r.i64s()?;
    columns.sum_ends = r.u64s()?;
    columns.sum_terms = r.u32s()?;
    columns.sum_weights = r.f32s()?;
    columns.posting_ends = r.u64s()?;
    columns.postings = r.u32s()?;
    columns.holding = r.u32s()?;
    r.finish()?;
    Ok((columns, story_seqs))
}

/// Writes a new file durably (temporary file, fsync, rename, directory fsync).
fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    io::Write::write_all(file.writer(), bytes).map_err(|e| Error::io(path, e))?;
    file.commit()
}

/// Writes the segment `builder` holds as `dir/name`; returns its size in bytes.
pub(super) fn write_segment(dir: &Path, name: &str, builder: SegmentBuilder) -> Result<u64> {
    let path = dir.join(name);
    let mut file = AtomicFile::create(&path)?;
    let len = builder
        .write(file.writer())
        .map_err(|e| Error::io(&path, e))?;
    file.commit()?;
    Ok(len)
}

/// Writes a segment's deletion list (sorted local numbers).
pub(super) fn write_deletes(dir: &Path, name: &str, locals: &[u32]) -> Result<()> {
    let mut w = PayloadWriter::default();
    w.u32s(locals);
    write_durably(&dir.join(name), &w.finish(ContentKind::Deletes, 1))
}

/// Reads a segment's deletion list, checked against its `docs` documents.
pub(super) fn read_deletes(dir: &Path, name: &str, docs: usize, expected: u64) -> Result<Vec<u32>> {
    let path = dir.join(name);
    let bytes = read_small(&path, docs as u64 * 4 + 64)?;
    let (_, mut r) = PayloadReader::open(&path, &bytes, ContentKind::Deletes, &[1])?;
    let locals = r.u32s()?;
    r.finish()?;
    let ordered = locals.windows(2).all(|w| w[0] < w[1]);
    if !ordered
        || locals.last().is_some_and(|&l| l as usize >= docs)
        || locals.len() as u64 != expected
    {
        return Err(r_inconsistent(
            &path,
            "a deletion list does not match its segment",
        ));
    }
    Ok(locals)
}

fn r_inconsistent(path: &Path, what: &str) -> Error {
    Error::Index {
        path: path.to_path_buf(),
        problem: format!("inconsistent index: {what}"),
    }
}

/// Opens the segments a manifest names.
pub(super) fn open_segments(dir: &Path, manifest: &Manifest, bands: usize) -> Result<Vec<Segment>> {
    manifest
        .segments
        .iter()
        .map(|entry| {
            let segment = Segment::open(&dir.join(&entry.name), bands, manifest.params.num_perm)?;
            if segment.docs() as u64 != entry.docs {
                return Err(r_inconsistent(
                    segment.path(),
                    "the segment's document count differs from the manifest's",
                ));
            }
            Ok(segment)
        })
        .collect()
}

/// Removes what a commit or a crash left that the manifest does not name: segments and
/// deletion lists of earlier generations, and temporary files. Only under the lock.
pub(super) fn remove_unreferenced(dir: &Path, manifest: &Manifest) -> Result<()> {
    let referenced: std::collections::HashSet<&str> = manifest
        .segments
        .iter()
        .flat_map(|s| std::iter::once(s.name.as_str()).chain(s.deletes.as_deref()))
        .chain(manifest.line_tally.as_deref())
        .chain(manifest.story_background.as_ref().map(|b| b.name.as_str()))
        .chain(manifest.story_tracker.as_ref().map(|t| t.name.as_str()))
        .collect();
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = is_segment_name(name)
            || is_deletes_name(name)
            || is_tally_name(name)
            || is_background_name(name)
            || is_tracker_name(name)
            || (name.starts_with('.') && name.contains(".tmp-"));
        if ours && !referenced.contains(name) {
            // A file that cannot be removed now is removed by a later commit.
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// Creates the index directory `dir` with `manifest`, atomically: it is built under a
/// temporary name and renamed into place, so a crash leaves no half-made index, and an
/// existing path is never replaced.
pub(super) fn create_dir(
    dir: &Path,
    manifest: &Manifest,
    fill: impl FnOnce(&Path, &mut Manifest) -> Result<()>,
) -> Result<Manifest> {
    if fs::symlink_metadata(dir).is_ok() {
        return Err(Error::io(
            dir,
            io::Error::new(io::ErrorKind::AlreadyExists, "already exists"),
        ));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .ok_or_else(|| Error::io(dir, io::Error::other("not a directory name")))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".tmp-{}", std::process::id()));
    let temporary = parent.join(temporary_name);
    let _ = fs::remove_dir_all(&temporary);
    fs::create_dir(&temporary).map_err(|e| Error::io(dir, e))?;
    let result = (|| {
        let mut manifest = manifest.clone();
        fill(&temporary, &mut manifest)?;
        write_manifest(&temporary, &manifest)?;
        File::create(temporary.join(LOCK)).map_err(|e| Error::io(dir, e))?;
        // A rename onto a path created meanwhile fails (an empty directory would be
        // replaced: refuse that too, by checking again).
        if fs::symlink_metadata(dir).is_ok() {
            return Err(Error::io(
                dir,
                io::Error::new(io::ErrorKind::AlreadyExists, "already exists"),
            ));
        }
        fs::rename(&temporary, dir).map_err(|e| Error::io(dir, e))?;
        if let Ok(parent) = File::open(&parent) {
            let _ = parent.sync_all();
        }
        Ok(manifest)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&temporary);
    }
    result
}

/// The one writer's lock on an index directory: `flock` on its `LOCK` file, released
/// when dropped or when the process ends (however it ends). The lock is on the
/// directory's own file, so every name of the index (a symbolic link, a relative path)
/// takes the same lock.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
    dir: PathBuf,
}

impl WriterLock {
    /// Waits for and takes the writer lock of the index directory `dir`; `on_wait` is
    /// called once if another writer holds it.
    pub(super) fn acquire(dir: &Path, on_wait: impl FnOnce(&Path)) -> Result<WriterLock> {
        let path = dir.join(LOCK);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                on_wait(&path);
                file.lock().map_err(|e| Error::io(&path, e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        Ok(WriterLock {
            _file: file,
            dir: dir.to_path_buf(),
        })
    }

    /// The locked directory.
    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_names_a_commit_writes_are_the_indexs_files() {
        for ours in [
            "seg-0000000007.seg",
            "seg-0000000007.del-9",
            "lines-0000000009.tally",
            "background-0000000001.df",
        ] {
            assert!(
                is_segment_name(ours)
                    || is_deletes_name(ours)
                    || is_tally_name(ours)
                    || is_background_name(ours),
                "{ours}"
            );
        }
        for other in [
            "seg-.seg",
            "seg-7x.seg",
            "seg-7.seg.tmp",
            "seg-.del-9",
            "seg-7.del-",
            "seg-7.del-9x",
            "seg-7x.del-9",
            "x-seg-7.del-9",
            "lines-9.tally.bak",
            "background-.df",
            "notes.txt",
        ] {
            assert!(
                !(is_segment_name(other)
                    || is_deletes_name(other)
                    || is_tally_name(other)
                    || is_background_name(other)),
                "{other}"
            );
        }
    }
}
