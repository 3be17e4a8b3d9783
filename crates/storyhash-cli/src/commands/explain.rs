//! `storyhash explain`: why two documents of the input match or do not, by shingles or,
//! with `--granularity`, by the story engine.

use storyhash::doc::DocIndex;

use crate::*;

pub(crate) fn explain(args: ExplainArgs) -> Result<()> {
    if args.granularity.is_none() {
        if let Some(flag) = args.story_terms.given() {
            return Err(storyhash::Error::InvalidParams(format!(
                "{flag} weighs the story engine's terms: it applies with --granularity, not \
                 to a shingle explanation"
            ))
            .into());
        }
    }
    if let (Some(_), Some(flag)) = (args.granularity, args.tuning.shingle_flag_given()) {
        return Err(storyhash::Error::InvalidParams(format!(
            "--granularity explains by the story engine, where {flag} does not apply"
        ))
        .into());
    }
    let read = read_documents(&args.inputs, None, &args.reading, args.quiet, None)?;
    let find = |id: &str| {
        read.documents
            .iter()
            .position(|d| d.id == id)
            .with_context(|| format!("no document with id {id:?} in the input"))
    };
    let (a, b) = (find(&args.a)?, find(&args.b)?);
    if let Some(granularity) = args.granularity {
        let mut params = granularity.params();
        if let Some(threshold) = args.tuning.threshold {
            params.threshold = threshold;
        }
        params.analysis = args.story_terms.analysis;
        let lists = story_lists(&args.story_terms, &args.reading, args.quiet)?;
        let keep = args.tuning.keep.unwrap_or_default();
        let position = |d: usize| DocIndex::try_from(d).context("too many documents");
        let (a, b) = (position(a)?, position(b)?);
        let explanation = explain_pair(&read.documents, a, b, &params, keep, &lists)?;
        return emit(None, |out| match args.format {
            Format::Text => explanation.write_text(out),
            Format::Json => explanation.write_json(out),
        });
    }
    let params = args.tuning.params()?;
    let docs = &read.documents;
    let explanation = storyhash::explain::explain(&docs[a], &docs[b], &params)?;
    emit(None, |out| match args.format {
        Format::Text => explanation.write_text(out),
        Format::Json => explanation.write_json(out),
    })
}
