//! Stage 8: the report. [`Report`] is the serializable result (the JSON format) and
//! renders itself as text for people. It explains each cluster: its members and their
//! exact Jaccard similarity to the representative, the similarity over verified pairs,
//! the terms most members share (ranked by how many members carry them, then by rarity in
//! the whole input), and, for n-gram shingles, passages the members share verbatim.
//!
//! The report holds no timings or paths of temporary files: the same input and
//! parameters give byte-identical output.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::io::{self, Write};
use std::ops::Range;

use rayon::prelude::*;
use serde::Serialize;

use crate::cluster::{Cluster, KeepPolicy};
use crate::doc::{printable, DocIndex, Document};
use crate::error::Warning;
use crate::minhash::Prehashed;
use crate::normalize::normalize;
use crate::pipeline::{for_each_term_of, Analyzer, Clustering, Preset, RunStats};
use crate::shingle::{for_each_shingle, set_element, shingle_text, ShingleSpec};
use crate::stopwords::Language;
use crate::tokenize::{TokenOptions, Tokenizer};

/// How many shared terms and passages a cluster lists.
const MAX_SHARED_TERMS: usize = 8;
const MAX_SHARED_PASSAGES: usize = 3;
/// Longest headline shown in the text report, in characters.
pub const HEADLINE_CHARS: usize = 72;

/// The whole report: parameters, counts, and every document in exactly one cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The version of this JSON shape ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The parameters that produced it.
    pub params: ReportParams,
    /// Counts.
    pub stats: ReportStats,
    /// Clusters, largest first; singletons last.
    pub clusters: Vec<ClusterReport>,
}

/// The version of the JSON outputs' shapes (cluster and stories reports, dedup's summary,
/// index stats and decisions): raised when a field changes meaning or goes away, not when
/// one is added. The README lists the fields of each.
pub const SCHEMA_VERSION: u32 = 1;

/// Parameters, flattened for readers of the JSON.
#[derive(Debug, Clone, Serialize)]
pub struct ReportParams {
    /// Preset name, if one was used.
    pub preset: Option<Preset>,
    /// Shingle spec, e.g. `word:5`.
    pub shingle: ShingleSpec,
    /// Stopword languages removed.
    pub stopwords: Vec<Language>,
    /// Whether Arabic light stemming was applied.
    pub stem_arabic: bool,
    /// Exact-Jaccard threshold.
    pub threshold: f64,
    /// MinHash signature length.
    pub num_perm: usize,
    /// MinHash scheme.
    pub sketch: crate::minhash::SketchKind,
    /// MinHash seed.
    pub seed: u64,
    /// LSH bands.
    pub bands: usize,
    /// LSH rows per band.
    pub rows: usize,
    /// P(candidate) for a pair exactly at the threshold.
    pub candidate_probability_at_threshold: f64,
    /// Representative policy.
    pub keep: KeepPolicy,
}

/// Counts: the run's plus what the reader skipped.
#[derive(Debug, Clone, Serialize)]
pub struct ReportStats {
    /// Pipeline counts.
    #[serde(flatten)]
    pub run: RunStats,
    /// Records skipped while reading.
    pub skipped_records: usize,
    /// Skipped records by reason.
    pub skipped_by_reason: BTreeMap<&'static str, usize>,
    /// Documents kept without a publication time because theirs could not be read.
    pub unreadable_dates: usize,
    /// Clusters left out of `clusters` as smaller than the size asked for
    /// ([`Report::retain_min_size`]), and the documents in them.
    pub omitted_clusters: usize,
    /// Documents in the omitted clusters.
    pub omitted_documents: usize,
}

/// One cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterReport {
    /// Position in the report (0 = largest).
    pub id: usize,
    /// Number of members.
    pub size: usize,
    /// Id of the representative document.
    pub representative: String,
    /// Member ids, representative first, then input order.
    pub members: Vec<String>,
    /// Per-member detail, in the same order as `members`.
    pub documents: Vec<MemberReport>,
    /// Verified pairs inside the cluster.
    pub verified_pairs: usize,
    /// Mean exact Jaccard over the verified pairs (absent for singletons).
    pub mean_similarity: Option<f64>,
    /// Smallest exact Jaccard over the verified pairs (absent for singletons).
    pub min_similarity: Option<f64>,
    /// Terms carried by most members, most telling first.
    pub shared_terms: Vec<SharedTerm>,
    /// Verbatim shingles carried by most members (n-gram shingles only).
    pub shared_shingles: Vec<String>,
}

