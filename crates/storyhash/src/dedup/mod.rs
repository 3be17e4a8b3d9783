//! Corpus deduplication at scale: stream the input, keep one document per cluster of
//! near-duplicates, and say what was removed and why. Memory is bounded by what is kept
//! per document, never by the text:
//!
//! 1. **Sign** (pass 1): read records in batches, parse (borrowing the text from the
//!    read buffer) and analyze them in parallel, and keep per document only its id, where
//!    its record is, its publication time, its LSH band keys (4 bytes per band) and the
//!    low byte of each signature value (k bytes) and a fingerprint of its shingle
//!    hashes: 4·b + k + 80 bytes plus the id, and 9 to 18 bytes of the table that
//!    refuses repeated ids (it holds document numbers and id hashes, not ids): about 390 + id bytes
//!    with the `dup` preset's 42 bands and k = 128. Bad records become warnings.
//!    Within [`DedupOptions::set_memory`], the first documents' shingle hashes are held
//!    too (4 bytes per shingle), so that pass 2 need not read them again.
//! 2. **Band**: candidate pairs from the band keys (`lsh::BandKeys`); pairs whose
//!    signatures agree in fewer than threshold − 0.25 of their low bytes (at k = 128;
//!    the margin widens as √(1/k)) are dismissed (b-bit MinHash; a pair at the
//!    threshold falls that low with probability below 10^-8), which spares the exact
//!    work for chance collisions on shared boilerplate.
//! 3. **Verify** (pass 2): compute the exact shingle sets of the documents left in some
//!    candidate pair only, as sorted 32-bit hashes (identical sets stored once; of
//!    documents with one fingerprint, exact copies of a text, only the first is built
//!    and the others take its set). Held hashes are sorted where they are; the other
//!    records are read again: from uncompressed files, when they are under half of the
//!    input, each at its offset, in parallel; otherwise by streaming the input again
//!    (no second read at all when every candidate was held). Score every candidate
//!    pair by exact Jaccard (1 without a merge for two documents holding one stored
//!    set) and keep those at or above the threshold.
//!    (32-bit hashes make a false shared shingle between two news-sized documents a
//!    one-in-20,000 event, moving J by 1/900 when it happens.)
//! 4. **Cluster**: connected components; the [`crate::KeepPolicy`] picks the kept member.
//! 5. **Write** (pass 3): read the input once more and copy each kept record's original
//!    line unchanged (a `.txt` or `.html` document becomes a JSON line with `id` and
//!    `text`); a Parquet input's kept rows go out as Parquet with its schema, or as JSON
//!    lines ([`KeptFormat`]).
//!
//! Every pass reads the same records in the same order, so inputs must be re-readable:
//! files, not pipes (the CLI spools standard input to a temporary file first). A record
//! that reads differently in a later pass stops the run ([`Error::InputChanged`]).

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;
use std::io::Write;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::cluster::{connected_components, kept_of, DocFacts};
use crate::doc::{parse_published, DocIndex};
use crate::error::{Error, InputProblem, Location, Result, Warning};
use crate::input::{
    parse_fields, parse_record, Batch, FileKind, InputFile, ReadOptions, RecordMeta, RecordReader,
    MAX_READ,
};
use crate::lsh::{band_keys_to, BandKeys, LshParams};
use crate::minhash::{fmix64, low_byte_agreement, MinHasher, Prefilter, Prehashed};
use crate::pipeline::{Analyzer, Params, Scratch};
use crate::shingle::{into_hash_set, jaccard_u32, set_element};
use crate::verify::ScoredPair;

mod collect;
mod sets;
mod sign;
mod signer;
mod write;

use collect::*;
use sets::*;
use sign::*;
pub use signer::{DocSigner, SignedText, SignerScratch};
use write::*;
pub use write::{write_pair_lines, KeptFormat};

