//! The reports as one self-contained HTML page for people to look at: an overview with
//! the parameters, a histogram of cluster sizes, the distribution of verified
//! similarities with the threshold marked and the LSH S-curve with the recall at the
//! threshold; the clusters (or stories), largest first, filterable, singletons counted;
//! and two members side by side with the passages they share highlighted.
//!
//! No network: the data is embedded as JSON, the style and script inline, and the page
//! renders lazily (a cluster's members when it is opened, the list a hundred at a time),
//! so a report of 100,000 documents opens in seconds. Texts are embedded for the members
//! of listed clusters only, each cut to [`MAX_TEXT_CHARS`] characters, all within
//! [`MAX_TEXT_BYTES`]: the file stays near 200 bytes per document plus those texts.
//! Input text only ever reaches the page as text nodes (never as markup).

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::doc::Document;
use crate::index::{IndexCluster, IndexStory};
use crate::pipeline::Clustering;
use crate::report::{plural, Report};
use crate::story::{StoryParams, StoryReport};

/// Characters of one document's text the page carries for the side-by-side view.
pub const MAX_TEXT_CHARS: usize = 3_000;

/// Bytes of text the page carries at most; members beyond have no side-by-side view.
pub const MAX_TEXT_BYTES: usize = 16 << 20;

/// Bins of the similarity histogram, over [0, 1].
const SIMILARITY_BINS: usize = 20;

#[derive(Serialize)]
struct Page<'a> {
    kind: &'static str,
    /// The heading of the members' similarity column.
    similarity_heading: &'static str,
    title: String,
    overview: Vec<(&'static str, String)>,
    params: Vec<(&'static str, String)>,
    sizes: Vec<(&'static str, usize)>,
    similarities: Option<Similarities>,
    curve: Option<Curve>,
    shingle_words: usize,
    groups: Vec<Group<'a>>,
    singletons: usize,
    texts: HashMap<&'a str, &'a str>,
}

#[derive(Serialize)]
struct Similarities {
    bins: Vec<usize>,
    threshold: f64,
}

#[derive(Serialize)]
struct Curve {
    points: Vec<(f64, f64)>,
    threshold: f64,
    recall: f64,
    bands: usize,
    rows: usize,
}

#[derive(Serialize)]
struct Group<'a> {
    id: usize,
    size: usize,
    /// A story's first and last days of publication, when its members have times.
    #[serde(skip_serializing_if = "Option::is_none")]
    days: Option<(&'a str, &'a str)>,
    terms: Vec<String>,
    passages: &'a [String],
    members: Vec<Member<'a>>,
}

#[derive(Serialize)]
struct Member<'a> {
    id: &'a str,
    headline: &'a str,
    date: Option<&'a str>,
    /// The site of the document's URL.
    source: Option<&'a str>,
    /// To the kept member, or to its story on joining (None: not known, as in an index).
    similarity: Option<f64>,
    kept: bool,
    copies: Vec<&'a str>,
    /// In a story: the terms it shares most with the story's other groups.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    terms: &'a [String],
}

/// The histogram of verified similarities, over [0, 1].
fn similarity_bins(similarities: impl Iterator<Item = f64>, threshold: f64) -> Similarities {
    let mut bins = vec![0usize; SIMILARITY_BINS];
    for j in similarities {
        bins[((j * SIMILARITY_BINS as f64) as usize).min(SIMILARITY_BINS - 1)] += 1;
    }
    Similarities { bins, threshold }
}

/// The S-curve of `lsh`, with the share of pairs at `threshold` that are compared.
fn s_curve(lsh: crate::LshParams, threshold: f64) -> Curve {
    Curve {
        points: (0..=50)
            .map(|i| {
                let s = i as f64 / 50.0;
                (s, lsh.probability(s))
            })
            .collect(),
        threshold,
        recall: lsh.probability(threshold),
        bands: lsh.bands,
        rows: lsh.rows,
    }
}

/// Which bucket of the size histogram a group of `size` documents falls in.
fn size_bucket(size: usize) -> usize {
    match size {
        0 | 1 => 0,
        2 => 1,
        3..=5 => 2,
        6..=10 => 3,
        11..=50 => 4,
        _ => 5,
    }
}

const SIZE_LABELS: [&str; 6] = ["1", "2", "3-5", "6-10", "11-50", "51+"];

fn size_histogram(sizes: impl Iterator<Item = usize>) -> Vec<(&'static str, usize)> {
    let mut counts = [0usize; 6];
    for size in sizes {
        counts[size_bucket(size)] += 1;
    }
    SIZE_LABELS.iter().copied().zip(counts).collect()
}

