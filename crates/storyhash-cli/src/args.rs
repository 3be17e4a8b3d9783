//! The command line's arguments: clap definitions, their parsers, and how they become
//! the library's parameters and read options.

use crate::*;
use storyhash::lsh::MAX_NUM_PERM;

/// Find near-duplicate news articles and group rewrites of one story.
#[derive(Debug, Parser)]
#[command(name = "storyhash", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    /// join the story whose members they resemble most on average (mean cosine), within
    /// a time window. With no INPUT, uses the bundled seed articles.
    Stories(StoriesArgs),
    /// A persistent, incremental index: create it, add documents as they arrive, ask
    /// whether new ones duplicate stored ones.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Explain why two documents of the input match or do not: their exact Jaccard
    /// similarity and containments, the MinHash estimate, the LSH bands where they met,
    /// the verdict under the parameters, and the passages they share.
    Explain(ExplainArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell), for
    /// example `storyhash completions bash > ~/.local/share/bash-completion/completions/storyhash`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), for example `storyhash man > storyhash.1`.
    Man,
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The first document's id.
    pub(crate) a: String,
    /// The second document's id.
    pub(crate) b: String,
    /// Inputs holding both, as for `cluster` (none: standard input when piped, else the
    /// seeds).
    pub(crate) inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) tuning: Tuning,
    /// Explain by the story engine at this granularity (story or event), as `stories` and
    /// `cluster --preset story` decide: the cosine of the pair's weighted term vectors,
    /// the terms it is made of, their time apart, the story each ended in and each one's
    /// mean cosine to the other's story. --threshold is then that mean cosine, --keep
    /// applies, and the shingle settings do not.
    #[arg(long, value_name = "GRANULARITY")]
    pub(crate) granularity: Option<Granularity>,
    #[command(flatten)]
    pub(crate) story_terms: StoryTerms,
    #[command(flatten)]
    pub(crate) reading: Reading,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
    /// No warnings about the input's skipped records.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StoriesArgs {
    /// Inputs, as for `cluster`.
    pub(crate) inputs: Vec<PathBuf>,
    /// story (a topic thread over days) or event (one happening).
    #[arg(long, default_value = "story")]
    pub(crate) granularity: Granularity,
    /// Override the threshold: the mean cosine to a story's members a group needs to
    /// join it (story 0.2, event 0.3).
    #[arg(long, value_name = "T")]
    pub(crate) threshold: Option<f64>,
    /// Override the time window (e.g. 3d, 36h).
    #[arg(long, value_parser = parse_duration)]
    pub(crate) window: Option<i64>,
    /// Which member represents a group of copies: first (input order), longest (most
    /// text), or earliest (`published` time).
    #[arg(long, default_value = "first")]
    pub(crate) keep: KeepPolicy,
    #[command(flatten)]
    pub(crate) terms: StoryTerms,
    /// Write every line and sentence left out of the input's story terms (the
    /// --boilerplate-file lines found, then those learned as boilerplate, each under a
    /// comment giving its source and share) as a list file, for `index lists
    /// --boilerplate-file` or a later run's --boilerplate-file.
    #[arg(long, value_name = "FILE")]
    pub(crate) save_boilerplate: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) reading: Reading,
    #[command(flatten)]
    pub(crate) report: ReportOptions,
}

/// What the story engine leaves out or counts besides the input when it weighs terms:
/// `stories`, and `cluster --preset story`.
#[derive(Debug, Args)]
pub(crate) struct StoryTerms {
    /// Terms that never link stories, one per line (blank lines and lines starting
    /// with # are skipped), besides the built-in stopwords and the learned boilerplate.
    #[arg(long, value_name = "FILE")]
    pub(crate) stopwords_file: Option<PathBuf>,
    /// Lines or sentences removed from every document before its terms are weighed, one
    /// per line (matched whole after normalization, as a line or as a sentence inside
    /// one; blank lines and lines starting with # are skipped), besides those learned as
    /// boilerplate.
    #[arg(long, value_name = "FILE")]
    pub(crate) boilerplate_file: Option<PathBuf>,
    /// Articles whose document frequencies are added to the input's before terms are
    /// weighed (repeatable): an input file or folder of the same kind as the input, or
    /// an index directory created with --stories. General English and Arabic word
    /// frequencies are always counted; a few hundred articles of the same beat also
    /// tell the beat's own vocabulary from an event's names in a small input.
    #[arg(long, value_name = "PATH")]
    pub(crate) background: Vec<PathBuf>,
    /// How words become terms: stems (English words as their Snowball stems, Arabic
    /// words light-stemmed) or words (only Arabic stemmed: the terms of story-tracking
    /// indexes created before stems, whose counts serve as a background only so).
    #[arg(long, value_name = "ANALYSIS", default_value = "stems")]
    pub(crate) analysis: StoryAnalysis,
}

