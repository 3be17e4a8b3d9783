//! The on-disk container for storyhash files, and the only module that knows bincode.
//!
//! ```text
//! offset  size  field
//! 0       8     magic "STORYHSH"
//! 8       4     format version (u32 LE)
//! 12      4     content kind (u32 LE; 1 = index)
//! 16      8     payload length n (u64 LE)
//! 24      n     payload: sections, each a u64 LE byte length and its bytes
//! 24+n    8     xxh3-64 of bytes 0..24+n (u64 LE)
//! ```
//!
//! The checksum is verified before anything in the payload is interpreted, so a
//! truncated, corrupt or foreign file is refused, never misread. Small metadata is one
//! bincode (2.0.1, serde) section; bulk data are flat little-endian arrays, converted in
//! one pass without per-entry decoding. Files are written atomically (`output`).

use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::error::{Error, Result};

/// The first eight bytes of every storyhash file.
pub const MAGIC: &[u8; 8] = b"STORYHSH";
const HEADER_LEN: usize = 24;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ContentKind {
    /// A persistent index in one file (formats 4 and 5).
    Index = 1,
    /// The manifest of an index directory: its parameters and committed segments.
    Manifest = 2,
    /// The deleted documents of one index segment.
    Deletes = 3,
    /// The per-site line counts a story-tracking index learns boilerplate from.
    LineTally = 4,
    /// The document frequencies a story-tracking index was given as its background.
    Background = 5,
    /// A story-tracking index's story tracker as of a commit: counts and stories.
    StoryTracker = 6,
}

/// The most bytes a metadata section may decode to: bincode checks every announced
/// length against it before allocating, so a forged string or vector length is an
/// error, never an allocation of 2^40 bytes.
const META_LIMIT: usize = 16 << 20;

/// `value` encoded with bincode, as a metadata section holds it.
pub(crate) fn encode_meta<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| Error::InvalidParams(format!("cannot encode index metadata: {e}")))
}

/// Builds a file in memory section by section: the header's place, then the payload;
/// [`PayloadWriter::finish`] fills in the header and appends the checksum.
#[derive(Debug)]
pub(crate) struct PayloadWriter {
    file: Vec<u8>,
}

impl Default for PayloadWriter {
    fn default() -> Self {
        PayloadWriter {
            file: vec![0; HEADER_LEN],
        }
    }
}

impl PayloadWriter {
    /// A section holding `value` encoded with bincode.
    pub fn meta<T: Serialize>(&mut self, value: &T) -> Result<()> {
        self.bytes(&encode_meta(value)?);
        Ok(())
    }

    /// A section of raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.file
            .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        self.file.extend_from_slice(bytes);
    }

    /// A section of fixed-width values, `N` little-endian bytes each.
    fn array<const N: usize>(&mut self, values: impl ExactSizeIterator<Item = [u8; N]>) {
        let len = values.len() * N;
        self.file.reserve(8 + len);
        self.file.extend_from_slice(&(len as u64).to_le_bytes());
        values.for_each(|v| self.file.extend_from_slice(&v));
    }

    /// A section of u32s.
    pub fn u32s(&mut self, values: &[u32]) {
        self.array(values.iter().map(|v| v.to_le_bytes()));
    }

    /// A section of u64s.
    pub fn u64s(&mut self, values: &[u64]) {
        self.array(values.iter().map(|v| v.to_le_bytes()));
    }

    /// A section of f32s.
    #[cfg(test)]
    pub fn f32s(&mut self, values: &[f32]) {
        self.array(values.iter().map(|v| v.to_le_bytes()));
    }

    /// The complete file: header, payload, checksum.
    pub fn finish(self, kind: ContentKind, version: u32) -> Vec<u8> {
        let mut file = self.file;
        let payload_len = (file.len() - HEADER_LEN) as u64;
        file[..8].copy_from_slice(MAGIC);
        file[8..12].copy_from_slice(&version.to_le_bytes());
        file[12..16].copy_from_slice(&(kind as u32).to_le_bytes());
        file[16..24].copy_from_slice(&payload_len.to_le_bytes());
        let checksum = xxh3_64(&file);
        file.extend_from_slice(&checksum.to_le_bytes());
        file
    }
}