/// Records per batch: large enough to amortise the parallel fan-out (a few microseconds
/// against milliseconds of work), small enough that a batch of news articles stays
/// within a few megabytes and that the first read and the last merge, which nothing
/// overlaps, stay a small part of a small input (2,048 against 8,192: 5-15% more
/// documents/s on 22,600 articles, interleaved runs).
const BATCH_RECORDS: usize = 2048;
const BATCH_BYTES: usize = 8 << 20;

/// Default of [`DedupOptions::set_memory`]: 512 MiB holds the shingle hashes of about
/// 290,000 news articles (4 bytes per shingle, ~460 shingles each), so a corpus of that
/// size is never re-read for verification, while a 1M-document run stays well under
/// 2 GB at its peak.
pub const DEFAULT_SET_MEMORY: usize = 512 << 20;

/// What a dedup run needs besides its input.
#[derive(Debug, Clone)]
pub struct DedupOptions {
    /// Pipeline parameters (shingles, threshold, MinHash, banding, keep policy).
    pub params: Params,
    /// How records are read.
    pub read: ReadOptions,
    /// Bytes of shingle hashes pass 1 may hold for pass 2, 4 per shingle, for the
    /// documents in input order until the next one would pass this bound. Pass 2 builds
    /// the exact sets of held candidates from memory and re-reads only the others; 0
    /// re-reads every candidate. Outputs do not depend on it, only time and memory.
    pub set_memory: usize,
    /// Bytes pass 1's per-document tables may take (about 450 bytes a document plus
    /// its id at the default parameters: see [`DedupSummary::table_bytes`]); a run
    /// that would pass it stops with [`Error::MemoryLimit`] as soon as it does, rather
    /// than growing until the allocator aborts. None: no limit.
    pub memory_limit: Option<u64>,
}

impl DedupOptions {
    /// Options with the default [`DedupOptions::set_memory`] and no memory limit.
    pub fn new(params: Params, read: ReadOptions) -> Self {
        DedupOptions {
            params,
            read,
            set_memory: DEFAULT_SET_MEMORY,
            memory_limit: None,
        }
    }
}

/// The memory this process may use, as far as the system says: the smaller of the
/// memory available now (`MemAvailable` in `/proc/meminfo`) and the control group's
/// limit (`memory.max`, cgroup v2). None where neither can be read.
pub fn available_memory() -> Option<u64> {
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            kib.checked_mul(1024)
        });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|max| max.trim().parse::<u64>().ok());
    match (available, cgroup) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

/// Where the results go; each is optional.
#[derive(Default)]
pub struct DedupOutputs<'a> {
    /// Kept records, one per line, as they were in the input.
    pub kept: Option<&'a mut (dyn Write + Send)>,
    /// One JSON line per removed document: `{"id", "duplicate_of", "jaccard"}`.
    pub removed: Option<&'a mut (dyn Write + Send)>,
    /// One JSON line per cluster of two or more: `{"cluster", "kept", "size", "members"}`.
    pub clusters: Option<&'a mut (dyn Write + Send)>,
    /// One JSON line per verified pair: `{"a", "b", "jaccard"}`, ids in input order.
    pub pairs: Option<&'a mut (dyn Write + Send)>,
    /// One JSON line per document with shingles and band: `{"id", "band", "key"}`
    /// ([`crate::tables::Table::Bands`]), documents in input order.
    pub bands: Option<&'a mut (dyn Write + Send)>,
    /// How the kept records are written.
    pub kept_format: KeptFormat,
    /// What errors call each output.
    pub names: OutputNames,
}

/// The names error messages give the outputs: their paths, where there are paths.
#[derive(Debug, Clone)]
pub struct OutputNames {
    /// The kept records' output.
    pub kept: std::path::PathBuf,
    /// The removed documents' output.
    pub removed: std::path::PathBuf,
    /// The clusters' output.
    pub clusters: std::path::PathBuf,
    /// The pairs' output.
    pub pairs: std::path::PathBuf,
    /// The band rows' output.
    pub bands: std::path::PathBuf,
}

