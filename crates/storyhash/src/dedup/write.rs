//! The outputs: the removed, pairs and clusters lists, and pass 3, which copies each
//! kept record's bytes from the input.

use super::*;
use crate::cluster::Cluster;

/// A line of the removed file. Fields in the order a JSON object's keys sort, as the
/// files have always listed them.
#[derive(Serialize)]
pub(super) struct RemovedLine<'a> {
    pub(super) duplicate_of: &'a str,
    pub(super) id: &'a str,
    pub(super) jaccard: f64,
}

/// A line of the pairs file.
#[derive(Serialize)]
pub(super) struct PairLine<'a> {
    pub(super) a: &'a str,
    pub(super) b: &'a str,
    pub(super) jaccard: f64,
}

/// A line of the clusters file.
#[derive(Serialize)]
pub(super) struct ClusterLine<'a> {
    pub(super) cluster: usize,
    pub(super) kept: &'a str,
    pub(super) members: &'a [&'a str],
    pub(super) size: usize,
}

/// Writes `line` as one JSON line, straight from the struct: no JSON value is built.
pub(super) fn write_json_line(out: &mut dyn Write, line: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

/// Writes `pairs` as the pairs file's JSON lines, `{"a", "b", "jaccard"}` (ids by
/// `id_of`, Jaccard to six decimals): what `dedup --pairs` and `cluster --pairs` write.
pub fn write_pair_lines<'a>(
    out: &mut dyn Write,
    pairs: &[ScoredPair],
    id_of: impl Fn(DocIndex) -> &'a str,
) -> std::io::Result<()> {
    for pair in pairs {
        let line = PairLine {
            a: id_of(pair.a),
            b: id_of(pair.b),
            jaccard: round6(pair.jaccard),
        };
        write_json_line(out, &line)?;
    }
    Ok(())
}

pub(super) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Kept JSONL lines of one batch, written as they were read: each record's bytes and
/// a newline. Records that lie one newline apart in the batch join one run, and the
/// runs go to the output in one vectored write per batch, which bypasses the output's
/// buffer (it copied the whole kept corpus once more).
pub(super) struct KeptRuns<'a> {
    pub(super) data: &'a [u8],
    pub(super) runs: Vec<std::ops::Range<usize>>,
}

impl<'a> KeptRuns<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        KeptRuns {
            data,
            runs: Vec::new(),
        }
    }

    /// Adds the record at `range` of the batch's bytes.
    pub(super) fn push(&mut self, range: std::ops::Range<usize>) {
        match self.runs.last_mut() {
            Some(run) if run.end + 1 == range.start && self.data[run.end] == b'\n' => {
                run.end = range.end;
            }
            _ => self.runs.push(range),
        }
    }

    /// Writes the runs so far, each followed by a newline, and forgets them.
    pub(super) fn write(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut slices: Vec<std::io::IoSlice> = Vec::with_capacity(2 * self.runs.len());
        for run in self.runs.drain(..) {
            slices.push(std::io::IoSlice::new(&self.data[run]));
            slices.push(std::io::IoSlice::new(b"\n"));
        }
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match out.write_vectored(rest) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => std::io::IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Writes a kept record of a text file as the JSON line `{"id", "text"}`.
pub(super) fn write_text_record(
    out: &mut dyn Write,
    name: &std::path::Path,
    file: &InputFile,
    meta: &crate::input::RecordMeta,
    batch: &Batch,
    i: usize,
    read: &ReadOptions,
) -> Result<()> {
    let doc = parse_record(file, meta, batch.bytes(i), read).map_err(Error::from)?;
    let line = serde_json::json!({ "id": doc.id, "text": doc.text });
    writeln!(out, "{line}").map_err(|e| Error::io(name, e))
}

/// Writes the removed, pairs and clusters lists that were asked for.
pub(super) fn write_lists(
    outputs: &mut DedupOutputs<'_>,
    docs: &[DocEntry],
    kept_of: &[DocIndex],
    pairs: &[ScoredPair],
    clusters: &[Cluster],
    exact_jaccard: impl Fn(DocIndex, DocIndex) -> f64,
) -> Result<()> {
    if let Some(out) = outputs.removed.as_mut() {
        for (d, &k) in kept_of.iter().enumerate() {
            if d != k as usize {
                let line = RemovedLine {
                    duplicate_of: &docs[k as usize].id,
                    id: &docs[d].id,
                    jaccard: round6(exact_jaccard(d as DocIndex, k)),
                };
                write_json_line(&mut **out, &line)
                    .map_err(|e| Error::io(&outputs.names.removed, e))?;
            }
        }
    }
    if let Some(out) = outputs.pairs.as_mut() {
        write_pair_lines(&mut **out, pairs, |d| &docs[d as usize].id)
            .map_err(|e| Error::io(&outputs.names.pairs, e))?;
    }
    if let Some(out) = outputs.clusters.as_mut() {
        for (n, cluster) in clusters.iter().filter(|c| c.members.len() > 1).enumerate() {
            let members: Vec<&str> = cluster
                .members
                .iter()
                .map(|&m| &*docs[m as usize].id)
                .collect();
            let line = ClusterLine {
                cluster: n,
                kept: &docs[cluster.representative as usize].id,
                members: &members,
                size: members.len(),
            };
            write_json_line(&mut **out, &line)
                .map_err(|e| Error::io(&outputs.names.clusters, e))?;
        }
    }
    Ok(())
}

/// What pass 3 needs to know: the input, pass 1's entries, and which are kept.
pub(super) struct Kept<'a> {
    pub(super) files: &'a [InputFile],
    pub(super) docs: &'a [DocEntry],
    pub(super) kept_of: &'a [DocIndex],
    /// Records pass 1 read (skipped ones included).
    pub(super) records: u64,
}

