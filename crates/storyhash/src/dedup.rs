//! Corpus deduplication at scale: stream the input, keep one document per cluster of
//! near-duplicates, and say what was removed and why. Memory is bounded by what is kept
//! per document, never by the text:
//!
//! 1. **Sign** (pass 1): read records in batches, parse and analyze them in parallel,
//!    and keep per document only its id, length, publication time and LSH band keys
//!    (4 bytes per band key, 44 for the rest, plus the id's bytes: 212 + id with the
//!    `dup` preset's 42 bands). Bad records become warnings.
//! 2. **Band**: candidate pairs from the band keys ([`crate::lsh::BandKeys`]).
//! 3. **Verify** (pass 2): read the input again and compute the exact shingle sets of
//!    the documents in some candidate pair only, as sorted 32-bit hashes (identical sets
//!    stored once); score every candidate pair by exact Jaccard and keep those at or
//!    above the threshold. (32-bit hashes make a false shared shingle between two
//!    news-sized documents a one-in-20,000 event, moving J by 1/900 when it happens.)
//! 4. **Cluster**: connected components; the [`crate::KeepPolicy`] picks the kept member.
//! 5. **Write** (pass 3): read the input once more and copy each kept record's original
//!    line unchanged (a `.txt` document becomes a JSON line with `id` and `text`).
//!
//! Every pass reads the same records in the same order, so inputs must be re-readable:
//! files, not pipes (the CLI spools standard input to a temporary file first).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::cluster::{connected_components, DocFacts};
use crate::doc::{parse_published, DocIndex};
use crate::error::{Error, Result, Warning};
use crate::input::{
    parse_record, Batch, FileKind, IdRegistry, InputFile, ReadOptions, RecordReader,
};
use crate::lsh::{band_keys_into, BandKeys, LshParams};
use crate::minhash::{fmix64, MinHasher};
use crate::pipeline::{Analyzer, Params, Scratch};
use crate::shingle::jaccard;
use crate::verify::ScoredPair;

/// Records per batch: large enough to amortise the parallel fan-out, small enough that a
/// batch of news articles stays within a few tens of megabytes.
const BATCH_RECORDS: usize = 8192;
const BATCH_BYTES: usize = 32 << 20;

