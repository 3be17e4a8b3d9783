//! Finding input files: their kind and compression (by name, then by their first bytes),
//! directories, standard input spooled to a file, ids made from file names, and
//! positioned reads of a record again.

use super::*;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// One document per file.
    Text,
    /// One JSON object per line.
    Jsonl,
    /// A Parquet file: one document per row (`input::parquet`).
    Parquet,
    /// A web page: one document, its extracted article ([`crate::extract`]).
    Html,
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
    /// (`distinguish_id_bases`), so that `a/part-0.jsonl` and `b/part-0.jsonl` never
    /// give two documents one id.
    pub id_base: String,
}

/// Names of other files listed in a directory's warning, at most.
const OTHER_FILES_NAMED: usize = 5;

/// The directories of one walk, by canonical path.
#[derive(Default)]
struct Walk {
    /// Those being walked, outermost first: a link to one of them is a loop.
    open: Vec<PathBuf>,
    /// Every one walked: a directory reached again through a link is not read twice
    /// (links between directories could otherwise multiply the paths without end).
    seen: std::collections::HashSet<PathBuf>,
}

/// Collects the recognised files under `dir` into `found`, each directory once.
fn walk_directory(
    dir: &Path,
    walk: &mut Walk,
    found: &mut Vec<InputFile>,
    warnings: &mut Vec<Warning>,
) -> Result<()> {
    let not_read = |warnings: &mut Vec<Warning>, path: &Path, reason: String| {
        warnings.push(Warning {
            location: Location::new(path, 0),
            problem: InputProblem::NotRead(reason),
        });
    };
    let canonical = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    if walk.open.contains(&canonical) {
        not_read(
            warnings,
            dir,
            "a link to a directory that contains it (a loop)".into(),
        );
        return Ok(());
    }
    if !walk.seen.insert(canonical.clone()) {
        not_read(
            warnings,
            dir,
            "a link to a directory read through another path".into(),
        );
        return Ok(());
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // The top directory's failure is the caller's error; a subdirectory's is a
        // warning, as for any other entry that cannot be read.
        Err(e) if walk.open.is_empty() => return Err(Error::io(dir, e)),
        Err(e) => {
            not_read(warnings, dir, format!("cannot list it: {e}"));
            return Ok(());
        }
    };
    walk.open.push(canonical);
    let mut paths = Vec::new();
    for entry in entries {
        paths.push(entry.map_err(|e| Error::io(dir, e))?.path());
    }
    paths.sort();
    let mut others = Vec::new();
    for path in paths {
        let hidden = path
            .file_name()
            .is_some_and(|name| name.as_encoded_bytes().starts_with(b"."));
        if hidden {
            continue;
        }
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk_directory(&path, walk, found, warnings)?,
            Ok(meta) => match InputFile::from_path(&path) {
                Some(file) if meta.is_file() => found.push(file),
                Some(_) => not_read(
                    warnings,
                    &path,
                    "not a regular file (a named pipe, a socket or a device)".into(),
                ),
                None => others.push(path),
            },
            Err(e) => {
                let is_link = std::fs::symlink_metadata(&path)
                    .is_ok_and(|meta| meta.file_type().is_symlink());
                let reason = if is_link {
                    format!("a symbolic link to nothing readable ({e})")
                } else {
                    e.to_string()
                };
                not_read(warnings, &path, reason);
            }
        }
    }
    walk.open.pop();
    if !others.is_empty() {
        let mut names: Vec<String> = others
            .iter()
            .take(OTHER_FILES_NAMED)
            .map(|p| crate::error::shown(Path::new(p.file_name().unwrap_or_default())))
            .collect();
        if others.len() > OTHER_FILES_NAMED {
            names.push(format!("{} more", others.len() - OTHER_FILES_NAMED));
        }
        not_read(
            warnings,
            dir,
            format!(
                "{} not read (storyhash reads .txt, .html, .htm, .jsonl and .ndjson, \
                 optionally .gz or .zst, and .parquet): {}",
                plural_files(others.len()),
                names.join(", ")
            ),
        );
    }
    Ok(())
}

fn plural_files(n: usize) -> String {
    if n == 1 {
        "1 file".into()
    } else {
        format!("{n} files")
    }
}

