//! The story layer's terms: which words of a normalized text count, and the hash each
//! is counted under. A story-tracking index stores these hashes, so an index keeps the
//! [`StoryAnalysis`] it was created with, and a change of analysis is a new variant.

use std::cell::RefCell;

use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

use crate::shingle::token_hash;
use crate::stopwords::Language;
use crate::tokenize::{TokenOptions, Tokenizer};

/// How words become story terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoryAnalysis {
    /// Words without the stopwords of every language, Arabic words light-stemmed: what
    /// story-tracking indexes written before `Stems` existed hold.
    Words,
    /// `Words`, and English words reduced to their Snowball (Porter2) stems, so that
    /// "appointed", "appointment" and "appoints" are one term. Rewrites of one event
    /// inflect its words differently: on the Lee corpus (50 short news articles whose
    /// pairs people rated), `stories` joins 6 of the 9 pairs rated the same story with
    /// stems and 4 without, every pair it links rated related either way
    /// (BENCHMARKS.md, "Story and event clustering").
    #[default]
    Stems,
}

impl std::fmt::Display for StoryAnalysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoryAnalysis::Words => "words",
            StoryAnalysis::Stems => "stems",
        })
    }
}

impl std::str::FromStr for StoryAnalysis {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "words" => Ok(StoryAnalysis::Words),
            "stems" => Ok(StoryAnalysis::Stems),
            _ => Err(format!("analysis must be stems or words, got {s:?}")),
        }
    }
}

/// Turns normalized text into story terms by a [`StoryAnalysis`]; cheap to share
/// across threads.
pub(crate) struct TermAnalyzer {
    analysis: StoryAnalysis,
    tokenizer: Tokenizer,
    english: Option<Stemmer>,
}

impl std::fmt::Debug for TermAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TermAnalyzer")
            .field("analysis", &self.analysis)
            .finish_non_exhaustive()
    }
}

impl TermAnalyzer {
    pub(crate) fn new(analysis: StoryAnalysis) -> TermAnalyzer {
        TermAnalyzer {
            analysis,
            tokenizer: Tokenizer::new(&TokenOptions {
                stopwords: Language::ALL.to_vec(),
                stem_arabic: true,
            }),
            english: (analysis == StoryAnalysis::Stems)
                .then(|| Stemmer::create(Algorithm::English)),
        }
    }

    /// Calls `emit(term, word)` for each term of normalized text, in order: `word` as
    /// it stood before stemming (what reports show), `term` the hash it counts under.
    /// Stopwords, single Latin letters and single digits are no terms: they identify
    /// nothing.
    pub(crate) fn for_each_term<'a>(
        &self,
        normalized: &'a str,
        mut emit: impl FnMut(u64, &'a str),
    ) {
        self.tokenizer.for_each_term(normalized, |word, token| {
            if token.len() < 2 && token.is_ascii() {
                return;
            }
            let term = match &self.english {
                Some(english) if is_english_word(token) => stem_hash(english, token),
                _ => token_hash(token),
            };
            emit(term, word);
        });
    }
}

/// Slots of a thread's stem cache: 1 MiB, small enough to stay in the processor's
/// cache. A news corpus's frequent words (the few thousand that make up most of its
/// text) stay remembered; a rare word may evict another and is stemmed again when it
/// returns.
const STEM_SLOTS: usize = 1 << 16;

thread_local! {
    /// (word hash, its stem's hash) by the word hash's low bits, per thread; a zero
    /// word hash marks an empty slot (and a word hashing to zero is simply never
    /// remembered). Stemming a word costs about 300 ns (the Snowball program allocates
    /// and tries its suffix rules), several times the rest of its analysis, and a
    /// corpus repeats its words.
    static STEMS: RefCell<Box<[(u64, u64)]>> =
        RefCell::new(vec![(0, 0); STEM_SLOTS].into_boxed_slice());
}

/// The hash of `word`'s English stem, remembered by the word's hash.
fn stem_hash(english: &Stemmer, word: &str) -> u64 {
    let key = token_hash(word);
    STEMS.with(|stems| {
        let mut stems = stems.borrow_mut();
        let slot = &mut stems[key as usize & (STEM_SLOTS - 1)];
        if slot.0 == key && key != 0 {
            return slot.1;
        }
        let stem = token_hash(&english.stem(word));
        *slot = (key, stem);
        stem
    })
}

/// Whether the English stemmer applies to a token: lowercase ASCII letters, with the
/// apostrophe of a possessive or contraction. Words of other Latin-script languages that
/// pass get English suffix rules, the same for every document, so they still match.
fn is_english_word(token: &str) -> bool {
    token.len() > 2 && token.bytes().all(|b| b.is_ascii_lowercase() || b == b'\'')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn terms(analysis: StoryAnalysis, text: &str) -> Vec<(u64, String)> {
        let analyzer = TermAnalyzer::new(analysis);
        let normalized = normalize(text);
        let mut out = Vec::new();
        analyzer.for_each_term(&normalized, |t, w| out.push((t, w.to_string())));
        out
    }

    #[test]
    fn stems_join_inflections_and_keep_the_written_word() {
        let got = terms(StoryAnalysis::Stems, "Appointed appointment appoints");
        assert_eq!(got[0].0, got[1].0, "{got:?}");
        assert_eq!(got[0].0, got[2].0, "{got:?}");
        assert_eq!(got[0].0, token_hash("appoint"));
        let words: Vec<&str> = got.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(words, ["appointed", "appointment", "appoints"]);
        // Without stems every form is its own term.
        let plain = terms(StoryAnalysis::Words, "Appointed appointment appoints");
        assert_eq!(plain[0].0, token_hash("appointed"));
        assert_ne!(plain[0].0, plain[1].0);
    }

    /// The Snowball stems a stored index's term hashes were made of: a new version of the
    /// stemmer that changed any of these would be a new analysis.
    #[test]
    fn english_stems_are_pinned() {
        for (word, stem) in [
            ("running", "run"),
            ("generously", "generous"),
            ("party's", "parti"),
            ("demonstrations", "demonstr"),
            ("arrested", "arrest"),
            ("bushfires", "bushfir"),
            ("news", "news"),
        ] {
            let got = terms(StoryAnalysis::Stems, word);
            assert_eq!(got, [(token_hash(stem), word.to_string())], "{word}");
        }
    }

    #[test]
    fn stems_leave_stopwords_short_tokens_numbers_and_arabic_as_words_had_them() {
        let text = "the 5 x 1987 bushfires الرئيس";
        let stems = terms(StoryAnalysis::Stems, text);
        let words = terms(StoryAnalysis::Words, text);
        // "the", "5" and "x" are no terms; the number and the Arabic word hash alike.
        assert_eq!(stems.len(), 3, "{stems:?}");
        assert_eq!(stems[0], words[0]);
        assert_eq!(stems[2], words[2]);
        assert_eq!(stems[1].0, token_hash("bushfir"));
        assert_eq!(words[1].0, token_hash("bushfires"));
    }
}
