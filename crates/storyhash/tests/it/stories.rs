//! The story layer: seeds, generated multi-event corpora in two scripts, nesting.

use storyhash::story::{
    agreement, cluster_stories, explain_pair, story_of_documents, Agreement, Granularity,
    PairExplanation, StoryAnalysis, StoryClustering, StoryLists, StoryParams,
};
use storyhash::synth::{Script, StoryCorpus};
use storyhash::{pipeline, Document, KeepPolicy, Preset};

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
    (crate::dated_documents(&docs), labels)
}

/// The scores behind BENCHMARKS.md's story table (`--nocapture` shows them).
fn print_scores(what: &str, docs: &[Document], result: &StoryClustering, a: &Agreement) {
    eprintln!(
        "{what}: {} docs, {} stories; precision {:.3} recall {:.3} F1 {:.3} ARI {:.3}; \
         {} documents outside their event's story",
        docs.len(),
        result.stories.len(),
        a.precision,
        a.recall,
        a.f1,
        a.adjusted_rand,
        a.misplaced_documents
    );
}

/// Why documents `a` and `b` of `docs` end where they do, as `stories` with `params`
/// and the defaults decides.
fn explain(docs: &[Document], a: u32, b: u32, params: &StoryParams) -> PairExplanation {
    explain_pair(
        docs,
        a,
        b,
        params,
        KeepPolicy::First,
        &StoryLists::default(),
    )
    .expect("explains")
}

fn sorted(members: &[u32]) -> Vec<u32> {
    let mut members = members.to_vec();
    members.sort_unstable();
    members
}

/// The documents of each story of `clustering`, sorted, in its order of stories.
fn members(clustering: &StoryClustering) -> Vec<Vec<u32>> {
    clustering
        .stories
        .iter()
        .map(|s| sorted(&s.groups.concat()))
        .collect()
}

#[test]
fn granularities_on_generated_events_in_two_scripts() {
    for script in [Script::Latin, Script::Arabic] {
        let (docs, labels) = documents(script, 31, 1);
        for granularity in [Granularity::Story, Granularity::Event] {
            let result = cluster_stories(&docs, &granularity.params()).expect("runs");
            let predicted = story_of_documents(&result, docs.len());
            let a = agreement(&predicted, &labels);
            print_scores(&format!("{granularity:?} {script:?}"), &docs, &result, &a);
            assert!(a.precision >= 0.95, "{granularity:?} {script:?}: {a:?}");
            assert!(a.recall >= 0.85, "{granularity:?} {script:?}: {a:?}");
            assert!(a.adjusted_rand >= 0.85, "{granularity:?} {script:?}: {a:?}");
            // Near-duplicate groups nest inside stories: every cluster of copies the dup
            // preset finds is one group of one story, never split across stories.
            let mut groups: Vec<Vec<u32>> = result
                .stories
                .iter()
                .flat_map(|story| story.groups.iter().map(|g| sorted(g)))
                .collect();
            groups.sort();
            let dup = pipeline::run(&docs, &Preset::Dup.params()).expect("runs");
            let mut copies: Vec<Vec<u32>> =
                dup.clusters.iter().map(|c| sorted(&c.members)).collect();
            copies.sort();
            assert_eq!(groups, copies, "{granularity:?} {script:?}");
            assert!(dup.clusters.iter().any(|c| c.members.len() > 1));
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
            print_scores(
                &format!("shared topics, {granularity:?} {script:?}"),
                &docs,
                &result,
                &a,
            );
            // Two events of one topic published hours apart can share the topic's
            // words enough (their articles' cosine 0.42-0.47 in the Latin set, above
            // the event threshold) to be one event to the measure: only their names
            // differ. Precision 0.854 there (the TF-IDF baseline scores 0.858 on
            // `run.sh`'s set of this kind).
            if granularity == Granularity::Event {
                assert!(a.precision >= 0.85, "{script:?}: {a:?}");
                assert!(a.adjusted_rand >= 0.8, "{script:?}: {a:?}");
            }
        }
    }
}

