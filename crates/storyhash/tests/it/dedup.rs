//! Corpus dedup against ground truth and against the in-memory pipeline.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use storyhash::dedup::{dedup, DedupOptions, DedupOutputs, DedupSummary, DEFAULT_SET_MEMORY};
use storyhash::input::{resolve_sources, ReadOptions, Source};
use storyhash::synth::{DupCorpus, SynthDoc};
use storyhash::{pipeline, Document, KeepPolicy, Preset};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storyhash-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn write_jsonl(path: &Path, docs: &[SynthDoc]) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    for d in docs {
        let line = serde_json::json!({"id": d.id, "text": d.text, "label": d.label});
        writeln!(out, "{line}").expect("write");
    }
}

struct Run {
    summary: DedupSummary,
    kept: Vec<u8>,
    removed: Vec<u8>,
    clusters: Vec<u8>,
}

/// Pass 1 holds every test corpus's shingle hashes with this; 0 holds none, so that
/// pass 2 re-reads every candidate.
const HOLD_ALL: usize = DEFAULT_SET_MEMORY;

fn run_dedup(input: &Path, keep: KeepPolicy, threads: usize, set_memory: usize) -> Run {
    let files =
        resolve_sources(&[Source::Path(input.to_path_buf())], &mut Vec::new()).expect("input");
    let mut params = Preset::Dup.params();
    params.keep = keep;
    let options = DedupOptions {
        set_memory,
        ..DedupOptions::new(params, ReadOptions::default())
    };
    let (mut kept, mut removed, mut clusters) = (Vec::new(), Vec::new(), Vec::new());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let summary = pool.install(|| {
        let outputs = DedupOutputs {
            kept: Some(&mut kept),
            removed: Some(&mut removed),
            clusters: Some(&mut clusters),
            pairs: None,
            bands: None,
            kept_format: Default::default(),
            names: Default::default(),
        };
        dedup(files, &options, outputs, &mut |_| {}, &mut |_| {}).expect("dedup runs")
    });
    Run {
        summary,
        kept,
        removed,
        clusters,
    }
}

fn corpus() -> Vec<SynthDoc> {
    DupCorpus {
        seed: 17,
        originals: 600,
        copied_fraction: 0.3,
        ..DupCorpus::default()
    }
    .generate()
}

