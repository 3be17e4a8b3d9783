//! Crash-safe file output: write to a temporary file in the destination's directory,
//! flush and fsync it, then rename it over the destination. A reader (or a user after a
//! crash or a kill) sees either the old file or the complete new one, never a partial
//! one. The temporary file is removed if the write is abandoned.

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file being written atomically. Write through [`AtomicFile::writer`], then
/// [`AtomicFile::commit`]; dropping it uncommitted deletes the temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    destination: PathBuf,
    temporary: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `destination` (nothing there changes until `commit`).
    pub fn create(destination: impl AsRef<Path>) -> Result<AtomicFile> {
        let destination = destination.as_ref().to_path_buf();
        let dir = match destination.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = destination
            .file_name()
            .ok_or_else(|| Error::io(&destination, io::Error::other("not a file name")))?;
        let mut temporary_name = std::ffi::OsString::from(".");
        temporary_name.push(name);
        temporary_name.push(format!(".tmp-{}", std::process::id()));
        let temporary = dir.join(temporary_name);
        // Named by the destination: the temporary name means nothing to the user.
        let file = File::create(&temporary).map_err(|e| Error::io(&destination, e))?;
        Ok(AtomicFile {
            destination,
            temporary,
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
        let file = writer
            .into_inner()
            .map_err(|e| Error::io(&self.temporary, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&self.temporary, e))?;
        drop(file);
        fs::rename(&self.temporary, &self.destination)
            .map_err(|e| Error::io(&self.destination, e))?;
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

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = fs::remove_file(&self.temporary);
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
}
