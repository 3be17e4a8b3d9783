//! `storyhash stories`: story clustering and its report.

use crate::*;

pub(crate) fn stories(args: StoriesArgs) -> Result<()> {
    set_threads(args.report.threads)?;
    let mut params = args.granularity.params();
    if let Some(t) = args.threshold {
        params.threshold = t;
    }
    if let Some(w) = args.window {
        params.window_seconds = w;
    }
    // Before reading: a bad value is a usage error, found at once.
    params.check()?;
    let read = args.report.read(&args.inputs, &args.reading)?;
    let progress = ProgressLine::new(args.report.quiet);
    progress.set(&format!(
        "grouping {} documents into stories",
        read.documents.len()
    ));
    let clustering = cluster_stories_keeping(&read.documents, &params, args.keep)?;
    let mut report = StoryReport::build(&read.documents, &clustering);
    report.retain_min_size(args.report.listed_min_size());
    progress.finish();
    emit(args.report.output.as_deref(), |out| {
        match args.report.format {
            ReportFormat::Text => report.write_text(out),
            ReportFormat::Json => report.write_json(out),
            ReportFormat::Html => {
                storyhash::html::write_story_report(out, &report, &read.documents)
            }
        }
    })
}