impl Default for OutputNames {
    fn default() -> Self {
        OutputNames {
            kept: "<kept records>".into(),
            removed: "<removed documents>".into(),
            clusters: "<clusters>".into(),
            pairs: "<pairs>".into(),
            bands: "<band rows>".into(),
        }
    }
}

/// Which pass a progress report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Reading and signing.
    Sign,
    /// Re-reading candidates and verifying pairs.
    Verify,
    /// Writing kept records.
    Write,
}

/// How far a run has come, reported after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The pass.
    pub pass: Pass,
    /// Input records behind this point of the pass (skipped ones included). Pass 1's
    /// final count is the input's: passes 2 and 3 count towards it.
    pub records: u64,
    /// Input bytes read so far in pass 1 (decompressed), to measure against the input's
    /// size when it is known; 0 in the later passes.
    pub bytes: u64,
}

impl Progress {
    fn of(pass: Pass, records: u64) -> Progress {
        Progress {
            pass,
            records,
            bytes: 0,
        }
    }
}

/// Counts and parameters of a finished run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DedupSummary {
    /// The version of this JSON shape ([`crate::report::SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Records read (documents plus skipped records).
    pub records: u64,
    /// Documents accepted.
    pub documents: u64,
    /// Documents kept (written).
    pub kept: u64,
    /// Documents removed as duplicates of a kept one.
    pub removed: u64,
    /// Clusters with two or more members.
    pub clusters: u64,
    /// Distinct candidate pairs from LSH.
    pub candidate_pairs: u64,
    /// Candidate pairs dismissed without exact verification because the low bytes of
    /// their signatures agree in fewer than threshold − 0.25 of the positions at k = 128
    /// (5.66 standard deviations of the estimate for any k; pairs with a document of
    /// fewer shingles than signature values are always verified).
    pub dismissed_by_estimate: u64,
    /// Candidate pairs at or above the threshold.
    pub verified_pairs: u64,
    /// Documents whose shingle hashes pass 1 held in memory for pass 2 (among the first
    /// ones in input order, within [`DedupOptions::set_memory`]; one per exactly
    /// repeated text).
    pub held_documents: u64,
    /// Documents re-read in pass 2 for their exact shingle sets (those in a candidate
    /// pair that survived the prefilter and whose hashes were not held, one per group of
    /// documents whose shingle hashes are the same: exact copies of one text).
    pub reanalyzed_documents: u64,
    /// Exact copies: documents with the shingle hashes of an earlier document, which
    /// join it with Jaccard 1 without being banded or verified.
    pub exact_copies: u64,
    /// Whether pass 2 read those documents at their offsets (uncompressed files, and
    /// less than half of the input to re-read) rather than streaming the input again.
    pub candidates_read_by_offset: bool,
    /// Documents whose text normalizes to nothing (never candidates, always kept).
    pub featureless_documents: u64,
    /// LSH buckets expanded through pivots only.
    pub oversized_buckets: u64,
    /// Skipped records by reason.
    pub skipped_by_reason: BTreeMap<&'static str, u64>,
    /// Documents kept without a publication time because theirs could not be read.
    pub unreadable_dates: u64,
    /// Documents with a publication time (what `--keep earliest` ranks by).
    pub dated_documents: u64,
    /// Bytes of input read in the first pass.
    pub bytes_read: u64,
    /// Bytes pass 1's per-document tables held at its end (what a run needs per
    /// document: this over `documents`).
    pub table_bytes: u64,
    /// Bands × rows used.
    pub lsh: Option<LshParams>,
    /// Wall-clock seconds per stage (the only figures here that vary between runs).
    pub seconds: StageSeconds,
}

/// Wall-clock seconds spent in each stage.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageSeconds {
    /// Pass 1: read, parse, analyze, sign, band keys.
    pub sign: f64,
    /// Candidate pairs from band keys.
    pub band: f64,
    /// Pass 2 and exact verification.
    pub verify: f64,
    /// Clustering, the removed and clusters files, and pass 3.
    pub write: f64,
}

