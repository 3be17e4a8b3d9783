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
    pub(crate) fn random_access(&self) -> bool {
        self.compression == Compression::None && !self.stdin
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

    /// The file's (decompressed) bytes. Unbuffered where the bytes come straight from
    /// the file: the record reader asks for large chunks and keeps them itself, so a
    /// buffer in between would only copy every byte once more.
    pub(super) fn open(&self) -> Result<Box<dyn Read + Send>> {
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
    for ext in [".gz", ".zst", ".jsonl", ".ndjson", ".txt"] {
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
