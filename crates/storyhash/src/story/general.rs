//! General word frequencies as a prior of the story weights' document frequencies.
//!
//! A term's idf is counted in the input (and any background the caller gives). In a
//! small input every word is rare: in Lee's 50 articles "went", "brought" and "Mugabe"
//! are each in one or two, so a rewrite's shared name weighs no more than the verbs it
//! does not share. Idf therefore also counts [`PRIOR_ARTICLES`] imagined general
//! articles of [`ARTICLE_WORDS`] words, in which a term used a share `f` of the time in
//! general English or Arabic (wordfreq's frequencies, from the `storyhash-wordfreq`
//! crate) appears in `1 - exp(-ARTICLE_WORDS · f)` of them, as a word drawn
//! independently at every position would. Words cluster in the articles about them, so
//! the prior overstates a name's spread and understates a beat word's; it is a floor
//! under everyday words, not a measurement of any corpus.
//!
//! Three hundred articles is the background size that gave Lee's 50 articles an idf
//! telling names from everyday words (300 background articles of the same beat took
//! `stories` from 6 to 7 of the 9 pairs people rated the same story; this prior, sized
//! 100 to 300 articles, does the same, while from 1,000 a related article takes one
//! pair's place); 400 words is a news article's usual length. The prior adds to idf
//! only: boilerplate (a term in more than a fifth of the documents) is learned from the
//! input and the caller's background, and the candidate rule's rare terms are rare in
//! the input. A large input outweighs it: on the 20,840 dated Reuters articles it moves
//! the linked pairs by under 1%, on corn/grain's 2,158 by 3-4%, precision unchanged
//! (BENCHMARKS.md, "Story and event clustering").
//!
//! Without the `general-frequencies` feature there is no prior.

use std::sync::OnceLock;

use super::{StoryAnalysis, TermAnalyzer};
use crate::minhash::PrehashedMap;
use crate::normalize::normalize;

/// General articles the prior counts as (see the module docs).
pub(crate) const PRIOR_ARTICLES: f64 = 300.0;
/// Words in one of those articles.
pub(crate) const ARTICLE_WORDS: f64 = 400.0;

/// The prior's document frequency of each term of one analysis: (term hash, articles of
/// [`PRIOR_ARTICLES`] holding it). Terms it lacks have none.
#[derive(Debug, Default)]
pub(crate) struct GeneralFrequencies {
    df: PrehashedMap<u64, f32>,
    articles: f64,
}

impl GeneralFrequencies {
    /// The prior for terms of `analysis`, built at first use (about 85,000 words
    /// analysed) and kept for the process.
    pub(crate) fn of(analysis: StoryAnalysis) -> &'static GeneralFrequencies {
        static STEMS: OnceLock<GeneralFrequencies> = OnceLock::new();
        static WORDS: OnceLock<GeneralFrequencies> = OnceLock::new();
        let cell = match analysis {
            StoryAnalysis::Stems => &STEMS,
            StoryAnalysis::Words => &WORDS,
        };
        cell.get_or_init(|| GeneralFrequencies::build(analysis, &table()))
    }

    /// Articles the prior counts as: [`PRIOR_ARTICLES`], or none without a table.
    pub(crate) fn articles(&self) -> f64 {
        self.articles
    }

    /// The prior's document frequency of a term.
    pub(crate) fn df(&self, term: u64) -> f32 {
        self.df.get(&term).copied().unwrap_or(0.0)
    }

    /// The prior from a table as `storyhash-wordfreq` writes it (its crate docs); an
    /// empty table gives no prior. Words with digits are skipped: wordfreq writes every
    /// digit as 0, so "2019" and "1987" are one word "0000" there, and a year in an
    /// article would never be that term. A line that does not parse is skipped (the
    /// table is built in, and tests read all of it).
    fn build(analysis: StoryAnalysis, table: &str) -> GeneralFrequencies {
        let analyzer = TermAnalyzer::new(analysis);
        let mut share: PrehashedMap<u64, f64> = PrehashedMap::default();
        for line in table.lines() {
            let Some((bucket, words)) = line.split_once('\t') else {
                continue;
            };
            let Ok(bucket) = bucket.parse::<u16>() else {
                continue;
            };
            let frequency = 10f64.powf(-f64::from(bucket) / 100.0);
            for word in words.split(' ') {
                if word.bytes().any(|b| b.is_ascii_digit()) {
                    continue;
                }
                // The words a term stands for (a stem's inflections, an Arabic word's
                // forms) add their shares.
                analyzer.for_each_term(&normalize(word), |term, _| {
                    *share.entry(term).or_insert(0.0) += frequency;
                });
            }
        }
        if share.is_empty() {
            return GeneralFrequencies::default();
        }
        let df = share
            .into_iter()
            .map(|(term, f)| {
                (
                    term,
                    (PRIOR_ARTICLES * -(-ARTICLE_WORDS * f).exp_m1()) as f32,
                )
            })
            .collect();
        GeneralFrequencies {
            df,
            articles: PRIOR_ARTICLES,
        }
    }
}

