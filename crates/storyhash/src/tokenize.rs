//! Stage 2: word tokenization of normalized text by Unicode word boundaries (UAX #29,
//! via `unicode-segmentation`), so Arabic, Latin, Cyrillic and other spaced scripts split
//! alike, and punctuation never becomes a token. Scripts written without spaces (Han,
//! kana, Thai, Lao, Khmer, Myanmar) have no word boundaries UAX #29 can find without a
//! dictionary, so each of their characters (grapheme clusters: a consonant with its
//! vowel and tone marks) is a token: word n-grams then become character n-grams there,
//! which is what near-duplicate detection uses for those scripts.
//!
//! Optional token filters: stopword removal (before stemming, as Lucene's ArabicAnalyzer
//! orders them) and Arabic light stemming. Tokens are sub-slices of the input.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;
use wide::u8x16;

use crate::normalize::{is_cjk_letter, two_byte_char_at, ThreeByteRole, TwoByteSet};
use crate::stem::stem_arabic;
use crate::stopwords::{Language, StopwordSet};

/// Which token filters to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    pub fn for_each_term<'a>(&self, normalized: &'a str, emit: impl FnMut(&'a str, &'a str)) {
        self.for_each_term_knowing(normalized, BeyondAscii::Unknown, emit);
    }

    /// [`Tokenizer::for_each_token`] for text whose characters beyond ASCII the caller
    /// knows something of (the normalizer tells as it writes): checking again costs a
    /// pass over the text.
    pub(crate) fn for_each_token_knowing<'a>(
        &self,
        normalized: &'a str,
        beyond_ascii: BeyondAscii,
        mut emit: impl FnMut(&'a str),
    ) {
        self.for_each_term_knowing(normalized, beyond_ascii, |_, token| emit(token));
    }

    pub(crate) fn for_each_term_knowing<'a>(
        &self,
        normalized: &'a str,
        beyond_ascii: BeyondAscii,
        mut emit: impl FnMut(&'a str, &'a str),
    ) {
        match beyond_ascii.of(normalized) {
            BeyondAscii::Nothing => self.for_each_ascii_token(normalized, |word| emit(word, word)),
            BeyondAscii::TwoByteLetters | BeyondAscii::Letters => {
                high_letter_words(normalized, |word| self.emit_word(word, &mut emit))
            }
            _ if is_simple_text(normalized) => {
                simple_words(normalized, |word| self.emit_word(word, &mut emit))
            }
            _ => {
                // Characters that are a segment on their own (ideographs, hiragana) are
                // cut out; only the stretches between them ask the UAX #29 segmenter.
                let mut stretch_start = 0;
                let mut chars = normalized.char_indices().peekable();
                while let Some((i, c)) = chars.next() {
                    let alone = is_segment_alone(c)
                        && chars.peek().is_none_or(|&(_, next)| never_attaches(next));
                    if alone {
                        let stretch = &normalized[stretch_start..i];
                        self.segment_words(stretch, &mut emit);
                        stretch_start = i + c.len_utf8();
                        self.emit_word(&normalized[i..stretch_start], &mut emit);
                    }
                }
                self.segment_words(&normalized[stretch_start..], &mut emit);
            }
        }
    }

    /// The words of `text` by the UAX #29 segmenter (`unicode-segmentation`).
    fn segment_words<'a>(&self, text: &'a str, emit: &mut impl FnMut(&'a str, &'a str)) {
        for word in text.split_word_bounds().filter(|w| has_letter_or_digit(w)) {
            self.emit_word(word, emit);
        }
    }

    /// [`Tokenizer::for_each_token`] for ASCII text. No stemming or unspaced scripts
    /// apply to ASCII: only stopwords remain.
    fn for_each_ascii_token<'a>(&self, ascii: &'a str, mut emit: impl FnMut(&'a str)) {
        debug_assert!(ascii.is_ascii());
        let no_stopwords = self.stopwords.is_empty();
        ascii_words(ascii, |word| {
            if no_stopwords || !self.stopwords.contains(word) {
                emit(word);
            }
        });
    }

    /// The byte ranges of the tokens of normalized text where every word is a token as
    /// it stands: a tokenizer without stopwords or stemming, and text the mask segmenter
    /// takes whole (ASCII, or letters of two or three bytes and marks after letters as
    /// its only other characters, which leaves out the unspaced scripts). `beyond_ascii`
    /// is what the caller knows of the text's other characters. Returns false, having
    /// emitted nothing, for any other text or tokenizer.
    pub(crate) fn try_for_each_span(
        &self,
        normalized: &str,
        beyond_ascii: BeyondAscii,
        emit: impl FnMut(usize, usize),
    ) -> bool {
        if !self.stopwords.is_empty() {
            return false;
        }
        match beyond_ascii.of(normalized) {
            BeyondAscii::Nothing => word_spans::<false>(normalized.as_bytes(), emit),
            BeyondAscii::TwoByteLetters | BeyondAscii::Letters if !self.stem_arabic => {
                word_spans::<true>(normalized.as_bytes(), emit)
            }
            _ => return false,
        }
        true
    }

    fn emit_word<'a>(&self, word: &'a str, emit: &mut impl FnMut(&'a str, &'a str)) {
        if word.chars().next().is_some_and(is_unspaced_script) {
            // Split the run into characters; mixed runs keep spaced parts whole.
            split_unspaced(word, &mut |t| emit(t, t));
            return;
        }
        if !self.stopwords.is_empty() && self.stopwords.contains(word) {
            return;
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

    /// The tokens of normalized text as a vector.
    pub fn tokens<'a>(&self, normalized: &'a str) -> Vec<&'a str> {
        let mut tokens = Vec::new();
        self.for_each_token(normalized, |t| tokens.push(t));
        tokens
    }
}

/// UAX #29 word-break classes of the characters the fast segmenter handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordClass {
    /// ALetter: the letters of Latin, Greek, Cyrillic, Armenian, Arabic and the other
    /// scripts below U+0800 but Hebrew.
    Letter,
    /// Numeric: ASCII digits.
    Digit,
    /// MidLetter (`:`): joins letters only.
    MidLetter,
    /// MidNumLet (`.`) and Single_Quote (`'`): join letters, or digits.
    MidNumLet,
    /// MidNum (`,` `;`): join digits only.
    MidNum,
    /// ExtendNumLet (`_`): joins anything alphanumeric or itself.
    ExtendNumLet,
    /// Everything else handled here: always a boundary.
    Other,
}

