//! `storyhash index`: create, add, query, remove, stats, clusters, stories, lists,
//! compact, check and upgrade of a persistent index.

use std::path::{Path, PathBuf};

use storyhash::input::{ReadOutcome, ReadRecord};
use storyhash::Document;

use crate::*;

pub(crate) fn index(command: IndexCommand) -> Result<()> {
    let mut out = StdoutSink::new();
    match command {
        IndexCommand::Create {
            index,
            tuning,
            stories,
            stopwords_file,
            boilerplate_file,
            background,
            reading,
        } => {
            if std::fs::symlink_metadata(&index).is_ok() {
                anyhow::bail!(
                    "{}: already exists (remove it first to start over)",
                    index.display()
                );
            }
            let lists = ExclusionLists {
                stopwords: list_file(stopwords_file.as_deref())?,
                boilerplate_lines: list_file(boilerplate_file.as_deref())?,
            };
            let story = stories.map(Granularity::params);
            let analysis = story.as_ref().map(|s| s.analysis).unwrap_or_default();
            let created = Index::with_story_lists(tuning.params()?, story, lists)?;
            let background = story_background(&background, analysis, &reading, false)?;
            let counted = background.documents();
            if counted > 0 {
                created.set_story_background(background)?;
            }
            created.save(&index)?;
            let with = if counted > 0 {
                format!(" (story background: {})", plural(counted, "document"))
            } else {
                String::new()
            };
            writeln!(out, "created {}{with}", index.display())
                .and_then(|()| out.flush())
                .with_context(|| saved_but(&index))?;
        }
        IndexCommand::Add {
            index: path,
            inputs,
            window,
            learn_boilerplate,
            commit_every,
            reading,
            format,
            quiet,
        } => {
            // The writer lock is held from reading the index to committing: another `add`
            // or `remove` waits, and then matches against what this one added.
            let index = open_writer(&path)?;
            if learn_boilerplate && index.story_params().is_none() {
                anyhow::bail!(
                    "{}: --learn-boilerplate needs an index that tracks stories (created \
                     with --stories)",
                    path.display()
                );
            }
            let progress = ProgressLine::new(quiet);
            let mut added = 0usize;
            let mut dated = 0usize;
            let mut learned = 0usize;
            // In batches: the text of one batch at a time is held, whatever the input;
            // with --commit-every, batches of at most that many, each committed once
            // the documents since the last commit reach it.
            let batch = commit_every.map_or(INDEX_BATCH, |n| n.min(INDEX_BATCH as u64) as usize);
            let (mut uncommitted, mut evicted) = (0u64, 0usize);
            let mut warnings = Warnings::new(quiet);
            read_sources_in_batches(&sources(&inputs), &reading.options(), batch, |read| {
                warnings.print(&read.warnings);
                added += read.documents.len();
                dated += read
                    .documents
                    .iter()
                    .filter(|d| d.published_time().is_some())
                    .count();
                if learn_boilerplate {
                    progress.set(&format!("learning boilerplate lines: {added} read"));
                    learned += index.learn_story_lines(&read.documents)?.len();
                }
                progress.set(&format!("adding documents: {added} read"));
                let decisions = index.insert_batch(&read.documents);
                write_in_order(&mut out, format, &read, decisions, |out, doc, result| {
                    write_decided(out, format, doc, result, reading.strict, &mut warnings)
                })?;
                uncommitted += read.documents.len() as u64;
                // A feed between articles commits what it sent, so a kill loses only
                // what arrived since its last pause; a full pipe, every --commit-every.
                if read.waiting || commit_every.is_some_and(|n| uncommitted >= n) {
                    evicted += commit_added(&mut out, &index, &path, window)?;
                    uncommitted = 0;
                }
                Ok::<(), anyhow::Error>(())
            })?;
            progress.set(&format!("committing to {}", path.display()));
            warnings.finish();
            evicted += commit_added(&mut out, &index, &path, window)?;
            progress.finish();
            if !quiet {
                eprintln!(
                    "storyhash index: {} stored{}{}",
                    plural(index.len() as u64, "document"),
                    if evicted > 0 {
                        format!(", {evicted} evicted by the window")
                    } else {
                        String::new()
                    },
                    if learn_boilerplate {
                        format!(", {learned} boilerplate lines learned (`index lists` shows them)")
                    } else {
                        String::new()
                    }
                );
                let consequence = match (index.story_params().is_some(), window.is_some()) {
                    (true, true) => {
                        Some("the story window parts none of them and --window evicts none")
                    }
                    (true, false) => Some("the story window parts none of them"),
                    (false, true) => Some("--window evicts none of them"),
                    (false, false) => None,
                };
                if let Some(consequence) = consequence.filter(|_| added > 1 && dated == 0) {
                    note_undated(&reading, consequence);
                }
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
            // A story-tracking index also says which story each document would join.
            let stories = index.story_params().is_some();
            read_sources_in_batches(&sources(&inputs), &reading.options(), INDEX_BATCH, |read| {
                warnings.print(&read.warnings);
                if stories {
                    let previews = index.preview_batch(&read.documents);
                    write_in_order(&mut out, format, &read, previews, |out, doc, result| {
                        write_decided(out, format, doc, result, reading.strict, &mut warnings)
                    })?;
                } else {
                    let matches = index.query_batch(&read.documents)?;
                    write_in_order(&mut out, format, &read, matches, |out, doc, matches| {
                        write_decision(out, format, &doc.id, &matches, None)
                    })?;
                }
                // A feed between articles: what it asked is answered now.
                if read.waiting {
                    out.flush()?;
                }
                Ok::<(), anyhow::Error>(())
            })?;
            warnings.finish();
        }
        IndexCommand::Remove { index: path, ids } => {
            let index = open_writer(&path)?;
            for id in &ids {
                index.remove(id)?;
            }
            index.commit()?;
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
            let stats = Index::open(&path)?.stats()?;
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
                    if let Some(story) = &stats.story {
                        writeln!(
                            out,
                            "stories: {} granularity, mean cosine {:.2}, window {} h, terms as {}",
                            story.granularity,
                            story.threshold,
                            story.window_seconds / 3600,
                            story.analysis
                        )?;
                    }
                    if let Some(counts) = &stats.story_counts {
                        writeln!(
                            out,
                            "{} stories, {} of two or more documents, the largest of {}",
                            counts.stories, counts.multi_document_stories, counts.largest
                        )?;
                    }
                    if stats.story_background_documents > 0 {
                        writeln!(
                            out,
                            "story background: {}",
                            plural(stats.story_background_documents, "document")
                        )?;
                    }
                    if stats.story_tracker_documents > 0 {
                        writeln!(
                            out,
                            "story tracker stored: {} counted",
                            plural(stats.story_tracker_documents, "document")
                        )?;
                    }
                    let lists = &stats.story_lists;
                    if !lists.is_empty() {
                        writeln!(
                            out,
                            "story lists: {} stopwords, {} boilerplate lines",
                            lists.stopwords.len(),
                            lists.boilerplate_lines.len()
                        )?;
                    }
                    writeln!(
                        out,
                        "{} segments{}",
                        stats.segments,
                        if stats.uncommitted > 0 {
                            format!(", {} documents not committed", stats.uncommitted)
                        } else {
                            String::new()
                        }
                    )?;
                }
            }
        }
        IndexCommand::Clusters {
            index: path,
            listing,
        } => {
            let index = Index::open(&path)?;
            let since = since_time(&index, &path, listing.since)?;
            let (clusters, singletons) = listed(
                &listing,
                |floor| index.cluster_list(since, floor),
                |c| c.members.len(),
            )?;
            let clustered = ClusterListing {
                clusters: &clusters,
                singletons,
                documents: index.len(),
                params: index.params(),
                since,
            };
            emit(listing.output.as_deref(), |out| {
                clustered.write(out, listing.format)
            })?;
        }
        IndexCommand::Stories {
            index: path,
            listing,
        } => {
            let index = Index::open(&path)?;
            let Some(params) = index.story_params() else {
                anyhow::bail!(
                    "{}: this index does not track stories (create one with --stories)",
                    path.display()
                );
            };
            let since = since_time(&index, &path, listing.since)?;
            let (stories, singletons) = listed(
                &listing,
                |floor| Ok(index.story_list(since, floor)?.unwrap_or_default()),
                |s| s.members.len(),
            )?;
            let storied = StoryListing {
                stories: &stories,
                singletons,
                documents: index.len(),
                params,
                since,
            };
            emit(listing.output.as_deref(), |out| {
                storied.write(out, listing.format)
            })?;
        }
        IndexCommand::Lists {
            index: path,
            stopwords_file,
            boilerplate_file,
            format,
        } => lists(&mut out, &path, stopwords_file, boilerplate_file, format)?,
        IndexCommand::Compact { index: path } => {
            let index = open_writer(&path)?;
            let before = index.stats()?.segments;
            index.compact()?;
            writeln!(
                out,
                "compacted {}: {} segments into {}, {} documents",
                path.display(),
                before,
                index.stats()?.segments,
                index.len()
            )?;
        }
        IndexCommand::Check { index: path } => {
            let index = Index::open(&path)?;
            index.verify()?;
            writeln!(
                out,
                "{}: {}, every byte checked",
                path.display(),
                plural(index.len() as u64, "document")
            )?;
        }
        IndexCommand::Upgrade { old, new } => upgrade(&mut out, &old, new.as_deref())?,
    }
    out.flush()?;
    Ok(())
}

