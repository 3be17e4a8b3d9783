//! Reading documents: `.txt` files (one document each, id = file stem), JSONL files (one
//! JSON object per line; `.jsonl`, `.ndjson`, optionally compressed as `.gz` or `.zst`),
//! directories of those (sorted by name, not recursive), standard input (JSONL) and
//! in-memory text.
//!
//! Two layers. [`RecordReader`] streams raw records (a JSONL line, or a whole `.txt`
//! file) in batches without interpreting them, so callers can parse in parallel and
//! read the same input again in a later pass; [`parse_record`] turns one record into a
//! [`Document`]. [`read_sources`] combines both for callers that want every document
//! in memory.
//!
//! Bad records are soft errors ([`Warning`]s naming file and line): by default the record
//! is skipped and the warning returned with the documents; with `strict` the first one
//! stops the read with [`Error::Input`]. I/O failures always stop it. Nothing is skipped
//! without a warning, except blank JSONL lines, which carry no record.
//!
//! JSONL fields: `id` (string or number; if absent, `<file stem>:<line>`), `text`
//! (string, required), optional `title`, `url`, `published` (string or number). The id
//! and text field names are configurable. Unknown fields are ignored.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::doc::{parse_published, Document};
use crate::error::{Error, InputProblem, Location, Result, Warning, MAX_FIELDS_SHOWN};

mod flat_json;

/// Where documents come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A `.txt` or JSONL file, or a directory of them.
    Path(PathBuf),
    /// JSONL on standard input (readable once).
    Stdin,
    /// A text document held in memory (e.g. the embedded seeds): name is its id.
    Text {
        /// The document id.
        name: String,
        /// Its text.
        text: String,
    },
}

/// How to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// JSONL field holding the id (a dotted path such as `meta.id` reaches into nested
    /// objects when the record has no field of that name).
    pub id_field: String,
    /// JSONL field holding the text (a dotted path such as `article.body` reaches into
    /// nested objects when the record has no field of that name).
    pub text_field: String,
    /// Stop at the first bad record instead of skipping it.
    pub strict: bool,
    /// Largest accepted document (a JSONL line or a `.txt` file), in bytes. Larger ones are
    /// skipped without being held in memory.
    pub max_document_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            id_field: "id".into(),
            text_field: "text".into(),
            strict: false,
            max_document_bytes: 64 << 20,
        }
    }
}

/// The documents read, in input order, and what was skipped.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Accepted documents.
    pub documents: Vec<Document>,
    /// One warning per skipped record, and one per unreadable publication time (its
    /// document kept undated: [`InputProblem::skips_record`] tells them apart).
    pub warnings: Vec<Warning>,
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// One document per file.
    Text,
    /// One JSON object per line.
    Jsonl,
}

/// How a file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (`.gz`), possibly several members.
    Gzip,
    /// Zstandard (`.zst`).
    Zstd,
}

/// One input file, resolved from a [`Source`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Where the bytes are read from.
    pub path: PathBuf,
    /// How warnings name the file: the path as given, or `<stdin>` for standard input
    /// (also when it was spooled to a temporary file).
    pub label: PathBuf,
    /// Text or JSONL.
    pub kind: FileKind,
    /// Compression.
    pub compression: Compression,
    /// Whether this is standard input (readable once).
    pub stdin: bool,
    /// What ids are made of for records without one (`BASE:LINE`) and for a text file
    /// (`BASE`): the file name without its extensions ([`InputFile::stem`]), or, when
    /// another input file of the run has the same name, the path without extensions
    /// ([`distinguish_id_bases`]), so that `a/part-0.jsonl` and `b/part-0.jsonl` never
    /// give two documents one id.
    pub id_base: String,
}

impl InputFile {
    /// Recognises a file by its name: `.txt`, `.jsonl`/`.ndjson`, plus `.gz`/`.zst`.
    pub fn from_path(path: &Path) -> Option<InputFile> {
        let name = path.file_name()?.to_str()?;
        let (rest, compression) = if let Some(rest) = name.strip_suffix(".gz") {
            (rest, Compression::Gzip)
        } else if let Some(rest) = name.strip_suffix(".zst") {
            (rest, Compression::Zstd)
        } else {
            (name, Compression::None)
        };
        let kind = if rest.ends_with(".jsonl") || rest.ends_with(".ndjson") {
            FileKind::Jsonl
        } else if rest.ends_with(".txt") {
            FileKind::Text
        } else {
            return None;
        };
        Some(InputFile {
            path: path.to_path_buf(),
            label: path.to_path_buf(),
            kind,
            compression,
            stdin: false,
            id_base: stem_of(path),
        })
    }

