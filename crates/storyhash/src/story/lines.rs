//! What the story layer leaves out of a document before weighing its terms: boilerplate
//! lines and sentences learned from the corpus (one repeated in more than
//! [`BOILERPLATE_SHARE`] of one source's documents: a site's navigation, a wire's
//! sign-off paragraph, a disclaimer, a "follow us" sentence closing the last paragraph),
//! and the lines, sentences and terms the user lists.
//!
//! A line of several sentences (see [`sentences`]) counts as itself and as each
//! of its sentences, so boilerplate inside a paragraph is found as well as a whole
//! boilerplate line. Sentences are split on the text as written: case folding would hide
//! the capital letter that tells a sentence's end from an abbreviation.
//!
//! A document's source is the host of its `url` (all documents without one form one
//! source), since boilerplate belongs to a site's template. A source needs
//! [`BOILERPLATE_MIN_DOCUMENTS`] documents before any of its lines is boilerplate.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::attach::{Background, BOILERPLATE_MIN_DOCUMENTS, BOILERPLATE_SHARE};
use super::{TermAnalyzer, COUNT_BLOCK};
use crate::doc::{url_host, Document};
use crate::minhash::PrehashedMap;
use crate::normalize::normalize;

/// What the user adds to the input's own statistics: lines and terms to ignore, as
/// written (each is normalized as documents are), and background document frequencies.
#[derive(Debug, Clone, Default)]
pub struct StoryLists {
    /// Terms that never weigh (`--stopwords-file`).
    pub stopwords: Vec<String>,
    /// Lines removed from every document (`--boilerplate-file`).
    pub boilerplate_lines: Vec<String>,
    /// Document frequencies added to the input's (`--background`).
    pub background: Background,
}

/// The user's lists a story-tracking index keeps (in its manifest) and applies to every
/// document it adds: [`StoryLists`] without the background, since an index counts its
/// own document frequencies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionLists {
    /// Terms that never weigh.
    pub stopwords: Vec<String>,
    /// Lines or sentences removed from every document.
    pub boilerplate_lines: Vec<String>,
}

impl ExclusionLists {
    /// Whether both lists are empty.
    pub fn is_empty(&self) -> bool {
        self.stopwords.is_empty() && self.boilerplate_lines.is_empty()
    }
}

/// A line or sentence left out as boilerplate, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoilerplateLine {
    /// The source's host (empty for documents without a URL, and for a listed line).
    pub source: String,
    /// The line or sentence as first seen, trimmed (as listed, for a listed line).
    pub line: String,
    /// The share of the source's documents holding it; for a listed line, of all the
    /// documents.
    pub share: f64,
    /// Whether the user listed it (`--boilerplate-file`) rather than it being learned.
    pub listed: bool,
}

/// The line key of a normalized line: None for a blank line.
fn line_key(normalized: &str) -> Option<u64> {
    let line = normalized.trim();
    // The low bit is left clear for the counting to mark sentences with.
    (!line.is_empty()).then(|| xxh3_64(line.as_bytes()) & !1)
}

/// The sentences of a line as written, when it has more than one. A sentence ends after
/// terminal punctuation (`.`, `!`, `?`, `…`, the Arabic `؟`, the ideographic `。`), any
/// closing quotes or brackets, and white space, unless a lowercase letter follows (as
/// after "e.g." or "approx."): the core of UAX #29's sentence rules. With
/// `unicode-segmentation`'s full rules, learning took `stories` on 115,105 generated
/// articles from 37 s to 45-50 s on one core; with this scan the run is within noise of
/// one that splits nothing (35.2 against 36.3 s, one run each).
fn sentences(line: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut chars = line.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if !matches!(c, '.' | '!' | '?' | '…' | '؟' | '。' | '！' | '？') {
            continue;
        }
        while chars.peek().is_some_and(|&(_, c)| {
            matches!(
                c,
                '.' | '!' | '?' | '"' | '\'' | '”' | '’' | '»' | ')' | ']'
            )
        }) {
            chars.next();
        }
        let Some(&(space_at, c)) = chars.peek() else {
            break;
        };
        if !c.is_whitespace() {
            continue;
        }
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            Some(&(next_at, c)) if !c.is_lowercase() => {
                parts.push(&line[start..space_at]);
                start = next_at;
            }
            _ => {}
        }
    }
    if start == 0 {
        return None;
    }
    parts.push(&line[start..]);
    parts.retain(|p| !p.trim().is_empty());
    (parts.len() > 1).then_some(parts)
}

/// Calls `each` with every unit of `text` that can be boilerplate, as written: each line
/// (with `false`), and each sentence of a line of several (with `true`).
fn for_each_unit<'a>(text: &'a str, mut each: impl FnMut(&'a str, bool)) {
    for line in text.lines() {
        each(line, false);
        for sentence in sentences(line).into_iter().flatten() {
            each(sentence, true);
        }
    }
}

