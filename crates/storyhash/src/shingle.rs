//! Stage 3: shingling. Turns a token sequence into the set of its n-grams, each hashed to
//! 64 bits with xxh3, sorted and deduplicated: the document's feature set, on which
//! Jaccard similarity is defined.
//!
//! - `Word(n)`: n consecutive tokens. A token is hashed once; a shingle hash is xxh3 of
//!   its n token hashes, so no shingle string is ever built.
//! - `Char(n)`: n consecutive characters of the tokens joined by single spaces (so
//!   punctuation and spacing differences do not matter).
//!
//! A document with fewer than n units (but at least one) yields a single shingle covering
//! all of it, so short texts still match their exact copies; a document with no token
//! yields no shingle and is never a candidate (see `pipeline`).

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::minhash::fmix64;

/// Seeds separating the hash spaces of tokens and character windows (arbitrary constants).
const TOKEN_SEED: u64 = 0x5354_4f52_5948_4153; // "STORYHAS"
const CHAR_SEED: u64 = 0x4348_4152_5348_494e; // "CHARSHIN"

/// Longest n-gram accepted; longer ones would only find exact copies, which n = 16 does.
pub const MAX_SHINGLE_SIZE: usize = 16;

/// How documents are cut into shingles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ShingleSpec {
    /// Word n-grams.
    Word(usize),
    /// Character n-grams over the space-joined tokens.
    Char(usize),
}

impl ShingleSpec {
    /// The n of the n-gram.
    pub fn size(self) -> usize {
        match self {
            ShingleSpec::Word(n) | ShingleSpec::Char(n) => n,
        }
    }
}

impl fmt::Display for ShingleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShingleSpec::Word(n) => write!(f, "word:{n}"),
            ShingleSpec::Char(n) => write!(f, "char:{n}"),
        }
    }
}

impl From<ShingleSpec> for String {
    fn from(spec: ShingleSpec) -> String {
        spec.to_string()
    }
}

impl TryFrom<String> for ShingleSpec {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl FromStr for ShingleSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, n) = s
            .split_once(':')
            .ok_or_else(|| format!("expected word:N or char:N, got {s:?}"))?;
        let n: usize = n
            .parse()
            .map_err(|_| format!("shingle size {n:?} is not a whole number"))?;
        if n == 0 || n > MAX_SHINGLE_SIZE {
            return Err(format!(
                "shingle size must be 1 to {MAX_SHINGLE_SIZE}, got {n}"
            ));
        }
        match kind {
            "word" => Ok(ShingleSpec::Word(n)),
            "char" => Ok(ShingleSpec::Char(n)),
            _ => Err(format!("shingle kind must be word or char, got {kind:?}")),
        }
    }
}

/// Where a shingle lies: a range of token indices (`Word`) or of bytes in the
/// space-joined token text (`Char`). Used to show a shingle to a person.
pub type ShingleSpan = Range<usize>;

/// Calls `emit(hash, span)` for every shingle of `tokens`, in order, repeats included.
pub fn for_each_shingle(
    tokens: &[&str],
    spec: ShingleSpec,
    mut emit: impl FnMut(u64, ShingleSpan),
) {
    match spec {
        ShingleSpec::Word(n) => word_shingles(tokens, n, &mut emit),
        ShingleSpec::Char(n) => {
            let joined = tokens.join(" ");
            char_shingles(&joined, n, &mut emit);
        }
    }
}