/// A member of a cluster.
#[derive(Debug, Clone, Serialize)]
pub struct MemberReport {
    /// Document id.
    pub id: String,
    /// Headline or first line.
    pub headline: String,
    /// Exact Jaccard with the representative (1 for the representative itself).
    pub similarity_to_representative: f64,
}

/// A term shared by members of a cluster.
#[derive(Debug, Clone, Serialize)]
pub struct SharedTerm {
    /// The normalized term.
    pub term: String,
    /// How many members contain it.
    pub members: usize,
    /// How many documents of the whole input contain it.
    pub document_frequency: usize,
}

impl Report {
    /// Builds the report of `result` over `docs` (the documents it was run on), with the
    /// reader's `warnings`.
    pub fn build(docs: &[Document], result: &Clustering, warnings: &[Warning]) -> Report {
        let params = &result.params;
        let analyzer = Analyzer::new(params);
        let explanations = explain_terms(docs, result, &params.tokens);
        let edges = edge_stats(docs.len(), result);
        let clusters = result
            .clusters
            .par_iter()
            .zip(explanations)
            .zip(edges)
            .enumerate()
            .map(|(id, ((cluster, shared_terms), edges))| {
                cluster_report(id, cluster, shared_terms, edges, docs, result, &analyzer)
            })
            .collect();
        let mut skipped_by_reason = BTreeMap::new();
        for w in warnings.iter().filter(|w| w.problem.skips_record()) {
            *skipped_by_reason.entry(w.problem.kind()).or_insert(0) += 1;
        }
        Report {
            schema_version: SCHEMA_VERSION,
            params: ReportParams {
                preset: params.preset,
                shingle: params.shingle,
                stopwords: params.tokens.stopwords.clone(),
                stem_arabic: params.tokens.stem_arabic,
                threshold: params.threshold,
                num_perm: params.num_perm,
                sketch: params.sketch,
                seed: params.seed,
                bands: result.lsh.bands,
                rows: result.lsh.rows,
                candidate_probability_at_threshold: result.lsh.probability(params.threshold),
                keep: params.keep,
            },
            stats: ReportStats {
                run: result.stats.clone(),
                skipped_records: skipped_by_reason.values().sum(),
                skipped_by_reason,
                unreadable_dates: warnings
                    .iter()
                    .filter(|w| matches!(w.problem, crate::error::InputProblem::BadDate(_)))
                    .count(),
                omitted_clusters: 0,
                omitted_documents: 0,
            },
            clusters,
        }
    }

    /// Writes the JSON form (pretty-printed, one trailing newline).
    pub fn write_json(&self, mut out: impl Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        writeln!(out)
    }

    /// Leaves out the clusters of fewer than `min_size` documents (counted in the
    /// stats), as `--min-size` asks: a large corpus's report is mostly singletons.
    pub fn retain_min_size(&mut self, min_size: usize) {
        let before = (
            self.clusters.len(),
            self.clusters.iter().map(|c| c.size).sum::<usize>(),
        );
        self.clusters.retain(|c| c.size >= min_size);
        self.stats.omitted_clusters += before.0 - self.clusters.len();
        self.stats.omitted_documents +=
            before.1 - self.clusters.iter().map(|c| c.size).sum::<usize>();
    }