/// The distinct line keys of the lines and sentences of `text`, sorted, each with its
/// low bit set if the unit was seen as a sentence inside a line (63 bits of hash tell
/// lines apart well enough).
pub(crate) fn unit_keys(text: &str) -> Vec<u64> {
    let mut keys: Vec<u64> = Vec::new();
    for_each_unit(text, |unit, sentence| {
        keys.extend(line_key(&normalize(unit)).map(|k| k | u64::from(sentence)));
    });
    keys.sort_unstable();
    keys.dedup_by(|later, first| {
        let same = *later >> 1 == *first >> 1;
        if same {
            *first |= *later & 1;
        }
        same
    });
    keys
}

/// Calls `each` with the key (sentence bit clear) of every line and sentence of `text`
/// and the unit as written, trimmed.
pub(crate) fn for_each_keyed_unit(text: &str, mut each: impl FnMut(u64, &str)) {
    for_each_unit(text, |unit, _| {
        if let Some(key) = line_key(&normalize(unit)) {
            each(key, unit.trim());
        }
    });
}

/// The host of a URL, lowercased; empty when there is none.
pub(crate) fn host_of(doc: &Document) -> String {
    doc.url
        .as_deref()
        .map_or(String::new(), |url| url_host(url).to_ascii_lowercase())
}

/// What to leave out of each document.
#[derive(Debug, Default)]
pub(crate) struct Exclusions {
    /// (source hash, line key) of learned boilerplate lines.
    learned: HashSet<(u64, u64)>,
    /// Line keys of listed lines, in every source.
    listed_lines: HashSet<u64>,
    /// Hashes of listed terms.
    listed_terms: HashSet<u64>,
    /// Whether a learned unit was seen as a sentence inside a line, or lines are
    /// listed: only then are kept lines split into sentences.
    split_sentences: bool,
}

impl Exclusions {
    /// Learns the boilerplate lines of `docs` (each counted document once) and adds the
    /// user's lists; returns them with the report's lines (at most `listed`, most
    /// widespread first).
    pub(crate) fn learn(
        docs: &[Document],
        counted: &[usize],
        analyzer: &TermAnalyzer,
        lists: &StoryLists,
        listed: usize,
    ) -> (Exclusions, Vec<BoilerplateLine>) {
        let mut exclusions =
            Exclusions::listed(analyzer, &lists.stopwords, &lists.boilerplate_lines);
        // Distinct lines and sentences per document, per source, found in parallel
        // blocks so that only one block's keys are held besides the counts.
        let mut per_source: PrehashedMap<u64, u32> = PrehashedMap::default();
        // (source, key) → (documents, seen as a sentence inside a line).
        let mut counts: PrehashedMap<(u64, u64), (u32, bool)> = PrehashedMap::default();
        for block in counted.chunks(COUNT_BLOCK) {
            let keyed: Vec<(u64, Vec<u64>)> = block
                .par_iter()
                .map(|&d| (Exclusions::source(&docs[d]), unit_keys(&docs[d].text)))
                .collect();
            for (source, keys) in &keyed {
                *per_source.entry(*source).or_insert(0) += 1;
                for &key in keys {
                    let entry = counts.entry((*source, key & !1)).or_insert((0, false));
                    entry.0 += 1;
                    entry.1 |= key & 1 == 1;
                }
            }
        }
        // How many documents (of any source) hold each listed line, for the report: a
        // listed line that matches nothing shows the user a list that misses.
        let mut listed_holding: HashMap<u64, u32> = HashMap::new();
        for (&(_, key), &(n, _)) in &counts {
            if exclusions.listed_lines.contains(&key) {
                *listed_holding.entry(key).or_insert(0) += n;
            }
        }
        let mut learned: Vec<((u64, u64), f64)> = Vec::new();
        for (k, (n, sentence)) in counts {
            let documents = per_source[&k.0];
            let share = f64::from(n) / f64::from(documents);
            if u64::from(documents) >= BOILERPLATE_MIN_DOCUMENTS && share > BOILERPLATE_SHARE {
                learned.push((k, share));
                exclusions.split_sentences |= sentence;
            }
        }
        learned.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        exclusions.learned = learned.iter().map(|&(k, _)| k).collect();
        // The report's lines: the listed ones found, most widespread first, then the
        // learned ones the list does not hold, the text of each as first seen.
        let mut report: Vec<BoilerplateLine> = Vec::new();
        let mut reported = HashSet::new();
        for line in &lists.boilerplate_lines {
            let Some(key) = line_key(&normalize(line)) else {
                continue;
            };
            if let Some(&n) = listed_holding.get(&key).filter(|_| reported.insert(key)) {
                report.push(BoilerplateLine {
                    source: String::new(),
                    line: line.trim().to_owned(),
                    share: f64::from(n) / counted.len() as f64,
                    listed: true,
                });
            }
        }
        report.sort_by(|a, b| b.share.total_cmp(&a.share).then(a.line.cmp(&b.line)));
        report.truncate(listed);
        learned.retain(|(k, _)| !exclusions.listed_lines.contains(&k.1));
        let wanted: HashMap<(u64, u64), f64> = learned
            .iter()
            .take(listed - report.len())
            .copied()
            .collect();
        let mut found: HashMap<(u64, u64), (String, String)> = HashMap::new();
        for &d in counted {
            if found.len() == wanted.len() {
                break;
            }
            let host = host_of(&docs[d]);
            let source = xxh3_64(host.as_bytes());
            for_each_keyed_unit(&docs[d].text, |key, unit| {
                if wanted.contains_key(&(source, key)) {
                    found
                        .entry((source, key))
                        .or_insert_with(|| (host.clone(), unit.to_owned()));
                }
            });
        }
        report.extend(learned.iter().filter_map(|(k, share)| {
            let (source, line) = found.get(k)?.clone();
            Some(BoilerplateLine {
                source,
                line,
                share: *share,
                listed: false,
            })
        }));
        (exclusions, report)
    }