/// `index lists`: the index's story lists, replaced first by the files given (a list
/// not given is kept), and committed.
fn lists(
    out: &mut impl Write,
    path: &Path,
    stopwords_file: Option<PathBuf>,
    boilerplate_file: Option<PathBuf>,
    format: Format,
) -> Result<()> {
    let lists = if stopwords_file.is_none() && boilerplate_file.is_none() {
        Index::open(path)?.story_lists()
    } else {
        let index = open_writer(path)?;
        let mut lists = index.story_lists();
        if let Some(file) = &stopwords_file {
            lists.stopwords = list_file(Some(file))?;
        }
        if let Some(file) = &boilerplate_file {
            lists.boilerplate_lines = list_file(Some(file))?;
        }
        index
            .set_story_lists(lists.clone())
            .with_context(|| format!("{}: lists not changed", path.display()))?;
        index.commit()?;
        lists
    };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &lists)?;
            writeln!(out)?;
        }
        // As list files: each list under a comment naming it, which a reader skips.
        Format::Text => {
            for (name, list) in [
                ("stopwords", &lists.stopwords),
                ("boilerplate lines", &lists.boilerplate_lines),
            ] {
                writeln!(out, "# {name}: {}", list.len())?;
                for entry in list {
                    writeln!(out, "{entry}")?;
                }
            }
        }
    }
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