/// Characters of a headline the page shows (a text without line breaks is its own
/// headline).
const MAX_HEADLINE_CHARS: usize = 200;

/// The host of `url` (`https://www.example.com/a/b` → `www.example.com`), the source a
/// reader recognises; None when there is none.
fn site(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    (!host.is_empty()).then_some(host)
}

/// `text`'s first `chars` characters.
fn cut(text: &str, chars: usize) -> &str {
    text.char_indices()
        .nth(chars)
        .map_or(text, |(at, _)| &text[..at])
}

/// The texts of the listed groups' members, cut and within the page's budget.
fn texts_of<'a>(by_id: &ById<'a>, groups: &[Group<'a>]) -> HashMap<&'a str, &'a str> {
    let mut texts = HashMap::new();
    let mut bytes = 0;
    for member in groups.iter().flat_map(|g| &g.members) {
        let Some(doc) = by_id.get(member.id) else {
            continue;
        };
        let cut = cut(&doc.text, MAX_TEXT_CHARS);
        if bytes + cut.len() > MAX_TEXT_BYTES {
            break;
        }
        bytes += cut.len();
        texts.insert(doc.id.as_str(), cut);
    }
    texts
}

/// The input's documents by id, for what the page shows of them.
struct ById<'a> {
    docs: &'a [Document],
    index: HashMap<&'a str, usize>,
}

impl<'a> ById<'a> {
    fn new(docs: &'a [Document]) -> Self {
        let index = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.as_str(), i))
            .collect();
        ById { docs, index }
    }

    fn get(&self, id: &str) -> Option<&'a Document> {
        self.index.get(id).map(|&i| &self.docs[i])
    }

    /// The publication time as the input gave it.
    fn date(&self, id: &str) -> Option<&'a str> {
        self.get(id)?.published.as_deref()
    }

    /// The site of the document's URL.
    fn source(&self, id: &str) -> Option<&'a str> {
        site(self.get(id)?.url.as_deref()?)
    }
}

/// Writes the cluster report of `result` over `docs` as one HTML page.
pub fn write_cluster_report(
    out: impl Write,
    report: &Report,
    docs: &[Document],
    result: &Clustering,
) -> io::Result<()> {
    let by_id = ById::new(docs);
    let groups: Vec<Group<'_>> = report
        .clusters
        .iter()
        .filter(|c| c.size > 1)
        .map(|c| Group {
            id: c.id,
            size: c.size,
            days: None,
            terms: c.shared_terms.iter().map(|t| t.term.clone()).collect(),
            passages: &c.shared_shingles,
            members: c
                .documents
                .iter()
                .map(|m| Member {
                    id: &m.id,
                    headline: cut(&m.headline, MAX_HEADLINE_CHARS),
                    date: by_id.date(&m.id),
                    source: by_id.source(&m.id),
                    similarity: Some(m.similarity_to_representative),
                    kept: m.id == c.representative,
                    copies: Vec::new(),
                    terms: &[],
                })
                .collect(),
        })
        .collect();
    let p = &report.params;
    let s = &report.stats.run;
    let lsh = result.lsh;
    let removed: usize = groups.iter().map(|g| g.size - 1).sum();
    let page = Page {
        kind: "clusters",
        similarity_heading: "Jaccard to kept",
        title: format!(
            "storyhash: {}, {} of two or more",
            plural(s.documents, "document"),
            plural(s.multi_member_clusters, "cluster")
        ),
        overview: vec![
            ("documents", s.documents.to_string()),
            (
                "clusters of two or more",
                s.multi_member_clusters.to_string(),
            ),
            (
                "documents in no cluster",
                (s.clusters - s.multi_member_clusters).to_string(),
            ),
            (
                "kept (one per cluster)",
                (s.documents - removed).to_string(),
            ),
            ("removed as duplicates", removed.to_string()),
            ("verified pairs", s.verified_pairs.to_string()),
            (
                "skipped input records",
                report.stats.skipped_records.to_string(),
            ),
        ],
        params: vec![
            (
                "preset",
                p.preset.map_or("custom".into(), |p| p.to_string()),
            ),
            ("shingles", p.shingle.to_string()),
            ("threshold", format!("{:.3}", p.threshold)),
            (
                "MinHash",
                format!("{} k={} seed={}", p.sketch, p.num_perm, p.seed),
            ),
            ("LSH", format!("{} bands x {} rows", p.bands, p.rows)),
            ("keep", p.keep.to_string()),
        ],
        sizes: size_histogram(report.clusters.iter().map(|c| c.size)),
        similarities: Some(similarity_bins(
            result.pairs.iter().map(|pair| pair.jaccard),
            p.threshold,
        )),
        curve: Some(s_curve(lsh, p.threshold)),
        shingle_words: match p.shingle {
            crate::ShingleSpec::Word(n) => n,
            crate::ShingleSpec::Char(_) => 3,
        },
        // From the run, not the listed clusters: --min-size may have left some out.
        singletons: s.clusters - s.multi_member_clusters,
        texts: texts_of(&by_id, &groups),
        groups,
    };
    write_page(out, &page)
}