/// The class of `c`, if the fast segmenter knows it (None: use the general one).
fn word_class(c: char) -> Option<WordClass> {
    Some(match c {
        'a'..='z' | 'A'..='Z' => WordClass::Letter,
        '0'..='9' => WordClass::Digit,
        ':' => WordClass::MidLetter,
        '.' | '\'' => WordClass::MidNumLet,
        ',' | ';' => WordClass::MidNum,
        '_' => WordClass::ExtendNumLet,
        '\0'..='\u{7F}' => WordClass::Other,
        '\u{80}'..='\u{7FF}' => return two_byte_class(c),
        // The two non-ASCII symbols that normalized news text keeps most.
        '\u{20AC}' | '\u{2022}' => WordClass::Other,
        _ => return None,
    })
}

/// Word_Break = ALetter among the characters U+0080–U+07FF (UAX #29's
/// WordBreakProperty.txt, Unicode 17, as unicode-segmentation 1.13 implements it; every entry
/// is checked against it in the tests).
const TWO_BYTE_LETTERS: [(u32, u32); 39] = [
    (0x00AA, 0x00AA),
    (0x00B5, 0x00B5),
    (0x00BA, 0x00BA),
    (0x00C0, 0x00D6),
    (0x00D8, 0x00F6),
    (0x00F8, 0x02C1),
    (0x02C6, 0x02D1),
    (0x02E0, 0x02E4),
    (0x02EC, 0x02EC),
    (0x02EE, 0x02EE),
    (0x0370, 0x0374),
    (0x0376, 0x0377),
    (0x037A, 0x037D),
    (0x037F, 0x037F),
    (0x0386, 0x0386),
    (0x0388, 0x038A),
    (0x038C, 0x038C),
    (0x038E, 0x03A1),
    (0x03A3, 0x03F5),
    (0x03F7, 0x0481),
    (0x048A, 0x052F),
    (0x0531, 0x0556),
    (0x0559, 0x0559),
    (0x0560, 0x0588),
    (0x0620, 0x064A),
    (0x066E, 0x066F),
    (0x0671, 0x06D3),
    (0x06D5, 0x06D5),
    (0x06E5, 0x06E6),
    (0x06EE, 0x06EF),
    (0x06FA, 0x06FC),
    (0x06FF, 0x06FF),
    (0x0710, 0x0710),
    (0x0712, 0x072F),
    (0x074D, 0x07A5),
    (0x07B1, 0x07B1),
    (0x07CA, 0x07EA),
    (0x07F4, 0x07F5),
    (0x07FA, 0x07FA),
];

/// Word_Break = Other (always a boundary) among U+0080–U+07FF: Latin-1 punctuation and
/// symbols (« » ¿ ¡ § ° © × ÷, the no-break space), C1 controls, and punctuation and
/// unassigned points of the other blocks. Checked like [`TWO_BYTE_LETTERS`].
const TWO_BYTE_OTHERS: [(u32, u32); 46] = [
    (0x0080, 0x00A9),
    (0x00AB, 0x00AC),
    (0x00AE, 0x00B1),
    (0x00B4, 0x00B4),
    (0x00B6, 0x00B6),
    (0x00BB, 0x00BB),
    (0x00BF, 0x00BF),
    (0x00D7, 0x00D7),
    (0x00F7, 0x00F7),
    (0x02D8, 0x02DD),
    (0x0375, 0x0375),
    (0x0378, 0x0379),
    (0x037E, 0x037E),
    (0x0380, 0x0385),
    (0x038B, 0x038B),
    (0x038D, 0x038D),
    (0x03A2, 0x03A2),
    (0x03F6, 0x03F6),
    (0x0482, 0x0482),
    (0x0530, 0x0530),
    (0x0557, 0x0558),
    (0x055D, 0x055D),
    (0x0589, 0x0589),
    (0x058B, 0x0590),
    (0x05BE, 0x05BE),
    (0x05C0, 0x05C0),
    (0x05C3, 0x05C3),
    (0x05C6, 0x05C6),
    (0x05C8, 0x05CF),
    (0x05EB, 0x05EE),
    (0x05F5, 0x05FF),
    (0x0606, 0x060F),
    (0x061B, 0x061B),
    (0x061D, 0x061F),
    (0x066A, 0x066A),
    (0x066C, 0x066D),
    (0x06D4, 0x06D4),
    (0x06DE, 0x06DE),
    (0x06E9, 0x06E9),
    (0x06FD, 0x06FE),
    (0x0700, 0x070E),
    (0x074B, 0x074C),
    (0x07B2, 0x07BF),
    (0x07F6, 0x07F9),
    (0x07FB, 0x07FC),
    (0x07FE, 0x07FF),
];

/// [`word_class`] of U+0080–U+07FF, by code point − 0x80: letters and boundaries from the
/// two lists above; the rest (combining marks, Hebrew letters with their own quote
/// rules, non-ASCII digits and mid-word punctuation, format characters) is left to the
/// general segmenter. One lookup per character for Latin-1, Greek, Cyrillic or Arabic
/// text.
const TWO_BYTE_CLASSES: [Option<WordClass>; 0x780] = {
    let mut classes = [None; 0x780];
    let lists: [(&[(u32, u32)], WordClass); 2] = [
        (&TWO_BYTE_LETTERS, WordClass::Letter),
        (&TWO_BYTE_OTHERS, WordClass::Other),
    ];
    let mut list = 0;
    while list < lists.len() {
        let (ranges, class) = lists[list];
        let mut range = 0;
        while range < ranges.len() {
            let (first, last) = ranges[range];
            let mut cp = first;
            while cp <= last {
                classes[(cp - 0x80) as usize] = Some(class);
                cp += 1;
            }
            range += 1;
        }
        list += 1;
    }
    classes
};

/// What a caller of [`Tokenizer::try_for_each_span`] knows of a normalized text's
/// characters beyond ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BeyondAscii {
    /// The text is ASCII.
    Nothing,
    /// Every character beyond ASCII is in [`two_byte_letters`].
    TwoByteLetters,
    /// Every character beyond ASCII is a letter of two or three bytes or a mark right
    /// after one ([`letters_of`]).
    Letters,
    /// Some character beyond ASCII is neither such a letter nor such a mark.
    Other,
    /// Not known: the tokenizer checks.
    Unknown,
}

