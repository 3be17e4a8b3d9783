//! The seed articles: four rewrites of one visit (000–003) and a related event (004).

use storyhash::input::{read_sources, ReadOptions, Source};
use storyhash::{pipeline, Document, Preset};

use crate::testdata;

fn seeds() -> Vec<Document> {
    let source = Source::Path(testdata().join("seeds"));
    let read = read_sources(&[source], &ReadOptions::default()).expect("seeds are readable");
    assert!(read.warnings.is_empty());
    assert_eq!(read.documents.len(), 5);
    read.documents
}

fn cluster_ids(docs: &[Document], preset: Preset) -> Vec<Vec<String>> {
    let result = pipeline::run(docs, &preset.params()).expect("preset runs");
    result
        .member_ids(docs)
        .into_iter()
        .map(|ids| ids.into_iter().map(|id| id[..3].to_string()).collect())
        .collect()
}

#[test]
fn dup_preset_keeps_rewrites_apart() {
    let docs = seeds();
    let clusters = cluster_ids(&docs, Preset::Dup);
    assert_eq!(clusters.len(), 5, "{clusters:?}");
}

#[test]
fn story_preset_groups_the_four_rewrites_of_the_visit() {
    let docs = seeds();
    let clusters = cluster_ids(&docs, Preset::Story);
    let visit = clusters
        .iter()
        .find(|c| c.contains(&"000".to_string()))
        .expect("000 is somewhere");
    for id in ["001", "002", "003"] {
        assert!(
            visit.contains(&id.to_string()),
            "{id} not with 000: {clusters:?}"
        );
    }
}

#[test]
fn seed_word_ngram_overlap_is_as_documented() {
    // The seeds' README measures word 5-gram Jaccard 0.000–0.017 between them: the dup
    // preset's shingles must see the same near-zero overlap, or they are not word 5-grams.
    let docs = seeds();
    let analyzer = storyhash::Analyzer::new(&Preset::Dup.params());
    let sets: Vec<Vec<u64>> = docs.iter().map(|d| analyzer.shingle_set(&d.text)).collect();
    for i in 0..sets.len() {
        for j in i + 1..sets.len() {
            let jaccard = storyhash::shingle::jaccard(&sets[i], &sets[j]);
            assert!(jaccard < 0.05, "seeds {i} and {j}: {jaccard}");
        }
    }
}
