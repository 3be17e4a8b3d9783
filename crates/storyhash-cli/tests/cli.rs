//! The `storyhash` binary end to end: reports, bad input, exit codes, output files.

mod common;

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

#[test]
fn no_input_reports_on_the_bundled_seeds() {
    let out = storyhash(&["cluster"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.starts_with("storyhash: 5 documents, 5 clusters"),
        "{report}"
    );
    assert!(report.contains("000_06492c2b52d2f1b0"));
    // The story preset groups with the story engine, whose report it prints.
    let story = stdout(&storyhash(&["cluster", "--preset", "story"]));
    assert_eq!(story, stdout(&storyhash(&["stories"])));
    assert!(story.contains("story 0: 5 documents"), "{story}");
}

#[test]
fn the_story_preset_takes_threshold_and_keep_and_refuses_shingle_settings() {
    let out = storyhash(&[
        "cluster",
        "--preset",
        "story",
        "--format",
        "json",
        "--threshold",
        "0.9",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["params"]["threshold"], 0.9);
    assert_eq!(report["stories"].as_array().map(Vec::len), Some(5));
    for flag in [
        &["--pairs", "pairs.jsonl"][..],
        &["--shingle", "word:3"],
        &["--sweep", "0.1,0.2"],
    ] {
        let mut args = vec!["cluster", "--preset", "story"];
        args.extend_from_slice(flag);
        let out = storyhash(&args);
        assert_eq!(out.status.code(), Some(2), "{flag:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(flag[0]), "{}", stderr(&out));
    }
}

#[test]
fn embedded_seeds_equal_the_seed_directory() {
    let embedded = storyhash(&["cluster", "--format", "json", "--preset", "story"]);
    let from_disk = storyhash(&[
        "cluster",
        "--format",
        "json",
        "--preset",
        "story",
        &path("seeds"),
    ]);
    assert_eq!(json(&embedded)["stories"], json(&from_disk)["stories"]);
}

#[test]
fn bad_records_are_skipped_with_file_and_line() {
    let cases = [
        (
            "bad/invalid_utf8.jsonl",
            "invalid_utf8.jsonl:2: invalid UTF-8",
            "invalid_utf8",
        ),
        (
            "bad/malformed.jsonl",
            "malformed.jsonl:2: malformed JSON",
            "malformed_json",
        ),
        (
            "bad/missing_text.jsonl",
            "missing_text.jsonl:2: missing field `text`; the record has `body`, `id`",
            "missing_field",
        ),
        (
            "bad/not_object.jsonl",
            "not_object.jsonl:2: expected a JSON object",
            "not_an_object",
        ),
        (
            "bad/duplicate_id.jsonl",
            "duplicate_id.jsonl:2: duplicate id \"a\"",
            "duplicate_id",
        ),
        (
            "bad/invalid_utf8.txt",
            "invalid_utf8.txt:2: invalid UTF-8",
            "invalid_utf8",
        ),
        (
            "bad/empty.txt",
            "empty.txt:1: empty document",
            "empty_document",
        ),
        (
            "bad/empty.jsonl",
            "empty.jsonl:1: no documents in file",
            "empty_file",
        ),
    ];
    // Beside the seeds: a run whose every record is skipped fails (see habits.rs).
    for (file, warning, reason) in cases {
        let out = storyhash(&["cluster", "--format", "json", &path(file), &path("seeds")]);
        assert!(out.status.success(), "{file}: {}", stderr(&out));
        assert!(stderr(&out).contains(warning), "{file}: {}", stderr(&out));
        let report = json(&out);
        assert_eq!(report["stats"]["skipped_by_reason"][reason], 1, "{file}");
    }
}

#[test]
fn strict_mode_stops_with_exit_code_1() {
    let out = storyhash(&["cluster", "--strict", &path("bad/malformed.jsonl")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("malformed.jsonl:2: malformed JSON"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn clean_variants_read_without_warnings() {
    for file in ["bad/bom_crlf.jsonl", "bad/truncated_last_line.jsonl"] {
        let out = storyhash(&["cluster", "--strict", "--format", "json", &path(file)]);
        assert!(out.status.success(), "{file}: {}", stderr(&out));
        assert_eq!(json(&out)["stats"]["documents"], 2, "{file}");
    }
}

#[test]
fn bidi_marks_do_not_hide_an_exact_copy() {
    let out = storyhash(&[
        "cluster",
        "--strict",
        "--format",
        "json",
        &path("bad/bidi_mixed.jsonl"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(
        report["clusters"][0]["members"],
        serde_json::json!(["a", "b"])
    );
    assert_eq!(
        report["clusters"][0]["documents"][1]["similarity_to_representative"],
        1.0
    );
}

#[test]
fn wordless_texts_match_only_exact_copies() {
    let out = storyhash(&[
        "cluster",
        "--format",
        "json",
        &path("bad/punctuation_only.jsonl"),
    ]);
    let report = json(&out);
    assert_eq!(
        report["clusters"][0]["members"],
        serde_json::json!(["a", "c"])
    );
    assert_eq!(report["clusters"].as_array().expect("clusters").len(), 2);
}

#[test]
fn errors_and_usage_have_distinct_exit_codes() {
    let missing = storyhash(&["cluster", "/nonexistent/feed.jsonl"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("/nonexistent/feed.jsonl"),
        "{}",
        stderr(&missing)
    );

    let unsupported = storyhash(&["cluster", &path("bad/README.md")]);
    assert_eq!(unsupported.status.code(), Some(1));
    assert!(stderr(&unsupported).contains("unsupported input"));

    let empty = scratch("empty-input-dir");
    let in_empty = storyhash(&["dedup", &empty.display().to_string()]);
    assert_eq!(in_empty.status.code(), Some(1));
    assert!(
        stderr(&in_empty)
            .contains("no .txt, .jsonl, .ndjson (optionally .gz or .zst) or .parquet file"),
        "{}",
        stderr(&in_empty)
    );
    let _ = std::fs::remove_dir_all(&empty);

    // Refused by the library's parameter check: a usage error all the same.
    let bad_threshold = storyhash(&["cluster", "--threshold", "0"]);
    assert_eq!(bad_threshold.status.code(), Some(2));
    assert!(stderr(&bad_threshold).contains("threshold must be in (0, 1]"));

    for args in [
        &["cluster", "--threshold", "high"][..],
        &["cluster", "--shingle", "word:0"],
        &["cluster", "--bands", "7"],
        &["cluster", "--stopwords", "xx"],
        &["frobnicate"],
    ] {
        assert_eq!(storyhash(args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn reads_jsonl_from_stdin_with_renamed_fields() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_storyhash"))
        .args([
            "cluster",
            "--format",
            "json",
            "--id-field",
            "key",
            "--text-field",
            "body",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let text = "the minister arrived in moscow on monday for talks on energy and trade";
    let input = format!(
        "{{\"key\":1,\"body\":\"{text}\"}}\n{{\"key\":2,\"body\":\"{text}.\"}}\n\
         {{\"key\":3,\"body\":\"a storm closed the port for two days\"}}\n"
    );
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(
        report["clusters"][0]["members"],
        serde_json::json!(["1", "2"])
    );
    assert_eq!(
        report["clusters"][0]["documents"][1]["similarity_to_representative"],
        1.0
    );
}

#[test]
fn output_file_is_written_whole_and_alone() {
    let dir = std::env::temp_dir().join(format!("storyhash-cli-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let target = dir.join("report.json");
    std::fs::write(&target, "previous").expect("old report");
    let out = storyhash(&[
        "cluster",
        "--format",
        "json",
        "--output",
        &target.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&target).expect("read")).expect("JSON");
    assert_eq!(written["stats"]["documents"], 5);
    let names: Vec<_> = std::fs::read_dir(&dir).expect("list").collect();
    assert_eq!(names.len(), 1, "temporary files left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_output_over_an_input_is_refused_and_the_input_kept() {
    let dir = scratch("output-over-input");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, small_feed()).expect("write feed");
    let feed_arg = feed.display().to_string();
    // The same file by another spelling of its path, and through a directory input.
    let other_spelling = dir.join(".").join("feed.jsonl").display().to_string();
    for args in [
        vec!["dedup", "--quiet", &feed_arg, "--output", &feed_arg],
        vec!["dedup", "--quiet", &feed_arg, "--removed", &other_spelling],
        vec!["cluster", &feed_arg, "--output", &feed_arg],
        vec![
            "stories",
            dir.to_str().expect("utf-8 path"),
            "--output",
            &feed_arg,
        ],
    ] {
        let out = storyhash(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("is also an input"),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read_to_string(&feed).expect("feed"),
            small_feed(),
            "{args:?} changed its input"
        );
    }
    // An output in a directory that does not exist is named as given, not by the
    // temporary file it would have been written through.
    let missing = dir.join("no-such-dir").join("kept.jsonl");
    let out = storyhash(&[
        "dedup",
        &feed_arg,
        "--output",
        &missing.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&missing.display().to_string()),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(".tmp-"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn thread_count_does_not_change_the_report() {
    let seeds = path("seeds");
    let one = storyhash(&["cluster", "--preset", "story", "--threads", "1", &seeds]);
    let two = storyhash(&["cluster", "--preset", "story", "--threads", "2", &seeds]);
    assert!(one.status.success());
    assert_eq!(one.stdout, two.stdout);
}

#[test]
fn overrides_are_reflected_in_the_report_parameters() {
    let out = storyhash(&[
        "cluster",
        "--format",
        "json",
        "--shingle",
        "char:5",
        "--threshold",
        "0.3",
        "--num-perm",
        "64",
        "--bands",
        "16x4",
        "--seed",
        "7",
        "--stopwords",
        "none",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let params = &json(&out)["params"];
    assert_eq!(params["shingle"], "char:5");
    assert_eq!(params["threshold"], 0.3);
    assert_eq!(
        (params["bands"].as_u64(), params["rows"].as_u64()),
        (Some(16), Some(4))
    );
    assert_eq!(params["seed"], 7);
    assert_eq!(params["preset"], serde_json::Value::Null);
}

#[test]
fn directories_are_read_in_name_order() {
    let out = storyhash(&["dedup", &path("seeds")]);
    assert!(out.status.success(), "{}", stderr(&out));
    // dedup writes the kept documents in input order.
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            record["id"].as_str().expect("id").to_string()
        })
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids.len(), 5);
    assert_eq!(ids, sorted, "read in name order");
    assert!(Path::new(&path("seeds")).is_dir());
}

#[test]
fn dedup_writes_kept_lines_unchanged_and_maps_removed_ones() {
    let dir = scratch("dedup");
    let input = dir.join("feed.jsonl");
    std::fs::write(&input, small_feed()).expect("write feed");
    let (kept, removed, clusters) = (
        dir.join("kept.jsonl"),
        dir.join("removed.jsonl"),
        dir.join("clusters.jsonl"),
    );
    let out = storyhash(&[
        "dedup",
        &input.display().to_string(),
        "--output",
        &kept.display().to_string(),
        "--removed",
        &removed.display().to_string(),
        "--clusters",
        &clusters.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("feed.jsonl:3: malformed JSON"), "{err}");
    assert!(
        err.contains("3 documents read (1 record skipped), 2 kept, 1 removed in 1 cluster;"),
        "{err}"
    );
    let feed = small_feed();
    let lines: Vec<&str> = feed.lines().collect();
    let kept_text = std::fs::read_to_string(&kept).expect("kept");
    assert_eq!(kept_text, format!("{}\n{}\n", lines[0], lines[3]));
    let removed_line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&removed).expect("removed").trim())
            .expect("json");
    assert_eq!(removed_line["id"], "b");
    assert_eq!(removed_line["duplicate_of"], "a");
    assert!(removed_line["jaccard"].as_f64().expect("number") > 0.5);
    let cluster_line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&clusters).expect("clusters").trim())
            .expect("json");
    assert_eq!(cluster_line["members"], serde_json::json!(["a", "b"]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dedup_reads_gzip_zstd_and_stdin_alike() {
    let dir = scratch("dedup-compressed");
    let feed = small_feed();
    let gz = dir.join("feed.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(feed.as_bytes()).expect("gzip");
    std::fs::write(&gz, encoder.finish().expect("gzip")).expect("write gz");
    let zst = dir.join("feed.jsonl.zst");
    std::fs::write(&zst, zstd::encode_all(feed.as_bytes(), 3).expect("zstd")).expect("write zst");

    let run = |input: &str, stdin: Option<&str>| {
        let kept = dir.join(format!("kept-{}.jsonl", input.len()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_storyhash"))
            .args([
                "dedup",
                "--quiet",
                input,
                "--output",
                &kept.display().to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        drop(pipe);
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{input}: {}", stderr(&out));
        std::fs::read_to_string(&kept).expect("kept")
    };
    let from_gz = run(&gz.display().to_string(), None);
    let from_zst = run(&zst.display().to_string(), None);
    let from_stdin = run("-", Some(&feed));
    assert_eq!(from_gz.lines().count(), 2);
    assert_eq!(from_gz, from_zst);
    assert_eq!(from_gz, from_stdin);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_compressed_input_stops_the_run_with_one_clear_message() {
    let dir = scratch("dedup-damaged");
    let feed = small_feed().repeat(40);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(feed.as_bytes()).expect("gzip");
    let gz = encoder.finish().expect("gzip");
    let zst = zstd::encode_all(feed.as_bytes(), 3).expect("zstd");
    for (name, bytes, format) in [
        ("cut.jsonl.gz", &gz[..gz.len() / 2], "gzip"),
        ("cut.jsonl.zst", &zst[..zst.len() / 2], "zstd"),
        ("garbage.jsonl.gz", &b"not gzip at all"[..], "gzip"),
    ] {
        let input = dir.join(name);
        std::fs::write(&input, bytes).expect("write input");
        let kept = dir.join(format!("kept-{name}"));
        let out = storyhash(&[
            "dedup",
            "--quiet",
            &input.display().to_string(),
            "--output",
            &kept.display().to_string(),
        ]);
        let message = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {message}");
        assert!(message.contains(name), "{message}");
        assert!(
            message.contains(&format!("corrupt or truncated {format} data")),
            "{message}"
        );
        // Each cause once: the library's message already carries the decoder's reason.
        let line = message.trim_end();
        let reason = line.rsplit(": ").next().expect("a reason");
        assert_eq!(line.matches(reason).count(), 1, "{message}");
        assert!(!kept.exists(), "{name}: a failed run left an output file");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dedup_keeps_id_less_records_of_same_named_files_apart() {
    // Shards named alike in different directories, records without ids: each record
    // gets its own id, none is dropped as a repeat, and the copy across shards is found.
    let dir = scratch("dedup-same-names");
    let text = "the harbour fire spread to three warehouses overnight before crews contained it";
    for (sub, other) in [
        ("2024-01", "a council vote on the new bridge"),
        ("2024-02", text),
    ] {
        std::fs::create_dir_all(dir.join(sub)).expect("dir");
        let lines = [text, other]
            .map(|t| serde_json::json!({ "text": t }).to_string())
            .join("\n");
        std::fs::write(dir.join(sub).join("part-0.jsonl"), lines + "\n").expect("write");
    }
    let kept = dir.join("kept.jsonl");
    let removed = dir.join("removed.jsonl");
    let out = storyhash(&[
        "dedup",
        &dir.join("2024-01/part-0.jsonl").display().to_string(),
        &dir.join("2024-02/part-0.jsonl").display().to_string(),
        "--output",
        &kept.display().to_string(),
        "--removed",
        &removed.display().to_string(),
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("duplicate id"), "{err}");
    assert!(
        err.contains("4 documents read (0 records skipped), 2 kept, 2 removed"),
        "{err}"
    );
    let removed = std::fs::read_to_string(&removed).expect("removed");
    let first = dir.join("2024-01/part-0:1").display().to_string();
    assert!(
        removed.contains(&serde_json::json!(first).to_string()),
        "{removed}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A directory of more text files than a process may hold open: pass 2 must not open
/// them all at once to re-read its candidates.
#[cfg(unix)]
#[test]
fn dedup_reads_a_directory_of_many_files_under_a_low_descriptor_limit() {
    let dir = scratch("dedup-many-files");
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).expect("dir");
    for i in 0..600 {
        // Every tenth article is a near copy of the one before (its last word changed:
        // an exact copy would never be a candidate), so a few candidates are spread
        // over the whole directory and are re-read by offset (pass 1 holds no shingle
        // hashes: `--set-memory 0`).
        let source = if i % 10 == 9 { i - 1 } else { i };
        // 40 words drawn by a linear congruential generator seeded by the article.
        let mut state = source as u64 + 1;
        let words = if source == i { 40 } else { 39 };
        let text = (0..words)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                format!("w{}", (state >> 33) % 50_000)
            })
            .collect::<Vec<_>>()
            .join(" ")
            + if source == i { "" } else { " edited" };
        std::fs::write(corpus.join(format!("a{i:04}.txt")), text).expect("write");
    }
    let summary = dir.join("summary.json");
    let script = format!(
        "ulimit -n 300 && exec \"$0\" dedup --quiet --set-memory 0 '{}' --output '{}' --summary '{}'",
        corpus.display(),
        dir.join("kept.jsonl").display(),
        summary.display()
    );
    let out = Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_storyhash")])
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    assert_eq!(summary["removed"], 60, "{summary}");
    assert_eq!(summary["candidates_read_by_offset"], true, "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dedup_strict_stops_and_leaves_no_output() {
    let dir = scratch("dedup-strict");
    let input = dir.join("feed.jsonl");
    std::fs::write(&input, small_feed()).expect("write feed");
    let kept = dir.join("kept.jsonl");
    let out = storyhash(&[
        "dedup",
        "--strict",
        &input.display().to_string(),
        "-o",
        &kept.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("feed.jsonl:3: malformed JSON"));
    assert!(!kept.exists());
    assert_eq!(
        std::fs::read_dir(&dir).expect("list").count(),
        1,
        "temporary files left behind"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Kills real runs at many moments while they write `--output`: the file must always be
/// either the old one or a complete new report, never a partial one.
#[test]
fn killing_a_run_never_leaves_a_partial_output() {
    let dir = scratch("kill");
    let input = dir.join("big.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&input).expect("create"));
        for i in 0..1500 {
            let words: Vec<String> = (0..120)
                .map(|w| format!("w{}", (i * 7 + w * 13) % 5000))
                .collect();
            writeln!(out, "{{\"id\":\"d{i}\",\"text\":\"{}\"}}", words.join(" ")).expect("write");
        }
    }
    let target = dir.join("report.json");
    let mut saw_new = false;
    // The last run is never killed, so at least one complete report is checked.
    for delay_ms in [
        Some(0u64),
        Some(2),
        Some(5),
        Some(10),
        Some(20),
        Some(40),
        Some(80),
        Some(160),
        Some(320),
        None,
    ] {
        std::fs::write(&target, "OLD").expect("old report");
        let mut child = Command::new(env!("CARGO_BIN_EXE_storyhash"))
            .args(["cluster", "--format", "json", "--output"])
            .arg(&target)
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        if let Some(delay_ms) = delay_ms {
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            let _ = child.kill();
        }
        let _ = child.wait();
        let contents = std::fs::read_to_string(&target).expect("the output file exists");
        if contents != "OLD" {
            let report: serde_json::Value = serde_json::from_str(&contents)
                .unwrap_or_else(|e| panic!("partial report after {delay_ms:?} ms: {e}"));
            assert_eq!(report["stats"]["documents"], 1500);
            saw_new = true;
        }
    }
    assert!(saw_new, "the unkilled run wrote no report");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scratch directory with `small_feed()` written to `feed.jsonl`, and the path of a
/// `feed.idx` index beside it (not created).
#[test]
fn index_commands_create_add_query_remove_stats() {
    let IndexFixture {
        dir,
        index,
        index_arg,
        feed,
    } = index_fixture("index");
    let run = |args: &[&str]| {
        let out = storyhash(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    run(&["index", "create", &index_arg]);
    assert_eq!(
        storyhash(&["index", "create", &index_arg]).status.code(),
        Some(1),
        "overwrote an index"
    );

    let feed_arg = feed.display().to_string();
    let add = || run(&["index", "add", "--format", "json", &index_arg, &feed_arg]);
    let added = add();
    let lines: Vec<serde_json::Value> = added
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    // Every record is answered, in input order: the malformed third line between
    // the second and the fourth.
    assert_eq!(lines.len(), 4, "{added}");
    let ids: Vec<&serde_json::Value> = lines.iter().map(|l| &l["id"]).collect();
    let null = serde_json::Value::Null;
    assert_eq!(
        ids,
        [
            &serde_json::json!("a"),
            &serde_json::json!("b"),
            &null,
            &serde_json::json!("c")
        ]
    );
    assert!(lines[2]["location"]
        .as_str()
        .is_some_and(|l| l.ends_with("feed.jsonl:3")));
    assert!(lines[2]["skipped"]
        .as_str()
        .is_some_and(|s| s.starts_with("malformed JSON")));
    assert_eq!(lines[1]["id"], "b");
    assert_eq!(lines[1]["duplicate"], true);
    assert_eq!(lines[1]["matches"][0]["id"], "a");
    assert_eq!(lines[1]["cluster"], "a");
    assert_eq!(lines[3]["duplicate"], false);
    // Added again, each stored id is answered as skipped, by its id.
    let again = add();
    let skipped: Vec<(serde_json::Value, bool)> = again
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .map(|a| {
            let stored = a["skipped"]
                .as_str()
                .is_some_and(|s| s.contains("already in the index"));
            (a["id"].clone(), stored)
        })
        .collect();
    let expected = [
        (serde_json::json!("a"), true),
        (serde_json::json!("b"), true),
        (serde_json::Value::Null, false),
        (serde_json::json!("c"), true),
    ];
    assert_eq!(skipped, expected, "{again}");

    let probe = dir.join("probe.jsonl");
    let body = small_feed()
        .lines()
        .next()
        .expect("first line")
        .replace("\"id\":\"a\"", "\"id\":\"probe\"");
    std::fs::write(&probe, format!("{body}\n")).expect("probe");
    let answer = run(&["index", "query", &index_arg, &probe.display().to_string()]);
    assert!(
        answer.starts_with("probe: duplicate of a (Jaccard 1.000"),
        "{answer}"
    );

    run(&["index", "remove", &index_arg, "a"]);
    let stats: serde_json::Value =
        serde_json::from_str(&run(&["index", "stats", "--format", "json", &index_arg]))
            .expect("json");
    assert_eq!(stats["documents"], 2);
    assert_eq!(stats["multi_member_clusters"], 0);
    let gone = storyhash(&["index", "remove", &index_arg, "a"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(stderr(&gone).contains("not in the index"));

    std::fs::write(index.join("MANIFEST"), b"not an index").expect("clobber");
    let refused = storyhash(&["index", "stats", &index_arg]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("not a storyhash index"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        storyhash(&["index", "add", "--window", "7x", &index_arg, "-"])
            .status
            .code(),
        Some(2)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two processes updating one index take turns: while one holds the writer lock,
/// another `index add` waits (and says so) instead of writing over its documents.
#[test]
fn index_updates_wait_for_each_other() {
    let IndexFixture {
        dir,
        index,
        index_arg,
        feed,
    } = index_fixture("index-lock");
    assert!(storyhash(&["index", "create", &index_arg]).status.success());

    // Another writer, holding the lock.
    let held = storyhash::Index::open_writer(&index, |_| {}).expect("writer");
    let mut adding = Command::new(env!("CARGO_BIN_EXE_storyhash"))
        .args(["index", "add", &index_arg, &feed.display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        adding.try_wait().expect("poll").is_none(),
        "index add ran while another process held the update lock"
    );
    drop(held);
    let out = adding.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("waiting for another process writing"),
        "{}",
        stderr(&out)
    );
    let stats = storyhash(&["index", "stats", "--format", "json", &index_arg]);
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).expect("json");
    assert_eq!(stats["documents"], 3, "{stats}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends `line` to a running command and reads its answer: one JSON line.
fn exchange(to: &mut impl Write, from: &mut impl BufRead, line: &str) -> serde_json::Value {
    writeln!(to, "{line}")
        .and_then(|()| to.flush())
        .expect("send");
    let mut answer = String::new();
    from.read_line(&mut answer).expect("answer");
    serde_json::from_str(&answer).expect("JSON line")
}

/// A feed that does not end, on standard input: each article's decision comes out as
/// it arrives, and another process finds the article stored before the next one is
/// sent.
#[test]
fn index_add_answers_a_running_feed_and_commits_as_it_goes() {
    use std::io::BufReader;
    let IndexFixture { dir, index_arg, .. } = index_fixture("index-feed");
    assert!(storyhash(&["index", "create", &index_arg]).status.success());
    let mut adding = Command::new(env!("CARGO_BIN_EXE_storyhash"))
        .args(["index", "add", "--quiet", "--format", "json"])
        .args([&index_arg, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut feed = adding.stdin.take().expect("stdin");
    let mut answers = BufReader::new(adding.stdout.take().expect("stdout"));
    let stored = || documents(&index_arg);
    let articles: Vec<String> = (small_feed().lines())
        .filter(|l| l.starts_with('{'))
        .map(String::from)
        .collect();
    for (n, article) in articles.iter().enumerate() {
        let answer = exchange(&mut feed, &mut answers, article);
        let sent: serde_json::Value = serde_json::from_str(article).expect("JSON article");
        assert_eq!(answer["id"], sent["id"]);
        assert_eq!(answer["duplicate"], n == 1, "{answer}");
        // The commit follows the answer: wait for it (bounded), the writer still running.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while stored() < n as u64 + 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(stored(), n as u64 + 1);
        assert!(
            adding.try_wait().expect("poll").is_none(),
            "the writer stopped"
        );
    }
    // A line that is not stored is answered too, saying why, and the feed goes on.
    for (line, why) in [
        ("{\"id\": \"cut", "malformed JSON"),
        (&articles[0][..], "duplicate id \"a\""),
    ] {
        let answer = exchange(&mut feed, &mut answers, line);
        assert_eq!(answer["id"], serde_json::Value::Null, "{answer}");
        assert!(
            answer["skipped"].as_str().is_some_and(|s| s.contains(why)),
            "{answer}"
        );
        assert!(answer["location"]
            .as_str()
            .is_some_and(|l| l.starts_with("<stdin>:")));
    }
    drop(feed);
    let out = adding.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stored(), 3);
    // `index query` answers a feed as it arrives too, while the feed stays open.
    let mut asking = Command::new(env!("CARGO_BIN_EXE_storyhash"))
        .args(["index", "query", "--format", "json", &index_arg, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut questions = asking.stdin.take().expect("stdin");
    let mut answers = BufReader::new(asking.stdout.take().expect("stdout"));
    let question = articles[1].replace("\"b\"", "\"q\"");
    let answer = exchange(&mut questions, &mut answers, &question);
    assert_eq!(
        (&answer["id"], &answer["duplicate"]),
        (&"q".into(), &true.into())
    );
    drop(questions);
    assert!(asking.wait().expect("wait").success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A single-file index of an earlier format is refused by `index add` with advice, and
/// `index upgrade` writes it as a directory in place, keeping the file beside it.
#[test]
fn index_upgrade_writes_a_single_file_index_as_a_directory() {
    let dir = scratch("upgrade");
    let old = dir.join("feed.shix");
    std::fs::copy(testdata("index/v5/seeds.shix"), &old).expect("fixture");
    let old_arg = old.display().to_string();
    let refused = storyhash(&["index", "add", &old_arg, &path("seeds")]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("index upgrade"),
        "{}",
        stderr(&refused)
    );
    let upgraded = storyhash(&["index", "upgrade", &old_arg]);
    assert!(upgraded.status.success(), "{}", stderr(&upgraded));
    assert!(old.is_dir() && dir.join("feed.shix.old").is_file());
    let stats = json(&storyhash(&[
        "index", "stats", "--format", "json", &old_arg,
    ]));
    assert_eq!(stats["documents"], 6);
    assert_eq!(stats["multi_member_clusters"], 1);
    let check = storyhash(&["index", "check", &old_arg]);
    assert!(check.status.success(), "{}", stderr(&check));
    let again = storyhash(&["index", "upgrade", &old_arg]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already an index directory"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `index query` on a story-tracking index says what `index add` of the article then
/// answers (its copies, cluster, story and score) and stores nothing.
#[test]
fn index_query_of_a_story_index_answers_what_add_then_does() {
    let dir = scratch("query-story");
    let (first, rest) = (dir.join("first"), dir.join("rest"));
    for entry in std::fs::read_dir(testdata("seeds")).expect("seeds") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".txt") {
            continue;
        }
        let to = if name.starts_with("003") {
            &rest
        } else {
            &first
        };
        std::fs::create_dir_all(to).expect("mkdir");
        std::fs::copy(entry.path(), to.join(&name)).expect("copy a seed");
    }
    let index = path_arg(&dir.join("seeds.idx"));
    let (first, rest) = (path_arg(&first), path_arg(&rest));
    for args in [
        vec!["index", "create", index.as_str(), "--stories", "story"],
        vec!["index", "add", "--quiet", index.as_str(), first.as_str()],
    ] {
        let out = storyhash(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    let lines = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = storyhash(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    };
    let queried = lines(&["index", "query", "--format", "json", &index, &rest]);
    let stats = json(&storyhash(&["index", "stats", "--format", "json", &index]));
    assert_eq!(stats["documents"], 4, "the query stored nothing");
    let added = lines(&["index", "add", "--format", "json", &index, &rest]);
    assert_eq!(queried.len(), 1);
    assert_eq!(queried, added);
    // The fourth rewrite of the visit joins the story of the three others.
    assert_eq!(queried[0]["story"], "000_06492c2b52d2f1b0", "{queried:?}");
    let text = stdout(&storyhash(&["index", "query", &index, &rest]));
    assert!(text.contains("; story 000_06492c2b52d2f1b0 ("), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A feed whose headline, time and address fields have other names: read through
/// --title-field, --published-field and --url-field, the times part two issues of a
/// weekly template report into two stories (`stories` and a story index alike) and
/// choose the copy `--keep earliest` keeps; left unnamed, the feed is undated and every
/// command the times would have changed says so.
#[test]
fn headline_time_and_address_are_read_from_the_fields_named() {
    let dir = scratch("named-fields");
    let report = |figure: &str| {
        format!(
            "The Federal Reserve entered the government securities market to arrange \
             {figure} billion dlrs of customer repurchase agreements, a Fed spokesman \
             said. Dealers said Federal funds were trading at 6-1/8 pct when the Fed \
             began its temporary and indirect supply of reserves to the banking system."
        )
    };
    let line = |id: &str, date: &str, text: &str| {
        serde_json::json!({
            "id": id,
            "headline": "Fed adds reserves via customer repurchases",
            "link": format!("https://wire.example/{id}"),
            "meta": {"date": date},
            "text": text,
        })
        .to_string()
            + "\n"
    };
    let feed = dir.join("feed.jsonl");
    std::fs::write(
        &feed,
        [
            line("march", "1987-03-02T15:00:00Z", &report("1.5")),
            line("april", "1987-04-06T15:00:00Z", &report("2.0")),
            // April's report again, dated before it: `--keep earliest` keeps this one.
            line("april-early", "1987-04-06T14:00:00Z", &report("2.0")),
        ]
        .concat(),
    )
    .expect("write feed");
    let feed_arg = path_arg(&feed);
    let named = [
        "--title-field",
        "headline",
        "--published-field",
        "meta.date",
        "--url-field",
        "link",
    ];
    let stories = |extra: &[&str]| {
        let mut args = vec!["stories", "--format", "json", feed_arg.as_str()];
        args.extend(extra);
        let out = storyhash(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        (json(&out)["stories"].clone(), stderr(&out))
    };

    let (undated, said) = stories(&[]);
    assert_eq!(undated.as_array().map(Vec::len), Some(1), "{undated}");
    assert!(
        said.contains("no document read gave a publication time")
            && said.contains("`published`, --published-field"),
        "{said}"
    );
    let (dated, said) = stories(&named);
    assert!(!said.contains("gave a publication time"), "{said}");
    let dated = dated.as_array().expect("stories");
    assert_eq!(dated.len(), 2, "{dated:?}");
    let firsts: Vec<&str> = dated
        .iter()
        .filter_map(|s| s["first_published"].as_str())
        .collect();
    assert_eq!(firsts.len(), 2, "{dated:?}");
    assert!(firsts.contains(&"1987-03-02T15:00:00Z"), "{firsts:?}");
    assert!(firsts.contains(&"1987-04-06T14:00:00Z"), "{firsts:?}");
    for story in dated {
        assert_eq!(
            story["groups"][0]["headline"],
            "Fed adds reserves via customer repurchases"
        );
    }

    // The two April copies are one near-duplicate cluster: the earlier-dated is kept,
    // or, undated, the first in the file, which the run notes.
    let (kept, summary) = (path_arg(&dir.join("kept.jsonl")), dir.join("summary.json"));
    let summary_arg = path_arg(&summary);
    for (extra, want) in [
        (&named[..], ["march", "april-early"]),
        (&[][..], ["march", "april"]),
    ] {
        let mut args = vec![
            "dedup",
            feed_arg.as_str(),
            "--keep",
            "earliest",
            "--threshold",
            "0.9",
            "--output",
            kept.as_str(),
            "--summary",
            summary_arg.as_str(),
        ];
        args.extend(extra);
        let out = storyhash(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let kept_ids: Vec<String> = std::fs::read_to_string(&kept)
            .expect("kept")
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["id"].to_string())
            .collect();
        assert_eq!(kept_ids, want.map(|id| format!("{id:?}")), "{extra:?}");
        let dated = serde_json::from_str::<serde_json::Value>(
            &std::fs::read_to_string(&summary).expect("summary"),
        )
        .expect("summary json")["dated_documents"]
            .as_u64();
        assert_eq!(dated, Some(if extra.is_empty() { 0 } else { 3 }));
        let noted = stderr(&out).contains("--keep earliest keeps the first in input order");
        assert_eq!(noted, extra.is_empty(), "{}", stderr(&out));
        let mut args = vec!["cluster", feed_arg.as_str(), "--keep", "earliest"];
        args.extend(extra);
        let out = storyhash(&args);
        let noted = stderr(&out).contains("--keep earliest keeps the first in input order");
        assert_eq!(noted, extra.is_empty(), "cluster: {}", stderr(&out));
    }

    // A story-tracking index reads the same names: March and April are two stories.
    for (name, extra) in [("undated.idx", &[][..]), ("dated.idx", &named[..])] {
        let index = path_arg(&dir.join(name));
        let out = storyhash(&["index", "create", &index, "--stories", "story"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let mut args = vec!["index", "add", index.as_str(), feed_arg.as_str()];
        args.extend(extra);
        let out = storyhash(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let noted = stderr(&out).contains("no document read gave a publication time");
        assert_eq!(noted, extra.is_empty(), "{name}: {}", stderr(&out));
        let out = storyhash(&["index", "stories", &index, "--format", "json"]);
        let listed = json(&out);
        // Stories of two or more: March's issue alone is not listed.
        let sizes: Vec<u64> = listed
            .as_array()
            .expect("stories")
            .iter()
            .filter_map(|s| s["size"].as_u64())
            .collect();
        let want: &[u64] = if extra.is_empty() { &[3] } else { &[2] };
        assert_eq!(sizes, want, "{name}: {listed}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `stories --background`: a file of the beat's articles, or a story-tracking index of
/// the same articles, tells the input's common words from its names (the library's test
/// says why the stories change); an index without story terms is refused by name.
#[test]
fn stories_take_a_background_from_a_file_or_an_index() {
    let dir = scratch("background");
    // Made-up words, which general English frequencies know nothing of.
    let common = "kelvoran drissets pemtuary talwick snorvel quimbage";
    let line = |id: &str, text: &str| format!("{{\"id\":\"{id}\",\"text\":\"{text}\"}}\n");
    let input = dir.join("input.jsonl");
    std::fs::write(
        &input,
        [
            line(
                "a",
                &format!("Zarkovia harbour strike Velmont dockers {common}"),
            ),
            line(
                "b",
                &format!("Zarkovia harbour strike Velmont dockers continue {common}"),
            ),
            // Long enough that, weighed with the background, the common words keep it
            // under the threshold (as in the library's background test).
            line(
                "c",
                &format!(
                    "Orlintha vaccine trial Quessby laboratory Merrowdale volunteers \
                     dosage {common}"
                ),
            ),
        ]
        .concat(),
    )
    .expect("write input");
    let beat = dir.join("beat.jsonl");
    let beat_lines: String = (0..200)
        .map(|i| {
            let own: Vec<String> = (0..8).map(|w| format!("w{i}x{w}")).collect();
            let own = own.join(" ");
            let text = if i % 3 == 0 {
                format!("{own} {common}")
            } else {
                own
            };
            line(&format!("bg{i}"), &text)
        })
        .collect();
    std::fs::write(&beat, beat_lines).expect("write background");
    let (input_arg, beat_arg) = (path_arg(&input), path_arg(&beat));
    let stories = |extra: &[&str]| {
        let mut args = vec!["stories", "--quiet", "--format", "json", input_arg.as_str()];
        args.extend(extra);
        let out = storyhash(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        json(&out)["stories"].clone()
    };
    assert_eq!(stories(&[]).as_array().map(Vec::len), Some(1));
    let with_file = stories(&["--background", &beat_arg]);
    assert_eq!(with_file.as_array().map(Vec::len), Some(2));

    let index = path_arg(&dir.join("beat.idx"));
    for args in [
        vec!["index", "create", index.as_str(), "--stories", "story"],
        vec!["index", "add", "--quiet", index.as_str(), beat_arg.as_str()],
    ] {
        let out = storyhash(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(stories(&["--background", &index]), with_file);
    // A new index given either as its background weighs the input by it from its first
    // article: the stories of `stories --background`, where a new index alone joins all.
    let added = |name: &str, extra: &[&str]| -> Vec<String> {
        let new = path_arg(&dir.join(name));
        let mut create = vec!["index", "create", new.as_str(), "--stories", "story"];
        create.extend(extra);
        let add = ["index", "add", "--format", "json", new.as_str(), &input_arg];
        let out = storyhash(&create);
        assert_eq!(out.status.code(), Some(0), "{create:?}: {}", stderr(&out));
        let out = storyhash(&add);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let stats = storyhash(&["index", "stats", &new]);
        let counted = String::from_utf8_lossy(&stats.stdout).contains("story background: 200");
        assert_eq!(
            counted,
            !extra.is_empty(),
            "{}",
            String::from_utf8_lossy(&stats.stdout)
        );
        (String::from_utf8_lossy(&out.stdout).lines())
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
            .map(|d| d["story"].as_str().expect("a story").to_owned())
            .collect()
    };
    assert_eq!(added("new.idx", &[]), ["a", "a", "a"]);
    assert_eq!(
        added("given-file.idx", &["--background", &beat_arg]),
        ["a", "a", "c"]
    );
    assert_eq!(
        added("given-index.idx", &["--background", &index]),
        ["a", "a", "c"]
    );
    let untracked = path_arg(&dir.join("untracked.idx"));
    let out = storyhash(&["index", "create", &untracked, "--background", &beat_arg]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // `cluster --preset story` is the story engine, with the same flags.
    let args = [
        "cluster",
        "--preset",
        "story",
        "--quiet",
        "--format",
        "json",
        &input_arg,
        "--background",
        &beat_arg,
    ];
    let out = storyhash(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["stories"], with_file);
    let out = storyhash(&["cluster", &input_arg, "--background", &beat_arg]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--background weighs the story engine's terms"));

    let plain = path_arg(&dir.join("plain.idx"));
    assert_eq!(
        storyhash(&["index", "create", &plain]).status.code(),
        Some(0)
    );
    let out = storyhash(&["stories", &input_arg, "--background", &plain]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("plain.idx: this index does not track stories"),
        "{}",
        stderr(&out)
    );
    // An index of format 7 counts unstemmed words: `index stats` says so, and its
    // counts are refused as the background of terms that are stems.
    let old = path_arg(&testdata("index/v7/seeds.idx"));
    let stats = storyhash(&["index", "stats", &old]);
    assert!(
        stdout(&stats).contains("terms as words"),
        "{}",
        stdout(&stats)
    );
    assert_eq!(
        json(&storyhash(&["index", "stats", "--format", "json", &index]))["story"]["analysis"],
        "stems"
    );
    let out = storyhash(&["stories", &input_arg, "--background", &old]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        stderr(&out).contains("seeds.idx: not usable as a background")
            && stderr(&out).contains("words analysis"),
        "{}",
        stderr(&out)
    );
    // Clustered with that index's analysis, its counts serve.
    let out = storyhash(&[
        "stories",
        "--format",
        "json",
        "--analysis",
        "words",
        &input_arg,
        "--background",
        &old,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["params"]["analysis"], "words");
    assert_eq!(report["background_documents"], 6);
    let _ = std::fs::remove_dir_all(&dir);
}

fn path_arg(path: &std::path::Path) -> String {
    path.display().to_string()
}

/// `--stopwords-file` and `--boilerplate-file` leave the same terms out of `stories` and
/// of a story-tracking index created with them, which keeps them for every `add`.
#[test]
fn story_lists_from_files_apply_to_stories_and_to_an_index_alike() {
    let dir = scratch("story-lists");
    let footer = "Subscribe to the Harbour Courier newsletter for breaking updates from our county reporters.";
    let bodies = [
        "Firefighters contained a warehouse blaze near the rail depot overnight.",
        "The orchestra announced its winter season with three premieres.",
        "Farmers expect a late barley harvest after weeks of heavy rain.",
        "A new ferry timetable adds evening crossings to the island.",
    ];
    let input = dir.join("site.jsonl");
    let lines: String = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| format!("{{\"id\":\"site-{i}\",\"text\":\"{body}\\n{footer}\"}}\n"))
        .collect();
    std::fs::write(&input, lines).expect("write input");
    let boilerplate = dir.join("boilerplate.txt");
    std::fs::write(&boilerplate, format!("# the site's footer\n{footer}\n")).expect("write");
    let stopwords = dir.join("stopwords.txt");
    std::fs::write(&stopwords, "harbour\n").expect("write");
    let (input, boilerplate, stopwords) = (
        path_arg(&input),
        path_arg(&boilerplate),
        path_arg(&stopwords),
    );
    let lists = [
        "--boilerplate-file",
        boilerplate.as_str(),
        "--stopwords-file",
        stopwords.as_str(),
    ];
    let stories = |extra: &[&str]| {
        let mut args = vec!["stories", "--quiet", "--format", "json", input.as_str()];
        args.extend(extra);
        let out = storyhash(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        json(&out)["stories"].as_array().map(Vec::len)
    };
    assert_eq!(stories(&[]), Some(1), "the footer joins them");
    assert_eq!(stories(&lists), Some(4));

    let index = path_arg(&dir.join("site.idx"));
    let mut create = vec!["index", "create", index.as_str(), "--stories", "story"];
    create.extend(lists);
    let out = storyhash(&create);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Added one at a time, each by a new writer that reads the lists from the index.
    let mut story_of = std::collections::BTreeSet::new();
    for (i, body) in bodies.iter().enumerate() {
        let one = dir.join(format!("one-{i}.jsonl"));
        let record = format!("{{\"id\":\"site-{i}\",\"text\":\"{body}\\n{footer}\"}}\n");
        std::fs::write(&one, record).expect("write");
        let one = path_arg(&one);
        let out = storyhash(&["index", "add", "--format", "json", &index, &one]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        story_of.insert(json(&out)["story"].to_string());
    }
    assert_eq!(
        story_of.len(),
        4,
        "every article its own story: {story_of:?}"
    );
    let stats = storyhash(&["index", "stats", &index]);
    assert!(
        stdout(&stats).contains("story lists: 1 stopwords, 1 boilerplate lines"),
        "{}",
        stdout(&stats)
    );
    assert!(
        stdout(&stats).contains("4 stories, 0 of two or more documents, the largest of 1"),
        "{}",
        stdout(&stats)
    );

    // Lists weigh story terms: without --stories they are a usage error.
    let plain = path_arg(&dir.join("plain.idx"));
    let out = storyhash(&["index", "create", &plain, "--stopwords-file", &stopwords]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--stories"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The footer one site closes every article with.
const COURIER_FOOTER: &str =
    "Read more from the Harbour Courier at our newsroom blog every weekday.";

/// A JSON line of an article of that site: `body`, then the footer.
fn courier_record(id: &str, body: &str) -> String {
    format!(
        "{{\"id\":\"{id}\",\"url\":\"https://courier.example/{id}\",\"text\":\"{body}\\n{COURIER_FOOTER}\"}}\n"
    )
}

/// Sixty of its articles on unrelated matters: the footer is the only line they share,
/// learned as the site's boilerplate.
fn courier_sample() -> String {
    (0..60)
        .map(|i| {
            courier_record(
                &format!("s{i}"),
                &format!("Item{i} gamma{i} delta{i} omega{i}."),
            )
        })
        .collect()
}

/// Four of its articles about four matters, as JSON lines.
fn courier_articles() -> String {
    [
        "Firefighters contained a warehouse blaze near the rail depot overnight.",
        "The orchestra announced its winter season with three premieres.",
        "Farmers expect a late barley harvest after weeks of heavy rain.",
        "A new ferry timetable adds evening crossings to the island.",
    ]
    .iter()
    .enumerate()
    .map(|(i, body)| courier_record(&format!("a{i}"), body))
    .collect()
}

/// The distinct stories `index add --format json` output names for the first `n`
/// documents.
fn stories_named(out: &std::process::Output, n: usize) -> usize {
    let stories: std::collections::BTreeSet<String> = stdout(out)
        .lines()
        .take(n)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["story"].to_string())
        .collect();
    stories.len()
}

/// Lines `stories` learns on a sample of a feed reach an index made without them: written
/// by `--save-boilerplate`, given by `index lists`, they keep a site's footer from joining
/// the articles added afterwards.
#[test]
fn learned_boilerplate_reaches_an_index_through_index_lists() {
    let dir = scratch("learned-lists");
    let footer = COURIER_FOOTER;
    let sample = courier_sample();
    let sample_path = dir.join("sample.jsonl");
    std::fs::write(&sample_path, sample).expect("write sample");
    let saved = dir.join("lines.txt");
    let out = storyhash(&[
        "stories",
        "--quiet",
        "--save-boilerplate",
        &path_arg(&saved),
        &path_arg(&sample_path),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&saved).expect("saved lines");
    assert!(
        text.contains("# learned, courier.example: 100.0%\n") && text.contains(footer),
        "{text}"
    );

    let articles = dir.join("articles.jsonl");
    std::fs::write(&articles, courier_articles()).expect("write articles");
    let stories_added = |index: &str| {
        let out = storyhash(&[
            "index",
            "add",
            "--format",
            "json",
            index,
            &path_arg(&articles),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stories_named(&out, 4)
    };
    let create = |name: &str| {
        let index = path_arg(&dir.join(name));
        let out = storyhash(&["index", "create", &index, "--stories", "story"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        index
    };
    let without = create("without.idx");
    assert!(stories_added(&without) < 4, "the footer joins articles");

    let index = create("with.idx");
    let out = storyhash(&[
        "index",
        "lists",
        &index,
        "--boilerplate-file",
        &path_arg(&saved),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("# boilerplate lines: 1\n"),
        "{}",
        stdout(&out)
    );
    let out = storyhash(&["index", "lists", "--format", "json", &index]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["boilerplate_lines"], serde_json::json!([footer]));
    assert_eq!(stories_added(&index), 4, "every article its own story");

    // An index without story tracking takes no lists, and is left as it was.
    let plain = path_arg(&dir.join("plain.idx"));
    let out = storyhash(&["index", "create", &plain]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = storyhash(&[
        "index",
        "lists",
        &plain,
        "--boilerplate-file",
        &path_arg(&saved),
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("story tracking"), "{}", stderr(&out));
    let out = storyhash(&["index", "lists", "--format", "json", &plain]);
    let empty = serde_json::json!({"stopwords": [], "boilerplate_lines": []});
    assert_eq!(json(&out), empty);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `index add --learn-boilerplate` learns a batch's boilerplate lines before adding it:
/// four articles of a site, then sixty more, and the four are four stories where,
/// without it, the footer joins them (added while the index was too small for any term
/// to count as boilerplate); the index keeps the line it learned. Lines are counted
/// across runs: a site added thirty pages at a time is learned at its fiftieth.
#[test]
fn index_add_learns_a_batchs_boilerplate_lines() {
    let dir = scratch("learn-lines");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, courier_articles() + &courier_sample()).expect("write feed");
    let feed = path_arg(&feed);
    let add = |name: &str, learn: bool| {
        let index = path_arg(&dir.join(name));
        let out = storyhash(&["index", "create", &index, "--stories", "story"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let mut args = vec!["index", "add", "--format", "json", index.as_str(), &feed];
        if learn {
            args.push("--learn-boilerplate");
        }
        let out = storyhash(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        (index, out)
    };
    let (_, out) = add("without.idx", false);
    assert!(stories_named(&out, 4) < 4, "the footer joins articles");
    let (index, out) = add("with.idx", true);
    assert_eq!(stories_named(&out, 4), 4, "every article its own story");
    assert!(
        stderr(&out).contains("1 boilerplate lines learned"),
        "{}",
        stderr(&out)
    );
    let out = storyhash(&["index", "lists", "--format", "json", &index]);
    assert_eq!(
        json(&out)["boilerplate_lines"],
        serde_json::json!([COURIER_FOOTER])
    );

    // A feed added thirty pages at a time, each by its own process: the index keeps
    // its line counts, and the second thirty bring the site to fifty.
    let index = path_arg(&dir.join("feed.idx"));
    let out = storyhash(&["index", "create", &index, "--stories", "story"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sample = courier_sample();
    let lines: Vec<&str> = sample.lines().collect();
    for (part, learned) in [(&lines[..30], 0), (&lines[30..], 1)] {
        let file = dir.join("part.jsonl");
        std::fs::write(&file, part.join("\n") + "\n").expect("write part");
        let out = storyhash(&[
            "index",
            "add",
            "--learn-boilerplate",
            &index,
            &path_arg(&file),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let said = format!("{learned} boilerplate lines learned");
        assert!(stderr(&out).contains(&said), "{}", stderr(&out));
    }
    let out = storyhash(&["index", "lists", "--format", "json", &index]);
    assert_eq!(
        json(&out)["boilerplate_lines"],
        serde_json::json!([COURIER_FOOTER])
    );

    // Learning needs story tracking: refused before anything is added.
    let plain = path_arg(&dir.join("plain.idx"));
    let out = storyhash(&["index", "create", &plain]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = storyhash(&["index", "add", "--learn-boilerplate", &plain, &feed]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("--stories"), "{}", stderr(&out));
    let out = storyhash(&["index", "stats", "--format", "json", &plain]);
    assert_eq!(json(&out)["documents"], 0, "{}", stdout(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `index clusters` lists an index's near-duplicate clusters, each member with its time,
/// its headline where the index keeps one, and the member it matched: the same in text,
/// JSON and the page, from a dedup index and a story-tracking one.
#[test]
fn index_clusters_list_each_member_with_the_member_it_matched() {
    let dir = scratch("index-clusters");
    let talks = "the minister arrived in moscow on monday for talks on energy trade and \
                 security with his counterpart who said the two countries would sign \
                 several agreements on gas supplies and grain exports";
    let edited = talks.replace("monday", "tuesday");
    let storm = "a storm closed the port of rotterdam for two days and stranded ships";
    let line = |id: &str, title: &str, text: &str, day: u32| {
        let published = format!("2025-03-0{day}T10:00:00Z");
        serde_json::json!({"id": id, "title": title, "text": text, "published": published})
            .to_string()
            + "\n"
    };
    let feed = dir.join("feed.jsonl");
    let lines = [
        line("talks", "Minister in Moscow", talks, 1),
        line("edited", "Energy talks in Moscow", &edited, 2),
        line("copy", "Minister in Moscow", talks, 2),
        line("storm", "Storm closes Rotterdam port", storm, 3),
    ];
    std::fs::write(&feed, lines.concat()).expect("feed");
    let feed = path_arg(&feed);
    for (name, story) in [("dedup.idx", false), ("story.idx", true)] {
        let index = path_arg(&dir.join(name));
        let mut create = vec!["index", "create", &index];
        create.extend(if story {
            &["--stories", "story"][..]
        } else {
            &[]
        });
        let out = storyhash(&create);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let out = storyhash(&["index", "add", "--quiet", &index, &feed]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        // The edit's similarity to the article, as a query computes it.
        let out = storyhash(&["index", "query", "--format", "json", &index, &feed]);
        let queried = stdout(&out);
        let edit: serde_json::Value =
            serde_json::from_str(queried.lines().nth(1).expect("a line")).expect("json");
        let matches = edit["matches"].as_array().expect("matches");
        let talks_match = matches.iter().find(|m| m["id"] == "talks").expect("talks");
        let jaccard = talks_match["jaccard"].as_f64().expect("jaccard");
        assert!((0.4..1.0).contains(&jaccard), "{jaccard}");

        let out = storyhash(&["index", "clusters", "--format", "json", &index]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let mut listed = json(&out);
        let stored = listed[0]["matched"][1]["jaccard"]
            .take()
            .as_f64()
            .expect("j");
        assert!(
            (stored - jaccard).abs() < 1e-6,
            "{stored} against {jaccard}"
        );
        let headlines = if story {
            serde_json::json!([
                "Minister in Moscow",
                "Energy talks in Moscow",
                "Minister in Moscow"
            ])
        } else {
            serde_json::json!([null, null, null])
        };
        let expected = serde_json::json!([{
            "cluster": "talks", "size": 3, "members": ["talks", "edited", "copy"],
            "published": ["2025-03-01T10:00:00Z", "2025-03-02T10:00:00Z", "2025-03-02T10:00:00Z"],
            "first_published": "2025-03-01T10:00:00Z",
            "last_published": "2025-03-02T10:00:00Z",
            "headline": headlines[0], "headlines": headlines, "min_jaccard": stored,
            "matched": [
                null,
                {"member": "talks", "jaccard": null, "copy": false},
                {"member": "talks", "jaccard": 1.0, "copy": true},
            ],
        }]);
        assert_eq!(listed, expected);

        let text = stdout(&storyhash(&["index", "clusters", &index]));
        let titled = |title: &str| {
            if story {
                format!("  {title}")
            } else {
                String::new()
            }
        };
        assert_eq!(
            text,
            format!(
                "cluster talks: 3 documents, 2025-03-01T10:00:00Z to 2025-03-02T10:00:00Z, \
                 Jaccard from {stored:.3}\n  \
                 talks  2025-03-01T10:00:00Z{}\n  \
                 edited  2025-03-02T10:00:00Z{}  ({stored:.3} with talks)\n  \
                 copy  2025-03-02T10:00:00Z{}  (1.000 copy of talks)\n",
                titled("Minister in Moscow"),
                titled("Energy talks in Moscow"),
                titled("Minister in Moscow"),
            )
        );
        // The storm is alone: listed from size one, and alone since 3 March.
        let since = |since: &str, min_size: &str| {
            let out = storyhash(&[
                "index",
                "clusters",
                "--format",
                "json",
                "--since",
                since,
                "--min-size",
                min_size,
                &index,
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            let listed = json(&out);
            (listed.as_array().expect("list").iter())
                .map(|c| c["cluster"].as_str().expect("name").to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(since("2025-03-01", "1"), ["talks", "storm"]);
        assert_eq!(since("1d", "1"), ["talks", "storm"]);
        assert_eq!(since("12h", "1"), ["storm"]);
        assert!(since("12h", "2").is_empty());

        let page = dir.join(format!("{name}.html"));
        let out = storyhash(&[
            "index",
            "clusters",
            "--format",
            "html",
            "-o",
            &path_arg(&page),
            &index,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let page = std::fs::read_to_string(&page).expect("page");
        for shown in [
            "storyhash index clusters: 1 cluster of two or more",
            "\"similarity_heading\":\"Jaccard to the member matched\"",
            "\"copies\":[\"copy\"]",
            "\"similarity\":1.0",
            "\"date\":\"2025-03-02T10:00:00Z\"",
        ] {
            assert!(page.contains(shown), "{shown}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `index stories --since` lists the stories that ran from a time on, given as a time or
/// as a duration before the newest stored article, with the times their members ran and
/// their headlines.
#[test]
fn index_stories_since_lists_the_stories_running_from_a_time_on() {
    let dir = scratch("index-stories-since");
    let talks = "the minister arrived in moscow on monday for talks on energy trade and \
                 security with his counterpart who said the two countries would sign \
                 several agreements on gas supplies and grain exports";
    let storm = "a storm closed the port of rotterdam for two days and stranded ships";
    let line = |id: &str, title: &str, text: &str, day: u32, hour: u32| {
        let published = format!("2025-03-0{day}T{hour:02}:00:00Z");
        serde_json::json!({"id": id, "title": title, "text": text, "published": published})
            .to_string()
            + "\n"
    };
    let feed = dir.join("feed.jsonl");
    let lines = [
        line("talks", "Minister in Moscow for energy talks", talks, 1, 8),
        line("talks-copy", "Energy talks in Moscow", talks, 1, 9),
        line("storm", "Storm closes Rotterdam port", storm, 3, 10),
        line("storm-copy", "Rotterdam port shut by storm", storm, 3, 11),
    ];
    std::fs::write(&feed, lines.concat()).expect("feed");
    let (index, feed) = (path_arg(&dir.join("feed.idx")), path_arg(&feed));
    let out = storyhash(&["index", "create", &index, "--stories", "story"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = storyhash(&["index", "add", "--quiet", &index, &feed]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed = |since: &str| {
        let out = storyhash(&[
            "index", "stories", "--format", "json", "--since", since, &index,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let stories = json(&out);
        let names = stories.as_array().expect("list").iter();
        names
            .map(|s| s["story"].as_str().expect("story").to_owned())
            .collect::<Vec<_>>()
    };
    // A day before the newest article (the storm's copy, 3 March 11:00): the storm only.
    assert_eq!(listed("1d"), ["storm"]);
    assert_eq!(listed("2025-03-02"), ["storm"]);
    // From the talks' copy on, both (equal sizes list by name).
    assert_eq!(listed("2025-03-01T09:00:00Z"), ["storm", "talks"]);
    assert_eq!(listed("3d"), ["storm", "talks"]);
    assert!(listed("2025-03-04").is_empty());
    let out = storyhash(&[
        "index", "stories", "--format", "json", "--since", "1d", &index,
    ]);
    let storm = &json(&out)[0];
    // The words both headlines hold weigh most; the others follow.
    let terms: Vec<&str> = (storm["top_terms"].as_array().expect("terms").iter())
        .map(|t| t.as_str().expect("a term"))
        .collect();
    let mut shared = terms[..3].to_vec();
    shared.sort();
    assert_eq!(shared, ["port", "rotterdam", "storm"], "{terms:?}");
    let text = stdout(&storyhash(&["index", "stories", "--since", "1d", &index]));
    assert_eq!(
        text,
        format!(
            "story storm: 2 documents, 2025-03-03T10:00:00Z to 2025-03-03T11:00:00Z\n  \
             terms: {}\n  \
             storm  2025-03-03T10:00:00Z  Storm closes Rotterdam port\n  \
             storm-copy  2025-03-03T11:00:00Z  Rotterdam port shut by storm  \
             (in cluster storm)\n",
            terms.join(", ")
        )
    );
    assert_eq!(storm["headline"], "Storm closes Rotterdam port");
    // As one page: the story, its headline and its members' times in its data.
    let page = dir.join("stories.html");
    let out = storyhash(&[
        "index",
        "stories",
        "--since",
        "1d",
        "--format",
        "html",
        "-o",
        &path_arg(&page),
        &index,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(&page).expect("page");
    for shown in [
        "storyhash index stories: 1 story of two or more",
        "\"headline\":\"Rotterdam port shut by storm\"",
        "\"date\":\"2025-03-03T11:00:00Z\"",
        "\"copies\":[\"storm-copy\"]",
    ] {
        assert!(page.contains(shown), "{shown}");
    }
    assert!(!page.contains("Energy talks"), "only the stories listed");
    assert_eq!(
        storm["headlines"],
        serde_json::json!([
            "Storm closes Rotterdam port",
            "Rotterdam port shut by storm"
        ])
    );
    let out = storyhash(&["index", "stories", "--since", "yesterday", &index]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected a duration"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `index stories` lists a story index's stories of two or more documents: the copies
/// of one article are one story, the storm report is alone and not listed.
#[test]
fn index_stories_lists_the_stories_of_an_index() {
    let dir = scratch("index-stories");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, small_feed()).expect("feed");
    let (index, feed) = (path_arg(&dir.join("feed.idx")), path_arg(&feed));
    let out = storyhash(&["index", "create", &index, "--stories", "story"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = storyhash(&["index", "add", "--quiet", "--format", "json", &index, &feed]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Without titles, the first lines stand in: kept to 200 bytes, cut at a word.
    let kept = |day: &str| {
        format!(
            "the minister arrived in moscow on {day} for talks on energy trade and security \
             with his counterpart who said the two countries would sign several agreements \
             on gas supplies and grain exports…"
        )
    };
    // A new story and a copy both join with 1, under the story's first headline; the
    // storm report starts its own. (The malformed line's answer says it was skipped.)
    let placed: Vec<(String, f64, String)> = stdout(&out)
        .lines()
        .filter(|l| !l.contains("\"skipped\""))
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).expect("json");
            (
                d["story"].as_str().expect("story").to_owned(),
                d["story_score"].as_f64().expect("score"),
                d["story_headline"].as_str().expect("headline").to_owned(),
            )
        })
        .collect();
    let storm = "a storm closed the port of rotterdam for two days";
    let expected = [("a", 1.0, kept("monday")), ("a", 1.0, kept("monday"))]
        .map(|(s, x, h)| (s.to_owned(), x, h))
        .into_iter()
        .chain([("c".to_owned(), 1.0, storm.to_owned())])
        .collect::<Vec<_>>();
    assert_eq!(placed, expected);
    // As text, an answer ends with its story's headline, shortened as reports do.
    let out = storyhash(&["index", "query", &index, &feed]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[2].ends_with("feed.jsonl:3: skipped: malformed JSON: expected ident (column 2)"));
    assert!(
        lines[3].ends_with(&format!("; story c (1.000): {storm}")),
        "{}",
        lines[3]
    );
    let shortened = storyhash::report::shorten(&kept("monday"));
    assert!(
        lines[1].ends_with(&format!(": {shortened}")),
        "{}",
        lines[1]
    );
    let out = storyhash(&["index", "stories", "--format", "json", &index]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut listed = json(&out);
    // Its terms: the story's heaviest, words of its headlines.
    let terms: Vec<String> = (listed[0]["top_terms"].take().as_array().expect("terms"))
        .iter()
        .map(|t| t.as_str().expect("a term").to_owned())
        .collect();
    assert!(!terms.is_empty() && terms.len() <= 8, "{terms:?}");
    let words: Vec<String> = kept("monday")
        .split([' ', '…'])
        .map(str::to_owned)
        .collect();
    assert!(terms.iter().all(|t| words.contains(t)), "{terms:?}");
    let expected = serde_json::json!([{
        "story": "a", "size": 2, "members": ["a", "b"], "published": [null, null],
        "first_published": null, "last_published": null, "top_terms": null,
        "headline": kept("monday"), "headlines": [kept("monday"), kept("tuesday")],
        "clusters": ["a", "a"],
    }]);
    assert_eq!(listed, expected);
    // The text shortens them as the other text reports do.
    let shown = |day: &str| {
        format!("the minister arrived in moscow on {day} for talks on energy trade and…")
    };
    let text = stdout(&storyhash(&["index", "stories", &index]));
    // The edit is a near copy of the first: it says whose cluster it is in.
    let story_a = format!(
        "story a: 2 documents\n  terms: {}\n  a  {}\n  b  {}  (in cluster a)\n",
        terms.join(", "),
        shown("monday"),
        shown("tuesday")
    );
    assert_eq!(text, story_a);
    let text = stdout(&storyhash(&["index", "stories", "--min-size", "1", &index]));
    let alone = storyhash(&[
        "index",
        "stories",
        "--min-size",
        "1",
        "--format",
        "json",
        &index,
    ]);
    let alone = &json(&alone)[1]["top_terms"];
    let alone: Vec<&str> = (alone.as_array().expect("terms").iter())
        .map(|t| t.as_str().expect("a term"))
        .collect();
    assert!(alone.contains(&"rotterdam"), "{alone:?}");
    assert_eq!(
        text,
        format!(
            "{story_a}story c: 1 document\n  terms: {}\n  \
             c  a storm closed the port of rotterdam for two days\n",
            alone.join(", ")
        )
    );
    // Undated, the index has no newest article for a duration to count back from.
    let out = storyhash(&["index", "stories", "--since", "1d", &index]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no stored document gave a publication time"),
        "{}",
        stderr(&out)
    );

    let plain = path_arg(&dir.join("plain.idx"));
    let out = storyhash(&["index", "create", &plain]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for args in [vec![], vec!["--since", "1d"]] {
        let out = storyhash(&[&["index", "stories", &plain], &args[..]].concat());
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("does not track stories"),
            "{}",
            stderr(&out)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