/// Opens the index directory at `path` as its one writer, saying so on stderr while
/// another process holds its lock. A missing path is refused before anything is made.
fn open_writer(path: &Path) -> Result<Index> {
    std::fs::metadata(path).map_err(|e| storyhash::Error::io(path, e))?;
    Ok(Index::open_writer(path, |lock| {
        eprintln!(
            "storyhash: waiting for another process writing {} (lock: {})",
            path.display(),
            lock.display()
        );
    })?)
}

/// `index upgrade`: a single-file index written again as a directory. In place, the
/// directory is built under a temporary name and the old file kept as `<name>.old`.
fn upgrade(out: &mut impl Write, old: &Path, new: Option<&Path>) -> Result<()> {
    if std::fs::metadata(old)
        .map_err(|e| storyhash::Error::io(old, e))?
        .is_dir()
    {
        anyhow::bail!("{}: already an index directory", old.display());
    }
    let index = Index::open(old)?;
    match new {
        Some(new) => {
            index.save(new)?;
            writeln!(
                out,
                "wrote {} ({} documents) from {}",
                new.display(),
                index.len(),
                old.display()
            )?;
        }
        None => {
            let with_suffix = |suffix: &str| {
                let mut name = old.as_os_str().to_os_string();
                name.push(suffix);
                PathBuf::from(name)
            };
            let (building, kept) = (with_suffix(".upgrading"), with_suffix(".old"));
            if std::fs::symlink_metadata(&kept).is_ok() {
                anyhow::bail!(
                    "{}: already exists; move it away to upgrade in place",
                    kept.display()
                );
            }
            if std::fs::symlink_metadata(&building).is_ok() {
                std::fs::remove_dir_all(&building)
                    .map_err(|e| storyhash::Error::io(&building, e))?;
            }
            index.save(&building)?;
            std::fs::rename(old, &kept).map_err(|e| storyhash::Error::io(old, e))?;
            std::fs::rename(&building, old).map_err(|e| storyhash::Error::io(old, e))?;
            writeln!(
                out,
                "upgraded {} ({} documents); the old file is kept as {}",
                old.display(),
                index.len(),
                kept.display()
            )?;
        }
    }
    Ok(())
}

