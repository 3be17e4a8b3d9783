//! Pass 1's state: what is kept per document (its entry, band keys, signature low
//! bytes, held shingle hashes), the table that refuses repeated ids, and the merge of
//! each signed batch in input order.

use super::*;

/// `set_of_doc` value of a document that needs no shingle set.
pub(super) const NO_SET: u32 = u32::MAX;

/// What pass 1 keeps per document.
pub(super) struct DocEntry {
    pub(super) id: Box<str>,
    /// Position in the input, counting skipped records.
    pub(super) record: u64,
    /// Where the record is: file, line, byte offset and length (to re-read it).
    pub(super) file: u32,
    pub(super) line: u64,
    pub(super) offset: u64,
    pub(super) length: u64,
    /// Bytes of the text field (what `--keep longest` compares), as in every path.
    pub(super) text_len: u64,
    pub(super) published: Option<i64>,
    /// Whether the prefilter may judge this document by its signature
    /// ([`Prefilter::covers`]).
    pub(super) prefiltered: bool,
    /// A hash of the document's shingle hashes as a multiset (their sum, mixed with
    /// their count): exact copies of a text share it, and two different shingle
    /// multisets share it with probability 2^-64, so pass 2 reads one copy of a text
    /// and gives its set to the others.
    pub(super) fingerprint: u64,
    /// A hash of the record's bytes: a later pass that reads other bytes for it stops
    /// the run ([`check_unchanged`]).
    pub(super) checksum: u32,
}

/// The hash [`DocEntry::checksum`] keeps of a record's bytes.
pub(super) fn record_checksum(bytes: &[u8]) -> u32 {
    xxhash_rust::xxh3::xxh3_64(bytes) as u32
}

/// Refuses a record read again in pass 2 or 3 whose bytes are not those pass 1 read: the
/// file was edited, truncated, replaced or reordered in between, and going on would
/// verify or write records that were never judged.
pub(super) fn check_unchanged(file: &InputFile, entry: &DocEntry, bytes: &[u8]) -> Result<()> {
    if bytes.len() as u64 == entry.length && record_checksum(bytes) == entry.checksum {
        return Ok(());
    }
    Err(Error::InputChanged {
        location: Location::new(&file.label, entry.line),
        detail: format!("record {:?} is not the one read before", entry.id),
    })
}

/// What pass 1 learns of one accepted record: its entry (numbered when merged) and
/// whether it has shingles; its band keys and signature bytes go to flat per-batch
/// buffers.
pub(super) struct Signed {
    pub(super) entry: DocEntry,
    /// [`id_hash`] of the entry's id.
    pub(super) id_hash: u32,
    /// The warning for an unreadable publication time (the document is kept undated);
    /// boxed, as it is rare and this record is written for every document.
    pub(super) date_warning: Option<Box<Warning>>,
    /// False when the text normalizes to nothing: never a candidate.
    pub(super) has_shingles: bool,
    /// The document's shingle hashes in text order (repeats included), when its batch
    /// was signed while pass 1 still held hashes.
    pub(super) hashes: Option<Box<[u32]>>,
}

/// One batch's pass 1 results, by record: reused from batch to batch.
#[derive(Default)]
pub(super) struct SignedBatch {
    /// Input position of the batch's first record.
    pub(super) first_record: u64,
    pub(super) results: Vec<Result<Signed, Warning>>,
    /// Band keys, `bands` per record.
    pub(super) keys: Vec<u32>,
    /// Signature low bytes, `k` per record.
    pub(super) low_bytes: Vec<u8>,
}

/// Everything pass 1 keeps, built batch by batch in input order.
pub(super) struct Collected {
    pub(super) docs: Vec<DocEntry>,
    pub(super) keys: BandKeys,
    /// The low byte of every signature value, k per document: the prefilter's input.
    pub(super) low_bytes: Vec<u8>,
    /// Shingle hashes of documents `0..held.len()`, within `set_memory` bytes: the first
    /// document whose hashes do not fit ends the holding, so held documents are a
    /// prefix of the input. Empty for an exact copy (it is never a candidate) and for a
    /// document without shingles.
    pub(super) held: Vec<Box<[u32]>>,
    pub(super) held_bytes: usize,
    pub(super) holding: bool,
    pub(super) ids: DocIds,
    pub(super) featureless: u64,
    pub(super) skipped_by_reason: BTreeMap<&'static str, u64>,
    pub(super) unreadable_dates: u64,
    /// The first document with each fingerprint: later ones are exact copies.
    pub(super) first_with: HashMap<u64, DocIndex, BuildHasherDefault<Prehashed>>,
    /// (copy, first document with its shingle hashes), in input order.
    pub(super) copies: Vec<(DocIndex, DocIndex)>,
    /// Bytes of the documents' ids.
    pub(super) id_bytes: usize,
}

