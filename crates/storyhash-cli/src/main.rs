//! `storyhash`: the command-line front of the storyhash library. Parses arguments, reads
//! inputs, runs the pipeline, writes the report, and maps outcomes to exit codes:
//! 0 success (skipped records are warnings, counted in the report), 1 an error (I/O, a
//! bad record under `--strict`, invalid parameters), 2 a usage error.

mod seeds;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use storyhash::dedup::{DedupOptions, DedupOutputs, Pass};
use storyhash::doc::printable;
use storyhash::input::{
    read_sources, read_sources_in_batches, resolve_sources, InputFile, ReadOptions, ReadOutcome,
    Source,
};
use storyhash::output::{write_atomically, AtomicFile, UpdateLock};
use storyhash::stopwords::Language;
use storyhash::story::{cluster_stories, Granularity, StoryReport};
use storyhash::{
    pipeline, pipeline::Overrides, Index, KeepPolicy, LshParams, Params, Preset, Report,
    ShingleSpec, SketchKind, Warning,
};

/// mimalloc rather than the system allocator: `dedup`'s first pass makes a few small
/// allocations per document on worker threads (ids, held shingle hashes), where glibc's
/// per-thread heaps grew a page or so at a time, one `mprotect` call each. Measured on
/// the corpus benchmark (best of 9 interleaved rounds): stage time 299 -> 255 ms on one
/// thread, 158 -> 141 ms on two; peak RSS 64 -> 131 MB there, 1.01 -> 1.16 GB at a
/// million documents (mimalloc keeps freed pages for reuse).
///
/// Its 2.x line (the crate's `v2` feature), not 3.x: with the same 62 MB of live heap
/// at the peak, 3.x touched 115 MiB and 2.x 83 MiB, and a fresh page costs more than the
/// allocation that asks for it (stage time 153.7 -> 150.7 ms on one thread, 82.8 -> 79.7
/// on two; see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Find near-duplicate news articles and group rewrites of one story.
#[derive(Debug, Parser)]
#[command(name = "storyhash", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Cluster documents and print a report of the clusters.
    ///
    /// With no INPUT, clusters the five bundled seed articles.
    Cluster(ClusterArgs),
    /// Remove near-duplicates from a corpus, keeping one document per cluster.
    ///
    /// Streams the input three times (sign, verify candidates, write) and holds only a
    /// few hundred bytes per document, never the text. Kept records are written exactly
    /// as they were in the input.
    Dedup(DedupArgs),
    /// Group documents into stories (or events), with near-duplicate groups nested.
    ///
    /// Terms are weighted by rarity in the input (idf) and titles count twice; groups
    /// join the story whose centroid they resemble most, within a time window. With no
    /// INPUT, uses the bundled seed articles.
    Stories(StoriesArgs),
    /// A persistent, incremental index: create it, add documents as they arrive, ask
    /// whether new ones duplicate stored ones.
    #[command(subcommand)]
    Index(IndexCommand),
}

#[derive(Debug, Args)]
struct StoriesArgs {
    /// Inputs, as for `cluster`.
    inputs: Vec<PathBuf>,
    /// story (a topic thread over days) or event (one happening).
    #[arg(long, default_value = "story")]
    granularity: Granularity,
    /// Override the weighted-Jaccard threshold.
    #[arg(long, value_name = "T")]
    threshold: Option<f64>,
    /// Override the time window (e.g. 3d, 36h).
    #[arg(long, value_parser = parse_duration)]
    window: Option<i64>,
    #[command(flatten)]
    reading: Reading,
    #[command(flatten)]
    report: ReportOptions,
}