/// Pass 3: reads the input once more and copies each kept record's bytes to `out` (a
/// `.txt` document becomes a JSON line). Each kept record must be the one pass 1 read,
/// and the input must hold as many records as then: a file edited, truncated or
/// replaced in between stops the run ([`Error::InputChanged`]) instead of writing
/// records that were never judged.
pub(super) fn write_kept(
    out: &mut (dyn Write + Send),
    name: &std::path::Path,
    kept: Kept<'_>,
    read: &ReadOptions,
    buffers: &mut [Batch; 2],
    on_progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<()> {
    let Kept {
        files,
        docs,
        kept_of,
        records,
    } = kept;
    let reader = RecordReader::new(files.to_vec(), read);
    let mut next_doc = 0usize;
    let mut records_done = 0u64;
    for_each_batch(reader, buffers, |batch| {
        let end_record = records_done + batch.records.len() as u64;
        let mut runs = KeptRuns::new(&batch.data);
        while next_doc < docs.len() && docs[next_doc].record < end_record {
            if kept_of[next_doc] as usize == next_doc {
                let i = (docs[next_doc].record - records_done) as usize;
                let meta = &batch.records[i];
                let file = &files[meta.file];
                check_unchanged(file, &docs[next_doc], batch.bytes(i))?;
                if file.kind == FileKind::Jsonl {
                    runs.push(meta.range.clone());
                } else {
                    runs.write(&mut *out).map_err(|e| Error::io(name, e))?;
                    write_text_record(&mut *out, name, file, meta, batch, i, read)?;
                }
            }
            next_doc += 1;
        }
        runs.write(&mut *out).map_err(|e| Error::io(name, e))?;
        records_done = end_record;
        on_progress(Progress::of(Pass::Write, records_done));
        Ok(())
    })?;
    if let Some(missing) = docs.get(next_doc) {
        return Err(Error::InputChanged {
            location: Location::new(&files[missing.file as usize].label, missing.line),
            detail: format!("record {:?} is gone", missing.id),
        });
    }
    if records_done != records {
        let last = docs.last().map_or((0, 0), |d| (d.file as usize, d.line));
        let label = files
            .get(last.0)
            .map_or_else(Default::default, |f| f.label.clone());
        return Err(Error::InputChanged {
            location: Location::new(label, last.1),
            detail: format!(
                "it now holds {records_done} records where the first pass read {records}"
            ),
        });
    }
    out.flush().map_err(|e| Error::io(name, e))?;
    Ok(())
}
