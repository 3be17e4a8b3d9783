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

/// Parses a record again in pass 2, refusing one whose bytes changed since pass 1: stop
/// rather than verify against a different text.
pub(super) fn reparse<'a>(
    file: &InputFile,
    entry: &DocEntry,
    bytes: &'a [u8],
    read: &ReadOptions,
) -> Result<std::borrow::Cow<'a, str>> {
    check_unchanged(file, entry, bytes)?;
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

/// Pass 2's reading: the exact shingle sets of the documents in a candidate pair, from
/// the hashes pass 1 held (`from_memory`) or by reading the `needed` ones again, at
/// their offsets when that skips most of the input, else by streaming it.
pub(super) fn exact_sets(
    stage: &Stage<'_>,
    docs: &[DocEntry],
    needed: &[bool],
    from_memory: Vec<(usize, Box<[u32]>)>,
    buffers: &mut [Batch; 2],
    summary: &mut DedupSummary,
    on_progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<SetStore> {
    let Stage {
        files,
        options,
        signer,
        ..
    } = stage;
    let analyzer = signer.analyzer();
    let mut sets = SetStore::new(docs.len());
    sets.add(
        from_memory
            .into_par_iter()
            .map_init(Vec::new, |sort_scratch, (doc, hashes)| {
                let mut set = hashes.into_vec();
                into_hash_set(&mut set, sort_scratch);
                (doc, set)
            })
            .collect(),
    );
    if summary.reanalyzed_documents > 0 {
        // `hashes` is a per-thread buffer: the set is built there and copied out once at
        // its final size, rather than grown and shrunk per document.
        let exact_set = |(scratch, hashes, sort_scratch): &mut SetBuffers, text: &str| {
            hashes.clear();
            let shingles = analyzer.shingle_hashes(text, scratch);
            hashes.extend(shingles.iter().map(|&h| set_element(h)));
            into_hash_set(hashes, sort_scratch);
            hashes.clone()
        };
        let needed_bytes: u64 = docs
            .iter()
            .zip(needed)
            .filter(|(_, &n)| n)
            .map(|(d, _)| d.length)
            .sum();
        // One positioned read per document beats streaming only while most of the input
        // can be skipped (an input that is mostly candidates is better streamed).
        summary.candidates_read_by_offset =
            files.iter().all(InputFile::random_access) && needed_bytes < summary.bytes_read / 2;
        if summary.candidates_read_by_offset {
            // Read only the candidates' records, each at its offset, in parallel: most
            // of the input is never read a second time.
            let wanted: Vec<usize> = (0..docs.len()).filter(|&d| needed[d]).collect();
            for chunk in chunks_of_few_files(&wanted, |d| docs[d].file, MAX_OPEN_FILES) {
                // The chunk's files, open while it is read (documents come in input
                // order, so their files ascend): a directory of thousands of text files
                // must not hold thousands of descriptors at once.
                let mut handles: Vec<(u32, std::fs::File)> = Vec::new();
                for &doc in chunk {
                    let file = docs[doc].file;
                    if handles.last().is_none_or(|(open, _)| *open != file) {
                        handles.push((file, files[file as usize].open_for_records()?));
                    }
                }
                let handle_of = |file: u32| {
                    let i = handles.partition_point(|(open, _)| *open < file);
                    &handles[i].1
                };
                let computed = chunk
                    .par_iter()
                    .map_init(
                        || (SetBuffers::default(), Vec::new()),
                        |(buffers, bytes), &doc| {
                            let entry = &docs[doc];
                            let file = &files[entry.file as usize];
                            let len = usize::try_from(entry.length).map_err(|_| {
                                Error::InvalidParams("record too large to re-read".into())
                            })?;
                            file.read_record_at(handle_of(entry.file), entry.offset, len, bytes)
                                .map_err(|e| match e {
                                    Error::Io { source, .. }
                                        if source.kind() == std::io::ErrorKind::UnexpectedEof =>
                                    {
                                        Error::InputChanged {
                                            location: Location::new(&file.label, entry.line),
                                            detail: "it is shorter than before".into(),
                                        }
                                    }
                                    other => other,
                                })?;
                            let text = reparse(file, entry, bytes, &options.read)?;
                            Ok((doc, exact_set(buffers, &text)))
                        },
                    )
                    .collect::<Result<Vec<_>>>()?;
                sets.add(computed);
                if let Some(&last) = chunk.last() {
                    on_progress(Progress::of(Pass::Verify, docs[last].record + 1));
                }
            }
            // The records after the last candidate need no reading.
            on_progress(Progress::of(Pass::Verify, summary.records));
        } else {
            let reader = RecordReader::new(files.to_vec(), &options.read);
            let mut next_doc = 0usize;
            let mut records_done = 0u64;
            for_each_batch(reader, buffers, |batch| {
                // Documents whose records fall in this batch, and where.
                let first_record = records_done;
                let end_record = records_done + batch.records.len() as u64;
                let mut wanted = Vec::new();
                while next_doc < docs.len() && docs[next_doc].record < end_record {
                    if needed[next_doc] {
                        wanted.push((next_doc, (docs[next_doc].record - first_record) as usize));
                    }
                    next_doc += 1;
                }
                let computed = wanted
                    .par_iter()
                    .map_init(SetBuffers::default, |buffers, &(doc, i)| {
                        let file = &files[batch.records[i].file];
                        let text = reparse(file, &docs[doc], batch.bytes(i), &options.read)?;
                        Ok((doc, exact_set(buffers, &text)))
                    })
                    .collect::<Result<Vec<_>>>()?;
                sets.add(computed);
                records_done = end_record;
                on_progress(Progress::of(Pass::Verify, records_done));
                Ok(())
            })?;
        }
    }
    Ok(sets)
}
