//! Any text through normalization and analysis: no panic, normalization idempotent,
//! the tokenizer's fast segmenters in agreement with unicode-segmentation, every
//! preset's shingles computable, and the analyzer's streaming shingles (words hashed
//! where they lie, as byte ranges when it can) those of its tokens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storyhash::normalize::normalize;
use storyhash::shingle::shingle_set;
use storyhash::tokenize::{is_unspaced_script, TokenOptions, Tokenizer};
use storyhash::{Analyzer, Preset};
use unicode_segmentation::UnicodeSegmentation;

fuzz_target!(|text: &str| {
    let once = normalize(text);
    assert_eq!(normalize(&once), once, "normalize is not idempotent");
    // Outside the scripts written without spaces, without stopwords or stemming the
    // tokens are exactly the UAX #29 words, whichever segmenter ran.
    if !once.chars().any(is_unspaced_script) {
        let tokens = Tokenizer::new(&TokenOptions::default()).tokens(&once);
        let words: Vec<&str> = once.unicode_words().collect();
        assert_eq!(tokens, words, "tokens differ from unicode-segmentation's words");
    }
    for preset in [Preset::Dup, Preset::Story] {
        let analyzer = Analyzer::new(&preset.params());
        let set = analyzer.shingle_set(text);
        assert!(
            set.windows(2).all(|w| w[0] < w[1]),
            "shingle set not sorted and unique"
        );
        if !once.is_empty() {
            assert!(!set.is_empty(), "visible text without shingles");
        }
        let tokens = analyzer.tokenizer().tokens(&once);
        if !tokens.is_empty() {
            let expected = shingle_set(&tokens, analyzer.shingle_spec());
            assert_eq!(set, expected, "streaming shingles differ from the tokens' shingles");
        }
    }
});
