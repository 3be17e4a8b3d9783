//! Stage 1: text normalization. Turns raw article text into a canonical form so that
//! copies differing only in encoding details (presentation forms, case, diacritics,
//! Arabic letter variants, digit scripts, invisible marks, typographic punctuation)
//! produce the same tokens. Pure functions, no I/O.
//!
//! The steps, in order:
//! 1. Unicode NFKC (UAX #15): folds presentation forms, ligatures (ﻻ → لا), fullwidth
//!    Latin. Skipped when the quick check says the text is already NFKC.
//! 2. Full Unicode case folding (CaseFolding.txt, statuses C and F: ß → ss).
//! 3. Per character (the `fold_char` table): Arabic diacritics and tatweel removed,
//!    alef/ya/ta-marbuta variants folded, the Persian and Urdu yeh, kaf and heh folded
//!    to the Arabic letters, Turkish dotless and dotted i folded to i, every decimal
//!    digit script mapped to ASCII,
//!    default-ignorable marks (zero-width joiners, bidi controls) removed, typographic
//!    quotes and dashes folded to ASCII, every run of whitespace or control characters
//!    folded to one space.
//! 4. NFKC again if step 3 left the text unnormalized, so that `normalize` is idempotent.

use std::sync::OnceLock;

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Normalizes `text` into a new string. See the module docs for the steps.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

/// Normalizes `text`, replacing the contents of `out` (reusing its allocation).
pub fn normalize_into(text: &str, out: &mut String) {
    normalize_into_within(text, out, &TwoByteSet::EMPTY, |_| ThreeByteRole::Neither);
}

/// How a word segmenter takes a three-byte character (see [`normalize_into_within`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThreeByteRole {
    /// As a letter.
    Letter,
    /// As a mark, which joins what precedes it.
    Mark,
    /// Neither.
    Neither,
}

/// What [`normalize_into_within`] found of the characters beyond ASCII it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutputLetters {
    /// Every one is a two-byte character of the set.
    pub in_set: bool,
    /// Whether every one is a two-byte character of the set, a three-byte letter, or a
    /// three-byte mark right after a letter (ASCII, of the set, or three-byte) or after
    /// such a mark; None when not asked (text without a lead byte of a three-byte
    /// script, where the answer is `in_set` unless it holds three-byte punctuation or
    /// symbols).
    pub letters: Option<bool>,
}

/// [`normalize_into`], also telling which characters of the result beyond ASCII are a
/// caller's letters: two-byte characters of `set`, and three-byte characters as `role`
/// says. `Some` from the ASCII and plain paths, which look at every character anyway
/// (asking with a second walk over an Arabic or Hindi article cost as much as
/// normalizing it), None from the general path.
pub(crate) fn normalize_into_within(
    text: &str,
    out: &mut String,
    set: &TwoByteSet,
    role: impl Fn(char) -> ThreeByteRole,
) -> Option<OutputLetters> {
    out.clear();
    if text.is_ascii() {
        // ASCII is already NFKC and folds by lowercasing; this path is most English news.
        // Whole stretches are copied and lowercased in place rather than char by char.
        // `fold_plain` would give the same string, 10-15% slower (criterion
        // normalize/latin, interleaved runs): it tests every byte for non-ASCII too.
        fold_ascii_whitespace(text, out);
        out.make_ascii_lowercase();
        return Some(OutputLetters {
            in_set: true,
            letters: Some(true),
        });
    }
    // Scripts whose letters take three bytes have lead bytes E0-E1 or E3-EF (Indic,
    // Thai, Georgian, Ethiopic, Hangul...); E2 leads punctuation and symbols, which much
    // Latin, Cyrillic or Arabic news holds. Only text of the first kind has its letters
    // told apart during the walk (which spares Hindi and Korean articles a second walk,
    // 17-19% of their first pass); the walk that does so was 2-9% slower over Arabic
    // and Cyrillic text, which is walked without it and, if it holds three-byte
    // characters, left for the tokenizer to ask about. The walk without roles hands
    // over at the first character of a three-byte script (in Hindi or Korean text, one
    // of the first few).
    let mut walk = fold_plain::<false>(text, out, set, &role);
    if let PlainWalk::WantsRoles = walk {
        out.clear();
        walk = fold_plain::<true>(text, out, set, &role);
    }
    match walk {
        PlainWalk::Done(letters) => Some(letters),
        PlainWalk::NotPlain | PlainWalk::WantsRoles => {
            normalize_general(text, out);
            None
        }
    }
}

/// Writes ASCII `text` to `out` with every run of whitespace and control characters
/// (the bytes up to and including the space, and DEL) folded to one space, and none at
/// either end. A single space between two words, the common separator, does not break
/// the stretch being copied: prose is copied a line or a paragraph at a time, and
/// checked eight bytes at a time ([`plain_ascii_word`]). (Splitting on a char predicate
/// and pushing each word took a fifth of `stories`' samples on 115,105 generated ASCII
/// articles, whose lines and sentences are normalized one by one to find boilerplate.)
fn fold_ascii_whitespace(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let separates = |b: u8| b <= b' ' || b == 0x7f;
    let n = bytes.len();
    let mut i = 0;
    while i < n && separates(bytes[i]) {
        i += 1;
    }
    let mut from = i;
    while i < n {
        if let Some(word) = bytes[i..].first_chunk::<8>() {
            if plain_ascii_word(u64::from_le_bytes(*word)) {
                i += 8;
                continue;
            }
        }
        if !separates(bytes[i]) || (bytes[i] == b' ' && i + 1 < n && !separates(bytes[i + 1])) {
            i += 1;
            continue;
        }
        out.push_str(&text[from..i]);
        while i < n && separates(bytes[i]) {
            i += 1;
        }
        if i < n {
            out.push(' ');
        }
        from = i;
    }
    out.push_str(&text[from..]);
}