/// The built-in table, decompressed (once per analysis built); empty without the
/// feature, or if the table compiled in did not decompress, which its test rules out.
#[cfg(feature = "general-frequencies")]
fn table() -> String {
    use std::io::Read;
    let mut text = String::new();
    match flate2::read::GzDecoder::new(storyhash_wordfreq::TABLE_GZ).read_to_string(&mut text) {
        Ok(_) => text,
        Err(_) => String::new(),
    }
}

#[cfg(not(feature = "general-frequencies"))]
fn table() -> String {
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::token_hash;

    fn term(analysis: StoryAnalysis, word: &str) -> u64 {
        let mut found = None;
        TermAnalyzer::new(analysis).for_each_term(&normalize(word), |t, _| found = Some(t));
        found.unwrap_or_else(|| token_hash(word))
    }

    #[test]
    fn a_table_gives_inflections_their_summed_share_and_skips_digits() {
        // 10^-3 and 10^-4: "appointed" and "appointment" are one stem.
        let prior = GeneralFrequencies::build(
            StoryAnalysis::Stems,
            "300\tappointed 0000\n400\tappointment\nnot a line\n",
        );
        let expected = PRIOR_ARTICLES * (1.0 - (-ARTICLE_WORDS * 1.1e-3).exp());
        let got = f64::from(prior.df(term(StoryAnalysis::Stems, "appoints")));
        assert!(
            (got - expected).abs() < 1e-3 * expected,
            "{got} vs {expected}"
        );
        assert_eq!(
            prior.df.len(),
            1,
            "the digits' word and the bad line add nothing"
        );
        // Without stems the two words are two terms.
        let words =
            GeneralFrequencies::build(StoryAnalysis::Words, "300\tappointed\n400\tappointment\n");
        assert_eq!(words.df.len(), 2);
        assert_eq!(
            GeneralFrequencies::build(StoryAnalysis::Stems, "").articles(),
            0.0
        );
    }

    #[cfg(feature = "general-frequencies")]
    #[test]
    fn the_built_in_table_ranks_common_words_above_names_in_both_languages() {
        for analysis in [StoryAnalysis::Stems, StoryAnalysis::Words] {
            let prior = GeneralFrequencies::of(analysis);
            assert_eq!(prior.articles(), PRIOR_ARTICLES);
            let df = |w: &str| prior.df(term(analysis, w));
            assert!(df("went") > 10.0 * df("zimbabwe"), "{analysis}");
            assert!(df("government") > df("mugabe"), "{analysis}");
            assert!(df("الحكومة") > 10.0 * df("بوتين"), "{analysis}");
            assert!(df("went") < PRIOR_ARTICLES as f32);
            // Stopwords are no terms, so the table holds none of them.
            assert_eq!(prior.df(token_hash("the")), 0.0);
        }
    }
}
