//! Any text through normalization and analysis: no panic, normalization idempotent, and
//! every preset's shingles computable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storyhash::normalize::normalize;
use storyhash::{Analyzer, Preset};

fuzz_target!(|text: &str| {
    let once = normalize(text);
    assert_eq!(normalize(&once), once, "normalize is not idempotent");
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
    }
});