    /// Writes the text form for people.
    pub fn write_text(&self, mut out: impl Write) -> io::Result<()> {
        let p = &self.params;
        let s = &self.stats.run;
        let preset = p.preset.map_or("custom".to_string(), |p| p.to_string());
        writeln!(
            out,
            "storyhash: {}, {} ({} with more than one document)",
            plural(s.documents, "document"),
            plural(s.clusters, "cluster"),
            s.multi_member_clusters
        )?;
        let mut filters = Vec::new();
        if !p.stopwords.is_empty() {
            let codes: Vec<&str> = p.stopwords.iter().map(|l| l.code()).collect();
            filters.push(format!("stopwords {}", codes.join("+")));
        }
        if p.stem_arabic {
            filters.push("Arabic stemming".to_string());
        }
        let filters = if filters.is_empty() {
            String::new()
        } else {
            format!(", {}", filters.join(", "))
        };
        writeln!(
            out,
            "preset {preset}: {} shingles{filters}, exact Jaccard >= {:.2}",
            p.shingle, p.threshold
        )?;
        writeln!(
            out,
            "MinHash {} k={} seed={}; LSH {} bands x {} rows, P(candidate | J={:.2}) = {:.3}",
            p.sketch,
            p.num_perm,
            p.seed,
            p.bands,
            p.rows,
            p.threshold,
            p.candidate_probability_at_threshold
        )?;
        writeln!(
            out,
            "candidate pairs {}, verified {}",
            s.candidate_pairs, s.verified_pairs
        )?;
        if s.featureless_documents > 0 {
            let n = plural(s.featureless_documents, "document");
            writeln!(out, "{n} had no visible text and stand alone")?;
        }
        if self.stats.skipped_records > 0 {
            let reasons: Vec<String> = self
                .stats
                .skipped_by_reason
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            writeln!(
                out,
                "skipped {} input records: {}",
                self.stats.skipped_records,
                reasons.join(", ")
            )?;
        }
        let (groups, singletons): (Vec<_>, Vec<_>) = self.clusters.iter().partition(|c| c.size > 1);
        for cluster in groups {
            writeln!(out)?;
            write_cluster(&mut out, cluster)?;
        }
        if !singletons.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "{} in no cluster:",
                plural(singletons.len(), "document")
            )?;
            for cluster in singletons {
                let doc = &cluster.documents[0];
                writeln!(out, "  {}  {}", printable(&doc.id), shorten(&doc.headline))?;
            }
        }
        if self.stats.omitted_clusters > 0 {
            writeln!(out)?;
            writeln!(
                out,
                "{} in {} below the size asked for, not shown",
                plural(self.stats.omitted_documents, "document"),
                plural(self.stats.omitted_clusters, "cluster")
            )?;
        }
        Ok(())
    }
}

fn write_cluster(out: &mut impl Write, cluster: &ClusterReport) -> io::Result<()> {
    write!(
        out,
        "cluster {}: {}",
        cluster.id,
        plural(cluster.size, "document")
    )?;
    if let (Some(mean), Some(min)) = (cluster.mean_similarity, cluster.min_similarity) {
        write!(
            out,
            ", {}, Jaccard mean {mean:.3} min {min:.3}",
            plural(cluster.verified_pairs, "verified pair")
        )?;
    }
    writeln!(out)?;
    let ids: Vec<Cow<'_, str>> = cluster.documents.iter().map(|d| printable(&d.id)).collect();
    // Ids are padded to one column, up to a readable width: longer ids (any length a
    // file can hold) overflow it rather than widen every line.
    const MAX_ID_COLUMN: usize = 48;
    let id_width = ids
        .iter()
        .map(|id| id.chars().count())
        .max()
        .unwrap_or(0)
        .min(MAX_ID_COLUMN);
    for (i, (doc, id)) in cluster.documents.iter().zip(&ids).enumerate() {
        let marker = if i == 0 { '*' } else { ' ' };
        let pad = id_width.saturating_sub(id.chars().count());
        writeln!(
            out,
            "  {marker} {id}{:pad$}  {:.3}  {}",
            "",
            doc.similarity_to_representative,
            shorten(&doc.headline)
        )?;
    }
    if !cluster.shared_terms.is_empty() {
        let terms: Vec<String> = cluster
            .shared_terms
            .iter()
            .map(|t| format!("{} ({}/{})", t.term, t.members, cluster.size))
            .collect();
        writeln!(out, "    shared terms: {}", terms.join(", "))?;
    }
    for passage in &cluster.shared_shingles {
        writeln!(out, "    shared: \"{passage}\"")?;
    }
    Ok(())
}

