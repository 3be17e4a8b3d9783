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

/// A line of the band rows file.
#[derive(Serialize)]
struct BandLine<'a> {
    id: &'a str,
    band: usize,
    key: u32,
}

/// Writes the band rows of every document with shingles, in input order: a banded
/// document's own keys, an exact copy's those of the document it copies (the same text
/// signs the same).
pub(super) fn write_band_rows(
    out: &mut dyn Write,
    name: &std::path::Path,
    docs: &[DocEntry],
    keys: &BandKeys,
    copies: &[(DocIndex, DocIndex)],
) -> Result<()> {
    let mut keys_of: Vec<Option<&[u32]>> = vec![None; docs.len()];
    for (doc, row) in keys.rows() {
        keys_of[doc as usize] = Some(row);
    }
    for &(copy, first) in copies {
        keys_of[copy as usize] = keys_of[first as usize];
    }
    for (doc, row) in docs.iter().zip(&keys_of) {
        for (band, &key) in row.iter().flat_map(|r| r.iter()).enumerate() {
            let line = BandLine {
                id: &doc.id,
                band,
                key,
            };
            write_json_line(out, &line).map_err(|e| Error::io(name, e))?;
        }
    }
    Ok(())
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

/// Writes a kept record of a text or HTML file as the JSON line `{"id", "text"}`, with
/// the `title`, `url` and `published` a page gave (as `stories` reads them back).
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
    let mut line = serde_json::json!({ "id": doc.id, "text": doc.text });
    for (field, value) in [
        ("title", doc.title),
        ("url", doc.url),
        ("published", doc.published),
    ] {
        if let Some(value) = value {
            line[field] = value.into();
        }
    }
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

/// How pass 3 writes the kept records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeptFormat {
    /// JSON lines: a JSONL record's line unchanged, a `.txt` or `.html` document as
    /// `{"id", "text"}` (a page's extracted text, with the title, address and
    /// publication time it gave), a Parquet row as one JSON object of all its columns.
    #[default]
    JsonLines,
    /// Parquet with the input's schema, rows unchanged (Parquet input only, one schema).
    Parquet,
}

/// Pass 3's position: the next document entry and the input records behind it.
struct Cursor {
    next_doc: usize,
    records_done: u64,
}