/// Whether eight ASCII bytes (little-endian in `x`) stay as they are in
/// [`fold_ascii_whitespace`] whatever follows them: no control character or DEL, no two
/// spaces together, and no space last (the byte after it decides). Bytes below 0x80
/// cannot carry from one to the next in the sums below, so each test is exact.
fn plain_ascii_word(x: u64) -> bool {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit of each byte that is not zero.
    let nonzero = |v: u64| (((v & LOW7) + LOW7) | v) & HIGH;
    // Bytes of 0x20 or more have a high bit after adding 0x60; DEL is the one byte that
    // is 0x7f.
    let controls = !((x & LOW7) + 0x6060_6060_6060_6060) & HIGH;
    let del = !nonzero(x ^ LOW7) & HIGH;
    let spaces = !nonzero(x ^ 0x2020_2020_2020_2020) & HIGH;
    controls | del == 0 && spaces & (spaces << 8) == 0 && spaces >> 56 == 0
}

/// How a walk of [`fold_plain`] ended.
enum PlainWalk {
    /// The text is normalized into the output; what its characters are.
    Done(OutputLetters),
    /// A character is not plain: the general path must normalize the text.
    NotPlain,
    /// (Without roles only.) A character of a three-byte script: the walk that classes
    /// three-byte letters should run instead.
    WantsRoles,
}

/// A set of two-byte characters (U+0080–U+07FF), one bit each.
#[derive(Debug, Clone)]
pub(crate) struct TwoByteSet {
    bits: [u64; TWO_BYTE_CHARS.div_ceil(64)],
}

impl TwoByteSet {
    /// The empty set.
    pub(crate) const EMPTY: TwoByteSet = TwoByteSet {
        bits: [0; TWO_BYTE_CHARS.div_ceil(64)],
    };

    /// The two-byte characters for which `member` is true.
    pub(crate) fn from_fn(member: impl Fn(char) -> bool) -> TwoByteSet {
        let mut set = TwoByteSet::EMPTY;
        for offset in 0..TWO_BYTE_CHARS {
            if char::from_u32(0x80 + offset as u32).is_some_and(&member) {
                set.bits[offset / 64] |= 1 << (offset % 64);
            }
        }
        set
    }

    /// Whether the character U+0080 + `offset` is in the set.
    #[inline]
    fn contains_offset(&self, offset: usize) -> bool {
        self.bits
            .get(offset / 64)
            .is_some_and(|word| word >> (offset % 64) & 1 == 1)
    }

    /// Whether `c` is ASCII or in the set.
    #[inline]
    pub(crate) fn admits(&self, c: char) -> bool {
        c.is_ascii() || self.contains_offset((u32::from(c) as usize).wrapping_sub(0x80))
    }
}

/// The plain path: for text of plain characters only, the general path's NFKC and case
/// folding act on each character alone, so the text is folded in one pass, character by
/// character. Plain are ASCII, the characters of `is_plain` (Arabic, some punctuation)
/// and every other two-byte character (Latin-1 and Latin Extended, Greek, Cyrillic,
/// Armenian, Hebrew...) that NFKC cannot combine with a neighbour and whose NFKC and
/// case folding give at most two such characters (see `plain_fold`), and the
/// three-byte characters NFKC and case folding never change (see `three_byte_kind`: a
/// mark among them is plain unless it follows another mark).
///
/// Most characters fold to themselves (lowercase letters, ASCII, single spaces between
/// words; ASCII capitals are lowercased with the rest at the end), so the text is walked
/// byte by byte and such runs are copied whole when something else interrupts them:
/// a character that folds to another, a drop, or whitespace other than one space.
/// Pushing each Cyrillic or Arabic letter on its own took twice as long.
///
/// Stops at the first character that is not plain, leaving `out` partly written for
/// the general path to replace; else tells what the characters written are
/// ([`OutputLetters`], see [`normalize_into_within`]). With `ROLES` false, three-byte
/// characters are not asked about and `letters` is None, and the walk stops at the
/// first character of a three-byte script (lead byte other than E2).
///
/// Out of line: the two instances inlined into their caller made the walk over Cyrillic
/// text 3-4% slower, Arabic 2-3%.
#[inline(never)]
fn fold_plain<const ROLES: bool>(
    text: &str,
    out: &mut String,
    set: &TwoByteSet,
    role: impl Fn(char) -> ThreeByteRole,
) -> PlainWalk {
    let table = two_byte_table();
    let mut within = true;
    let mut letters = true;
    let bytes = text.as_bytes();
    let mut pending_space = false;
    // Start of the run of characters that fold to themselves, not yet copied.
    let mut run_start = 0;
    // Copies the run `run_start..end`; a space ending it becomes a pending space, as
    // the space before a character that may yet be dropped.
    let flush = |run_start: usize, end: usize, pending_space: &mut bool, out: &mut String| {
        if run_start == end {
            return;
        }
        let trailing_space = bytes[end - 1] == b' ';
        let copied_end = end - usize::from(trailing_space);
        if run_start < copied_end {
            push_pending_space(pending_space, out);
            out.push_str(&text[run_start..copied_end]);
        }
        if trailing_space {
            *pending_space = !out.is_empty();
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (folded, len) = if b < 0x80 {
            if b == b' ' && i > run_start && bytes[i - 1] != b' ' {
                // One space inside a run: kept, unless the run ends right after it.
                i += 1;
                continue;
            }
            if !(b.is_ascii_whitespace() || b.is_ascii_control()) {
                i += 1;
                continue;
            }
            (Folded::Space, 1)
        } else if let Some(c) = two_byte_char_at(bytes, i) {
            let offset = (u32::from(c) - 0x80) as usize;
            if table.folds_to_itself[offset] {
                let member = set.contains_offset(offset);
                within &= member;
                if ROLES {
                    letters &= member;
                }
                i += 2;
                continue;
            }
            match table.entries[offset].plain {
                Some(folded) => (folded, 2),
                None => return PlainWalk::NotPlain,
            }
        } else {
            let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
                return PlainWalk::NotPlain;
            };
            if !ROLES && b & 0xF0 == 0xE0 && b != 0xE2 {
                // A three-byte script: the walk that classes its letters takes over.
                return PlainWalk::WantsRoles;
            }
            match three_byte_kind(c) {
                // Plain and folds to itself: stays in the run, like the letters above.
                Some(ThreeByteKind::Starter) => {
                    within = false;
                    if ROLES && letters {
                        letters = match role(c) {
                            ThreeByteRole::Letter => true,
                            ThreeByteRole::Mark => joins_a_mark(
                                char_before(text, run_start, i, pending_space, out),
                                set,
                                &role,
                            ),
                            ThreeByteRole::Neither => false,
                        };
                    }
                    i += c.len_utf8();
                    continue;
                }
                // A mark that never composes: NFKC could only reorder it after another
                // mark (a mark written earlier, whatever was dropped in between).
                Some(ThreeByteKind::Mark) => {
                    let before = char_before(text, run_start, i, pending_space, out);
                    if before.is_some_and(|b| three_byte_kind(b) == Some(ThreeByteKind::Mark)) {
                        return PlainWalk::NotPlain;
                    }
                    within = false;
                    if ROLES && letters {
                        letters =
                            role(c) == ThreeByteRole::Mark && joins_a_mark(before, set, &role);
                    }
                    i += c.len_utf8();
                    continue;
                }
                Some(ThreeByteKind::Folds) => {}
                // Four bytes: nothing is plain there.
                None => return PlainWalk::NotPlain,
            }
            (fold_char(c), c.len_utf8())
        };
        flush(run_start, i, &mut pending_space, out);
        let member = match folded {
            Folded::Char(c) => set.admits(c),
            Folded::Two(first, second) => set.admits(first) && set.admits(second),
            Folded::Space | Folded::Drop => true,
        };
        within &= member;
        let written = out.len();
        push_folded(folded, &mut pending_space, out);
        if ROLES && letters && !member {
            letters = folded_letters(out, written, set, &role);
        }
        i += len;
        run_start = i;
    }
    flush(run_start, bytes.len(), &mut pending_space, out);
    // Folded characters are case-folded already; this lowercases the ASCII runs.
    out.make_ascii_lowercase();
    PlainWalk::Done(OutputLetters {
        in_set: within,
        letters: ROLES.then_some(letters),
    })
}