    /// Looks at the file's first bytes when its name gives no compression. A gzip or
    /// Zstandard file named `.jsonl` or `.txt` (a download saved without its encoding's
    /// extension, a renamed shard) would otherwise be read as lines of invalid UTF-8 and
    /// every record skipped: its compression is taken from its magic number. A UTF-16
    /// file (a spreadsheet export) is refused with [`Error::Utf16Input`] for the same
    /// reason. A file that cannot be opened, or that is not a regular file, is left as
    /// it is, for the read to report.
    pub fn inspect_first_bytes(&mut self) -> Result<()> {
        // Only a regular file can be looked into without taking its bytes from the
        // reader that comes after (a named pipe would also block here for a writer).
        let regular = std::fs::metadata(&self.path).is_ok_and(|meta| meta.is_file());
        if self.compression != Compression::None || self.stdin || !regular {
            return Ok(());
        }
        let mut magic = Vec::with_capacity(4);
        let Ok(file) = File::open(&self.path) else {
            return Ok(());
        };
        // A read error here is left for the real read to report, like an open error.
        let _ = file.take(4).read_to_end(&mut magic);
        self.compression = match magic[..] {
            [0x1F, 0x8B, ..] => Compression::Gzip,
            [0x28, 0xB5, 0x2F, 0xFD] => Compression::Zstd,
            [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => {
                return Err(Error::Utf16Input(self.label.clone()));
            }
            _ => Compression::None,
        };
        Ok(())
    }

    /// JSONL already copied from standard input to `path`: read from there, reported as
    /// `<stdin>`.
    pub fn spooled_stdin(path: &Path) -> InputFile {
        InputFile {
            path: path.to_path_buf(),
            label: PathBuf::from("<stdin>"),
            kind: FileKind::Jsonl,
            compression: Compression::None,
            stdin: false,
            id_base: STDIN_ID_BASE.to_string(),
        }
    }

    /// Standard input, as JSONL.
    pub fn stdin() -> InputFile {
        InputFile {
            path: PathBuf::from("<stdin>"),
            label: PathBuf::from("<stdin>"),
            kind: FileKind::Jsonl,
            compression: Compression::None,
            stdin: true,
            id_base: STDIN_ID_BASE.to_string(),
        }
    }

    /// The file name without its extensions (`stdin` for standard input): the usual
    /// [`InputFile::id_base`].
    pub fn stem(&self) -> String {
        if self.stdin || self.label.as_os_str() == "<stdin>" {
            return STDIN_ID_BASE.to_string();
        }
        stem_of(&self.path)
    }

    /// Whether [`InputFile::read_record_at`] can read this file's records directly:
    /// an uncompressed file that was not standard input.
    pub fn random_access(&self) -> bool {
        self.compression == Compression::None && !self.stdin
    }

    /// Reads `len` bytes at `offset` of an open handle to this file into `buf`
    /// (replacing its contents): a record located by a previous pass ([`RecordMeta`]).
    pub fn read_record_at(
        &self,
        handle: &File,
        offset: u64,
        len: usize,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        buf.clear();
        buf.resize(len, 0);
        read_exact_at(handle, buf, offset).map_err(|e| Error::io(&self.path, e))
    }

    /// Opens the file for [`InputFile::read_record_at`].
    pub fn open_for_records(&self) -> Result<File> {
        File::open(&self.path).map_err(|e| Error::io(&self.path, e))
    }

    /// The file's (decompressed) bytes. Unbuffered where the bytes come straight from
    /// the file: the record reader asks for large chunks and keeps them itself, so a
    /// buffer in between would only copy every byte once more.
    fn open(&self) -> Result<Box<dyn Read + Send>> {
        if self.stdin {
            return Ok(Box::new(std::io::stdin()));
        }
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(match self.compression {
            Compression::None => Box::new(file),
            Compression::Gzip => Box::new(Decompressing {
                decoder: flate2::read::MultiGzDecoder::new(BufReader::new(file)),
                format: "gzip",
            }),
            Compression::Zstd => {
                let decoder =
                    zstd::stream::read::Decoder::new(file).map_err(|e| Error::io(&self.path, e))?;
                Box::new(Decompressing {
                    decoder,
                    format: "zstd",
                })
            }
        })
    }
}

/// A decoder whose failures say what they mean to the user: the decoders' own messages
/// ("incomplete frame", "unexpected end of file") do not say that the file is damaged.
struct Decompressing<R> {
    decoder: R,
    format: &'static str,
}

impl<R: Read> Read for Decompressing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.decoder.read(buf).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("corrupt or truncated {} data ({e})", self.format),
            )
        })
    }
}

/// The id base of standard input.
const STDIN_ID_BASE: &str = "stdin";

/// `path`'s file name without the extensions storyhash reads.
fn stem_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let mut stem = name.as_str();
    for ext in [".gz", ".zst", ".jsonl", ".ndjson", ".txt"] {
        stem = stem.strip_suffix(ext).unwrap_or(stem);
    }
    stem.to_string()
}

/// Sets each file's [`InputFile::id_base`] for one run over `files`: its
/// [`InputFile::stem`], unless another of the files (a different path) has the same
/// stem; then its path without extensions, as it was given. Depends only on the list,
/// so running it again, or on a list built piece by piece, gives the same ids.
pub fn distinguish_id_bases<'a>(files: impl IntoIterator<Item = &'a mut InputFile>) {
    let mut files: Vec<&mut InputFile> = files.into_iter().collect();
    let mut labels_by_stem: HashMap<String, Vec<PathBuf>> = HashMap::new();
    for file in &files {
        let labels = labels_by_stem.entry(file.stem()).or_default();
        if !labels.contains(&file.label) {
            labels.push(file.label.clone());
        }
    }
    for file in &mut files {
        let stem = file.stem();
        file.id_base = if labels_by_stem[&stem].len() > 1 {
            let base = file.label.with_file_name(&stem);
            base.display().to_string()
        } else {
            stem
        };
    }
}

/// Positioned read without moving a shared cursor, so threads can share one handle.
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Positioned read (Windows moves the cursor, which no caller relies on).
#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Resolves sources into files: directories become their recognised files, sorted by
/// name (so input order never depends on the file system); in-memory sources are left
/// out (see [`read_sources`]).
pub fn resolve_sources(sources: &[Source]) -> Result<Vec<InputFile>> {
    let mut files = Vec::new();
    for source in sources {
        match source {
            Source::Path(path) => {
                let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
                if metadata.is_dir() {
                    let mut found = Vec::new();
                    for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
                        let entry_path = entry.map_err(|e| Error::io(path, e))?.path();
                        if entry_path.is_file() {
                            if let Some(file) = InputFile::from_path(&entry_path) {
                                found.push(file);
                            }
                        }
                    }
                    if found.is_empty() {
                        return Err(Error::NoInputFiles(path.clone()));
                    }
                    found.sort_by(|a, b| a.path.cmp(&b.path));
                    files.extend(found);
                } else {
                    files.push(
                        InputFile::from_path(path)
                            .ok_or_else(|| Error::UnsupportedInput(path.clone()))?,
                    );
                }
            }
            Source::Stdin => files.push(InputFile::stdin()),
            Source::Text { .. } => {}
        }
    }
    for file in &mut files {
        file.inspect_first_bytes()?;
    }
    distinguish_id_bases(&mut files);
    Ok(files)
}

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

    /// The bytes of a record described by `meta` (which need not be in `records`).
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
    files: Vec<InputFile>,
    max_document_bytes: u64,
    next_file: usize,
    current: Option<OpenFile>,
}

struct OpenFile {
    index: usize,
    reader: Box<dyn Read + Send>,
    /// Lines taken so far.
    line: u64,
    /// Where the next line starts in the file.
    offset: u64,
    saw_record: bool,
    /// Bytes read beyond the last line a batch took: the start of the next lines.
    carry: Vec<u8>,
}