/// Answers every record of a batch in input order: each document by `answer` with its
/// own of `answers` (one per document, in order), each record the reader skipped by
/// [`write_skipped`] where it stood among them.
fn write_in_order<W: Write, A>(
    out: &mut W,
    format: Format,
    read: &ReadOutcome,
    answers: Vec<A>,
    mut answer: impl FnMut(&mut W, &Document, A) -> Result<()>,
) -> Result<()> {
    let mut answers = answers.into_iter();
    for record in read.in_order() {
        match record {
            ReadRecord::Warning(w) if w.problem.skips_record() => {
                write_skipped(out, format, None, &w.location, &w.problem)?
            }
            ReadRecord::Warning(_) => {}
            ReadRecord::Document(doc) => {
                let Some(a) = answers.next() else {
                    anyhow::bail!(
                        "{}: the index gave no answer for this document",
                        doc.location
                    )
                };
                answer(out, doc, a)?
            }
        }
    }
    Ok(())
}

/// The answer to a document the index placed (or previewed), or the record's skip
/// (an id already stored) unless `strict` makes it an error.
fn write_decided(
    out: &mut impl Write,
    format: Format,
    doc: &Document,
    result: storyhash::Result<storyhash::Decision>,
    strict: bool,
    warnings: &mut Warnings,
) -> Result<()> {
    match result {
        Ok(d) => write_decision(out, format, &d.id, &d.matches, Some(&d)),
        Err(e) if strict => Err(anyhow::anyhow!("{}: {e}", doc.location)),
        Err(e) => {
            write_skipped(out, format, Some(&doc.id), &doc.location, &e)?;
            warnings.skipped(&format!("{}: {e}", doc.location));
            Ok(())
        }
    }
}

/// The answer to a record that was read and is neither stored nor answered (a bad
/// line, a repeated id): one line, as every record gets, so that a program pairing each
/// line it sends with a line it reads back never waits for an answer that will not
/// come, in the order the records came; each answer names its place.
fn write_skipped(
    out: &mut impl Write,
    format: Format,
    id: Option<&str>,
    location: &storyhash::Location,
    problem: &dyn std::fmt::Display,
) -> Result<()> {
    match format {
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::json!({
                "id": id,
                "location": location.to_string(),
                "skipped": problem.to_string(),
            })
        )?,
        Format::Text => writeln!(out, "{location}: skipped: {problem}")?,
    }
    Ok(())
}