/// Events of up to 20 reports in a few hundred articles: an event's names are then in
/// more than 1% of the documents and more than 10, so the rare-term candidate rule alone
/// finds its story from none of them, and its later reports, sharing little else with
/// it, would found stories of their own. Held by the one story, the names still find it.
#[test]
fn events_reported_more_than_ten_times_in_a_small_corpus_stay_one_story() {
    let generated = crate::events_of_up_to_twenty_reports();
    let labels: Vec<u32> = generated.iter().map(|d| d.label).collect();
    let docs = crate::dated_documents(&generated);
    let mut sizes = std::collections::HashMap::new();
    for &label in &labels {
        *sizes.entry(label).or_insert(0usize) += 1;
    }
    let big = sizes.values().filter(|&&n| n > 10).count();
    assert!(big >= 10, "{big} events of more than 10 reports");
    let result = cluster_stories(&docs, &Granularity::Event.params()).expect("runs");
    let a = agreement(&story_of_documents(&result, docs.len()), &labels);
    print_scores("events of up to 20 reports", &docs, &result, &a);
    assert!(a.recall >= 0.95, "{a:?}");
    assert!(a.precision >= 0.9, "{a:?}");
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

/// Twenty articles of ten names each, article i sharing its last five with article i + 1
/// and nothing with the others (ids d00 to d19), published a minute apart in that order.
fn chain() -> Vec<Document> {
    (0..20)
        .map(|i| {
            let mut doc = Document::new(
                format!("d{i:02}"),
                chain_names(i).collect::<Vec<_>>().join(" "),
            );
            doc.published = Some(format!("2026-03-02T10:{i:02}:00Z"));
            doc
        })
        .collect()
}

/// The names of article `i` of [`chain`].
fn chain_names(i: usize) -> impl Iterator<Item = String> {
    (i * 5..i * 5 + 10).map(|w| format!("name{w:03}x"))
}

/// A chain of articles, each sharing half its names with the next and nothing with the
/// others: pairwise links run end to end, but group-average attachment needs a group to
/// resemble a story's members on average, so the chain breaks into short stories.
#[test]
fn a_chain_of_pairwise_links_does_not_make_one_story() {
    let docs = chain();
    for granularity in [Granularity::Story, Granularity::Event] {
        let result = cluster_stories(&docs, &granularity.params()).expect("runs");
        let sizes: Vec<usize> = result.stories.iter().map(|s| s.len()).collect();
        // Neighbours have cosine 0.5; a third member would need the mean over three,
        // (0.5 + 0 + 0.5·…) / n, to stay at 0.2, which a chain cannot give beyond three.
        assert!(sizes.iter().all(|&n| n <= 3), "{granularity:?}: {sizes:?}");
        assert!(sizes.len() >= 7, "{granularity:?}: {sizes:?}");
    }
}

/// A series whose shared names roll on: each report shares four of its five names with
/// the one before, and the first also has three names of its own. Every report joins the
/// story with a mean cosine of 0.2 or more to the members at that moment, but as the
/// series moves on, the first report ends at 0.13 to the rest: a member the story
/// drifted from. It leaves; the reports closest to it, the second to the fourth, then
/// resemble its story more than the rolling rest and move there. The series ends in two
/// halves, each member at the threshold or above to the rest of its half, and the
/// explanation of the first and last reports shows them apart.
#[test]
fn a_member_the_story_drifted_from_leaves_it() {
    let names = |from: usize, to: usize| (from..to).map(|w| format!("name{w:03}x"));
    let mut docs = vec![Document::new(
        "d0",
        ["first", "own", "names"]
            .iter()
            .map(|w| format!("{w}x"))
            .chain(names(0, 3))
            .collect::<Vec<_>>()
            .join(" "),
    )];
    for i in 1..9 {
        let mut text: Vec<String> = names(i - 1, i + 4).collect();
        text.push(format!("alone{i}x"));
        docs.push(Document::new(format!("d{i}"), text.join(" ")));
    }
    // The series in the order of its reports, a minute apart.
    for (i, doc) in docs.iter_mut().enumerate() {
        doc.published = Some(format!("2026-03-02T10:{i:02}:00Z"));
    }
    let params = Granularity::Story.params();
    let result = cluster_stories(&docs, &params).expect("runs");
    assert_eq!(members(&result), [vec![4, 5, 6, 7, 8], vec![0, 1, 2, 3]]);
    for story in &result.stories {
        assert!(
            story.min_similarity >= params.threshold,
            "{:?}: {}",
            story.groups,
            story.min_similarity
        );
    }
    let e = explain(&docs, 0, 8, &params);
    assert!(!e.same_story);
    assert_eq!([e.sides[0].story, e.sides[1].story], [1, 0]);
}

/// A wire flash (a headline alone) and its article: the article's rarest terms that
/// some story holds are its own names, shared with an earlier report, and the flash
/// shares only its figure among them, so attachment (two shared rare terms) starts the
/// article a story of its own. Seen from the flash, whose one rare term is the figure,
/// the article's story is found, and the two stories merge.
#[test]
fn a_flash_and_its_article_that_started_two_stories_merge() {
    // Twelve other companies' notices put the common words in more than 10 documents;
    // each has words enough of its own to stay apart from the others (cosine 0.17),
    // so the common words are held by many stories and find none.
    let common = "quarterly payout affirmed";
    let mut docs: Vec<Document> = (0..12)
        .map(|i| {
            let own: Vec<String> = (0..6).map(|k| format!("word{i}x{k}")).collect();
            Document::new(format!("other{i}"), format!("{common} {}", own.join(" ")))
        })
        .collect();
    docs.push(Document::new("flash", format!("{common} at 822x")));
    let own: Vec<String> = (0..30).map(|i| format!("own{i}x")).collect();
    docs.push(Document::new(
        "earlier",
        format!("ledgerx tallyx {}", own.join(" ")),
    ));
    let mut article = Document::new(
        "article",
        "The 822x payout was affirmed by the board after a review of ledgerx and tallyx.",
    );
    article.title = Some(format!("{common} at 822x"));
    docs.push(article);
    let (flash, earlier, article) = (12, 13, 14);

    let params = Granularity::Story.params();
    let result = cluster_stories(&docs, &params).expect("runs");
    let story_of = story_of_documents(&result, docs.len());
    assert_eq!(story_of[flash], story_of[article]);
    assert_ne!(story_of[earlier], story_of[article]);
    let story = &result.stories[story_of[article]];
    assert_eq!(story.len(), 2);
    assert!(story.min_similarity >= params.threshold, "{story:?}");
    // Each document of the corpus is in exactly one reported story.
    assert_eq!(
        result.stories.iter().map(|s| s.len()).sum::<usize>(),
        docs.len()
    );
    let e = explain(&docs, flash as u32, article as u32, &params);
    assert!(e.same_story);
    assert_eq!(e.sides[0].story, story_of[flash]);
}

/// A story's founder that resembles a later report far more than the members that
/// joined it moves to that report's story: the first report of a death (its names and
/// the place) founds a story, three reports on the country's ruler join it through the
/// ruler's names, and a second report of the death, close to the first but below the
/// threshold to the four on average, starts a story of its own. Seen from the first
/// report, the second's story is the better one.
#[test]
fn a_member_that_resembles_another_story_more_moves_there() {
    let text = |words: &[&str]| {
        words
            .iter()
            .map(|w| format!("{w}x"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let docs = vec![
        Document::new(
            "death",
            text(&["nidal", "gunman", "morgue", "slain", "saddam", "baghdad"]),
        ),
        Document::new(
            "ruler",
            text(&["saddam", "baghdad", "weapons", "inspectors", "arsenal"]),
        ),
        Document::new(
            "ruler-again",
            text(&["saddam", "baghdad", "weapons", "sanctions", "envoy"]),
        ),
        Document::new(
            "ruler-once-more",
            text(&["saddam", "baghdad", "weapons", "oil", "embargo"]),
        ),
        Document::new(
            "death-again",
            text(&["nidal", "gunman", "morgue", "slain", "funeral", "burial"]),
        ),
    ];
    let params = Granularity::Story.params();
    let result = cluster_stories(&docs, &params).expect("runs");
    assert_eq!(members(&result), [vec![1, 2, 3], vec![0, 4]]);
    for story in &result.stories {
        assert!(story.min_similarity >= params.threshold, "{story:?}");
    }
    let (founder_to_joiner, deaths) = (
        explain(&docs, 0, 1, &params).cosine,
        explain(&docs, 0, 4, &params).cosine,
    );
    assert!(founder_to_joiner >= params.threshold, "{founder_to_joiner}");
    assert!(deaths > founder_to_joiner, "{deaths} {founder_to_joiner}");
}

/// An explanation gives the numbers the clustering decided by. On the chain above:
/// neighbours' cosine is made of the five names they share; a neighbour left out of the
/// story before it resembles that story's members too little on average, though it
/// resembles one of them well, or that story holds nothing of its subject (d08: the copy
/// of d07 puts the names d08 shares with d07 in three documents, so its heaviest are
/// those it shares with d09); copies are one story; strangers share nothing.
#[test]
fn an_explanation_gives_the_numbers_the_clustering_decided_by() {
    let mut docs = chain();
    let mut copy = docs[7].clone();
    copy.id = "d07-copy".into();
    docs.push(copy);
    let params = Granularity::Story.params();
    let result = cluster_stories(&docs, &params).expect("runs");
    let story_of = story_of_documents(&result, docs.len());
    let mut split_neighbours = 0;
    for a in 0..19u32 {
        let b = a + 1;
        let e = explain(&docs, a, b, &params);
        let (sa, sb) = (story_of[a as usize], story_of[b as usize]);
        assert_eq!(e.same_story, sa == sb);
        assert_eq!([e.sides[0].story, e.sides[1].story], [sa, sb]);
        assert_eq!(e.sides[1].story_size, result.stories[sb].len());
        let shared: Vec<String> = e.shared_terms.iter().map(|t| t.term.clone()).collect();
        let expected: Vec<String> = chain_names(b as usize).take(5).collect();
        let mut sorted = shared.clone();
        sorted.sort();
        assert_eq!(sorted, expected, "{a}-{b}");
        let sum: f64 = e
            .shared_terms
            .iter()
            .map(|t| t.weights[0] * t.weights[1])
            .sum();
        assert!((sum - e.cosine).abs() < 1e-9, "{sum} {}", e.cosine);
        assert!(e.cosine >= params.threshold, "{a}-{b}: {}", e.cosine);
        assert!(
            e.alone_terms.iter().all(|t| t.len() == 5),
            "{:?}",
            e.alone_terms
        );
        if sa != sb {
            split_neighbours += 1;
            let to_a = e.sides[1].to_other_story.expect("no times, no window");
            // Apart by the mean cosine or by the subject, not by the candidate rule: the
            // names b shares with a find a's story.
            let found = e.sides[1].finding_other_story.as_ref().expect("apart");
            assert!(
                found.compared && found.terms.len() >= 2,
                "{a}-{b}: {found:?}"
            );
            let mut subject = found.subject.clone();
            subject.sort();
            if a == 7 {
                let with_next: Vec<String> = chain_names(b as usize).skip(5).collect();
                assert_eq!(subject, with_next, "{a}-{b}: {found:?}");
                assert!(!found.holds_subject && to_a >= params.threshold, "{to_a}");
            } else {
                assert!(found.holds_subject, "{a}-{b}: {found:?}");
                assert!(to_a < params.threshold, "{a}-{b}: {to_a}");
            }
        } else {
            let d = b as usize;
            let story = &result.stories[sb];
            let group = story.groups.iter().position(|g| g.contains(&(d as u32)));
            let joined = story.attached_with[group.expect("placed")];
            assert_eq!(e.sides[1].joined_with, joined);
            assert_eq!(e.sides[1].finding_other_story, None);
        }
    }
    assert!(split_neighbours >= 6, "{split_neighbours}");
    assert_ne!(story_of[7], story_of[8], "apart by d08's subject");
    let strangers = explain(&docs, 0, 10, &params);
    assert!(!strangers.same_story && strangers.shared_terms.is_empty());
    assert_eq!(strangers.cosine, 0.0);
    assert_eq!(strangers.sides[0].to_other_story, Some(0.0));
    let copies = explain(&docs, 7, 20, &params);
    assert!(copies.copies && copies.same_story);
    assert!((copies.cosine - 1.0).abs() < 1e-6, "{}", copies.cosine);
}

/// Each group of a story names the terms that tie it to the others: on the chain, the
/// names it shares with its neighbours in the story, never a name of its own.
#[test]
fn each_member_names_the_terms_it_shares_with_its_story() {
    let docs = chain();
    let result = cluster_stories(&docs, &Granularity::Story.params()).expect("runs");
    let mut listed = 0;
    for story in &result.stories {
        assert_eq!(story.shared_terms.len(), story.groups.len());
        for (group, shared) in story.groups.iter().zip(&story.shared_terms) {
            if story.groups.len() == 1 {
                assert!(shared.is_empty(), "{shared:?}");
                continue;
            }
            assert!((1..=3).contains(&shared.len()), "{shared:?}");
            let own = &docs[group[0] as usize].text;
            for term in shared {
                let others = story.groups.iter().flatten().filter(|&&d| d != group[0]);
                let elsewhere = others
                    .clone()
                    .any(|&d| docs[d as usize].text.contains(term.as_str()));
                assert!(own.contains(term.as_str()) && elsewhere, "{term}");
            }
            listed += 1;
        }
    }
    assert!(listed >= 10, "{listed}");
    let report = storyhash::story::StoryReport::build(&docs, &result);
    let mut text = Vec::new();
    report.write_text(&mut text).expect("text");
    let text = String::from_utf8(text).expect("utf-8");
    let first = &result.stories[0].shared_terms[0];
    assert!(
        text.contains(&format!("  [{}]", first.join(", "))),
        "{text}"
    );
}

/// A story says when it ran: its earliest and latest publication times in JSON, the
/// days in text; a story without times says nothing of them.
#[test]
fn a_story_reports_when_it_ran() {
    let text = "Storm floods the harbour district; ferries halted as the river tops its banks";
    let dated = |id: &str, day: u32, hour: u32| {
        let mut doc = Document::new(id, text);
        doc.published = Some(format!("2026-03-{day:02}T{hour:02}:00:00Z"));
        doc
    };
    let docs = [
        dated("first", 2, 22),
        dated("next", 3, 7),
        Document::new("undated", "Other news entirely about a concert"),
    ];
    let result = cluster_stories(&docs, &Granularity::Story.params()).expect("runs");
    let report = storyhash::story::StoryReport::build(&docs, &result);
    let storm = &report.stories[0];
    assert_eq!(storm.size, 2);
    assert_eq!(
        storm.first_published.as_deref(),
        Some("2026-03-02T22:00:00Z")
    );
    assert_eq!(
        storm.last_published.as_deref(),
        Some("2026-03-03T07:00:00Z")
    );
    assert_eq!(
        (
            report.stories[1].first_published.as_deref(),
            report.stories[1].last_published.as_deref()
        ),
        (None, None)
    );
    let mut out = Vec::new();
    report.write_text(&mut out).expect("text");
    let out = String::from_utf8(out).expect("utf-8");
    assert!(
        out.contains("the others 1.000, published 2026-03-02 to 2026-03-03\n"),
        "{out}"
    );
    assert!(
        out.contains("story 1: 1 document, least mean cosine of a group to the others 1.000\n"),
        "{out}"
    );
    // The HTML page's story carries its days (stories of one document are not listed).
    let mut page = Vec::new();
    storyhash::html::write_story_report(&mut page, &report, &docs).expect("page");
    let page = String::from_utf8(page).expect("utf-8");
    assert_eq!(
        page.matches(r#""days":["2026-03-02","2026-03-03"]"#)
            .count(),
        1
    );
}

/// Rewrites further apart than the window are explained as such: no decay, no
/// closeness to the other's story.
#[test]
fn an_explanation_says_when_a_pair_is_beyond_the_window() {
    let text = "Storm floods the harbour district; ferries halted as the river tops its banks";
    let dated = |id: &str, day: u32| {
        let mut doc = Document::new(id, text);
        doc.published = Some(format!("2026-03-{day:02}T08:00:00Z"));
        doc
    };
    let docs = [dated("monday", 2), dated("friday", 6)];
    let params = Granularity::Event.params();
    let e = explain(&docs, 0, 1, &params);
    assert!(!e.same_story && !e.copies);
    assert_eq!(e.seconds_apart, Some(4 * 86_400));
    assert_eq!(e.decay, None);
    assert_eq!(e.sides.each_ref().map(|s| s.to_other_story), [None, None]);
    let mut text = Vec::new();
    e.write_text(&mut text).expect("text");
    let text = String::from_utf8(text).expect("utf-8");
    assert!(text.contains("96 h apart: beyond the window"), "{text}");
    assert!(text.contains("not in one story"), "{text}");
}

/// A company's results and its stock split share its name and the beat's words: their
/// cosine, and each one's mean cosine to the other's story, pass the threshold, yet the
/// one rare term they share makes neither story a candidate for the other, and the
/// explanation says so; a second shared name does.
#[test]
fn an_explanation_names_the_rare_terms_that_find_the_other_story() {
    let dated = |id: &str, text: &str, hour: u32| {
        let mut doc = Document::new(id, text);
        doc.published = Some(format!(
            "2026-03-{:02}T{:02}:00:00Z",
            1 + hour / 24,
            hour % 24
        ));
        doc
    };
    // 120 reports carry the beat's words (boilerplate then), each with names of its own;
    // the parent company's report shares one name with the split.
    let mut docs: Vec<Document> = (0..120)
        .map(|i| {
            dated(
                &format!("beat-{i}"),
                &format!("Mine{i} gold mines ltd reports grade{i} and tonnage{i}"),
                8,
            )
        })
        .collect();
    docs.push(dated(
        "parent",
        "Campbell Red Lake mines ltd names a new chief",
        9,
    ));
    let results = "Kiena gold mines ltd fourth quarter net 1,019,000 vs 985,000";
    let split = "Kiena gold mines ltd stock split, Campbell votes";
    docs.push(dated("results", results, 32));
    docs.push(dated("split", split, 33));
    let params = Granularity::Story.params();
    let e = explain(&docs, 121, 122, &params);
    assert!(!e.same_story && e.cosine >= params.threshold, "{e:?}");
    for side in &e.sides {
        assert_eq!(side.story_size, 1);
        assert!(
            side.to_other_story.is_some_and(|s| s >= params.threshold),
            "{side:?}"
        );
        let found = side.finding_other_story.as_ref().expect("apart");
        assert_eq!(found.terms, ["kiena"]);
        assert_eq!((found.needed, found.compared), (2, false));
    }
    let mut text = Vec::new();
    e.write_text(&mut text).expect("text");
    let text = String::from_utf8(text).expect("utf-8");
    let line = "b's story holds a's rare terms kiena (2 needed): not compared with a";
    assert!(text.contains(line), "{text}");
    // Naming the mine's town too, the split is compared with the results, and joins.
    docs[121] = dated("results", &format!("{results} at Val d'Or"), 32);
    docs[122] = dated("split", &format!("{split} at Val d'Or"), 33);
    let e = explain(&docs, 121, 122, &params);
    assert!(e.same_story, "{e:?}");
    assert_eq!(
        e.sides.each_ref().map(|s| s.finding_other_story.clone()),
        [None, None]
    );
}

/// Wire boilerplate on every article (a sign-off and an entity's debris) weighs
/// nothing: the generated events come out exactly as without it, and the report names
/// the terms it left out.
#[test]
fn boilerplate_on_every_article_changes_no_story_and_is_reported() {
    let (docs, _) = documents(Script::Latin, 31, 3);
    assert!(docs.len() >= 50, "boilerplate needs a corpus of 50");
    let wired: Vec<Document> = docs
        .iter()
        .map(|d| {
            let mut wired = d.clone();
            // On the last paragraph's line, as wire copy ends: no line repeats.
            wired.text = format!("{} &lt;ACME> wire service Reuter", d.text);
            wired
        })
        .collect();
    for granularity in [Granularity::Story, Granularity::Event] {
        let plain = cluster_stories(&docs, &granularity.params()).expect("runs");
        let with = cluster_stories(&wired, &granularity.params()).expect("runs");
        let groups = |c: &StoryClustering| -> Vec<Vec<Vec<u32>>> {
            c.stories.iter().map(|s| s.groups.clone()).collect()
        };
        assert_eq!(groups(&plain), groups(&with), "{granularity:?}");
        let wire = ["reuter", "lt", "acme", "wire", "service"];
        for term in wire {
            let found = with.boilerplate.iter().find(|b| b.term == term);
            assert_eq!(found.map(|b| b.share), Some(1.0), "{term}: {found:?}");
            assert!(plain.boilerplate.iter().all(|b| b.term != term));
        }
    }
}

/// A weekly template report (the same sentences, new figures) is a near-duplicate of
/// last week's, but another event: copies further apart than the window are split
/// before stories form, in `stories` and in the index alike; a same-day republication
/// stays with its original.
#[test]
fn weekly_template_reports_are_separate_events_and_same_day_copies_are_not() {
    let report = |week: usize, figure: usize| {
        let mut doc = Document::new(
            format!("week{week}-{figure}"),
            format!(
                "The central bank sold treasury bills worth {figure} million dinars at its \
                 weekly auction on Monday, the bank said in a statement. The average yield \
                 on the ninety one day bills was {}.{} percent against the previous \
                 auction, and bids totalled {} million dinars from local banks. The next \
                 auction of bills is scheduled for the coming Monday, the statement said.",
                figure % 7,
                figure % 10,
                figure * 3
            ),
        );
        doc.published = Some(format!("2026-01-{:02}T09:00:00Z", 5 + 7 * week));
        doc
    };
    let mut docs: Vec<Document> = (0..3).map(|week| report(week, 410 + 37 * week)).collect();
    let mut same_day = docs[1].clone();
    same_day.id = "week1-republished".into();
    docs.push(same_day);
    let dup = pipeline::run(&docs, &Preset::Dup.params()).expect("runs");
    assert_eq!(
        dup.clusters.len(),
        1,
        "the reports are near-duplicates of one another"
    );

    let params = Granularity::Event.params();
    let result = cluster_stories(&docs, &params).expect("runs");
    let mut stories: Vec<Vec<String>> = result
        .stories
        .iter()
        .map(|s| {
            let mut ids: Vec<String> = s
                .groups
                .iter()
                .flatten()
                .map(|&d| docs[d as usize].id.clone())
                .collect();
            ids.sort();
            ids
        })
        .collect();
    stories.sort();
    assert_eq!(
        stories,
        [
            vec!["week0-410".to_string()],
            vec!["week1-447".into(), "week1-republished".into()],
            vec!["week2-484".into()],
        ]
    );

    let index =
        storyhash::index::Index::with_stories(Preset::Dup.params(), Some(params)).expect("index");
    let decisions: Vec<Option<String>> = docs
        .iter()
        .map(|d| index.insert(d).expect("insert").story)
        .collect();
    assert_eq!(
        decisions,
        [
            Some("week0-410".to_string()),
            Some("week1-447".into()),
            Some("week2-484".into()),
            Some("week1-447".into()),
        ]
    );
}

/// A daily template report is a near-duplicate of the day before's. Its copies are split
/// where they lie further apart than the window (at `event`, days 0-2 and 3-4), and the
/// later part may not join the earlier part's story through the window, which a
/// rewrite of day 2's figures (no copy: other sentences, the same words) has slid on to
/// day 1: in `stories` and in the index alike. The rewrite's subject is its figures,
/// which day 2's copy holds, not the copy the first part weighs as: its story holds
/// its copies' terms. At `story` (7 days) the five days are one part.
#[test]
fn daily_template_reports_split_by_time_do_not_rejoin_through_the_window() {
    let mut docs: Vec<Document> = (0..5)
        .map(|day| {
            let figure = 300 + 45 * day;
            let mut doc = Document::new(
                format!("day{day}"),
                format!(
                    "The central bank said it had provided the money market with {figure} \
                     million pounds of assistance in the morning operations. This brings the \
                     bank's total help so far today to {figure} million pounds and compares \
                     with its forecast of a {} million pound shortage in the system today. \
                     Dealers said the shortage was due to bills maturing in official hands \
                     and the take up of treasury bills.",
                    figure + 100
                ),
            );
            doc.published = Some(format!("2026-03-{:02}T10:00:00Z", 2 + day));
            doc
        })
        .collect();
    let mut rewrite = Document::new(
        "rewrite1",
        "Money market dealers said the central bank gave the market assistance in the \
         morning operations, its help so far today totalling 390 million pounds against a \
         forecast shortage of 490 million pounds in the system, as bills maturing in \
         official hands and the take up of treasury bills drained the market.",
    );
    rewrite.published = Some("2026-03-03T12:00:00Z".into());
    docs.insert(2, rewrite);
    let dup = pipeline::run(&docs, &Preset::Dup.params()).expect("runs");
    let sizes: Vec<usize> = dup.clusters.iter().map(|c| c.members.len()).collect();
    assert_eq!(
        sizes,
        [5, 1],
        "the reports are near-duplicates, the rewrite is not"
    );

    let ids = |members: &[u32]| -> Vec<String> {
        let mut ids: Vec<String> = members
            .iter()
            .map(|&d| docs[d as usize].id.clone())
            .collect();
        ids.sort();
        ids
    };
    for (granularity, expected) in [
        (
            Granularity::Event,
            vec![
                vec!["day0", "day1", "day2", "rewrite1"],
                vec!["day3", "day4"],
            ],
        ),
        (
            Granularity::Story,
            vec![vec!["day0", "day1", "day2", "day3", "day4", "rewrite1"]],
        ),
    ] {
        let params = granularity.params();
        let result = cluster_stories(&docs, &params).expect("runs");
        let mut stories: Vec<Vec<String>> = result
            .stories
            .iter()
            .map(|s| ids(&s.groups.concat()))
            .collect();
        stories.sort();
        assert_eq!(stories, expected, "stories, {granularity:?}");

        let index = storyhash::index::Index::with_stories(Preset::Dup.params(), Some(params))
            .expect("index");
        let mut by_story: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for d in &docs {
            let story = index.insert(d).expect("insert").story.expect("tracked");
            by_story.entry(story).or_default().push(d.id.clone());
        }
        let mut stories: Vec<Vec<String>> = by_story.into_values().collect();
        stories.iter_mut().for_each(|s| s.sort());
        stories.sort();
        assert_eq!(stories, expected, "index, {granularity:?}");
    }
}

/// Generated articles put under one site's template by `page` (their text in, the
/// page's text out): the boilerplate lines `stories` reports for the pages, after
/// checking that the pages form the stories the articles form.
fn lines_learned_from_pages(page: impl Fn(&str) -> String) -> Vec<(String, String)> {
    let (docs, _) = documents(Script::Latin, 31, 3);
    let templated: Vec<Document> = docs
        .iter()
        .map(|d| {
            let mut p = d.clone();
            p.url = Some(format!("https://News.Example/{}", d.id));
            p.text = page(&d.text);
            p
        })
        .collect();
    let params = Granularity::Event.params();
    let plain = cluster_stories(&docs, &params).expect("runs");
    let pages = cluster_stories(&templated, &params).expect("runs");
    let groups = |c: &StoryClustering| -> Vec<Vec<Vec<u32>>> {
        c.stories.iter().map(|s| s.groups.clone()).collect()
    };
    assert_eq!(groups(&plain), groups(&pages));
    assert!(plain.boilerplate_lines.is_empty());
    pages
        .boilerplate_lines
        .into_iter()
        .map(|l| (l.source, l.line))
        .collect()
}

/// Lines a site repeats on most of its pages are learned as boilerplate and reported
/// with their source; the stories are those of the articles without them.
#[test]
fn a_sites_repeated_lines_are_learned_removed_and_reported() {
    let lines = lines_learned_from_pages(|text| {
        format!("Home | World | Business | Sport\n{text}\nFollow us for the latest updates")
    });
    for line in [
        "Home | World | Business | Sport",
        "Follow us for the latest updates",
    ] {
        assert!(
            lines.contains(&("news.example".into(), line.into())),
            "{lines:?}"
        );
    }
}

/// A sentence a site closes every article's last paragraph with is learned as
/// boilerplate though no line repeats, and reported with its source.
#[test]
fn a_sites_repeated_sentences_inside_paragraphs_are_learned() {
    let closing = "Share this article with your friends.";
    let lines = lines_learned_from_pages(|text| format!("{}. {closing}", text.trim_end()));
    assert_eq!(lines, [("news.example".to_string(), closing.to_string())]);
}

/// The number of stories `docs` form at the story granularity, ignoring `lists`.
fn story_count(docs: &[Document], lists: &StoryLists) -> usize {
    let params = Granularity::Story.params();
    storyhash::story::cluster_stories_with(docs, &params, storyhash::KeepPolicy::First, lists)
        .expect("runs")
        .stories
        .len()
}

/// A listed sentence is left out wherever it stands, also inside a paragraph.
#[test]
fn a_listed_sentence_inside_a_paragraph_stops_linking_stories() {
    let shared = "Sponsored by Zanthor Quillby Vextrana.";
    let docs: Vec<Document> = ["Alpha bravo charlie delta.", "Kilo lima mike november."]
        .iter()
        .enumerate()
        .map(|(i, words)| Document::new(format!("d{i}"), format!("{words} {shared}")))
        .collect();
    let story_count = |lists: &StoryLists| story_count(&docs, lists);
    assert_eq!(story_count(&StoryLists::default()), 1);
    let listed = StoryLists {
        boilerplate_lines: vec![shared.into()],
        ..StoryLists::default()
    };
    assert_eq!(story_count(&listed), 2);
}

/// The report says what a listed line removed: each listed line found, with the share
/// of the documents holding it, most widespread first; a line matching nothing (here a
/// misspelt one) is absent, which tells the user the list misses.
#[test]
fn the_report_gives_each_listed_line_the_share_of_documents_it_was_removed_from() {
    let footer = "Sponsored by Zanthor Quillby Vextrana";
    let notice = "Corrections appended below";
    let docs: Vec<Document> = ["alpha bravo", "kilo lima", "papa quebec", "xray yankee"]
        .iter()
        .enumerate()
        .map(|(i, words)| {
            let notice = if i == 0 {
                format!("\n{notice}")
            } else {
                String::new()
            };
            Document::new(format!("d{i}"), format!("{words}\n{footer}{notice}"))
        })
        .collect();
    let lists = StoryLists {
        boilerplate_lines: vec![
            notice.to_lowercase(),
            "Sponsord by Zanthor".into(),
            footer.into(),
        ],
        ..StoryLists::default()
    };
    let params = Granularity::Story.params();
    let clustering = storyhash::story::cluster_stories_with(
        &docs,
        &params,
        storyhash::KeepPolicy::First,
        &lists,
    )
    .expect("runs");
    let reported: Vec<(&str, f64, bool)> = clustering
        .boilerplate_lines
        .iter()
        .map(|l| (l.line.as_str(), l.share, l.listed))
        .collect();
    assert_eq!(
        reported,
        [
            (footer, 1.0, true),
            ("corrections appended below", 0.25, true)
        ]
    );
}

/// The user's lists: a line or terms two unrelated articles share join them into one
/// story until the line is listed as boilerplate or its terms as stopwords.
#[test]
fn listed_lines_and_stopwords_stop_linking_stories() {
    let shared = "Sponsored by Zanthor Quillby Vextrana";
    let docs: Vec<Document> = ["alpha bravo charlie delta", "kilo lima mike november"]
        .iter()
        .enumerate()
        .map(|(i, words)| Document::new(format!("d{i}"), format!("{words}\n{shared}")))
        .collect();
    let story_count = |lists: &StoryLists| story_count(&docs, lists);
    assert_eq!(
        story_count(&StoryLists::default()),
        1,
        "the shared line links them"
    );
    let lines = StoryLists {
        boilerplate_lines: vec![shared.to_uppercase()],
        ..StoryLists::default()
    };
    assert_eq!(story_count(&lines), 2);
    let stopwords = StoryLists {
        stopwords: ["zanthor", "quillby", "vextrana", "sponsored"]
            .map(String::from)
            .to_vec(),
        ..StoryLists::default()
    };
    assert_eq!(story_count(&stopwords), 2);
}

/// The members of every story of `input` at the story granularity with `lists`,
/// sorted.
fn story_members(input: &[Document], lists: &StoryLists) -> Vec<Vec<u32>> {
    let clustering = storyhash::story::cluster_stories_with(
        input,
        &Granularity::Story.params(),
        storyhash::KeepPolicy::First,
        lists,
    )
    .expect("runs");
    let mut stories = members(&clustering);
    stories.sort();
    stories
}

/// Three articles, each of its names and `common`: two about one strike, and one about
/// a vaccine trial, longer, so that once idf knows the common words for common they
/// are too small a part of its vector for it to reach the others' story.
fn beat_articles(common: &str) -> Vec<Document> {
    [
        ("a", "Zarkovia harbour strike Velmont dockers"),
        ("b", "Zarkovia harbour strike Velmont dockers continue"),
        (
            "c",
            "Orlintha vaccine trial Quessby laboratory Merrowdale volunteers dosage",
        ),
    ]
    .iter()
    .map(|(id, names)| Document::new(*id, format!("{names} {common}")))
    .collect()
}

/// A background corpus: in a three-article input every word is rare, so two unrelated
/// articles that share a beat's common words join one story. With a background of the
/// beat's articles, in which those words are common, they weigh little and the two stay
/// apart; the pair that shares names still joins. (The beat's words are made up, so
/// that general English frequencies know nothing of them.)
#[test]
fn a_background_corpus_tells_common_words_from_names() {
    let common = "kelvoran drissets pemtuary talwick snorvel quimbage";
    let input = beat_articles(common);
    // Two hundred articles of the beat: each has words of its own; one in three also
    // has the common words.
    let background_docs: Vec<Document> = (0..200)
        .map(|i| {
            let own: Vec<String> = (0..8).map(|w| format!("w{i}x{w}")).collect();
            let text = if i % 3 == 0 {
                format!("{} {common}", own.join(" "))
            } else {
                own.join(" ")
            };
            Document::new(format!("bg{i}"), text)
        })
        .collect();
    let mut background = storyhash::story::Background::new();
    background.add_documents(&background_docs);
    assert_eq!(background.documents(), 200);

    let params = Granularity::Story.params();
    let stories = |lists: &StoryLists| story_members(&input, lists);
    assert_eq!(
        stories(&StoryLists::default()),
        vec![vec![0, 1, 2]],
        "without a background the common words link all three"
    );
    let with = StoryLists {
        background,
        ..StoryLists::default()
    };
    assert_eq!(stories(&with), vec![vec![0, 1], vec![2]]);

    // A story-tracking index of the same articles gives the same counts, and so the
    // same stories.
    let index =
        storyhash::Index::with_stories(Preset::Dup.params(), Some(params.clone())).expect("index");
    for d in &background_docs {
        index.insert(d).expect("insert");
    }
    let from_index = index
        .story_background()
        .expect("readable")
        .expect("stories are tracked");
    assert_eq!(from_index.documents(), 200);
    assert_eq!(from_index.terms(), with.background.terms());
    let indexed = StoryLists {
        background: from_index,
        ..StoryLists::default()
    };
    assert_eq!(stories(&indexed), stories(&with));
    assert!(storyhash::Index::new(Preset::Dup.params())
        .expect("index")
        .story_background()
        .expect("readable")
        .is_none());
}

/// Without any background, general English frequencies (the built-in prior) know that
/// everyday news words are common and the articles' names are not: the two
/// strike articles join, the vaccine trial stays apart, where idf counted in the three
/// alone links all three (as the test above shows of words no prior knows).
#[cfg(feature = "general-frequencies")]
#[test]
fn general_frequencies_tell_common_words_from_names_without_a_background() {
    let input = beat_articles("people government president country week world");
    assert_eq!(
        story_members(&input, &StoryLists::default()),
        vec![vec![0, 1], vec![2]]
    );
}

/// The candidate rule counts terms rare among the input's articles, whatever the
/// background says of them: two articles about one asylum-seeker crisis share one name
/// (Tampa) and two words common in a background of the beat (6% of it), and the later
/// one also shares two names with an unrelated story before it. Counted with the background, the crisis
/// words would not be rare, the earlier article would share one rare term where the
/// other story shares two, and the later article would join that story instead.
#[test]
fn terms_rare_in_the_input_find_stories_whatever_the_background() {
    let input: Vec<Document> = [
        (
            "a",
            "Tampa asylum seekers asylum seekers Hockey regret cargo ferry",
        ),
        (
            "c",
            "Greens Senate budget treasurer surplus forecast deficit revenue spending cuts",
        ),
        ("b", "Tampa asylum seekers asylum seekers Greens Senate"),
    ]
    .map(|(id, text)| Document::new(id, text))
    .to_vec();
    let background_docs: Vec<Document> = (0..200)
        .map(|i| {
            let own: Vec<String> = (0..8).map(|w| format!("w{i}x{w}")).collect();
            let crisis = if i % 16 == 0 { " asylum seekers" } else { "" };
            Document::new(format!("bg{i}"), format!("{}{crisis}", own.join(" ")))
        })
        .collect();
    let mut background = storyhash::story::Background::new();
    background.add_documents(&background_docs);
    let lists = StoryLists {
        background,
        ..StoryLists::default()
    };
    assert_eq!(story_members(&input, &lists), vec![vec![0, 2], vec![1]]);
}

/// A headline-only flash and the full article that follows it are one story, though the
/// article's own names and figures, rarer than anything it shares with the flash, are
/// the heaviest terms it has.
#[test]
fn a_flash_and_its_full_article_are_one_story() {
    let flash = Document::new(
        "flash",
        "Zorvex Holdings annual profit 57.1 against loss 69.1",
    );
    let own: Vec<String> = (0..14).map(|i| format!("detailword{i}")).collect();
    let article = Document::new(
        "article",
        format!(
            "Zorvex Holdings reported annual profit 57.1 against loss 69.1 last year. {} {}",
            own.join(" "),
            own.join(" ")
        ),
    );
    let mut docs = vec![flash, article];
    docs.extend((0..20).map(|i| {
        let words: Vec<String> = (0..8).map(|w| format!("filler{i}x{w}")).collect();
        Document::new(format!("other{i}"), words.join(" "))
    }));
    let clustering = cluster_stories(&docs, &Granularity::Story.params()).expect("runs");
    let of = story_of_documents(&clustering, docs.len());
    assert_eq!(of[0], of[1], "{:?}", clustering.stories[of[0]]);
    assert_eq!(clustering.stories.len(), 21);
}

/// Two reports of one arrest that inflect its words differently (arrested and arrests,
/// protesters and protester, demonstration and demonstrations, Valdora and Valdora's)
/// are one story when English words count as their stems, and two when words must
/// match as written.
#[test]
fn rewrites_that_inflect_their_words_differently_are_one_story() {
    let docs = [
        (
            "a",
            "Police arrested three protesters after the demonstration in Valdora turned \
             violent, officials said on Monday.",
        ),
        (
            "b",
            "Valdora's demonstrations end in arrests: a protester is detained, and \
             officials say violence spread as police arrived.",
        ),
        (
            "c",
            "The central bank kept interest rates unchanged, citing slowing inflation \
             and a weaker currency.",
        ),
        (
            "d",
            "Heavy rain flooded farmland in the north, and growers expect a smaller \
             wheat harvest this year.",
        ),
    ]
    .map(|(id, text)| Document::new(id, text));
    let together = |analysis: StoryAnalysis| {
        let params = StoryParams {
            analysis,
            ..Granularity::Story.params()
        };
        let result = cluster_stories(&docs, &params).expect("runs");
        let story = story_of_documents(&result, docs.len());
        assert_ne!(story[2], story[3], "{analysis}: unrelated reports");
        story[0] == story[1]
    };
    assert!(together(StoryAnalysis::Stems), "stems join the rewrites");
    assert!(!together(StoryAnalysis::Words), "words as written do not");
}

/// Per document id: the ids of its story (sorted) and the similarity its group joined
/// with, so two runs compare whatever order their documents came in.
fn stories_by_id(docs: &[Document], params: &StoryParams) -> Vec<(String, Vec<String>, u64)> {
    let result = cluster_stories(docs, params).expect("runs");
    let mut by_id = Vec::new();
    for story in &result.stories {
        let mut ids: Vec<String> = (story.groups.iter().flatten())
            .map(|&d| docs[d as usize].id.clone())
            .collect();
        ids.sort();
        for (group, &score) in story.groups.iter().zip(&story.attached_with) {
            for &d in group {
                by_id.push((docs[d as usize].id.clone(), ids.clone(), score.to_bits()));
            }
        }
    }
    by_id.sort();
    by_id
}

/// Undated articles, and articles dated by the day alone, come in whatever order a
/// crawl or a directory listing gives: the stories and the similarities they were
/// joined with are the same in every order. (Visited in input order, the same-day
/// version of these 120 events, three to a topic, made 79 to 112 stories at `story` in
/// the order given, reversed and shuffled twice; undated, the stories were the same but
/// not the similarities their members joined with.)
#[test]
fn stories_do_not_depend_on_the_order_of_undated_or_same_day_articles() {
    let generated = StoryCorpus {
        seed: 7,
        events: 120,
        max_articles: 20,
        events_per_topic: 3,
        name_share: 0.05,
        ..StoryCorpus::default()
    }
    .generate();
    let undated: Vec<Document> = crate::dated_documents(&generated)
        .into_iter()
        .map(|mut d| {
            d.published = None;
            d
        })
        .collect();
    let by_day: Vec<Document> = crate::dated_documents(&generated)
        .into_iter()
        .map(|mut d| {
            d.published = d.published.map(|p| p[..10].to_string());
            d
        })
        .collect();
    let mut rng = storyhash::synth::Rng::new(5);
    for (what, docs) in [("undated", undated), ("by day", by_day)] {
        for granularity in [Granularity::Story, Granularity::Event] {
            let params = granularity.params();
            let expected = stories_by_id(&docs, &params);
            let mut reordered = docs.clone();
            for round in 0..3 {
                if round == 0 {
                    reordered.reverse();
                } else {
                    rng.shuffle(&mut reordered);
                }
                // (Not assert_eq: each side lists every document's story.)
                assert!(
                    stories_by_id(&reordered, &params) == expected,
                    "{what}, {granularity}, order {round}: other stories"
                );
            }
        }
    }
}