impl StoryTerms {
    /// The first of these flags given, for a command where they do not apply.
    pub(crate) fn given(&self) -> Option<&'static str> {
        [
            ("--stopwords-file", self.stopwords_file.is_some()),
            ("--boilerplate-file", self.boilerplate_file.is_some()),
            ("--background", !self.background.is_empty()),
            ("--analysis", self.analysis != StoryAnalysis::default()),
        ]
        .into_iter()
        .find_map(|(flag, given)| given.then_some(flag))
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum IndexCommand {
    /// Create an empty index (a directory) with the given parameters.
    Create {
        /// The index directory to create (refused if it exists).
        index: PathBuf,
        #[command(flatten)]
        tuning: Tuning,
        /// Also track stories at this granularity (story or event); each added document
        /// then reports its story. Costs index size and insertion time.
        #[arg(long, value_name = "GRANULARITY")]
        stories: Option<Granularity>,
        /// With --stories: terms that never link stories, one per line, as for
        /// `stories`. The index keeps the list and applies it to every document added.
        #[arg(long, value_name = "FILE", requires = "stories")]
        stopwords_file: Option<PathBuf>,
        /// With --stories: lines or sentences left out of every added document's story
        /// terms, one per line, as for `stories`. The index keeps the list.
        #[arg(long, value_name = "FILE", requires = "stories")]
        boilerplate_file: Option<PathBuf>,
        /// With --stories: articles whose document frequencies are added to the index's
        /// own for its whole life (repeatable): an input file or folder, read with the
        /// input options below, or an index directory created with --stories, as for
        /// `stories --background`. A new index otherwise weighs its first articles by
        /// the few before them, where every term is rare; a few thousand articles of
        /// the feed it will hold let it tell a beat's and a template's words from an
        /// event's names from the first.
        #[arg(long, value_name = "PATH", requires = "stories")]
        background: Vec<PathBuf>,
        #[command(flatten)]
        reading: Reading,
    },
    /// Add documents; prints, per document, what it duplicates and its cluster.
    Add {
        /// The index directory.
        index: PathBuf,
        /// Inputs, as for `cluster`.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// After adding, drop documents published longer than this before the newest
        /// one (e.g. 7d, 36h, 90m, 600s). Documents without a time are kept.
        #[arg(long, value_parser = parse_duration)]
        window: Option<i64>,
        /// Before adding each batch of the input (up to 4,096 documents, or
        /// --commit-every's N), learn boilerplate lines as `stories` does (on more than
        /// a fifth of one site's documents, of a site with at least 50, copies counted
        /// once), counting the batch with every batch the index learned from before (it
        /// keeps per-site counts), and add them to the index's boilerplate list, which
        /// the batch and later documents leave out of their story terms (`index lists`
        /// shows it). Needs story tracking.
        #[arg(long)]
        learn_boilerplate: bool,
        /// Commit after every N documents as well, their decisions written first. A
        /// feed on standard input (`tail -f feed.jsonl | storyhash index add idx -`)
        /// is answered and committed whenever it sends nothing more, so each article
        /// is answered as it arrives and other processes see it; N bounds what a feed
        /// that never pauses, or a long file, holds uncommitted. A kill loses the
        /// documents since the last commit (their decisions already written).
        /// Without it, a file is committed once, when the input ends.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        commit_every: Option<u64>,
        #[command(flatten)]
        reading: Reading,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// No progress line and no warnings (skipped records are still counted).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Find stored documents similar to each input document and, in a story-tracking
    /// index, the story each would join (the index is unchanged).
    Query {
        /// The index (a directory, or a single file of format 4 or 5).
        index: PathBuf,
        /// Inputs, as for `cluster`.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[command(flatten)]
        reading: Reading,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// No progress line and no warnings (skipped records are still counted).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Remove documents by id.
    Remove {
        /// The index directory.
        index: PathBuf,
        /// Ids to remove.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Print counts and parameters.
    Stats {
        /// The index (a directory, or a single file of format 4 or 5).
        index: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List an index's near-duplicate clusters of two or more documents, largest first:
    /// each named by its first document, with the days it ran and its members in the
    /// order they arrived, each with its time, its headline (kept by story-tracking
    /// indexes) and the member it matched best on arriving, by exact Jaccard similarity.
    Clusters {
        /// The index (a directory, or a single file of format 4 or 5).
        index: PathBuf,
        #[command(flatten)]
        listing: ListingArgs,
    },
    /// List a story-tracking index's stories of two or more documents, largest first:
    /// each named by its first document, with the days it ran, its heaviest terms and
    /// its members in the order they arrived, each with its time and headline, a copy
    /// or near copy of an earlier member marked with its cluster.
    Stories {
        /// The index (a directory, or a single file of format 4 or 5).
        index: PathBuf,
        #[command(flatten)]
        listing: ListingArgs,
    },
    /// Print a story-tracking index's stopword and boilerplate lists, or replace them:
    /// documents added afterwards leave the listed terms and lines out of their story
    /// terms; stored documents keep theirs. `stories --save-boilerplate` writes the lines
    /// it removed from a sample of the feed as such a file.
    Lists {
        /// The index directory.
        index: PathBuf,
        /// Replace the stopwords with this file's, one per line (as for `stories`).
        #[arg(long, value_name = "FILE")]
        stopwords_file: Option<PathBuf>,
        /// Replace the boilerplate lines with this file's, one per line (as for
        /// `stories`).
        #[arg(long, value_name = "FILE")]
        boilerplate_file: Option<PathBuf>,
        /// Output format of the lists.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Merge every segment into one and drop removed documents (readers keep working;
    /// run it from cron, say, when `stats` shows many segments).
    Compact {
        /// The index directory.
        index: PathBuf,
    },
    /// Read every byte of an index and check it (checksums, order, every set and band
    /// entry); opening checks only what it reads.
    Check {
        /// The index (a directory, or a single file of format 4 or 5).
        index: PathBuf,
    },
    /// Write a single-file index of format 4 or 5 as an index directory.
    Upgrade {
        /// The single-file index.
        old: PathBuf,
        /// The directory to write (refused if it exists). Without it, the directory
        /// takes the old file's name and the file is kept beside it as `<name>.old`.
        new: Option<PathBuf>,
    },
}

/// `--preset`'s long help: what each preset sets, from the presets themselves.
fn preset_help() -> String {
    let mut help = String::from(
        "Parameter preset: dup (near-duplicate copies) or story (rewrites of one story). \
         Each flag below overrides its value.\n",
    );
    for preset in [Preset::Dup, Preset::Story] {
        let p = preset.params();
        let bands = p
            .lsh()
            .map_or_else(|e| e.to_string(), |l| format!("{}x{}", l.bands, l.rows));
        let stopwords = if p.tokens.stopwords.is_empty() {
            "none".to_owned()
        } else if p.tokens.stopwords.len() == Language::ALL.len() {
            "all".to_owned()
        } else {
            let codes: Vec<&str> = p.tokens.stopwords.iter().map(|l| l.code()).collect();
            codes.join(",")
        };
        help.push_str(&format!(
            "\n{preset}: --threshold {} --shingle {} --num-perm {} --bands {bands} \
             --stopwords {stopwords} {} --sketch {} --keep {}",
            p.threshold,
            p.shingle,
            p.num_perm,
            if p.tokens.stem_arabic {
                "--stem"
            } else {
                "--no-stem"
            },
            p.sketch,
            p.keep,
        ));
    }
    help.push_str(&format!(
        "\n\n`cluster --preset story` groups with the story engine instead (`storyhash \
         stories --granularity story`: group-average link, which cannot chain as the \
         components of unigram-overlap pairs do); there only --threshold (mean cosine, \
         {}) and --keep apply. dedup and index use the values above.",
        Granularity::Story.params().threshold
    ));
    help
}

/// Which of an index's stories or clusters `index stories` and `index clusters` list,
/// and how.
#[derive(Debug, Args)]
pub(crate) struct ListingArgs {
    /// Only those with a member published at or after this time: a duration before the
    /// newest publication time the index stored (2d, 36h; as `add --window` counts), or
    /// a time (2025-03-01, 2025-03-01T12:30:00Z or any form `published` takes). One whose
    /// members gave no time is left out.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    pub since: Option<Since>,
    /// Leave out those of fewer than N documents; 1 lists every document.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub min_size: u32,
    /// Output format: html is one self-contained page of them, filterable by headline
    /// (an index keeps no texts: no side-by-side view).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the listing to FILE (atomically) instead of standard output (- is standard
    /// output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A time window for clap: [`storyhash::doc::parse_duration`].
pub(crate) fn parse_duration(s: &str) -> Result<i64, String> {
    storyhash::doc::parse_duration(s)
}

/// Where `index stories --since` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Since {
    /// This many seconds before the newest publication time the index stored.
    Before(i64),
    /// This time (Unix seconds).
    At(i64),
}

/// `--since` for clap: a duration with its unit, else a time as `published` reads it.
pub(crate) fn parse_since(s: &str) -> Result<Since, String> {
    storyhash::doc::parse_duration(s)
        .map(Since::Before)
        .or_else(|_| storyhash::doc::parse_published(s).map(Since::At))
        .map_err(|_| {
            format!(
                "expected a duration before the index's newest article (2d, 36h, 90m) or a \
                 time (2025-03-01, 2025-03-01T12:30:00Z), got {s:?}"
            )
        })
}

#[derive(Debug, Args)]
pub(crate) struct DedupArgs {
    /// Inputs: JSONL files (.jsonl, .ndjson, optionally .gz or .zst), .txt files, .html
    /// pages, .parquet files, directories of those, or - for JSONL on standard input (spooled
    /// to a temporary file).
    #[arg(required = true)]
    pub(crate) inputs: Vec<PathBuf>,

    /// Write the kept records here (atomically), one per line, unchanged; a name ending
    /// in .parquet writes Parquet input's kept rows as Parquet with the input's schema.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Write one JSON line per removed document: its id, the kept id, their exact Jaccard
    /// (Parquet when the name ends in .parquet, as for every list below).
    #[arg(long, value_name = "FILE")]
    pub(crate) removed: Option<PathBuf>,

    /// Write one JSON line per cluster of duplicates: kept id, size, member ids.
    #[arg(long, value_name = "FILE")]
    pub(crate) clusters: Option<PathBuf>,

    /// Write one JSON line per verified pair: both ids and their exact Jaccard.
    #[arg(long, value_name = "FILE")]
    pub(crate) pairs: Option<PathBuf>,

    /// Write the band rows (id, band, key) of every document with shingles: the stage
    /// contract's first table, to compare with a Spark run (docs/stages.md).
    #[arg(long, value_name = "FILE")]
    pub(crate) band_rows: Option<PathBuf>,

    /// Write the run's summary as JSON here.
    #[arg(long, value_name = "FILE")]
    pub(crate) summary: Option<PathBuf>,

    /// Write a report to look at as one HTML page: the counts, cluster sizes, verified
    /// similarities against the threshold, the banding's S-curve, and the clusters by id.
    #[arg(long, value_name = "FILE.html")]
    pub(crate) report: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) tuning: Tuning,

    #[command(flatten)]
    pub(crate) reading: Reading,

    /// Memory for the first pass to hold shingle hashes (4 bytes per shingle) so that
    /// candidates need not be read again for verification; 0 re-reads every candidate.
    /// Output does not depend on it.
    #[arg(long, value_name = "MIB", default_value_t = storyhash::dedup::DEFAULT_SET_MEMORY >> 20)]
    pub(crate) set_memory: usize,

    /// Memory the per-document tables may take (about 450 bytes a document plus its
    /// id); a run that needs more stops with a clear error as soon as it does, instead
    /// of being killed by the system (default: the memory available when it starts).
    #[arg(long, value_name = "MIB")]
    pub(crate) memory_limit: Option<u64>,

    /// Worker threads (default: one per core). Output does not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub(crate) threads: Option<usize>,

    /// No progress line and no warnings (skipped records are still counted).
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ClusterArgs {
    /// Inputs: .txt files (one document each, id = file stem), .html pages (one document
    /// each, the article extracted), .jsonl files (one JSON object per line), .parquet
    /// files (one document per row), directories of those
    /// (walked recursively, sorted by path), or - for JSONL on standard input. With none: standard input when it is a pipe or a
    /// file, else the bundled seed articles.
    pub(crate) inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) tuning: Tuning,

    #[command(flatten)]
    pub(crate) reading: Reading,

    #[command(flatten)]
    pub(crate) report: ReportOptions,

    /// Also write every verified pair as JSON lines {"a", "b", "jaccard"}, as dedup
    /// --pairs does.
    #[arg(long, value_name = "FILE")]
    pub(crate) pairs: Option<PathBuf>,

    /// Instead of the report, a table of what several thresholds give (comma-separated,
    /// such as 0.3,0.4,0.5), from one run banded at the lowest.
    #[arg(long, value_name = "T,T,...", value_parser = parse_thresholds)]
    pub(crate) sweep: Option<Thresholds>,

    /// With --preset story: term lists and a background, as for `stories`.
    #[command(flatten)]
    pub(crate) story_terms: StoryTerms,
}

/// Where and how a report is written, shared by the reporting commands.
#[derive(Debug, Args)]
pub(crate) struct ReportOptions {
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub(crate) format: ReportFormat,

    /// Write the report to FILE (atomically) instead of standard output (- is standard
    /// output).
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Memory the documents may take, held in memory all at once (about 1,500 bytes each
    /// plus three times its text); more stops the run with a clear error (default: the
    /// memory available when it starts).
    #[arg(long, value_name = "MIB")]
    pub(crate) memory_limit: Option<u64>,

    /// Leave out clusters (stories) of fewer than N documents; 2 hides singletons. The
    /// header counts what was left out. (The HTML page has a size filter of its own.)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) min_size: usize,

    /// Worker threads (default: one per core). Output does not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub(crate) threads: Option<usize>,

    /// No progress line and no warnings (skipped records are still counted).
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// Parameters of the pipeline; each overrides the preset's value.
#[derive(Debug, Args)]
pub(crate) struct Tuning {
    /// Parameter preset: dup (near-duplicate copies) or story (rewrites of one story).
    #[arg(long, default_value = "dup", long_help = preset_help())]
    pub(crate) preset: Preset,

    /// Exact Jaccard similarity a pair needs, in (0, 1].
    #[arg(long, value_name = "T")]
    pub(crate) threshold: Option<f64>,

    /// Shingles: word:N (word n-grams) or char:N (character n-grams).
    #[arg(long, value_name = "KIND:N")]
    pub(crate) shingle: Option<ShingleSpec>,

    /// MinHash signature length, 1 to 1024.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u16).range(1..=MAX_NUM_PERM as i64))]
    pub(crate) num_perm: Option<u16>,

    /// MinHash seed.
    #[arg(long)]
    pub(crate) seed: Option<u64>,

    /// LSH banding as BANDSxROWS (default: optimal for the threshold).
    #[arg(long, value_name = "BxR", value_parser = parse_bands)]
    pub(crate) bands: Option<LshParams>,

    /// Stopword languages to remove: comma-separated codes (ar, en, fr, es, pt, it, de,
    /// ru, tr, fa), all, or none.
    #[arg(long, value_name = "LANGS", value_parser = parse_languages)]
    pub(crate) stopwords: Option<Languages>,

    /// Apply Arabic light stemming (Lucene's ArabicStemmer).
    #[arg(long, overrides_with = "no_stem")]
    pub(crate) stem: bool,

    /// Do not stem (the dup preset's default).
    #[arg(long, overrides_with = "stem")]
    pub(crate) no_stem: bool,

    /// Which member represents a cluster (and is kept by dedup): first (input order),
    /// longest (most text), or earliest (`published` time).
    #[arg(long)]
    pub(crate) keep: Option<KeepPolicy>,

    /// MinHash scheme: oph (one permutation, densified; fast) or classic (k hashes).
    #[arg(long)]
    pub(crate) sketch: Option<SketchKind>,
}

/// How inputs are read.
#[derive(Debug, Args)]
pub(crate) struct Reading {
    /// JSONL field (or Parquet column) holding the document id (a dotted path such as
    /// meta.id reaches into nested objects)
    #[arg(long, default_value = "id")]
    pub(crate) id_field: String,

    /// JSONL field (or Parquet column) holding the document text (a dotted path such as
    /// article.body reaches into nested objects)
    #[arg(long, default_value = "text")]
    pub(crate) text_field: String,

    /// JSONL field (or Parquet column) holding the headline, as --text-field names it
    #[arg(long, default_value = "title")]
    pub(crate) title_field: String,

    /// JSONL field (or Parquet column) holding the article's address, whose host is
    /// its source, as --text-field names it
    #[arg(long, default_value = "url")]
    pub(crate) url_field: String,

    /// JSONL field (or Parquet column) holding the publication time (e.g. date or
    /// meta.date_publish), as --text-field names it
    #[arg(long, default_value = "published")]
    pub(crate) published_field: String,

    /// Stop at the first bad record (exit 1) instead of skipping it with a warning.
    #[arg(long)]
    pub(crate) strict: bool,

    /// Largest accepted document in bytes; larger ones are skipped with a warning.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub(crate) max_doc_bytes: u64,

    /// The input's text encoding: utf-8, or windows-1252 (also read for latin1 and
    /// iso-8859-1, as browsers do). dedup's kept records stay as they were.
    #[arg(long, value_name = "NAME", default_value = "utf-8")]
    pub(crate) encoding: storyhash::input::Encoding,

    /// Whether a JSONL or Parquet record's text is a web page whose article (main text,
    /// and title and time when the record has none) is extracted: detect (texts that
    /// start with markup), always, or never. .html files always are.
    #[arg(long, value_name = "MODE", default_value = "detect")]
    pub(crate) html: storyhash::input::HtmlText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// The formats of the cluster and story reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    Text,
    Json,
    /// One self-contained page (no network) with plots, a filterable list and a
    /// side-by-side view of two members.
    Html,
}

#[derive(Debug, Clone)]
pub(crate) struct Languages(pub(crate) Vec<Language>);

pub(crate) fn parse_languages(s: &str) -> Result<Languages, String> {
    storyhash::stopwords::parse_languages(s).map(Languages)
}

#[derive(Debug, Clone)]
pub(crate) struct Thresholds(pub(crate) Vec<f64>);

pub(crate) fn parse_thresholds(s: &str) -> Result<Thresholds, String> {
    s.split(',')
        .map(|t| {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|t| *t > 0.0 && *t <= 1.0)
                .ok_or_else(|| format!("{t:?} is not a threshold in (0, 1]"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Thresholds)
}

/// The most worker threads accepted: far beyond any machine's cores, and far below what
/// exhausts a process's thread and stack limits.
const MAX_THREADS: usize = 1024;

pub(crate) fn parse_threads(s: &str) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_THREADS).contains(n))
        .ok_or_else(|| format!("expected 1 to {MAX_THREADS} threads, got {s:?}"))
}

pub(crate) fn parse_bands(s: &str) -> Result<LshParams, String> {
    s.parse()
}

impl Tuning {
    /// The first flag given that sets the shingles, signatures or banding: settings the
    /// story engine has no use for.
    pub(crate) fn shingle_flag_given(&self) -> Option<&'static str> {
        [
            ("--shingle", self.shingle.is_some()),
            ("--num-perm", self.num_perm.is_some()),
            ("--seed", self.seed.is_some()),
            ("--bands", self.bands.is_some()),
            ("--stopwords", self.stopwords.is_some()),
            ("--stem", self.stem),
            ("--no-stem", self.no_stem),
            ("--sketch", self.sketch.is_some()),
        ]
        .into_iter()
        .find_map(|(flag, given)| given.then_some(flag))
    }

    /// The preset with the flags given applied and checked by the library.
    pub(crate) fn params(&self) -> storyhash::Result<Params> {
        let overrides = Overrides {
            threshold: self.threshold,
            shingle: self.shingle,
            num_perm: self.num_perm.map(usize::from),
            seed: self.seed,
            bands: self.bands,
            stopwords: self.stopwords.as_ref().map(|l| l.0.clone()),
            stem_arabic: match (self.stem, self.no_stem) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            keep: self.keep,
            sketch: self.sketch,
        };
        Params::with_overrides(self.preset, &overrides)
    }
}

impl Reading {
    pub(crate) fn options(&self) -> ReadOptions {
        ReadOptions {
            id_field: self.id_field.clone(),
            text_field: self.text_field.clone(),
            title_field: self.title_field.clone(),
            url_field: self.url_field.clone(),
            published_field: self.published_field.clone(),
            strict: self.strict,
            max_document_bytes: self.max_doc_bytes,
            encoding: self.encoding,
            html: self.html,
        }
    }
}

impl ReportOptions {
    /// The smallest cluster (story) a text or JSON report lists; the HTML page lists all,
    /// as it has its own size filter and counts what it does not show.
    pub(crate) fn listed_min_size(&self) -> usize {
        match self.format {
            ReportFormat::Html => 1,
            _ => self.min_size,
        }
    }

    /// The documents a report is made of: [`read_documents`] with this report's output
    /// file kept off its inputs.
    pub(crate) fn read(&self, inputs: &[PathBuf], reading: &Reading) -> Result<ReadOutcome> {
        read_documents(
            inputs,
            self.output.as_ref(),
            reading,
            self.quiet,
            self.memory_limit,
        )
    }
}