/// Writes a file section by section straight to a writer, hashing as it goes, for
/// files too large to build in memory first (a story tracker of 105,105 documents is
/// 133 MB). The payload's length goes in the header, so it is given up
/// front ([`PayloadStream::section_len`] per section); the file is the one
/// [`PayloadWriter`] would build.
pub(crate) struct PayloadStream<'a, W: Write> {
    out: W,
    path: &'a Path,
    hasher: Xxh3,
    announced: u64,
    written: u64,
    buffer: Vec<u8>,
}

impl<'a, W: Write> PayloadStream<'a, W> {
    /// Starts a file of `kind` and `version` with a payload of `payload_len` bytes,
    /// written to `out` (the file at `path`, for errors).
    pub fn new(
        out: W,
        path: &'a Path,
        kind: ContentKind,
        version: u32,
        payload_len: u64,
    ) -> Result<Self> {
        let mut stream = PayloadStream {
            out,
            path,
            hasher: Xxh3::new(),
            announced: payload_len,
            written: 0,
            buffer: Vec::new(),
        };
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&version.to_le_bytes());
        header.extend_from_slice(&(kind as u32).to_le_bytes());
        header.extend_from_slice(&payload_len.to_le_bytes());
        stream.put(&header)?;
        stream.written = 0;
        Ok(stream)
    }

    /// The bytes a section of `count` values of `width` bytes takes in the payload.
    pub fn section_len(count: usize, width: usize) -> u64 {
        8 + (count * width) as u64
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io(self.path, e))
    }

    /// A section of raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.put(&(bytes.len() as u64).to_le_bytes())?;
        self.put(bytes)
    }

    /// A section of `count` fixed-width values, converted a block at a time as
    /// `values` produces them; an error if it produces another number.
    fn array<T, const N: usize>(
        &mut self,
        count: usize,
        values: impl IntoIterator<Item = T>,
        le: fn(T) -> [u8; N],
    ) -> Result<()> {
        self.put(&((count * N) as u64).to_le_bytes())?;
        let mut buffer = std::mem::take(&mut self.buffer);
        let mut values = values.into_iter();
        let mut left = count;
        loop {
            buffer.clear();
            for v in values.by_ref().take(left.min(8192)) {
                buffer.extend_from_slice(&le(v));
            }
            left -= buffer.len() / N;
            if buffer.is_empty() {
                break;
            }
            self.put(&buffer)?;
        }
        self.buffer = buffer;
        if left > 0 || values.next().is_some() {
            return Err(Error::Index {
                path: self.path.to_path_buf(),
                problem: format!("a section of {count} values was given another number"),
            });
        }
        Ok(())
    }

    /// A section of u32s.
    pub fn u32s(&mut self, values: &[u32]) -> Result<()> {
        self.array(values.len(), values.iter().copied(), u32::to_le_bytes)
    }

    /// A section of `count` u32s as `values` produces them.
    pub fn u32s_of(&mut self, count: usize, values: impl Iterator<Item = u32>) -> Result<()> {
        self.array(count, values, u32::to_le_bytes)
    }

    /// A section of u64s.
    pub fn u64s(&mut self, values: &[u64]) -> Result<()> {
        self.array(values.len(), values.iter().copied(), u64::to_le_bytes)
    }

    /// A section of `count` u64s as `values` produces them.
    pub fn u64s_of(&mut self, count: usize, values: impl Iterator<Item = u64>) -> Result<()> {
        self.array(count, values, u64::to_le_bytes)
    }

    /// A section of i64s.
    pub fn i64s(&mut self, values: &[i64]) -> Result<()> {
        self.array(values.len(), values.iter().copied(), i64::to_le_bytes)
    }

    /// A section of `count` f32s as `values` produces them.
    pub fn f32s_of(&mut self, count: usize, values: impl Iterator<Item = f32>) -> Result<()> {
        self.array(count, values, f32::to_le_bytes)
    }

    /// Ends the file with its checksum, once the payload announced is all written.
    pub fn finish(mut self) -> Result<W> {
        if self.written != self.announced {
            return Err(Error::Index {
                path: self.path.to_path_buf(),
                problem: format!(
                    "{} payload bytes written where {} were announced",
                    self.written, self.announced
                ),
            });
        }
        let checksum = self.hasher.digest();
        self.out
            .write_all(&checksum.to_le_bytes())
            .map_err(|e| Error::io(self.path, e))?;
        Ok(self.out)
    }
}