/// Whether a three-byte mark written after `before` follows a letter (ASCII, of `set`,
/// or three-byte by `role`) or a mark that did. Asked only while every three-byte
/// character written before was a letter or such a mark, so one before a mark is such
/// unless `role` says neither.
#[inline]
fn joins_a_mark(
    before: Option<char>,
    set: &TwoByteSet,
    role: &impl Fn(char) -> ThreeByteRole,
) -> bool {
    match before {
        Some(b) if b.is_ascii() => b.is_ascii_alphabetic(),
        Some(b) if b.len_utf8() == 2 => set.admits(b),
        Some(b) if b.len_utf8() == 3 => role(b) != ThreeByteRole::Neither,
        _ => false,
    }
}

/// Whether the characters a fold wrote from byte `written` of `out` on (some outside
/// `set`: a two-byte character that is not a letter, or a three-byte one, as Ⱦ
/// lowercases to ⱦ) are letters, or marks after one, as the tokenizer judges them.
/// Out of line: rarely asked, and the walk's three-byte branches were measured slower
/// by a fifth on Hindi text while the check was written into them.
#[inline(never)]
fn folded_letters(
    out: &str,
    written: usize,
    set: &TwoByteSet,
    role: &impl Fn(char) -> ThreeByteRole,
) -> bool {
    let mut before = out[..written].chars().next_back();
    for c in out[written..].chars() {
        let letter = set.admits(c)
            || (c.len_utf8() == 3
                && match role(c) {
                    ThreeByteRole::Letter => true,
                    ThreeByteRole::Mark => joins_a_mark(before, set, role),
                    ThreeByteRole::Neither => false,
                });
        if !letter {
            return false;
        }
        before = Some(c);
    }
    true
}

/// What the plain path's output holds before the character at byte `i` of `text`: the
/// run not yet copied (from `run_start`), else a pending space, else what `out` holds.
fn char_before(
    text: &str,
    run_start: usize,
    i: usize,
    pending_space: bool,
    out: &str,
) -> Option<char> {
    if run_start < i {
        text[run_start..i].chars().next_back()
    } else if pending_space {
        Some(' ')
    } else {
        out.chars().next_back()
    }
}

/// The full path, for any text: NFKC (when needed), full case folding, `fold_char`, and
/// NFKC again until stable. The fast paths above must agree with it (tested).
fn normalize_general(text: &str, out: &mut String) {
    out.clear();
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        fold_chars(caseless::Caseless::default_case_fold(text.chars()), out);
    } else {
        fold_chars(caseless::Caseless::default_case_fold(text.nfkc()), out);
    }
    // Case folding and mark removal can, in rare cases, leave a string that NFKC would
    // still change (a folded letter followed by a combining mark). Repeat until stable so
    // that normalize(normalize(x)) == normalize(x); two rounds settle every case we know.
    for _ in 0..3 {
        if is_nfkc_quick(out.chars()) == IsNormalized::Yes {
            return;
        }
        let renormalized: String = out.nfkc().collect();
        out.clear();
        fold_chars(renormalized.chars(), out);
    }
}

