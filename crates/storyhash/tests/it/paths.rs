//! One suite for every path: the same corpora through `pipeline::run` (behind `cluster`
//! and `stories`), the streaming `dedup`, and the index fed one document at a time and
//! in batches, which must agree on clusters, kept ids and Jaccard values, under every
//! keep policy. (The Python package runs the same comparison against the CLI in its
//! pytest suite.)
//!
//! The corpora are shaped like real feeds: near-duplicate families in Latin and Arabic
//! script, titles, URLs, publication times in RFC 3339, RFC 2822, date-only and epoch
//! forms (some unreadable), copies whose JSON line is longer for another reason than
//! their text, thousands of identical copies of one wire story, and damaged lines.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use storyhash::dedup::{dedup, DedupOptions, DedupOutputs};
use storyhash::input::{read_sources, resolve_sources, ReadOptions, Source};
use storyhash::synth::{DupCorpus, Script};
use storyhash::{pipeline, Document, Index, InputProblem, KeepPolicy, Params, Preset};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storyhash-paths-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Publication times in the forms feeds use, `n` days after 2025-03-01; every
/// seventeenth is unreadable (an impossible date or a word), which every path must
/// count and treat as undated.
fn published(n: usize) -> serde_json::Value {
    let day = 1_740_787_200 + 86_400 * (n as i64 % 300) + 3_600 * (n as i64 % 24);
    let time = jiff::Timestamp::from_second(day).expect("in range");
    match n % 17 {
        0 => serde_json::json!(if n.is_multiple_of(2) {
            "2025-02-31"
        } else {
            "yesterday"
        }),
        1 | 5 | 9 => serde_json::json!(time.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()),
        2 | 6 => serde_json::json!(time.strftime("%a, %d %b %Y %H:%M:%S +0300").to_string()),
        3 | 10 => serde_json::json!(time.strftime("%Y-%m-%d").to_string()),
        4 | 11 => serde_json::json!(day),
        _ => serde_json::json!(time.to_string()),
    }
}

/// Near-duplicate families in two scripts with varied metadata, plus damaged lines.
fn news_lines() -> Vec<String> {
    let mut docs = DupCorpus {
        seed: 23,
        originals: 260,
        copied_fraction: 0.35,
        ..DupCorpus::default()
    }
    .generate();
    docs.extend(
        DupCorpus {
            seed: 29,
            script: Script::Arabic,
            originals: 120,
            copied_fraction: 0.35,
            ..DupCorpus::default()
        }
        .generate()
        .into_iter()
        .map(|mut d| {
            d.id = format!("ar-{}", d.id);
            d
        }),
    );
    let mut lines = Vec::new();
    for (n, d) in docs.iter().enumerate() {
        // Later documents are often dated earlier, so `earliest` differs from `first`.
        let mut record = serde_json::json!({
            "id": d.id,
            "text": d.text,
            "published": published(docs.len() - n),
            "url": format!("https://news.example/{n}"),
        });
        if n % 3 == 0 {
            record["title"] = serde_json::json!(format!("Headline {n}"));
        }
        lines.push(record.to_string());
        if n % 10 == 0 {
            // The same text under a very long title: the longest JSON line, never the
            // longest text.
            let title = "a republisher's long headline ".repeat(20);
            lines.push(
                serde_json::json!({"id": format!("{}-retitled", d.id), "text": d.text, "title": title})
                    .to_string(),
            );
            // The same text with a sentence more: the longest text.
            let longer = format!("{} And one more closing sentence here.", d.text);
            lines.push(
                serde_json::json!({"id": format!("{}-extended", d.id), "text": longer}).to_string(),
            );
        }
        if n % 50 == 7 {
            lines.push("{not json at all".into());
            lines.push(serde_json::json!({"id": format!("no-text-{n}")}).to_string());
        }
    }
    lines
}

/// 3,000 identical copies of one wire story (dated, some unreadably), between distinct
/// articles.
fn identical_lines() -> Vec<String> {
    let docs = DupCorpus {
        seed: 31,
        originals: 200,
        copied_fraction: 0.0,
        ..DupCorpus::default()
    }
    .generate();
    let story = &docs[0].text;
    let mut lines = Vec::new();
    for n in 0..3_000 {
        lines.push(
            serde_json::json!({"id": format!("wire-{n}"), "text": story, "published": published(3_000 - n)})
                .to_string(),
        );
        if n % 16 == 0 {
            let d = &docs[1 + n / 16];
            lines.push(serde_json::json!({"id": d.id, "text": d.text}).to_string());
        }
    }
    lines
}