/// What a dedup run needs besides its input.
#[derive(Debug, Clone)]
pub struct DedupOptions {
    /// Pipeline parameters (shingles, threshold, MinHash, banding, keep policy).
    pub params: Params,
    /// How records are read.
    pub read: ReadOptions,
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

/// Counts and parameters of a finished run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DedupSummary {
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
    /// Candidate pairs at or above the threshold.
    pub verified_pairs: u64,
    /// Documents whose text normalizes to nothing (never candidates, always kept).
    pub featureless_documents: u64,
    /// LSH buckets expanded through pivots only.
    pub oversized_buckets: u64,
    /// Skipped records by reason.
    pub skipped_by_reason: BTreeMap<&'static str, u64>,
    /// Bytes of input read in the first pass.
    pub bytes_read: u64,
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

/// `set_of_doc` value of a document that needs no shingle set.
const NO_SET: u32 = u32::MAX;

/// A parsed document (text dropped) and its band keys (None: no shingles).
type Signed = (crate::Document, Option<Vec<u32>>);

/// What pass 1 keeps per document.
struct DocEntry {
    id: Box<str>,
    record: u64,
    length: u32,
    published: Option<i64>,
}

/// Deduplicates `files`. `on_warning` sees each skipped record; `on_progress` sees the
/// pass and the records done so far after each batch.
pub fn dedup(
    files: Vec<InputFile>,
    options: &DedupOptions,
    mut outputs: DedupOutputs<'_>,
    on_warning: &mut (dyn FnMut(&Warning) + Send),
    on_progress: &mut (dyn FnMut(Pass, u64) + Send),
) -> Result<DedupSummary> {
    if files.iter().any(|f| f.stdin) {
        return Err(Error::InvalidParams(
            "dedup reads its input several times; spool standard input to a file first".into(),
        ));
    }
    let params = &options.params;
    let lsh = params.lsh()?;
    let analyzer = Analyzer::new(params);
    let hasher = MinHasher::with_kind(params.sketch, params.num_perm, params.seed);
    let mut summary = DedupSummary {
        lsh: Some(lsh),
        ..DedupSummary::default()
    };

    // Pass 1: sign.
    let mut clock = Instant::now();
    let lap = |clock: &mut Instant| {
        let seconds = clock.elapsed().as_secs_f64();
        *clock = Instant::now();
        seconds
    };
    let mut docs: Vec<DocEntry> = Vec::new();
    let mut keys = BandKeys::new(lsh.bands);
    let mut ids = IdRegistry::default();
    let reader = RecordReader::new(files.clone(), &options.read);
    for_each_batch(reader, |batch| {
        summary.bytes_read += batch.byte_len() as u64;
        let analyzed: Vec<Result<Signed, Warning>> = (0..batch.records.len())
            .into_par_iter()
            .map_init(
                || (Scratch::default(), vec![0u32; params.num_perm], Vec::new()),
                |(scratch, signature, band_keys), i| {
                    let meta = &batch.records[i];
                    let file = &files[meta.file];
                    let mut doc = parse_record(file, meta, batch.bytes(i), &options.read)?;
                    let mut sketch = hasher.sketch(signature);
                    let mut any = false;
                    analyzer.for_each_shingle_hash(&doc.text, scratch, |h| {
                        any = true;
                        sketch.add(h);
                    });
                    sketch.finish();
                    doc.text = String::new();
                    let keys = any.then(|| {
                        band_keys_into(signature, lsh, band_keys);
                        band_keys.clone()
                    });
                    Ok((doc, keys))
                },
            )
            .collect();
        for (i, result) in analyzed.into_iter().enumerate() {
            let record = summary.records + i as u64;
            let accepted = result.and_then(|(doc, band_keys)| {
                ids.check(&doc.id, &doc.location)?;
                Ok((doc, band_keys))
            });
            match accepted {
                Ok((doc, band_keys)) => {
                    let index = docs.len() as DocIndex;
                    match band_keys {
                        Some(k) => keys.push(index, &k),
                        None => summary.featureless_documents += 1,
                    }
                    docs.push(DocEntry {
                        id: doc.id.into_boxed_str(),
                        record,
                        length: u32::try_from(doc_length(batch, i)).unwrap_or(u32::MAX),
                        published: doc.published.as_deref().and_then(parse_published),
                    });
                }
                Err(warning) => {
                    if options.read.strict {
                        return Err(warning.into());
                    }
                    *summary
                        .skipped_by_reason
                        .entry(warning.problem.kind())
                        .or_insert(0) += 1;
                    on_warning(&warning);
                }
            }
        }
        summary.records += batch.records.len() as u64;
        on_progress(Pass::Sign, summary.records);
        if docs.len() > DocIndex::MAX as usize {
            return Err(Error::InvalidParams(format!(
                "at most {} documents per run",
                DocIndex::MAX
            )));
        }
        Ok(())
    })?;
    summary.documents = docs.len() as u64;
    summary.seconds.sign = lap(&mut clock);

    // Band.
    let candidates = keys.candidate_pairs();
    drop(keys);
    summary.candidate_pairs = candidates.pairs.len() as u64;
    summary.oversized_buckets = candidates.oversized_buckets as u64;
    let mut needed = vec![false; docs.len()];
    for &(a, b) in &candidates.pairs {
        needed[a as usize] = true;
        needed[b as usize] = true;
    }

    summary.seconds.band = lap(&mut clock);

    // Pass 2: exact shingle sets of candidate documents, then verification.
    // Shingle sets, interned: identical documents share one set, so a corpus of a
    // million copies of one article holds one set, not a million.
    let mut set_of_doc: Vec<u32> = vec![NO_SET; docs.len()];
    let mut unique_sets: Vec<Box<[u32]>> = Vec::new();
    let mut set_by_hash: HashMap<u64, Vec<u32>> = HashMap::new();
    if !candidates.pairs.is_empty() {
        let reader = RecordReader::new(files.clone(), &options.read);
        let mut next_doc = 0usize;
        let mut records_done = 0u64;
        for_each_batch(reader, |batch| {
            // Documents whose records fall in this batch, and where.
            let first_record = records_done;
            let end_record = records_done + batch.records.len() as u64;
            let mut wanted = Vec::new();
            while next_doc < docs.len() && docs[next_doc].record < end_record {
                if needed[next_doc] {
                    wanted.push((next_doc, (docs[next_doc].record - first_record) as usize));
                }
                next_doc += 1;
            }
            let computed: Vec<(usize, Vec<u32>)> = wanted
                .par_iter()
                .map_init(Scratch::default, |scratch, &(doc, i)| {
                    let meta = &batch.records[i];
                    let file = &files[meta.file];
                    let text = parse_record(file, meta, batch.bytes(i), &options.read)
                        .map(|d| d.text)
                        .unwrap_or_default();
                    let mut set: Vec<u32> = Vec::new();
                    analyzer.for_each_shingle_hash(&text, scratch, |h| set.push(h as u32));
                    set.sort_unstable();
                    set.dedup();
                    (doc, set)
                })
                .collect();
            for (doc, set) in computed {
                // Only to find equal sets quickly (equality is then checked), so a fold of
                // the already-random 32-bit hashes suffices; no byte buffer per document.
                let hash = set
                    .iter()
                    .fold(set.len() as u64, |h, &v| fmix64(h ^ u64::from(v)));
                let same = set_by_hash.entry(hash).or_default();
                let index = match same.iter().find(|&&i| *unique_sets[i as usize] == *set) {
                    Some(&i) => i,
                    None => {
                        unique_sets.push(set.into_boxed_slice());
                        let i = (unique_sets.len() - 1) as u32;
                        same.push(i);
                        i
                    }
                };
                set_of_doc[doc] = index;
            }
            records_done = end_record;
            on_progress(Pass::Verify, records_done);
            Ok(())
        })?;
    }
    drop(set_by_hash);
    let empty: &[u32] = &[];
    let set_of = |d: DocIndex| match set_of_doc[d as usize] {
        NO_SET => empty,
        i => &unique_sets[i as usize],
    };
    let pairs: Vec<ScoredPair> = candidates
        .pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let j = jaccard(set_of(a), set_of(b));
            (j >= params.threshold).then_some(ScoredPair { a, b, jaccard: j })
        })
        .collect();
    summary.verified_pairs = pairs.len() as u64;
    summary.seconds.verify = lap(&mut clock);

    // Cluster.
    let lengths: Vec<usize> = docs.iter().map(|d| d.length as usize).collect();
    let published: Vec<Option<i64>> = docs.iter().map(|d| d.published).collect();
    let facts = DocFacts {
        lengths: &lengths,
        published: &published,
    };
    let clusters = connected_components(docs.len(), &pairs, facts, params.keep);
    let mut kept_of: Vec<DocIndex> = (0..docs.len() as DocIndex).collect();
    for cluster in clusters.iter().filter(|c| c.members.len() > 1) {
        for &m in &cluster.members {
            kept_of[m as usize] = cluster.representative;
        }
    }
    summary.clusters = clusters.iter().filter(|c| c.members.len() > 1).count() as u64;
    summary.removed = kept_of
        .iter()
        .enumerate()
        .filter(|&(d, &k)| d != k as usize)
        .count() as u64;
    summary.kept = summary.documents - summary.removed;

    if let Some(out) = outputs.removed.as_mut() {
        for (d, &k) in kept_of.iter().enumerate() {
            if d != k as usize {
                let line = serde_json::json!({
                    "id": &*docs[d].id,
                    "duplicate_of": &*docs[k as usize].id,
                    "jaccard": round6(jaccard(set_of(d as DocIndex), set_of(k))),
                });
                writeln!(out, "{line}").map_err(|e| Error::io("<removed>", e))?;
            }
        }
    }
    if let Some(out) = outputs.pairs.as_mut() {
        for pair in &pairs {
            let line = serde_json::json!({
                "a": &*docs[pair.a as usize].id,
                "b": &*docs[pair.b as usize].id,
                "jaccard": round6(pair.jaccard),
            });
            writeln!(out, "{line}").map_err(|e| Error::io("<pairs>", e))?;
        }
    }
    if let Some(out) = outputs.clusters.as_mut() {
        for (n, cluster) in clusters.iter().filter(|c| c.members.len() > 1).enumerate() {
            let members: Vec<&str> = cluster
                .members
                .iter()
                .map(|&m| &*docs[m as usize].id)
                .collect();
            let line = serde_json::json!({
                "cluster": n,
                "kept": &*docs[cluster.representative as usize].id,
                "size": members.len(),
                "members": members,
            });
            writeln!(out, "{line}").map_err(|e| Error::io("<clusters>", e))?;
        }
    }

    // Pass 3: write kept records as they were.
    if let Some(out) = outputs.kept.as_mut() {
        let reader = RecordReader::new(files.clone(), &options.read);
        let mut next_doc = 0usize;
        let mut records_done = 0u64;
        for_each_batch(reader, |batch| {
            let end_record = records_done + batch.records.len() as u64;
            while next_doc < docs.len() && docs[next_doc].record < end_record {
                if kept_of[next_doc] as usize == next_doc {
                    let i = (docs[next_doc].record - records_done) as usize;
                    let meta = &batch.records[i];
                    let file = &files[meta.file];
                    write_record(&mut **out, file, meta, batch, i, &options.read)?;
                }
                next_doc += 1;
            }
            records_done = end_record;
            on_progress(Pass::Write, records_done);
            Ok(())
        })?;
        out.flush().map_err(|e| Error::io("<kept>", e))?;
    }
    summary.seconds.write = lap(&mut clock);
    Ok(summary)
}