impl BeyondAscii {
    /// What is known of `normalized`, checking it if nothing was (and, in debug builds,
    /// checking what a caller claims).
    pub(crate) fn of(self, normalized: &str) -> BeyondAscii {
        debug_assert!(self != BeyondAscii::Nothing || normalized.is_ascii());
        debug_assert!(self != BeyondAscii::TwoByteLetters || letters_beyond_ascii(normalized));
        debug_assert!(
            !matches!(self, BeyondAscii::Letters | BeyondAscii::Other)
                || letters_of(normalized) == self,
            "{self:?} claimed of {normalized:?}"
        );
        match self {
            BeyondAscii::Unknown => letters_of(normalized),
            known => known,
        }
    }
}

/// The two-byte characters the fast segmenter takes as letters (UAX #29 ALetter), for
/// the normalizer to report on while it writes the text
/// ([`crate::normalize::normalize_into_within`]).
pub(crate) fn two_byte_letters() -> &'static TwoByteSet {
    static LETTERS: OnceLock<TwoByteSet> = OnceLock::new();
    LETTERS.get_or_init(|| TwoByteSet::from_fn(|c| two_byte_class(c) == Some(WordClass::Letter)))
}

/// Whether every non-ASCII character of `text` is a two-byte letter (accented Latin,
/// Greek, Cyrillic, Arabic...): most normalized text that is not ASCII, since
/// normalization turns typographic quotes, dashes and spaces into ASCII.
fn letters_beyond_ascii(text: &str) -> bool {
    matches!(
        letters_of(text),
        BeyondAscii::Nothing | BeyondAscii::TwoByteLetters
    )
}

/// Whether every non-ASCII character of `text` is a letter the fast segmenter can
/// treat as a run of letter bytes (see [`letters_of`]).
#[cfg(test)]
fn word_letters_beyond_ascii(text: &str) -> bool {
    letters_of(text) != BeyondAscii::Other
}

/// What `text`'s characters beyond ASCII are, in one walk: none (`Nothing`), two-byte
/// letters only (`TwoByteLetters`), letters of two or three bytes and three-byte marks
/// right after a letter or after such a mark (`Letters`: three-byte letters are UAX #29
/// ALetter, Devanagari and the other Indic scripts, Georgian, Ethiopic, Hangul...), or
/// anything else (`Other`). The mask segmenter treats each byte of such a letter as a
/// letter byte. UAX #29 attaches a mark to what precedes it (WB4), so after a letter it
/// changes nothing and counts as one more letter; after anything else it would not.
fn letters_of(text: &str) -> BeyondAscii {
    let bytes = text.as_bytes();
    let (mut beyond, mut three_bytes) = (false, false);
    let mut after_letter = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            after_letter = b.is_ascii_alphabetic();
            i += 1;
            continue;
        }
        beyond = true;
        if let Some(c) = two_byte_char_at(bytes, i) {
            if two_byte_class(c) != Some(WordClass::Letter) {
                return BeyondAscii::Other;
            }
            after_letter = true;
            i += 2;
        } else if b & 0xF0 == 0xE0 {
            let Some(c) = text.get(i..i + 3).and_then(|s| s.chars().next()) else {
                return BeyondAscii::Other;
            };
            match three_byte_role(c) {
                ThreeByteRole::Letter => after_letter = true,
                ThreeByteRole::Mark if after_letter => {}
                _ => return BeyondAscii::Other,
            }
            three_bytes = true;
            i += 3;
        } else {
            return BeyondAscii::Other;
        }
    }
    match (beyond, three_bytes) {
        (false, _) => BeyondAscii::Nothing,
        (true, false) => BeyondAscii::TwoByteLetters,
        (true, true) => BeyondAscii::Letters,
    }
}

/// How the fast segmenter takes a three-byte character: what [`letters_of`] asks of
/// each, and what the normalizer reports on while it writes the text
/// ([`crate::normalize::normalize_into_within`]). Ideographs are known without asking
/// (their blocks' tables are never built for this).
pub(crate) fn three_byte_role(c: char) -> ThreeByteRole {
    if is_cjk_ideograph(c) {
        return ThreeByteRole::Neither;
    }
    match three_byte_word_kind(c) {
        Some(ThreeByteWord::Letter) => ThreeByteRole::Letter,
        Some(ThreeByteWord::Mark) => ThreeByteRole::Mark,
        None => ThreeByteRole::Neither,
    }
}

/// How the fast segmenter may treat a three-byte character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ThreeByteWord {
    /// Behaves as `a` does in UAX #29 word segmentation.
    Letter,
    /// Behaves as a combining mark (U+0301, or the alphabetic U+0345) does.
    Mark,
}

/// The [`ThreeByteWord`] of `c`, if it has one (None for characters of other lengths).
/// Found by asking unicode-segmentation itself how the character segments in
/// [`PROBES`] against a model letter and a model mark: unicode-segmentation keeps its
/// tables private, and a table copied here could drift from the version linked.
fn three_byte_word_kind(c: char) -> Option<ThreeByteWord> {
    let flags = three_byte_flags(c)?;
    if flags & LETTER != 0 {
        Some(ThreeByteWord::Letter)
    } else if flags & MARK != 0 {
        Some(ThreeByteWord::Mark)
    } else {
        None
    }
}

/// Whether `unicode_words` counts the three-byte character `c` as a letter or digit
/// (None for characters of other lengths): what keeps a segment of Thai or another
/// script of such characters, asked without a lookup in the Unicode tables per
/// segment (half the time of a Thai article).
fn three_byte_alphanumeric(c: char) -> Option<bool> {
    Some(three_byte_flags(c)? & ALPHANUMERIC != 0)
}

/// Whether `c` is a word segment on its own whatever stands before it, and after it
/// unless a mark, joiner or format character follows (which UAX #29 attaches to what
/// precedes it, WB4): the three-byte characters that segment as an ideograph does
/// (ideographs, hiragana; a letter each, so the segment is a word). No rule joins
/// anything to them, so the text on either side segments as it would on its own.
fn is_segment_alone(c: char) -> bool {
    is_cjk_ideograph(c) || three_byte_flags(c).is_some_and(|flags| flags & ALONE != 0)
}