/// 400 near-copies of one wire story, each under its own headline line (the copies
/// of a story republished with new headlines: every band puts them in one bucket), between
/// distinct articles.
fn near_copy_lines() -> Vec<String> {
    let docs = DupCorpus {
        seed: 37,
        originals: 120,
        copied_fraction: 0.0,
        ..DupCorpus::default()
    }
    .generate();
    let story = &docs[0].text;
    let mut lines = Vec::new();
    // More than three times the largest bucket expanded in full (128), in every band.
    for n in 0..400 {
        let text = format!("Edition {n} of the regional desk reports\n{story}");
        lines.push(
            serde_json::json!({"id": format!("wire-{n}"), "text": text, "published": published(n)})
                .to_string(),
        );
        if n % 4 == 0 {
            let d = &docs[1 + n / 4];
            lines.push(serde_json::json!({"id": d.id, "text": d.text}).to_string());
        }
    }
    lines
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    for line in lines {
        writeln!(out, "{line}").expect("write");
    }
}

/// What every path must agree on: clusters of two or more (member ids, sorted), and each
/// removed document's kept document and Jaccard to it (six decimals, as files give it).
#[derive(Debug, PartialEq)]
struct Outcome {
    clusters: BTreeSet<Vec<String>>,
    removed: BTreeMap<String, (String, String)>,
}

/// A Jaccard value as the files give it: rounded to six decimals.
fn six(j: f64) -> String {
    format!("{:.6}", (j * 1e6).round() / 1e6)
}

/// Fails with the first few differences, not two whole outcomes.
fn assert_same(got: &Outcome, expected: &Outcome, what: &str) {
    let clusters: Vec<_> = got
        .clusters
        .symmetric_difference(&expected.clusters)
        .take(3)
        .collect();
    assert!(clusters.is_empty(), "{what}: clusters differ: {clusters:?}");
    let removed: Vec<_> = got
        .removed
        .iter()
        .filter(|(id, v)| expected.removed.get(*id) != Some(v))
        .chain(
            expected
                .removed
                .iter()
                .filter(|(id, _)| !got.removed.contains_key(*id)),
        )
        .take(5)
        .map(|(id, v)| (id, v, expected.removed.get(id)))
        .collect();
    assert!(
        removed.is_empty(),
        "{what}: removed differ (got, expected): {removed:?}"
    );
}

fn params(keep: KeepPolicy) -> Params {
    Params {
        keep,
        ..Preset::Dup.params()
    }
}

