//! `storyhash cluster`: the in-memory pipeline and its report.

use crate::*;

pub(crate) fn cluster(args: ClusterArgs) -> Result<()> {
    if args.tuning.preset == Preset::Story {
        return story_preset(&args);
    }
    if let Some(flag) = args.story_terms.given() {
        return Err(storyhash::Error::InvalidParams(format!(
            "{flag} weighs the story engine's terms: it applies to --preset story (or \
             `storyhash stories`), not to shingle clustering"
        ))
        .into());
    }
    set_threads(args.report.threads)?;
    let params = args.tuning.params()?;
    if let Some(path) = &args.pairs {
        check_destination(path)?;
        let inputs = resolve_sources(&sources(&args.inputs), &mut Vec::new())?;
        refuse_outputs_over_inputs(Some(path), &inputs)?;
        if let Some(report) = &args.report.output {
            refuse_shared_destinations([("-o", report.as_path()), ("--pairs", path.as_path())])?;
        }
    }
    let read = args.report.read(&args.inputs, &args.reading)?;
    if !args.report.quiet && params.keep == KeepPolicy::Earliest {
        note_if_undated(
            &read.documents,
            &args.reading,
            "--keep earliest keeps the first in input order",
        );
    }
    if let Some(thresholds) = &args.sweep {
        if args.report.format == ReportFormat::Html {
            return Err(storyhash::Error::InvalidParams(
                "--sweep prints a table: --format text or json".into(),
            )
            .into());
        }
        let progress = ProgressLine::new(args.report.quiet);
        progress.set(&format!("clustering {} documents", read.documents.len()));
        let rows = pipeline::sweep(&read.documents, &params, &thresholds.0)?;
        progress.finish();
        return emit(args.report.output.as_deref(), |out| {
            match args.report.format {
                ReportFormat::Json => {
                    let sweep = serde_json::json!({
                        "schema_version": storyhash::report::SCHEMA_VERSION,
                        "sweep": rows,
                    });
                    serde_json::to_writer_pretty(&mut *out, &sweep)?;
                    writeln!(out)
                }
                ReportFormat::Text | ReportFormat::Html => {
                    writeln!(
                        out,
                        "threshold  verified pairs  clusters  documents in clusters  largest"
                    )?;
                    for r in &rows {
                        writeln!(
                            out,
                            "{:>9.3}  {:>14}  {:>8}  {:>21}  {:>7}",
                            r.threshold,
                            r.verified_pairs,
                            r.multi_member_clusters,
                            r.clustered_documents,
                            r.largest_cluster
                        )?;
                    }
                    Ok(())
                }
            }
        });
    }
    let progress = ProgressLine::new(args.report.quiet);
    progress.set(&format!("clustering {} documents", read.documents.len()));
    let result = pipeline::run(&read.documents, &params)?;
    if let Some(path) = &args.pairs {
        let docs = &read.documents;
        // JSON lines, or Parquet when the name ends in .parquet, as dedup's lists.
        let mut list = ListFile::create(path, Table::Pairs)?;
        storyhash::dedup::write_pair_lines(list.writer(), &result.pairs, |d| &docs[d as usize].id)
            .map_err(|e| storyhash::Error::io(path, e))?;
        list.commit()?;
    }
    progress.set(&format!("explaining {} clusters", result.clusters.len()));
    let mut report = Report::build(&read.documents, &result, &read.warnings);
    report.retain_min_size(args.report.listed_min_size());
    progress.finish();
    emit(args.report.output.as_deref(), |out| {
        match args.report.format {
            ReportFormat::Text => report.write_text(out),
            ReportFormat::Json => report.write_json(out),
            ReportFormat::Html => {
                storyhash::html::write_cluster_report(out, &report, &read.documents, &result)
            }
        }
    })
}

/// `cluster --preset story`: rewrites of one story are grouped by the story engine
/// (`storyhash stories --granularity story`), whose group-average attachment cannot
/// chain as connected components of unigram-overlap pairs do. `--threshold`, `--keep`,
/// the term lists and `--background` carry over; the MinHash settings, `--pairs` and
/// `--sweep` have nothing to act on there and are refused.
fn story_preset(args: &ClusterArgs) -> Result<()> {
    let t = &args.tuning;
    let not_applying = [
        ("--pairs", args.pairs.is_some()),
        ("--sweep", args.sweep.is_some()),
    ];
    let flag = t.shingle_flag_given().or_else(|| {
        not_applying
            .iter()
            .find_map(|&(flag, given)| given.then_some(flag))
    });
    if let Some(flag) = flag {
        return Err(storyhash::Error::InvalidParams(format!(
            "--preset story groups rewrites with the story engine (as `storyhash stories`), \
             where {flag} does not apply; use --preset dup for shingle clustering"
        ))
        .into());
    }
    let mut params = Granularity::Story.params();
    if let Some(threshold) = t.threshold {
        params.threshold = threshold;
    }
    params.analysis = args.story_terms.analysis;
    report_stories(
        &args.inputs,
        &args.reading,
        &args.report,
        &params,
        t.keep.unwrap_or_default(),
        &story_lists(&args.story_terms, &args.reading, args.report.quiet)?,
        None,
    )
}
