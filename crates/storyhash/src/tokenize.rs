//! Stage 2: word tokenization of normalized text by Unicode word boundaries (UAX #29,
//! via `unicode-segmentation`), so Arabic, Latin, Cyrillic and other spaced scripts split
//! alike, and punctuation never becomes a token. Scripts written without spaces (Han,
//! kana, Thai, Lao, Khmer, Myanmar) have no word boundaries UAX #29 can find without a
//! dictionary, so each of their characters is a token: word n-grams then become
//! character n-grams there, which is what near-duplicate detection uses for those scripts.
//!
//! Optional token filters: stopword removal (before stemming, as Lucene's ArabicAnalyzer
//! orders them) and Arabic light stemming. Tokens are sub-slices of the input.

use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

use crate::stem::stem_arabic;
use crate::stopwords::{Language, StopwordSet};

/// Which token filters to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenOptions {
    /// Languages whose stopwords are removed (empty: none).
    pub stopwords: Vec<Language>,
    /// Apply Lucene's Arabic light stemmer to Arabic tokens.
    pub stem_arabic: bool,
}

/// A tokenizer built from [`TokenOptions`]; cheap to share across threads.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    stopwords: StopwordSet,
    stem_arabic: bool,
}

impl Tokenizer {
    /// Builds a tokenizer (normalizing the stopword lists once).
    pub fn new(options: &TokenOptions) -> Self {
        Tokenizer {
            stopwords: StopwordSet::new(&options.stopwords),
            stem_arabic: options.stem_arabic,
        }
    }

    /// Calls `emit` with each token of already-normalized text, in order.
    pub fn for_each_token<'a>(&self, normalized: &'a str, mut emit: impl FnMut(&'a str)) {
        self.for_each_term(normalized, |_, token| emit(token));
    }

    /// Like [`Tokenizer::for_each_token`], but also passes the word as it stood before
    /// stemming (`emit(word, token)`), so reports can show "بوتين" where the token is "بوت".
    pub fn for_each_term<'a>(&self, normalized: &'a str, mut emit: impl FnMut(&'a str, &'a str)) {
        for word in normalized.unicode_words() {
            if word.chars().next().is_some_and(is_unspaced_script) {
                // Split the run into characters; mixed runs keep spaced parts whole.
                split_unspaced(word, &mut |t| emit(t, t));
                continue;
            }
            if !self.stopwords.is_empty() && self.stopwords.contains(word) {
                continue;
            }
            let token = if self.stem_arabic && is_arabic_word(word) {
                stem_arabic(word)
            } else {
                word
            };
            if !token.is_empty() {
                emit(word, token);
            }
        }
    }

    /// The tokens of normalized text as a vector.
    pub fn tokens<'a>(&self, normalized: &'a str) -> Vec<&'a str> {
        let mut tokens = Vec::new();
        self.for_each_token(normalized, |t| tokens.push(t));
        tokens
    }
}

/// Emits each character of an unspaced-script run as its own token, keeping any
/// spaced-script stretch inside the run (e.g. a Latin brand name in Japanese) whole.
fn split_unspaced<'a>(word: &'a str, emit: &mut impl FnMut(&'a str)) {
    let mut spaced_start = None;
    for (i, c) in word.char_indices() {
        if is_unspaced_script(c) {
            if let Some(start) = spaced_start.take() {
                emit(&word[start..i]);
            }
            emit(&word[i..i + c.len_utf8()]);
        } else if spaced_start.is_none() {
            spaced_start = Some(i);
        }
    }
    if let Some(start) = spaced_start {
        emit(&word[start..]);
    }
}

/// Scripts written without spaces between words.
fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'     // Thai, Lao
        | '\u{1000}'..='\u{109F}'   // Myanmar
        | '\u{1780}'..='\u{17FF}'   // Khmer
        | '\u{2E80}'..='\u{2FDF}'   // CJK radicals
        | '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}'   // CJK compatibility ideographs
        | '\u{20000}'..='\u{3FFFF}' // CJK extensions B and later
    )
}

fn is_arabic_word(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn plain() -> Tokenizer {
        Tokenizer::new(&TokenOptions::default())
    }

    #[test]
    fn punctuation_is_not_a_token() {
        let text = normalize("Hello, world! It's 3.5% — \"quoted\".");
        assert_eq!(
            plain().tokens(&text),
            ["hello", "world", "it's", "3.5", "quoted"]
        );
    }

    #[test]
    fn arabic_splits_on_spaces_and_punctuation() {
        let text = normalize("وصل الشيباني، وأبو قصرة إلى موسكو.");
        assert_eq!(
            plain().tokens(&text),
            ["وصل", "الشيباني", "وابو", "قصره", "الي", "موسكو"]
        );
    }

    #[test]
    fn unspaced_scripts_become_characters() {
        assert_eq!(plain().tokens("東京都 ok"), ["東", "京", "都", "ok"]);
        assert_eq!(plain().tokens("สวัสดี"), ["ส", "ว", "ั", "ส", "ด", "ี"]);
    }

    #[test]
    fn stopwords_then_stemming() {
        let tokenizer = Tokenizer::new(&TokenOptions {
            stopwords: vec![Language::Arabic, Language::English],
            stem_arabic: true,
        });
        let text = normalize("The minister said في والحسن الوزراء");
        assert_eq!(tokenizer.tokens(&text), ["minister", "حسن", "وزراء"]);
    }

    #[test]
    fn stemming_leaves_latin_alone() {
        let tokenizer = Tokenizer::new(&TokenOptions {
            stopwords: vec![],
            stem_arabic: true,
        });
        assert_eq!(tokenizer.tokens("alhasan"), ["alhasan"]);
    }
}
