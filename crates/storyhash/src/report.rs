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
use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;

use crate::cluster::{Cluster, KeepPolicy};
use crate::doc::{printable, DocIndex, Document};
use crate::error::Warning;
use crate::normalize::normalize;
use crate::pipeline::{Analyzer, Clustering, Preset, RunStats};
use crate::shingle::{for_each_shingle, jaccard_u32, set_element, shingle_text, ShingleSpec};
use crate::stopwords::Language;
use crate::tokenize::{TokenOptions, Tokenizer};

/// How many shared terms and passages a cluster lists.
const MAX_SHARED_TERMS: usize = 8;
const MAX_SHARED_PASSAGES: usize = 3;
/// Longest headline shown in the text report, in characters.
const HEADLINE_CHARS: usize = 72;

/// The whole report: parameters, counts, and every document in exactly one cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The parameters that produced it.
    pub params: ReportParams,
    /// Counts.
    pub stats: ReportStats,
    /// Clusters, largest first; singletons last.
    pub clusters: Vec<ClusterReport>,
}

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
        let explanations = explain_terms(docs, &result.clusters, &params.tokens);
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
                    .filter(|w| !w.problem.skips_record())
                    .count(),
            },
            clusters,
        }
    }

    /// Writes the JSON form (pretty-printed, one trailing newline).
    pub fn write_json(&self, mut out: impl Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        writeln!(out)
    }

    /// Writes the text form for people.
    pub fn write_text(&self, mut out: impl Write) -> io::Result<()> {
        let p = &self.params;
        let s = &self.stats.run;
        let preset = p.preset.map_or("custom".to_string(), |p| p.to_string());
        writeln!(
            out,
            "storyhash: {} documents, {} ({} with more than one document)",
            s.documents,
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
            ", {} verified pairs, Jaccard mean {mean:.3} min {min:.3}",
            cluster.verified_pairs
        )?;
    }
    writeln!(out)?;
    let ids: Vec<Cow<'_, str>> = cluster.documents.iter().map(|d| printable(&d.id)).collect();
    let id_width = ids.iter().map(|id| id.chars().count()).max().unwrap_or(0);
    for (i, (doc, id)) in cluster.documents.iter().zip(&ids).enumerate() {
        let marker = if i == 0 { '*' } else { ' ' };
        writeln!(
            out,
            "  {marker} {:<id_width$}  {:.3}  {}",
            id,
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

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The first line of `text`, printable, cut to [`HEADLINE_CHARS`].
fn shorten(text: &str) -> String {
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
    let rep_set = &result.sets[rep as usize];
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
                    jaccard_u32(rep_set, &result.sets[m as usize])
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
    let mut scored: Vec<(usize, usize, std::ops::Range<usize>)> = Vec::new();
    let mut seen = HashSet::new();
    for_each_shingle(&tokens, spec, |hash, span| {
        if !seen.insert(hash) {
            return;
        }
        let carriers = cluster
            .members
            .iter()
            .filter(|&&m| {
                m != rep
                    && result.sets[m as usize]
                        .binary_search(&set_element(hash))
                        .is_ok()
            })
            .count();
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

/// For each cluster, the terms most of its members share. Terms are unigrams under the
/// run's token options, always without stopwords (a shared "the" explains nothing).
/// Ranked by members carrying the term, then by rarity in the whole input (document
/// frequency), then alphabetically.
fn explain_terms(
    docs: &[Document],
    clusters: &[Cluster],
    options: &TokenOptions,
) -> Vec<Vec<SharedTerm>> {
    let tokenizer = Tokenizer::new(&TokenOptions {
        stopwords: Language::ALL.to_vec(),
        stem_arabic: options.stem_arabic,
    });
    // Each document's terms, keyed by token (stemmed, if the run stems), with the surface
    // word each came from.
    let term_set = |doc: &Document| -> HashMap<String, String> {
        let normalized = normalize(&doc.text);
        let mut terms = HashMap::new();
        tokenizer.for_each_term(&normalized, |word, token| {
            // Single Latin letters and digits ("a", "5") explain nothing.
            if token.chars().count() > 1 || !token.is_ascii() {
                terms
                    .entry(token.to_string())
                    .or_insert_with(|| word.to_string());
            }
        });
        terms
    };
    // Per multi-member cluster: how many members carry each term (≥ 2 of them), and the
    // surface word most members used for it.
    let per_cluster: Vec<HashMap<String, (usize, String)>> = clusters
        .par_iter()
        .map(|cluster| {
            let mut counts: HashMap<String, usize> = HashMap::new();
            let mut surfaces: HashMap<(String, String), usize> = HashMap::new();
            if cluster.members.len() > 1 {
                for &m in &cluster.members {
                    for (token, word) in term_set(&docs[m as usize]) {
                        *counts.entry(token.clone()).or_insert(0) += 1;
                        *surfaces.entry((token, word)).or_insert(0) += 1;
                    }
                }
                counts.retain(|_, n| *n >= 2);
            }
            let mut best_surface: HashMap<String, (usize, String)> = HashMap::new();
            for ((token, word), n) in surfaces {
                if counts.contains_key(&token) {
                    let entry = best_surface.entry(token).or_insert((0, String::new()));
                    // Most used surface form, ties to the alphabetically first: deterministic.
                    if n > entry.0 || (n == entry.0 && word < entry.1) {
                        *entry = (n, word);
                    }
                }
            }
            best_surface
                .into_iter()
                .map(|(token, (_, word))| {
                    let members = counts[&token];
                    (token, (members, word))
                })
                .collect()
        })
        .collect();
    // Document frequencies of the wanted terms only, tokenizing every document again
    // (cluster members for the second time) instead of keeping every document's term
    // set from above: on a large input those sets would cost far more memory than the
    // second pass over the members costs time.
    let wanted: HashSet<String> = per_cluster.iter().flat_map(|c| c.keys().cloned()).collect();
    let document_frequency: HashMap<String, usize> = if wanted.is_empty() {
        HashMap::new()
    } else {
        docs.par_iter()
            .map(|doc| {
                let mut local: HashMap<String, usize> = HashMap::new();
                for term in term_set(doc).into_keys() {
                    if wanted.contains(&term) {
                        *local.entry(term).or_insert(0) += 1;
                    }
                }
                local
            })
            .reduce(HashMap::new, |mut a, b| {
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
                .map(|(token, (members, word))| SharedTerm {
                    document_frequency: document_frequency.get(&token).copied().unwrap_or(members),
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