    /// The listed terms (`stopwords`, each analysed into its terms) and lines alone,
    /// nothing learned: what an index applies to each document it adds.
    pub(crate) fn listed(
        analyzer: &TermAnalyzer,
        stopwords: &[String],
        boilerplate_lines: &[String],
    ) -> Exclusions {
        let mut exclusions = Exclusions::default();
        for term in stopwords {
            analyzer.for_each_term(&normalize(term), |t, _| {
                exclusions.listed_terms.insert(t);
            });
        }
        for line in boilerplate_lines {
            exclusions.listed_lines.extend(line_key(&normalize(line)));
        }
        exclusions.split_sentences = !exclusions.listed_lines.is_empty();
        exclusions
    }

    /// Whether the line key `key` (sentence bit clear) is a listed line's.
    pub(crate) fn lists_line(&self, key: u64) -> bool {
        self.listed_lines.contains(&key)
    }

    /// Whether nothing is excluded.
    pub(crate) fn is_empty(&self) -> bool {
        self.learned.is_empty() && self.listed_lines.is_empty() && self.listed_terms.is_empty()
    }

    /// The source key of a document, for [`Exclusions::for_each_kept`].
    pub(crate) fn source(doc: &Document) -> u64 {
        xxh3_64(host_of(doc).as_bytes())
    }

    /// Calls `each` with the normalized parts of `text` (a document from `source`) that
    /// stay: each line that is not boilerplate, or, for a line of several sentences when
    /// sentences can be boilerplate, its sentences that are not.
    pub(crate) fn for_each_kept(&self, source: u64, text: &str, mut each: impl FnMut(&str)) {
        for line in text.lines() {
            let normalized = normalize(line);
            if !self.keeps_line(source, &normalized) {
                continue;
            }
            match sentences(line).filter(|_| self.split_sentences) {
                None => each(&normalized),
                Some(parts) => {
                    for part in parts {
                        let normalized = normalize(part);
                        if self.keeps_line(source, &normalized) {
                            each(&normalized);
                        }
                    }
                }
            }
        }
    }

    /// Whether a normalized line or sentence of a document from `source` stays.
    fn keeps_line(&self, source: u64, normalized: &str) -> bool {
        match line_key(normalized) {
            Some(key) => {
                !self.listed_lines.contains(&key) && !self.learned.contains(&(source, key))
            }
            None => true,
        }
    }

    /// Whether a term stays.
    pub(crate) fn keeps_term(&self, term: u64) -> bool {
        !self.listed_terms.contains(&term)
    }
}

#[cfg(test)]
mod tests {
    use super::{host_of, sentences};
    use crate::doc::Document;

    #[test]
    fn a_source_is_the_host_of_an_address_or_a_site_named_as_it_is() {
        let source = |url: Option<&str>| {
            let mut doc = Document::new("d", "text");
            doc.url = url.map(str::to_owned);
            host_of(&doc)
        };
        assert_eq!(
            source(Some("https://www.Hespress.com/politique/1.html")),
            "www.hespress.com"
        );
        assert_eq!(
            source(Some("https://user@news.example:8080/a?b#c")),
            "news.example:8080"
        );
        // A `source` field read as the address (--url-field source): the site's name.
        assert_eq!(source(Some("Hespress")), source(Some("hespress")));
        assert_eq!(source(Some("Al Jazeera")), "al jazeera");
        assert_eq!(source(None), "");
    }

    #[test]
    fn sentences_end_at_terminal_punctuation_before_a_new_sentence() {
        assert_eq!(
            sentences("Prices rose. \"Good,\" he said! Follow us."),
            Some(vec!["Prices rose.", "\"Good,\" he said!", "Follow us."])
        );
        // An abbreviation before a lowercase word, and a number, end nothing.
        assert_eq!(sentences("Costs e.g. fuel rose 2.5 pct."), None);
        assert_eq!(
            sentences("ارتفعت الأسعار. تابعونا على المنصات؟ شكرا"),
            Some(vec!["ارتفعت الأسعار.", "تابعونا على المنصات؟", "شكرا"])
        );
        assert_eq!(sentences("One sentence only."), None);
        assert_eq!(sentences("Trailing space.   "), None);
    }
}
