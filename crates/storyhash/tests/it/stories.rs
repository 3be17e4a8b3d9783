//! The story layer: seeds, generated multi-event corpora in two scripts, nesting.

use storyhash::story::{agreement, cluster_stories, story_of_documents, Granularity};
use storyhash::synth::{Script, StoryCorpus};
use storyhash::Document;

use crate::testdata;

fn documents(script: Script, seed: u64, events_per_topic: usize) -> (Vec<Document>, Vec<u32>) {
    let docs = StoryCorpus {
        seed,
        script,
        events_per_topic,
        ..StoryCorpus::default()
    }
    .generate();
    let labels = docs.iter().map(|d| d.label).collect();
    let docs = docs
        .into_iter()
        .map(|d| {
            let mut doc = Document::new(d.id, d.text);
            doc.published = d.published;
            doc
        })
        .collect();
    (docs, labels)
}

#[test]
fn granularities_on_generated_events_in_two_scripts() {
    for script in [Script::Latin, Script::Arabic] {
        let (docs, labels) = documents(script, 31, 1);
        for granularity in [Granularity::Story, Granularity::Event] {
            let result = cluster_stories(&docs, &granularity.params()).expect("runs");
            let predicted = story_of_documents(&result, docs.len());
            let a = agreement(&predicted, &labels);
            eprintln!(
                "{granularity:?} {script:?}: {} docs, {} stories; precision {:.3} recall {:.3} \
                 F1 {:.3} ARI {:.3}; {} documents in the wrong story",
                docs.len(),
                result.stories.len(),
                a.precision,
                a.recall,
                a.f1,
                a.adjusted_rand,
                a.misplaced_documents
            );
            assert!(a.precision >= 0.95, "{granularity:?} {script:?}: {a:?}");
            assert!(a.recall >= 0.85, "{granularity:?} {script:?}: {a:?}");
            assert!(a.adjusted_rand >= 0.85, "{granularity:?} {script:?}: {a:?}");
            // Near-duplicate groups nest inside stories: a copy is never split from its original.
            for story in &result.stories {
                assert!(story.groups.iter().all(|g| !g.is_empty()));
                assert!(story.min_similarity >= 0.0 && story.min_similarity <= 1.0);
            }
        }
    }
}

/// Three events per topic: they share the topic's vocabulary and differ in their names.
/// `event` must keep them apart; `story` may join a topic's events (a topic thread), and
/// its scores against event labels show how much it does.
#[test]
fn event_granularity_separates_events_that_share_a_topic() {
    for script in [Script::Latin, Script::Arabic] {
        let (docs, labels) = documents(script, 41, 3);
        for granularity in [Granularity::Story, Granularity::Event] {
            let result = cluster_stories(&docs, &granularity.params()).expect("runs");
            let a = agreement(&story_of_documents(&result, docs.len()), &labels);
            eprintln!(
                "shared topics, {granularity:?} {script:?}: {} docs, {} stories; precision {:.3} \
                 recall {:.3} F1 {:.3} ARI {:.3}; {} documents in the wrong event",
                docs.len(),
                result.stories.len(),
                a.precision,
                a.recall,
                a.f1,
                a.adjusted_rand,
                a.misplaced_documents
            );
            if granularity == Granularity::Event {
                assert!(a.precision >= 0.9, "{script:?}: {a:?}");
                assert!(a.adjusted_rand >= 0.8, "{script:?}: {a:?}");
            }
        }
    }
}

#[test]
fn seeds_story_groups_the_visit_and_dup_nests_nothing() {
    let docs = storyhash::input::read_sources(
        &[storyhash::input::Source::Path(testdata().join("seeds"))],
        &storyhash::input::ReadOptions::default(),
    )
    .expect("seeds")
    .documents;
    for granularity in [Granularity::Story, Granularity::Event] {
        let result = cluster_stories(&docs, &granularity.params()).expect("runs");
        let ids: Vec<Vec<String>> = result
            .stories
            .iter()
            .map(|s| {
                s.groups
                    .iter()
                    .flatten()
                    .map(|&d| docs[d as usize].id[..3].to_string())
                    .collect()
            })
            .collect();
        eprintln!("{granularity:?} on the seeds: {ids:?}");
        let visit = ids
            .iter()
            .find(|s| s.contains(&"000".to_string()))
            .expect("000 placed");
        if granularity == Granularity::Story {
            for id in ["001", "002", "003"] {
                assert!(
                    visit.contains(&id.to_string()),
                    "{id} not with 000: {ids:?}"
                );
            }
        }
        // Rewrites are never near-duplicates of each other: every group is one document.
        assert!(result
            .stories
            .iter()
            .flat_map(|s| &s.groups)
            .all(|g| g.len() == 1));
    }
}
