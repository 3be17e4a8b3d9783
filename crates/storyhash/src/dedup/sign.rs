//! Pass 1: every record read, parsed, analysed and signed in parallel batches, then
//! merged in input order into what the later passes need ([`Collected`]).

use super::*;

/// What the passes share: the input, the options and the per-document machinery.
pub(super) struct Stage<'a> {
    pub(super) files: &'a [InputFile],
    pub(super) options: &'a DedupOptions,
    pub(super) lsh: LshParams,
    pub(super) signer: DocSigner,
}

/// Pass 1: reads every record once and keeps its entry, band keys, signature low bytes
/// and (within the memory budget) shingle hashes. `input_bytes`, when every file has a
/// size, sizes the tables from the first batch.
pub(super) fn sign(
    stage: &Stage<'_>,
    input_bytes: Option<u64>,
    buffers: &mut [Batch; 2],
    summary: &mut DedupSummary,
    on_warning: &mut (dyn FnMut(&Warning) + Send),
    on_progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Collected> {
    let Stage {
        files,
        options,
        lsh,
        signer,
    } = stage;
    let (lsh, k) = (*lsh, options.params.num_perm);
    let set_memory = options.set_memory;
    let mut collected = Collected {
        docs: Vec::new(),
        keys: BandKeys::new(lsh.bands),
        low_bytes: Vec::new(),
        held: Vec::new(),
        held_bytes: 0,
        holding: set_memory > 0,
        ids: DocIds::default(),
        featureless: 0,
        skipped_by_reason: BTreeMap::new(),
        unreadable_dates: 0,
        first_with: HashMap::default(),
        copies: Vec::new(),
        id_bytes: 0,
    };
    let within_limit = |collected: &Collected| match options.memory_limit {
        Some(limit) if collected.table_bytes() as u64 > limit => Err(Error::MemoryLimit {
            documents: collected.docs.len() as u64,
            used: collected.table_bytes() as u64,
            limit,
        }),
        _ => Ok(()),
    };
    // Each batch is signed in parallel while the previous one is merged into
    // `collected` (the merge is sequential: ids are checked in input order), so the
    // merge costs no thread its share of the signing.
    let mut signing = SignedBatch::default();
    let mut merging = SignedBatch::default();
    let reader = RecordReader::new(files.to_vec(), &options.read);
    let strict = options.read.strict;
    let id_seed = collected.ids.seed;
    for_each_batch(reader, buffers, |batch| {
        if summary.records == 0 {
            let expected = input_bytes.and_then(|total| expected_records(files, total, batch));
            if let Some(documents) = expected {
                collected.reserve(documents, k);
            }
        }
        summary.bytes_read += batch.byte_len() as u64;
        let n = batch.records.len();
        signing.first_record = summary.records;
        // Whether this batch's hashes may still be held: the merge of the batch before
        // runs alongside and has the last word, so at most one batch is copied in vain.
        let hold = collected.holding;
        let (_, merged) = rayon::join(
            || {
                signing.keys.resize(n * lsh.bands, 0);
                signing.low_bytes.resize(n * k, 0);
                signing
                    .keys
                    .par_chunks_mut(lsh.bands)
                    .zip(signing.low_bytes.par_chunks_mut(k))
                    .enumerate()
                    .map_init(
                        SignerScratch::default,
                        |scratch, (i, (keys_out, low_out))| {
                            let meta = &batch.records[i];
                            let file = &files[meta.file];
                            let fields = parse_fields(file, meta, batch.bytes(i), &options.read)?;
                            let location = || Location::new(&file.label, meta.line);
                            let (published, date_warning) =
                                match fields.published.as_deref().map(parse_published) {
                                    None => (None, None),
                                    Some(Ok(t)) => (Some(t), None),
                                    Some(Err(problem)) => (
                                        None,
                                        Some(Box::new(Warning {
                                            location: location(),
                                            problem: InputProblem::BadDate(problem),
                                        })),
                                    ),
                                };
                            let (signed, hashes) =
                                signer.sign(&fields.text, scratch, keys_out, low_out);
                            Ok(Signed {
                                id_hash: id_hash(id_seed, &fields.id),
                                date_warning,
                                entry: DocEntry {
                                    id: fields.id.into(),
                                    // Set by the merge, which knows the batch's position.
                                    record: 0,
                                    file: meta.file as u32,
                                    line: meta.line,
                                    offset: meta.offset,
                                    length: meta.range.len() as u64,
                                    text_len: fields.text.len() as u64,
                                    published,
                                    prefiltered: signed.prefiltered,
                                    fingerprint: signed.fingerprint,
                                    checksum: record_checksum(batch.bytes(i)),
                                },
                                has_shingles: signed.shingles > 0,
                                hashes: hold
                                    .then(|| hashes.iter().map(|&h| set_element(h)).collect()),
                            })
                        },
                    )
                    .collect_into_vec(&mut signing.results);
            },
            || collected.merge(&mut merging, files, k, set_memory, strict, on_warning),
        );
        merged?;
        within_limit(&collected)?;
        std::mem::swap(&mut signing, &mut merging);
        summary.records += n as u64;
        on_progress(Progress {
            pass: Pass::Sign,
            records: summary.records,
            bytes: summary.bytes_read,
        });
        Ok(())
    })?;
    collected.merge(&mut merging, files, k, set_memory, strict, on_warning)?;
    within_limit(&collected)?;
    drop((signing, merging));
    summary.table_bytes = collected.table_bytes() as u64;
    Ok(collected)
}
