//! `storyhash stories`: story clustering and its report.

use crate::*;

pub(crate) fn stories(args: StoriesArgs) -> Result<()> {
    set_threads(args.report.threads)?;
    let mut params = args.granularity.params();
    if let Some(t) = args.threshold {
        anyhow::ensure!(t > 0.0 && t <= 1.0, "threshold must be in (0, 1], got {t}");
        params.threshold = t;
    }
    if let Some(w) = args.window {
        params.window_seconds = w;
    }
    let read = args.report.read(&args.inputs, &args.reading)?;
    let clustering = cluster_stories(&read.documents, &params)?;
    let report = StoryReport::build(&read.documents, &clustering);
    emit(args.report.output.as_deref(), |out| {
        match args.report.format {
            Format::Text => report.write_text(out),
            Format::Json => report.write_json(out),
        }
    })
}