/// Calls `process` on each batch of records while the next batch is read on another
/// thread, so that reading and decompression overlap with parsing and hashing.
fn for_each_batch(
    mut reader: RecordReader,
    mut process: impl FnMut(&Batch) -> Result<()> + Send,
) -> Result<()> {
    let mut current = Batch::default();
    let mut next = Batch::default();
    if !reader.next_batch(&mut current, BATCH_RECORDS, BATCH_BYTES)? {
        return Ok(());
    }
    loop {
        let (read, processed) = rayon::join(
            || reader.next_batch(&mut next, BATCH_RECORDS, BATCH_BYTES),
            || process(&current),
        );
        processed?;
        if !read? {
            return Ok(());
        }
        std::mem::swap(&mut current, &mut next);
    }
}

fn doc_length(batch: &Batch, i: usize) -> usize {
    batch.records[i].range.len()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn write_record(
    out: &mut dyn Write,
    file: &InputFile,
    meta: &crate::input::RecordMeta,
    batch: &Batch,
    i: usize,
    read: &ReadOptions,
) -> Result<()> {
    let io = |e| Error::io("<kept>", e);
    match file.kind {
        FileKind::Jsonl => {
            out.write_all(batch.bytes(i)).map_err(io)?;
            out.write_all(b"\n").map_err(io)
        }
        FileKind::Text => {
            let doc = parse_record(file, meta, batch.bytes(i), read).map_err(Error::from)?;
            let line = serde_json::json!({ "id": doc.id, "text": doc.text });
            writeln!(out, "{line}").map_err(io)
        }
    }
}