impl DedupSummary {
    /// Records skipped as bad input.
    pub fn skipped(&self) -> u64 {
        self.skipped_by_reason.values().sum()
    }
}

/// Deduplicates `files`. `on_warning` sees each skipped record; `on_progress` sees the
/// pass and the records done so far after each batch.
pub fn dedup(
    mut files: Vec<InputFile>,
    options: &DedupOptions,
    mut outputs: DedupOutputs<'_>,
    on_warning: &mut (dyn FnMut(&Warning) + Send),
    on_progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<DedupSummary> {
    if files.iter().any(|f| f.stdin) {
        return Err(Error::InvalidParams(
            "dedup reads its input several times; spool standard input to a file first".into(),
        ));
    }
    // A named pipe (or a device) gives its bytes once: the second pass would wait for
    // a writer or read something else. The sizes, when every file has one, help size
    // pass 1's tables ([`expected_records`]).
    let mut input_bytes = Some(0u64);
    for file in &files {
        match std::fs::metadata(&file.path) {
            Ok(meta) if !meta.is_file() => {
                return Err(Error::InvalidParams(format!(
                    "{}: dedup reads its input several times, and this is not a regular \
                     file (a pipe or a device); copy it to a file first",
                    crate::error::shown(&file.label)
                )));
            }
            Ok(meta) => input_bytes = input_bytes.map(|total| total + meta.len()),
            // Left for the read to report.
            Err(_) => input_bytes = None,
        }
    }
    // The list may have been built file by file (the CLI resolves each argument alone).
    crate::input::distinguish_id_bases(&mut files);
    let params = &options.params;
    let lsh = params.lsh()?;
    let k = params.num_perm;
    let mut summary = DedupSummary {
        schema_version: crate::report::SCHEMA_VERSION,
        lsh: Some(lsh),
        ..DedupSummary::default()
    };
    let stage = Stage {
        files: &files,
        options,
        lsh,
        signer: DocSigner::new(params)?,
    };
    // At their full size from the start: grown by doubling, each buffer would be copied
    // into fresh pages five times over during the first batches.
    let mut buffers = [(); 2].map(|()| Batch::with_capacity(BATCH_BYTES + MAX_READ));

    let mut clock = Instant::now();
    let lap = |clock: &mut Instant| {
        let seconds = clock.elapsed().as_secs_f64();
        *clock = Instant::now();
        seconds
    };
    let collected = sign(
        &stage,
        input_bytes,
        &mut buffers,
        &mut summary,
        on_warning,
        on_progress,
    )?;
    let Collected {
        docs,
        keys,
        low_bytes,
        held,
        featureless,
        skipped_by_reason,
        unreadable_dates,
        first_with,
        copies,
        ..
    } = collected;
    drop(first_with);
    summary.featureless_documents = featureless;
    summary.skipped_by_reason = skipped_by_reason;
    summary.unreadable_dates = unreadable_dates;
    summary.dated_documents = docs.iter().filter(|d| d.published.is_some()).count() as u64;
    summary.exact_copies = copies.len() as u64;
    summary.documents = docs.len() as u64;
    summary.seconds.sign = lap(&mut clock);

    // Band, then dismiss the candidates whose signatures say they are far below the
    // threshold (chance collisions, mostly shared boilerplate) before any exact work.
    // A pair at the threshold agrees in about J + (1 − J)/256 of its low bytes, with a
    // standard deviation of at most √(0.25/k) (0.044 at k = 128): the margin is 5.66
    // of those.
    if let Some(out) = outputs.bands.as_mut() {
        write_band_rows(&mut **out, &outputs.names.bands, &docs, &keys, &copies)?;
    }
    // Pivots by id, as in every path: the clusters do not depend on the input's order.
    let ranks = crate::lsh::id_ranks(docs.len(), |d| &docs[d].id, copies.iter().copied());
    let mut candidates = keys.candidate_pairs_ranked(|doc| ranks[doc as usize]);
    drop((keys, ranks));
    summary.candidate_pairs = candidates.pairs.len() as u64;
    summary.oversized_buckets = candidates.oversized_buckets as u64;
    let low_bytes_of = |d: DocIndex| &low_bytes[d as usize * k..(d as usize + 1) * k];
    candidates.pairs = candidates
        .pairs
        .par_iter()
        .copied()
        .filter(|&(a, b)| {
            let (a, b) = (a as usize, b as usize);
            stage.signer.survives_prefilter(
                docs[a].prefiltered,
                low_bytes_of(a as DocIndex),
                docs[b].prefiltered,
                low_bytes_of(b as DocIndex),
            )
        })
        .collect();
    drop(low_bytes);
    summary.dismissed_by_estimate = summary.candidate_pairs - candidates.pairs.len() as u64;
    let mut needed = vec![false; docs.len()];
    for &(a, b) in &candidates.pairs {
        needed[a as usize] = true;
        needed[b as usize] = true;
    }

    // Held hashes of documents in no pair are freed now; the others are taken below.
    // A needed document holding none (a copy whose held original is in no pair) is
    // read again.
    summary.held_documents = held.iter().filter(|h| !h.is_empty()).count() as u64;
    // In parallel: freeing the two thirds of the sets that are in no pair took a
    // thread a millisecond or two.
    let from_memory: Vec<(usize, Box<[u32]>)> = held
        .into_par_iter()
        .enumerate()
        .filter(|(d, hashes)| needed[*d] && !hashes.is_empty())
        .collect();
    for &(d, _) in &from_memory {
        needed[d] = false;
    }
    summary.reanalyzed_documents = needed.iter().filter(|&&n| n).count() as u64;
    summary.seconds.band = lap(&mut clock);

    // Pass 2: exact shingle sets of candidate documents (from held hashes, or read
    // again), then verification.
    let sets = exact_sets(
        &stage,
        &docs,
        &needed,
        from_memory,
        &mut buffers,
        &mut summary,
        on_progress,
    )?;
    // A copy's set is its first document's: two documents with one owner are copies.
    let mut owner: Vec<DocIndex> = (0..docs.len() as DocIndex).collect();
    for &(copy, first) in &copies {
        owner[copy as usize] = first;
    }
    let exact_jaccard = |a: DocIndex, b: DocIndex| {
        let (a, b) = (owner[a as usize], owner[b as usize]);
        if a == b {
            1.0
        } else {
            jaccard_u32(sets.get(a), sets.get(b))
        }
    };
    let mut pairs: Vec<ScoredPair> = candidates
        .pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let j = exact_jaccard(a, b);
            (j >= params.threshold).then_some(ScoredPair { a, b, jaccard: j })
        })
        .collect();
    pairs.extend(
        copies
            .iter()
            .map(|&(copy, first)| ScoredPair::copy(first, copy)),
    );
    pairs.par_sort_unstable_by_key(|p| (p.a, p.b));
    summary.verified_pairs = pairs.len() as u64;
    summary.seconds.verify = lap(&mut clock);

    // Cluster.
    let facts = DocFacts {
        lengths: docs.iter().map(|d| d.text_len as usize).collect(),
        published: docs.iter().map(|d| d.published).collect(),
    };
    let clusters = connected_components(docs.len(), &pairs, &facts, params.keep);
    let kept_of = kept_of(docs.len(), &clusters);
    summary.clusters = clusters.iter().filter(|c| c.members.len() > 1).count() as u64;
    summary.removed = kept_of
        .iter()
        .enumerate()
        .filter(|&(d, &k)| d != k as usize)
        .count() as u64;
    summary.kept = summary.documents - summary.removed;

    write_lists(
        &mut outputs,
        &docs,
        &kept_of,
        &pairs,
        &clusters,
        exact_jaccard,
    )?;

    // Pass 3: write kept records as they were.
    if let Some(out) = outputs.kept.as_mut() {
        let kept = Kept {
            files: &files,
            docs: &docs,
            kept_of: &kept_of,
            records: summary.records,
        };
        write_kept(
            &mut **out,
            &outputs.names.kept,
            kept,
            &options.read,
            outputs.kept_format,
            &mut buffers,
            on_progress,
        )?;
    }
    summary.seconds.write = lap(&mut clock);
    Ok(summary)
}

