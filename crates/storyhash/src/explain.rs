//! Why two documents match or do not: the answer to "why are these two in one cluster?"
//! and "why not?". Every number the pipeline decides by, for one pair: their exact
//! Jaccard similarity and containments, the MinHash estimate, the bands whose keys met
//! (no band, no comparison), the probability of meeting at that similarity, the
//! verdict, and the longest passages they share.

use std::io::{self, Write};
use std::ops::Range;

use serde::Serialize;

use crate::doc::{printable, Document};
use crate::error::Result;
use crate::minhash::estimate_jaccard;
use crate::normalize::normalize;
use crate::pipeline::Params;
use crate::record::{Engine, RecordBuffers};
use crate::report::{plural, SCHEMA_VERSION};
use crate::shingle::{for_each_shingle, intersection_size_u32, set_element, shingle_text};

/// Passages an explanation shows, at most (the longest).
const MAX_PASSAGES: usize = 5;

/// The evidence about one pair of documents under one parameter set.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The version of this JSON shape ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The first document's id.
    pub a: String,
    /// The second document's id.
    pub b: String,
    /// The threshold a pair needs.
    pub threshold: f64,
    /// Distinct shingles of each document.
    pub shingles: [usize; 2],
    /// Shingles both have.
    pub shared_shingles: usize,
    /// Exact Jaccard similarity of the shingle sets.
    pub jaccard: f64,
    /// Share of a's shingles that b has, and of b's that a has.
    pub containment: [f64; 2],
    /// The MinHash estimate of the Jaccard similarity from the two signatures.
    pub estimate: f64,
    /// Bands (0-based) in which the two signatures have the same key: a pair is
    /// compared only when there is one.
    pub bands_met: Vec<usize>,
    /// Bands × rows of the banding.
    pub bands: usize,
    /// Rows per band.
    pub rows: usize,
    /// The probability that two documents this similar meet in some band.
    pub candidate_probability: f64,
    /// What the pipeline does with the pair, in words.
    pub verdict: String,
    /// Whether the pipeline joins them (directly; they may also meet through others).
    pub joined: bool,
    /// The longest runs of shared shingles, in a's text order (at most five).
    pub passages: Vec<String>,
}

/// Explains what `params` make of the pair `a`, `b`.
pub fn explain(a: &Document, b: &Document, params: &Params) -> Result<Explanation> {
    let engine = Engine::new(params)?;
    let mut buffers = RecordBuffers::default();
    let time = |d: &Document| d.published_time();
    let (ra, rb) = (
        engine.record(&a.text, time(a), &mut buffers),
        engine.record(&b.text, time(b), &mut buffers),
    );
    let shared = intersection_size_u32(&ra.set, &rb.set);
    let union = ra.set.len() + rb.set.len() - shared;
    let ratio = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let jaccard = ratio(shared, union);
    let bands_met: Vec<usize> = match (&ra.keys, &rb.keys) {
        (Some(ka), Some(kb)) => (0..ka.len()).filter(|&i| ka[i] == kb[i]).collect(),
        _ => Vec::new(),
    };
    let lsh = engine.lsh();
    let exact_copies = !ra.set.is_empty() && ra.set == rb.set;
    let judged = engine.similarity(&ra, &rb);
    let (joined, verdict) = if exact_copies {
        (
            true,
            "exact copies (equal shingle sets): joined without banding".to_owned(),
        )
    } else if ra.set.is_empty() || rb.set.is_empty() {
        (
            false,
            "not compared: a text without shingles matches only its exact copies".to_owned(),
        )
    } else if bands_met.is_empty() {
        (
            false,
            format!(
                "never compared: no band of their signatures agrees (pairs at Jaccard \
                 {jaccard:.3} miss every band with probability {:.3})",
                1.0 - lsh.probability(jaccard)
            ),
        )
    } else if judged.is_some() {
        (
            true,
            format!(
                "duplicates: compared through {} and verified, Jaccard {jaccard:.3} >= {:.3}",
                plural(bands_met.len(), "band"),
                params.threshold
            ),
        )
    } else if jaccard >= params.threshold {
        (
            false,
            "dismissed by the signature prefilter before the exact comparison".to_owned(),
        )
    } else {
        (
            false,
            format!(
                "compared and rejected: Jaccard {jaccard:.3} < {:.3}",
                params.threshold
            ),
        )
    };
    Ok(Explanation {
        schema_version: SCHEMA_VERSION,
        a: a.id.clone(),
        b: b.id.clone(),
        threshold: params.threshold,
        shingles: [ra.set.len(), rb.set.len()],
        shared_shingles: shared,
        jaccard,
        containment: [ratio(shared, ra.set.len()), ratio(shared, rb.set.len())],
        estimate: estimate_jaccard(&ra.signature, &rb.signature),
        bands_met,
        bands: lsh.bands,
        rows: lsh.rows,
        candidate_probability: lsh.probability(jaccard),
        verdict,
        joined,
        passages: shared_passages(&engine, &a.text, &rb.set),
    })
}