/// "1 document", "2 documents": counts in the text reports and messages.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The first line of `text`, printable, cut to [`HEADLINE_CHARS`] characters (the last
/// one "…"): a headline as the text reports print it.
pub fn shorten(text: &str) -> String {
    let line = printable(text.lines().next().unwrap_or("").trim());
    let line = line.as_ref();
    if line.chars().count() <= HEADLINE_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(HEADLINE_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

/// The verified pairs inside one cluster, summed up.
#[derive(Debug, Clone, Copy)]
struct EdgeStats {
    count: usize,
    sum: f64,
    min: f64,
}

/// Each cluster's [`EdgeStats`], in cluster order, from one pass over the pairs (a pair's
/// two documents are always in one cluster).
fn edge_stats(documents: usize, result: &Clustering) -> Vec<EdgeStats> {
    let mut cluster_of = vec![0u32; documents];
    for (c, cluster) in result.clusters.iter().enumerate() {
        for &m in &cluster.members {
            cluster_of[m as usize] = c as u32;
        }
    }
    let none = EdgeStats {
        count: 0,
        sum: 0.0,
        min: f64::INFINITY,
    };
    let mut stats = vec![none; result.clusters.len()];
    for pair in &result.pairs {
        let s = &mut stats[cluster_of[pair.a as usize] as usize];
        s.count += 1;
        s.sum += pair.jaccard;
        s.min = s.min.min(pair.jaccard);
    }
    stats
}

fn cluster_report(
    id: usize,
    cluster: &Cluster,
    shared_terms: Vec<SharedTerm>,
    edges: EdgeStats,
    docs: &[Document],
    result: &Clustering,
    analyzer: &Analyzer,
) -> ClusterReport {
    let rep = cluster.representative;
    let ordered: Vec<DocIndex> = std::iter::once(rep)
        .chain(cluster.members.iter().copied().filter(|&m| m != rep))
        .collect();
    let documents = ordered
        .iter()
        .map(|&m| {
            let doc = &docs[m as usize];
            MemberReport {
                id: doc.id.clone(),
                headline: doc.headline().to_string(),
                similarity_to_representative: if m == rep {
                    1.0
                } else {
                    result.similarity(rep, m)
                },
            }
        })
        .collect();
    let shared_shingles = match analyzer.shingle_spec() {
        ShingleSpec::Word(1) => Vec::new(),
        _ if cluster.members.len() < 2 => Vec::new(),
        spec => shared_passages(cluster, docs, result, analyzer, spec),
    };
    ClusterReport {
        id,
        size: cluster.members.len(),
        representative: docs[rep as usize].id.clone(),
        members: ordered
            .iter()
            .map(|&m| docs[m as usize].id.clone())
            .collect(),
        documents,
        verified_pairs: edges.count,
        mean_similarity: (edges.count > 0).then(|| edges.sum / edges.count as f64),
        min_similarity: (edges.count > 0).then_some(edges.min),
        shared_terms,
        shared_shingles,
    }
}

/// The representative's shingles carried by the most other members, in text order.
fn shared_passages(
    cluster: &Cluster,
    docs: &[Document],
    result: &Clustering,
    analyzer: &Analyzer,
    spec: ShingleSpec,
) -> Vec<String> {
    let rep = cluster.representative;
    let normalized = normalize(&docs[rep as usize].text);
    let tokens = analyzer.tokenizer().tokens(&normalized);
    // Each distinct text once, with how many other members share it: exact copies carry
    // what their first document carries.
    let texts = distinct_texts(cluster, result, Some(rep));
    let mut scored: Vec<(usize, usize, std::ops::Range<usize>)> = Vec::new();
    let mut seen = HashSet::new();
    for_each_shingle(&tokens, spec, |hash, span| {
        if !seen.insert(hash) {
            return;
        }
        let carriers = texts
            .iter()
            .filter(|&&(m, _)| result.set(m).binary_search(&set_element(hash)).is_ok())
            .map(|&(_, n)| n)
            .sum::<usize>();
        if carriers > 0 {
            scored.push((carriers, span.start, span));
        }
    });
    let Some(best) = scored.iter().map(|s| s.0).max() else {
        return Vec::new();
    };
    // Shingles overlap: skip those starting inside the previous pick, so the examples
    // are different passages rather than one passage shifted by a word.
    let mut picked: Vec<String> = Vec::new();
    let mut next_free = 0;
    for (carriers, start, span) in scored {
        if carriers == best && start >= next_free {
            next_free = span.end;
            picked.push(shingle_text(&tokens, spec, span));
            if picked.len() == MAX_SHARED_PASSAGES {
                break;
            }
        }
    }
    picked
}

/// The distinct texts among `cluster`'s members (`skip` left out): each exact copy is
/// counted with the first document with its set, as (that document, members it stands
/// for), in member order.
fn distinct_texts(
    cluster: &Cluster,
    result: &Clustering,
    skip: Option<DocIndex>,
) -> Vec<(DocIndex, usize)> {
    let mut position: HashMap<DocIndex, usize> = HashMap::new();
    let mut texts: Vec<(DocIndex, usize)> = Vec::new();
    for &m in cluster.members.iter().filter(|&&m| Some(m) != skip) {
        let first = result.copy_of[m as usize].unwrap_or(m);
        let at = *position.entry(first).or_insert_with(|| {
            texts.push((m, 0));
            texts.len() - 1
        });
        texts[at].1 += 1;
    }
    texts
}

/// The hash of a term that can explain a cluster; None for a term of one byte (single
/// Latin letters and digits, "a", "5", explain nothing; anything beyond ASCII takes two
/// bytes or more).
fn term_hash(term: &str) -> Option<u64> {
    (term.len() > 1).then(|| xxhash_rust::xxh3::xxh3_64(term.as_bytes()))
}

/// Buffers of the term pass over one document: (term hash, word, term) of each term
/// occurrence, and the normalized text the ranges point into.
type TermScratch = (Vec<(u64, Range<usize>, Range<usize>)>, String);

/// A map keyed by term hashes.
type TermMap<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

/// For each cluster, the terms most of its members share. Terms are unigrams under the
/// run's token options, always without stopwords (a shared "the" explains nothing).
/// Ranked by members carrying the term, then by rarity in the whole input (document
/// frequency), then alphabetically; a term is shown in the surface form most members
/// used for it (ties to the alphabetically first).
///
/// Each distinct text is tokenized once for its cluster and once for the document
/// frequencies, its exact copies counted with it; terms are 64-bit hashes until the few
/// shown are named. Linear in the input.
fn explain_terms(
    docs: &[Document],
    result: &Clustering,
    options: &TokenOptions,
) -> Vec<Vec<SharedTerm>> {
    let tokenizer = Tokenizer::new(&TokenOptions {
        stopwords: Language::ALL.to_vec(),
        stem_arabic: options.stem_arabic,
    });
    // Calls `each(term hash, surface word)` once per distinct term of `doc` (the word
    // of its first occurrence).
    let for_each_term = |doc: &Document,
                         (seen, normalized): &mut TermScratch,
                         each: &mut dyn FnMut(u64, &str, &str)| {
        seen.clear();
        for_each_term_of(&tokenizer, &doc.text, normalized, |word, term, text| {
            if let Some(hash) = term_hash(text) {
                seen.push((hash, word, term));
            }
        });
        // The first occurrence of each term first among its equals.
        seen.sort_unstable_by_key(|(hash, word, _)| (*hash, word.start));
        seen.dedup_by_key(|(hash, _, _)| *hash);
        for (hash, word, term) in seen.iter() {
            let text = |range: &Range<usize>| normalized.get(range.clone()).unwrap_or_default();
            each(*hash, text(word), text(term));
        }
    };
    // Per multi-member cluster: members carrying each term (kept when ≥ 2) and its
    // surface word.
    let per_cluster: Vec<Vec<(u64, usize, String)>> = result
        .clusters
        .par_iter()
        .map(|cluster| {
            if cluster.members.len() < 2 {
                return Vec::new();
            }
            // Term → (members carrying it, the term itself).
            let mut counts: TermMap<(usize, String)> = TermMap::default();
            // Surface words other than the term itself (a stem's full forms), by
            // (term, word hash): (members using it, the word). Most words are their own
            // term, and cost no entry here.
            let mut surfaces: HashMap<(u64, u64), (usize, String), BuildHasherDefault<Prehashed>> =
                HashMap::default();
            let mut seen = Default::default();
            for (m, carried) in distinct_texts(cluster, result, None) {
                for_each_term(&docs[m as usize], &mut seen, &mut |hash, word, token| {
                    counts
                        .entry(hash)
                        .or_insert_with(|| (0, token.to_string()))
                        .0 += carried;
                    if word != token {
                        let word_hash = xxhash_rust::xxh3::xxh3_64(word.as_bytes());
                        surfaces
                            .entry((hash, word_hash))
                            .or_insert_with(|| (0, word.to_string()))
                            .0 += carried;
                    }
                });
            }
            // The most used surface form of each term, ties to the alphabetically first;
            // the term itself is used by the members no other form accounts for.
            let mut best: TermMap<(usize, usize, String)> = counts
                .into_iter()
                .filter(|(_, (members, _))| *members >= 2)
                .map(|(hash, (members, token))| (hash, (members, members, token)))
                .collect();
            let mut others: Vec<((u64, u64), (usize, String))> = surfaces.into_iter().collect();
            others.sort_unstable_by_key(|&(key, _)| key);
            for &((hash, _), (n, _)) in &others {
                if let Some(entry) = best.get_mut(&hash) {
                    entry.1 -= n;
                }
            }
            for ((hash, _), (n, word)) in others {
                if let Some(entry) = best.get_mut(&hash) {
                    if n > entry.1 || (n == entry.1 && word < entry.2) {
                        entry.1 = n;
                        entry.2 = word;
                    }
                }
            }
            best.into_iter()
                .map(|(hash, (members, _, word))| (hash, members, word))
                .collect()
        })
        .collect();
    // Document frequencies of the wanted terms only, over each distinct text once.
    let wanted: TermMap<()> = per_cluster
        .iter()
        .flatten()
        .map(|&(hash, _, _)| (hash, ()))
        .collect();
    let document_frequency: TermMap<usize> = if wanted.is_empty() {
        TermMap::default()
    } else {
        let mut copies = vec![0usize; docs.len()];
        for (d, first) in result.copy_of.iter().enumerate() {
            copies[first.map_or(d, |f| f as usize)] += 1;
        }
        (0..docs.len())
            .into_par_iter()
            .filter(|&d| copies[d] > 0)
            .fold(
                || (TermMap::<usize>::default(), Default::default()),
                |(mut local, (mut found, mut normalized)): (_, (Vec<u64>, String)), d| {
                    // Only the wanted terms are collected and deduplicated.
                    found.clear();
                    for_each_term_of(&tokenizer, &docs[d].text, &mut normalized, |_, _, text| {
                        if let Some(hash) = term_hash(text).filter(|h| wanted.contains_key(h)) {
                            found.push(hash);
                        }
                    });
                    found.sort_unstable();
                    found.dedup();
                    for &hash in &found {
                        *local.entry(hash).or_insert(0) += copies[d];
                    }
                    (local, (found, normalized))
                },
            )
            .map(|(local, _)| local)
            .reduce(TermMap::default, |mut a, b| {
                for (k, v) in b {
                    *a.entry(k).or_insert(0) += v;
                }
                a
            })
    };
    per_cluster
        .into_iter()
        .map(|counts| {
            let mut terms: Vec<SharedTerm> = counts
                .into_iter()
                .map(|(hash, members, word)| SharedTerm {
                    document_frequency: document_frequency.get(&hash).copied().unwrap_or(members),
                    term: word,
                    members,
                })
                .collect();
            terms.sort_by(|x, y| {
                y.members
                    .cmp(&x.members)
                    .then(x.document_frequency.cmp(&y.document_frequency))
                    .then_with(|| x.term.cmp(&y.term))
            });
            terms.truncate(MAX_SHARED_TERMS);
            terms
        })
        .collect()
}