impl Collected {
    /// Takes in one signed batch (emptying it): accepted documents are numbered in
    /// input order, duplicate ids and bad records become warnings (or, when `strict`,
    /// the error that ends the run).
    pub(super) fn merge(
        &mut self,
        batch: &mut SignedBatch,
        files: &[InputFile],
        k: usize,
        set_memory: usize,
        strict: bool,
        on_warning: &mut (dyn FnMut(&Warning) + Send),
    ) -> Result<()> {
        let bands = self.keys.bands();
        for (i, result) in batch.results.drain(..).enumerate() {
            let accepted = result.and_then(|signed| {
                self.ids
                    .check(&self.docs, &signed.entry, signed.id_hash, files)?;
                Ok(signed)
            });
            match accepted {
                Ok(Signed {
                    mut entry,
                    id_hash,
                    date_warning,
                    has_shingles,
                    hashes,
                }) => {
                    if let Some(warning) = date_warning {
                        if strict {
                            return Err((*warning).into());
                        }
                        self.unreadable_dates += 1;
                        on_warning(&warning);
                    }
                    let index = self.docs.len() as DocIndex;
                    // An exact copy joins the first document with its hashes and is
                    // never banded nor held: thousands of copies of one wire story add
                    // nothing to any bucket.
                    let copy = has_shingles
                        && match self.first_with.entry(entry.fingerprint) {
                            std::collections::hash_map::Entry::Occupied(first) => {
                                self.copies.push((index, *first.get()));
                                true
                            }
                            std::collections::hash_map::Entry::Vacant(slot) => {
                                slot.insert(index);
                                false
                            }
                        };
                    self.hold(
                        hashes.map(|h| if copy { Box::default() } else { h }),
                        set_memory,
                    );
                    if has_shingles {
                        if !copy {
                            self.keys
                                .push(index, &batch.keys[i * bands..(i + 1) * bands]);
                        }
                        self.low_bytes
                            .extend_from_slice(&batch.low_bytes[i * k..(i + 1) * k]);
                    } else {
                        self.featureless += 1;
                        self.low_bytes.resize(self.low_bytes.len() + k, 0);
                    }
                    entry.record = batch.first_record + i as u64;
                    self.id_bytes += entry.id.len();
                    self.docs.push(entry);
                    self.ids.insert(index, id_hash);
                }
                Err(warning) => {
                    if strict {
                        return Err(warning.into());
                    }
                    *self
                        .skipped_by_reason
                        .entry(warning.problem.kind())
                        .or_insert(0) += 1;
                    on_warning(&warning);
                }
            }
        }
        if self.docs.len() > DocIndex::MAX as usize {
            return Err(Error::InvalidParams(format!(
                "at most {} documents per run",
                DocIndex::MAX
            )));
        }
        Ok(())
    }

    /// Bytes the per-document tables hold for the documents so far (what pass 1 keeps
    /// for every document and the later passes need): entries with their ids, band
    /// keys, signature low bytes, held hashes and the id and fingerprint tables. Counted
    /// by what is in them, not by what was reserved (address space, not memory).
    pub(super) fn table_bytes(&self) -> usize {
        let n = self.docs.len();
        n * std::mem::size_of::<DocEntry>()
            + self.id_bytes
            + self.keys.bytes()
            + self.low_bytes.len()
            + self.held_bytes
            + self.held.len() * std::mem::size_of::<Box<[u32]>>()
            // A hash table's slot and control byte for each id and fingerprint.
            + n * (std::mem::size_of::<(DocIndex, u32)>() + 1)
            + self.first_with.len() * (std::mem::size_of::<(u64, DocIndex)>() + 1)
            + self.copies.len() * std::mem::size_of::<(DocIndex, DocIndex)>()
    }

    /// Makes room for about `documents` documents in the per-document tables at once.
    /// Grown by doubling, each table was written into fresh pages about twice over, and
    /// at a million documents faulting in and copying the abandoned halves cost pass 1
    /// about a second. Reserved but unused room is address space, not memory.
    pub(super) fn reserve(&mut self, documents: usize, k: usize) {
        let _ = self.docs.try_reserve(documents);
        let _ = self.first_with.try_reserve(documents);
        self.ids.reserve(documents);
        self.keys.reserve(documents);
        let _ = self.low_bytes.try_reserve(documents.saturating_mul(k));
    }

