//! The library's one error type. Input errors carry the file and line they came from so
//! that a person can find the offending bytes; everything else names what it was doing.

use std::fmt;
use std::path::PathBuf;

/// Where a piece of input came from: a file (or `<stdin>`) and a 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The path as the user gave it, or `<stdin>` / `<embedded>`.
    pub file: PathBuf,
    /// 1-based line; for a whole-file document, the line where the problem is (1 if none);
    /// 0 for a problem with a whole file or directory.
    pub line: u64,
}

impl Location {
    /// A location at `line` of `file`.
    pub fn new(file: impl Into<PathBuf>, line: u64) -> Self {
        Location {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Location {
    /// `file:line`, or the file alone for a whole file or directory (line 0).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", shown(&self.file))
        } else {
            write!(f, "{}:{}", shown(&self.file), self.line)
        }
    }
}

/// A path as messages print it: file names can hold control characters too, and
/// messages end up on terminals ([`crate::doc::printable`]).
pub(crate) fn shown(path: &std::path::Path) -> String {
    crate::doc::printable(&path.display().to_string()).into_owned()
}

/// Why one input record could not be turned into a document. These are *soft* errors:
/// the reader reports them as warnings and skips the record, unless the caller asked for
/// strict reading, in which case the first one stops the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputProblem {
    /// Bytes that are not UTF-8.
    #[error("invalid UTF-8 at byte offset {byte_offset} of the line")]
    InvalidUtf8 {
        /// Offset of the first bad byte within the line (or file, for `.txt`).
        byte_offset: usize,
    },
    /// A JSONL line that does not parse as JSON.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A JSONL line that is valid JSON but not an object.
    #[error("expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// The text field is absent, or null.
    #[error("{}", missing_field(.field, .present.as_deref()))]
    MissingField {
        /// The field's name.
        field: String,
        /// The names of the record's fields, for the user to find the one meant (at most
        /// [`MAX_FIELDS_SHOWN`]; empty if none could be read); None when the field is
        /// there but null.
        present: Option<Vec<String>>,
    },
    /// A field exists but has the wrong JSON type.
    #[error("field `{field}` must be {expected}, found {found}")]
    WrongType {
        /// The field's name.
        field: String,
        /// What was expected, e.g. "a string".
        expected: &'static str,
        /// What was found, e.g. "an array".
        found: &'static str,
    },
    /// A file or text with nothing in it.
    #[error("empty document")]
    EmptyDocument,
    /// A JSONL file without a single document.
    #[error("no documents in file")]
    EmptyFile,
    /// An id that an earlier document already used.
    #[error("duplicate id {id:?} (first used at {first})")]
    DuplicateId {
        /// The repeated id.
        id: String,
        /// Where the id was first seen.
        first: Location,
    },
    /// A publication time that cannot be read, or names a date that does not exist
    /// ([`crate::doc::parse_published`] says which). The only problem that does not
    /// skip the record: the document is kept without a publication time.
    #[error("{0}; kept without a publication time")]
    BadDate(String),
    /// A directory entry that was not read (named in the warning's location), and why.
    #[error("not read: {0}")]
    NotRead(String),
    /// A document larger than the configured limit.
    #[error("document of {bytes} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the document.
        bytes: u64,
        /// The configured maximum.
        limit: u64,
    },
}

impl InputProblem {
    /// A short stable name for counting skipped documents by reason.
    pub fn kind(&self) -> &'static str {
        match self {
            InputProblem::InvalidUtf8 { .. } => "invalid_utf8",
            InputProblem::MalformedJson(_) => "malformed_json",
            InputProblem::NotAnObject(_) => "not_an_object",
            InputProblem::MissingField { .. } => "missing_field",
            InputProblem::WrongType { .. } => "wrong_type",
            InputProblem::EmptyDocument => "empty_document",
            InputProblem::EmptyFile => "empty_file",
            InputProblem::DuplicateId { .. } => "duplicate_id",
            InputProblem::TooLarge { .. } => "too_large",
            InputProblem::BadDate(_) => "bad_date",
            InputProblem::NotRead(_) => "not_read",
        }
    }

    /// Whether the record is skipped (every problem but [`InputProblem::BadDate`]).
    pub fn skips_record(&self) -> bool {
        !matches!(self, InputProblem::BadDate(_))
    }
}

