//! `storyhash explain`: why two documents of the input match or do not.

use crate::*;

pub(crate) fn explain(args: ExplainArgs) -> Result<()> {
    let params = args.tuning.params()?;
    let read = read_documents(&args.inputs, None, &args.reading, args.quiet, None)?;
    let find = |id: &str| {
        read.documents
            .iter()
            .find(|d| d.id == id)
            .with_context(|| format!("no document with id {id:?} in the input"))
    };
    let (a, b) = (find(&args.a)?, find(&args.b)?);
    let explanation = storyhash::explain::explain(a, b, &params)?;
    emit(None, |out| match args.format {
        Format::Text => explanation.write_text(out),
        Format::Json => explanation.write_json(out),
    })
}
