//! Property tests: invariants that must hold for any input.

use std::collections::BTreeSet;

use proptest::prelude::*;
use storyhash::minhash::estimate_jaccard;
use storyhash::synth::{DupCorpus, Rng};
use storyhash::{pipeline, Document, MinHasher, Preset, SketchKind};

fn kinds() -> impl Strategy<Value = SketchKind> {
    prop_oneof![Just(SketchKind::Oph), Just(SketchKind::Classic)]
}

proptest! {
    #[test]
    fn signatures_ignore_shingle_order_and_repeats(
        set in proptest::collection::vec(any::<u64>(), 1..300),
        seed in any::<u64>(),
        kind in kinds(),
        rotate in 0usize..300,
    ) {
        let hasher = MinHasher::with_kind(kind, 64, seed);
        let mut shuffled = set.clone();
        let by = rotate % shuffled.len();
        shuffled.rotate_left(by);
        shuffled.extend_from_slice(&set[..set.len() / 2]);
        prop_assert_eq!(hasher.sign(&set), hasher.sign(&shuffled));
    }

    #[test]
    fn jaccard_estimates_are_symmetric_and_bounded(
        a in proptest::collection::vec(any::<u64>(), 1..200),
        b in proptest::collection::vec(any::<u64>(), 1..200),
        kind in kinds(),
    ) {
        let hasher = MinHasher::with_kind(kind, 128, 7);
        let (sa, sb) = (hasher.sign(&a), hasher.sign(&b));
        let ab = estimate_jaccard(&sa, &sb);
        prop_assert_eq!(ab, estimate_jaccard(&sb, &sa));
        prop_assert!((0.0..=1.0).contains(&ab));
        prop_assert_eq!(estimate_jaccard(&sa, &sa), 1.0);
    }
}

/// Cluster membership is a property of the documents, not of their order: shuffling the
/// input permutes the output but never changes which documents are grouped.
#[test]
fn clusters_do_not_depend_on_input_order() {
    let docs: Vec<Document> = DupCorpus {
        originals: 120,
        copied_fraction: 0.5,
        ..DupCorpus::default()
    }
    .generate()
    .into_iter()
    .map(|d| Document::new(d.id, d.text))
    .collect();
    let groups = |docs: &[Document]| -> BTreeSet<BTreeSet<String>> {
        let result = pipeline::run(docs, &Preset::Dup.params()).expect("runs");
        result
            .member_ids(docs)
            .into_iter()
            .map(|ids| ids.into_iter().map(str::to_owned).collect())
            .collect()
    };
    let expected = groups(&docs);
    assert!(expected.iter().any(|g| g.len() > 1));
    let mut rng = Rng::new(5);
    for _ in 0..4 {
        let mut shuffled = docs.clone();
        rng.shuffle(&mut shuffled);
        assert_eq!(groups(&shuffled), expected);
    }
}