impl OpenFile {
    fn new(index: usize, reader: Box<dyn Read + Send>) -> Self {
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
        }
    }

    /// The files being read.
    pub fn files(&self) -> &[InputFile] {
        &self.files
    }

    /// Refills `batch` with up to `max_records` records or about `max_bytes` bytes;
    /// returns false once the input is exhausted (and the batch is empty).
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
            if self.current.is_none() {
                if self.next_file == self.files.len() {
                    break;
                }
                let index = self.next_file;
                self.next_file += 1;
                let reader = self.files[index].open()?;
                self.current = Some(OpenFile::new(index, reader));
            }
            let more = match self.files[self.current.as_ref().map_or(0, |c| c.index)].kind {
                FileKind::Text => self.read_text_file(batch)?,
                FileKind::Jsonl => self.read_jsonl_lines(batch, max_records, max_bytes)?,
            };
            if !more {
                self.current = None;
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
fn take_line(open: &mut OpenFile, batch: &mut Batch, range: Range<usize>, limit: u64) {
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
fn read_more(reader: &mut dyn Read, data: &mut Vec<u8>, wanted: usize) -> std::io::Result<usize> {
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

/// Turns one raw record into a document (without duplicate-id checks, which need the
/// whole input: see [`IdRegistry`]).
pub fn parse_record(
    file: &InputFile,
    meta: &RecordMeta,
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<Document, Warning> {
    let fields = parse_fields(file, meta, bytes, options)?;
    Ok(Document {
        id: fields.id.into_owned(),
        text: fields.text.into_owned(),
        title: fields.title.map(Cow::into_owned),
        url: fields.url.map(Cow::into_owned),
        published: fields.published.map(Cow::into_owned),
        location: Location::new(&file.label, meta.line),
    })
}

/// The fields of one record, borrowed from its bytes wherever JSON needed no unescaping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFields<'a> {
    /// The id (given, or the file stem and line).
    pub id: Cow<'a, str>,
    /// The text, not blank.
    pub text: Cow<'a, str>,
    /// Optional `title`.
    pub title: Option<Cow<'a, str>>,
    /// Optional `url`.
    pub url: Option<Cow<'a, str>>,
    /// Optional `published`, as written.
    pub published: Option<Cow<'a, str>>,
}

/// [`parse_record`] without copying: the same checks and warnings, but the fields borrow
/// from `bytes` (a corpus pass reads each text once and needs no owned copy).
pub fn parse_fields<'a>(
    file: &InputFile,
    meta: &RecordMeta,
    bytes: &'a [u8],
    options: &ReadOptions,
) -> Result<RecordFields<'a>, Warning> {
    let fail = |problem, line| Warning {
        location: Location::new(&file.label, line),
        problem,
    };
    if let Some(problem) = &meta.problem {
        return Err(fail(problem.clone(), meta.line));
    }
    match file.kind {
        FileKind::Text => {
            let bytes = strip_bom(bytes);
            let text = validate_utf8(bytes).map_err(|e| {
                let offset = e.valid_up_to();
                let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
                let line_start = bytes[..offset]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let problem = InputProblem::InvalidUtf8 {
                    byte_offset: offset - line_start,
                };
                fail(problem, line)
            })?;
            if text.trim().is_empty() {
                return Err(fail(InputProblem::EmptyDocument, 1));
            }
            Ok(RecordFields {
                id: Cow::Owned(file.id_base.clone()),
                text: Cow::Borrowed(text),
                title: None,
                url: None,
                published: None,
            })
        }
        FileKind::Jsonl => parse_json_line(bytes, file, meta.line, options)
            .map_err(|problem| fail(problem, meta.line)),
    }
}

/// Remembers the ids seen so far and where, to refuse duplicates. Holds each id's bytes
/// plus about 33 (its box, a label index and a line, a table control byte; file labels
/// are stored once, not per id): a million ids cost their own bytes and some tens of
/// megabytes.
#[derive(Debug, Default)]
pub struct IdRegistry {
    /// Id → (index into `labels`, line).
    seen: HashMap<Box<str>, (u32, u64)>,
    labels: Vec<PathBuf>,
}

impl IdRegistry {
    /// Records `id` at `location`, or says where it was first seen.
    pub fn check(&mut self, id: &str, location: &Location) -> Result<(), Warning> {
        self.check_at(id, &location.file, location.line)
    }

    /// [`IdRegistry::check`] for a record at `line` of the file labelled `label`,
    /// without building a [`Location`] unless the id is a duplicate.
    pub fn check_at(&mut self, id: &str, label: &Path, line: u64) -> Result<(), Warning> {
        if let Some(&(first_label, first_line)) = self.seen.get(id) {
            return Err(Warning {
                location: Location::new(label, line),
                problem: InputProblem::DuplicateId {
                    id: id.to_string(),
                    first: Location::new(&self.labels[first_label as usize], first_line),
                },
            });
        }
        // Records arrive file by file, so the label is nearly always the last one.
        if self.labels.last().map(|l| l.as_os_str()) != Some(label.as_os_str()) {
            self.labels.push(label.to_path_buf());
        }
        let label_index = (self.labels.len() - 1) as u32;
        self.seen.insert(id.into(), (label_index, line));
        Ok(())
    }
}

/// Reads every source in order into memory.
pub fn read_sources(sources: &[Source], options: &ReadOptions) -> Result<ReadOutcome> {
    let mut outcome = ReadOutcome::default();
    read_sources_into(sources, options, &mut outcome, &mut |_| Ok(()))?;
    Ok(outcome)
}

/// Reads every source in order and hands the documents (with the warnings met before
/// them) to `each` in batches of about `batch` documents, so that a caller that
/// consumes them as they come (`index add`) holds one batch of text at a time.
/// Duplicate ids are refused across batches.
pub fn read_sources_in_batches<E: From<Error>>(
    sources: &[Source],
    options: &ReadOptions,
    batch: usize,
    mut each: impl FnMut(ReadOutcome) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut outcome = ReadOutcome::default();
    // The caller's error is carried past the reader's own `Result` and given back.
    let mut failed: Option<E> = None;
    let read = read_sources_into(sources, options, &mut outcome, &mut |outcome| {
        if failed.is_none() && outcome.documents.len() >= batch.max(1) {
            if let Err(e) = each(std::mem::take(outcome)) {
                failed = Some(e);
                return Err(Error::InvalidParams("stopped by the caller".into()));
            }
        }
        Ok(())
    });
    if let Some(e) = failed {
        return Err(e);
    }
    read?;
    if !outcome.documents.is_empty() || !outcome.warnings.is_empty() {
        each(outcome)?;
    }
    Ok(())
}

/// Called after each record with what has been read and not yet handed on.
type Drain<'a> = dyn FnMut(&mut ReadOutcome) -> Result<()> + 'a;

fn read_sources_into(
    sources: &[Source],
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    drain: &mut Drain<'_>,
) -> Result<()> {
    let mut ids = IdRegistry::default();
    // Every source's files, resolved before any is read so that ids derived from file
    // names are distinguished across all of them.
    let mut resolved: Vec<Vec<InputFile>> = sources
        .iter()
        .map(|source| resolve_sources(std::slice::from_ref(source)))
        .collect::<Result<_>>()?;
    distinguish_id_bases(resolved.iter_mut().flatten());
    // Files are read in runs between in-memory sources, so that input order is kept.
    let mut pending: Vec<InputFile> = Vec::new();
    let mut read_pending =
        |pending: &mut Vec<InputFile>, outcome: &mut ReadOutcome, ids: &mut IdRegistry| {
            let files = std::mem::take(pending);
            read_files(
                RecordReader::new(files, options),
                options,
                outcome,
                ids,
                drain,
            )
        };
    for (source, files) in sources.iter().zip(resolved) {
        if let Source::Text { name, text } = source {
            read_pending(&mut pending, outcome, &mut ids)?;
            let mut doc = Document::new(name.clone(), text.clone());
            doc.location = Location::new("<memory>", 1);
            let result = if text.trim().is_empty() {
                Err(Warning {
                    location: doc.location,
                    problem: InputProblem::EmptyDocument,
                })
            } else {
                Ok(doc)
            };
            accept(result, options, outcome, &mut ids)?;
        } else {
            pending.extend(files);
        }
    }
    read_pending(&mut pending, outcome, &mut ids)
}

/// Reads JSONL from any reader; `name` labels its locations (e.g. a file path).
pub fn read_jsonl(
    mut input: impl BufRead,
    name: &Path,
    options: &ReadOptions,
) -> Result<ReadOutcome> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(name, e))?;
    let file = InputFile {
        path: name.to_path_buf(),
        label: name.to_path_buf(),
        kind: FileKind::Jsonl,
        compression: Compression::None,
        stdin: false,
        id_base: stem_of(name),
    };
    let mut reader = RecordReader::new(vec![file], options);
    reader.next_file = 1;
    reader.current = Some(OpenFile::new(0, Box::new(std::io::Cursor::new(bytes))));
    let mut outcome = ReadOutcome::default();
    read_files(
        reader,
        options,
        &mut outcome,
        &mut IdRegistry::default(),
        &mut |_| Ok(()),
    )?;
    Ok(outcome)
}

