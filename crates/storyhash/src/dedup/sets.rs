//! Pass 2's exact sets: candidates re-read at their offsets or by streaming, and the
//! store of their sets.

use super::*;

/// Input files pass 2 holds open at once, at most: well under the usual limit of 1,024
/// descriptors per process.
pub(super) const MAX_OPEN_FILES: usize = 256;

/// Cuts `docs` (in input order) into runs of at most [`BATCH_RECORDS`] documents whose
/// records lie in at most `max_files` distinct files (`file_of` says which).
pub(super) fn chunks_of_few_files(
    docs: &[usize],
    file_of: impl Fn(usize) -> u32,
    max_files: usize,
) -> Vec<&[usize]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < docs.len() {
        let (mut end, mut distinct, mut last) = (start, 0usize, None);
        while end < docs.len() && end - start < BATCH_RECORDS {
            let file = file_of(docs[end]);
            if last != Some(file) {
                if distinct == max_files {
                    break;
                }
                distinct += 1;
                last = Some(file);
            }
            end += 1;
        }
        chunks.push(&docs[start..end]);
        start = end;
    }
    chunks
}

/// Parses a record again in pass 2. It parsed in pass 1, so a failure means the file
/// changed between the passes: stop rather than verify against a different text.
pub(super) fn reparse<'a>(
    file: &InputFile,
    entry: &DocEntry,
    bytes: &'a [u8],
    read: &ReadOptions,
) -> Result<std::borrow::Cow<'a, str>> {
    let meta = RecordMeta {
        file: entry.file as usize,
        line: entry.line,
        range: 0..bytes.len(),
        offset: entry.offset,
        problem: None,
    };
    parse_fields(file, &meta, bytes, read)
        .map(|fields| fields.text)
        .map_err(|warning| Error::InputChanged {
            location: warning.location,
            detail: format!("it no longer parses: {}", warning.problem),
        })
}

/// One worker's buffers for building exact sets from text in pass 2: the analyzer's
/// scratch, the set as it grows, and the sort's second buffer.
pub(super) type SetBuffers = (Scratch, Vec<u32>, Vec<u32>);

/// Exact shingle sets of pass 2 by document: only the first document of each text is
/// ever a candidate (its exact copies are known by their fingerprints from pass 1), so
/// a corpus of a million copies of one article holds one set, not a million. Sets are
/// not compared with each other: equal sets from texts that differ (in how often a
/// shingle repeats) are rare, and hashing every set to find them cost more than it
/// saved.
pub(super) struct SetStore {
    pub(super) set_of_doc: Vec<u32>,
    /// Kept as built (a shrink to size would copy most sets for a few repeats dropped).
    pub(super) sets: Vec<Vec<u32>>,
}

impl SetStore {
    pub(super) fn new(documents: usize) -> Self {
        SetStore {
            set_of_doc: vec![NO_SET; documents],
            sets: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, computed: Vec<(usize, Vec<u32>)>) {
        for (doc, set) in computed {
            self.set_of_doc[doc] = self.sets.len() as u32;
            self.sets.push(set);
        }
    }

    /// The set of `doc` (empty if it was not computed).
    pub(super) fn get(&self, doc: DocIndex) -> &[u32] {
        match self.set_of_doc[doc as usize] {
            NO_SET => &[],
            i => &self.sets[i as usize],
        }
    }
}