/// Pass 3: reads the input once more and copies each kept record to `out`, as
/// `format` says. Each kept record must be the one pass 1 read, and the input must hold
/// as many records as then: a file edited, truncated or replaced in between stops the
/// run ([`Error::InputChanged`]) instead of writing records that were never judged.
pub(super) fn write_kept(
    out: &mut (dyn Write + Send),
    name: &std::path::Path,
    kept: Kept<'_>,
    read: &ReadOptions,
    format: KeptFormat,
    buffers: &mut [Batch; 2],
    on_progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<()> {
    let Kept {
        files,
        docs,
        kept_of,
        records,
    } = kept;
    if format == KeptFormat::Parquet {
        if let Some(file) = files.iter().find(|f| f.kind != FileKind::Parquet) {
            return Err(Error::InvalidParams(format!(
                "{}: kept records are written as Parquet only from Parquet input (each \
                 kept row is copied with the input's schema), and this file is not \
                 Parquet; write the kept records as JSON lines instead",
                crate::error::shown(&file.label)
            )));
        }
    }
    let mut cursor = Cursor {
        next_doc: 0,
        records_done: 0,
    };
    let mut rows_out = RowsOut::new(format, name);
    let mut start = 0;
    while start < files.len() {
        if files[start].kind == FileKind::Parquet {
            let file = &files[start];
            crate::input::parquet::for_each_full_batch(file, start, read, |decoded, rows| {
                let end_record = cursor.records_done + rows.records.len() as u64;
                let mut keep = vec![false; rows.records.len()];
                while cursor.next_doc < docs.len() && docs[cursor.next_doc].record < end_record {
                    let doc = cursor.next_doc;
                    if kept_of[doc] as usize == doc {
                        let i = (docs[doc].record - cursor.records_done) as usize;
                        check_unchanged(file, &docs[doc], rows.bytes(i))?;
                        keep[i] = true;
                    }
                    cursor.next_doc += 1;
                }
                rows_out.write(&mut *out, file, decoded, keep)?;
                cursor.records_done = end_record;
                on_progress(Progress::of(Pass::Write, cursor.records_done));
                Ok(())
            })?;
            start += 1;
            continue;
        }
        let end = files[start..]
            .iter()
            .position(|f| f.kind == FileKind::Parquet)
            .map_or(files.len(), |p| start + p);
        let run = &files[start..end];
        let reader = RecordReader::new(run.to_vec(), read);
        for_each_batch(reader, buffers, |batch| {
            let end_record = cursor.records_done + batch.records.len() as u64;
            let mut runs = KeptRuns::new(&batch.data);
            while cursor.next_doc < docs.len() && docs[cursor.next_doc].record < end_record {
                let doc = cursor.next_doc;
                if kept_of[doc] as usize == doc {
                    let i = (docs[doc].record - cursor.records_done) as usize;
                    let meta = &batch.records[i];
                    let file = &run[meta.file];
                    check_unchanged(file, &docs[doc], batch.bytes(i))?;
                    if file.kind == FileKind::Jsonl {
                        runs.push(meta.range.clone());
                    } else {
                        runs.write(&mut *out).map_err(|e| Error::io(name, e))?;
                        write_text_record(&mut *out, name, file, meta, batch, i, read)?;
                    }
                }
                cursor.next_doc += 1;
            }
            runs.write(&mut *out).map_err(|e| Error::io(name, e))?;
            cursor.records_done = end_record;
            on_progress(Progress::of(Pass::Write, cursor.records_done));
            Ok(())
        })?;
        start = end;
    }
    rows_out.finish(&mut *out)?;
    let Cursor {
        next_doc,
        records_done,
    } = cursor;
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

/// Kept Parquet rows on their way out: as Parquet through one writer whose schema is
/// the first file's (every later file must have the same), or as JSON lines.
struct RowsOut<'n> {
    format: KeptFormat,
    name: &'n std::path::Path,
    /// The Parquet being written: its schema and its encoded bytes so far, handed to
    /// the output batch by batch.
    parquet: Option<::parquet::arrow::ArrowWriter<Vec<u8>>>,
    /// The schema of the Parquet being written.
    schema: Option<arrow_schema::SchemaRef>,
}

impl<'n> RowsOut<'n> {
    fn new(format: KeptFormat, name: &'n std::path::Path) -> Self {
        RowsOut {
            format,
            name,
            parquet: None,
            schema: None,
        }
    }

    fn failed(&self, e: impl std::fmt::Display) -> Error {
        write_failed(self.name, e)
    }

    /// Writes the rows of `decoded` (from `file`) that `keep` marks.
    fn write(
        &mut self,
        out: &mut (dyn Write + Send),
        file: &InputFile,
        decoded: &arrow_array::RecordBatch,
        keep: Vec<bool>,
    ) -> Result<()> {
        let mask = arrow_array::BooleanArray::from(keep);
        let rows = arrow_select::filter::filter_record_batch(decoded, &mask)
            .map_err(|e| self.failed(e))?;
        match self.format {
            KeptFormat::JsonLines => {
                if rows.num_rows() > 0 {
                    let mut writer = arrow_json::LineDelimitedWriter::new(&mut *out);
                    writer.write(&rows).map_err(|e| self.failed(e))?;
                    writer.finish().map_err(|e| self.failed(e))?;
                }
            }
            KeptFormat::Parquet => {
                if self.parquet.is_none() {
                    let props = ::parquet::file::properties::WriterProperties::builder()
                        .set_compression(::parquet::basic::Compression::ZSTD(Default::default()))
                        .build();
                    let writer = ::parquet::arrow::ArrowWriter::try_new(
                        Vec::new(),
                        rows.schema(),
                        Some(props),
                    )
                    .map_err(|e| self.failed(e))?;
                    self.parquet = Some(writer);
                    self.schema = Some(rows.schema());
                }
                if self
                    .schema
                    .as_ref()
                    .is_some_and(|first| first.fields() != rows.schema().fields())
                {
                    return Err(Error::Parquet {
                        path: file.label.clone(),
                        detail: "its schema differs from the first Parquet input's; kept rows \
                                 of files with different schemas cannot share one Parquet \
                                 output"
                            .into(),
                    });
                }
                let name = self.name;
                let Some(writer) = self.parquet.as_mut() else {
                    return Ok(());
                };
                writer.write(&rows).map_err(|e| write_failed(name, e))?;
                // A row group is held in memory until flushed: flushed by size, so that
                // long texts never make one of hundreds of megabytes.
                if writer.in_progress_size() > ROW_GROUP_BYTES {
                    writer.flush().map_err(|e| write_failed(name, e))?;
                }
                self.drain(out)?;
            }
        }
        Ok(())
    }

    /// Hands the Parquet bytes encoded so far to `out`.
    fn drain(&mut self, out: &mut (dyn Write + Send)) -> Result<()> {
        if let Some(writer) = self.parquet.as_mut() {
            let encoded = writer.inner_mut();
            if !encoded.is_empty() {
                out.write_all(encoded)
                    .map_err(|e| Error::io(self.name, e))?;
                encoded.clear();
            }
        }
        Ok(())
    }

    /// Ends the Parquet output (its last row group and footer); nothing for JSON lines.
    fn finish(mut self, out: &mut (dyn Write + Send)) -> Result<()> {
        let name = self.name;
        if let Some(writer) = self.parquet.as_mut() {
            writer.finish().map_err(|e| write_failed(name, e))?;
        }
        self.drain(out)
    }
}

/// The error of a failed write of the kept rows to `name`.
fn write_failed(name: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::Parquet {
        path: name.to_path_buf(),
        detail: format!("writing the kept rows: {e}"),
    }
}

/// The in-memory size at which a row group of kept rows is written out.
const ROW_GROUP_BYTES: usize = 64 << 20;
