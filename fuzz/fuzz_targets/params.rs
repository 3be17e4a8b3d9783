//! Any text as the command line's parameter values (bands, shingles, windows, stopword
//! languages, presets, keep policies, sketches, numbers): each parser accepts or refuses
//! with a message, and whatever it accepts goes through the library's checks and the
//! band search without a panic, a hang or an overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storyhash::doc::parse_duration;
use storyhash::pipeline::Overrides;
use storyhash::stopwords::parse_languages;
use storyhash::{KeepPolicy, LshParams, Params, Preset, ShingleSpec, SketchKind};

fuzz_target!(|text: &str| {
    // Several values from one input: fields separated by '|'.
    let mut fields = text.split('|');
    let mut next = || fields.next().unwrap_or("");
    let bands = next().parse::<LshParams>().ok();
    let shingle = next().parse::<ShingleSpec>().ok();
    let threshold = next().parse::<f64>().ok();
    let num_perm = next().parse::<usize>().ok();
    let stopwords = parse_languages(next()).ok();
    let keep = next().parse::<KeepPolicy>().ok();
    let sketch = next().parse::<SketchKind>().ok();
    let preset = next().parse::<Preset>().unwrap_or(Preset::Dup);
    if let Ok(window) = parse_duration(next()) {
        assert!((0..=storyhash::doc::MAX_WINDOW_SECONDS).contains(&window));
    }
    let overrides = Overrides {
        threshold,
        shingle,
        num_perm,
        seed: None,
        bands,
        stopwords,
        stem_arabic: None,
        keep,
        sketch,
    };
    if let Ok(params) = Params::with_overrides(preset, &overrides) {
        // Accepted parameters can run: the banding exists and fits the signature.
        let lsh = params.lsh().expect("checked parameters have a banding");
        assert!(lsh.used_perm() <= params.num_perm);
        let engine = storyhash::Engine::new(&params).expect("an engine");
        let record = engine.record("a short text about the port", None, &mut Default::default());
        assert_eq!(record.signature.len(), params.num_perm);
    }
});
