//! The bytes of a segment file, mapped read-only into memory, or owned (segments built
//! in memory, tests). The only unsafe code of the crate.

#![allow(unsafe_code)]

use std::fs::File;
use std::path::Path;

use crate::error::{Error, Result};

/// A segment's bytes.
pub(super) enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Bytes {
    /// Maps the regular file at `path`. Devices, pipes and directories are refused
    /// before anything is read (`/dev/zero` would map endlessly, a FIFO would block).
    pub(super) fn map(path: &Path) -> Result<Bytes> {
        // Checked before opening too: opening a FIFO blocks until someone writes to it.
        super::store::refuse_special(path)?;
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if !meta.is_file() {
            return Err(Error::Index {
                path: path.to_path_buf(),
                problem: "not a regular file".into(),
            });
        }
        if meta.len() == 0 {
            // An empty mapping is an error on some systems; an empty segment is damaged
            // anyway, and the reader says so.
            return Ok(Bytes::Owned(Vec::new()));
        }
        // SAFETY: the mapping is read-only and storyhash never writes to a segment file
        // after it is renamed into place (new data goes to new files; compaction writes
        // new segments and unlinks old ones, which leaves existing mappings valid). Another
        // program truncating or rewriting the file in place would break this, as it would
        // for any memory-mapped store (tantivy, LMDB, SQLite in mmap mode); every value read
        // is still bounds-checked and checksummed before use, so changed contents give an
        // error rather than a wild read.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        Ok(Bytes::Mapped(map))
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map) => map,
            Bytes::Owned(bytes) => bytes,
        }
    }
}
