//! Stage 3: shingling. Turns a token sequence into the set of its n-grams, each hashed to
//! 64 bits, sorted and deduplicated: the document's feature set, on which
//! Jaccard similarity is defined.
//!
//! - `Word(n)`: n consecutive tokens. A token is hashed once ([`token_hash`]); a shingle
//!   hash is a cyclic polynomial of its n token hashes (rotations and xors), rolled from
//!   one window to the next, so no shingle string is ever built.
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

#[cfg(test)]
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

/// The hash of one token. Tokens of up to 16 bytes (nearly every word of a spaced
/// script) are hashed without branching on their length: the bytes, zero-padded to two
/// 64-bit words, are multiplied together as in xxh3's 9–16 byte path and the 128-bit
/// product folded (both halves xored: every input bit reaches the low 32 bits, which the
/// exact sets keep). No further mixing: the shingle polynomial only xors rotations of
/// token hashes, and one-permutation hashing mixes each shingle hash fully before it
/// picks a bin (dropping a final multiply-xorshift here and `fmix64` from each shingle
/// hash cut the corpus benchmark's time by 5%). xxh3 itself, whose branches on the
/// length class are unpredictable in running text, hashes longer tokens.
#[inline]
pub fn token_hash(token: &str) -> u64 {
    let bytes = token.as_bytes();
    if bytes.len() > SHORT_TOKEN {
        return long_token_hash(bytes);
    }
    // Overlapping fixed-size loads, as xxh3 reads short inputs: no copy into a padded
    // buffer (a call to memcpy) and no loop over the bytes.
    let len = bytes.len();
    let (lo, hi) = if len >= 8 {
        let hi = if len > 8 {
            load_u64(&bytes[len - 8..]) >> (8 * (SHORT_TOKEN - len))
        } else {
            0
        };
        (load_u64(bytes), hi)
    } else if len >= 4 {
        let first = u64::from(load_u32(bytes));
        let last = u64::from(load_u32(&bytes[len - 4..]));
        (first | last << (8 * (len - 4)), 0)
    } else {
        let lo = bytes.iter().rev().fold(0, |w, &b| (w << 8) | u64::from(b));
        (lo, 0)
    };
    short_token_hash(lo, hi, len)
}

/// The hash of a token longer than [`SHORT_TOKEN`] bytes. Out of line: inlined, xxh3's
/// code for long inputs made the per-token closure of the analyzer too large to be
/// inlined into the segmenter's loop, which then paid a call per token.
#[inline(never)]
fn long_token_hash(bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, TOKEN_SEED)
}

/// The first 8 bytes of `bytes` (at least 8), little-endian.
#[inline(always)]
fn load_u64(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(word)
}

/// The first 4 bytes of `bytes` (at least 4), little-endian.
#[inline(always)]
fn load_u32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(word)
}

/// Longest token hashed by the short path of [`token_hash`].
const SHORT_TOKEN: usize = 16;

/// Bytes a buffer needs after its last token for [`token_hash_at`] (their values do not
/// matter).
pub(crate) const TOKEN_PADDING: usize = SHORT_TOKEN;

/// For each token length up to [`SHORT_TOKEN`], the masks that keep its bytes of the
/// two words [`token_hash_at`] loads: a table lookup where computing them took a 128-bit
/// shift per word.
const TOKEN_MASKS: [(u64, u64); SHORT_TOKEN + 1] = {
    let mut masks = [(0u64, 0u64); SHORT_TOKEN + 1];
    let mut len = 0;
    while len <= SHORT_TOKEN {
        let (lo_bytes, hi_bytes) = if len < 8 { (len, 0) } else { (8, len - 8) };
        masks[len] = (
            ((1u128 << (8 * lo_bytes)) - 1) as u64,
            ((1u128 << (8 * hi_bytes)) - 1) as u64,
        );
        len += 1;
    }
    masks
};