/// CJK Unified Ideographs and Extension A: segments alone in every Unicode version.
fn is_cjk_ideograph(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}')
}

/// Whether UAX #29 never attaches `c` to the character before it (WB4): ASCII, the
/// two-byte characters of known class (letters and boundaries), three-byte letters and
/// characters that segment alone.
fn never_attaches(c: char) -> bool {
    c.is_ascii()
        || two_byte_class(c).is_some()
        || is_cjk_ideograph(c)
        || three_byte_flags(c).is_some_and(|flags| flags & (LETTER | ALONE) != 0)
}

/// Bits of [`three_byte_flags`].
const LETTER: u8 = 1;
const MARK: u8 = 2;
const ALPHANUMERIC: u8 = 4;
/// Segments as an ideograph does ([`is_segment_alone`]).
const ALONE: u8 = 8;

/// What unicode-segmentation makes of a three-byte character, asked once per process
/// for each block of 128 characters, when a first text holds one of them (about a
/// millisecond a block; all 496 blocks would take over 100 ms, which a report on a few
/// Hindi articles should not pay for Hangul).
fn three_byte_flags(c: char) -> Option<u8> {
    const BLOCK: usize = 128;
    const BLOCKS: usize = (0x10000 - 0x800) / BLOCK;
    static FLAGS: [OnceLock<[u8; BLOCK]>; BLOCKS] = [const { OnceLock::new() }; BLOCKS];
    let offset = u32::from(c).checked_sub(0x800)? as usize;
    let block = offset / BLOCK;
    let flags = FLAGS.get(block)?.get_or_init(|| {
        std::array::from_fn(|i| {
            let Some(c) = char::from_u32((0x800 + block * BLOCK + i) as u32) else {
                return 0; // a surrogate
            };
            let word = match probe_three_byte_word(c) {
                Some(ThreeByteWord::Letter) => LETTER,
                Some(ThreeByteWord::Mark) => MARK,
                None => 0,
            };
            // A character alone is a word exactly when it is a letter or digit.
            let alphanumeric = c.to_string().unicode_words().next().is_some();
            // Ideographs are known without asking (and are most of these blocks). The
            // model is not 中, which the probes hold.
            let alone = alphanumeric && word == 0 && !is_cjk_ideograph(c) && segments_like(c, '一');
            word | if alphanumeric { ALPHANUMERIC } else { 0 } | if alone { ALONE } else { 0 }
        })
    });
    Some(flags[offset % BLOCK])
}

/// Contexts that tell UAX #29 word-break classes apart: next to letters, digits, each
/// kind of mid-word punctuation, `_`, quotes (which Hebrew letters treat apart), marks
/// and joiners, Arabic, CJK and kana. `{}` stands for the character.
const PROBES: [&str; 27] = [
    "{}",
    "x{}y",
    "1{}",
    "{}1",
    "x:{}",
    "{}:x",
    "x.{}",
    "{}.x",
    "{}'",
    "'{}",
    "{}'x",
    "x'{}",
    "{}_",
    "_{}",
    "{}\"{}",
    "{} {}",
    "1.{}",
    "{}.1",
    "{},1",
    "ا{}",
    "{}ا",
    "中{}",
    "{}ア",
    "{}\u{301}",
    "{}\u{200D}x",
    "x{}{}",
    " {}x",
];

/// Whether `c` segments as `model` does in every one of [`PROBES`].
fn segments_like(c: char, model: char) -> bool {
    let words = |text: &str| -> Vec<String> { text.unicode_words().map(str::to_string).collect() };
    let (c, model) = (c.to_string(), model.to_string());
    PROBES.iter().all(|probe| {
        let with_model: Vec<String> = words(&probe.replace("{}", &model))
            .iter()
            .map(|w| w.replace(&model, &c))
            .collect();
        words(&probe.replace("{}", &c)) == with_model
    })
}

/// [`ThreeByteWord`] of `c` from unicode-segmentation (see [`three_byte_word_kind`]).
fn probe_three_byte_word(c: char) -> Option<ThreeByteWord> {
    if c.len_utf8() != 3 || is_unspaced_script(c) {
        return None;
    }
    if c.is_alphabetic() && segments_like(c, 'a') {
        return Some(ThreeByteWord::Letter);
    }
    // A mark joins what precedes it: cheap to refuse most other characters by that.
    let joins_after = |prefix: &str| {
        let text = format!("{prefix}{c}");
        text.unicode_words().eq(std::iter::once(text.as_str()))
    };
    // Two models: unicode_words keeps a segment holding an alphabetic character, and
    // most Indic vowel signs are alphabetic (as U+0345 is), accents not (U+0301). After
    // a letter, where the fast path takes marks, the segment is kept either way.
    if joins_after("a") && (segments_like(c, '\u{301}') || segments_like(c, '\u{345}')) {
        return Some(ThreeByteWord::Mark);
    }
    None
}

/// [`word_class`] of a character of U+0080–U+07FF (None for any other).
#[inline]
fn two_byte_class(c: char) -> Option<WordClass> {
    let offset = (u32::from(c) as usize).wrapping_sub(0x80);
    TWO_BYTE_CLASSES.get(offset).copied().flatten()
}

/// Whether every character of `text` has a class the fast segmenter knows. True for
/// normalized ASCII, and for text in the scripts below U+0800 (accented Latin, Greek,
/// Cyrillic, Arabic) unless it holds a combining mark or a Hebrew letter: nearly all
/// of our input. Walks bytes, decoding two-byte characters itself.
fn is_simple_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let lead = bytes[i];
        if lead < 0x80 {
            i += 1;
        } else if let Some(c) = two_byte_char_at(bytes, i) {
            if two_byte_class(c).is_none() {
                return false;
            }
            i += 2;
        } else {
            // Three or four bytes: rare enough to decode the general way.
            match text.get(i..).and_then(|rest| rest.chars().next()) {
                Some(c) if word_class(c).is_some() => i += c.len_utf8(),
                _ => return false,
            }
        }
    }
    true
}