/// Characters for which NFKC and full case folding are the identity, or differ only in
/// ways `fold_char` erases: ASCII (lowercased separately), the Arabic letters, harakat
/// and digits of the basic block, and the guillemets. Left out on purpose: U+0653–U+0655
/// (madda and hamza above/below), which NFKC composes with a preceding letter (و + U+0654
/// → ؤ, which is kept), and everything with a compatibility mapping. Harakat may be
/// reordered by NFKC, but `fold_char` deletes them all, so order is moot. Three-byte
/// characters are plain when `three_byte_kind` classes them, from the Unicode
/// properties: typographic quotes and dashes, invisible joiners and marks, ideographs,
/// kana, the ideographic comma and full stop among them (the kana voicing marks,
/// U+3099–U+309C, which compose with a preceding kana, are not).
fn is_plain(c: char) -> bool {
    matches!(c,
        '\0'..='\u{7F}'
        | '\u{0621}'..='\u{0652}'
        | '\u{0660}'..='\u{066D}'
        | '\u{0670}'..='\u{0674}'
        | '\u{0679}'..='\u{06D3}'
        | '\u{060C}' | '\u{061B}' | '\u{061F}'
        | '\u{00AB}' | '\u{00BB}')
        || three_byte_kind(c).is_some()
}

/// What the plain path knows of a character encoded in three bytes (U+0800–U+FFFF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ThreeByteKind {
    /// Normalizes to itself wherever it stands among plain characters: a starter
    /// (canonical combining class 0) that NFKC never changes or composes with what
    /// precedes it (quick check Yes), without case folding, that `fold_char` keeps.
    /// The letters of Devanagari and the other Indic scripts, Thai, Georgian,
    /// Ethiopic, Hangul syllables, kana, ideographs.
    Starter,
    /// The same, but a mark (combining class above 0): Indic vowel signs and viramas,
    /// Thai vowels and tone marks. NFKC reorders a mark only after another mark.
    Mark,
    /// A starter that NFKC and case folding leave but `fold_char` changes, on its own
    /// (a digit of another script to its ASCII digit, an invisible character dropped).
    Folds,
}

/// The [`ThreeByteKind`] of `c`, None for every other character (those of four bytes,
/// two bytes or ASCII included). Without it, text in the scripts of three-byte
/// characters took the general path, whose per-character NFKC quick check and case
/// folding lookup were half of a Hindi article's analysis.
fn three_byte_kind(c: char) -> Option<ThreeByteKind> {
    static KINDS: OnceLock<Vec<u64>> = OnceLock::new();
    let offset = u32::from(c).checked_sub(TWO_BYTE_END)? as usize;
    if offset >= THREE_BYTE_CHARS {
        return None;
    }
    // Two bits per character, built once, when a first such character is met (a few
    // milliseconds): 1 Starter, 2 Mark, 3 Folds.
    let kinds = KINDS.get_or_init(|| {
        let mut bits = vec![0u64; (2 * THREE_BYTE_CHARS).div_ceil(64)];
        for offset in 0..THREE_BYTE_CHARS {
            let Some(c) = char::from_u32(TWO_BYTE_END + offset as u32) else {
                continue; // a surrogate
            };
            let kind = match classify_three_byte(c) {
                Some(ThreeByteKind::Starter) => 1,
                Some(ThreeByteKind::Mark) => 2,
                Some(ThreeByteKind::Folds) => 3,
                None => continue,
            };
            bits[2 * offset / 64] |= kind << (2 * offset % 64);
        }
        bits
    });
    match kinds[2 * offset / 64] >> (2 * offset % 64) & 3 {
        1 => Some(ThreeByteKind::Starter),
        2 => Some(ThreeByteKind::Mark),
        3 => Some(ThreeByteKind::Folds),
        _ => None,
    }
}

/// Characters encoded in exactly three bytes: U+0800–U+FFFF.
const THREE_BYTE_CHARS: usize = 0x10000 - TWO_BYTE_END as usize;

/// [`ThreeByteKind`] from the Unicode properties themselves (see [`three_byte_kind`]).
fn classify_three_byte(c: char) -> Option<ThreeByteKind> {
    use caseless::Caseless;
    use unicode_normalization::char::canonical_combining_class;

    let stable = is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
        && std::iter::once(c)
            .default_case_fold()
            .eq(std::iter::once(c));
    let starter = canonical_combining_class(c) == 0;
    match fold_char(c) {
        _ if !stable => None,
        Folded::Char(folded) if folded == c => Some(if starter {
            ThreeByteKind::Starter
        } else {
            ThreeByteKind::Mark
        }),
        // What `fold_char` makes of it is plain too (an ASCII digit, nothing, a space).
        Folded::Char(folded) if starter && folded.is_ascii() => Some(ThreeByteKind::Folds),
        Folded::Drop | Folded::Space if starter => Some(ThreeByteKind::Folds),
        _ => None,
    }
}

/// The plain characters of Chinese and Japanese text that normalize to themselves
/// (ideographs, kana letters, the prolonged sound mark; tested against `fold_char` and
/// the general path for every one of them): the tokenizer knows them for letters
/// without a table lookup.
pub(crate) fn is_cjk_letter(c: char) -> bool {
    matches!(c,
        '\u{3041}'..='\u{3096}'
        | '\u{30A1}'..='\u{30FA}' | '\u{30FC}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}')
}

/// Applies `fold_char` to each character, collapsing whitespace runs and trimming ends.
fn fold_chars(chars: impl Iterator<Item = char>, out: &mut String) {
    let table = two_byte_table();
    let mut pending_space = false;
    for c in chars {
        let cp = u32::from(c);
        if c == COMBINING_DOT_ABOVE && !pending_space && out.ends_with(['i', 'j']) {
            // i and j carry their dot already: the dot that case folding leaves after
            // the i of İ (and that other tools' lower-casing writes) adds nothing.
            continue;
        }
        let folded = if cp < 0x80 {
            fold_ascii(c)
        } else if cp < TWO_BYTE_END {
            table.entries[(cp - 0x80) as usize].folded
        } else {
            fold_char(c)
        };
        push_folded(folded, &mut pending_space, out);
    }
}