/// [`token_hash`] of the `len` bytes at `start` of `buffer`, which must hold at least
/// [`TOKEN_PADDING`] bytes after `start` (any values: they are masked off). Reading
/// whole words where the token lies avoids copying it.
#[inline(always)]
pub(crate) fn token_hash_at(buffer: &[u8], start: usize, len: usize) -> u64 {
    if len > SHORT_TOKEN {
        return long_token_hash(&buffer[start..start + len]);
    }
    let lo = load_u64(&buffer[start..]) & TOKEN_MASKS[len].0;
    let hi = load_u64(&buffer[start + 8..]) & TOKEN_MASKS[len].1;
    short_token_hash(lo, hi, len)
}

/// The hash of a token of `len` ≤ 16 bytes held little-endian in `lo` and `hi`, zero
/// above its end.
#[inline(always)]
fn short_token_hash(lo: u64, hi: u64, len: usize) -> u64 {
    // Byte 7 of both secrets is 0xFF, which UTF-8 never contains, so neither factor can
    // be zero (a zero factor would map many tokens to one product).
    const SECRET_LO: u64 = 0xFFA3_B195_9A26_AD7B;
    const SECRET_HI: u64 = 0xFF8C_6D3E_7A9B_4C5D;
    let product = u128::from(lo ^ SECRET_LO) * u128::from(hi ^ SECRET_HI);
    let folded = (product as u64) ^ ((product >> 64) as u64);
    folded ^ (len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Word n-gram hashes from the token hashes of a document. A window t_i … t_{i+w-1} is
/// the cyclic polynomial ⊕_j rotl(t_{i+j}, w-1-j) (each token rotated by its distance
/// from the window's end, so order counts), xored with a salt for the width, and
/// updated for the next window by rotating it one bit and xoring out the leaving token
/// (rotated w bits) and in the entering one. Shorter documents yield one shingle over
/// all their tokens. Rotations and xors only: the multiplicative polynomial it replaces
/// spent two multiplications per window, which the pipeline's multiplier could not spare.
/// Widths stay below 64 ([`MAX_SHINGLE_SIZE`]), so no two positions share a rotation.
///
/// The hash is not mixed further: its consumers either mix it (one-permutation hashing
/// applies `fmix64` with its seed, classic MinHash a universal hash per permutation) or
/// only compare it for equality (exact sets keep its low 32 bits, to which every token
/// hash brings 32 of its bits: windows differing in one token collide only if those
/// tokens' hashes agree in the 32 bits that land there, as random values would one time
/// in 2^32).
pub fn word_shingle_hashes(
    token_hashes: &[u64],
    n: usize,
    emit: &mut impl FnMut(u64, ShingleSpan),
) {
    // n = 0 never comes from a parsed spec; taken as 1 rather than as empty windows.
    if n <= 1 {
        for (i, &h) in token_hashes.iter().enumerate() {
            emit(h, i..i + 1);
        }
        return;
    }
    let Some((mut roller, first)) = WindowRoller::start(token_hashes, n) else {
        return;
    };
    let width = roller.width;
    emit(first, 0..width);
    for start in 1..=token_hashes.len() - width {
        let h = roller.step(token_hashes[start - 1], token_hashes[start + width - 1]);
        emit(h, start..start + width);
    }
}

/// [`word_shingle_hashes`] written over the token hashes they come from: `hashes` ends
/// holding the shingle hashes in order. Each window's hash is stored one step late,
/// once the token it overwrites has left the window, so no second buffer is needed
/// (a 64 MiB document has some ten million shingles).
pub fn word_shingle_hashes_in_place(hashes: &mut Vec<u64>, n: usize) {
    if n <= 1 {
        return;
    }
    let Some((mut roller, first)) = WindowRoller::start(hashes, n) else {
        return;
    };
    let windows = hashes.len() - roller.width + 1;
    let mut pending = first;
    for start in 1..windows {
        let h = roller.step(hashes[start - 1], hashes[start + roller.width - 1]);
        hashes[start - 1] = pending;
        pending = h;
    }
    hashes[windows - 1] = pending;
    hashes.truncate(windows);
}

/// The rolling cyclic polynomial of [`word_shingle_hashes`] over windows of `width`
/// tokens.
struct WindowRoller {
    width: usize,
    window: u64,
    salt: u64,
}

impl WindowRoller {
    /// The roller at the first window of `token_hashes` (`n` tokens, or all of them if
    /// fewer), and that window's hash; `None` without tokens.
    fn start(token_hashes: &[u64], n: usize) -> Option<(WindowRoller, u64)> {
        if token_hashes.is_empty() {
            return None;
        }
        let width = n.min(token_hashes.len());
        let window = token_hashes[..width]
            .iter()
            .fold(0u64, |w, &t| w.rotate_left(1) ^ t);
        let roller = WindowRoller {
            width,
            window,
            salt: (width as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F),
        };
        let first = roller.hash();
        Some((roller, first))
    }

    /// Slides the window one token on: `leaving` drops out, `entering` comes in.
    #[inline(always)]
    fn step(&mut self, leaving: u64, entering: u64) -> u64 {
        // `leaving` has been rotated width − 1 times in the window; the rotation here is
        // its width-th.
        let swap = leaving.rotate_left(self.width as u32) ^ entering;
        self.window = self.window.rotate_left(1) ^ swap;
        self.hash()
    }

    #[inline(always)]
    fn hash(&self) -> u64 {
        self.window ^ self.salt
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

/// Sets of at least this many hashes are radix-sorted by [`into_hash_set`]; below it a
/// comparison sort is faster (the radix sort's fixed cost is its 256-entry prefix
/// sums). Measured on this project's machines: 128 random hashes 0.72 µs by comparison,
/// 0.64 µs by a four-pass radix sort; 460 (a news article's word 5-grams) 3.2 against
/// 1.6 µs.
const RADIX_SORT_MIN: usize = 128;

/// What an exact shingle set holds of a shingle hash: its low 32 bits, to which every
/// token hash contributes (see [`word_shingle_hashes`]). Half the memory of the full
/// hash for sets held between passes and stored in index files; two different shingles
/// of one pair of documents agree in them one time in 2^32.
#[inline(always)]
pub fn set_element(hash: u64) -> u32 {
    hash as u32
}

/// Turns 32-bit shingle hashes (any order, repeats included) into the sorted,
/// deduplicated set that [`jaccard`] compares. `scratch` is a buffer the caller
/// reuses between calls.
///
/// Large inputs take a radix sort on their top bytes only, then an insertion pass
/// that orders the values sharing those bytes (`radix_sort`): O(n) for hashes, and
/// never worse than O(n log n) for values chosen to share their top bytes.
pub fn into_hash_set(hashes: &mut Vec<u32>, scratch: &mut Vec<u32>) {
    if hashes.len() < RADIX_SORT_MIN {
        hashes.sort_unstable();
    } else {
        radix_sort(hashes, scratch);
    }
    hashes.dedup();
}

/// Sorts `values`: a stable counting sort per byte, lowest first, on only as many top
/// bytes as make at least 64 buckets per value, then insertion sort. Hashes are
/// uniform, so values sharing those bytes are about one pair in 128, and the insertion
/// pass mostly compares neighbours and moves nothing: for a news article's 460 hashes
/// two byte passes instead of four, 1.25 against 1.8 µs. Should the values crowd into
/// few buckets (not hashes, or chosen to collide), the insertion pass stops after 4n
/// moves and a comparison sort finishes (the return value says whether it did).
fn radix_sort(values: &mut Vec<u32>, scratch: &mut Vec<u32>) -> bool {
    let n = values.len();
    let mut sorted_bytes = 1;
    while sorted_bytes < 4 && (1u64 << (8 * sorted_bytes)) < 64 * n as u64 {
        sorted_bytes += 1;
    }
    // The byte count as a constant, so that each pass's loops are unrolled with fixed
    // shifts (a loop over a run-time count kept the counting pass generic).
    match sorted_bytes {
        1 => sort_top_bytes::<1>(values, scratch),
        2 => sort_top_bytes::<2>(values, scratch),
        3 => sort_top_bytes::<3>(values, scratch),
        _ => sort_top_bytes::<4>(values, scratch),
    }
    finish_by_insertion(values)
}

/// Stable counting sorts of `values` on their top `BYTES` bytes, lowest of them first.
fn sort_top_bytes<const BYTES: usize>(values: &mut Vec<u32>, scratch: &mut Vec<u32>) {
    let lowest = 4 - BYTES;
    let mut counts = [[0u32; 256]; BYTES];
    for &v in values.iter() {
        for (i, count) in counts.iter_mut().enumerate() {
            count[((v >> (8 * (lowest + i))) & 0xff) as usize] += 1;
        }
    }
    scratch.clear();
    scratch.resize(values.len(), 0);
    for (i, count) in counts.iter_mut().enumerate() {
        let shift = 8 * (lowest + i);
        let mut next = 0;
        for slot in count.iter_mut() {
            let c = *slot;
            *slot = next;
            next += c;
        }
        for &v in values.iter() {
            let slot = &mut count[((v >> shift) & 0xff) as usize];
            scratch[*slot as usize] = v;
            *slot += 1;
        }
        std::mem::swap(values, scratch);
    }
}

/// Insertion sort of values already ordered by their top bytes, giving up to a
/// comparison sort after 4n moves; true if it did.
fn finish_by_insertion(values: &mut [u32]) -> bool {
    let n = values.len();
    let mut moves_left = 4 * n;
    for i in 1..n {
        let v = values[i];
        if values[i - 1] <= v {
            continue;
        }
        let mut j = i;
        while j > 0 && values[j - 1] > v {
            values[j] = values[j - 1];
            j -= 1;
        }
        values[j] = v;
        moves_left = moves_left.saturating_sub(i - j);
        if moves_left == 0 {
            values.sort_unstable();
            return true;
        }
    }
    false
}

/// Exact Jaccard similarity |A ∩ B| / |A ∪ B| of two sorted, deduplicated sets
/// (0 when both are empty).
pub fn jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
    jaccard_from_counts(intersection_size(a, b), a.len(), b.len())
}

/// |A ∩ B| of two sorted, deduplicated sets, by merging. The merge advances by
/// comparison results rather than by branching on them: which side moves is a coin
/// flip for hashed elements, so branches would mispredict about half the time.
pub fn intersection_size<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (&a[i], &b[j]);
        shared += usize::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    shared
}

/// [`jaccard`] of two sets of 32-bit shingle hashes (the exact sets of `dedup` and the
/// index), by [`intersection_size_u32`].
pub fn jaccard_u32(a: &[u32], b: &[u32]) -> f64 {
    jaccard_from_counts(intersection_size_u32(a, b), a.len(), b.len())
}

/// |A ∩ B| / |A ∪ B| from the intersection's size and the sets' (0 when both are empty).
pub fn jaccard_from_counts(shared: usize, a_len: usize, b_len: usize) -> f64 {
    let union = a_len + b_len - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

/// [`intersection_size`] of two sorted, deduplicated sets of `u32`, four elements of each
/// at a time: every element of a block of `a` is compared with every element of a block
/// of `b` at once (`wide` vectors: SSE2 on x86-64, NEON on AArch64), then the block
/// whose last element is smaller moves on (both when equal). The element-wise merge
/// waits at every step for the comparison that decides it; this one steps over four
/// elements a time. Each equal pair is counted once: it is in the two blocks compared
/// at exactly one step. The fewer than four elements left at an end are merged.
pub fn intersection_size_u32(a: &[u32], b: &[u32]) -> usize {
    use wide::u32x4;
    let block = |s: &[u32], at: usize| {
        let mut lanes = [0u32; 4];
        lanes.copy_from_slice(&s[at..at + 4]);
        lanes
    };
    let (mut i, mut j) = (0, 0);
    // Lanes count the matches of `a`'s lanes: a matching lane is all ones, -1.
    let mut matches = u32x4::splat(0);
    while i + 4 <= a.len() && j + 4 <= b.len() {
        let x = u32x4::new(block(a, i));
        let y = block(b, j);
        let equal = x.cmp_eq(u32x4::splat(y[0]))
            | x.cmp_eq(u32x4::splat(y[1]))
            | x.cmp_eq(u32x4::splat(y[2]))
            | x.cmp_eq(u32x4::splat(y[3]));
        matches -= equal;
        let (last_a, last_b) = (a[i + 3], y[3]);
        i += 4 * usize::from(last_a <= last_b);
        j += 4 * usize::from(last_b <= last_a);
    }
    let blocked: usize = matches.to_array().iter().map(|&m| m as usize).sum();
    blocked + intersection_size(&a[i..], &b[j..])
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
    fn rolled_windows_equal_windows_hashed_whole() {
        let tokens: Vec<u64> = (0..40u64).map(|i| fmix64(i * 7 + 1)).collect();
        for n in [2, 3, 5, 16] {
            let mut rolled = Vec::new();
            word_shingle_hashes(&tokens, n, &mut |h, span| rolled.push((h, span)));
            assert_eq!(rolled.len(), tokens.len() - n + 1);
            for (h, span) in rolled {
                // Each window again, alone: the roll must not drift.
                let mut alone = Vec::new();
                word_shingle_hashes(&tokens[span], n, &mut |h, _| alone.push(h));
                assert_eq!(alone, [h]);
            }
        }
    }

    #[test]
    fn shingles_in_place_equal_shingles_emitted() {
        for len in [0usize, 1, 2, 4, 5, 6, 40] {
            let tokens: Vec<u64> = (0..len as u64).map(|i| fmix64(i * 13 + 5)).collect();
            for n in [0, 1, 2, 3, 5, 16] {
                let mut emitted = Vec::new();
                word_shingle_hashes(&tokens, n, &mut |h, _| emitted.push(h));
                let mut in_place = tokens.clone();
                word_shingle_hashes_in_place(&mut in_place, n);
                assert_eq!(in_place, emitted, "{len} tokens, n = {n}");
            }
        }
    }

    #[test]
    fn token_hashes_differ_for_nearby_tokens() {
        // Every token of up to three letters from a small alphabet, plus lengths around
        // the 8- and 16-byte word edges: no two may collide.
        let mut tokens: Vec<String> = Vec::new();
        let alphabet = ["a", "b", "z", "0", "ب", "é"];
        for a in alphabet {
            tokens.push(a.to_string());
            for b in alphabet {
                tokens.push(format!("{a}{b}"));
                for c in alphabet {
                    tokens.push(format!("{a}{b}{c}"));
                }
            }
        }
        for len in 1..=40 {
            tokens.push("x".repeat(len));
            tokens.push(format!("{}y", "x".repeat(len)));
        }
        let mut hashes: Vec<u64> = tokens.iter().map(|t| token_hash(t)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), tokens.len());
    }

    /// Pairs of distinct values among `values` that are equal (sorted in place).
    fn repeats(values: &mut [u32]) -> usize {
        values.sort_unstable();
        values.windows(2).filter(|w| w[0] == w[1]).count()
    }

    /// Every token of three letters or digits, and tokens sharing their first 4, 8 or
    /// 15 bytes (the halves of the short-token hash): the low 32 bits that exact sets keep
    /// must collide no more than random values would (46,656 + 3 · 1,332 tokens:
    /// 0.30 pairs expected), and the full hashes never.
    #[test]
    fn token_hashes_low_bits_collide_as_random_ones_would() {
        let symbols: Vec<char> = ('a'..='z').chain('0'..='9').collect();
        let mut tokens: Vec<String> = Vec::new();
        for &a in &symbols {
            for &b in &symbols {
                for &c in &symbols {
                    tokens.push(format!("{a}{b}{c}"));
                }
            }
        }
        for prefix in ["news", "internat", "internationalis"] {
            for &a in &symbols {
                tokens.push(format!("{prefix}{a}"));
                for &b in &symbols {
                    tokens.push(format!("{prefix}{a}{b}"));
                }
            }
        }
        tokens.sort_unstable();
        tokens.dedup();
        let hashes: Vec<u64> = tokens.iter().map(|t| token_hash(t)).collect();
        let mut full = hashes.clone();
        full.sort_unstable();
        full.dedup();
        assert_eq!(full.len(), tokens.len());
        let mut low: Vec<u32> = hashes.iter().map(|&h| h as u32).collect();
        assert!(repeats(&mut low) <= 3);
    }

    /// The low 32 bits of word 5-gram hashes over a pseudo-random text of 200,000 tokens
    /// from a vocabulary of 5,000 collide about as often as random values would
    /// (200,000² / 2^33: 4.7 pairs expected among distinct windows).
    #[test]
    fn shingle_hashes_low_bits_collide_as_random_ones_would() {
        let vocabulary: Vec<u64> = (0..5_000).map(|i| token_hash(&format!("w{i}"))).collect();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let words: Vec<u32> = (0..200_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 33) % 5_000) as u32
            })
            .collect();
        let token_hashes: Vec<u64> = words.iter().map(|&w| vocabulary[w as usize]).collect();
        let mut windows: Vec<(&[u32], u32)> = Vec::new();
        word_shingle_hashes(&token_hashes, 5, &mut |h, span| {
            windows.push((&words[span.start..span.end], h as u32));
        });
        windows.sort_unstable();
        windows.dedup_by(|a, b| a.0 == b.0);
        let mut low: Vec<u32> = windows.iter().map(|&(_, h)| h).collect();
        assert_eq!(low.len(), 200_000 - 4);
        assert!(repeats(&mut low) <= 25);
    }

    proptest::proptest! {
        /// The radix path (long inputs) and the comparison path (short ones) give the
        /// set a sort and a dedup give, including inputs full of repeats and values
        /// that differ in one byte only.
        #[test]
        fn into_hash_set_is_sort_and_dedup(
            values in proptest::collection::vec(proptest::num::u32::ANY, 0..600),
            narrow in proptest::collection::vec(0u32..4, 0..600),
            byte in 0u32..4,
        ) {
            let mut scratch = Vec::new();
            for input in [values.clone(), narrow.iter().map(|&v| v << (8 * byte)).collect()] {
                let mut expected = input.clone();
                expected.sort_unstable();
                expected.dedup();
                let mut got = input;
                into_hash_set(&mut got, &mut scratch);
                proptest::prop_assert_eq!(got, expected);
            }
        }
    }

    #[test]
    fn the_radix_sort_hands_crowded_values_to_a_comparison_sort() {
        let mut scratch = Vec::new();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut hashes: Vec<u32> = (0..5_000)
            .map(|_| {
                state = state.wrapping_mul(0x5851_F42D_4C95_7F2D).wrapping_add(1);
                (state >> 32) as u32
            })
            .collect();
        assert!(
            !radix_sort(&mut hashes, &mut scratch),
            "hashes need no fallback"
        );
        assert!(hashes.windows(2).all(|w| w[0] <= w[1]));
        // Every value in one bucket of the top bytes, in descending order: insertion
        // alone would move each value past all the others.
        let mut crowded: Vec<u32> = (0..5_000).rev().collect();
        assert!(
            radix_sort(&mut crowded, &mut scratch),
            "crowded values fall back"
        );
        assert_eq!(crowded, (0..5_000).collect::<Vec<u32>>());
    }

    proptest::proptest! {
        /// Both merges count the intersection: small universes (dense overlaps, long
        /// runs on one side) and wide ones, sets of any length around the block size.
        #[test]
        fn merge_counts_the_intersection(
            a in proptest::collection::btree_set(0u32..64, 0..40),
            b in proptest::collection::btree_set(0u32..64, 0..40),
            wide_a in proptest::collection::btree_set(0u32..1000, 0..300),
            wide_b in proptest::collection::btree_set(0u32..1000, 0..300),
        ) {
            for (a, b) in [(a, b), (wide_a, wide_b)] {
                let expected = a.intersection(&b).count();
                let (a, b): (Vec<u32>, Vec<u32>) = (a.into_iter().collect(), b.into_iter().collect());
                proptest::prop_assert_eq!(intersection_size(&a, &b), expected);
                proptest::prop_assert_eq!(intersection_size_u32(&a, &b), expected);
                proptest::prop_assert_eq!(intersection_size_u32(&b, &a), expected);
                proptest::prop_assert_eq!(jaccard_u32(&a, &b), jaccard(&a, &b));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn token_hash_in_place_equals_token_hash(
            before in "[a-z ب]{0,20}",
            token in "\\PC{1,24}",
            after in proptest::collection::vec(proptest::num::u8::ANY, 16..40),
        ) {
            let mut buffer = before.as_bytes().to_vec();
            buffer.extend_from_slice(token.as_bytes());
            buffer.extend_from_slice(&after);
            proptest::prop_assert_eq!(
                token_hash_at(&buffer, before.len(), token.len()),
                token_hash(&token)
            );
        }
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