#[derive(Debug, Subcommand)]
enum IndexCommand {
    /// Create an empty index file with the given parameters.
    Create {
        /// The index file to create (refused if it exists).
        index: PathBuf,
        #[command(flatten)]
        tuning: Tuning,
        /// Also track stories at this granularity (story or event); each added document
        /// then reports its story. Costs index size and insertion time.
        #[arg(long, value_name = "GRANULARITY")]
        stories: Option<Granularity>,
    },
    /// Add documents; prints, per document, what it duplicates and its cluster.
    Add {
        /// The index file.
        index: PathBuf,
        /// Inputs, as for `cluster`.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// After adding, drop documents published longer than this before the newest
        /// one (e.g. 7d, 36h, 90m, 600s). Documents without a time are kept.
        #[arg(long, value_parser = parse_duration)]
        window: Option<i64>,
        #[command(flatten)]
        reading: Reading,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// No warnings about skipped records.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Find stored documents similar to each input document (the index is unchanged).
    Query {
        /// The index file.
        index: PathBuf,
        /// Inputs, as for `cluster`.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[command(flatten)]
        reading: Reading,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// No warnings about skipped records.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Remove documents by id.
    Remove {
        /// The index file.
        index: PathBuf,
        /// Ids to remove.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Print counts and parameters.
    Stats {
        /// The index file.
        index: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Parses 7d, 36h, 90m, 600s or a plain number of seconds.
fn parse_duration(s: &str) -> Result<i64, String> {
    let (number, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let n: i64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 7d, 36h, 90m or 600s, got {s:?}"))?;
    let scale = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        's' => 1,
        _ => return Err(format!("unknown duration unit {unit:?} (use d, h, m or s)")),
    };
    if n < 0 {
        return Err("a window cannot be negative".into());
    }
    n.checked_mul(scale).ok_or_else(|| "window too long".into())
}

#[derive(Debug, Args)]
struct DedupArgs {
    /// Inputs: JSONL files (.jsonl, .ndjson, optionally .gz or .zst), .txt files,
    /// directories of those, or - for JSONL on standard input (spooled to a temporary file).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,

    /// Write the kept records here (atomically), one per line, unchanged.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Write one JSON line per removed document: its id, the kept id, their exact Jaccard.
    #[arg(long, value_name = "FILE")]
    removed: Option<PathBuf>,

    /// Write one JSON line per cluster of duplicates: kept id, size, member ids.
    #[arg(long, value_name = "FILE")]
    clusters: Option<PathBuf>,

    /// Write one JSON line per verified pair: both ids and their exact Jaccard.
    #[arg(long, value_name = "FILE")]
    pairs: Option<PathBuf>,

    /// Write the run's summary as JSON here.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,

    #[command(flatten)]
    tuning: Tuning,

    #[command(flatten)]
    reading: Reading,

    /// Memory for the first pass to hold shingle hashes (4 bytes per shingle) so that
    /// candidates need not be read again for verification; 0 re-reads every candidate.
    /// Output does not depend on it.
    #[arg(long, value_name = "MIB", default_value_t = storyhash::dedup::DEFAULT_SET_MEMORY >> 20)]
    set_memory: usize,

    /// Worker threads (default: one per core). Output does not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,

    /// No progress bar and no warnings about skipped records (they are still counted).
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct ClusterArgs {
    /// Inputs: .txt files (one document each, id = file stem), .jsonl files (one JSON
    /// object per line), directories of those (sorted, not recursive), or - for JSONL on
    /// standard input.
    inputs: Vec<PathBuf>,

    #[command(flatten)]
    tuning: Tuning,

    #[command(flatten)]
    reading: Reading,

    #[command(flatten)]
    report: ReportOptions,
}

/// Where and how a report is written, shared by the reporting commands.
#[derive(Debug, Args)]
struct ReportOptions {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Worker threads (default: one per core). Output does not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,

    /// Do not print warnings about skipped records (they are still counted).
    #[arg(long, short)]
    quiet: bool,
}

/// Parameters of the pipeline; each overrides the preset's value.
#[derive(Debug, Args)]
struct Tuning {
    /// Parameter preset: dup (near-duplicate copies) or story (rewrites of one story).
    #[arg(long, default_value = "dup")]
    preset: Preset,

    /// Exact Jaccard similarity a pair needs, in (0, 1].
    #[arg(long, value_name = "T")]
    threshold: Option<f64>,

    /// Shingles: word:N (word n-grams) or char:N (character n-grams).
    #[arg(long, value_name = "KIND:N")]
    shingle: Option<ShingleSpec>,

    /// MinHash signature length.
    #[arg(long, value_name = "K")]
    num_perm: Option<usize>,

    /// MinHash seed.
    #[arg(long)]
    seed: Option<u64>,

    /// LSH banding as BANDSxROWS (default: optimal for the threshold).
    #[arg(long, value_name = "BxR", value_parser = parse_bands)]
    bands: Option<LshParams>,

    /// Stopword languages to remove: comma-separated codes (ar, en, fr, es, pt, it, de,
    /// ru, tr, fa), all, or none.
    #[arg(long, value_name = "LANGS", value_parser = parse_languages)]
    stopwords: Option<Languages>,

    /// Apply Arabic light stemming (Lucene's ArabicStemmer): true or false.
    #[arg(long, value_name = "BOOL")]
    stem: Option<bool>,

    /// Which member represents a cluster (and is kept by dedup): first (input order),
    /// longest (most text), or earliest (`published` time).
    #[arg(long)]
    keep: Option<KeepPolicy>,

    /// MinHash scheme: oph (one permutation, densified; fast) or classic (k hashes).
    #[arg(long)]
    sketch: Option<SketchKind>,
}

/// How inputs are read.
#[derive(Debug, Args)]
struct Reading {
    /// JSONL field holding the document id (a dotted path such as meta.id reaches into
    /// nested objects)
    #[arg(long, default_value = "id")]
    id_field: String,

    /// JSONL field holding the document text (a dotted path such as article.body
    /// reaches into nested objects)
    #[arg(long, default_value = "text")]
    text_field: String,

    /// Stop at the first bad record (exit 1) instead of skipping it with a warning.
    #[arg(long)]
    strict: bool,

    /// Largest accepted document in bytes; larger ones are skipped with a warning.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    max_doc_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone)]
struct Languages(Vec<Language>);

fn parse_languages(s: &str) -> Result<Languages, String> {
    match s {
        "all" => Ok(Languages(Language::ALL.to_vec())),
        "none" => Ok(Languages(Vec::new())),
        _ => s
            .split(',')
            .map(|code| {
                Language::from_code(code.trim()).ok_or_else(|| {
                    let known: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
                    format!(
                        "unknown stopword language {code:?} (known: {}, all, none)",
                        known.join(", ")
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Languages),
    }
}

fn parse_bands(s: &str) -> Result<LshParams, String> {
    let (b, r) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected BANDSxROWS such as 32x4, got {s:?}"))?;
    let number = |v: &str| {
        v.trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{v:?} is not a positive whole number"))
    };
    Ok(LshParams {
        bands: number(b)?,
        rows: number(r)?,
    })
}

impl Tuning {
    /// The preset with the flags given applied and checked by the library.
    fn params(&self) -> storyhash::Result<Params> {
        let overrides = Overrides {
            threshold: self.threshold,
            shingle: self.shingle,
            num_perm: self.num_perm,
            seed: self.seed,
            bands: self.bands,
            stopwords: self.stopwords.as_ref().map(|l| l.0.clone()),
            stem_arabic: self.stem,
            keep: self.keep,
            sketch: self.sketch,
        };
        Params::with_overrides(self.preset, &overrides)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("storyhash: error: {}", error_message(&err));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes on one line. The library's errors already name their cause
/// in their own message (`file: reason`), so a cause whose text the line ends with is
/// not repeated.
fn error_message(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Cluster(args) => cluster(args),
        Command::Dedup(args) => dedup(args),
        Command::Index(command) => index(command),
        Command::Stories(args) => stories(args),
    }
}

fn stories(args: StoriesArgs) -> Result<()> {
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

fn index(command: IndexCommand) -> Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
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
            writeln!(out, "created {}", index.display())?;
        }
        IndexCommand::Add {
            index: path,
            inputs,
            window,
            reading,
            format,
            quiet,
        } => {
            // Held from reading the index to writing it back: another `add` or `remove`
            // at the same time would otherwise write over this one's documents.
            let _lock = lock_for_update(&path)?;
            let index = Index::open(&path)?;
            // In batches: the text of one batch at a time is held, whatever the input.
            let mut warnings = Warnings::new(quiet);
            read_sources_in_batches(&sources(&inputs), &reading.options(), INDEX_BATCH, |read| {
                warnings.print(&read.warnings);
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
            warnings.finish();
            let evicted = window.map_or(0, |w| index.evict_window(w));
            index.save(&path)?;
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
            )?;
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

/// One line per document: its matches (text) or a JSON object.
fn write_decision(
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

fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(threads) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("cannot start the worker threads")?;
    }
    Ok(())
}

impl Reading {
    fn options(&self) -> ReadOptions {
        ReadOptions {
            id_field: self.id_field.clone(),
            text_field: self.text_field.clone(),
            strict: self.strict,
            max_document_bytes: self.max_doc_bytes,
        }
    }
}

fn dedup(args: DedupArgs) -> Result<()> {
    set_threads(args.threads)?;
    let started = Instant::now();
    let params = args.tuning.params()?;
    // Standard input can be read only once; dedup reads its input three times.
    let mut spooled = None;
    let mut files = Vec::new();
    for input in &args.inputs {
        if input.as_os_str() == "-" {
            let mut file = tempfile::Builder::new()
                .prefix("storyhash-stdin-")
                .suffix(".jsonl")
                .tempfile()
                .context("cannot create a temporary file for standard input")?;
            io::copy(&mut io::stdin().lock(), &mut file)
                .context("cannot copy standard input to a temporary file")?;
            let mut spooled_file = InputFile::spooled_stdin(file.path());
            // `zcat`-less pipelines: gzip or zstd bytes on standard input are decoded.
            spooled_file.inspect_first_bytes()?;
            files.push(spooled_file);
            spooled = Some(file);
        } else {
            files.extend(resolve_sources(&[Source::Path(input.clone())])?);
        }
    }
    let options = DedupOptions {
        params,
        read: args.reading.options(),
        set_memory: args
            .set_memory
            .checked_mul(1 << 20)
            .context("--set-memory is too large")?,
    };
    refuse_outputs_over_inputs(
        [&args.output, &args.removed, &args.clusters, &args.pairs]
            .into_iter()
            .flatten(),
        &files,
    )?;
    let mut kept = args.output.as_ref().map(AtomicFile::create).transpose()?;
    let mut removed = args.removed.as_ref().map(AtomicFile::create).transpose()?;
    let mut clusters = args.clusters.as_ref().map(AtomicFile::create).transpose()?;
    let mut pairs = args.pairs.as_ref().map(AtomicFile::create).transpose()?;
    let outputs = DedupOutputs {
        kept: kept.as_mut().map(|f| f.writer() as &mut (dyn Write + Send)),
        removed: removed
            .as_mut()
            .map(|f| f.writer() as &mut (dyn Write + Send)),
        clusters: clusters
            .as_mut()
            .map(|f| f.writer() as &mut (dyn Write + Send)),
        pairs: pairs
            .as_mut()
            .map(|f| f.writer() as &mut (dyn Write + Send)),
    };
    let progress = Progress::new(args.quiet);
    let mut warnings_shown = 0usize;
    let mut on_warning = |w: &Warning| {
        if !args.quiet {
            warnings_shown += 1;
            if warnings_shown <= MAX_WARNINGS_SHOWN {
                progress.println(&warning_line(w));
            }
        }
    };
    let mut on_progress = |pass: Pass, records: u64| progress.update(pass, records);
    let summary =
        storyhash::dedup::dedup(files, &options, outputs, &mut on_warning, &mut on_progress)?;
    progress.finish();
    for file in [kept, removed, clusters, pairs].into_iter().flatten() {
        file.commit()?;
    }
    drop(spooled);
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.summary {
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &summary)?;
            writeln!(w)
        })?;
    }
    let skipped = summary.skipped();
    if !args.quiet && skipped as usize > MAX_WARNINGS_SHOWN {
        eprintln!(
            "storyhash: warning: {} more records skipped (see --summary)",
            skipped as usize - MAX_WARNINGS_SHOWN
        );
    }
    eprintln!(
        "storyhash dedup: {} documents read ({skipped} records skipped), {} kept, {} removed \
         in {} clusters; {:.1} s, {:.0} documents/s",
        summary.documents,
        summary.kept,
        summary.removed,
        summary.clusters,
        seconds,
        summary.records as f64 / seconds.max(1e-9),
    );
    Ok(())
}

/// Warnings printed in full before the rest are only counted.
const MAX_WARNINGS_SHOWN: usize = 20;

/// A progress line on stderr, only when stderr is a terminal and not `--quiet`.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let bar = (!quiet && io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .expect("the template is valid"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Progress { bar }
    }

    fn update(&self, pass: Pass, records: u64) {
        if let Some(bar) = &self.bar {
            let name = match pass {
                Pass::Sign => "1/3 reading and signing",
                Pass::Verify => "2/3 verifying candidates",
                Pass::Write => "3/3 writing kept records",
            };
            bar.set_message(format!("{name}: {records} records"));
        }
    }

    fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn cluster(args: ClusterArgs) -> Result<()> {
    set_threads(args.report.threads)?;
    let params = args.tuning.params()?;
    let read = args.report.read(&args.inputs, &args.reading)?;
    let result = pipeline::run(&read.documents, &params)?;
    let report = Report::build(&read.documents, &result, &read.warnings);
    emit(args.report.output.as_deref(), |out| {
        match args.report.format {
            Format::Text => report.write_text(out),
            Format::Json => report.write_json(out),
        }
    })
}

/// Takes the lock that serialises updates of the index file at `path` between
/// processes, saying so on stderr when another process holds it.
fn lock_for_update(path: &std::path::Path) -> Result<UpdateLock> {
    Ok(UpdateLock::acquire(path, |lock| {
        eprintln!(
            "storyhash: waiting for another process updating {} (lock: {})",
            path.display(),
            lock.display()
        );
    })?)
}

/// Refuses an output file that is one of the input files: once the run commits it would
/// replace the corpus with the report (or with the list of removed documents). Checked
/// before anything is read.
fn refuse_outputs_over_inputs<'a>(
    outputs: impl IntoIterator<Item = &'a PathBuf>,
    inputs: &[InputFile],
) -> Result<()> {
    // Only outputs that already exist can be inputs; each input is resolved once.
    let existing: Vec<(&PathBuf, PathBuf)> = outputs
        .into_iter()
        .filter_map(|output| Some((output, output.canonicalize().ok()?)))
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    for file in inputs {
        let Ok(input) = file.path.canonicalize() else {
            continue;
        };
        if let Some((output, _)) = existing.iter().find(|(_, path)| *path == input) {
            anyhow::bail!(
                "{}: is also an input; write the output to another file",
                output.display()
            );
        }
    }
    Ok(())
}

/// Writes a report to `output` atomically, or to standard output.
fn emit(
    output: Option<&std::path::Path>,
    write: impl Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match output {
        Some(path) => write_atomically(path, |w| write(w))?,
        None => {
            let stdout = io::stdout();
            let mut lock = io::BufWriter::new(stdout.lock());
            match write(&mut lock).and_then(|()| lock.flush()) {
                // A closed pipe (`storyhash cluster | head`) is the reader's choice, not an error.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                other => other.context("cannot write the report to standard output")?,
            }
        }
    }
    Ok(())
}

impl ReportOptions {
    /// The documents a report is made of: [`read_documents`] with this report's output
    /// file kept off its inputs.
    fn read(&self, inputs: &[PathBuf], reading: &Reading) -> Result<ReadOutcome> {
        read_documents(inputs, self.output.as_ref(), reading, self.quiet)
    }
}

/// Reads `inputs` (the seeds when empty) and prints the warnings unless `quiet`, after
/// making sure that `output` (the report's file, if any) is not one of them.
fn read_documents(
    inputs: &[PathBuf],
    output: Option<&PathBuf>,
    reading: &Reading,
    quiet: bool,
) -> Result<ReadOutcome> {
    if output.is_some() {
        refuse_outputs_over_inputs(output, &resolve_sources(&sources(inputs))?)?;
    }
    let read = read_sources(&sources(inputs), &reading.options())?;
    if !quiet {
        print_warnings(&read.warnings);
    }
    Ok(read)
}

fn sources(inputs: &[PathBuf]) -> Vec<Source> {
    if inputs.is_empty() {
        return seeds::SEEDS
            .iter()
            .map(|(name, text)| Source::Text {
                name: (*name).to_string(),
                text: (*text).to_string(),
            })
            .collect();
    }
    inputs
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                Source::Stdin
            } else {
                Source::Path(p.clone())
            }
        })
        .collect()
}

/// A warning as printed: skipped records say so; an unreadable date says what happened
/// in its own message.
fn warning_line(w: &Warning) -> String {
    if w.problem.skips_record() {
        format!("storyhash: warning: {w} (skipped)")
    } else {
        format!("storyhash: warning: {w}")
    }
}

/// Documents `index add` and `index query` read and process at a time.
const INDEX_BATCH: usize = 4096;

/// Warnings printed as they come, batch by batch: the first in full, then only counted.
struct Warnings {
    quiet: bool,
    shown: usize,
    more: usize,
}

impl Warnings {
    fn new(quiet: bool) -> Self {
        Warnings {
            quiet,
            shown: 0,
            more: 0,
        }
    }

    fn print(&mut self, warnings: &[Warning]) {
        for w in warnings {
            self.line(&warning_line(w));
        }
    }

    /// A document the index refused (a repeated id).
    fn skipped(&mut self, what: &str) {
        self.line(&format!("storyhash: warning: {what} (skipped)"));
    }

    fn line(&mut self, line: &str) {
        if self.quiet {
        } else if self.shown < MAX_WARNINGS_SHOWN {
            self.shown += 1;
            eprintln!("{line}");
        } else {
            self.more += 1;
        }
    }

    fn finish(&self) {
        if self.more > 0 {
            eprintln!("storyhash: warning: {} more warnings", self.more);
        }
    }
}

/// Prints the first warnings in full and a count of the rest, so a feed with a million
/// bad lines does not bury the report.
fn print_warnings(warnings: &[Warning]) {
    const SHOWN: usize = MAX_WARNINGS_SHOWN;
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for w in warnings.iter().take(SHOWN) {
        let _ = writeln!(err, "{}", warning_line(w));
    }
    if warnings.len() > SHOWN {
        let _ = writeln!(
            err,
            "storyhash: warning: {} more records skipped (see the report's stats)",
            warnings.len() - SHOWN
        );
    }
}
