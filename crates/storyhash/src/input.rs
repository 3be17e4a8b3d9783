//! Reading documents: `.txt` files (one document each, id = file stem), `.jsonl` files
//! (one JSON object per line), directories of those (sorted by name, not recursive),
//! standard input (JSONL) and in-memory sources.
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
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::doc::Document;
use crate::error::{Error, InputProblem, Location, Result, Warning};

/// Where documents come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A `.txt` or `.jsonl` file, or a directory of them.
    Path(PathBuf),
    /// JSONL on standard input.
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
    /// JSONL field holding the id.
    pub id_field: String,
    /// JSONL field holding the text.
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
    /// One warning per skipped record.
    pub warnings: Vec<Warning>,
}

/// Reads every source in order.
pub fn read_sources(sources: &[Source], options: &ReadOptions) -> Result<ReadOutcome> {
    let mut reader = Reader {
        options,
        outcome: ReadOutcome::default(),
        seen_ids: HashMap::new(),
    };
    for source in sources {
        match source {
            Source::Path(path) => reader.read_path(path)?,
            Source::Stdin => {
                let stdin = std::io::stdin();
                reader.read_jsonl(Path::new("<stdin>"), "stdin", stdin.lock())?;
            }
            Source::Text { name, text } => {
                let location = Location::new("<memory>", 1);
                reader.accept_text_document(name.clone(), text.clone(), location)?;
            }
        }
    }
    Ok(reader.outcome)
}

/// Reads JSONL from any reader; `name` labels its locations (e.g. a file path).
pub fn read_jsonl(input: impl BufRead, name: &Path, options: &ReadOptions) -> Result<ReadOutcome> {
    let mut reader = Reader {
        options,
        outcome: ReadOutcome::default(),
        seen_ids: HashMap::new(),
    };
    let stem = file_stem(name);
    reader.read_jsonl(name, &stem, input)?;
    Ok(reader.outcome)
}

struct Reader<'o> {
    options: &'o ReadOptions,
    outcome: ReadOutcome,
    seen_ids: HashMap<String, Location>,
}

impl Reader<'_> {
    fn read_path(&mut self, path: &Path) -> Result<()> {
        let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if metadata.is_dir() {
            return self.read_dir(path);
        }
        match InputKind::of(path) {
            Some(InputKind::Text) => self.read_txt(path),
            Some(InputKind::Jsonl) => {
                let file = File::open(path).map_err(|e| Error::io(path, e))?;
                self.read_jsonl(
                    path,
                    &file_stem(path),
                    BufReader::with_capacity(1 << 16, file),
                )
            }
            None => Err(Error::UnsupportedInput(path.to_path_buf())),
        }
    }

    fn read_dir(&mut self, dir: &Path) -> Result<()> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            if path.is_file() && InputKind::of(&path).is_some() {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(Error::UnsupportedInput(dir.to_path_buf()));
        }
        // Sorted so that input order, and so representatives and ties, never depend on
        // the file system's listing order.
        files.sort();
        files.iter().try_for_each(|f| self.read_path(f))
    }

    fn read_txt(&mut self, path: &Path) -> Result<()> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let limit = self.options.max_document_bytes;
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
        if bytes.len() as u64 > limit {
            let size = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
            let problem = InputProblem::TooLarge { bytes: size, limit };
            return self.skip(Location::new(path, 1), problem);
        }
        let bytes = strip_bom(&bytes);
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let offset = e.valid_up_to();
                let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
                let line_start = bytes[..offset]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let problem = InputProblem::InvalidUtf8 {
                    byte_offset: offset - line_start,
                };
                return self.skip(Location::new(path, line), problem);
            }
        };
        self.accept_text_document(file_stem(path), text.to_owned(), Location::new(path, 1))
    }

    fn accept_text_document(&mut self, id: String, text: String, location: Location) -> Result<()> {
        if text.trim().is_empty() {
            return self.skip(location, InputProblem::EmptyDocument);
        }
        let document = Document {
            id,
            text,
            title: None,
            url: None,
            published: None,
            location,
        };
        self.accept(document)
    }

    fn read_jsonl(&mut self, path: &Path, stem: &str, mut input: impl BufRead) -> Result<()> {
        let limit = self.options.max_document_bytes;
        let mut line = Vec::new();
        let mut line_no = 0u64;
        let mut saw_record = false;
        loop {
            line.clear();
            let n = (&mut input)
                .take(limit.saturating_add(2))
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(path, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let location = Location::new(path, line_no);
            if line.last() != Some(&b'\n') && n as u64 > limit {
                // Too long: drain the rest of the line without holding it.
                let rest = skip_line(&mut input).map_err(|e| Error::io(path, e))?;
                saw_record = true;
                let bytes = n as u64 + rest;
                self.skip(location, InputProblem::TooLarge { bytes, limit })?;
                continue;
            }
            let mut content = trim_line_end(&line);
            if line_no == 1 {
                content = strip_bom(content);
            }
            if content.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            saw_record = true;
            if content.len() as u64 > limit {
                let bytes = content.len() as u64;
                self.skip(location, InputProblem::TooLarge { bytes, limit })?;
                continue;
            }
            match self.parse_record(content, stem, &location) {
                Ok(document) => self.accept(document)?,
                Err(problem) => self.skip(location, problem)?,
            }
        }
        if !saw_record {
            self.skip(Location::new(path, 1), InputProblem::EmptyFile)?;
        }
        Ok(())
    }

    fn parse_record(
        &self,
        line: &[u8],
        stem: &str,
        location: &Location,
    ) -> Result<Document, InputProblem> {
        let text = std::str::from_utf8(line).map_err(|e| InputProblem::InvalidUtf8 {
            byte_offset: e.valid_up_to(),
        })?;
        let picker = FieldPicker {
            id_field: &self.options.id_field,
            text_field: &self.options.text_field,
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let record = picker
            .deserialize(&mut de)
            .and_then(|r| de.end().map(|()| r))
            .map_err(|e| InputProblem::MalformedJson(json_error_message(&e)))?;
        let fields = match record {
            Record::Object(fields) => fields,
            Record::Other(kind) => return Err(InputProblem::NotAnObject(kind)),
        };
        let field = &self.options.text_field;
        let text = match fields.text {
            None | Some(JsonValue::Null) => return Err(InputProblem::MissingField(field.clone())),
            Some(value) => value.into_string(field)?,
        };
        if text.trim().is_empty() {
            return Err(InputProblem::EmptyDocument);
        }
        let id = match fields.id {
            None | Some(JsonValue::Null) => format!("{stem}:{}", location.line),
            Some(value) => value.into_id(&self.options.id_field)?,
        };
        Ok(Document {
            id,
            text,
            title: optional_string(fields.title, "title")?,
            url: optional_string(fields.url, "url")?,
            published: match fields.published {
                None | Some(JsonValue::Null) => None,
                Some(value) => Some(value.into_id("published")?),
            },
            location: location.clone(),
        })
    }

    fn accept(&mut self, document: Document) -> Result<()> {
        if let Some(first) = self.seen_ids.get(&document.id) {
            let problem = InputProblem::DuplicateId {
                id: document.id.clone(),
                first: first.clone(),
            };
            return self.skip(document.location, problem);
        }
        self.seen_ids
            .insert(document.id.clone(), document.location.clone());
        self.outcome.documents.push(document);
        Ok(())
    }

    fn skip(&mut self, location: Location, problem: InputProblem) -> Result<()> {
        let warning = Warning { location, problem };
        if self.options.strict {
            return Err(warning.into());
        }
        self.outcome.warnings.push(warning);
        Ok(())
    }
}

/// The input kinds recognised by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputKind {
    Text,
    Jsonl,
}