/// Calls `process` on each batch of records while the next batch is read on another
/// thread, so that reading and decompression overlap with parsing and hashing.
/// `buffers` are reused from pass to pass: allocating and faulting in tens of megabytes
/// afresh for every pass cost as much as a pass's reading.
fn for_each_batch(
    mut reader: RecordReader,
    buffers: &mut [Batch; 2],
    mut process: impl FnMut(&Batch) -> Result<()> + Send,
) -> Result<()> {
    let [current, next] = buffers;
    if !reader.next_batch(current, BATCH_RECORDS, BATCH_BYTES)? {
        return Ok(());
    }
    loop {
        let (read, processed) = rayon::join(
            || reader.next_batch(next, BATCH_RECORDS, BATCH_BYTES),
            || process(current),
        );
        processed?;
        if !read? {
            return Ok(());
        }
        std::mem::swap(current, next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_table_refuses_exactly_the_repeated_ids_as_it_grows() {
        let files = vec![InputFile::from_path(std::path::Path::new("feed.jsonl")).expect("kind")];
        let entry = |id: String| DocEntry {
            id: id.into(),
            record: 0,
            file: 0,
            line: 1,
            offset: 0,
            length: 0,
            text_len: 0,
            published: None,
            prefiltered: false,
            fingerprint: 0,
            checksum: 0,
        };
        // With every hash equal, every lookup has to compare ids.
        for all_collide in [false, true] {
            let mut ids = DocIds::default();
            let mut docs: Vec<DocEntry> = Vec::new();
            let hash_of = |ids: &DocIds, id: &str| {
                if all_collide {
                    7
                } else {
                    id_hash(ids.seed, id)
                }
            };
            for n in 0..2_000u32 {
                let doc = entry(format!("doc-{n}"));
                let hash = hash_of(&ids, &doc.id);
                assert!(
                    ids.check(&docs, &doc, hash, &files).is_ok(),
                    "doc-{n} is new"
                );
                docs.push(doc);
                ids.insert(n, hash);
            }
            for n in (0..2_000u32).step_by(199) {
                let again = entry(format!("doc-{n}"));
                let hash = hash_of(&ids, &again.id);
                let warning = ids
                    .check(&docs, &again, hash, &files)
                    .expect_err("repeated");
                assert!(
                    warning.to_string().contains(&format!("\"doc-{n}\"")),
                    "{warning}"
                );
            }
        }
    }

    #[test]
    fn record_count_is_estimated_from_the_first_batch_of_uncompressed_files() {
        // 41,000 bytes of input: 1,000 records of 40 bytes and a newline; the first batch
        // saw 10 of them.
        let batch = Batch {
            data: vec![b'x'; 400],
            records: (0..10)
                .map(|i| crate::input::RecordMeta {
                    file: 0,
                    line: i + 1,
                    range: 0..40,
                    offset: 41 * i,
                    problem: None,
                })
                .collect(),
        };
        let files =
            |name: &str| vec![InputFile::from_path(std::path::Path::new(name)).expect("kind")];
        let expected = expected_records(&files("feed.jsonl"), 41_000, &batch).expect("an estimate");
        assert!((1_000..=1_100).contains(&expected), "{expected}");
        // A compressed file's size says nothing of its records; no batch, no estimate.
        assert_eq!(
            expected_records(&files("feed.jsonl.gz"), 41_000, &batch),
            None
        );
        let empty = Batch::default();
        assert_eq!(expected_records(&files("feed.jsonl"), 41_000, &empty), None);
    }

    #[test]
    fn pass_two_chunks_hold_few_files() {
        // Documents 0..10 in files 0,0,1,1,2,3,3,4,5,6.
        let file_of_doc = [0u32, 0, 1, 1, 2, 3, 3, 4, 5, 6];
        let docs: Vec<usize> = (0..file_of_doc.len()).collect();
        let chunks = chunks_of_few_files(&docs, |d| file_of_doc[d], 3);
        let expected: Vec<&[usize]> = vec![&[0, 1, 2, 3, 4], &[5, 6, 7, 8], &[9]];
        assert_eq!(chunks, expected);
        let many = chunks_of_few_files(&docs, |_| 0, 3);
        assert_eq!(many, vec![&docs[..]]);
        assert!(chunks_of_few_files(&[], |_| 0, 3).is_empty());
    }

    #[test]
    fn output_lines_are_json_objects_with_sorted_keys() {
        let mut out = Vec::new();
        let removed = RemovedLine {
            duplicate_of: "wire \"AP\" 1",
            id: "نسخة",
            jaccard: 1.0,
        };
        write_json_line(&mut out, &removed).expect("in memory");
        let members = ["a", "b\\c"];
        let cluster = ClusterLine {
            cluster: 0,
            kept: "a",
            members: &members,
            size: 2,
        };
        write_json_line(&mut out, &cluster).expect("in memory");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "{\"duplicate_of\":\"wire \\\"AP\\\" 1\",\"id\":\"نسخة\",\"jaccard\":1.0}\n\
             {\"cluster\":0,\"kept\":\"a\",\"members\":[\"a\",\"b\\\\c\"],\"size\":2}\n"
        );
    }

    #[test]
    fn a_record_that_no_longer_parses_is_reported_as_changed_input() {
        let file = InputFile::from_path(std::path::Path::new("feed.jsonl")).expect("jsonl");
        let entry = DocEntry {
            id: "a".into(),
            record: 3,
            file: 0,
            line: 7,
            offset: 120,
            length: 4,
            text_len: 4,
            published: None,
            prefiltered: true,
            fingerprint: 0,
            // The bytes pass 1 read: the change is in how they parse.
            checksum: record_checksum(b"{\"te"),
        };
        let err = reparse(&file, &entry, b"{\"te", &ReadOptions::default())
            .expect_err("a cut record does not parse");
        assert!(matches!(err, Error::InputChanged { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("feed.jsonl:7: the input changed while it was being read"),
            "{err}"
        );
    }

    /// Takes at most `limit` bytes per call, and from the first slice only (the default
    /// `write_vectored`), as a pipe or a writer without vectored writes may.
    struct Trickle {
        written: Vec<u8>,
        limit: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.limit);
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn kept_runs_write_each_record_and_a_newline_whatever_lies_between() {
        // Records a..e as the reader leaves them: CRLF endings trimmed from the ranges,
        // a record (c) the run must skip, a line whose newline is missing (d, the end of
        // one file) before the next file's first line.
        let data = b"{\"a\":1}\n{\"b\":2}\r\n{\"c\":3}\n{\"d\":4}{\"e\":5}\n";
        let ranges = [0..7, 8..15, 17..24, 25..32, 32..39];
        let kept = [0, 1, 3, 4];
        let mut expected = Vec::new();
        for &i in &kept {
            expected.extend_from_slice(&data[ranges[i].clone()]);
            expected.push(b'\n');
        }
        for limit in [1, 3, 1 << 20] {
            let mut runs = KeptRuns::new(data);
            for &i in &kept {
                runs.push(ranges[i].clone());
            }
            let mut out = Trickle {
                written: Vec::new(),
                limit,
            };
            runs.write(&mut out).expect("write");
            assert_eq!(out.written, expected, "limit {limit}");
            // The runs are forgotten once written.
            runs.write(&mut out).expect("write");
            assert_eq!(out.written, expected, "limit {limit}");
        }
        let mut runs = KeptRuns::new(data);
        runs.push(0..7);
        runs.push(8..15);
        assert_eq!(runs.runs.len(), 1, "adjacent lines join one run");
        assert_eq!(runs.runs[0], 0..15);
    }
}