fn read_files(
    mut reader: RecordReader,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    ids: &mut IdRegistry,
    drain: &mut Drain<'_>,
) -> Result<()> {
    let mut batch = Batch::default();
    while reader.next_batch(&mut batch, 1024, 16 << 20)? {
        for (i, meta) in batch.records.iter().enumerate() {
            let file = &reader.files()[meta.file];
            let result = parse_record(file, meta, batch.bytes(i), options);
            accept(result, options, outcome, ids)?;
            drain(outcome)?;
        }
    }
    Ok(())
}

fn accept(
    result: Result<Document, Warning>,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    ids: &mut IdRegistry,
) -> Result<()> {
    match result.and_then(|doc| ids.check(&doc.id, &doc.location).map(|()| doc)) {
        Ok(mut doc) => {
            if let Some(warning) = date_warning(&doc.published, &doc.location) {
                if options.strict {
                    return Err(warning.into());
                }
                // Dropped so that no later stage reads it another way.
                doc.published = None;
                outcome.warnings.push(warning);
            }
            outcome.documents.push(doc);
        }
        Err(warning) if options.strict => return Err(warning.into()),
        Err(warning) => outcome.warnings.push(warning),
    }
    Ok(())
}

/// The warning for a `published` value that [`parse_published`] cannot read, if it is one.
pub fn date_warning(published: &Option<impl AsRef<str>>, location: &Location) -> Option<Warning> {
    let problem = parse_published(published.as_ref()?.as_ref()).err()?;
    Some(Warning {
        location: location.clone(),
        problem: InputProblem::BadDate(problem),
    })
}

fn parse_json_line<'a>(
    line: &'a [u8],
    file: &InputFile,
    line_number: u64,
    options: &ReadOptions,
) -> Result<RecordFields<'a>, InputProblem> {
    let text = validate_utf8(line).map_err(|e| InputProblem::InvalidUtf8 {
        byte_offset: e.valid_up_to(),
    })?;
    let mut fields = match flat_json::read(text, &options.text_field, &options.id_field) {
        Some(fields) => fields,
        None => fields_by_serde(text, options)?,
    };
    let nested_text = fields.text.is_none() && options.text_field.contains('.');
    let nested_id = fields.id.is_none() && options.id_field.contains('.');
    if nested_text || nested_id {
        // Parsed a second time, once for both fields.
        if let Ok(record) = serde_json::from_str::<serde_json::Value>(text) {
            if nested_text {
                fields.text = nested_field(&record, &options.text_field);
            }
            if nested_id {
                fields.id = nested_field(&record, &options.id_field);
            }
        }
    }
    let line = text;
    let field = &options.text_field;
    let text = match fields.text {
        None => {
            return Err(InputProblem::MissingField {
                field: field.clone(),
                present: Some(field_names(line)),
            })
        }
        Some(JsonValue::Null) => {
            return Err(InputProblem::MissingField {
                field: field.clone(),
                present: None,
            })
        }
        Some(value) => value.into_string(field)?,
    };
    if text.trim().is_empty() {
        return Err(InputProblem::EmptyDocument);
    }
    let id = match fields.id {
        None | Some(JsonValue::Null) => Cow::Owned(format!("{}:{line_number}", file.id_base)),
        Some(value) => value.into_id(&options.id_field)?,
    };
    Ok(RecordFields {
        id,
        text,
        title: optional_string(fields.title, "title")?,
        url: optional_string(fields.url, "url")?,
        published: match fields.published {
            None | Some(JsonValue::Null) => None,
            Some(value) => Some(value.into_id("published")?),
        },
    })
}

/// The wanted fields of a JSONL line, read by serde_json: the reader of every line that
/// [`flat_json::read`] leaves, and the one whose errors are reported.
fn fields_by_serde<'a>(text: &'a str, options: &ReadOptions) -> Result<Fields<'a>, InputProblem> {
    let text_fault = std::cell::Cell::new(None);
    let picker = FieldPicker {
        id_field: &options.id_field,
        text_field: &options.text_field,
        line_start: text.as_ptr() as usize,
        text_fault: &text_fault,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let record = picker
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r))
        .map_err(|e| {
            // A fault in the text's escapes is placed at the escape, not where serde_json
            // stood when told (past the whole value).
            InputProblem::MalformedJson(text_fault.take().unwrap_or_else(|| json_error_message(&e)))
        })?;
    match record {
        Record::Object(fields) => Ok(fields),
        Record::Other(kind) => Err(InputProblem::NotAnObject(kind)),
    }
}

/// The value at a dotted path such as `article.body` in a parsed JSON record, for a
/// field name the record does not hold at its top level: each part names a field of the
/// object the part before it names. None when the path leads nowhere. The caller parses
/// the line a second time, as a whole, for this, so a corpus with nested text reads
/// more slowly than one with the text at the top level; a field whose own name holds
/// the dot is found first.
fn nested_field<'a>(record: &serde_json::Value, path: &str) -> Option<JsonValue<'a>> {
    let value = path
        .split('.')
        .try_fold(record, |value, part| value.as_object()?.get(part))?;
    Some(match value {
        serde_json::Value::String(s) => JsonValue::String(Cow::Owned(s.clone())),
        serde_json::Value::Number(n) => JsonValue::Number(n.to_string()),
        serde_json::Value::Null => JsonValue::Null,
        serde_json::Value::Bool(_) => JsonValue::Other("a boolean"),
        serde_json::Value::Array(_) => JsonValue::Other("an array"),
        serde_json::Value::Object(_) => JsonValue::Other("an object"),
    })
}