impl InputKind {
    fn of(path: &Path) -> Option<InputKind> {
        match path.extension()?.to_str()? {
            "txt" => Some(InputKind::Text),
            "jsonl" | "ndjson" => Some(InputKind::Jsonl),
            _ => None,
        }
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Consumes input up to and including the next newline; returns the bytes skipped.
fn skip_line(input: &mut impl BufRead) -> std::io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(skipped);
        }
        if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            input.consume(pos + 1);
            return Ok(skipped + pos as u64 + 1);
        }
        let len = buf.len();
        input.consume(len);
        skipped += len as u64;
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

fn optional_string(value: Option<JsonValue>, field: &str) -> Result<Option<String>, InputProblem> {
    match value {
        None | Some(JsonValue::Null) => Ok(None),
        Some(value) => value.into_string(field).map(Some),
    }
}

/// The fields of one record that storyhash reads; everything else is skipped unparsed.
#[derive(Default)]
struct Fields {
    id: Option<JsonValue>,
    text: Option<JsonValue>,
    title: Option<JsonValue>,
    url: Option<JsonValue>,
    published: Option<JsonValue>,
}

enum Record {
    Object(Fields),
    Other(&'static str),
}

/// A JSON value reduced to what the reader needs to know.
enum JsonValue {
    String(String),
    Number(String),
    Null,
    Other(&'static str),
}

impl JsonValue {
    fn into_string(self, field: &str) -> Result<String, InputProblem> {
        match self {
            JsonValue::String(s) => Ok(s),
            other => Err(other.wrong_type(field, "a string")),
        }
    }

    fn into_id(self, field: &str) -> Result<String, InputProblem> {
        match self {
            JsonValue::String(s) | JsonValue::Number(s) => Ok(s),
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
}

impl<'de> DeserializeSeed<'de> for FieldPicker<'_> {
    type Value = Record;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Record, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldPicker<'_> {
    type Value = Record;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let slot = if key == self.text_field {
                &mut fields.text
            } else if key == self.id_field {
                &mut fields.id
            } else {
                match key.as_ref() {
                    "title" => &mut fields.title,
                    "url" => &mut fields.url,
                    "published" => &mut fields.published,
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                }
            };
            // A repeated key keeps its last value, as serde_json's own maps do.
            *slot = Some(map.next_value_seed(ValueSeed)?);
        }
        Ok(Record::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Record, A::Error> {
        drain_seq(seq)?;
        Ok(Record::Other("an array"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Record, E> {
        Ok(Record::Other("a string"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Record, E> {
        Ok(Record::Other("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Record, E> {
        Ok(Record::Other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Record, E> {
        Ok(Record::Other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Record, E> {
        Ok(Record::Other("a number"))
    }
    fn visit_unit<E>(self) -> Result<Record, E> {
        Ok(Record::Other("null"))
    }
}

struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = JsonValue;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<JsonValue, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = JsonValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<JsonValue, E> {
        Ok(JsonValue::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<JsonValue, E> {
        Ok(JsonValue::String(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<JsonValue, E> {
        Ok(JsonValue::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<JsonValue, E> {
        Ok(JsonValue::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<JsonValue, E> {
        Ok(JsonValue::Number(v.to_string()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<JsonValue, E> {
        Ok(JsonValue::Other("a boolean"))
    }
    fn visit_unit<E>(self) -> Result<JsonValue, E> {
        Ok(JsonValue::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<JsonValue, A::Error> {
        drain_seq(seq)?;
        Ok(JsonValue::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonValue, A::Error> {
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
            "{\"id\":\"4\"}\n",
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
}