    /// Holds the next document's shingle hashes while they fit in `set_memory` (empty
    /// for an exact copy, which holds nothing: a corpus of wire copies holds each text
    /// once); stops holding at the first document whose hashes were not taken (None: its
    /// batch was signed after holding stopped) or do not fit.
    pub(super) fn hold(&mut self, hashes: Option<Box<[u32]>>, set_memory: usize) {
        if !self.holding {
            return;
        }
        match hashes {
            Some(hashes) if hashes.is_empty() => {
                self.held.push(Box::default());
            }
            Some(hashes) if self.held_bytes + 4 * hashes.len() <= set_memory => {
                self.held_bytes += 4 * hashes.len();
                self.held.push(hashes);
            }
            _ => self.holding = false,
        }
    }
}

/// The ids of the documents accepted so far, to refuse a repeated id. Holds each
/// document's index into the document table, which has the id and where it was read,
/// and 32 bits of the id's hash (9 to 18 bytes per document): a general
/// [`crate::input::IdRegistry`] would hold every id a second time. The stored hash
/// spares growing the table a visit to every id it holds, and a lookup a visit to ids
/// that merely share a slot; the hash itself is computed with the signing, in
/// parallel, not in the sequential merge.
pub(super) struct DocIds {
    pub(super) table: hashbrown::HashTable<(DocIndex, u32)>,
    /// Seeds the id hash afresh for every run, so that no input can be built to make
    /// the table's probes collide (it never changes what the run outputs).
    pub(super) seed: u64,
}

impl Default for DocIds {
    fn default() -> Self {
        use std::hash::BuildHasher;
        DocIds {
            table: hashbrown::HashTable::new(),
            seed: std::collections::hash_map::RandomState::new().hash_one(0u64),
        }
    }
}

impl DocIds {
    /// Refuses `entry`, whose id has [`id_hash`] `hash`, if a document in `docs` already
    /// has its id.
    pub(super) fn check(
        &self,
        docs: &[DocEntry],
        entry: &DocEntry,
        hash: u32,
        files: &[InputFile],
    ) -> std::result::Result<(), Warning> {
        let id = &*entry.id;
        let Some(&(first, _)) = self.table.find(table_hash(hash), |&(d, h)| {
            h == hash && &*docs[d as usize].id == id
        }) else {
            return Ok(());
        };
        let first = &docs[first as usize];
        Err(Warning {
            location: Location::new(&files[entry.file as usize].label, entry.line),
            problem: crate::error::InputProblem::DuplicateId {
                id: id.to_string(),
                first: Location::new(&files[first.file as usize].label, first.line),
            },
        })
    }

    /// Records that document `index` has an id of [`id_hash`] `hash`.
    pub(super) fn insert(&mut self, index: DocIndex, hash: u32) {
        self.table
            .insert_unique(table_hash(hash), (index, hash), |&(_, h)| table_hash(h));
    }

    /// Makes room for `documents` more ids at once.
    pub(super) fn reserve(&mut self, documents: usize) {
        let _ = self.table.try_reserve(documents, |&(_, h)| table_hash(h));
    }
}

/// The table's hash of an id whose [`id_hash`] is `hash`: its 32 bits spread over 64 by
/// an odd multiplier, so that the table's slot (low bits) and tag (top bits) both
/// depend on them.
pub(super) fn table_hash(hash: u32) -> u64 {
    u64::from(hash).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Most documents [`Collected::reserve`] makes room for: about 1.5 GB of address space
/// with the `dup` preset, beyond which the tables grow as they fill.
pub(super) const MAX_RESERVED_DOCUMENTS: usize = 4_000_000;

/// About how many records `files`, of `total_bytes` in all, hold, from the first batch's
/// bytes per record; None when a file is compressed (its size says little of its
/// records).
pub(super) fn expected_records(
    files: &[InputFile],
    total_bytes: u64,
    first_batch: &Batch,
) -> Option<usize> {
    if first_batch.records.is_empty() || !files.iter().all(InputFile::random_access) {
        return None;
    }
    let bytes_per_record = first_batch.byte_len().max(1) as f64 / first_batch.records.len() as f64;
    // 5% over the estimate: records a little shorter than the first batch's still fit.
    let expected = total_bytes as f64 / bytes_per_record * 1.05;
    Some((expected as usize).min(MAX_RESERVED_DOCUMENTS))
}

/// 32 bits of a seeded hash of `id`: equal ids have equal hashes, and [`DocIds`] compares
/// ids only when their hashes agree.
pub(super) fn id_hash(seed: u64, id: &str) -> u32 {
    xxhash_rust::xxh3::xxh3_64_with_seed(id.as_bytes(), seed) as u32
}
