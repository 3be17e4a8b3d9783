//! `storyhash`: the command-line front of the storyhash library. Parses arguments, reads
//! inputs, runs the pipeline, writes the report, and maps outcomes to exit codes:
//! 0 success (skipped records are warnings, counted in the report), 1 an error (I/O, a
//! bad record under `--strict`, invalid parameters), 2 a usage error.

mod args;
mod commands;
mod seeds;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use args::*;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use commands::{
    cluster, dedup, explain, index, list_file, report_stories, stories, story_background,
    story_lists,
};
use storyhash::dedup::{DedupOptions, DedupOutputs, KeptFormat, Pass};
use storyhash::doc::printable;
use storyhash::input::{
    read_sources_in_batches, resolve_sources, InputFile, ReadOptions, ReadOutcome, Source,
};
use storyhash::output::{
    check_destination, is_parquet_path, refuse_shared_destinations, write_atomically, AtomicFile,
    ListFile,
};
use storyhash::stopwords::Language;
use storyhash::story::{
    cluster_stories_listing, explain_pair, Background, BoilerplateLine, ExclusionLists,
    Granularity, StoryAnalysis, StoryLists, StoryParams, StoryReport, BOILERPLATE_LISTED,
};
use storyhash::tables::Table;
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // Output into a pipe whose reader left (`dedup in.jsonl -o /dev/stdout | head`):
        // the reader's choice, so no error, as for a tool ended by SIGPIPE.
        Err(err) if is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("storyhash: error: {}", error_message(&err));
            // Parameters the library refuses are usage errors, as clap's are.
            let usage = matches!(
                err.downcast_ref::<storyhash::Error>(),
                Some(storyhash::Error::InvalidParams(_))
            );
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let io = cause.downcast_ref::<io::Error>().or_else(|| {
            match cause.downcast_ref::<storyhash::Error>() {
                Some(storyhash::Error::Io { source, .. }) => Some(source),
                _ => None,
            }
        });
        io.is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// A progress line on stderr, drawn only when stderr is a terminal and not `--quiet`:
/// what the command is doing, how far it is (when that can be known), and the time
/// spent.
pub(crate) struct ProgressLine {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressLine {
    pub(crate) fn new(quiet: bool) -> ProgressLine {
        let bar = (!quiet && io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .expect("the template is valid"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        ProgressLine { bar }
    }

    pub(crate) fn set(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
        }
    }

    pub(crate) fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// ", 45%, about 12 s left" for a stage `fraction` done after `elapsed`; nothing when the
/// fraction is unknown, and no estimate before there is something to estimate from.
pub(crate) fn progress_share(fraction: Option<f64>, elapsed: std::time::Duration) -> String {
    let Some(fraction) = fraction.map(|f| f.clamp(0.0, 1.0)) else {
        return String::new();
    };
    let percent = format!(", {:.0}%", 100.0 * fraction);
    if !(0.02..1.0).contains(&fraction) {
        return percent;
    }
    let left = elapsed.as_secs_f64() * (1.0 - fraction) / fraction;
    format!("{percent}, about {left:.0} s left")
}

/// Refuses a run whose every record was skipped: the input was not what the options
/// describe, and an empty report or corpus would hide it.
fn refuse_empty_run(
    documents: u64,
    by_reason: &std::collections::BTreeMap<&'static str, u64>,
) -> Result<()> {
    // Records, not files: an empty file or an entry not read holds none to skip. An
    // input with no records is not a mistake (a feed with nothing new): its report is
    // empty.
    let skipped: Vec<(&str, u64)> = by_reason
        .iter()
        .filter(|(reason, _)| !matches!(**reason, "empty_file" | "not_read"))
        .map(|(reason, n)| (*reason, *n))
        .collect();
    let total: u64 = skipped.iter().map(|(_, n)| n).sum();
    if documents > 0 || total == 0 {
        return Ok(());
    }
    let reasons: Vec<String> = skipped
        .iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    anyhow::bail!(
        "no document was read: {} skipped ({}); check --text-field and --id-field, and that \
         the input is UTF-8 (--encoding reads Latin-1 and Windows-1252)",
        plural(total, "record"),
        reasons.join(", ")
    )
}

/// "1 record", "2 records".
fn plural(n: u64, noun: &str) -> String {
    storyhash::report::plural(usize::try_from(n).unwrap_or(usize::MAX), noun)
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
        Command::Explain(args) => explain(args),
        Command::Completions { shell } => {
            let mut out = StdoutSink::new();
            clap_complete::generate(shell, &mut Cli::command(), "storyhash", &mut out);
            Ok(out.flush()?)
        }
        Command::Man => {
            let mut out = StdoutSink::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            Ok(out.flush()?)
        }
    }
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

/// Warnings printed in full before the rest are only counted.
const MAX_WARNINGS_SHOWN: usize = 20;

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

/// Standard output, buffered, for output read by another program: once the reader has
/// gone (`storyhash index query … | head -3`), the rest is discarded and the run goes on
/// to its end, as a closed pipe is the reader's choice, not an error.
pub(crate) struct StdoutSink {
    out: io::BufWriter<io::Stdout>,
    closed: bool,
}

impl StdoutSink {
    pub(crate) fn new() -> Self {
        StdoutSink {
            out: io::BufWriter::with_capacity(1 << 16, io::stdout()),
            closed: false,
        }
    }

    fn absorb_closed_pipe(&mut self, result: io::Result<usize>, len: usize) -> io::Result<usize> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(len)
            }
            other => other,
        }
    }
}

