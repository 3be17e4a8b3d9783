//! Reading raw records in batches: files read in large chunks straight into a batch,
//! JSONL lines found in place (the partial last line carried over), `.txt` files whole,
//! oversized records skipped without being held, byte offsets kept for re-reading.

use super::*;

/// Where a raw record is and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    /// Index into the reader's files.
    pub file: usize,
    /// 1-based line (1 for a text file).
    pub line: u64,
    /// Bytes of the record within the batch's buffer.
    pub range: Range<usize>,
    /// Where the record's bytes start in its file (after decompression, for a
    /// compressed file): with `range.len()`, enough to read the record again directly
    /// ([`InputFile::read_record_at`]).
    pub offset: u64,
    /// Set when the record was not read: too large, or a file without records.
    pub problem: Option<InputProblem>,
}

/// Raw records read together: one buffer, many ranges.
#[derive(Debug, Default)]
pub struct Batch {
    /// Concatenated record bytes.
    pub data: Vec<u8>,
    /// The records, in input order.
    pub records: Vec<RecordMeta>,
}

impl Batch {
    /// An empty batch with room for `bytes` of records.
    pub fn with_capacity(bytes: usize) -> Self {
        Batch {
            data: Vec::with_capacity(bytes),
            records: Vec::new(),
        }
    }

    /// The bytes of record `i`.
    pub fn bytes(&self, i: usize) -> &[u8] {
        &self.data[self.records[i].range.clone()]
    }

    /// The bytes of a record described by `meta` (which need not be in `records`); the fuzz
    /// target's way in.
    #[cfg(feature = "internals")]
    pub fn bytes_of(&self, meta: &RecordMeta) -> &[u8] {
        &self.data[meta.range.clone()]
    }

    /// Total bytes held.
    pub fn byte_len(&self) -> usize {
        self.data.len()
    }
}

/// Largest single read of a JSONL file: large enough that system calls are few, small
/// enough that what a full batch read too far and hands on stays small. A batch holds at
/// most its byte budget plus this much, unless one line is longer.
pub const MAX_READ: usize = 256 << 10;

/// Streams the raw records of a list of files, in order, in batches.
pub struct RecordReader {
    pub(super) files: Vec<InputFile>,
    pub(super) max_document_bytes: u64,
    pub(super) next_file: usize,
    pub(super) current: Option<OpenFile>,
    /// The Parquet file being read, when the current file is one.
    pub(super) parquet: Option<super::parquet::ParquetRows>,
    /// Which columns a Parquet file's documents are read from.
    pub(super) options: ReadOptions,
}

/// Where an open file's bytes come from: the file (decompressed if it is), or standard
/// input's [`Feed`], which can tell when its next read would wait.
pub(super) enum Bytes {
    File(Box<dyn Read + Send>),
    Feed(Feed),
}

impl Read for Bytes {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Bytes::File(file) => file.read(buf),
            Bytes::Feed(feed) => feed.read(buf),
        }
    }
}

impl Bytes {
    fn would_wait(&mut self) -> bool {
        match self {
            Bytes::File(_) => false,
            Bytes::Feed(feed) => feed.would_wait(),
        }
    }
}

pub(super) struct OpenFile {
    index: usize,
    reader: Bytes,
    /// Lines taken so far.
    line: u64,
    /// Where the next line starts in the file.
    offset: u64,
    saw_record: bool,
    /// Bytes read beyond the last line a batch took: the start of the next lines.
    carry: Vec<u8>,
}

impl OpenFile {
    pub(super) fn new(index: usize, reader: Bytes) -> Self {
        OpenFile {
            index,
            reader,
            line: 0,
            offset: 0,
            saw_record: false,
            carry: Vec::new(),
        }
    }
}

impl RecordReader {
    /// A reader over `files`.
    pub fn new(files: Vec<InputFile>, options: &ReadOptions) -> Self {
        RecordReader {
            files,
            max_document_bytes: options.max_document_bytes,
            next_file: 0,
            current: None,
            parquet: None,
            options: options.clone(),
        }
    }

    /// The files being read.
    pub fn files(&self) -> &[InputFile] {
        &self.files
    }

    /// True when standard input is being read and its next read would wait for the
    /// writer: the records handed back so far are all a feed has sent.
    pub fn waiting(&mut self) -> bool {
        self.current.as_mut().is_some_and(|c| c.reader.would_wait())
    }

