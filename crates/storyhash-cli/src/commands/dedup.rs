//! `storyhash dedup`: the streaming engine, its outputs and its progress line.

use crate::*;

pub(crate) fn dedup(args: DedupArgs) -> Result<()> {
    set_threads(args.threads)?;
    let started = Instant::now();
    let params = args.tuning.params()?;
    // Kept records go to standard output unless -o names a file.
    let kept_path = args.output.clone().filter(|p| p.as_os_str() != "-");
    let destinations = [
        ("-o", &kept_path),
        ("--removed", &args.removed),
        ("--clusters", &args.clusters),
        ("--pairs", &args.pairs),
        ("--band-rows", &args.band_rows),
        ("--summary", &args.summary),
        ("--report", &args.report),
    ];
    let named = || {
        destinations
            .iter()
            .filter_map(|(option, path)| Some((*option, path.as_deref()?)))
    };
    // Before any work: outputs that collide or cannot be written fail now, not after it.
    refuse_shared_destinations(named())?;
    for (_, path) in named() {
        check_destination(path)?;
    }
    // Standard input can be read only once; dedup reads its input three times.
    let mut spooled = None;
    let mut files = Vec::new();
    let mut walked = Vec::new();
    for input in &args.inputs {
        if input.as_os_str() == "-" {
            let mut file = tempfile::Builder::new()
                .prefix("storyhash-stdin-")
                .suffix(".jsonl")
                .tempfile()
                .context("cannot create a temporary file for standard input")?;
            io::copy(&mut io::stdin().lock(), &mut file)
                .context("cannot copy standard input to a temporary file")?;
            let mut spooled_file = InputFile::spooled_stdin(file.path());
            // `zcat`-less pipelines: gzip or zstd bytes on standard input are decoded.
            spooled_file.inspect_first_bytes()?;
            files.push(spooled_file);
            spooled = Some(file);
        } else {
            files.extend(resolve_sources(
                &[Source::Path(input.clone())],
                &mut walked,
            )?);
        }
    }
    if let (true, Some(first)) = (args.reading.strict, walked.first()) {
        anyhow::bail!("{first}");
    }
    let options = DedupOptions {
        params,
        read: args.reading.options(),
        set_memory: args
            .set_memory
            .checked_mul(1 << 20)
            .context("--set-memory is too large")?,
        memory_limit: memory_limit_bytes(args.memory_limit)?,
    };
    refuse_outputs_over_inputs(
        [
            &kept_path,
            &args.removed,
            &args.clusters,
            &args.pairs,
            &args.band_rows,
            &args.summary,
            &args.report,
        ]
        .into_iter()
        .flatten(),
        &files,
    )?;
    let mut kept = kept_path.as_ref().map(AtomicFile::create).transpose()?;
    let mut stdout = StdoutSink::new();
    let list = |path: &Option<PathBuf>, table| {
        path.as_ref()
            .map(|p| ListFile::create(p, table))
            .transpose()
    };
    let mut removed = list(&args.removed, Table::Removed)?;
    let mut clusters = list(&args.clusters, Table::Clusters)?;
    let mut pairs = list(&args.pairs, Table::Pairs)?;
    let mut bands = list(&args.band_rows, Table::Bands)?;
    let name = |path: &Option<PathBuf>, default: &str| {
        path.clone().unwrap_or_else(|| PathBuf::from(default))
    };
    // The HTML report is drawn from the removed and pairs lists, kept in memory too.
    let mut removed_lines = Vec::new();
    let mut pair_lines = Vec::new();
    let mut removed_tee;
    let mut pairs_tee;
    let (removed_out, pairs_out): (
        Option<&mut (dyn Write + Send)>,
        Option<&mut (dyn Write + Send)>,
    ) = if args.report.is_some() {
        removed_tee = Tee(removed.as_mut().map(ListFile::writer), &mut removed_lines);
        pairs_tee = Tee(pairs.as_mut().map(ListFile::writer), &mut pair_lines);
        (Some(&mut removed_tee), Some(&mut pairs_tee))
    } else {
        (
            removed.as_mut().map(ListFile::writer),
            pairs.as_mut().map(ListFile::writer),
        )
    };
    let outputs = DedupOutputs {
        kept: Some(match kept.as_mut() {
            Some(file) => file.writer() as &mut (dyn Write + Send),
            None => &mut stdout,
        }),
        removed: removed_out,
        clusters: clusters.as_mut().map(ListFile::writer),
        pairs: pairs_out,
        bands: bands.as_mut().map(ListFile::writer),
        kept_format: match &kept_path {
            Some(path) if is_parquet_path(path) => KeptFormat::Parquet,
            _ => KeptFormat::JsonLines,
        },
        names: storyhash::dedup::OutputNames {
            kept: name(&kept_path, "<standard output>"),
            removed: name(&args.removed, ""),
            clusters: name(&args.clusters, ""),
            pairs: name(&args.pairs, ""),
            bands: name(&args.band_rows, ""),
        },
    };
    let progress = ProgressLine::new(args.quiet);
    // Pass 1 is measured by bytes against the input's size when every file has one
    // (compressed input: no percentage); passes 2 and 3 by records against pass 1's.
    let input_bytes: Option<u64> = files
        .iter()
        .map(|f| {
            let plain = f.compression == storyhash::input::Compression::None;
            plain
                .then(|| std::fs::metadata(&f.path).ok().map(|m| m.len()))
                .flatten()
        })
        .sum();
    let mut warnings_shown = 0usize;
    if !args.quiet {
        for w in walked.iter().take(MAX_WARNINGS_SHOWN) {
            progress.println(&warning_line(w));
        }
        warnings_shown = walked.len();
    }
    let mut on_warning = |w: &Warning| {
        if !args.quiet {
            warnings_shown += 1;
            if warnings_shown <= MAX_WARNINGS_SHOWN {
                progress.println(&warning_line(w));
            }
        }
    };
    let mut pass_clock = (Pass::Sign, Instant::now(), 0u64);
    let mut on_progress = |p: storyhash::dedup::Progress| {
        let (pass, started, input_records) = &mut pass_clock;
        if p.pass != *pass {
            *pass = p.pass;
            *started = Instant::now();
        }
        let (name, fraction) = match p.pass {
            Pass::Sign => {
                *input_records = p.records;
                let fraction = input_bytes
                    .filter(|&total| total > 0)
                    .map(|total| p.bytes as f64 / total as f64);
                ("1/3 reading and signing", fraction)
            }
            Pass::Verify => (
                "2/3 verifying candidates",
                Some(p.records as f64 / (*input_records).max(1) as f64),
            ),
            Pass::Write => (
                "3/3 writing kept records",
                Some(p.records as f64 / (*input_records).max(1) as f64),
            ),
        };
        progress.set(&format!(
            "{name}: {} records{}",
            p.records,
            progress_share(fraction, started.elapsed())
        ));
    };
    let summary =
        storyhash::dedup::dedup(files, &options, outputs, &mut on_warning, &mut on_progress)?;
    progress.finish();
    // Before any output is committed: a run that read nothing is a mistake to report
    // (a misnamed text field, a file in another encoding), not an empty corpus.
    refuse_empty_run(summary.documents, &summary.skipped_by_reason)?;
    if let Some(path) = &args.report {
        let page = html_report(&summary, &options.params, &removed_lines, &pair_lines)?;
        write_atomically(path, |w| w.write_all(&page))?;
    }
    if let Some(file) = kept {
        file.commit()?;
    }
    for list in [removed, clusters, pairs, bands].into_iter().flatten() {
        list.commit()?;
    }
    stdout
        .flush()
        .context("cannot write the kept records to standard output")?;
    drop(spooled);
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.summary {
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &summary)?;
            writeln!(w)
        })?;
    }
    if !args.quiet
        && options.params.keep == KeepPolicy::Earliest
        && summary.documents > 1
        && summary.dated_documents == 0
    {
        note_undated(
            &args.reading,
            "--keep earliest keeps the first in input order",
        );
    }
    let skipped = summary.skipped();
    if !args.quiet && skipped as usize > MAX_WARNINGS_SHOWN {
        eprintln!(
            "storyhash: warning: {} more records skipped (see --summary)",
            skipped as usize - MAX_WARNINGS_SHOWN
        );
    }
    eprintln!(
        "storyhash dedup: {} read ({} skipped), {} kept, {} removed in {}; {:.1} s, \
         {:.0} documents/s",
        plural(summary.documents, "document"),
        plural(skipped, "record"),
        summary.kept,
        summary.removed,
        plural(summary.clusters, "cluster"),
        seconds,
        summary.records as f64 / seconds.max(1e-9),
    );
    Ok(())
}