/// The longest runs of `text`'s shingles that are in `other` (a sorted set), merged where
/// they overlap, in text order.
fn shared_passages(engine: &Engine, text: &str, other: &[u32]) -> Vec<String> {
    let analyzer = engine.analyzer();
    let spec = analyzer.shingle_spec();
    let normalized = normalize(text);
    let tokens = analyzer.tokenizer().tokens(&normalized);
    let mut runs: Vec<Range<usize>> = Vec::new();
    for_each_shingle(&tokens, spec, |hash, span| {
        if other.binary_search(&set_element(hash)).is_err() {
            return;
        }
        match runs.last_mut() {
            Some(run) if span.start <= run.end => run.end = run.end.max(span.end),
            _ => runs.push(span),
        }
    });
    let mut longest: Vec<Range<usize>> = runs;
    longest.sort_by_key(|run| (std::cmp::Reverse(run.len()), run.start));
    longest.truncate(MAX_PASSAGES);
    longest.sort_by_key(|run| run.start);
    longest
        .into_iter()
        .map(|run| shingle_text(&tokens, spec, run))
        .collect()
}

impl Explanation {
    /// Writes the JSON form.
    pub fn write_json(&self, mut out: impl Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        writeln!(out)
    }

    /// Writes the text form for people.
    pub fn write_text(&self, mut out: impl Write) -> io::Result<()> {
        writeln!(
            out,
            "{} and {}: {}",
            printable(&self.a),
            printable(&self.b),
            self.verdict
        )?;
        writeln!(
            out,
            "  exact Jaccard {:.3} ({} shared of {} and {}), threshold {:.3}",
            self.jaccard,
            plural(self.shared_shingles, "shingle"),
            self.shingles[0],
            self.shingles[1],
            self.threshold
        )?;
        writeln!(
            out,
            "  containment: {:.3} of {} is in {}, {:.3} of {} in {}",
            self.containment[0],
            printable(&self.a),
            printable(&self.b),
            self.containment[1],
            printable(&self.b),
            printable(&self.a)
        )?;
        let met = if self.bands_met.is_empty() {
            "none".to_owned()
        } else {
            let shown: Vec<String> = self
                .bands_met
                .iter()
                .take(12)
                .map(usize::to_string)
                .collect();
            let more = self.bands_met.len().saturating_sub(12);
            format!(
                "{} ({}{})",
                self.bands_met.len(),
                shown.join(", "),
                if more > 0 {
                    format!(", {more} more")
                } else {
                    String::new()
                }
            )
        };
        writeln!(
            out,
            "  MinHash estimate {:.3}; bands met: {met} of {} bands x {} rows; \
             P(meeting | J={:.3}) = {:.3}",
            self.estimate, self.bands, self.rows, self.jaccard, self.candidate_probability
        )?;
        for passage in &self.passages {
            writeln!(out, "  shared: \"{}\"", printable(passage))?;
        }
        Ok(())
    }
}
