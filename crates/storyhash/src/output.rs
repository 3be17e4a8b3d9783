//! Crash-safe file output: write to a temporary file in the destination's directory,
//! flush and fsync it, then rename it over the destination. A reader (or a user after a
//! crash or a kill) sees either the old file or the complete new one, never a partial
//! one. The temporary file is removed if the write is abandoned.
//!
//! A destination that is not a regular file (`/dev/null`, `/dev/stdout`, a named pipe)
//! is written in place: renaming over it would replace the device or pipe with a
//! regular file. A symbolic link is followed, and the file it names is replaced.

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::tables::{ParquetLines, Table};

/// A file being written atomically. Write through [`AtomicFile::writer`], then
/// [`AtomicFile::commit`]; dropping it uncommitted deletes the temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    destination: PathBuf,
    /// The file written, renamed over `destination` on commit; None when `destination`
    /// is written in place (a device or a pipe).
    temporary: Option<PathBuf>,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `destination` (nothing there changes until `commit`, unless it
    /// is a device or a pipe, which is written as it comes).
    pub fn create(destination: impl AsRef<Path>) -> Result<AtomicFile> {
        let given = destination.as_ref();
        check_destination(given)?;
        match fs::metadata(given) {
            Ok(meta) if !meta.is_file() => {
                let file = fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(given)
                    .map_err(|e| Error::io(given, e))?;
                return Ok(AtomicFile {
                    destination: given.to_path_buf(),
                    temporary: None,
                    writer: Some(BufWriter::with_capacity(1 << 16, file)),
                });
            }
            _ => {}
        }
        // Replace the file a symbolic link names, not the link.
        let destination = match fs::symlink_metadata(given) {
            Ok(meta) if meta.file_type().is_symlink() => {
                fs::canonicalize(given).map_err(|e| Error::io(given, e))?
            }
            _ => given.to_path_buf(),
        };
        let dir = match destination.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = destination
            .file_name()
            .ok_or_else(|| Error::io(&destination, io::Error::other("not a file name")))?;
        let mut temporary_name = std::ffi::OsString::from(".");
        temporary_name.push(name);
        // Unique per file in the process too: two outputs of one run never share one.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        temporary_name.push(format!(".tmp-{}-{n}", std::process::id()));
        let temporary = dir.join(temporary_name);
        // Named by the destination: the temporary name means nothing to the user.
        let file = File::create(&temporary).map_err(|e| Error::io(&destination, e))?;
        Ok(AtomicFile {
            destination,
            temporary: Some(temporary),
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// Where to write the contents.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer
            .as_mut()
            .expect("the writer is only taken by commit, which consumes self")
    }

    /// Flushes, fsyncs and renames the file into place, then fsyncs the directory so the
    /// rename itself survives a power loss.
    pub fn commit(mut self) -> Result<()> {
        let writer = self
            .writer
            .take()
            .expect("the writer is only taken by commit, which consumes self");
        let Some(temporary) = self.temporary.clone() else {
            // A device or a pipe: flushing is all there is (they cannot be fsynced).
            writer
                .into_inner()
                .map_err(|e| Error::io(&self.destination, e.into_error()))?;
            return Ok(());
        };
        // On any failure below, `drop` deletes the temporary file (still named in
        // `self.temporary`).
        let file = writer
            .into_inner()
            .map_err(|e| Error::io(&self.destination, e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io(&self.destination, e))?;
        drop(file);
        fs::rename(&temporary, &self.destination).map_err(|e| Error::io(&self.destination, e))?;
        self.temporary = None;
        if let Some(dir) = self
            .destination
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            // Opening a directory to fsync it is not supported everywhere; the rename has
            // already happened, so a failure here only weakens durability.
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }
}

impl io::Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}

/// A list output (pairs, removed, clusters, band rows) written atomically: JSON lines,
/// or Parquet of the list's [`Table`] schema when its name ends in `.parquet`. The
/// lists are produced as JSON lines either way ([`crate::tables::ParquetLines`]).
pub enum ListFile {
    /// JSON lines.
    Lines(AtomicFile),
    /// Parquet.
    Parquet(Box<ParquetLines<AtomicFile>>),
}

impl ListFile {
    /// Starts writing the list `table` to `destination`.
    pub fn create(destination: impl AsRef<Path>, table: Table) -> Result<ListFile> {
        let path = destination.as_ref();
        let file = AtomicFile::create(path)?;
        Ok(if is_parquet_path(path) {
            ListFile::Parquet(Box::new(ParquetLines::new(table, file, path)?))
        } else {
            ListFile::Lines(file)
        })
    }

    /// Where the list's JSON lines go.
    pub fn writer(&mut self) -> &mut (dyn io::Write + Send) {
        match self {
            ListFile::Lines(file) => file,
            ListFile::Parquet(parquet) => &mut **parquet,
        }
    }

    /// Ends the list (a Parquet file's footer) and commits it ([`AtomicFile::commit`]).
    pub fn commit(self) -> Result<()> {
        match self {
            ListFile::Lines(file) => file.commit(),
            ListFile::Parquet(parquet) => parquet.finish()?.commit(),
        }
    }
}

/// Whether an output named `path` is written as Parquet: its name ends in `.parquet`.
pub fn is_parquet_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

impl Drop for AtomicFile {
    /// An uncommitted or failed file leaves nothing behind.
    fn drop(&mut self) {
        if let Some(temporary) = &self.temporary {
            let _ = fs::remove_file(temporary);
        }
    }
}

/// Writes `destination` atomically with the contents `write` produces.
pub fn write_atomically(
    destination: impl AsRef<Path>,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<()> {
    let destination = destination.as_ref();
    let mut file = AtomicFile::create(destination)?;
    write(file.writer()).map_err(|e| Error::io(destination, e))?;
    file.commit()
}

/// Refuses a destination that cannot be written as a file: a directory, or a path in a
/// directory that does not exist (the write at the end could only fail, after all the
/// work). Callers that write at the end of a run check their destinations with this
/// before the work.
pub fn check_destination(path: &Path) -> Result<()> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(Error::io(
            path,
            io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory; name a file to write",
            ),
        )),
        Ok(_) => Ok(()),
        Err(_) => match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) if !parent.is_dir() => Err(Error::io(
                path,
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "its directory {} does not exist; create it first",
                        parent.display()
                    ),
                ),
            )),
            _ => Ok(()),
        },
    }
}

