//! Reading documents: `.txt` files (one document each, id = file stem), `.html`/`.htm`
//! pages (one document each, its extracted article: [`crate::extract`]), JSONL files (one
//! JSON object per line; `.jsonl`, `.ndjson`, optionally compressed as `.gz` or `.zst`),
//! Parquet files (one document per row), directories of those (sorted by name, not recursive), standard input (JSONL) and
//! in-memory text.
//!
//! Two layers. `RecordReader` streams raw records (a JSONL line, or a whole `.txt`
//! file) in batches without interpreting them, so callers can parse in parallel and
//! read the same input again in a later pass; `parse_record` turns one record into a
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

mod feed;
mod fields;
mod files;
mod flat_json;
pub(crate) mod parquet;
mod reader;

use feed::Feed;
pub(crate) use files::distinguish_id_bases;
use files::stem_of;
pub use files::{resolve_sources, Compression, FileKind, InputFile};
#[cfg(feature = "internals")]
pub use {fields::*, reader::*};
#[cfg(not(feature = "internals"))]
pub(crate) use {fields::*, reader::*};

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
    /// JSONL field (or Parquet column) holding the headline, read as `text_field` is.
    pub title_field: String,
    /// JSONL field (or Parquet column) holding the article's address, read as
    /// `text_field` is.
    pub url_field: String,
    /// JSONL field (or Parquet column) holding the publication time, read as
    /// `text_field` is.
    pub published_field: String,
    /// Stop at the first bad record instead of skipping it.
    pub strict: bool,
    /// Largest accepted document (a JSONL line or a `.txt` file), in bytes. Larger ones are
    /// skipped without being held in memory.
    pub max_document_bytes: u64,
    /// How the input's bytes encode text.
    pub encoding: Encoding,
    /// When a record's text is a web page whose article is extracted
    /// ([`crate::extract`]); `.html` files always are.
    pub html: HtmlText,
}

/// Whether the text of JSONL and Parquet records is read as HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HtmlText {
    /// Texts that look like markup ([`crate::extract::looks_like_html`]) are pages: their
    /// article is extracted; other texts are read as they are.
    #[default]
    Detect,
    /// Every text is a page.
    Always,
    /// No text is a page: markup is read as text.
    Never,
}

impl HtmlText {
    /// Whether `text` is read as a page.
    pub fn applies(self, text: &str) -> bool {
        match self {
            HtmlText::Detect => crate::extract::looks_like_html(text),
            HtmlText::Always => true,
            HtmlText::Never => false,
        }
    }
}

impl std::str::FromStr for HtmlText {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<HtmlText, String> {
        match s {
            "detect" | "auto" => Ok(HtmlText::Detect),
            "always" => Ok(HtmlText::Always),
            "never" => Ok(HtmlText::Never),
            _ => Err(format!(
                "unknown HTML mode {s:?} (known: detect, always, never)"
            )),
        }
    }
}

/// A text encoding of input files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8: bytes that are not are a warning naming the line.
    #[default]
    Utf8,
    /// Windows-1252, which the web (and the WHATWG Encoding Standard) reads for any text
    /// labelled Latin-1 / ISO-8859-1: every byte is a character, so nothing is refused.
    Windows1252,
}

impl std::str::FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Encoding, String> {
        match s.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => {
                Ok(Encoding::Windows1252)
            }
            _ => Err(format!(
                "unknown encoding {s:?} (known: utf-8, windows-1252, latin1)"
            )),
        }
    }
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            id_field: "id".into(),
            text_field: "text".into(),
            title_field: "title".into(),
            url_field: "url".into(),
            published_field: "published".into(),
            strict: false,
            max_document_bytes: 64 << 20,
            encoding: Encoding::Utf8,
            html: HtmlText::Detect,
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
    /// Set by [`read_sources_in_batches`] when standard input had sent nothing more as
    /// these were handed on: a feed between arrivals, a moment to commit.
    pub waiting: bool,
    /// For each of `warnings`, how many of `documents` were read before it, so that
    /// [`ReadOutcome::in_order`] can give records back in input order. Kept by
    /// [`ReadOutcome::push_warning`] and [`ReadOutcome::append`].
    warning_places: Vec<usize>,
}