/// The sorted, deduplicated shingle hashes of `tokens`.
pub fn shingle_set(tokens: &[&str], spec: ShingleSpec) -> Vec<u64> {
    let mut hashes = Vec::with_capacity(tokens.len());
    for_each_shingle(tokens, spec, |h, _| hashes.push(h));
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// The text of a shingle, for reports.
pub fn shingle_text(tokens: &[&str], spec: ShingleSpec, span: ShingleSpan) -> String {
    match spec {
        ShingleSpec::Word(_) => tokens[span].join(" "),
        ShingleSpec::Char(_) => tokens.join(" ")[span].to_string(),
    }
}

fn word_shingles(tokens: &[&str], n: usize, emit: &mut impl FnMut(u64, ShingleSpan)) {
    let token_hashes: Vec<u64> = tokens.iter().map(|t| token_hash(t)).collect();
    word_shingle_hashes(&token_hashes, n, emit);
}

/// The hash of one token (xxh3, seeded apart from other hash spaces).
#[inline]
pub fn token_hash(token: &str) -> u64 {
    xxh3_64_with_seed(token.as_bytes(), TOKEN_SEED)
}

/// Word n-gram hashes from the token hashes of a document: each window of n token
/// hashes is folded in order (so "a b" and "b a" differ) and finished with a full
/// avalanche mixer. Shorter documents yield one shingle over all their tokens.
pub fn word_shingle_hashes(
    token_hashes: &[u64],
    n: usize,
    emit: &mut impl FnMut(u64, ShingleSpan),
) {
    if token_hashes.is_empty() {
        return;
    }
    if n == 1 {
        for (i, &h) in token_hashes.iter().enumerate() {
            emit(h, i..i + 1);
        }
        return;
    }
    let width = n.min(token_hashes.len());
    for (start, window) in token_hashes.windows(width).enumerate() {
        let mut h = width as u64;
        for &t in window {
            h = (h ^ t).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(31);
        }
        emit(fmix64(h), start..start + width);
    }
}

fn char_shingles(text: &str, n: usize, emit: &mut impl FnMut(u64, ShingleSpan)) {
    if text.is_empty() {
        return;
    }
    let boundaries: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let n_chars = boundaries.len() - 1;
    let width = n.min(n_chars);
    for start in 0..=(n_chars - width) {
        let span = boundaries[start]..boundaries[start + width];
        emit(
            xxh3_64_with_seed(&text.as_bytes()[span.clone()], CHAR_SEED),
            span,
        );
    }
}

/// Exact Jaccard similarity |A ∩ B| / |A ∪ B| of two sorted, deduplicated sets
/// (0 when both are empty).
pub fn jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
    let shared = intersection_size(a, b);
    let union = a.len() + b.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

/// |A ∩ B| of two sorted, deduplicated sets, by merging.
pub fn intersection_size<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

    #[test]
    fn word_ngrams_count_and_order_sensitivity() {
        assert_eq!(shingle_set(&WORDS, ShingleSpec::Word(3)).len(), 4);
        let ab = shingle_set(&["a", "b"], ShingleSpec::Word(2));
        let ba = shingle_set(&["b", "a"], ShingleSpec::Word(2));
        assert_ne!(ab, ba);
    }

    #[test]
    fn shingles_do_not_run_tokens_together() {
        // "ab c" and "a bc" must differ although their concatenations agree.
        let x = shingle_set(&["ab", "c"], ShingleSpec::Word(2));
        let y = shingle_set(&["a", "bc"], ShingleSpec::Word(2));
        assert_ne!(x, y);
    }

    #[test]
    fn short_documents_get_one_whole_shingle() {
        let set = shingle_set(&["a", "b"], ShingleSpec::Word(5));
        assert_eq!(set.len(), 1);
        assert_ne!(set, shingle_set(&["a", "c"], ShingleSpec::Word(5)));
        assert!(shingle_set(&[], ShingleSpec::Word(5)).is_empty());
        assert_eq!(shingle_set(&["ab"], ShingleSpec::Char(5)).len(), 1);
    }

    #[test]
    fn char_ngrams_span_token_boundaries_with_one_space() {
        let tokens = ["ab", "cd"];
        let mut texts = Vec::new();
        for_each_shingle(&tokens, ShingleSpec::Char(3), |_, span| {
            texts.push(shingle_text(&tokens, ShingleSpec::Char(3), span));
        });
        assert_eq!(texts, ["ab ", "b c", " cd"]);
    }

    #[test]
    fn char_ngrams_count_characters_not_bytes() {
        let set = shingle_set(&["موسكو"], ShingleSpec::Char(2));
        assert_eq!(set.len(), 4);
    }

    #[test]
    fn word_shingle_text_is_the_tokens() {
        let mut texts = Vec::new();
        for_each_shingle(&WORDS, ShingleSpec::Word(5), |_, span| {
            texts.push(shingle_text(&WORDS, ShingleSpec::Word(5), span));
        });
        assert_eq!(texts, ["a b c d e", "b c d e f"]);
    }

    #[test]
    fn jaccard_by_hand() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard::<u64>(&[], &[]), 0.0);
        assert_eq!(jaccard(&[1], &[1]), 1.0);
    }

    #[test]
    fn spec_parsing() {
        assert_eq!("word:5".parse(), Ok(ShingleSpec::Word(5)));
        assert_eq!("char:4".parse(), Ok(ShingleSpec::Char(4)));
        assert!("word:0".parse::<ShingleSpec>().is_err());
        assert!("word:17".parse::<ShingleSpec>().is_err());
        assert!("byte:3".parse::<ShingleSpec>().is_err());
        assert!("word".parse::<ShingleSpec>().is_err());
    }
}