impl Write for StdoutSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let written = self.out.write(buf);
        self.absorb_closed_pipe(written, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let flushed = self.out.flush().map(|()| 0);
        self.absorb_closed_pipe(flushed, 0).map(drop)
    }
}

/// Writes a report to `output` atomically, or to standard output.
fn emit(
    output: Option<&std::path::Path>,
    write: impl Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match output.filter(|path| path.as_os_str() != "-") {
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

/// Reads `inputs` (the seeds when empty) and prints the warnings unless `quiet`, after
/// making sure that `output` (the report's file, if any) is not one of them.
fn read_documents(
    inputs: &[PathBuf],
    output: Option<&PathBuf>,
    reading: &Reading,
    quiet: bool,
    memory_limit: Option<u64>,
) -> Result<ReadOutcome> {
    if let Some(path) = output.filter(|path| path.as_os_str() != "-") {
        check_destination(path)?;
        // The walk's warnings are reported by the read that follows.
        let inputs = resolve_sources(&sources(inputs), &mut Vec::new())?;
        refuse_outputs_over_inputs(Some(path), &inputs)?;
    }
    let limit = memory_limit_bytes(memory_limit)?;
    let mut read = ReadOutcome::default();
    let mut text_bytes = 0u64;
    read_sources_in_batches(&sources(inputs), &reading.options(), 4096, |batch| {
        text_bytes += batch
            .documents
            .iter()
            .map(|d| d.text.len() as u64)
            .sum::<u64>();
        read.append(batch);
        let documents = read.documents.len() as u64;
        let needed = in_memory_bytes(documents, text_bytes);
        match limit {
            Some(limit) if needed > limit => anyhow::bail!(
                "this command holds every document in memory, about {} bytes each plus {} \
                 times its text: {documents} documents so far need about {} MiB, more than \
                 the memory limit of {} MiB; dedup streams a corpus of any size, or split \
                 the input (--memory-limit raises the limit)",
                IN_MEMORY_BYTES_PER_DOCUMENT,
                IN_MEMORY_TEXT_FACTOR,
                needed >> 20,
                limit >> 20
            ),
            _ => Ok(()),
        }
    })?;
    if !quiet {
        print_warnings(&read.warnings);
    }
    let mut by_reason = std::collections::BTreeMap::new();
    for w in read.warnings.iter().filter(|w| w.problem.skips_record()) {
        *by_reason.entry(w.problem.kind()).or_insert(0) += 1;
    }
    refuse_empty_run(read.documents.len() as u64, &by_reason)?;
    Ok(read)
}

/// `--memory-limit` in bytes; without it, the memory available now.
fn memory_limit_bytes(mib: Option<u64>) -> Result<Option<u64>> {
    match mib {
        Some(mib) => Ok(Some(
            mib.checked_mul(1 << 20)
                .context("--memory-limit is too large")?,
        )),
        None => Ok(storyhash::dedup::available_memory()),
    }
}

/// What `cluster`, `stories` and `explain` hold per document besides its text: measured
/// at 1.4 KB on 200,000 documents of three words (the document, its set, signature, band
/// keys and report entry), rounded up.
const IN_MEMORY_BYTES_PER_DOCUMENT: u64 = 1_500;

/// Peak memory per byte of text on 100,000 generated news articles of 2.7 KB: 7.8 KB a
/// document, 1.4 KB of it fixed; rounded up.
const IN_MEMORY_TEXT_FACTOR: u64 = 3;

fn in_memory_bytes(documents: u64, text_bytes: u64) -> u64 {
    documents
        .saturating_mul(IN_MEMORY_BYTES_PER_DOCUMENT)
        .saturating_add(text_bytes.saturating_mul(IN_MEMORY_TEXT_FACTOR))
}

/// Whether standard input carries data to read: a pipe, a file or a socket, as in
/// `cat feed.jsonl | storyhash cluster`. A terminal, `/dev/null` (what a test harness or
/// `< /dev/null` gives) and a closed descriptor do not.
fn stdin_has_input() -> bool {
    if io::stdin().is_terminal() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata("/dev/stdin").is_ok_and(|meta| {
            let kind = meta.file_type();
            kind.is_fifo() || kind.is_file() || kind.is_socket()
        })
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// The sources of `inputs`: `-` is standard input; with no inputs, standard input when
/// it carries data, else the bundled seed articles.
fn sources(inputs: &[PathBuf]) -> Vec<Source> {
    if inputs.is_empty() && stdin_has_input() {
        return vec![Source::Stdin];
    }
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

/// [`note_undated`] when `documents` are two or more and none gave a time.
fn note_if_undated(documents: &[storyhash::Document], reading: &Reading, consequence: &str) {
    if documents.len() > 1 && documents.iter().all(|d| d.published_time().is_none()) {
        note_undated(reading, consequence);
    }
}

/// Says on stderr that no document read gave a publication time, so that `consequence`
/// (what the times would have done), and where times come from: a feed whose time field
/// has another name would otherwise pass unseen.
fn note_undated(reading: &Reading, consequence: &str) {
    eprintln!(
        "storyhash: note: no document read gave a publication time, so {consequence} (JSONL and \
         Parquet records give it in the field `{}`, --published-field names another; pages \
         in their metadata; .txt files give none)",
        reading.published_field
    );
}
