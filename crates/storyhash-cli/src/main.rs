//! `storyhash`: the command-line front of the storyhash library. Parses arguments, reads
//! inputs, runs the pipeline, writes the report, and maps outcomes to exit codes:
//! 0 success (skipped records are warnings, counted in the report), 1 an error (I/O, a
//! bad record under `--strict`, invalid parameters), 2 a usage error.

mod seeds;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use storyhash::input::{read_sources, ReadOptions, Source};
use storyhash::output::write_atomically;
use storyhash::stopwords::Language;
use storyhash::{pipeline, KeepPolicy, LshParams, Params, Preset, Report, ShingleSpec, Warning};

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

    /// Stopword languages to remove: comma-separated codes (ar,en), all, or none.
    #[arg(long, value_name = "LANGS", value_parser = parse_languages)]
    stopwords: Option<Languages>,

    /// Apply Arabic light stemming (Lucene's ArabicStemmer): true or false.
    #[arg(long, value_name = "BOOL")]
    stem: Option<bool>,

    /// Which member represents a cluster: first (input order) or longest.
    #[arg(long)]
    keep: Option<KeepPolicy>,
}

/// How inputs are read.
#[derive(Debug, Args)]
struct Reading {
    /// JSONL field holding the document id.
    #[arg(long, default_value = "id")]
    id_field: String,

    /// JSONL field holding the document text.
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
                    format!("unknown stopword language {code:?} (known: ar, en, all, none)")
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
    fn params(&self) -> Params {
        let mut params = self.preset.params();
        let customised = self.threshold.is_some()
            || self.shingle.is_some()
            || self.num_perm.is_some()
            || self.bands.is_some()
            || self.stopwords.is_some()
            || self.stem.is_some();
        if let Some(t) = self.threshold {
            params.threshold = t;
        }
        if let Some(s) = self.shingle {
            params.shingle = s;
        }
        if let Some(k) = self.num_perm {
            params.num_perm = k;
        }
        if let Some(seed) = self.seed {
            params.seed = seed;
        }
        params.bands = self.bands;
        if let Some(langs) = &self.stopwords {
            params.tokens.stopwords = langs.0.clone();
        }
        if let Some(stem) = self.stem {
            params.tokens.stem_arabic = stem;
        }
        if let Some(keep) = self.keep {
            params.keep = keep;
        }
        if customised {
            // The report names the preset only when its values are the ones used.
            params.preset = None;
        }
        params
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("storyhash: error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Cluster(args) => cluster(args),
    }
}

fn cluster(args: ClusterArgs) -> Result<()> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("cannot start the worker threads")?;
    }
    let params = args.tuning.params();
    let sources = sources(&args.inputs);
    let options = ReadOptions {
        id_field: args.reading.id_field.clone(),
        text_field: args.reading.text_field.clone(),
        strict: args.reading.strict,
        max_document_bytes: args.reading.max_doc_bytes,
    };
    let read = read_sources(&sources, &options)?;
    if !args.quiet {
        print_warnings(&read.warnings);
    }
    let result = pipeline::run(&read.documents, &params)?;
    let report = Report::build(&read.documents, &result, &read.warnings);
    let write = |out: &mut dyn Write| match args.format {
        Format::Text => report.write_text(out),
        Format::Json => report.write_json(out),
    };
    match &args.output {
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

/// Prints the first warnings in full and a count of the rest, so a feed with a million
/// bad lines does not bury the report.
fn print_warnings(warnings: &[Warning]) {
    const SHOWN: usize = 20;
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for w in warnings.iter().take(SHOWN) {
        let _ = writeln!(err, "storyhash: warning: {w} (skipped)");
    }
    if warnings.len() > SHOWN {
        let _ = writeln!(
            err,
            "storyhash: warning: {} more records skipped (see the report's stats)",
            warnings.len() - SHOWN
        );
    }
}