/// Refuses two outputs of one run that name the same file (directly, through `..`, or
/// through a symbolic link): the later commit would replace the earlier output, or both
/// would write one temporary file. Devices and pipes (`/dev/null`, a FIFO) are streams
/// rather than files replaced on commit, and may be named more than once. Checked before
/// any work, so nothing is read or written when it fails.
pub fn refuse_shared_destinations<'a>(
    outputs: impl IntoIterator<Item = (&'a str, &'a Path)>,
) -> Result<()> {
    let mut seen: Vec<(&str, &Path, PathBuf)> = Vec::new();
    for (option, path) in outputs {
        let Some(resolved) = resolved_destination(path) else {
            continue;
        };
        if let Some((first, first_path, _)) = seen.iter().find(|(_, _, r)| *r == resolved) {
            return Err(Error::InvalidParams(format!(
                "{first} {} and {option} {} are the same file; give each output its own",
                crate::error::shown(first_path),
                crate::error::shown(path)
            )));
        }
        seen.push((option, path, resolved));
    }
    Ok(())
}

/// The file `path` names once links and `..` are resolved, or None for a device or a
/// pipe. A file that does not exist yet resolves through its directory (which must
/// exist for the output to be written at all; if it does not, the path is kept as
/// given and the write reports it).
fn resolved_destination(path: &Path) -> Option<PathBuf> {
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() && !meta.is_dir() => None,
        Ok(_) => Some(fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())),
        Err(_) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let name = path.file_name()?;
            Some(
                fs::canonicalize(dir)
                    .map(|d| d.join(name))
                    .unwrap_or_else(|_| path.to_path_buf()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("storyhash-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    #[test]
    fn commit_replaces_and_leaves_no_temporary() {
        let dir = scratch_dir("atomic-commit");
        let path = dir.join("out.json");
        fs::write(&path, "old").expect("seed file");
        write_atomically(&path, |w| w.write_all(b"new")).expect("write");
        assert_eq!(fs::read_to_string(&path).expect("read"), "new");
        assert_eq!(fs::read_dir(&dir).expect("list").count(), 1);
        let _ = fs::remove_dir_all(&dir);
    }

    /// A named pipe stays a pipe and its reader gets the data (renaming a temporary
    /// file over it, as over `/dev/null`, would replace it with a regular file).
    #[cfg(unix)]
    #[test]
    fn a_pipe_is_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        let dir = scratch_dir("atomic-fifo");
        let fifo = dir.join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let (sent, received) = std::sync::mpsc::channel();
        let reader_path = fifo.clone();
        std::thread::spawn(move || {
            let _ = sent.send(fs::read_to_string(&reader_path));
        });
        write_atomically(&fifo, |w| w.write_all(b"through the pipe")).expect("write");
        let got = received
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the reader got an end of file")
            .expect("read");
        assert_eq!(got, "through the pipe");
        let kind = fs::symlink_metadata(&fifo).expect("stat").file_type();
        assert!(kind.is_fifo(), "{kind:?}");
        assert_eq!(fs::read_dir(&dir).expect("list").count(), 1);
        let _ = fs::remove_dir_all(&dir);
    }

    /// A symbolic link stays a link; the file it names gets the new contents.
    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_keeps_pointing_at_the_new_file() {
        let dir = scratch_dir("atomic-symlink");
        let target = dir.join("real.json");
        fs::write(&target, "old").expect("seed file");
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        write_atomically(&link, |w| w.write_all(b"new")).expect("write");
        assert!(fs::symlink_metadata(&link)
            .expect("stat")
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&target).expect("read"), "new");
        assert_eq!(fs::read_dir(&dir).expect("list").count(), 2);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = scratch_dir("atomic-fail");
        let path = dir.join("out.json");
        fs::write(&path, "old").expect("seed file");
        let result = write_atomically(&path, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk on fire"))
        });
        assert!(result.is_err());
        assert_eq!(fs::read_to_string(&path).expect("read"), "old");
        assert_eq!(fs::read_dir(&dir).expect("list").count(), 1);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn two_outputs_naming_one_file_are_refused_before_anything_is_written() {
        let dir = scratch_dir("shared-destinations");
        let out = dir.join("out.jsonl");
        let via_dotdot = dir.join("sub").join("..").join("out.jsonl");
        fs::create_dir_all(dir.join("sub")).expect("sub");
        let err = refuse_shared_destinations([("-o", out.as_path()), ("--summary", &via_dotdot)])
            .expect_err("one file");
        assert!(err.to_string().contains("-o") && err.to_string().contains("--summary"));
        assert!(!out.exists(), "nothing written");
        #[cfg(unix)]
        {
            let link = dir.join("link.jsonl");
            std::os::unix::fs::symlink(&out, &link).expect("symlink");
            fs::write(&out, "kept").expect("an earlier output");
            assert!(
                refuse_shared_destinations([("-o", out.as_path()), ("--removed", &link)]).is_err()
            );
            assert_eq!(fs::read_to_string(&out).expect("read"), "kept");
            let null = Path::new("/dev/null");
            refuse_shared_destinations([("--removed", null), ("--pairs", null)])
                .expect("a device may take several outputs");
        }
        refuse_shared_destinations([("-o", out.as_path()), ("--removed", &dir.join("removed"))])
            .expect("distinct files");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_directory_destination_is_refused_at_creation_and_a_failed_commit_leaves_nothing() {
        let dir = scratch_dir("atomic-dir");
        let err = AtomicFile::create(&dir).expect_err("a directory");
        assert!(err.to_string().contains("is a directory"), "{err}");
        // A destination that becomes a directory after creation: the rename fails and the
        // temporary file goes with the error.
        let path = dir.join("out");
        let mut file = AtomicFile::create(&path).expect("create");
        file.writer().write_all(b"data").expect("write");
        fs::create_dir(&path).expect("a directory in the way");
        fs::write(path.join("inside"), "x").expect("non-empty");
        file.commit()
            .expect_err("cannot rename over a non-empty directory");
        let left: Vec<_> = fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("out")]);
        let _ = fs::remove_dir_all(&dir);
    }
}
