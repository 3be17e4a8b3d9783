//! `storyhash cluster`: the in-memory pipeline and its report.

use crate::*;

pub(crate) fn cluster(args: ClusterArgs) -> Result<()> {
    set_threads(args.report.threads)?;
    let params = args.tuning.params()?;
    let read = args.report.read(&args.inputs, &args.reading)?;
    let result = pipeline::run(&read.documents, &params)?;
    let mut report = Report::build(&read.documents, &result, &read.warnings);
    report.retain_min_size(args.report.min_size);
    emit(args.report.output.as_deref(), |out| {
        match args.report.format {
            Format::Text => report.write_text(out),
            Format::Json => report.write_json(out),
        }
    })
}
