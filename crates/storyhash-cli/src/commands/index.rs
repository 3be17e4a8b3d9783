//! `storyhash index`: create, add, query, remove and stats of a persistent index.

use crate::*;

pub(crate) fn index(command: IndexCommand) -> Result<()> {
    let mut out = StdoutSink::new();
    match command {
        IndexCommand::Create {
            index,
            tuning,
            stories,
        } => {
            let _lock = lock_for_update(&index)?;
            if index.exists() {
                anyhow::bail!(
                    "{}: already exists (remove it first to start over)",
                    index.display()
                );
            }
            Index::with_stories(tuning.params()?, stories.map(Granularity::params))?
                .save(&index)?;
            writeln!(out, "created {}", index.display())
                .and_then(|()| out.flush())
                .with_context(|| saved_but(&index))?;
        }
        IndexCommand::Add {
            index: path,
            inputs,
            window,
            reading,
            format,
            quiet,
        } => {
            refuse_missing_index(&path)?;
            // Held from reading the index to writing it back: another `add` or `remove`
            // at the same time would otherwise write over this one's documents.
            let _lock = lock_for_update(&path)?;
            let index = Index::open(&path)?;
            let progress = ProgressLine::new(quiet);
            let mut added = 0usize;
            // In batches: the text of one batch at a time is held, whatever the input.
            let mut warnings = Warnings::new(quiet);
            read_sources_in_batches(&sources(&inputs), &reading.options(), INDEX_BATCH, |read| {
                warnings.print(&read.warnings);
                added += read.documents.len();
                progress.set(&format!("adding documents: {added} read"));
                for (doc, result) in read
                    .documents
                    .iter()
                    .zip(index.insert_batch(&read.documents))
                {
                    match result {
                        Ok(decision) => write_decision(
                            &mut out,
                            format,
                            &decision.id,
                            &decision.matches,
                            Some((&decision.cluster, decision.story.as_deref())),
                        )?,
                        Err(e) if reading.strict => {
                            return Err(anyhow::anyhow!("{}: {e}", doc.location))
                        }
                        Err(e) => warnings.skipped(&format!("{}: {e}", doc.location)),
                    }
                }
                Ok::<(), anyhow::Error>(())
            })?;
            progress.set(&format!("saving {}", path.display()));
            warnings.finish();
            // Every decision is out before the index changes on disk: a failed write
            // leaves the index as it was, and an error after the save cannot happen.
            out.flush().with_context(|| {
                format!(
                    "cannot write the decisions to standard output; {} was left unchanged",
                    path.display()
                )
            })?;
            let evicted = window.map_or(Ok(0), |w| index.evict_window(w))?;
            index.save(&path)?;
            progress.finish();
            if !quiet {
                eprintln!(
                    "storyhash index: {} documents stored{}",
                    index.len(),
                    if evicted > 0 {
                        format!(", {evicted} evicted by the window")
                    } else {
                        String::new()
                    }
                );
            }
        }
        IndexCommand::Query {
            index: path,
            inputs,
            reading,
            format,
            quiet,
        } => {
            let index = Index::open(&path)?;
            let mut warnings = Warnings::new(quiet);
            read_sources_in_batches(&sources(&inputs), &reading.options(), INDEX_BATCH, |read| {
                warnings.print(&read.warnings);
                for (doc, matches) in read
                    .documents
                    .iter()
                    .zip(index.query_batch(&read.documents))
                {
                    write_decision(&mut out, format, &doc.id, &matches, None)?;
                }
                Ok::<(), anyhow::Error>(())
            })?;
            warnings.finish();
        }
        IndexCommand::Remove { index: path, ids } => {
            refuse_missing_index(&path)?;
            let _lock = lock_for_update(&path)?;
            let index = Index::open(&path)?;
            for id in &ids {
                index.remove(id)?;
            }
            index.save(&path)?;
            writeln!(
                out,
                "removed {} documents; {} stored",
                ids.len(),
                index.len()
            )
            .and_then(|()| out.flush())
            .with_context(|| saved_but(&path))?;
        }
        IndexCommand::Stats {
            index: path,
            format,
        } => {
            let stats = Index::open(&path)?.stats();
            match format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &stats)?;
                    writeln!(out)?;
                }
                Format::Text => {
                    let preset = stats
                        .params
                        .preset
                        .map_or("custom".into(), |p| p.to_string());
                    writeln!(out, "{}: {} documents, {} clusters of duplicates holding {} documents, {} links",
                        path.display(), stats.documents, stats.multi_member_clusters, stats.clustered_documents, stats.links)?;
                    writeln!(out, "preset {preset}: {} shingles, threshold {:.2}, k={} ({}), {} stored shingles",
                        stats.params.shingle, stats.params.threshold, stats.params.num_perm, stats.params.sketch, stats.shingles)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// The context of a failed write after the index was saved: the change is made, only
/// its confirmation is lost.
fn saved_but(path: &std::path::Path) -> String {
    format!(
        "{} was saved, but its confirmation could not be written",
        path.display()
    )
}

/// Refuses to update an index that does not exist, before its lock file is made: a
/// mistyped path must leave nothing behind.
fn refuse_missing_index(path: &std::path::Path) -> Result<()> {
    std::fs::metadata(path).map_err(|e| storyhash::Error::io(path, e))?;
    Ok(())
}

/// One line per document: its matches (text) or a JSON object.
pub(crate) fn write_decision(
    out: &mut impl Write,
    format: Format,
    id: &str,
    matches: &[storyhash::Match],
    placed: Option<(&str, Option<&str>)>,
) -> Result<()> {
    match format {
        Format::Json => {
            let mut value = serde_json::json!({ "id": id, "duplicate": !matches.is_empty(), "matches": matches });
            if let Some((cluster, story)) = placed {
                value["cluster"] = serde_json::Value::from(cluster);
                if let Some(story) = story {
                    value["story"] = serde_json::Value::from(story);
                }
            }
            writeln!(out, "{value}")?;
        }
        Format::Text => {
            let best = matches.first();
            match best {
                None => write!(out, "{}: new", printable(id))?,
                Some(m) => write!(
                    out,
                    "{}: duplicate of {} (Jaccard {:.3}, contains {:.0}% of it)",
                    printable(id),
                    printable(&m.id),
                    m.jaccard,
                    100.0 * m.containment_of_stored
                )?,
            }
            if matches.len() > 1 {
                write!(out, " and {} more", matches.len() - 1)?;
            }
            match (placed, best) {
                (Some((c, Some(story))), _) => writeln!(out, "; cluster {c}; story {story}")?,
                (Some((c, None)), _) => writeln!(out, "; cluster {c}")?,
                (None, Some(m)) => writeln!(out, "; cluster {}", m.cluster)?,
                (None, None) => writeln!(out)?,
            }
        }
    }
    Ok(())
}

/// Documents `index add` and `index query` read and process at a time.
pub(crate) const INDEX_BATCH: usize = 4096;