/// One record of a [`ReadOutcome`] in input order.
#[derive(Debug, Clone, Copy)]
pub enum ReadRecord<'a> {
    /// The next of [`ReadOutcome::documents`].
    Document(&'a Document),
    /// A warning, met after the documents before it and before those after it.
    Warning(&'a Warning),
}

impl ReadOutcome {
    /// Records a warning met after the documents read so far.
    pub fn push_warning(&mut self, warning: Warning) {
        let place = self.documents.len();
        // Warnings added to the public list directly count as met here.
        self.warning_places.resize(self.warnings.len(), place);
        self.warnings.push(warning);
        self.warning_places.push(place);
    }

    /// Moves `later`'s documents and warnings after these, keeping their order.
    pub fn append(&mut self, later: ReadOutcome) {
        let offset = self.documents.len();
        let places = later.places().map(|p| p + offset).collect::<Vec<_>>();
        self.warning_places.extend(places);
        self.warnings.extend(later.warnings);
        self.documents.extend(later.documents);
        self.waiting = later.waiting;
    }

    /// Each warning's place; one added to the public `warnings` directly (not by
    /// [`ReadOutcome::push_warning`]) and not yet placed counts as met after every
    /// document.
    fn places(&self) -> impl Iterator<Item = usize> + '_ {
        let documents = self.documents.len();
        (0..self.warnings.len()).map(move |i| {
            self.warning_places
                .get(i)
                .map_or(documents, |&p| p.min(documents))
        })
    }

    /// The documents and warnings as they were read: a warning about a record (a bad
    /// line, a repeated id, an unreadable date) between the documents read before and
    /// after it. A caller answering every record (`index add`) answers them in this
    /// order, so a program pairing the lines it sends with the answers it reads sees
    /// them in the order it sent them.
    pub fn in_order(&self) -> impl Iterator<Item = ReadRecord<'_>> + '_ {
        let mut warnings = self.places().zip(&self.warnings).peekable();
        let mut next = 0;
        std::iter::from_fn(move || {
            // Places never exceed the documents' count, so once the documents are
            // through, the warnings left come out here.
            if let Some((_, warning)) = warnings.next_if(|&(place, _)| place <= next) {
                return Some(ReadRecord::Warning(warning));
            }
            let document = self.documents.get(next)?;
            next += 1;
            Some(ReadRecord::Document(document))
        })
    }
}

/// Remembers the ids seen so far and where, to refuse duplicates. Holds each id's bytes
/// plus about 33 (its box, a label index and a line, a table control byte; file labels
/// are stored once, not per id): a million ids cost their own bytes and some tens of
/// megabytes.
#[derive(Debug, Default)]
pub(crate) struct IdRegistry {
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
    read_sources_into::<Error>(sources, options, &mut outcome, &mut |_| Ok(()))?;
    Ok(outcome)
}

/// Reads every source in order and hands the documents (with the warnings met before
/// them) to `each` in batches of about `batch` documents, so that a caller that
/// consumes them as they come (`index add`) holds one batch of text at a time; from
/// standard input, also whenever it has sent nothing more ([`ReadOutcome::waiting`]),
/// so that a feed's articles are answered as they arrive. Duplicate ids are refused
/// across batches.
pub fn read_sources_in_batches<E: From<Error>>(
    sources: &[Source],
    options: &ReadOptions,
    batch: usize,
    mut each: impl FnMut(ReadOutcome) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut outcome = ReadOutcome::default();
    read_sources_into(
        sources,
        options,
        &mut outcome,
        &mut |outcome| -> std::result::Result<(), E> {
            let held = !outcome.documents.is_empty() || !outcome.warnings.is_empty();
            if outcome.documents.len() >= batch.max(1) || (outcome.waiting && held) {
                each(std::mem::take(outcome))?;
            }
            Ok(())
        },
    )?;
    if !outcome.documents.is_empty() || !outcome.warnings.is_empty() {
        each(outcome)?;
    }
    Ok(())
}

/// Called after each record with what has been read and not yet handed on; its error
/// (the caller's own type) stops the read.
type Drain<'a, E> = dyn FnMut(&mut ReadOutcome) -> std::result::Result<(), E> + 'a;