/// The first [`MAX_FIELDS_SHOWN`] field names of a JSON object line, in sorted order:
/// for the warning of a missing field only, so the line is parsed a second time (none
/// when that parse fails, as for values nested deeper than serde_json's limit).
fn field_names(object_line: &str) -> Vec<String> {
    let keys: BTreeMap<String, IgnoredAny> = serde_json::from_str(object_line).unwrap_or_default();
    keys.into_keys()
        .take(MAX_FIELDS_SHOWN)
        .map(|name| match name.char_indices().nth(40) {
            // A field name is the user's data, of any length: the start identifies it.
            Some((cut, _)) => format!("{}…", &name[..cut]),
            None => name,
        })
        .collect()
}

/// Checks that input bytes are UTF-8 with simdutf8's vectorised validator (std's runs
/// at about 1 GB/s on Arabic text, a tenth of the first pass over an Arabic corpus),
/// asking std again only for a failure, to say where the first bad byte is.
fn validate_utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => std::str::from_utf8(bytes),
    }
}

/// The UTF-8 byte-order mark, skipped at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Reads `input` up to and including the next newline (or to its end); returns the
/// bytes skipped and leaves in `rest` those read after the newline.
fn skip_line(input: &mut dyn Read, rest: &mut Vec<u8>) -> std::io::Result<u64> {
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

fn json_error_message(e: &serde_json::Error) -> String {
    // serde_json appends "at line 1 column N"; the line is always 1 here, so keep the column.
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(pos) => format!("{} (column {})", &message[..pos], e.column()),
        None => message,
    }
}

fn optional_string<'a>(
    value: Option<JsonValue<'a>>,
    field: &str,
) -> Result<Option<Cow<'a, str>>, InputProblem> {
    match value {
        None | Some(JsonValue::Null) => Ok(None),
        Some(value) => value.into_string(field).map(Some),
    }
}

/// The fields of one record that storyhash reads; everything else is skipped unparsed.
#[derive(Debug, Default, PartialEq)]
struct Fields<'de> {
    id: Option<JsonValue<'de>>,
    text: Option<JsonValue<'de>>,
    title: Option<JsonValue<'de>>,
    url: Option<JsonValue<'de>>,
    published: Option<JsonValue<'de>>,
}

impl<'de> Fields<'de> {
    /// Where the value of `key` goes, or `None` for a field storyhash does not read. The
    /// text field's name wins over the id field's, and both over the fixed names.
    fn slot(
        &mut self,
        key: &str,
        text_field: &str,
        id_field: &str,
    ) -> Option<&mut Option<JsonValue<'de>>> {
        if key == text_field {
            Some(&mut self.text)
        } else if key == id_field {
            Some(&mut self.id)
        } else {
            match key {
                "title" => Some(&mut self.title),
                "url" => Some(&mut self.url),
                "published" => Some(&mut self.published),
                _ => None,
            }
        }
    }
}

enum Record<'de> {
    Object(Fields<'de>),
    Other(&'static str),
}

/// A JSON value reduced to what the reader needs to know; strings borrow from the line
/// unless they contained escapes.
#[derive(Debug, PartialEq)]
enum JsonValue<'de> {
    String(Cow<'de, str>),
    Number(String),
    Null,
    Other(&'static str),
}

impl<'de> JsonValue<'de> {
    fn into_string(self, field: &str) -> Result<Cow<'de, str>, InputProblem> {
        match self {
            JsonValue::String(s) => Ok(s),
            other => Err(other.wrong_type(field, "a string")),
        }
    }

    fn into_id(self, field: &str) -> Result<Cow<'de, str>, InputProblem> {
        match self {
            JsonValue::String(s) => Ok(s),
            JsonValue::Number(s) => Ok(Cow::Owned(s)),
            other => Err(other.wrong_type(field, "a string or a number")),
        }
    }

    fn wrong_type(&self, field: &str, expected: &'static str) -> InputProblem {
        let found = match self {
            JsonValue::String(_) => "a string",
            JsonValue::Number(_) => "a number",
            JsonValue::Null => "null",
            JsonValue::Other(kind) => kind,
        };
        InputProblem::WrongType {
            field: field.to_owned(),
            expected,
            found,
        }
    }
}