/// Writes the story report over `docs` as one HTML page: stories, their groups of
/// copies nested, and their top terms.
pub fn write_story_report(
    out: impl Write,
    report: &StoryReport,
    docs: &[Document],
) -> io::Result<()> {
    let by_id = ById::new(docs);
    let groups: Vec<Group<'_>> = report
        .stories
        .iter()
        .filter(|s| s.size > 1)
        .map(|story| Group {
            id: story.id,
            size: story.size,
            days: story.days(),
            terms: story.top_terms.clone(),
            passages: &[],
            members: story
                .groups
                .iter()
                .enumerate()
                .map(|(i, g)| Member {
                    id: &g.members[0],
                    headline: cut(&g.headline, MAX_HEADLINE_CHARS),
                    date: by_id.date(&g.members[0]),
                    source: by_id.source(&g.members[0]),
                    similarity: Some(g.attached_with),
                    kept: i == 0,
                    copies: g.members[1..].iter().map(String::as_str).collect(),
                    terms: &g.shared_terms,
                })
                .collect(),
        })
        .collect();
    let p = &report.params;
    let page = Page {
        kind: "stories",
        similarity_heading: "similarity on joining",
        title: format!(
            "storyhash stories: {}, {} of two or more",
            plural(report.documents, "document"),
            stories_of(groups.len())
        ),
        overview: vec![
            ("documents", report.documents.to_string()),
            ("stories", report.stories.len().to_string()),
            ("stories of two or more documents", groups.len().to_string()),
        ],
        params: vec![
            ("granularity", format!("{:?}", p.granularity).to_lowercase()),
            (
                "threshold (mean cosine to a story)",
                format!("{:.3}", p.threshold),
            ),
            ("window", format!("{} s", p.window_seconds)),
            (
                "background documents counted in idf",
                report.background_documents.to_string(),
            ),
            (
                "boilerplate terms (weighing nothing)",
                report
                    .boilerplate
                    .iter()
                    .map(|b| b.term.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "boilerplate lines (left out)",
                report
                    .boilerplate_lines
                    .iter()
                    .map(|l| match l.source.as_str() {
                        _ if l.listed => format!("{} (listed, {:.0}%)", l.line, 100.0 * l.share),
                        "" => format!("{} ({:.0}%)", l.line, 100.0 * l.share),
                        source => format!("{} ({source}, {:.0}%)", l.line, 100.0 * l.share),
                    })
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
        ],
        sizes: size_histogram(report.stories.iter().map(|s| s.size)),
        similarities: None,
        curve: None,
        shingle_words: 3,
        singletons: report.stories.iter().filter(|s| s.size == 1).count(),
        texts: texts_of(&by_id, &groups),
        groups,
    };
    write_page(out, &page)
}

/// One cluster of a dedup run as its report knows it: the kept id and the members (kept
/// first), each with its exact Jaccard to the kept one.
#[derive(Debug, Clone)]
pub struct DedupCluster {
    /// The kept document's id.
    pub kept: String,
    /// Members other than the kept one, with their Jaccard to it.
    pub removed: Vec<(String, f64)>,
}

/// Writes a dedup run's report: the summary's counts and banding, cluster sizes, the
/// similarities of `pair_similarities` (every verified pair) and the clusters by id
/// (dedup keeps no text, so there are no headlines and no side-by-side view).
pub fn write_dedup_report(
    out: impl Write,
    summary: &crate::dedup::DedupSummary,
    params: &crate::Params,
    clusters: &[DedupCluster],
    pair_similarities: &[f64],
) -> io::Result<()> {
    let groups: Vec<Group<'_>> = clusters
        .iter()
        .enumerate()
        .map(|(id, c)| Group {
            id,
            size: c.removed.len() + 1,
            days: None,
            terms: Vec::new(),
            passages: &[],
            members: std::iter::once(Member {
                id: &c.kept,
                headline: &c.kept,
                date: None,
                source: None,
                similarity: Some(1.0),
                kept: true,
                copies: Vec::new(),
                terms: &[],
            })
            .chain(c.removed.iter().map(|(id, j)| Member {
                id,
                headline: id,
                date: None,
                source: None,
                similarity: Some(*j),
                kept: false,
                copies: Vec::new(),
                terms: &[],
            }))
            .collect(),
        })
        .collect();
    let lsh = summary
        .lsh
        .unwrap_or(crate::LshParams { bands: 1, rows: 1 });
    let in_clusters: u64 = clusters.iter().map(|c| c.removed.len() as u64 + 1).sum();
    let page = Page {
        kind: "clusters",
        similarity_heading: "Jaccard to kept",
        title: format!(
            "storyhash dedup: {}, {} kept",
            plural(summary.documents as usize, "document"),
            summary.kept
        ),
        overview: vec![
            ("documents", summary.documents.to_string()),
            ("clusters of two or more", summary.clusters.to_string()),
            ("kept", summary.kept.to_string()),
            ("removed as duplicates", summary.removed.to_string()),
            ("verified pairs", summary.verified_pairs.to_string()),
            ("skipped input records", summary.skipped().to_string()),
        ],
        params: param_rows(params, Some(lsh))
            .into_iter()
            .chain([("keep", params.keep.to_string())])
            .collect(),
        sizes: size_histogram(clusters.iter().map(|c| c.removed.len() + 1).chain(
            std::iter::repeat_n(1, (summary.documents - in_clusters) as usize),
        )),
        similarities: Some(similarity_bins(
            pair_similarities.iter().copied(),
            params.threshold,
        )),
        curve: Some(s_curve(lsh, params.threshold)),
        shingle_words: 3,
        singletons: (summary.documents - in_clusters) as usize,
        texts: HashMap::new(),
        groups,
    };
    write_page(out, &page)
}

/// What a story index's page counts beside the stories it lists.
#[derive(Debug, Clone, Copy)]
pub struct IndexCounts {
    /// Documents in the index.
    pub documents: usize,
    /// Documents alone in their stories, of those the listing looked at (its `since`).
    pub singletons: usize,
}

/// Writes the stories a story index lists (`index stories --format html`): each story's
/// days, its heaviest terms and its members in the order they arrived, with their
/// headlines and times, near copies under the member they copy. An index keeps no texts
/// and no member's score on joining, so the page has no side-by-side view and no
/// similarities.
pub fn write_index_story_report(
    out: impl Write,
    stories: &[IndexStory],
    counts: IndexCounts,
    params: &StoryParams,
    since: Option<i64>,
) -> io::Result<()> {
    let listed: Vec<IndexGroup<'_>> = stories
        .iter()
        .filter(|s| s.members.len() > 1)
        .map(|s| IndexGroup {
            members: &s.members,
            headlines: &s.headlines,
            published: &s.published,
            terms: s.top_terms.clone(),
            similarity: vec![None; s.members.len()],
            // Each cluster's near copies under its first member.
            copies: copies_under(
                &s.members,
                (s.members.iter().zip(&s.clusters)).map(|(m, c)| (m != c).then_some(c.as_str())),
            ),
        })
        .collect();
    let head = IndexPage {
        kind: "stories",
        similarity_heading: "similarity on joining",
        title: format!(
            "storyhash index stories: {} of two or more",
            stories_of(listed.len())
        ),
        overview: vec![
            ("documents in the index", counts.documents.to_string()),
            ("stories of two or more documents", listed.len().to_string()),
            ("documents alone in a story", counts.singletons.to_string()),
        ],
        params: vec![
            (
                "granularity",
                format!("{:?}", params.granularity).to_lowercase(),
            ),
            (
                "threshold (mean cosine to a story)",
                format!("{:.3}", params.threshold),
            ),
            ("window", format!("{} s", params.window_seconds)),
        ],
        similarities: None,
        curve: None,
        singletons: counts.singletons,
        since,
    };
    write_index_page(out, head, &listed)
}

/// Writes the near-duplicate clusters an index lists (`index clusters --format html`):
/// each cluster's days and its members in the order they arrived, with their headlines
/// (kept by story-tracking indexes), times, copies, and the Jaccard similarity to the
/// member each matched best on arriving; the distribution of those similarities and the
/// LSH S-curve. An index keeps no texts, so the page has no side-by-side view.
pub fn write_index_cluster_report(
    out: impl Write,
    clusters: &[IndexCluster],
    counts: IndexCounts,
    params: &crate::Params,
    since: Option<i64>,
) -> io::Result<()> {
    let listed: Vec<IndexGroup<'_>> = clusters
        .iter()
        .filter(|c| c.members.len() > 1)
        .map(|c| IndexGroup {
            members: &c.members,
            headlines: &c.headlines,
            published: &c.published,
            terms: Vec::new(),
            similarity: c
                .matched
                .iter()
                .map(|m| m.as_ref().map(|m| m.jaccard))
                .collect(),
            copies: copies_under(
                &c.members,
                (c.matched.iter())
                    .map(|m| m.as_ref().filter(|m| m.copy).map(|m| m.member.as_str())),
            ),
        })
        .collect();
    let similarities = listed
        .iter()
        .flat_map(|g| g.similarity.iter().flatten().copied());
    let lsh = params.lsh().ok();
    let head = IndexPage {
        kind: "clusters",
        similarity_heading: "Jaccard to the member matched",
        title: format!(
            "storyhash index clusters: {} of two or more",
            plural(listed.len(), "cluster")
        ),
        overview: vec![
            ("documents in the index", counts.documents.to_string()),
            (
                "clusters of two or more documents",
                listed.len().to_string(),
            ),
            ("documents in no cluster", counts.singletons.to_string()),
        ],
        params: param_rows(params, lsh),
        similarities: Some(similarity_bins(similarities, params.threshold)),
        curve: lsh.map(|lsh| s_curve(lsh, params.threshold)),
        singletons: counts.singletons,
        since,
    };
    write_index_page(out, head, &listed)
}

/// The page's rows of `params`: preset, shingles, threshold, MinHash and (when known) the
/// banding.
fn param_rows(
    params: &crate::Params,
    lsh: Option<crate::LshParams>,
) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        (
            "preset",
            params.preset.map_or("custom".into(), |p| p.to_string()),
        ),
        ("shingles", params.shingle.to_string()),
        ("threshold", format!("{:.3}", params.threshold)),
        (
            "MinHash",
            format!(
                "{} k={} seed={}",
                params.sketch, params.num_perm, params.seed
            ),
        ),
    ];
    rows.extend(lsh.map(|lsh| ("LSH", format!("{} bands x {} rows", lsh.bands, lsh.rows))));
    rows
}