#[test]
fn dedup_keeps_one_per_family_and_maps_the_rest() {
    let dir = scratch("dedup-truth");
    let docs = corpus();
    let input = dir.join("corpus.jsonl");
    write_jsonl(&input, &docs);
    let run = run_dedup(&input, KeepPolicy::First, 2, HOLD_ALL);
    let label: HashMap<&str, u32> = docs.iter().map(|d| (d.id.as_str(), d.label)).collect();

    // Kept lines are the input lines, unchanged and in input order.
    let input_text = std::fs::read_to_string(&input).expect("read input");
    let input_lines: Vec<&str> = input_text.lines().collect();
    let kept_text = String::from_utf8(run.kept).expect("utf8");
    let kept_lines: Vec<&str> = kept_text.lines().collect();
    let mut cursor = input_lines.iter();
    for line in &kept_lines {
        assert!(
            cursor.any(|l| l == line),
            "kept line not in input order: {line}"
        );
    }
    assert_eq!(run.summary.kept as usize, kept_lines.len());
    assert_eq!(run.summary.kept + run.summary.removed, docs.len() as u64);

    // Every removed document names a kept one of its own family.
    let kept_ids: Vec<String> = kept_lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect();
    let (mut right, mut wrong) = (0, 0);
    for line in String::from_utf8(run.removed).expect("utf8").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let (id, kept) = (
            v["id"].as_str().expect("id"),
            v["duplicate_of"].as_str().expect("kept"),
        );
        assert!(kept_ids.iter().any(|k| k == kept), "{kept} is not kept");
        let j = v["jaccard"].as_f64().expect("jaccard");
        assert!((0.0..=1.0).contains(&j));
        if label[id] == label[kept] {
            right += 1;
        } else {
            wrong += 1;
        }
    }
    let families = docs
        .iter()
        .map(|d| d.label)
        .collect::<std::collections::HashSet<_>>()
        .len();
    let removable = docs.len() - families;
    let recall = right as f64 / removable as f64;
    eprintln!(
        "dedup: {} docs, {families} families; removed {right} correctly, {wrong} wrongly; recall {recall:.4}",
        docs.len()
    );
    assert_eq!(
        wrong, 0,
        "a document was removed as a copy of an unrelated one"
    );
    assert!(recall >= 0.98, "recall {recall}");
    assert!(!run.clusters.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dedup_agrees_with_the_in_memory_pipeline_and_ignores_thread_count() {
    let dir = scratch("dedup-agree");
    let docs = corpus();
    let input = dir.join("corpus.jsonl");
    write_jsonl(&input, &docs);
    let one = run_dedup(&input, KeepPolicy::Longest, 1, HOLD_ALL);
    let three = run_dedup(&input, KeepPolicy::Longest, 3, HOLD_ALL);
    assert_eq!(one.kept, three.kept);
    assert_eq!(one.removed, three.removed);
    assert_eq!(one.clusters, three.clusters);

    assert_eq!(
        clusters_of_run(&one),
        clusters_by_pipeline(&docs, KeepPolicy::Longest)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The multi-member clusters the in-memory pipeline finds, as {kept, members} by id,
/// sorted by first member.
fn clusters_by_pipeline(docs: &[SynthDoc], keep: KeepPolicy) -> Vec<serde_json::Value> {
    let documents: Vec<Document> = docs
        .iter()
        .map(|d| Document::new(d.id.clone(), d.text.clone()))
        .collect();
    let mut params = Preset::Dup.params();
    params.keep = keep;
    let result = pipeline::run(&documents, &params).expect("runs");
    let mut clusters: Vec<serde_json::Value> = result
        .clusters
        .iter()
        .zip(result.member_ids(&documents))
        .filter(|(c, _)| c.members.len() > 1)
        .map(|(c, members)| {
            serde_json::json!({"kept": documents[c.representative as usize].id, "members": members})
        })
        .collect();
    clusters.sort_by_key(|v| v["members"][0].as_str().map(str::to_string));
    clusters
}

/// A dedup run's clusters file in the same form.
fn clusters_of_run(run: &Run) -> Vec<serde_json::Value> {
    let mut clusters: Vec<serde_json::Value> = String::from_utf8(run.clusters.clone())
        .expect("utf8")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            serde_json::json!({"kept": v["kept"], "members": v["members"]})
        })
        .collect();
    clusters.sort_by_key(|v| v["members"][0].as_str().map(str::to_string));
    clusters
}

/// Exact copies of a text (wire stories republished under new ids) are never banded nor
/// re-read: they join the first document with their text at Jaccard 1, and cluster as
/// the in-memory pipeline clusters them.
#[test]
fn exact_copies_are_read_once_and_cluster_as_in_memory() {
    let dir = scratch("dedup-exact-copies");
    let mut docs = corpus();
    let without_copies = dir.join("originals.jsonl");
    write_jsonl(&without_copies, &docs);
    let before = run_dedup(&without_copies, KeepPolicy::First, 2, 0).summary;
    let copies: Vec<SynthDoc> = docs
        .iter()
        .step_by(7)
        .flat_map(|d| {
            (1..=2).map(move |n| SynthDoc {
                id: format!("{}-copy{n}", d.id),
                ..d.clone()
            })
        })
        .collect();
    let copied = copies.len() as u64;
    docs.extend(copies);
    let input = dir.join("corpus.jsonl");
    write_jsonl(&input, &docs);
    let run = run_dedup(&input, KeepPolicy::First, 2, 0);
    assert!(run.summary.exact_copies >= copied, "{:?}", run.summary);
    // The copies add no candidate pair and no document to re-read.
    assert_eq!(run.summary.candidate_pairs, before.candidate_pairs);
    assert_eq!(
        run.summary.reanalyzed_documents, before.reanalyzed_documents,
        "{:?}",
        run.summary
    );
    assert_eq!(
        run.summary.verified_pairs,
        before.verified_pairs + run.summary.exact_copies - before.exact_copies
    );
    for line in String::from_utf8(run.removed.clone())
        .expect("utf8")
        .lines()
    {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let id = v["id"].as_str().expect("id");
        if let Some(original) = id.strip_suffix("-copy1").or(id.strip_suffix("-copy2")) {
            if v["duplicate_of"] == original {
                assert_eq!(v["jaccard"], 1.0, "{line}");
            }
        }
    }
    assert_eq!(
        clusters_of_run(&run),
        clusters_by_pipeline(&docs, KeepPolicy::First)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Pass 2 re-reads candidates by offset from an uncompressed file and streams a
/// compressed one; both must verify the same pairs and write the same outputs, also when
/// the compressed file's name does not say it is compressed.
#[test]
fn compressed_and_plain_inputs_give_identical_outputs() {
    let dir = scratch("dedup-compressed");
    // Few enough copies that pass 2 re-reads well under half of the plain input, so it
    // reads by offset there.
    let docs = DupCorpus {
        seed: 23,
        originals: 600,
        copied_fraction: 0.1,
        ..DupCorpus::default()
    }
    .generate();
    let plain = dir.join("corpus.jsonl");
    write_jsonl(&plain, &docs);
    let gzipped = dir.join("corpus.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gzipped).expect("create"),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(&std::fs::read(&plain).expect("read"))
        .expect("compress");
    encoder.finish().expect("finish");

    // The same gzip bytes under a name without `.gz`: recognised by their first bytes.
    let misnamed = dir.join("corpus-gzipped.jsonl");
    std::fs::copy(&gzipped, &misnamed).expect("copy");

    let from_plain = run_dedup(&plain, KeepPolicy::First, 2, 0);
    let from_gzip = run_dedup(&gzipped, KeepPolicy::First, 2, 0);
    let from_misnamed = run_dedup(&misnamed, KeepPolicy::First, 2, 0);
    assert_eq!(from_misnamed.summary.skipped(), 0);
    assert!(!from_misnamed.summary.candidates_read_by_offset);
    assert_eq!(from_misnamed.kept, from_gzip.kept);
    assert_eq!(from_misnamed.removed, from_gzip.removed);
    assert!(from_plain.summary.reanalyzed_documents > 0);
    assert!(from_plain.summary.candidates_read_by_offset);
    assert!(!from_gzip.summary.candidates_read_by_offset);
    assert_eq!(
        from_plain.summary.reanalyzed_documents,
        from_gzip.summary.reanalyzed_documents
    );
    assert_eq!(
        from_plain.summary.verified_pairs,
        from_gzip.summary.verified_pairs
    );
    assert_eq!(from_plain.kept, from_gzip.kept);
    assert_eq!(from_plain.removed, from_gzip.removed);
    assert_eq!(from_plain.clusters, from_gzip.clusters);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Exact sets built from the hashes pass 1 held and from records read again are the
/// same sets: outputs agree whether pass 1 holds every text's hashes, none, or the
/// first ones only (then pass 2 uses both sources in one run). Exact copies of a text
/// hold nothing of their own.
#[test]
fn held_and_reread_sets_give_identical_outputs() {
    let dir = scratch("dedup-held");
    let mut docs = corpus();
    // Pages that repeat their first paragraph (a scraping artefact): the original's
    // shingles, some twice, and the few that cross the seam. Their Jaccard is that of
    // sets, whichever way the sets were built: the in-memory pipeline's.
    let repeated: Vec<SynthDoc> = docs
        .iter()
        .step_by(50)
        .map(|d| {
            let first = d.text.lines().next().unwrap_or_default();
            SynthDoc {
                id: format!("{}-repeated", d.id),
                text: format!("{first}\n{}", d.text),
                ..d.clone()
            }
        })
        .collect();
    docs.extend(repeated);
    let copies: Vec<SynthDoc> = docs
        .iter()
        .step_by(9)
        .map(|d| SynthDoc {
            id: format!("{}-copy", d.id),
            ..d.clone()
        })
        .collect();
    docs.extend(copies);
    let texts = docs
        .iter()
        .map(|d| d.text.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len() as u64;
    let input = dir.join("corpus.jsonl");
    write_jsonl(&input, &docs);
    let none = run_dedup(&input, KeepPolicy::First, 2, 0);
    let all = run_dedup(&input, KeepPolicy::First, 2, HOLD_ALL);
    // About a third of the corpus's hashes (4 bytes per shingle).
    let words: usize = docs.iter().map(|d| d.text.split_whitespace().count()).sum();
    let part = run_dedup(&input, KeepPolicy::First, 2, words * 4 / 3);

    assert_eq!(none.summary.held_documents, 0);
    assert!(none.summary.reanalyzed_documents > 0);
    assert_eq!(all.summary.held_documents, texts);
    assert_eq!(all.summary.reanalyzed_documents, 0);
    let held = part.summary.held_documents;
    assert!(held > 0 && held < texts, "{:?}", part.summary);
    assert!(
        part.summary.reanalyzed_documents > 0
            && part.summary.reanalyzed_documents < none.summary.reanalyzed_documents,
        "{:?}",
        part.summary
    );
    for run in [&all, &part] {
        assert_eq!(run.summary.verified_pairs, none.summary.verified_pairs);
        assert_eq!(run.summary.exact_copies, none.summary.exact_copies);
        assert_eq!(run.kept, none.kept);
        assert_eq!(run.removed, none.removed);
        assert_eq!(run.clusters, none.clusters);
    }
    let documents: Vec<Document> = docs
        .iter()
        .map(|d| Document::new(d.id.clone(), d.text.clone()))
        .collect();
    let in_memory = pipeline::run(&documents, &Preset::Dup.params()).expect("runs");
    let jaccard_in_memory: HashMap<(&str, &str), f64> = in_memory
        .pairs
        .iter()
        .map(|p| {
            let (a, b) = (&documents[p.a as usize].id, &documents[p.b as usize].id);
            ((a.as_str(), b.as_str()), p.jaccard)
        })
        .collect();
    let removed = String::from_utf8(all.removed).expect("utf8");
    let mut repeats = 0;
    for line in removed.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let (id, kept) = (v["id"].as_str().expect("id"), v["duplicate_of"].as_str());
        if let Some(kept) = kept.filter(|&k| id.strip_suffix("-repeated") == Some(k)) {
            let expected = jaccard_in_memory[&(kept, id)];
            let got = v["jaccard"].as_f64().expect("jaccard");
            assert!(
                (got - expected).abs() < 1e-6,
                "{line}: in memory {expected}"
            );
            repeats += 1;
        }
    }
    assert!(repeats > 0, "{removed}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A repeated id is skipped with where it was first used, across files and batches,
/// and the first document with the id is the one that counts.
#[test]
fn repeated_ids_are_skipped_naming_their_first_use() {
    let dir = scratch("dedup-repeated-ids");
    let line = |id: &str, text: &str| serde_json::json!({"id": id, "text": text}).to_string();
    // More records than one batch holds, so the repeats meet the ids in other batches.
    let first: Vec<String> = (0..3000)
        .map(|i| {
            line(
                &format!("doc-{i}"),
                &format!("story number {i} about the harbour"),
            )
        })
        .collect();
    let second = [
        line("doc-7", "a different text under an id already used"),
        line("new", "a text of its own"),
        line(
            "doc-2999",
            "another repeat, of the last id of the first file",
        ),
    ];
    let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    std::fs::write(&a, first.join("\n") + "\n").expect("write");
    std::fs::write(&b, second.join("\n") + "\n").expect("write");
    let files = resolve_sources(
        &[Source::Path(a.clone()), Source::Path(b.clone())],
        &mut Vec::new(),
    )
    .expect("inputs");
    let options = DedupOptions::new(Preset::Dup.params(), ReadOptions::default());
    let mut warnings = Vec::new();
    let mut kept = Vec::new();
    let outputs = DedupOutputs {
        kept: Some(&mut kept),
        ..DedupOutputs::default()
    };
    let summary = dedup(
        files,
        &options,
        outputs,
        &mut |w| warnings.push(w.to_string()),
        &mut |_| {},
    )
    .expect("dedup runs");
    assert_eq!(summary.documents, 3001);
    assert_eq!(
        summary.skipped_by_reason.get("duplicate_id"),
        Some(&2),
        "{summary:?}"
    );
    let b_label = b.display().to_string();
    let a_label = a.display().to_string();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with(&format!("{b_label}:1: duplicate id \"doc-7\"")),
        "{warnings:?}"
    );
    assert!(
        warnings[0].contains(&format!("{a_label}:8")),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains(&format!("{a_label}:3000")),
        "{warnings:?}"
    );
    let kept = String::from_utf8(kept).expect("utf8");
    assert!(kept.contains("story number 7 about"));
    assert!(!kept.contains("already used"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A named pipe gives its bytes once, and dedup reads its input several times: it is
/// refused by name before anything is read (the run must not wait for a writer).
#[cfg(unix)]
#[test]
fn a_named_pipe_is_refused_before_reading() {
    let dir = scratch("dedup-fifo");
    let fifo = dir.join("feed.jsonl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let files =
        resolve_sources(&[Source::Path(fifo.clone())], &mut Vec::new()).expect("a .jsonl name");
    let options = DedupOptions::new(Preset::Dup.params(), ReadOptions::default());
    let err = dedup(
        files,
        &options,
        DedupOutputs::default(),
        &mut |_| {},
        &mut |_| {},
    )
    .expect_err("a pipe cannot be read twice");
    let message = err.to_string();
    assert!(
        message.contains("feed.jsonl") && message.contains("not a regular file"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The input edited between the passes that read it (truncated, one kept record
/// rewritten in place, the same records reordered, a record appended): pass 3 stops
/// with `InputChanged` instead of writing records that were never judged.
#[test]
fn an_input_changed_after_the_first_pass_stops_the_run() {
    let dir = scratch("dedup-changed");
    let docs = corpus();
    let input = dir.join("feed.jsonl");
    write_jsonl(&input, &docs);
    let original = std::fs::read(&input).expect("read");
    let lines: Vec<&[u8]> = original.split_inclusive(|&b| b == b'\n').collect();
    let truncated = lines[..lines.len() / 2].concat();
    let mut edited = original.clone();
    // A letter of the first record's text: same length, other bytes.
    let at = edited
        .windows(8)
        .position(|w| w == b"\"text\":\"")
        .expect("text")
        + 8;
    edited[at] = if edited[at] == b'x' { b'y' } else { b'x' };
    let reordered: Vec<u8> = lines.iter().rev().flat_map(|l| l.iter().copied()).collect();
    let mut appended = original.clone();
    appended.extend_from_slice(b"{\"id\":\"late\",\"text\":\"filed after the first pass\"}\n");
    for (change, bytes) in [
        ("truncated", truncated),
        ("edited", edited),
        ("reordered", reordered),
        ("appended", appended),
    ] {
        std::fs::write(&input, &original).expect("restore");
        // Holding no hashes, pass 2 re-reads the candidates and reports its progress
        // once they are read (one chunk): the change lands between passes 2 and 3.
        {
            let set_memory = 0;
            let files =
                resolve_sources(&[Source::Path(input.clone())], &mut Vec::new()).expect("input");
            let options = DedupOptions {
                set_memory,
                ..DedupOptions::new(Preset::Dup.params(), ReadOptions::default())
            };
            let mut kept = Vec::new();
            let outputs = DedupOutputs {
                kept: Some(&mut kept),
                ..DedupOutputs::default()
            };
            let mut changed = false;
            let mut on_progress = |progress: storyhash::dedup::Progress| {
                if progress.pass != storyhash::dedup::Pass::Sign && !changed {
                    std::fs::write(&input, &bytes).expect("change the input");
                    changed = true;
                }
            };
            let result = dedup(files, &options, outputs, &mut |_| {}, &mut on_progress);
            std::fs::write(&input, &original).expect("restore");
            assert!(changed, "pass 2 reported progress");
            let err = result.expect_err(change);
            assert!(
                matches!(err, storyhash::Error::InputChanged { .. }),
                "{change}: {err}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Progress comes pass by pass, never going back: pass 1 by records and input bytes up
/// to the input's, passes 2 and 3 by records up to pass 1's count.
#[test]
fn progress_reports_each_pass_in_order_up_to_the_input() {
    let dir = scratch("dedup-progress");
    let input = dir.join("feed.jsonl");
    write_jsonl(&input, &corpus());
    let files = resolve_sources(&[Source::Path(input.clone())], &mut Vec::new()).expect("input");
    let options = DedupOptions {
        set_memory: 0,
        ..DedupOptions::new(Preset::Dup.params(), ReadOptions::default())
    };
    let mut kept = Vec::new();
    let outputs = DedupOutputs {
        kept: Some(&mut kept),
        ..DedupOutputs::default()
    };
    let mut seen: Vec<storyhash::dedup::Progress> = Vec::new();
    let summary =
        dedup(files, &options, outputs, &mut |_| {}, &mut |p| seen.push(p)).expect("runs");
    use storyhash::dedup::Pass;
    let rank = |p: Pass| match p {
        Pass::Sign => 0,
        Pass::Verify => 1,
        Pass::Write => 2,
    };
    assert!(seen.windows(2).all(|w| rank(w[0].pass) <= rank(w[1].pass)));
    assert!(seen
        .windows(2)
        .all(|w| w[0].pass != w[1].pass || w[0].records <= w[1].records));
    let last_of = |pass: Pass| {
        *seen
            .iter()
            .rev()
            .find(|p| p.pass == pass)
            .expect("reported")
    };
    assert_eq!(last_of(Pass::Sign).records, summary.records);
    assert_eq!(last_of(Pass::Sign).bytes, summary.bytes_read);
    assert_eq!(last_of(Pass::Verify).records, summary.records);
    assert_eq!(last_of(Pass::Write).records, summary.records);
    let _ = std::fs::remove_dir_all(&dir);
}