/// U+0307, which full case folding writes after the i of İ.
const COMBINING_DOT_ABOVE: char = '\u{0307}';

/// Appends one folded character: a space only between two kept characters, so runs of
/// whitespace collapse and the ends are trimmed.
#[inline]
fn push_folded(folded: Folded, pending_space: &mut bool, out: &mut String) {
    match folded {
        Folded::Drop => {}
        Folded::Space => *pending_space = !out.is_empty(),
        Folded::Char(c) => {
            push_pending_space(pending_space, out);
            out.push(c);
        }
        Folded::Two(first, second) => {
            push_pending_space(pending_space, out);
            out.push(first);
            out.push(second);
        }
    }
}

/// Before a kept character: the space a run of whitespace left, if any.
#[inline]
fn push_pending_space(pending_space: &mut bool, out: &mut String) {
    if std::mem::take(pending_space) {
        out.push(' ');
    }
}

/// The character at byte `i` of UTF-8 `bytes` if it is encoded in two bytes (lead byte
/// 110xxxxx): Arabic, and every other script below U+0800, which the normalizer's and
/// the tokenizer's tables cover. Decoding it here is cheaper than slicing the text and
/// asking `chars()`.
#[inline]
pub(crate) fn two_byte_char_at(bytes: &[u8], i: usize) -> Option<char> {
    let lead = *bytes.get(i)?;
    if lead & 0xE0 != 0xC0 {
        return None;
    }
    let next = *bytes.get(i + 1)?;
    char::from_u32((u32::from(lead & 0x1F) << 6) | u32::from(next & 0x3F))
}

/// Characters below this are encoded in at most two bytes of UTF-8.
const TWO_BYTE_END: u32 = 0x0800;

/// Characters encoded in exactly two bytes: U+0080–U+07FF.
const TWO_BYTE_CHARS: usize = TWO_BYTE_END as usize - 0x80;

/// What the normalizer knows of one two-byte character (U+0080–U+07FF).
#[derive(Debug, Clone, Copy)]
struct TwoByteEntry {
    /// `fold_char` of the character, for the general path (after NFKC and case folding).
    folded: Folded,
    /// What the whole normalization makes of the character wherever it stands, if it is
    /// plain (see `fold_plain`); None sends the text to the general path.
    plain: Option<Folded>,
}

/// What the normalizer knows of every two-byte character, by code point − 0x80.
struct TwoByteTable {
    entries: [TwoByteEntry; TWO_BYTE_CHARS],
    /// Whether the character is plain and normalizes to itself: the plain path's runs
    /// (a separate table of 1,920 bytes, which stays in the first-level cache).
    folds_to_itself: [bool; TWO_BYTE_CHARS],
}

/// Every two-byte character's entry, built once per process from `fold_char`,
/// `is_plain`, NFKC and case folding themselves, so that it cannot disagree with them:
/// Arabic, Cyrillic, Greek and accented Latin letters then cost one lookup each.
fn two_byte_table() -> &'static TwoByteTable {
    static TABLE: OnceLock<TwoByteTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Every code point below U+0800 is a char (surrogates start at U+D800).
        let char_at = |offset: usize| char::from_u32(0x80 + offset as u32).unwrap_or('\0');
        let entries: [TwoByteEntry; TWO_BYTE_CHARS] = std::array::from_fn(|offset| {
            let c = char_at(offset);
            TwoByteEntry {
                folded: fold_char(c),
                plain: plain_fold(c),
            }
        });
        let folds_to_itself = std::array::from_fn(|offset| {
            entries[offset].plain == Some(Folded::Char(char_at(offset)))
        });
        TwoByteTable {
            entries,
            folds_to_itself,
        }
    })
}