/// Per member of `members`, the members whose `of` (in the order of `members`) names it:
/// the copies the page lists under each, found in one pass.
fn copies_under<'a>(
    members: &'a [String],
    of: impl Iterator<Item = Option<&'a str>>,
) -> Vec<Vec<&'a str>> {
    let mut under: HashMap<&str, Vec<&str>> = HashMap::new();
    for (member, of) in members.iter().zip(of) {
        if let Some(of) = of {
            under.entry(of).or_default().push(member);
        }
    }
    (members.iter())
        .map(|m| under.remove(m.as_str()).unwrap_or_default())
        .collect()
}

/// One story or cluster of an index's listing, as its page shows it.
struct IndexGroup<'a> {
    members: &'a [String],
    headlines: &'a [Option<String>],
    published: &'a [Option<i64>],
    terms: Vec<String>,
    /// Per member, the similarity the page shows beside it.
    similarity: Vec<Option<f64>>,
    /// Per member, the ids of the members that are its copies.
    copies: Vec<Vec<&'a str>>,
}

/// An index listing's page, but for its groups.
struct IndexPage {
    kind: &'static str,
    similarity_heading: &'static str,
    title: String,
    overview: Vec<(&'static str, String)>,
    params: Vec<(&'static str, String)>,
    similarities: Option<Similarities>,
    curve: Option<Curve>,
    singletons: usize,
    since: Option<i64>,
}

/// Writes an index listing's page: `head` with the listed groups (each of two or more)
/// and the size histogram counting the singletons too.
fn write_index_page(out: impl Write, head: IndexPage, listed: &[IndexGroup<'_>]) -> io::Result<()> {
    let time = |t: Option<i64>| t.and_then(crate::doc::published_text);
    let day = |t: Option<i64>| time(t).map(|t| crate::story::day_of(&t).to_owned());
    let days: Vec<Option<(String, String)>> = listed
        .iter()
        .map(|g| {
            day(crate::index::earliest(g.published)).zip(day(crate::index::latest(g.published)))
        })
        .collect();
    let dates: Vec<Vec<Option<String>>> = listed
        .iter()
        .map(|g| g.published.iter().map(|&t| time(t)).collect())
        .collect();
    let groups: Vec<Group<'_>> = listed
        .iter()
        .enumerate()
        .map(|(i, g)| Group {
            id: i,
            size: g.members.len(),
            days: days[i].as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            terms: g.terms.clone(),
            passages: &[],
            members: (g.members.iter().zip(g.headlines).zip(&dates[i]))
                .zip(g.similarity.iter().zip(&g.copies))
                .map(|(((id, headline), date), (&similarity, copies))| Member {
                    id,
                    headline: headline.as_deref().unwrap_or(id),
                    date: date.as_deref(),
                    source: None,
                    similarity,
                    kept: false,
                    copies: copies.clone(),
                    terms: &[],
                })
                .collect(),
        })
        .collect();
    let IndexPage {
        kind,
        similarity_heading,
        title,
        mut overview,
        params,
        similarities,
        curve,
        singletons,
        since,
    } = head;
    if let Some(since) = time(since) {
        overview.push(("with a member published from", since));
    }
    let page = Page {
        kind,
        similarity_heading,
        title,
        overview,
        params,
        sizes: size_histogram(
            (groups.iter().map(|g| g.size)).chain(std::iter::repeat_n(1, singletons)),
        ),
        similarities,
        curve,
        shingle_words: 3,
        singletons,
        texts: HashMap::new(),
        groups,
    };
    write_page(out, &page)
}

/// "1 story", "2 stories".
fn stories_of(n: usize) -> String {
    if n == 1 {
        "1 story".to_owned()
    } else {
        format!("{n} stories")
    }
}

fn write_page(mut out: impl Write, page: &Page<'_>) -> io::Result<()> {
    let data = serde_json::to_string(page)?
        // Inside a script element, "</script" would end it and "<!--" change how it is
        // parsed; "<" appears in JSON only inside strings, where "\u003c" means the same.
        .replace('<', "\\u003c");
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>storyhash report</title><style>{STYLE}</style></head><body>\
         <main id=\"app\"><p>Loading…</p></main>\
         <script type=\"application/json\" id=\"data\">{data}</script>\
         <script>{SCRIPT}</script></body></html>\n"
    )
}

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{pipeline, Preset};

    /// Text that looks like markup stays data: it cannot close the data script, and
    /// reaches the page only through the JSON the script reads into text nodes.
    #[test]
    fn input_markup_cannot_leave_the_data_block() {
        let hostile = "</script><script>alert(1)</script> the minister arrived in moscow on monday";
        let docs = vec![
            Document::new("a</script>", hostile),
            Document::new("b", hostile),
        ];
        let result = pipeline::run(&docs, &Preset::Dup.params()).expect("runs");
        let report = Report::build(&docs, &result, &[]);
        let mut page = Vec::new();
        write_cluster_report(&mut page, &report, &docs, &result).expect("in memory");
        let page = String::from_utf8(page).expect("utf8");
        assert_eq!(
            page.matches("</script>").count(),
            2,
            "only the page's own two scripts close"
        );
        assert!(page.contains("\\u003c/script>\\u003cscript>alert(1)"));
        // No address the page could fetch: the only URL is SVG's namespace name.
        assert_eq!(
            page.matches("http").count(),
            page.matches("http://www.w3.org/2000/svg").count()
        );
    }

    #[test]
    fn texts_are_cut_and_bounded() {
        let long = "word ".repeat(2 * MAX_TEXT_CHARS);
        let docs = vec![Document::new("a", long.clone()), Document::new("b", long)];
        let result = pipeline::run(&docs, &Preset::Dup.params()).expect("runs");
        let report = Report::build(&docs, &result, &[]);
        let mut page = Vec::new();
        write_cluster_report(&mut page, &report, &docs, &result).expect("in memory");
        // Two texts of MAX_TEXT_CHARS characters each, not of twice that.
        assert!(page.len() < 2 * MAX_TEXT_CHARS + 40_000, "{}", page.len());
    }

    #[test]
    fn a_source_is_the_host_of_the_url() {
        assert_eq!(
            site("https://www.example.com/a/b?c#d"),
            Some("www.example.com")
        );
        assert_eq!(
            site("http://user@news.example:8080/x"),
            Some("news.example:8080")
        );
        assert_eq!(site("example.org/path"), Some("example.org"));
        assert_eq!(site("https:///nothing"), None);
    }
}