/// Reads the sections of a verified payload in order.
#[derive(Debug)]
pub(crate) struct PayloadReader<'a> {
    path: &'a Path,
    rest: &'a [u8],
}

impl<'a> PayloadReader<'a> {
    /// Checks magic, kind, version and checksum of `file` (read from `path`), and returns
    /// the version found and a reader over the payload. `supported` lists the versions
    /// this build reads.
    pub fn open(
        path: &'a Path,
        file: &'a [u8],
        kind: ContentKind,
        supported: &[u32],
    ) -> Result<(u32, PayloadReader<'a>)> {
        let fail = |problem: String| Error::Index {
            path: path.to_path_buf(),
            problem,
        };
        if file.len() < MAGIC.len() || &file[..MAGIC.len()] != MAGIC {
            return Err(fail("not a storyhash index (unknown file format)".into()));
        }
        if file.len() < HEADER_LEN + 8 {
            return Err(fail(format!(
                "truncated: {} bytes, too short for a header",
                file.len()
            )));
        }
        let word = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().expect("4 bytes"));
        let version = word(8);
        let found_kind = word(12);
        let payload_len = u64::from_le_bytes(file[16..24].try_into().expect("8 bytes"));
        let expected_len = (HEADER_LEN as u64)
            .checked_add(payload_len)
            .and_then(|n| n.checked_add(8));
        if expected_len != Some(file.len() as u64) {
            return Err(fail(format!(
                "truncated or damaged: the header announces {} payload bytes but the file has {}",
                payload_len,
                file.len()
            )));
        }
        let body = file.len() - 8;
        let stored = u64::from_le_bytes(file[body..].try_into().expect("8 bytes"));
        if xxh3_64(&file[..body]) != stored {
            return Err(fail("checksum mismatch: the file is damaged".into()));
        }
        if found_kind != kind as u32 {
            return Err(fail(format!(
                "holds storyhash content of kind {found_kind}, not of kind {}",
                kind as u32
            )));
        }
        if !supported.contains(&version) {
            let advice = if supported.iter().all(|&v| version < v) {
                "; it was written by an older storyhash: rebuild it from its documents"
            } else {
                "; it was written by a newer storyhash: open it with that version"
            };
            return Err(fail(format!(
                "index format version {version} is not supported by this build \
                 (it reads version{} {}){advice}",
                if supported.len() > 1 { "s" } else { "" },
                supported
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok((
            version,
            PayloadReader {
                path,
                rest: &file[HEADER_LEN..body],
            },
        ))
    }

    fn damaged(&self, what: &str) -> Error {
        Error::Index {
            path: self.path.to_path_buf(),
            problem: format!("inconsistent index: {what}"),
        }
    }

    /// The next raw section.
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        if self.rest.len() < 8 {
            return Err(self.damaged("a section is missing"));
        }
        let len = u64::from_le_bytes(self.rest[..8].try_into().expect("8 bytes"));
        let len = usize::try_from(len).map_err(|_| self.damaged("a section is too large"))?;
        if self.rest.len() - 8 < len {
            return Err(self.damaged("a section runs past the end"));
        }
        let (section, rest) = self.rest[8..].split_at(len);
        self.rest = rest;
        Ok(section)
    }

    /// The next section, decoded with bincode.
    pub fn meta<T: DeserializeOwned>(&mut self) -> Result<T> {
        let bytes = self.bytes()?;
        let (value, _) = bincode::serde::decode_from_slice::<T, _>(
            bytes,
            bincode::config::standard().with_limit::<META_LIMIT>(),
        )
        .map_err(|e| self.damaged(&format!("metadata does not decode ({e})")))?;
        Ok(value)
    }

    /// The next section as u32s.
    pub fn u32s(&mut self) -> Result<Vec<u32>> {
        let bytes = self.bytes()?;
        if bytes.len() % 4 != 0 {
            return Err(self.damaged("an array of u32 has a ragged length"));
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }

    /// The next section as u64s.
    pub fn u64s(&mut self) -> Result<Vec<u64>> {
        let bytes = self.bytes()?;
        if bytes.len() % 8 != 0 {
            return Err(self.damaged("an array of u64 has a ragged length"));
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    /// The next section as i64s.
    pub fn i64s(&mut self) -> Result<Vec<i64>> {
        Ok(self.u64s()?.into_iter().map(|v| v as i64).collect())
    }

    /// The next section as f32s.
    pub fn f32s(&mut self) -> Result<Vec<f32>> {
        Ok(self.u32s()?.into_iter().map(f32::from_bits).collect())
    }

    /// Fails unless every section was read (a file with extra data is not what we wrote).
    pub fn finish(self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.damaged("unexpected data after the last section"))
        }
    }

    /// An error about this file's content, for checks made by the caller.
    pub fn inconsistent(&self, what: &str) -> Error {
        self.damaged(what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = PayloadWriter::default();
        w.meta(&("hello", 7u32)).expect("encode");
        w.u32s(&[1, 2, 3]);
        w.f32s(&[0.5]);
        w.finish(ContentKind::Index, 1)
    }

    /// A streamed file is byte for byte the one built in memory.
    #[test]
    fn a_streamed_file_is_the_built_one() {
        let path = Path::new("x");
        let meta = encode_meta(&("hello", 7u32)).expect("encode");
        let len = PayloadStream::<Vec<u8>>::section_len(meta.len(), 1)
            + PayloadStream::<Vec<u8>>::section_len(3, 4)
            + PayloadStream::<Vec<u8>>::section_len(20_000, 8);
        let wide: Vec<u64> = (0..20_000).map(|i| i * 0x9E37_79B9).collect();
        let mut stream =
            PayloadStream::new(Vec::new(), path, ContentKind::Index, 1, len).expect("header");
        stream.bytes(&meta).expect("meta");
        stream.u32s(&[1, 2, 3]).expect("u32s");
        // Produced as written, across the blocks it is converted in.
        stream
            .u64s_of(wide.len(), wide.iter().copied())
            .expect("u64s");
        let streamed = stream.finish().expect("finish");
        let mut w = PayloadWriter::default();
        w.meta(&("hello", 7u32)).expect("encode");
        w.u32s(&[1, 2, 3]);
        w.u64s(&wide);
        assert_eq!(streamed, w.finish(ContentKind::Index, 1));
        let mut short =
            PayloadStream::new(Vec::new(), path, ContentKind::Index, 1, len + 1).expect("header");
        short.bytes(&meta).expect("meta");
        assert!(short.finish().is_err(), "a payload shorter than announced");
        // A section producing more or fewer values than it announced is refused.
        for produced in [8191, 8193, 0] {
            let mut stream =
                PayloadStream::new(Vec::new(), path, ContentKind::Index, 1, len).expect("header");
            let values = (0..produced).map(|i| i as u32);
            assert!(stream.u32s_of(8192, values).is_err(), "{produced} for 8192");
        }
    }

    #[test]
    fn round_trip() {
        let file = sample();
        let (version, mut r) =
            PayloadReader::open(Path::new("x"), &file, ContentKind::Index, &[1]).expect("opens");
        assert_eq!(version, 1);
        assert_eq!(
            r.meta::<(String, u32)>().expect("meta"),
            ("hello".to_string(), 7)
        );
        assert_eq!(r.u32s().expect("u32s"), [1, 2, 3]);
        assert_eq!(r.f32s().expect("f32s"), [0.5]);
        r.finish().expect("nothing left");
    }

    #[test]
    fn every_flipped_byte_and_every_truncation_is_refused() {
        let file = sample();
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x20;
            let err = PayloadReader::open(Path::new("x"), &bad, ContentKind::Index, &[1]);
            assert!(err.is_err(), "flipping byte {i} went unnoticed");
        }
        for len in 0..file.len() {
            assert!(
                PayloadReader::open(Path::new("x"), &file[..len], ContentKind::Index, &[1])
                    .is_err(),
                "truncation to {len} bytes went unnoticed"
            );
        }
    }

    #[test]
    fn foreign_and_future_files_are_refused_by_name() {
        let err = PayloadReader::open(Path::new("f.json"), b"{\"a\":1}", ContentKind::Index, &[1])
            .expect_err("foreign");
        assert!(err.to_string().contains("not a storyhash index"), "{err}");
        let future = PayloadWriter::default().finish(ContentKind::Index, 99);
        let err = PayloadReader::open(Path::new("i"), &future, ContentKind::Index, &[1])
            .expect_err("future");
        assert!(
            err.to_string().contains("version 99 is not supported"),
            "{err}"
        );
    }
}