/// UAX #29 word segmentation restricted to the classes of [`word_class`], emitting the
/// segments `unicode_words` would (those with a letter or digit). Implements rules WB5–
/// WB13b: letters and digits join each other and `_`; `:` joins letters, `.` and `'` join
/// letters or digits, `,` and `;` join digits, each only between two of their kind.
/// Walks the bytes once without allocating. Agreement with `unicode-segmentation` is
/// property-tested.
fn simple_words<'a>(text: &'a str, mut emit: impl FnMut(&'a str)) {
    use WordClass::*;
    let bytes = text.as_bytes();
    // The class and byte length of the character at byte `i`.
    let class_at = |i: usize| -> Option<(WordClass, usize)> {
        let &b = bytes.get(i)?;
        if b < 0x80 {
            return Some((ASCII_CLASSES[b as usize], 1));
        }
        if let Some(c) = two_byte_char_at(bytes, i) {
            return Some((word_class(c).unwrap_or(Other), 2));
        }
        let c = text[i..].chars().next()?;
        Some((word_class(c).unwrap_or(Other), c.len_utf8()))
    };
    let mut i = 0;
    while let Some((first, first_len)) = class_at(i) {
        if !matches!(first, Letter | Digit | ExtendNumLet) {
            i += first_len;
            continue;
        }
        let start = i;
        let mut has_alphanumeric = false;
        let (mut current, mut current_len) = (first, first_len);
        loop {
            has_alphanumeric |= matches!(current, Letter | Digit);
            let next_at = i + current_len;
            let Some((next, next_len)) = class_at(next_at) else {
                break;
            };
            if matches!(current, Letter | Digit | ExtendNumLet)
                && matches!(next, Letter | Digit | ExtendNumLet)
            {
                (i, current, current_len) = (next_at, next, next_len);
                continue;
            }
            let after_at = next_at + next_len;
            let joined = match (current, next, class_at(after_at)) {
                (Letter, MidLetter | MidNumLet, Some((Letter, len))) => Some((Letter, len)),
                (Digit, MidNum | MidNumLet, Some((Digit, len))) => Some((Digit, len)),
                _ => None,
            };
            match joined {
                Some((class, len)) => (i, current, current_len) = (after_at, class, len),
                None => break,
            }
        }
        let end = i + current_len;
        if has_alphanumeric {
            emit(&text[start..end]);
        }
        i = end;
    }
}

/// [`simple_words`] for ASCII text: the same rules over bytes, branch-light. A bit mask
/// marks bytes that belong to words (letters, digits, `_`, and the rare `.` `'` `:` `,`
/// `;` that sit between two letters or two digits); words are then the runs of set bits,
/// found with `trailing_zeros` rather than a branch per byte.
fn ascii_words<'a>(text: &'a str, emit: impl FnMut(&'a str)) {
    block_words::<false>(text, emit);
}

/// [`ascii_words`] for text whose every non-ASCII character is a letter
/// ([`letters_beyond_ascii`]): each byte of such a character counts as a letter byte,
/// so a multi-byte letter is a run of letter bytes and the rules act on it as on an
/// ASCII letter. Accented Latin, Cyrillic or Arabic text then segments 64 bytes per
/// step too.
fn high_letter_words<'a>(text: &'a str, emit: impl FnMut(&'a str)) {
    block_words::<true>(text, emit);
}

/// The segmenter behind [`ascii_words`] and [`high_letter_words`]; `HIGH_LETTERS` says
/// whether bytes at or above 0x80 are letter bytes (else the text is ASCII).
fn block_words<'a, const HIGH_LETTERS: bool>(text: &'a str, mut emit: impl FnMut(&'a str)) {
    word_spans::<HIGH_LETTERS>(text.as_bytes(), |start, end| emit(&text[start..end]));
}

/// [`block_words`] as byte ranges `start..end`: what a caller that hashes words where
/// they lie needs, without a `&str` slice (and its character boundary checks) per word.
/// Every boundary lies next to an ASCII byte, so each range is also a `str` boundary.
fn word_spans<const HIGH_LETTERS: bool>(bytes: &[u8], mut emit: impl FnMut(usize, usize)) {
    let n = bytes.len();
    let mut emit_word = |start: usize, end: usize| {
        // A run of `_` alone has no letter or digit and is not a word.
        if bytes[start] != b'_' || bytes[start..end].iter().any(|&b| b != b'_') {
            emit(start, end);
        }
    };
    // Start of a word still running at the end of the previous block.
    let mut open: Option<usize> = None;
    // Whether the last byte of the previous block belongs to a word.
    let mut carry = 0u64;
    let mut base = 0;
    while base < n {
        let block = &bytes[base..n.min(base + 64)];
        let (mut mask, mut mids) = classify_block::<HIGH_LETTERS>(block);
        while mids != 0 {
            let j = mids.trailing_zeros() as usize;
            mids &= mids - 1;
            if bridges::<HIGH_LETTERS>(bytes, base + j) {
                mask |= 1 << j;
            }
        }
        // Bit j of `starts`: a word starts at byte j; of `ends`: one ended just before
        // byte j. They alternate, so each end closes the oldest unclosed start. A word
        // reaching the last byte of a full block has its end in a later block (or at n).
        let before = (mask << 1) | carry;
        let mut starts = mask & !before;
        let mut ends = !mask & before;
        while ends != 0 {
            let end = ends.trailing_zeros() as usize;
            ends &= ends - 1;
            let start = open.take().unwrap_or_else(|| {
                let start = starts.trailing_zeros() as usize;
                starts &= starts - 1;
                base + start
            });
            emit_word(start, base + end);
        }
        if starts != 0 {
            open = Some(base + starts.trailing_zeros() as usize);
        }
        carry = mask >> 63;
        base += block.len();
    }
    if let Some(word_start) = open {
        emit_word(word_start, n);
    }
}

/// Classifies up to 64 bytes at once: bit j of the first mask is set when byte j is a
/// letter, digit or `_` (joins directly), of the second when it is one of the joiners
/// `.` `'` `:` `,` `;`. With `HIGH_LETTERS`, bytes at or above 0x80 are letter bytes;
/// without, the block must be ASCII.
///
/// Sixteen bytes per step as `wide` vectors (SSE2 on x86-64, NEON on AArch64, plain
/// arrays elsewhere): byte comparisons, then one `move_mask` per mask. The flag arrays
/// the compiler vectorized before still had to be packed eight bytes per 64-bit
/// multiplication, which SSE2 lacks (three `pmuludq` each): classification took 443
/// instructions per block.
#[inline]
fn classify_block<const HIGH_LETTERS: bool>(block: &[u8]) -> (u64, u64) {
    debug_assert!(block.len() <= 64 && (HIGH_LETTERS || block.is_ascii()));
    let mut padded = [0u8; 64];
    let block: &[u8; 64] = match block.try_into() {
        Ok(full) => full,
        Err(_) => {
            // NUL is `Other`: padding never joins or bridges anything.
            padded[..block.len()].copy_from_slice(block);
            &padded
        }
    };
    let (mut words, mut joiners) = (0u64, 0u64);
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        let (word, joiner) = classify_16::<HIGH_LETTERS>(chunk);
        words |= u64::from(word) << (16 * k);
        joiners |= u64::from(joiner) << (16 * k);
    }
    (words, joiners)
}