fn read_sources_into<E: From<Error>>(
    sources: &[Source],
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    drain: &mut Drain<'_, E>,
) -> std::result::Result<(), E> {
    let mut ids = IdRegistry::default();
    // Every source's files, resolved before any is read so that ids derived from file
    // names are distinguished across all of them.
    let mut walked = Vec::new();
    let mut resolved: Vec<Vec<InputFile>> = sources
        .iter()
        .map(|source| resolve_sources(std::slice::from_ref(source), &mut walked))
        .collect::<Result<_>>()?;
    for warning in walked {
        if options.strict {
            return Err(Error::Input {
                location: warning.location,
                problem: warning.problem,
            }
            .into());
        }
        outcome.push_warning(warning);
    }
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
    reader.current = Some(OpenFile::new(
        0,
        Bytes::File(Box::new(std::io::Cursor::new(bytes))),
    ));
    let mut outcome = ReadOutcome::default();
    read_files::<Error>(
        reader,
        options,
        &mut outcome,
        &mut IdRegistry::default(),
        &mut |_| Ok(()),
    )?;
    Ok(outcome)
}

fn read_files<E: From<Error>>(
    mut reader: RecordReader,
    options: &ReadOptions,
    outcome: &mut ReadOutcome,
    ids: &mut IdRegistry,
    drain: &mut Drain<'_, E>,
) -> std::result::Result<(), E> {
    let mut batch = Batch::default();
    while reader.next_batch(&mut batch, 1024, 16 << 20)? {
        for (i, meta) in batch.records.iter().enumerate() {
            let file = &reader.files()[meta.file];
            let result = parse_record(file, meta, batch.bytes(i), options);
            accept(result, options, outcome, ids)?;
            drain(outcome)?;
        }
        if reader.waiting() {
            outcome.waiting = true;
            drain(outcome)?;
            outcome.waiting = false;
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
                outcome.push_warning(warning);
            }
            outcome.documents.push(doc);
        }
        Err(warning) if options.strict => return Err(warning.into()),
        Err(warning) => outcome.push_warning(warning),
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

    /// Lines as `in_order` gives them back: `d:ID` for a document, `w:LINE` for a
    /// warning.
    fn order(outcome: &ReadOutcome) -> Vec<String> {
        (outcome.in_order())
            .map(|r| match r {
                ReadRecord::Document(d) => format!("d:{}", d.id),
                ReadRecord::Warning(w) => format!("w:{}", w.location.line),
            })
            .collect()
    }

    /// Skipped records and unreadable dates come back where they stood among the
    /// documents, also when outcomes are appended and when a warning opens or closes
    /// the input.
    #[test]
    fn records_come_back_in_input_order() {
        let lines = [
            "not json",
            r#"{"id":"a","text":"one"}"#,
            r#"{"id":"b","text":"two","published":"yesterday-ish"}"#,
            r#"{"id":"a","text":"again"}"#,
            r#"{"id":"c","text":"three"}"#,
            r#"{"id":"d","text":" "}"#,
        ];
        let all = read(&(lines.join("\n") + "\n"));
        let expected = ["w:1", "d:a", "w:3", "d:b", "w:4", "d:c", "w:6"];
        assert_eq!(order(&all), expected);
        // The same lines read as two outcomes (split after each line in turn) and
        // appended.
        for split in 1..lines.len() {
            let mut first = read(&(lines[..split].join("\n") + "\n"));
            let second = read(&(lines[split..].join("\n") + "\n"));
            let mut expected_order = order(&first);
            // (The second read numbers its lines from 1.)
            expected_order.extend(order(&second));
            first.append(second);
            assert_eq!(order(&first), expected_order, "split after {split}");
        }
        // A warning pushed onto the list directly comes after every document.
        let mut direct = read(r#"{"id":"a","text":"one"}"#);
        direct.warnings.push(all.warnings[0].clone());
        direct.push_warning(all.warnings[1].clone());
        assert_eq!(order(&direct), ["d:a", "w:1", "w:3"]);
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
            match resolve_sources(&[Source::Path(path.clone())], &mut Vec::new()) {
                Err(Error::Utf16Input(named)) => assert_eq!(named, path),
                other => panic!("{name}: {other:?}"),
            }
        }
        let utf8 = dir.join("bom.jsonl");
        std::fs::write(&utf8, format!("\u{FEFF}{line}")).expect("write");
        let files =
            resolve_sources(&[Source::Path(utf8)], &mut Vec::new()).expect("a UTF-8 file is read");
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
    fn title_address_and_time_are_read_from_the_fields_named() {
        let options = ReadOptions {
            title_field: "headline".into(),
            url_field: "link".into(),
            published_field: "meta.date_publish".into(),
            ..ReadOptions::default()
        };
        let input = concat!(
            // The default names are then other fields, not read.
            "{\"text\":\"a\",\"headline\":\"H\",\"link\":\"https://x.test/1\",",
            "\"meta\":{\"date_publish\":\"2024-03-01 09:30:00\"},",
            "\"title\":\"not this\",\"published\":\"2020-01-01\"}\n",
            // A record without them is undated and without a headline.
            "{\"text\":\"b\",\"title\":\"not this\"}\n",
            "{\"text\":\"c\",\"meta\":{\"date_publish\":1709285400}}\n",
            "{\"text\":\"d\",\"headline\":[\"H\"]}\n",
            "{\"text\":\"e\",\"meta\":{\"date_publish\":true}}\n",
        );
        let out = read_jsonl(input.as_bytes(), Path::new("feed.jsonl"), &options).expect("read");
        let docs: Vec<_> = out
            .documents
            .iter()
            .map(|d| {
                let field = |f: &Option<String>| f.clone().unwrap_or_default();
                (
                    d.text.as_str(),
                    field(&d.title),
                    field(&d.url),
                    field(&d.published),
                )
            })
            .collect();
        let row = |text, title: &str, url: &str, published: &str| {
            (text, title.to_owned(), url.to_owned(), published.to_owned())
        };
        assert_eq!(
            docs,
            [
                row("a", "H", "https://x.test/1", "2024-03-01 09:30:00"),
                row("b", "", "", ""),
                row("c", "", "", "1709285400"),
            ]
        );
        let messages: Vec<String> = out.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "feed.jsonl:4: field `headline` must be a string, found an array",
                "feed.jsonl:5: field `meta.date_publish` must be a string or a number, found a boolean",
            ]
        );
    }

    #[test]
    fn one_name_given_to_two_fields_is_read_as_the_first_of_text_id_title() {
        let only = |line: &str, options: ReadOptions| {
            let out = read_jsonl(line.as_bytes(), Path::new("feed.jsonl"), &options);
            out.expect("read").documents.remove(0)
        };
        let doc = only(
            "{\"text\":\"a\",\"title\":\"T\"}\n",
            ReadOptions {
                id_field: "title".into(),
                published_field: "title".into(),
                ..ReadOptions::default()
            },
        );
        assert_eq!((doc.id.as_str(), doc.title.as_deref()), ("T", None));
        assert_eq!(doc.published, None);
        // So is a dotted name reaching into a nested object.
        let doc = only(
            "{\"a\":{\"b\":\"x\"}}\n",
            ReadOptions {
                text_field: "a.b".into(),
                title_field: "a.b".into(),
                ..ReadOptions::default()
            },
        );
        assert_eq!((doc.text.as_str(), doc.title.as_deref()), ("x", None));
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
            reader.current = Some(OpenFile::new(0, Bytes::File(Box::new(trickle))));
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
        let files = resolve_sources(&twice, &mut Vec::new()).expect("resolves");
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

    /// Numeric ids keep their text in both readers (the flat one, and the general one a
    /// nested field sends the line to): through f64, the first two would be one id and
    /// `1e2` would be `100`.
    #[test]
    fn numeric_ids_keep_their_exact_text() {
        let file = InputFile::from_path(Path::new("feed.jsonl")).expect("jsonl");
        let options = ReadOptions::default();
        for id in [
            "18446744073709551616",
            "18446744073709551617",
            "1e2",
            "100",
            "-0.50",
            "1e400",
        ] {
            for extra in ["", r#","meta":{"n":[1]}"#, r#","t\u0069tle":"x""#] {
                let line = format!(r#"{{"id":{id},"text":"t"{extra}}}"#);
                let fields = parse_json_line(line.as_bytes(), &file, 1, &options).expect("parses");
                assert_eq!(fields.id, id, "{line}");
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
