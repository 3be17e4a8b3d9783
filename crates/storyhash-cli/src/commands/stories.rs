//! `storyhash stories`: story clustering and its report.

use std::path::Path;

use crate::*;

pub(crate) fn stories(args: StoriesArgs) -> Result<()> {
    let mut params = args.granularity.params();
    if let Some(t) = args.threshold {
        params.threshold = t;
    }
    if let Some(w) = args.window {
        params.window_seconds = w;
    }
    params.analysis = args.terms.analysis;
    let lists = story_lists(&args.terms, &args.reading, args.report.quiet)?;
    report_stories(
        &args.inputs,
        &args.reading,
        &args.report,
        &params,
        args.keep,
        &lists,
        args.save_boilerplate.as_deref(),
    )
}

/// The lists and background that `terms` names, read.
pub(crate) fn story_lists(
    terms: &StoryTerms,
    reading: &Reading,
    quiet: bool,
) -> Result<StoryLists> {
    Ok(StoryLists {
        stopwords: list_file(terms.stopwords_file.as_deref())?,
        boilerplate_lines: list_file(terms.boilerplate_file.as_deref())?,
        background: story_background(&terms.background, terms.analysis, reading, quiet)?,
    })
}

/// The document frequencies of the `--background` paths, of terms by `analysis`: an
/// index directory gives its story terms' counts (refused if it keeps another
/// analysis); any other path is read as input, with the input's options, one batch of
/// text in memory at a time.
pub(crate) fn story_background(
    paths: &[PathBuf],
    analysis: StoryAnalysis,
    reading: &Reading,
    quiet: bool,
) -> Result<Background> {
    let mut background = Background::with_analysis(analysis);
    for path in paths {
        if storyhash::index::is_index_directory(path) {
            let counts = Index::open(path)?.story_background()?.with_context(|| {
                format!(
                    "{}: this index does not track stories, so it counts no story terms \
                     (an index created with --stories does)",
                    path.display()
                )
            })?;
            background
                .merge(&counts)
                .with_context(|| format!("{}: not usable as a background", path.display()))?;
            continue;
        }
        let mut warnings = Vec::new();
        read_sources_in_batches(
            &sources(std::slice::from_ref(path)),
            &reading.options(),
            4096,
            |batch| {
                background.add_documents(&batch.documents);
                warnings.extend(batch.warnings);
                Ok::<(), anyhow::Error>(())
            },
        )?;
        if !quiet {
            print_warnings(&warnings);
        }
    }
    Ok(background)
}

/// The entries of a list file: its lines, trimmed, less blank ones and # comments.
pub(crate) fn list_file(path: Option<&std::path::Path>) -> Result<Vec<String>> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(path).map_err(|e| storyhash::Error::io(path, e))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// Reads the inputs, groups them into stories with `params` and writes the report:
/// `stories`, and `cluster --preset story`. With `save_boilerplate`, every line left out
/// is also written there as a list file.
pub(crate) fn report_stories(
    inputs: &[PathBuf],
    reading: &Reading,
    options: &ReportOptions,
    params: &StoryParams,
    keep: KeepPolicy,
    lists: &StoryLists,
    save_boilerplate: Option<&Path>,
) -> Result<()> {
    set_threads(options.threads)?;
    // Before reading: a bad value is a usage error, found at once.
    params.check()?;
    if let Some(path) = save_boilerplate {
        check_destination(path)?;
        if let Some(report) = options.output.as_deref() {
            refuse_shared_destinations([("--output", report), ("--save-boilerplate", path)])?;
        }
        let path = path.to_path_buf();
        refuse_outputs_over_inputs(
            [&path],
            &resolve_sources(&sources(inputs), &mut Vec::new())?,
        )?;
    }
    let read = options.read(inputs, reading)?;
    if !options.quiet {
        note_if_undated(&read.documents, reading, "the window parts no stories");
    }
    let progress = ProgressLine::new(options.quiet);
    progress.set(&format!(
        "grouping {} documents into stories",
        read.documents.len()
    ));
    let lines_listed = save_boilerplate.map_or(BOILERPLATE_LISTED, |_| usize::MAX);
    let mut clustering =
        cluster_stories_listing(&read.documents, params, keep, lists, lines_listed)?;
    if let Some(path) = save_boilerplate {
        let mut skipped = 0;
        write_atomically(path, |w| {
            skipped = write_boilerplate_list(w, &clustering.boilerplate_lines)?;
            Ok(())
        })?;
        if skipped > 0 && !options.quiet {
            eprintln!(
                "storyhash: warning: {}: {skipped} lines starting with # not written (a list \
                 file reads them as comments)",
                path.display()
            );
        }
        clustering.boilerplate_lines.truncate(BOILERPLATE_LISTED);
    }
    let mut report = StoryReport::build(&read.documents, &clustering);
    report.retain_min_size(options.listed_min_size());
    progress.finish();
    emit(options.output.as_deref(), |out| match options.format {
        ReportFormat::Text => report.write_text(out),
        ReportFormat::Json => report.write_json(out),
        ReportFormat::Html => storyhash::html::write_story_report(out, &report, &read.documents),
    })
}

/// Writes `lines` as a list file, each under a comment naming its source (or the user's
/// list) and its share; returns how many were left out for starting with `#`.
fn write_boilerplate_list(w: &mut dyn Write, lines: &[BoilerplateLine]) -> io::Result<usize> {
    writeln!(
        w,
        "# storyhash stories: lines and sentences left out of the story terms"
    )?;
    let mut skipped = 0;
    for line in lines {
        if line.line.starts_with('#') {
            skipped += 1;
            continue;
        }
        let source = match (line.listed, line.source.as_str()) {
            (true, _) => "listed, of all documents".to_owned(),
            (false, "") => "learned, documents without a url".to_owned(),
            (false, host) => format!("learned, {host}"),
        };
        writeln!(w, "# {source}: {:.1}%\n{}", line.share * 100.0, line.line)?;
    }
    Ok(skipped)
}