/// [`classify_block`] for sixteen bytes: the word and joiner masks.
#[inline(always)]
fn classify_16<const HIGH_LETTERS: bool>(chunk: &[u8]) -> (u16, u16) {
    let mut lanes = [0u8; 16];
    lanes.copy_from_slice(chunk);
    let x = u8x16::new(lanes);
    let splat = u8x16::splat;
    // `x - low <= span`, unsigned: the saturating difference past `span` is zero.
    let within = |low: u8, span: u8| {
        (x - splat(low))
            .saturating_sub(splat(span))
            .cmp_eq(splat(0))
    };
    // `x | 0x20` maps A–Z onto a–z and no other byte into a–z.
    let letter = ((x | splat(0x20)) - splat(b'a'))
        .saturating_sub(splat(25))
        .cmp_eq(splat(0));
    let mut word = letter | within(b'0', 9) | x.cmp_eq(splat(b'_'));
    if HIGH_LETTERS {
        // Only the high bit of each lane is read: bytes at or above 0x80 have it.
        word |= x;
    }
    let joiner =
        within(b':', 1) | x.cmp_eq(splat(b',')) | x.cmp_eq(splat(b'.')) | x.cmp_eq(splat(b'\''));
    (word.move_mask() as u16, joiner.move_mask() as u16)
}

/// Whether the `.` `'` `:` `,` `;` at `i` joins the characters around it (WB6/7, WB11/12).
fn bridges<const HIGH_LETTERS: bool>(bytes: &[u8], i: usize) -> bool {
    use WordClass::*;
    if i == 0 || i + 1 >= bytes.len() {
        return false;
    }
    let class = |b: u8| {
        if HIGH_LETTERS && b >= 0x80 {
            Letter
        } else {
            ASCII_CLASSES[(b & 0x7F) as usize]
        }
    };
    matches!(
        (class(bytes[i - 1]), class(bytes[i]), class(bytes[i + 1])),
        (Letter, MidLetter | MidNumLet, Letter) | (Digit, MidNum | MidNumLet, Digit)
    )
}

/// [`word_class`] of each ASCII byte, as a table.
const ASCII_CLASSES: [WordClass; 128] = {
    let mut table = [WordClass::Other; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' => WordClass::Letter,
            b'0'..=b'9' => WordClass::Digit,
            b':' => WordClass::MidLetter,
            b'.' | b'\'' => WordClass::MidNumLet,
            b',' | b';' => WordClass::MidNum,
            b'_' => WordClass::ExtendNumLet,
            _ => WordClass::Other,
        };
        b += 1;
    }
    table
};

/// Emits each character of an unspaced-script run as its own token, keeping any
/// spaced-script stretch inside the run (e.g. a Latin brand name in Japanese) whole.
/// A character is a grapheme cluster (UAX #29): a Thai, Lao, Khmer or Myanmar consonant
/// keeps its vowel and tone marks (สวัสดี → ส วั ส ดี), which on their own are no
/// character a reader sees and would make shingles of marks.
fn split_unspaced<'a>(word: &'a str, emit: &mut impl FnMut(&'a str)) {
    let mut chars = word.chars();
    if let (Some(_), None) = (chars.next(), chars.next()) {
        // A run of one character (each ideograph is a word segment of its own).
        emit(word);
        return;
    }
    let mut spaced_start = None;
    for (i, grapheme) in word.grapheme_indices(true) {
        if grapheme.chars().next().is_some_and(is_unspaced_script) {
            if let Some(start) = spaced_start.take() {
                emit(&word[start..i]);
            }
            emit(grapheme);
        } else if spaced_start.is_none() {
            spaced_start = Some(i);
        }
    }
    if let Some(start) = spaced_start {
        emit(&word[start..]);
    }
}

