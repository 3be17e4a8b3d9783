//! `storyhash explain`: why two documents of the input match or do not, by shingles or,
//! with `--granularity`, by the story engine.

use storyhash::doc::DocIndex;

use crate::*;

/// What a pair is explained by, checked before the input is read.
enum Engine {
    Shingles(Params),
    Stories(StoryParams, StoryLists),
}

pub(crate) fn explain(args: ExplainArgs) -> Result<()> {
    let engine = match args.granularity {
        None => {
            if let Some(flag) = args.story_terms.given() {
                return Err(storyhash::Error::InvalidParams(format!(
                    "{flag} weighs the story engine's terms: it applies with --granularity, \
                     not to a shingle explanation"
                ))
                .into());
            }
            Engine::Shingles(args.tuning.params()?)
        }
        Some(granularity) => {
            if let Some(flag) = args.tuning.shingle_flag_given() {
                return Err(storyhash::Error::InvalidParams(format!(
                    "--granularity explains by the story engine, where {flag} does not apply"
                ))
                .into());
            }
            let mut params = granularity.params();
            if let Some(threshold) = args.tuning.threshold {
                params.threshold = threshold;
            }
            params.analysis = args.story_terms.analysis;
            params.check()?;
            let lists = story_lists(&args.story_terms, &args.reading, args.quiet)?;
            Engine::Stories(params, lists)
        }
    };
    let read = read_documents(&args.inputs, None, &args.reading, args.quiet, None)?;
    let find = |id: &str| {
        let d = read
            .documents
            .iter()
            .position(|d| d.id == id)
            .with_context(|| format!("no document with id {id:?} in the input"))?;
        DocIndex::try_from(d).context("too many documents")
    };
    let (a, b) = (find(&args.a)?, find(&args.b)?);
    let docs = &read.documents;
    match engine {
        Engine::Stories(params, lists) => {
            let keep = args.tuning.keep.unwrap_or_default();
            let explanation = explain_pair(docs, a, b, &params, keep, &lists)?;
            emit(None, |out| match args.format {
                Format::Text => explanation.write_text(out),
                Format::Json => explanation.write_json(out),
            })
        }
        Engine::Shingles(params) => {
            let (a, b) = (&docs[a as usize], &docs[b as usize]);
            let explanation = storyhash::explain::explain(a, b, &params)?;
            emit(None, |out| match args.format {
                Format::Text => explanation.write_text(out),
                Format::Json => explanation.write_json(out),
            })
        }
    }
}