/// Writes to an optional output and to memory at once.
struct Tee<'a>(Option<&'a mut (dyn Write + Send)>, &'a mut Vec<u8>);

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(out) = self.0.as_mut() {
            out.write_all(buf)?;
        }
        self.1.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.as_mut().map_or(Ok(()), |out| out.flush())
    }
}

/// The HTML page of a dedup run, from its removed and pairs lines (JSON Lines).
fn html_report(
    summary: &storyhash::dedup::DedupSummary,
    params: &Params,
    removed: &[u8],
    pairs: &[u8],
) -> Result<Vec<u8>> {
    let lines = |bytes: &'_ [u8]| -> Result<Vec<serde_json::Value>> {
        Ok(bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(serde_json::from_slice)
            .collect::<std::result::Result<_, _>>()?)
    };
    let text = |v: &serde_json::Value, key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let mut clusters: Vec<storyhash::html::DedupCluster> = Vec::new();
    let mut position: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for r in lines(removed)? {
        let kept = text(&r, "duplicate_of");
        let at = *position.entry(kept.clone()).or_insert_with(|| {
            clusters.push(storyhash::html::DedupCluster {
                kept,
                removed: Vec::new(),
            });
            clusters.len() - 1
        });
        clusters[at]
            .removed
            .push((text(&r, "id"), r["jaccard"].as_f64().unwrap_or_default()));
    }
    clusters.sort_by_key(|c| std::cmp::Reverse(c.removed.len()));
    let similarities: Vec<f64> = lines(pairs)?
        .iter()
        .map(|p| p["jaccard"].as_f64().unwrap_or_default())
        .collect();
    let mut page = Vec::new();
    storyhash::html::write_dedup_report(&mut page, summary, params, &clusters, &similarities)?;
    Ok(page)
}