/// One line per document: its matches (text) or a JSON object; `placed`, when the
/// document was inserted or previewed, adds its cluster and (in a story-tracking index)
/// its story.
pub(crate) fn write_decision(
    out: &mut impl Write,
    format: Format,
    id: &str,
    matches: &[storyhash::Match],
    placed: Option<&storyhash::Decision>,
) -> Result<()> {
    fn story(d: &storyhash::Decision) -> Option<(&str, f64)> {
        d.story.as_deref().zip(d.story_score)
    }
    match format {
        Format::Json => {
            let mut value = serde_json::json!({ "id": id, "duplicate": !matches.is_empty(), "matches": matches });
            if let Some(d) = placed {
                value["cluster"] = serde_json::Value::from(d.cluster.as_str());
                if let Some((story, score)) = story(d) {
                    value["story"] = serde_json::Value::from(story);
                    value["story_score"] = serde_json::Value::from(score);
                    value["story_headline"] = serde_json::Value::from(d.story_headline.as_deref());
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
                (Some(d), _) => {
                    write!(out, "; cluster {}", printable(&d.cluster))?;
                    if let Some((story, score)) = story(d) {
                        write!(out, "; story {} ({score:.3})", printable(story))?;
                    }
                    match &d.story_headline {
                        Some(h) => writeln!(out, ": {}", storyhash::report::shorten(h))?,
                        None => writeln!(out)?,
                    }
                }
                (None, Some(m)) => writeln!(out, "; cluster {}", m.cluster)?,
                (None, None) => writeln!(out)?,
            }
        }
    }
    Ok(())
}

/// Documents `index add` and `index query` read and process at a time.
pub(crate) const INDEX_BATCH: usize = 4096;

/// Commits what `index add` added to the index at `path`, after writing every decision
/// (a failed write leaves the index as it was, and an error after the save cannot
/// happen), dropping documents older than `window` first; returns how many it dropped.
fn commit_added(
    out: &mut StdoutSink,
    index: &Index,
    path: &Path,
    window: Option<i64>,
) -> Result<usize> {
    out.flush().with_context(|| {
        format!(
            "cannot write the decisions to standard output; {} was left unchanged since \
             the last commit",
            path.display()
        )
    })?;
    let evicted = window.map_or(Ok(0), |w| index.evict_window(w))?;
    index.commit()?;
    Ok(evicted)
}

/// The groups (stories or clusters) `list` gives of at least `listing.min_size`
/// documents, and how many documents are alone in theirs, which only the page shows: it
/// lists from size one (reading every listed document's id, time and headline), the
/// others from the size asked for.
fn listed<T>(
    listing: &ListingArgs,
    list: impl FnOnce(usize) -> storyhash::Result<Vec<T>>,
    size: impl Fn(&T) -> usize,
) -> Result<(Vec<T>, usize)> {
    let min_size = listing.min_size as usize;
    let floor = match listing.format {
        ReportFormat::Html => 1,
        _ => min_size,
    };
    let all = list(floor)?;
    let singletons = all.iter().filter(|g| size(g) == 1).count();
    let groups = all.into_iter().filter(|g| size(g) >= min_size).collect();
    Ok((groups, singletons))
}

/// Where `--since` starts, in Unix seconds: the time given, or the duration before the
/// newest publication time the index stored.
fn since_time(index: &Index, path: &Path, since: Option<Since>) -> Result<Option<i64>> {
    Ok(match since {
        None => None,
        Some(Since::At(t)) => Some(t),
        Some(Since::Before(seconds)) => {
            let newest = index.newest_published().with_context(|| {
                format!(
                    "{}: no stored document gave a publication time, so --since has no \
                     newest article to count back from",
                    path.display()
                )
            })?;
            Some(newest.saturating_sub(seconds))
        }
    })
}

/// The text line of one listed member: id, time and shortened headline, when known.
fn member_line(member: &str, published: Option<i64>, headline: Option<&str>) -> String {
    let mut line = format!("  {}", printable(member));
    if let Some(t) = published.and_then(storyhash::doc::published_text) {
        line.push_str(&format!("  {t}"));
    }
    if let Some(headline) = headline {
        line.push_str(&format!("  {}", storyhash::report::shorten(headline)));
    }
    line
}

/// The days a listed group ran, for its text heading: ", FIRST to LAST" or nothing.
fn ran(first: Option<i64>, last: Option<i64>) -> String {
    let time = |t: Option<i64>| t.and_then(storyhash::doc::published_text);
    match (time(first), time(last)) {
        (Some(first), Some(last)) => format!(", {first} to {last}"),
        _ => String::new(),
    }
}

/// What `index clusters` lists: the clusters of an index of `documents` documents with a
/// member published from `since`, and (for the page) how many of those are a single
/// document.
struct ClusterListing<'a> {
    clusters: &'a [storyhash::index::IndexCluster],
    singletons: usize,
    documents: usize,
    params: &'a storyhash::Params,
    since: Option<i64>,
}