impl InputFile {
    /// Recognises a file by its name: `.txt`, `.html`/`.htm`, `.jsonl`/`.ndjson`, plus
    /// `.gz`/`.zst`, and
    /// `.parquet` (whose pages carry their own compression).
    pub fn from_path(path: &Path) -> Option<InputFile> {
        // Only the extensions matter: a name that is not UTF-8 (a file from another
        // system's encoding) is recognised by them as any other.
        let name = path.file_name()?.to_string_lossy();
        let name = name.as_ref();
        let (rest, compression) = if let Some(rest) = name.strip_suffix(".gz") {
            (rest, Compression::Gzip)
        } else if let Some(rest) = name.strip_suffix(".zst") {
            (rest, Compression::Zstd)
        } else {
            (name, Compression::None)
        };
        if name.ends_with(".parquet") {
            return Some(InputFile {
                path: path.to_path_buf(),
                label: path.to_path_buf(),
                kind: FileKind::Parquet,
                compression: Compression::None,
                stdin: false,
                id_base: stem_of(path),
            });
        }
        let kind = if rest.ends_with(".jsonl") || rest.ends_with(".ndjson") {
            FileKind::Jsonl
        } else if rest.ends_with(".txt") {
            FileKind::Text
        } else if rest.ends_with(".html") || rest.ends_with(".htm") {
            FileKind::Html
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
        if self.compression != Compression::None
            || self.stdin
            || !regular
            || self.kind == FileKind::Parquet
        {
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
    /// an uncompressed text or JSONL file that was not standard input (a Parquet row is
    /// decoded from its row group's pages, never read at an offset).
    pub(crate) fn random_access(&self) -> bool {
        self.compression == Compression::None && !self.stdin && self.kind != FileKind::Parquet
    }

    /// Reads `len` bytes at `offset` of an open handle to this file into `buf`
    /// (replacing its contents): a record located by a previous pass (`RecordMeta`).
    pub(crate) fn read_record_at(
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
    pub(crate) fn open_for_records(&self) -> Result<File> {
        File::open(&self.path).map_err(|e| Error::io(&self.path, e))
    }

    /// The file's (decompressed) bytes, or standard input's as a [`Feed`]. Unbuffered
    /// where the bytes come straight from the file: the record reader asks for large
    /// chunks and keeps them itself, so a buffer in between would only copy every byte
    /// once more.
    pub(super) fn open(&self) -> Result<Bytes> {
        if self.stdin {
            return Ok(Bytes::Feed(Feed::stdin()));
        }
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(Bytes::File(match self.compression {
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
        }))
    }
}

/// A decoder whose failures say what they mean to the user: the decoders' own messages
/// ("incomplete frame", "unexpected end of file") do not say that the file is damaged.
pub(super) struct Decompressing<R> {
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
pub(super) const STDIN_ID_BASE: &str = "stdin";

/// `path`'s file name without the extensions storyhash reads.
pub(super) fn stem_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let mut stem = name.as_str();
    for ext in [
        ".gz", ".zst", ".jsonl", ".ndjson", ".txt", ".html", ".htm", ".parquet",
    ] {
        stem = stem.strip_suffix(ext).unwrap_or(stem);
    }
    stem.to_string()
}

/// Sets each file's [`InputFile::id_base`] for one run over `files`: its
/// [`InputFile::stem`], unless another of the files (a different path) has the same
/// stem; then its path without extensions, as it was given. Depends only on the list,
/// so running it again, or on a list built piece by piece, gives the same ids.
pub(crate) fn distinguish_id_bases<'a>(files: impl IntoIterator<Item = &'a mut InputFile>) {
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
pub(super) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Positioned read (Windows moves the cursor, which no caller relies on).
#[cfg(windows)]
pub(super) fn read_exact_at(
    file: &File,
    mut buf: &mut [u8],
    mut offset: u64,
) -> std::io::Result<()> {
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

/// Resolves sources into files: directories are walked recursively and become their
/// recognised files, sorted by path (so input order never depends on the file system);
/// in-memory sources are left out (see [`read_sources`]). Entries of a directory that
/// are not read get a warning in `warnings`, never silence: a recognised name that is
/// not a readable regular file (a dangling link, a named pipe, a device), a link back
/// to a directory being walked, a directory that cannot be listed, and (one warning per
/// directory) files of other kinds. Hidden entries (names starting with `.`) are not
/// walked: they are version-control and editor files, not corpora.
pub fn resolve_sources(sources: &[Source], warnings: &mut Vec<Warning>) -> Result<Vec<InputFile>> {
    let mut files = Vec::new();
    for source in sources {
        match source {
            Source::Path(path) => {
                let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
                if metadata.is_dir() {
                    let mut found = Vec::new();
                    let mut walk = Walk::default();
                    walk_directory(path, &mut walk, &mut found, warnings)?;
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