/// Deserializes a record, keeping only the configured fields (no intermediate map).
struct FieldPicker<'f> {
    id_field: &'f str,
    text_field: &'f str,
    /// Address of the line's first byte, to place a fault in the text field's escapes.
    line_start: usize,
    /// Such a fault, with its column, for the caller's message.
    text_fault: &'f std::cell::Cell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for FieldPicker<'_> {
    type Value = Record<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Record<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldPicker<'_> {
    type Value = Record<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record<'de>, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let Some(slot) = fields.slot(&key, self.text_field, self.id_field) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            // A repeated key keeps its last value, as serde_json's own maps do.
            *slot = Some(if key == self.text_field {
                // The text as its raw JSON, unescaped here: serde_json would unescape
                // an article into a buffer grown from empty for every record (a dozen
                // reallocations), then copy it out once more.
                let raw: &'de serde_json::value::RawValue = map.next_value()?;
                let raw = raw.get();
                raw_json_value(raw).map_err(|(message, at)| {
                    let column = (raw.as_ptr() as usize).wrapping_sub(self.line_start) + at + 1;
                    self.text_fault
                        .set(Some(format!("{message} (column {column})")));
                    de::Error::custom(message)
                })?
            } else {
                map.next_value_seed(ValueSeed)?
            });
        }
        Ok(Record::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Record<'de>, A::Error> {
        drain_seq(seq)?;
        Ok(Record::Other("an array"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Record<'de>, E> {
        Ok(Record::Other("a string"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Record<'de>, E> {
        Ok(Record::Other("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Record<'de>, E> {
        Ok(Record::Other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Record<'de>, E> {
        Ok(Record::Other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Record<'de>, E> {
        Ok(Record::Other("a number"))
    }
    fn visit_unit<E>(self) -> Result<Record<'de>, E> {
        Ok(Record::Other("null"))
    }
}

/// The value of the raw JSON `raw` (already validated by serde_json: a string's
/// escapes are well formed and it holds no control character), or what is wrong with it
/// and its byte offset in `raw`.
fn raw_json_value(raw: &str) -> std::result::Result<JsonValue<'_>, (String, usize)> {
    match raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        // The string's text starts after its quote.
        Some(inner) => unescape_json(inner)
            .map(JsonValue::String)
            .map_err(|(message, at)| (message, at + 1)),
        None => {
            let mut de = serde_json::Deserializer::from_str(raw);
            ValueSeed
                .deserialize(&mut de)
                .map_err(|e| (e.to_string(), 0))
        }
    }
}

/// The string whose JSON text between the quotes is `inner`, borrowed when it has no
/// escape. Unpaired UTF-16 surrogates are refused, as serde_json refuses them when it
/// deserializes a string; the error says why and where the escape starts in `inner`.
fn unescape_json(inner: &str) -> std::result::Result<Cow<'_, str>, (String, usize)> {
    let Some(first) = memchr::memchr(b'\\', inner.as_bytes()) else {
        return Ok(Cow::Borrowed(inner));
    };
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    let mut next = Some(first);
    while let Some(at) = next {
        out.push_str(&rest[..at]);
        let escape = &rest.as_bytes()[at + 1..];
        let fault = |message: String| (message, inner.len() - rest.len() + at);
        let (decoded, used) = match escape.first() {
            Some(b'"') => ('"', 1),
            Some(b'\\') => ('\\', 1),
            Some(b'/') => ('/', 1),
            Some(b'b') => ('\u{8}', 1),
            Some(b'f') => ('\u{c}', 1),
            Some(b'n') => ('\n', 1),
            Some(b'r') => ('\r', 1),
            Some(b't') => ('\t', 1),
            Some(b'u') => unicode_escape(&escape[1..]).map_err(fault)?,
            _ => return Err(fault("invalid escape".to_owned())),
        };
        out.push(decoded);
        rest = &rest[at + 1 + used..];
        next = memchr::memchr(b'\\', rest.as_bytes());
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// The character of a `\u` escape whose hex digits start `after_u`, and how many bytes
/// after the backslash it used (5, or 11 for a surrogate pair).
fn unicode_escape(after_u: &[u8]) -> std::result::Result<(char, usize), String> {
    let hex = |digits: &[u8]| -> Option<u32> {
        digits.get(..4)?.iter().try_fold(0u32, |unit, &d| {
            Some(unit << 4 | char::from(d).to_digit(16)?)
        })
    };
    let unit = hex(after_u).ok_or("invalid \\u escape")?;
    let code = match unit {
        0xD800..=0xDBFF => {
            let low = after_u
                .get(4..6)
                .filter(|pair| *pair == b"\\u")
                .and_then(|_| hex(&after_u[6..]))
                .filter(|low| (0xDC00..=0xDFFF).contains(low))
                .ok_or("lone leading surrogate in hex escape")?;
            return char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                .map(|c| (c, 11))
                .ok_or_else(|| "invalid surrogate pair".to_owned());
        }
        0xDC00..=0xDFFF => return Err("lone trailing surrogate in hex escape".to_owned()),
        unit => unit,
    };
    char::from_u32(code)
        .map(|c| (c, 5))
        .ok_or_else(|| "invalid \\u escape".to_owned())
}

struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = JsonValue<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<JsonValue<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = JsonValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::String(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::Number(v.to_string()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::Other("a boolean"))
    }
    fn visit_unit<E>(self) -> Result<JsonValue<'de>, E> {
        Ok(JsonValue::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<JsonValue<'de>, A::Error> {
        drain_seq(seq)?;
        Ok(JsonValue::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonValue<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(JsonValue::Other("an object"))
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> ReadOutcome {
        read_jsonl(
            input.as_bytes(),
            Path::new("feed.jsonl"),
            &ReadOptions::default(),
        )
        .expect("lenient read does not fail")
    }

    fn problems(outcome: &ReadOutcome) -> Vec<(u64, &'static str)> {
        let kinds = outcome.warnings.iter();
        kinds.map(|w| (w.location.line, w.problem.kind())).collect()
    }

    /// A UTF-16 file is refused by name, in both byte orders, whatever its extension
    /// says; a UTF-8 file with a byte-order mark is read.
    #[test]
    fn utf16_input_is_refused_with_its_name() {
        let dir = std::env::temp_dir().join(format!("storyhash-utf16-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let line = "{\"id\":\"a\",\"text\":\"hello\"}\n";
        let little: Vec<u8> = line.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let big: Vec<u8> = line.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (name, bom, body) in [
            ("le.jsonl", [0xFF, 0xFE], little),
            ("be.txt", [0xFE, 0xFF], big),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, [&bom[..], &body].concat()).expect("write");
            match resolve_sources(&[Source::Path(path.clone())]) {
                Err(Error::Utf16Input(named)) => assert_eq!(named, path),
                other => panic!("{name}: {other:?}"),
            }
        }
        let utf8 = dir.join("bom.jsonl");
        std::fs::write(&utf8, format!("\u{FEFF}{line}")).expect("write");
        let files = resolve_sources(&[Source::Path(utf8)]).expect("a UTF-8 file is read");
        assert_eq!(files[0].compression, Compression::None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn records_can_be_read_again_at_their_offsets() {
        let dir = std::env::temp_dir().join(format!("storyhash-offsets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let jsonl = dir.join("feed.jsonl");
        let long = format!(r#"{{"id":"big","text":"{}"}}"#, "x".repeat(300));
        let content = format!(
            "\u{FEFF}{{\"id\":\"a\",\"text\":\"one\"}}\r\n\n   \n{long}\n{{\"id\":\"b\",\"text\":\"tw\\u00f6\"}}\r\n{{\"id\":\"c\",\"text\":\"end\"}}"
        );
        std::fs::write(&jsonl, content).expect("write");
        let text = dir.join("note.txt");
        std::fs::write(&text, "\u{FEFF}a whole text file\n").expect("write");
        let files = vec![
            InputFile::from_path(&jsonl).expect("jsonl"),
            InputFile::from_path(&text).expect("txt"),
        ];
        let options = ReadOptions {
            max_document_bytes: 200,
            ..ReadOptions::default()
        };
        let mut reader = RecordReader::new(files.clone(), &options);
        let mut batch = Batch::default();
        let mut seen = 0;
        while reader.next_batch(&mut batch, 2, 1 << 20).expect("reads") {
            for (i, meta) in batch.records.iter().enumerate() {
                seen += 1;
                let file = &files[meta.file];
                let handle = file.open_for_records().expect("open");
                let mut again = Vec::new();
                file.read_record_at(&handle, meta.offset, meta.range.len(), &mut again)
                    .expect("read again");
                assert_eq!(again, batch.bytes(i), "record at line {}", meta.line);
            }
        }
        // a, the oversized line (empty range), b, c, and the text file.
        assert_eq!(seen, 5);
        assert!(files.iter().all(InputFile::random_access));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reads_fields_and_ignores_others() {
        let out = read(
            r#"{"id":"a","text":"hello","title":"T","url":"u","published":"2025-01-01","x":[1,{"y":2}]}"#,
        );
        assert!(out.warnings.is_empty());
        let doc = &out.documents[0];
        assert_eq!((doc.id.as_str(), doc.text.as_str()), ("a", "hello"));
        assert_eq!(doc.title.as_deref(), Some("T"));
        assert_eq!(doc.published.as_deref(), Some("2025-01-01"));
        assert_eq!(doc.location, Location::new("feed.jsonl", 1));
    }

    #[test]
    fn dotted_field_names_reach_into_nested_objects() {
        let options = ReadOptions {
            id_field: "meta.id".into(),
            text_field: "article.body".into(),
            ..ReadOptions::default()
        };
        let input = concat!(
            "{\"meta\":{\"id\":7},\"article\":{\"body\":\"nested \\u00e9\"}}\n",
            // A field named with the dot itself comes first.
            "{\"article.body\":\"flat\",\"article\":{\"body\":\"nested\"},\"meta\":{\"id\":\"b\"}}\n",
            "{\"article\":{\"body\":[\"x\"]}}\n",
            "{\"article\":{\"body\":null}}\n",
            "{\"article\":\"not an object\"}\n",
        );
        let out = read_jsonl(input.as_bytes(), Path::new("feed.jsonl"), &options).expect("read");
        let docs: Vec<_> = out
            .documents
            .iter()
            .map(|d| (d.id.as_str(), d.text.as_str()))
            .collect();
        assert_eq!(docs, [("7", "nested é"), ("b", "flat")]);
        let messages: Vec<String> = out.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "feed.jsonl:3: field `article.body` must be a string, found an array",
                "feed.jsonl:4: field `article.body` is null",
                "feed.jsonl:5: missing field `article.body`; the record has `article`",
            ]
        );
    }

    #[test]
    fn numeric_ids_and_missing_ids() {
        let out = read("{\"id\":17,\"text\":\"x\"}\n{\"text\":\"y\"}\n");
        let ids: Vec<_> = out.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["17", "feed:2"]);
    }

    #[test]
    fn bad_lines_are_skipped_with_their_line_numbers() {
        let input = concat!(
            "{\"id\":\"1\",\"text\":\"ok\"}\n",
            "{\"id\":\"2\",\"text\":\n",
            "[1,2]\n",
            "{\"id\":\"4\",\"body\":\"x\"}\n",
            "{\"id\":\"5\",\"text\":42}\n",
            "\n",
            "{\"id\":\"1\",\"text\":\"again\"}\r\n",
            "{\"id\":\"8\",\"text\":\"  \"}\n",
            "{\"id\":\"9\",\"text\":\"last\"}",
        );
        let out = read(input);
        let ids: Vec<_> = out.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["1", "9"]);
        assert_eq!(
            problems(&out),
            [
                (2, "malformed_json"),
                (3, "not_an_object"),
                (4, "missing_field"),
                (5, "wrong_type"),
                (7, "duplicate_id"),
                (8, "empty_document"),
            ]
        );
        assert_eq!(
            out.warnings[3].to_string(),
            "feed.jsonl:5: field `text` must be a string, found a number"
        );
        assert_eq!(
            out.warnings[2].to_string(),
            "feed.jsonl:4: missing field `text`; the record has `body`, `id`"
        );
        let empty = read("{}\n");
        assert_eq!(
            empty.warnings[0].to_string(),
            "feed.jsonl:1: missing field `text`"
        );
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let mut input = b"{\"id\":\"1\",\"text\":\"ok\"}\n{\"id\":\"2\",\"text\":\"b".to_vec();
        input.extend_from_slice(b"\xff\"}\n");
        let out =
            read_jsonl(&input[..], Path::new("f.jsonl"), &ReadOptions::default()).expect("lenient");
        assert_eq!(out.documents.len(), 1);
        assert_eq!(
            out.warnings[0].to_string(),
            "f.jsonl:2: invalid UTF-8 at byte offset 19 of the line"
        );
    }

    #[test]
    fn strict_stops_at_the_first_problem() {
        let options = ReadOptions {
            strict: true,
            ..ReadOptions::default()
        };
        let err = read_jsonl(
            &b"{\"text\":\"a\"}\nnot json\n"[..],
            Path::new("f.jsonl"),
            &options,
        )
        .expect_err("strict read fails");
        assert!(
            err.to_string().starts_with("f.jsonl:2: malformed JSON"),
            "{err}"
        );
    }

    /// Hands out its bytes a few at a time, as a pipe or a decoder may.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// (line, bytes, offset, problem) of every record, as the reader is documented to
    /// find them: lines split at newlines, a line end (LF or CRLF) and a first-line
    /// byte-order mark dropped, blank lines skipped, a line of more than `limit` bytes
    /// plus its line end too large.
    type RawRecord = (u64, Vec<u8>, u64, Option<InputProblem>);

    fn records_by_definition(input: &[u8], limit: u64) -> Vec<RawRecord> {
        let (mut records, mut offset, mut line) = (Vec::new(), 0u64, 0u64);
        let mut rest = input;
        while !rest.is_empty() {
            let cut = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |p| p + 1);
            let (raw, next) = rest.split_at(cut);
            line += 1;
            let n = raw.len() as u64;
            let too_long = if raw.ends_with(b"\n") {
                n > limit + 2
            } else {
                n > limit
            };
            if too_long {
                let problem = InputProblem::TooLarge { bytes: n, limit };
                records.push((line, Vec::new(), offset, Some(problem)));
            } else {
                let mut content = trim_line_end(raw);
                let mut skip = 0;
                if line == 1 && content.starts_with(BOM) {
                    content = &content[BOM.len()..];
                    skip = BOM.len() as u64;
                }
                if !content.iter().all(u8::is_ascii_whitespace) {
                    let len = content.len() as u64;
                    let problem =
                        (len > limit).then_some(InputProblem::TooLarge { bytes: len, limit });
                    records.push((line, content.to_vec(), offset + skip, problem));
                }
            }
            offset += n;
            rest = next;
        }
        if records.is_empty() {
            records.push((1, Vec::new(), 0, Some(InputProblem::EmptyFile)));
        }
        records
    }

    proptest::proptest! {
        #[test]
        fn the_reader_finds_the_records_the_definition_gives(
            lines in proptest::collection::vec(
                proptest::prop_oneof![
                    "[a-z{}\":, ]{0,12}",
                    "[a-z]{20,90}",
                    "[ \t]{0,3}",
                    proptest::strategy::Just("\u{feff}{}".to_string()),
                ],
                0..40,
            ),
            ends in proptest::collection::vec(
                proptest::prop_oneof!["\n", "\r\n", "\n\n"],
                40,
            ),
            last_newline in proptest::bool::ANY,
            step in 1usize..200,
            max_records in 1usize..5,
            max_bytes in 1usize..120,
        ) {
            let mut input = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                input.extend_from_slice(line.as_bytes());
                if i + 1 < lines.len() || last_newline {
                    input.extend_from_slice(ends[i].as_bytes());
                }
            }
            let limit = 40;
            let options = ReadOptions { max_document_bytes: limit, ..ReadOptions::default() };
            let file = InputFile::from_path(Path::new("t.jsonl")).expect("jsonl");
            let mut reader = RecordReader::new(vec![file], &options);
            reader.next_file = 1;
            let trickle = Trickle { bytes: input.clone(), at: 0, step };
            reader.current = Some(OpenFile::new(0, Box::new(trickle)));
            let mut found = Vec::new();
            let mut batch = Batch::default();
            while reader.next_batch(&mut batch, max_records, max_bytes).expect("reads") {
                for (i, meta) in batch.records.iter().enumerate() {
                    found.push((meta.line, batch.bytes(i).to_vec(), meta.offset, meta.problem.clone()));
                }
            }
            proptest::prop_assert_eq!(found, records_by_definition(&input, limit));
        }
    }

    #[test]
    fn files_of_one_name_in_different_places_give_distinct_ids() {
        let dir = std::env::temp_dir().join(format!("storyhash-same-name-{}", std::process::id()));
        for sub in ["a", "b"] {
            std::fs::create_dir_all(dir.join(sub)).expect("dir");
            std::fs::write(
                dir.join(sub).join("part.jsonl"),
                "{\"text\":\"no id here\"}\n",
            )
            .expect("write");
            std::fs::write(dir.join(sub).join("note.txt"), format!("a note in {sub}"))
                .expect("write");
        }
        std::fs::write(dir.join("alone.jsonl"), "{\"text\":\"only one\"}\n").expect("write");
        let sources = [
            Source::Path(dir.join("a")),
            Source::Text {
                name: "memo".into(),
                text: "in between".into(),
            },
            Source::Path(dir.join("b")),
            Source::Path(dir.join("alone.jsonl")),
        ];
        let out = read_sources(&sources, &ReadOptions::default()).expect("reads");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let ids: Vec<&str> = out.documents.iter().map(|d| d.id.as_str()).collect();
        let in_dir = |rel: &str| dir.join(rel).display().to_string();
        assert_eq!(
            ids,
            [
                in_dir("a/note"),
                in_dir("a/part:1"),
                "memo".to_string(),
                in_dir("b/note"),
                in_dir("b/part:1"),
                "alone:1".to_string(),
            ]
        );
        // The same file given twice is one file: its records are true duplicates.
        let twice = [
            Source::Path(dir.join("alone.jsonl")),
            Source::Path(dir.join("alone.jsonl")),
        ];
        let files = resolve_sources(&twice).expect("resolves");
        assert!(files.iter().all(|f| f.id_base == "alone"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bom_and_empty_file() {
        let out = read("\u{FEFF}{\"id\":\"a\",\"text\":\"x\"}");
        assert_eq!(out.documents.len(), 1);
        assert_eq!(problems(&read("")), [(1, "empty_file")]);
        assert_eq!(problems(&read("\n\n")), [(1, "empty_file")]);
    }

    #[test]
    fn oversized_lines_are_skipped_without_being_held() {
        let options = ReadOptions {
            max_document_bytes: 40,
            ..ReadOptions::default()
        };
        let long = format!("{{\"id\":\"big\",\"text\":\"{}\"}}\n", "x".repeat(1000));
        let input = format!("{long}{{\"id\":\"small\",\"text\":\"y\"}}\n");
        let out = read_jsonl(input.as_bytes(), Path::new("f.jsonl"), &options).expect("lenient");
        assert_eq!(out.documents.len(), 1);
        assert_eq!(out.documents[0].id, "small");
        assert_eq!(out.warnings[0].problem.kind(), "too_large");
    }

    /// A JSON string body from pieces: plain text (quotes and backslashes left out),
    /// the short escapes, and `\u` escapes of any UTF-16 unit, surrogates included,
    /// paired or not.
    fn json_string_body() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            "[^\"\\\\\\x00-\\x1f]{0,6}",
            prop::sample::select(vec![
                "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"
            ])
            .prop_map(str::to_owned),
            any::<u16>().prop_map(|unit| format!("\\u{unit:04x}")),
            (0xD800u16..0xDC00, 0xDC00u16..0xE000)
                .prop_map(|(high, low)| format!("\\u{high:04X}\\u{low:04x}")),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest::proptest! {
        /// The text field, unescaped by `unescape_json`, is what serde_json makes of the
        /// same JSON string, refusals included.
        #[test]
        fn text_is_unescaped_as_serde_json_unescapes_it(body in json_string_body()) {
            let quoted = format!("\"{body}\"");
            let expected = serde_json::from_str::<String>(&quoted).ok();
            let got = unescape_json(&body).ok().map(Cow::into_owned);
            proptest::prop_assert_eq!(&got, &expected);
            let line = format!("{{\"id\":\"a\",\"text\":{quoted}}}");
            let file = InputFile::from_path(Path::new("feed.jsonl")).expect("jsonl");
            let options = ReadOptions::default();
            let fields = parse_json_line(line.as_bytes(), &file, 1, &options);
            match (&expected, fields) {
                (Some(text), Ok(fields)) => proptest::prop_assert_eq!(&*fields.text, text.as_str()),
                (Some(text), Err(e)) => {
                    // Blank text is refused as an empty document, not as bad JSON.
                    proptest::prop_assert!(text.trim().is_empty(), "{e:?}");
                    proptest::prop_assert!(matches!(e, InputProblem::EmptyDocument), "{e:?}");
                }
                (None, Ok(fields)) => proptest::prop_assert!(false, "accepted {:?}", fields.text),
                (None, Err(e)) => proptest::prop_assert!(matches!(e, InputProblem::MalformedJson(_)), "{e:?}"),
            }
        }
    }

    #[test]
    fn text_that_is_not_a_string_is_refused_by_its_type() {
        let file = InputFile::from_path(Path::new("feed.jsonl")).expect("jsonl");
        let options = ReadOptions::default();
        for (text, found) in [
            ("3.5", "a number"),
            ("[1]", "an array"),
            ("{}", "an object"),
        ] {
            let line = format!("{{\"text\":{text}}}");
            let problem = parse_json_line(line.as_bytes(), &file, 1, &options).err();
            assert!(
                matches!(problem, Some(InputProblem::WrongType { found: f, .. }) if f == found),
                "{text}: {problem:?}"
            );
        }
        let problem = parse_json_line(b"{\"text\":null}", &file, 1, &options).err();
        assert!(
            matches!(
                problem,
                Some(InputProblem::MissingField { present: None, .. })
            ),
            "{problem:?}"
        );
        // Whitespace around the value is not part of it.
        let line = b"{ \"text\" :\t \"a\\nb\" \r\n, \"id\": \"x\" }";
        let fields = parse_json_line(line, &file, 1, &options).expect("parses");
        assert_eq!(fields.text, "a\nb");
    }

    #[test]
    fn a_bad_escape_in_the_text_is_placed_at_the_escape() {
        let file = InputFile::from_path(Path::new("feed.jsonl")).expect("jsonl");
        let options = ReadOptions::default();
        // The escape starts at byte 19: column 20.
        for (line, message) in [
            (
                &br#"{"id":"e3","text":"\ud800 alone","x":1}"#[..],
                "lone leading surrogate",
            ),
            (
                br#"{"id":"e4","text":"\udc00 alone"}"#,
                "lone trailing surrogate",
            ),
        ] {
            match parse_json_line(line, &file, 1, &options) {
                Err(InputProblem::MalformedJson(m)) => {
                    assert!(m.starts_with(message) && m.ends_with("(column 20)"), "{m}");
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