/// What normalization makes of `c` wherever it stands in a text of plain characters,
/// or None if `c` is not plain. Plain are the characters of `is_plain`, and those that
/// NFKC leaves as they are, cannot combine with a neighbour (canonical combining class
/// 0, quick check Yes: no composition, no reordering) or maps to one ASCII character (a
/// no-break space, a superscript digit), and whose full case folding gives one or two
/// characters of the same kind (ß → ss). Texts of such characters are already NFKC
/// before and after folding, so the general path would fold each on its own.
fn plain_fold(c: char) -> Option<Folded> {
    use caseless::Caseless;
    use unicode_normalization::char::canonical_combining_class;

    let stable = |c: char| {
        canonical_combining_class(c) == 0 && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
    };
    if is_plain(c) {
        return Some(fold_char(c));
    }
    let source = if stable(c) {
        c
    } else {
        let mut nfkc = std::iter::once(c).nfkc();
        match (nfkc.next(), nfkc.next()) {
            (Some(ascii), None) if ascii.is_ascii() => ascii,
            _ => return None,
        }
    };
    let mut folded = std::iter::once(source).default_case_fold();
    let folded = match (folded.next(), folded.next(), folded.next()) {
        (Some(one), None, None) if stable(one) => fold_char(one),
        (Some(first), Some(second), None) if stable(first) && stable(second) => {
            match (fold_char(first), fold_char(second)) {
                (Folded::Char(first), Folded::Char(second)) => Folded::Two(first, second),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(folded)
}

/// `fold_char` of an ASCII character.
#[inline]
fn fold_ascii(c: char) -> Folded {
    if c.is_ascii_whitespace() || c.is_ascii_control() {
        Folded::Space
    } else {
        Folded::Char(c)
    }
}

/// What one input character becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folded {
    Drop,
    Space,
    Char(char),
    /// Two characters: only from the plain path's table, for a case folding such as
    /// ß → ss.
    Two(char, char),
}

fn fold_char(c: char) -> Folded {
    if c.is_ascii() {
        return fold_ascii(c);
    }
    if let Some(d) = decimal_digit_value(c) {
        return Folded::Char(char::from(b'0' + d));
    }
    match c {
        // Harakat U+064B–U+0652 and superscript alef U+0670: Lucene ArabicNormalizer and
        // CAMeL Tools `dediac_ar`. The wider Quranic annotation set (U+0610–U+061A,
        // U+0653–U+065F, U+06D6–U+06DC, U+06DF–U+06E4, U+06E7, U+06E8, U+06EA–U+06ED) is
        // pyarabic's `strip_diacritics`; news text only carries it when quoting scripture,
        // and it never distinguishes two words there.
        '\u{064B}'..='\u{065F}' | '\u{0670}' => Folded::Drop,
        '\u{0610}'..='\u{061A}' | '\u{06D6}'..='\u{06DC}' | '\u{06DF}'..='\u{06E4}' => Folded::Drop,
        '\u{06E7}' | '\u{06E8}' | '\u{06EA}'..='\u{06ED}' => Folded::Drop,
        // Tatweel (kashida) U+0640 is typographic stretching: Lucene ArabicNormalizer,
        // pyarabic `strip_tatweel`.
        '\u{0640}' => Folded::Drop,
        // Alef with madda / hamza above / hamza below → bare alef: Lucene ArabicNormalizer;
        // alef wasla U+0671 as well: CAMeL Tools `normalize_alef_ar`.
        '\u{0622}' | '\u{0623}' | '\u{0625}' | '\u{0671}' => Folded::Char('\u{0627}'),
        // Alef maksura → yeh: Lucene ArabicNormalizer and CAMeL `normalize_alef_maksura_ar`
        // (pyarabic maps it to alef instead; we follow the two that agree).
        '\u{0649}' => Folded::Char('\u{064A}'),
        // Ta marbuta → heh: Lucene ArabicNormalizer, CAMeL `normalize_teh_marbuta_ar`.
        '\u{0629}' => Folded::Char('\u{0647}'),
        // The Persian and Urdu forms of yeh, kaf and heh → the Arabic letters, as Lucene's
        // PersianNormalizer folds them: keyboards and publishers use either, so one
        // article circulates in both spellings. Farsi yeh and yeh barree → yeh (then one
        // letter with alef maksura), keheh → kaf, heh with yeh above and heh goal → heh.
        '\u{06CC}' | '\u{06D2}' => Folded::Char('\u{064A}'),
        '\u{06A9}' => Folded::Char('\u{0643}'),
        '\u{06C0}' | '\u{06C1}' => Folded::Char('\u{0647}'),
        // Dotless i → i. Case folding maps I to i and İ to i with a combining dot above
        // (dropped in `fold_chars`), so Turkish ı, i, I and İ, which upper-case headlines
        // and lower-casing tools mix, all become i: the same word in any case.
        '\u{0131}' => Folded::Char('i'),
        // Arabic punctuation to its ASCII counterpart, so char shingles see one comma.
        '\u{060C}' | '\u{066C}' => Folded::Char(','),
        '\u{061B}' => Folded::Char(';'),
        '\u{061F}' => Folded::Char('?'),
        '\u{066A}' => Folded::Char('%'),
        '\u{066B}' => Folded::Char('.'),
        // Typographic quotes and dashes: wire copies are often re-typeset by the
        // republisher's CMS, which swaps straight and curly quotes.
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => Folded::Char('\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' | '\u{2039}' | '\u{203A}' => Folded::Char('"'),
        '\u{2010}'..='\u{2015}' | '\u{2212}' => Folded::Char('-'),
        _ if is_default_ignorable(c) => Folded::Drop,
        _ if c.is_whitespace() || c.is_control() => Folded::Space,
        _ => Folded::Char(c),
    }
}

/// Unicode Default_Ignorable_Code_Point (DerivedCoreProperties.txt): zero-width joiners
/// U+200C/U+200D, bidi marks U+200E/U+200F and U+061C, embeddings and isolates, soft
/// hyphen, variation selectors, BOM. `toNFKC_Casefold` removes exactly this set; Lucene,
/// CAMeL and pyarabic leave them in, so copies pasted through different editors differ.
fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// The first code point (digit zero) of each run of ten Unicode decimal digits
/// (General_Category = Nd) outside ASCII, as Lucene's DecimalDigitFilter maps them.
/// Fullwidth and mathematical digits are absent: NFKC has already folded them.
const DIGIT_ZEROS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950,
];

/// The value of a non-ASCII decimal digit, if `c` is one.
fn decimal_digit_value(c: char) -> Option<u8> {
    let cp = u32::from(c);
    // DIGIT_ZEROS is sorted: find the last run starting at or before `cp`.
    let idx = DIGIT_ZEROS.partition_point(|&zero| zero <= cp);
    let zero = *DIGIT_ZEROS.get(idx.checked_sub(1)?)?;
    let value = cp - zero;
    (value < 10).then_some(value as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_lowercases_and_collapses_whitespace() {
        assert_eq!(
            normalize("  Hello,\t\tWORLD \r\n again "),
            "hello, world again"
        );
    }

    #[test]
    fn full_case_folding_not_just_lowercase() {
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize("ΣΊΣΥΦΟΣ"), "σίσυφοσ");
    }

    #[test]
    fn nfkc_folds_presentation_forms_and_ligatures() {
        // U+FEFB lam-alef ligature, U+FB01 fi ligature, fullwidth A.
        assert_eq!(normalize("\u{FEFB} \u{FB01}ne \u{FF21}"), "لا fine a");
    }

    #[test]
    fn camel_tools_example_sentence() {
        // reference: CAMeL gives "ان الامم المتحده اعلنت ـــ في مستشفي"; we also drop tatweel.
        assert_eq!(
            normalize("إِنَّ الأُمَمَ المُتَّحِدَةَ أعلنت ـــ فى مستشفى"),
            "ان الامم المتحده اعلنت في مستشفي"
        );
    }

    #[test]
    fn alef_variants_fold() {
        for variant in ["\u{0622}", "\u{0623}", "\u{0625}", "\u{0671}"] {
            assert_eq!(normalize(&format!("{variant}حمد")), "احمد");
        }
    }

    #[test]
    fn hamza_carriers_on_waw_and_yeh_are_kept() {
        assert_eq!(normalize("مسؤول رئيس"), "مسؤول رئيس");
    }

    #[test]
    fn tatweel_and_harakat_removed() {
        assert_eq!(normalize("مـــوسـكو"), "موسكو");
        assert_eq!(normalize("مُوسْكُو"), "موسكو");
        assert_eq!(normalize("\u{0627}\u{0670}"), "ا");
    }

    #[test]
    fn invisible_marks_removed() {
        assert_eq!(
            normalize("مو\u{200C}سكو\u{200F} \u{061C}x\u{200B}y\u{FEFF}"),
            "موسكو xy"
        );
    }

    #[test]
    fn digits_of_any_script_become_ascii() {
        assert_eq!(normalize("٢٠٢٥ ۱۹ १२ ๓"), "2025 19 12 3");
    }

    #[test]
    fn digit_table_is_sorted_and_every_entry_is_a_zero() {
        assert!(DIGIT_ZEROS.windows(2).all(|w| w[0] + 10 <= w[1]));
        for &zero in DIGIT_ZEROS {
            let c = char::from_u32(zero).expect("valid code point");
            assert!(c.is_numeric(), "{zero:#x} is not numeric");
        }
    }

    #[test]
    fn typographic_punctuation_folds() {
        assert_eq!(normalize("“قال” ‘x’ a—b ، ؟"), "\"قال\" 'x' a-b , ?");
    }

    #[test]
    fn control_characters_are_whitespace() {
        assert_eq!(normalize("a\u{0}b\u{7}\u{85}c"), "a b c");
    }

    #[test]
    fn persian_and_urdu_letters_fold_to_the_arabic_ones() {
        // "کتاب‌های ایرانی" typed on a Persian keyboard and on an Arabic one.
        assert_eq!(
            normalize("کتاب\u{200C}های ایرانی"),
            normalize("كتابهاي ايراني")
        );
        assert_eq!(normalize("\u{06CC} \u{06D2} \u{0649}"), "ي ي ي");
        assert_eq!(normalize("\u{06A9}"), "\u{0643}");
        // Heh with yeh above, precomposed and as heh + hamza above, and heh goal.
        for heh in ["\u{06C0}", "\u{06D5}\u{0654}", "\u{06C1}"] {
            assert_eq!(normalize(heh), "\u{0647}", "{heh:?}");
        }
    }

    #[test]
    fn turkish_i_in_every_case_folds_to_i() {
        let forms = [
            "İstanbul başkanı",
            "ISTANBUL BAŞKANI",
            "istanbul başkani",
            // What lower-casing İ gives outside Turkish locales: i and a combining dot.
            "i\u{0307}stanbul başkanı",
            // Decomposed capital: I and a combining dot, which NFKC composes to İ.
            "I\u{0307}STANBUL BAŞKANI",
        ];
        for form in forms {
            assert_eq!(normalize(form), "istanbul başkani", "{form:?}");
        }
        // A dot above anything else but i and j stays (composed where Unicode can).
        assert_eq!(normalize("a\u{0307}"), "\u{0227}");
        assert_eq!(normalize("i \u{0307}"), "i \u{0307}");
    }

    #[test]
    fn decomposed_hamza_composes_then_folds() {
        // alef + combining hamza above: NFKC composes to أ, which then folds to ا.
        assert_eq!(normalize("\u{0627}\u{0654}حمد"), "احمد");
    }

    /// What the general path alone makes of `text`.
    fn general(text: &str) -> String {
        let mut out = String::new();
        normalize_general(text, &mut out);
        out
    }

    #[test]
    fn cjk_letters_are_plain_and_fold_to_themselves() {
        let letters: Vec<char> = ('\u{3000}'..='\u{A000}')
            .filter(|&c| is_cjk_letter(c))
            .collect();
        assert_eq!(letters.len(), 86 + 90 + 1 + 6592 + 20992);
        for c in letters {
            assert!(is_plain(c), "{c:?}");
            assert_eq!(fold_char(c), Folded::Char(c), "{c:?}");
            assert_eq!(general(&c.to_string()), c.to_string(), "{c:?}");
        }
    }

    proptest::proptest! {
        /// Draws Arabic, accented Latin, Greek, Cyrillic and Hebrew letters in both
        /// cases, Devanagari letters with vowel signs, virama and nukta (which composes
        /// with न; precomposed and decomposable letters too), Devanagari digits, Thai
        /// letters with marks of two combining classes (so marks meet in either order),
        /// Hangul syllables and conjoining jamo, invisible and separator characters, case
        /// foldings to two characters (ß, ŉ, և) or to a combining sequence
        /// (İ, ΐ), compatibility characters (a no-break space, ², ſ, µ, a presentation
        /// form), combining marks that compose with or follow a letter, and a soft
        /// hyphen: the plain path must give what the general path gives, including
        /// when it gives up part-way and hands over.
        #[test]
        fn fast_paths_agree_with_the_general_path(
            text in "[ a-zA-Z0-9.,'\\t\\n\u{0}\u{7f}中文字豈\u{F900}\u{3400}\u{9FFF}あかがゔアカヴヷーｶﾞ、。々〇\u{3099}\u{309A}\u{309B}\u{309F}\u{30FF}ابتةىأإآؤئءيوهـ\u{064B}-\u{0655}\u{0660}-\u{0669}\u{0670}-\u{0675}،؛؟«»“”‘’–—\u{200C}-\u{200F}ۀۓیکےہ\u{06D5}éßﻻ\u{FEFB}ÉÄçÇœŒДдЖжЁёΣσςΆάΐ\u{00A0}\u{00AD}²ſµİıIijŉ\u{0301}\u{0307}\u{0344}\u{0308}אבשևकनहि\u{093C}\u{094D}\u{0929}\u{0958}०७กุ่\u{0E38}\u{0E48}한\u{1100}\u{1161}\u{11A8}\u{200B}\u{2028}\u{2026}‐]{0,40}"
        ) {
            proptest::prop_assert_eq!(normalize(&text), general(&text));
        }

        /// Text of characters the plain path keeps in three bytes (Devanagari and Thai
        /// letters, vowel signs, viramas and tone marks, whose combining classes make NFKC
        /// reorder some pairs of adjacent marks; Devanagari digits; a zero-width space
        /// that folding drops between two marks), so that it rarely gives up and hands
        /// over.
        #[test]
        fn three_byte_runs_agree_with_the_general_path(
            text in "[ a.कनहि\u{093F}\u{0940}\u{094D}\u{0941}\u{0902}०७กข\u{0E38}\u{0E39}\u{0E48}\u{0E49}\u{0E31}\u{200B}]{0,30}"
        ) {
            proptest::prop_assert_eq!(normalize(&text), general(&text));
        }

        /// ASCII words between runs of spaces, tabs, line breaks, other controls and
        /// DEL, at either end too: the ASCII path's stretches and where they break.
        #[test]
        fn ascii_agrees_with_the_general_path(
            text in "(( {1,3}|\t|\r\n|\u{0}|\u{1f}|\u{7f}|\u{b})?[a-zA-Z0-9.!~]{1,5}){0,12}( {1,2}|\n|\u{7f})?"
        ) {
            proptest::prop_assert_eq!(normalize(&text), general(&text));
        }

        /// The eight-byte test is the byte-by-byte one, on bytes weighted towards the
        /// ones it tells apart.
        #[test]
        fn plain_ascii_words_are_those_tested_byte_by_byte(
            word in proptest::array::uniform8(proptest::prop_oneof![
                proptest::strategy::Just(b' '),
                proptest::strategy::Just(0x7fu8),
                proptest::strategy::Just(0u8),
                proptest::strategy::Just(0x1fu8),
                proptest::strategy::Just(b'!'),
                0u8..0x80
            ])
        ) {
            let separates = |b: u8| b <= b' ' || b == 0x7f;
            let byte_by_byte = word.iter().all(|&b| b >= b' ' && b != 0x7f)
                && word.windows(2).all(|w| !(w[0] == b' ' && separates(w[1])))
                && word[7] != b' ';
            proptest::prop_assert_eq!(plain_ascii_word(u64::from_le_bytes(word)), byte_by_byte);
        }

        /// Words and the whitespace between them, in scripts whose letters mostly fold
        /// to themselves: the plain path's runs, and what interrupts them (capitals,
        /// letters that fold to others, marks it drops, doubled or other whitespace).
        #[test]
        fn plain_runs_agree_with_the_general_path(
            text in "(( {1,3}|\t|\n|\u{0})?[a-zA-Z.ДдЖжЁёΣσςابتةأیکـ\u{064B}ßİı\u{0307}\u{00A0}\u{200C}]{1,6}){0,10} ?"
        ) {
            proptest::prop_assert_eq!(normalize(&text), general(&text));
        }

        /// What the normalizer reports of its output (every character beyond ASCII in
        /// the set, or not; every one in the set or a three-byte letter, or not) is what
        /// a walk over the output finds, for a set with some letters and without others
        /// and one three-byte letter, and the text is the one `normalize` gives.
        #[test]
        fn reported_membership_is_that_of_the_output(
            text in "[ a-zA-Z0-9.,ابتةىأإآـ\u{064B}\u{0660}-\u{0669}،؛؟«»“”ۀéßÉДдЖжΣσςΆ\u{00A0}\u{00AD}²µİ\u{0301}×°©אب\u{4E00}\u{4E01}ȺȾ]{0,30}"
        ) {
            let set = TwoByteSet::from_fn(|c| c.is_alphabetic() && c != 'ж');
            let letter = |c: char| c == '\u{4E00}' || c == 'ⱥ';
            let role = |c: char| if letter(c) { ThreeByteRole::Letter } else { ThreeByteRole::Neither };
            let mut out = String::new();
            let reported = normalize_into_within(&text, &mut out, &set, role);
            proptest::prop_assert_eq!(&out, &normalize(&text));
            if let Some(within) = reported {
                let admitted = out.chars().all(|c| set.admits(c));
                proptest::prop_assert_eq!(within.in_set, admitted, "{:?}", out);
                if let Some(letters) = within.letters {
                    let expected = out.chars().all(|c| set.admits(c) || letter(c));
                    proptest::prop_assert_eq!(letters, expected, "{:?}", out);
                }
            }
        }

        #[test]
        fn normalization_is_idempotent(text in "\\PC{0,40}") {
            let once = normalize(&text);
            proptest::prop_assert_eq!(normalize(&once), once.clone());
        }
    }

    #[test]
    fn idempotent_on_examples() {
        for s in [
            "Straße ﬁ",
            "إِنَّ الأُمَمَ",
            "e\u{0301}\u{0327}",
            "\u{0130}stanbul",
            "i\u{0307}\u{0307}",
            "\u{0130}\u{0307}",
            "j\u{0323}\u{0307}",
            "ǅ",
        ] {
            let once = normalize(s);
            assert_eq!(normalize(&once), once, "not idempotent on {s:?}");
        }
    }
}