fn by_pipeline(docs: &[Document], keep: KeepPolicy) -> Outcome {
    let result = pipeline::run(docs, &params(keep)).expect("runs");
    let clusters = result
        .member_ids(docs)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| sorted(c.into_iter().map(str::to_string).collect()))
        .collect();
    let removed = (0..)
        .zip(result.kept_of())
        .filter(|&(d, k)| d != k)
        .map(|(d, k)| {
            let j = six(result.similarity(d, k));
            (
                docs[d as usize].id.clone(),
                (docs[k as usize].id.clone(), j),
            )
        })
        .collect();
    Outcome { clusters, removed }
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// `dedup` over `input`, and the number of unreadable dates it warned about.
fn by_dedup(input: &Path, keep: KeepPolicy) -> (Outcome, u64) {
    let files =
        resolve_sources(&[Source::Path(input.to_path_buf())], &mut Vec::new()).expect("input");
    let options = DedupOptions::new(params(keep), ReadOptions::default());
    let (mut removed, mut clusters) = (Vec::new(), Vec::new());
    let mut bad_dates = 0;
    let outputs = DedupOutputs {
        kept: None,
        removed: Some(&mut removed),
        clusters: Some(&mut clusters),
        pairs: None,
        bands: None,
        kept_format: Default::default(),
        names: Default::default(),
    };
    let summary = dedup(
        files,
        &options,
        outputs,
        &mut |w| bad_dates += u64::from(matches!(w.problem, InputProblem::BadDate(_))),
        &mut |_| {},
    )
    .expect("dedup runs");
    assert_eq!(summary.unreadable_dates, bad_dates);
    let json = |bytes: &[u8]| -> Vec<serde_json::Value> {
        std::str::from_utf8(bytes)
            .expect("utf8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect()
    };
    let text = |v: &serde_json::Value| v.as_str().expect("string").to_string();
    let outcome = Outcome {
        clusters: json(&clusters)
            .iter()
            .map(|c| {
                sorted(
                    c["members"]
                        .as_array()
                        .expect("members")
                        .iter()
                        .map(text)
                        .collect(),
                )
            })
            .collect(),
        removed: json(&removed)
            .iter()
            .map(|r| {
                let j = six(r["jaccard"].as_f64().expect("jaccard"));
                (text(&r["id"]), (text(&r["duplicate_of"]), j))
            })
            .collect(),
    };
    (outcome, bad_dates)
}

/// The index's clusters (member ids, sorted) and names, fed `docs` one at a time or in
/// batches of `batch`; every match it reports at insertion must carry the Jaccard value
/// the pipeline computes for the same pair.
fn by_index(
    docs: &[Document],
    batch: Option<usize>,
    pipeline_j: &dyn Fn(&str, &str) -> f64,
) -> Vec<(String, Vec<String>)> {
    let index = Index::new(Preset::Dup.params()).expect("index");
    let decisions: Vec<_> = match batch {
        None => docs.iter().map(|d| index.insert(d)).collect(),
        Some(n) => docs
            .chunks(n)
            .flat_map(|chunk| index.insert_batch(chunk))
            .collect(),
    };
    for decision in decisions {
        let decision = decision.expect("stored");
        for m in &decision.matches {
            assert_eq!(
                six(m.jaccard),
                six(pipeline_j(&decision.id, &m.id)),
                "{} ~ {}",
                decision.id,
                m.id
            );
        }
    }
    index
        .clusters()
        .expect("clusters")
        .into_iter()
        .map(|(name, members)| (name, sorted(members)))
        .collect()
}

fn check_every_path(name: &str, lines: &[String]) {
    let dir = scratch(name);
    let input = dir.join("feed.jsonl");
    write_lines(&input, lines);
    let read =
        read_sources(&[Source::Path(input.clone())], &ReadOptions::default()).expect("reads");
    let docs = &read.documents;
    let read_bad_dates = read
        .warnings
        .iter()
        .filter(|w| matches!(w.problem, InputProblem::BadDate(_)))
        .count() as u64;

    for keep in [KeepPolicy::First, KeepPolicy::Longest, KeepPolicy::Earliest] {
        let expected = by_pipeline(docs, keep);
        assert!(!expected.clusters.is_empty());
        let (streamed, bad_dates) = by_dedup(&input, keep);
        assert_eq!(
            bad_dates, read_bad_dates,
            "{name}: unreadable dates counted alike"
        );
        assert_same(
            &streamed,
            &expected,
            &format!("{name}: dedup, keep {keep:?}"),
        );
    }

    let first = by_pipeline(docs, KeepPolicy::First);
    let result = pipeline::run(docs, &params(KeepPolicy::First)).expect("runs");
    let position: BTreeMap<&str, u32> = docs
        .iter()
        .zip(0..)
        .map(|(d, i)| (d.id.as_str(), i))
        .collect();
    let pipeline_j = |a: &str, b: &str| result.similarity(position[a], position[b]);
    // The index names a cluster by its earliest member: the kept one under `first`.
    let kept_first: BTreeMap<&str, &str> = first
        .removed
        .iter()
        .map(|(d, (k, _))| (d.as_str(), k.as_str()))
        .collect();
    for batch in [None, Some(97), Some(4096)] {
        let clusters = by_index(docs, batch, &pipeline_j);
        let members: BTreeSet<Vec<String>> = clusters.iter().map(|(_, m)| m.clone()).collect();
        assert_eq!(
            members, first.clusters,
            "{name}: index clusters, batch {batch:?}"
        );
        for (cluster, members) in &clusters {
            for m in members.iter().filter(|m| *m != cluster) {
                assert_eq!(
                    kept_first.get(m.as_str()),
                    Some(&cluster.as_str()),
                    "{name}: {m}"
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_path_agrees_on_news_with_metadata_dates_and_damage() {
    let lines = news_lines();
    check_every_path("news", &lines);
}

#[test]
fn every_path_agrees_on_a_story_republished_under_new_headlines() {
    let lines = near_copy_lines();
    check_every_path("near-copies", &lines);
}

#[test]
fn every_path_agrees_on_thousands_of_identical_copies() {
    let lines = identical_lines();
    check_every_path("identical", &lines);
}

/// The keep policies mean one thing everywhere, and the corpora exercise them: the
/// longest text is not the longest JSON line, and the earliest is not the first.
#[test]
fn the_corpus_separates_the_keep_policies() {
    let read = {
        let dir = scratch("policies");
        let input = dir.join("feed.jsonl");
        write_lines(&input, &news_lines());
        let read = read_sources(&[Source::Path(input)], &ReadOptions::default()).expect("reads");
        let _ = std::fs::remove_dir_all(&dir);
        read
    };
    let outcomes: Vec<Outcome> = [KeepPolicy::First, KeepPolicy::Longest, KeepPolicy::Earliest]
        .iter()
        .map(|&keep| by_pipeline(&read.documents, keep))
        .collect();
    assert_ne!(outcomes[0].removed, outcomes[1].removed);
    assert_ne!(outcomes[0].removed, outcomes[2].removed);
    assert_ne!(outcomes[1].removed, outcomes[2].removed);
    // The retitled copies (longest line) are never kept for length; the extended ones
    // (longest text) are.
    let kept: BTreeSet<&str> = outcomes[1]
        .removed
        .values()
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(kept.iter().any(|k| k.ends_with("-extended")));
    assert!(!kept.iter().any(|k| k.ends_with("-retitled")));
    assert!(read
        .warnings
        .iter()
        .any(|w| matches!(w.problem, InputProblem::BadDate(_))));
    assert!(read.warnings.iter().any(|w| w.problem.skips_record()));
}