/// Field names a [`InputProblem::MissingField`] warning lists.
pub const MAX_FIELDS_SHOWN: usize = 8;

/// The warning of a missing field, naming the fields the record has: a text under
/// another name is the usual cause (a corpus with `content` or `body`), and the name to
/// ask for is then in the message.
fn missing_field(field: &str, present: Option<&[String]>) -> String {
    match present {
        None => format!("field `{field}` is null"),
        // No fields, or names that could not be read.
        Some([]) => format!("missing field `{field}`"),
        Some(names) => {
            let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
            format!(
                "missing field `{field}`; the record has {}",
                names.join(", ")
            )
        }
    }
}

/// A soft input error tied to its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where the record is.
    pub location: Location,
    /// What is wrong with it.
    pub problem: InputProblem,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.problem)
    }
}

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad input record while reading strictly.
    #[error("{location}: {problem}")]
    Input {
        /// Where the record is.
        location: Location,
        /// What is wrong with it.
        problem: InputProblem,
    },
    /// An I/O failure on a named file.
    #[error("{}: {source}", shown(path))]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Parameters that cannot work together (e.g. a threshold outside (0, 1]).
    #[error("invalid parameters: {0}")]
    InvalidParams(String),
    /// An index file that cannot be used: not an index, a version this build does not
    /// read, or damaged. Nothing is read from such a file.
    #[error("{}: {problem}", shown(path))]
    Index {
        /// The index file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A Parquet file that cannot be read or written as asked: damaged or truncated, a
    /// wanted column missing or of a type that cannot hold it, files of one run with
    /// different schemas. `detail` names the row group and column where one applies.
    #[error("{}: {detail}", shown(path))]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where in the file.
        detail: String,
    },
    /// A record that read differently in a later pass over the same input (dedup
    /// reads its input more than once): the file was modified while it ran.
    #[error("{location}: the input changed while it was being read ({detail}); run again on a file nobody is writing")]
    InputChanged {
        /// Where the record was in the first pass.
        location: Location,
        /// What differed.
        detail: String,
    },
    /// A run whose per-document tables would pass the memory it may use.
    #[error("after {documents} documents, dedup's per-document tables take {} MiB (about {} bytes a document), more than the memory limit of {} MiB; split the input into parts, or raise the limit if the machine has the memory", .used >> 20, .used / (*.documents).max(1), .limit >> 20)]
    MemoryLimit {
        /// Documents read when the limit was passed.
        documents: u64,
        /// Bytes their tables took.
        used: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// A document id that is already in the index.
    #[error("id {0:?} is already in the index")]
    DuplicateId(String),
    /// A document id that is not in the index.
    #[error("id {0:?} is not in the index")]
    UnknownId(String),
    /// An input path whose kind is not supported.
    #[error("{}: unsupported input (expected a .txt, .jsonl or .parquet file, a directory, or -)", shown(.0))]
    UnsupportedInput(PathBuf),
    /// An input file in UTF-16 (it starts with a UTF-16 byte-order mark).
    #[error("{}: UTF-16 text (it starts with a UTF-16 byte-order mark); storyhash reads UTF-8, so convert it first (for example iconv -f UTF-16 -t UTF-8)", shown(.0))]
    Utf16Input(PathBuf),
    /// A directory given as input with no file storyhash reads in it.
    #[error("{}: no .txt, .jsonl, .ndjson (optionally .gz or .zst) or .parquet file in this directory (subdirectories are not read)", shown(.0))]
    NoInputFiles(PathBuf),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<Warning> for Error {
    fn from(w: Warning) -> Self {
        Error::Input {
            location: w.location,
            problem: w.problem,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