    /// Refills `batch` with up to `max_records` records or about `max_bytes` bytes;
    /// returns false once the input is exhausted (and the batch is empty). From
    /// standard input, the whole lines read so far come back when the next read would
    /// wait for the writer: a feed that never ends is answered record by record.
    pub fn next_batch(
        &mut self,
        batch: &mut Batch,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<bool> {
        batch.data.clear();
        batch.records.clear();
        // An empty batch means the end of the input, so read on until one record at least.
        while batch.records.is_empty()
            || (batch.records.len() < max_records && batch.data.len() < max_bytes)
        {
            if self.current.is_none() && self.parquet.is_none() {
                if self.next_file == self.files.len() {
                    break;
                }
                let index = self.next_file;
                self.next_file += 1;
                let file = &self.files[index];
                if file.kind == FileKind::Parquet {
                    let rows = super::parquet::ParquetRows::open(index, file, &self.options)?;
                    self.parquet = Some(rows);
                } else {
                    self.current = Some(OpenFile::new(index, file.open()?));
                }
            }
            let more = if let Some(rows) = self.parquet.as_mut() {
                let file = &self.files[self.next_file - 1];
                rows.fill(file, batch, max_records, max_bytes, self.max_document_bytes)?
            } else {
                match self.files[self.current.as_ref().map_or(0, |c| c.index)].kind {
                    FileKind::Text | FileKind::Html => self.read_text_file(batch)?,
                    FileKind::Jsonl => self.read_jsonl_lines(batch, max_records, max_bytes)?,
                    FileKind::Parquet => false,
                }
            };
            // Standard input hands back what it holds when its next read would wait.
            if more && self.waiting() {
                break;
            }
            if !more {
                self.current = None;
                self.parquet = None;
            }
        }
        Ok(!batch.records.is_empty())
    }

    /// Reads a whole text file as one record; returns false (file done).
    fn read_text_file(&mut self, batch: &mut Batch) -> Result<bool> {
        let limit = self.max_document_bytes;
        let Some(open) = self.current.as_mut() else {
            return Ok(false);
        };
        let path = &self.files[open.index].path;
        let start = batch.data.len();
        let n = (&mut open.reader)
            .take(limit.saturating_add(1))
            .read_to_end(&mut batch.data)
            .map_err(|e| Error::io(path, e))?;
        let problem = if n as u64 > limit {
            batch.data.truncate(start);
            let rest = std::io::copy(&mut open.reader, &mut std::io::sink())
                .map_err(|e| Error::io(path, e))?;
            Some(InputProblem::TooLarge {
                bytes: n as u64 + rest,
                limit,
            })
        } else {
            None
        };
        batch.records.push(RecordMeta {
            file: open.index,
            line: 1,
            range: start..batch.data.len(),
            offset: 0,
            problem,
        });
        Ok(false)
    }

    /// Takes JSONL lines into `batch` until it holds `max_records` records or
    /// `max_bytes` bytes; returns false at the end of the file. The file is read in large
    /// chunks straight into the batch, and lines are found in place: each record's bytes
    /// are copied once, by the read itself. Bytes read past the batch's last line are
    /// kept for the next batch.
    fn read_jsonl_lines(
        &mut self,
        batch: &mut Batch,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<bool> {
        const MIN_READ: usize = 64 << 10;
        let limit = self.max_document_bytes;
        let Some(open) = self.current.as_mut() else {
            return Ok(false);
        };
        let path = &self.files[open.index].path;
        let full = |batch: &Batch, line_start: usize| {
            batch.records.len() >= max_records || line_start >= max_bytes
        };
        // The current line starts here; bytes before `searched` hold no newline of it.
        let mut line_start = batch.data.len();
        batch.data.extend_from_slice(&open.carry);
        open.carry.clear();
        let mut searched = line_start;
        loop {
            while let Some(pos) = memchr::memchr(b'\n', &batch.data[searched..]) {
                let end = searched + pos + 1;
                take_line(open, batch, line_start..end, limit);
                (line_start, searched) = (end, end);
                if full(batch, line_start) {
                    if batch.records.is_empty() {
                        // Only blank lines so far: drop their bytes and read on, so that
                        // a batch is never handed back empty while the file goes on.
                        batch.data.drain(..line_start);
                        (line_start, searched) = (0, 0);
                        continue;
                    }
                    open.carry.extend_from_slice(&batch.data[line_start..]);
                    batch.data.truncate(line_start);
                    return Ok(true);
                }
            }
            searched = batch.data.len();
            let partial = (batch.data.len() - line_start) as u64;
            if partial > limit.saturating_add(2) {
                // Too long to hold: count the rest of the line without keeping it.
                batch.data.truncate(line_start);
                let bytes = partial
                    + skip_line(&mut open.reader, &mut open.carry)
                        .map_err(|e| Error::io(path, e))?;
                open.line += 1;
                open.saw_record = true;
                batch.records.push(RecordMeta {
                    file: open.index,
                    line: open.line,
                    range: line_start..line_start,
                    offset: open.offset,
                    problem: Some(InputProblem::TooLarge { bytes, limit }),
                });
                open.offset += bytes;
                if full(batch, line_start) {
                    return Ok(true);
                }
                batch.data.extend_from_slice(&open.carry);
                open.carry.clear();
                searched = line_start;
                continue;
            }
            if !batch.records.is_empty() && open.reader.would_wait() {
                // The feed's next read would wait for the writer: hand these on first.
                open.carry.extend_from_slice(&batch.data[line_start..]);
                batch.data.truncate(line_start);
                return Ok(true);
            }
            let wanted = max_bytes
                .saturating_sub(batch.data.len())
                .clamp(MIN_READ, MAX_READ);
            if read_more(&mut open.reader, &mut batch.data, wanted)
                .map_err(|e| Error::io(path, e))?
                == 0
            {
                if line_start < batch.data.len() {
                    // The last line, without a newline.
                    take_line(open, batch, line_start..batch.data.len(), limit);
                }
                if !open.saw_record {
                    batch.records.push(RecordMeta {
                        file: open.index,
                        line: 1,
                        range: batch.data.len()..batch.data.len(),
                        offset: 0,
                        problem: Some(InputProblem::EmptyFile),
                    });
                }
                return Ok(false);
            }
        }
    }
}

/// Takes the line at `range` of `batch.data` (its newline included, if it has one) as
/// the next line of `open`: a record, a record too large to read, or nothing when it is
/// blank. A line of more than `limit` bytes plus a line end is never parsed.
pub(super) fn take_line(open: &mut OpenFile, batch: &mut Batch, range: Range<usize>, limit: u64) {
    open.line += 1;
    let line_offset = open.offset;
    let bytes = range.len() as u64;
    open.offset += bytes;
    let raw = &batch.data[range.clone()];
    let too_long = if raw.last() == Some(&b'\n') {
        bytes > limit.saturating_add(2)
    } else {
        bytes > limit
    };
    if too_long {
        open.saw_record = true;
        batch.records.push(RecordMeta {
            file: open.index,
            line: open.line,
            range: range.start..range.start,
            offset: line_offset,
            problem: Some(InputProblem::TooLarge { bytes, limit }),
        });
        return;
    }
    let end = range.start + trim_line_end(raw).len();
    let start = if open.line == 1 && raw.starts_with(BOM) {
        range.start + BOM.len()
    } else {
        range.start
    };
    let content = &batch.data[start.min(end)..end];
    if content.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    open.saw_record = true;
    let problem = (content.len() as u64 > limit).then_some(InputProblem::TooLarge {
        bytes: content.len() as u64,
        limit,
    });
    batch.records.push(RecordMeta {
        file: open.index,
        line: open.line,
        range: start..end,
        offset: line_offset + (start - range.start) as u64,
        problem,
    });
}

/// Appends up to `wanted` bytes from `reader` to `data`; returns how many (0 at the end).
pub(super) fn read_more(
    reader: &mut dyn Read,
    data: &mut Vec<u8>,
    wanted: usize,
) -> std::io::Result<usize> {
    let len = data.len();
    data.resize(len + wanted, 0);
    let result = loop {
        match reader.read(&mut data[len..]) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => break other,
        }
    };
    data.truncate(len + *result.as_ref().unwrap_or(&0));
    result
}

/// Checks that input bytes are UTF-8 with simdutf8's vectorised validator (std's runs
/// at about 1 GB/s on Arabic text, a tenth of the first pass over an Arabic corpus),
/// asking std again only for a failure, to say where the first bad byte is.
pub(super) fn validate_utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => std::str::from_utf8(bytes),
    }
}

/// The UTF-8 byte-order mark, skipped at the start of a file.
pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

pub(super) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

pub(super) fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Reads `input` up to and including the next newline (or to its end); returns the
/// bytes skipped and leaves in `rest` those read after the newline.
pub(super) fn skip_line(input: &mut dyn Read, rest: &mut Vec<u8>) -> std::io::Result<u64> {
    let mut skipped = 0u64;
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => return Ok(skipped),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(pos) = memchr::memchr(b'\n', &buffer[..n]) {
            rest.extend_from_slice(&buffer[pos + 1..n]);
            return Ok(skipped + pos as u64 + 1);
        }
        skipped += n as u64;
    }
}