/// Scripts written without spaces between words. Asked once per word: the first test
/// settles it for Latin, Arabic and every other script below Thai.
pub fn is_unspaced_script(c: char) -> bool {
    c >= '\u{0E00}'
        && matches!(c,
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

/// Whether a word-bound segment holds a letter or digit: the filter by which
/// `unicode_words` keeps segments, answered without its Unicode tables for ASCII, for
/// CJK ideographs and kana (letters in every Unicode version), and for three-byte
/// characters (from [`three_byte_alphanumeric`]). Each ideograph, and each Thai
/// character, is a segment of its own, and looking each up in the full tables was a
/// fifth of the time of Chinese text and half of Thai. Segments with characters of
/// other lengths ask `unicode_words` itself, which gives a segment exactly when one of
/// its characters is a letter or digit, however it splits it.
fn has_letter_or_digit(segment: &str) -> bool {
    if segment.is_ascii() {
        return segment.bytes().any(|b| b.is_ascii_alphanumeric());
    }
    let mut unknown = false;
    for c in segment.chars() {
        if c.is_ascii_alphanumeric() || is_cjk_letter(c) {
            return true;
        }
        match three_byte_alphanumeric(c) {
            Some(true) => return true,
            Some(false) => {}
            None => unknown |= !c.is_ascii(),
        }
    }
    unknown && segment.unicode_words().next().is_some()
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
        assert_eq!(plain().tokens("สวัสดี"), ["ส", "วั", "ส", "ดี"]);
        assert_eq!(plain().tokens("ថ្ងៃនេះ"), ["ថ្", "ងៃ", "នេះ"]);
        assert_eq!(
            plain().tokens("ソニーのPS5"),
            ["ソ", "ニ", "ー", "の", "PS5"]
        );
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

    /// Every two-byte character the tables class behaves, in unicode-segmentation, as
    /// `a` (a letter) or `!` (a boundary) does, in the contexts of [`PROBES`], which tell
    /// the UAX #29 classes apart.
    #[test]
    fn two_byte_classes_agree_with_unicode_segmentation() {
        let mut checked = 0;
        for c in (0x80..0x800).filter_map(char::from_u32) {
            let model = match two_byte_class(c) {
                Some(WordClass::Letter) => 'a',
                Some(WordClass::Other) => '!',
                Some(class) => panic!("{c:?}: unexpected class {class:?}"),
                None => continue,
            };
            assert!(
                segments_like(c, model),
                "U+{:04X} as {model:?}",
                u32::from(c)
            );
            checked += 1;
        }
        assert!(checked > 1_500, "{checked}");
    }

    proptest::proptest! {
        #[test]
        fn fast_segmenter_agrees_with_unicode_segmentation(
            text in "[a-zA-Z0-9 .:,;'_\\-!?()\\n\\tابتهيوءئؤلٱپۀéàçœßÉДжЁΣςάԱա«»¿¡°×\u{00A0}\u{0085}€•]{0,30}"
        ) {
            proptest::prop_assume!(is_simple_text(&text));
            let mut fast = Vec::new();
            simple_words(&text, |w| fast.push(w));
            let reference: Vec<&str> = text.unicode_words().collect();
            proptest::prop_assert_eq!(fast, reference);
        }
    }

    proptest::proptest! {
        /// Word-bound segments kept by `has_letter_or_digit` are exactly `unicode_words`,
        /// in Chinese, Japanese and Thai text mixed with Latin, Arabic, Hebrew,
        /// Devanagari, marks (Thai and Devanagari vowel signs among them), digits of
        /// other scripts, punctuation, symbols and emoji.
        #[test]
        fn letter_or_digit_segments_are_unicode_words(
            text in "[a-zA-Z0-9 .,'\n中文字豈\u{3400}\u{9FFF}\u{20000}あかがアカヴーｶﾞ、。「」々〇\u{3099}\u{309B}０１ابتـ\u{064B}אב\u{0301}\u{0660}\u{0966}\u{1F600}\u{200D}½²กขฯๆ\u{0E31}\u{0E48}๑฿क\u{093F}।€™\u{2028}\u{FFFD}]{0,30}"
        ) {
            let ours: Vec<&str> = text.split_word_bounds().filter(|w| has_letter_or_digit(w)).collect();
            let reference: Vec<&str> = text.unicode_words().collect();
            proptest::prop_assert_eq!(ours, reference);
        }
    }

    proptest::proptest! {
        /// The byte walk accepts exactly the texts whose every character has a class,
        /// whatever the lengths of their encodings (one to four bytes, known or not).
        #[test]
        fn simple_text_check_is_per_character(
            text in "[a-z .ابتهيوٱپۀ\u{0640}\u{064B}éжΩ\u{0800}\u{200F}中\u{1F600}]{0,20}"
        ) {
            let per_character = text.chars().all(|c| word_class(c).is_some());
            proptest::prop_assert_eq!(is_simple_text(&text), per_character);
        }
    }

    proptest::proptest! {
        #[test]
        fn ascii_segmenter_agrees_with_unicode_segmentation(
            text in "[a-zA-Z0-9 .:,;'_\\-!?()\\n\\t\u{0}\u{7f}]{0,300}"
        ) {
            let mut fast = Vec::new();
            ascii_words(&text, |w| fast.push(w));
            let reference: Vec<&str> = text.unicode_words().collect();
            proptest::prop_assert_eq!(fast, reference);
        }
    }

    #[test]
    fn block_classes_agree_with_the_class_table() {
        // Every byte at every position of a full and a partial block, among spaces and
        // among high bytes (whose carries must not reach their neighbours): ASCII bytes
        // by the class table, in both modes; high bytes as letters.
        for b in 0u8..=255 {
            for filler in [b' ', 0xFF] {
                for (len, j) in [(64, 0), (64, 37), (64, 63), (13, 12)] {
                    let mut block = vec![filler; len];
                    block[j] = b;
                    let class = if b >= 0x80 {
                        WordClass::Letter
                    } else {
                        ASCII_CLASSES[b as usize]
                    };
                    let joins_expected = matches!(
                        class,
                        WordClass::Letter | WordClass::Digit | WordClass::ExtendNumLet
                    );
                    let mids_expected = matches!(
                        class,
                        WordClass::MidLetter | WordClass::MidNumLet | WordClass::MidNum
                    );
                    let filler_joins = if filler >= 0x80 {
                        (u64::MAX >> (64 - len)) & !(1 << j)
                    } else {
                        0
                    };
                    let (joins, mids) = classify_block::<true>(&block);
                    let context = format!("byte {b:#x} at {j} among {filler:#x}");
                    assert_eq!(
                        joins,
                        filler_joins | u64::from(joins_expected) << j,
                        "{context}"
                    );
                    assert_eq!(mids, u64::from(mids_expected) << j, "{context}");
                    if b < 0x80 && filler < 0x80 {
                        assert_eq!(classify_block::<false>(&block), (joins, mids), "{context}");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Text whose only non-ASCII characters are letters segments as
        /// unicode-segmentation does when its high bytes count as letter bytes.
        #[test]
        fn high_letter_segmenter_agrees_with_unicode_segmentation(
            text in "[a-zA-Z0-9 .:,;'_\\-!?()\\n\\t\u{0}éàçœßÉДжЁΣςάԱաابتةپ]{0,200}"
        ) {
            proptest::prop_assume!(letters_beyond_ascii(&text));
            let mut fast = Vec::new();
            high_letter_words(&text, |w| fast.push(w));
            let reference: Vec<&str> = text.unicode_words().collect();
            proptest::prop_assert_eq!(fast, reference);
        }
    }

    proptest::proptest! {
        /// Text whose non-ASCII characters are letters of two or three bytes and marks
        /// right after letters (Devanagari, Bengali, Tamil, Hangul, Georgian, with
        /// alphabetic and non-alphabetic marks) segments as unicode-segmentation does
        /// when its high bytes count as letter bytes; texts with a mark after a space,
        /// digit or punctuation are refused by the check.
        #[test]
        fn three_byte_letter_segmenter_agrees_with_unicode_segmentation(
            text in "[a-z0-9 .:,'_\n!éДاकखनहि\u{093F}\u{0940}\u{094D}\u{0902}\u{0951}কে\u{09C7}தமி\u{0BCD}한국ქართ]{0,60}"
        ) {
            let reference: Vec<&str> = text.unicode_words().collect();
            if word_letters_beyond_ascii(&text) {
                let mut fast = Vec::new();
                high_letter_words(&text, |w| fast.push(w));
                proptest::prop_assert_eq!(&fast, &reference);
            }
            let mut tokens = Vec::new();
            Tokenizer::new(&TokenOptions::default()).for_each_token(&text, |t| tokens.push(t));
            proptest::prop_assert_eq!(tokens, reference);
        }
    }

    proptest::proptest! {
        /// What the normalizer reports of the letters it wrote is what a walk over its
        /// output finds ([`letters_of`]): two- and three-byte letters, marks of every
        /// kind after letters, two-byte symbols, spaces, digits and punctuation, and
        /// characters that fold or drop on the way (fullwidth Latin and yen, halfwidth
        /// katakana marks, compatibility jamo that fold to conjoining ones, two-byte
        /// capitals whose lowercase takes three bytes, a joiner, an ellipsis).
        #[test]
        fn reported_letters_are_those_of_the_output(
            text in "[ a1.'_\\n\\téДابकखहि\u{093E}\u{093F}\u{094D}\u{093C}\u{0902}\u{0951}কে\u{09C7}த\u{0BCD}한국ქกั中あ。…Ａｂㄱㅏ\u{200D}\u{301}\u{FE0F}×°«·￥ｰ\u{FF9E}ȺȾ\u{FE2D}]{0,30}"
        ) {
            let mut out = String::new();
            let reported = crate::normalize::normalize_into_within(
                &text,
                &mut out,
                two_byte_letters(),
                three_byte_role,
            );
            proptest::prop_assert_eq!(&out, &crate::normalize::normalize(&text));
            if let Some(reported) = reported {
                let found = letters_of(&out);
                proptest::prop_assert_eq!(reported.in_set, letters_beyond_ascii(&out), "{:?}", out);
                let expected = match (reported.in_set, reported.letters) {
                    (true, _) | (false, None) => found,
                    (false, Some(true)) => BeyondAscii::Letters,
                    (false, Some(false)) => BeyondAscii::Other,
                };
                proptest::prop_assert_eq!(expected, found, "{:?}", out);
            }
        }
    }

    #[test]
    fn a_capital_whose_lowercase_takes_three_bytes_is_reported_as_that_letter() {
        // Found by fuzzing: Ⱦ lowercases to ⱦ (U+2C66), and the mark after it joins it.
        for text in ["~ }__\u{23E}\u{FE2D} ~@393@KK_", "\u{23A}\u{0915}"] {
            let mut out = String::new();
            let reported = crate::normalize::normalize_into_within(
                text,
                &mut out,
                two_byte_letters(),
                three_byte_role,
            );
            let reported = reported.expect("plain text");
            assert_eq!(reported.letters, Some(true), "{out:?}");
            assert_eq!(letters_of(&out), BeyondAscii::Letters, "{out:?}");
        }
    }

    proptest::proptest! {
        /// Cutting out the characters that segment alone (ideographs, hiragana) before
        /// asking the UAX #29 segmenter changes no token: text of ideographs, kana,
        /// Latin, digits, `_` and mid-word punctuation, with marks, joiners, variation
        /// selectors and voicing marks that attach to what precedes them.
        #[test]
        fn cutting_out_lone_segments_changes_no_token(
            text in "[ a1_.:'中文字\u{3400}あかアカー、。々〇\u{3099}\u{301}\u{200D}\u{FE0F}한กक\u{093F}😀]{0,40}"
        ) {
            let tokenizer = Tokenizer::new(&TokenOptions::default());
            let mut cut = Vec::new();
            tokenizer.for_each_token(&text, |t| cut.push(t));
            let mut whole = Vec::new();
            tokenizer.segment_words(&text, &mut |_, t| whole.push(t));
            proptest::prop_assert_eq!(cut, whole);
        }
    }

    #[test]
    fn three_byte_kinds() {
        let kind = three_byte_word_kind;
        for letter in ['क', 'ন', 'த', '한', 'ქ', 'ሀ'] {
            assert_eq!(kind(letter), Some(ThreeByteWord::Letter), "{letter}");
        }
        // Vowel signs, virama, anusvara (alphabetic); a stress sign (not alphabetic).
        for mark in ['\u{093F}', '\u{094D}', '\u{0902}', '\u{0951}', '\u{09C7}'] {
            assert_eq!(kind(mark), Some(ThreeByteWord::Mark), "{mark:?}");
        }
        // Ideographs, kana, Thai (their own segments or split apart), digits, danda,
        // symbols, and characters of other lengths.
        for other in ['中', 'ア', 'あ', 'ก', '०', '।', '€', 'a', 'é', '😀'] {
            assert_eq!(kind(other), None, "{other}");
        }
        for alone in ['中', '\u{3400}', 'あ', 'ゔ'] {
            assert!(is_segment_alone(alone), "{alone}");
        }
        // Katakana joins katakana; punctuation is no word; a letter joins letters.
        for not_alone in ['ア', 'ー', '、', '한', 'a', 'é', '😀'] {
            assert!(!is_segment_alone(not_alone), "{not_alone}");
        }
        assert!(word_letters_beyond_ascii("नई दिल्ली 2025"));
        assert!(
            !word_letters_beyond_ascii("नई \u{093F}"),
            "a mark after a space"
        );
        assert!(
            !word_letters_beyond_ascii("1\u{093F}"),
            "a mark after a digit"
        );
        assert!(!word_letters_beyond_ascii("नई।"), "a danda");
    }

    #[test]
    fn fast_segmenter_edge_cases() {
        for text in [
            "a.b",
            "a..b",
            "1.5",
            "1,000.5",
            "a:b:c",
            "a:1",
            "1:2",
            "it's",
            "_",
            "__a_",
            "a_1",
            "e.g.",
            "x'",
            "'x",
            "3.a",
            "a.3",
            "موسكو.روسيا",
            "a,b",
        ] {
            let mut fast = Vec::new();
            simple_words(text, |w| fast.push(w));
            let reference: Vec<&str> = text.unicode_words().collect();
            assert_eq!(fast, reference, "{text:?}");
            if text.is_ascii() {
                let mut ascii = Vec::new();
                ascii_words(text, |w| ascii.push(w));
                assert_eq!(ascii, reference, "{text:?}");
            }
        }
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