impl ClusterListing<'_> {
    fn write(&self, out: &mut dyn Write, format: ReportFormat) -> io::Result<()> {
        match format {
            ReportFormat::Html => storyhash::html::write_index_cluster_report(
                out,
                self.clusters,
                storyhash::html::IndexCounts {
                    documents: self.documents,
                    singletons: self.singletons,
                },
                self.params,
                self.since,
            ),
            ReportFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, self.clusters)?;
                writeln!(out)
            }
            ReportFormat::Text => {
                for c in self.clusters {
                    let lowest = c
                        .min_jaccard()
                        .map_or(String::new(), |j| format!(", Jaccard from {j:.3}"));
                    writeln!(
                        out,
                        "cluster {}: {}{}{lowest}",
                        printable(&c.cluster),
                        plural(c.members.len() as u64, "document"),
                        ran(c.first_published(), c.last_published()),
                    )?;
                    let members = c.members.iter().zip(&c.published).zip(&c.headlines);
                    for (((member, published), headline), matched) in members.zip(&c.matched) {
                        let mut line = member_line(member, *published, headline.as_deref());
                        if let Some(m) = matched {
                            let how = if m.copy { "copy of" } else { "with" };
                            line.push_str(&format!(
                                "  ({:.3} {how} {})",
                                m.jaccard,
                                printable(&m.member)
                            ));
                        }
                        writeln!(out, "{line}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// What `index stories` lists: the stories of an index of `documents` documents with a
/// member published from `since`, and (for the page) how many of those are a single
/// document.
struct StoryListing<'a> {
    stories: &'a [storyhash::index::IndexStory],
    singletons: usize,
    documents: usize,
    params: &'a storyhash::story::StoryParams,
    since: Option<i64>,
}

impl StoryListing<'_> {
    fn write(&self, out: &mut dyn Write, format: ReportFormat) -> io::Result<()> {
        let StoryListing {
            stories,
            singletons,
            documents,
            params,
            since,
        } = *self;
        match format {
            ReportFormat::Html => storyhash::html::write_index_story_report(
                out,
                stories,
                storyhash::html::IndexCounts {
                    documents,
                    singletons,
                },
                params,
                since,
            ),
            ReportFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, stories)?;
                writeln!(out)
            }
            ReportFormat::Text => {
                for s in stories {
                    writeln!(
                        out,
                        "story {}: {}{}",
                        printable(&s.story),
                        plural(s.members.len() as u64, "document"),
                        ran(s.first_published(), s.last_published()),
                    )?;
                    if !s.top_terms.is_empty() {
                        writeln!(out, "  terms: {}", printable(&s.top_terms.join(", ")))?;
                    }
                    let members = s.members.iter().zip(&s.published).zip(&s.headlines);
                    for (((member, published), headline), cluster) in members.zip(&s.clusters) {
                        let mut line = member_line(member, *published, headline.as_deref());
                        // A copy or near copy of an earlier document says whose.
                        if cluster != member {
                            line.push_str(&format!("  (in cluster {})", printable(cluster)));
                        }
                        writeln!(out, "{line}")?;
                    }
                }
                Ok(())
            }
        }
    }
}
