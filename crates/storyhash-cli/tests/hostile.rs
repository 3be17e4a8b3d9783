//! Hostile and careless use of the binary: colliding and impossible outputs, parameters
//! out of range, odd directory entries, ids that break layouts or number parsing, and
//! output that cannot be written. Each case either works or fails with a clear message
//! and exit code, and never loses the user's data.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn outputs_naming_one_file_are_refused_before_anything_is_read_or_written() {
    let dir = scratch("hostile-collide");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, small_feed()).expect("feed");
    let out = dir.join("out.jsonl");
    std::fs::write(&out, "an earlier good output\n").expect("earlier output");
    let (feed_arg, out_arg) = (feed.display().to_string(), out.display().to_string());
    let via_dot = dir.join(".").join("out.jsonl").display().to_string();
    for args in [
        vec!["-o", &out_arg, "--summary", &out_arg],
        vec![
            "-o",
            &out_arg,
            "--removed",
            &out_arg,
            "--clusters",
            &out_arg,
        ],
        vec!["--pairs", &out_arg, "--clusters", &via_dot],
    ] {
        let mut all = vec!["dedup", feed_arg.as_str()];
        all.extend(args.iter().copied());
        let run = storyhash(&all);
        assert_eq!(run.status.code(), Some(2), "{all:?}: {}", stderr(&run));
        assert!(
            stderr(&run).contains("are the same file"),
            "{}",
            stderr(&run)
        );
        assert_eq!(
            std::fs::read_to_string(&out).expect("read"),
            "an earlier good output\n"
        );
        assert_eq!(
            files_in(&dir),
            ["feed.jsonl", "out.jsonl"],
            "no temporary left"
        );
    }
    // The summary over an input is refused like any other output.
    let run = storyhash(&["dedup", &feed_arg, "--summary", &feed_arg]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("is also an input"),
        "{}",
        stderr(&run)
    );
    assert_eq!(std::fs::read_to_string(&feed).expect("feed"), small_feed());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_directory_as_output_fails_before_the_work_and_leaves_nothing() {
    let dir = scratch("hostile-outdir");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, small_feed()).expect("feed");
    let target = dir.join("target");
    std::fs::create_dir(&target).expect("dir");
    let (feed_arg, target_arg) = (feed.display().to_string(), target.display().to_string());
    // A file in a directory that does not exist is refused as early.
    let missing_arg = dir.join("nowhere").join("out.txt").display().to_string();
    for (args, problem) in [
        (
            vec!["dedup", &feed_arg, "-o", &target_arg],
            "is a directory",
        ),
        (
            vec!["dedup", &feed_arg, "--removed", &target_arg],
            "is a directory",
        ),
        (
            vec!["cluster", &feed_arg, "-o", &target_arg],
            "is a directory",
        ),
        (
            vec!["stories", &feed_arg, "-o", &target_arg],
            "is a directory",
        ),
        (
            vec!["dedup", &feed_arg, "-o", &missing_arg],
            "does not exist",
        ),
        (
            vec!["cluster", &feed_arg, "-o", &missing_arg],
            "does not exist",
        ),
        (
            vec!["stories", &feed_arg, "--save-boilerplate", &missing_arg],
            "does not exist",
        ),
    ] {
        let run = storyhash(&args);
        assert_eq!(run.status.code(), Some(1), "{args:?}");
        assert!(stderr(&run).contains(problem), "{}", stderr(&run));
        // Nothing was read: no summary line, no warning about the feed's bad line.
        assert!(!stderr(&run).contains("not json"), "{}", stderr(&run));
        assert_eq!(files_in(&dir), ["feed.jsonl", "target"]);
        assert!(files_in(&target).is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn parameters_out_of_range_are_usage_errors_in_every_command() {
    let dir = scratch("hostile-params");
    let index = dir.join("i.idx").display().to_string();
    for (flag, value, says) in [
        (
            "--bands",
            "2x9223372036854775808",
            "whole number from 1 to 1024",
        ),
        (
            "--bands",
            "9223372036854775807x2",
            "whole number from 1 to 1024",
        ),
        ("--bands", "64x64", "64 bands × 64 rows needs 1 to 128"),
        ("--num-perm", "1048576", "1..=1024"),
        ("--num-perm", "0", "1..=1024"),
    ] {
        for command in [
            vec!["cluster"],
            vec!["dedup", "-"],
            vec!["index", "create", &index],
        ] {
            let mut args = command.clone();
            args.extend([flag, value]);
            let run = Command::new(env!("CARGO_BIN_EXE_storyhash"))
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .expect("runs");
            assert_eq!(run.status.code(), Some(2), "{args:?}: {}", stderr(&run));
            assert!(stderr(&run).contains(says), "{args:?}: {}", stderr(&run));
            assert!(!stderr(&run).contains("panicked"), "{}", stderr(&run));
        }
    }
    assert!(
        !Path::new(&index).exists(),
        "index create refused every one"
    );
    for threads in ["0", "100000"] {
        for command in ["cluster", "stories"] {
            let run = storyhash(&[command, "--threads", threads]);
            assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
            assert!(stderr(&run).contains("expected 1 to 1024 threads"));
        }
    }
    let run = storyhash(&["stories", "--threshold", "2"]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_very_long_id_is_printed_whole_without_breaking_the_report() {
    let dir = scratch("hostile-long-id");
    let feed = dir.join("feed.jsonl");
    let long_id = "x".repeat(70_000);
    let text = "the minister arrived in moscow on monday for talks on energy and trade";
    std::fs::write(
        &feed,
        format!(
            "{{\"id\":\"{long_id}\",\"text\":\"{text}\"}}\n{{\"id\":\"b\",\"text\":\"{text}\"}}\n"
        ),
    )
    .expect("feed");
    let run = storyhash(&["cluster", &feed.display().to_string()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let report = stdout(&run);
    assert!(report.contains(&long_id));
    // The short id is padded to a readable column, not to the long one's width.
    let b_line = report
        .lines()
        .find(|l| l.trim_start().starts_with("b "))
        .expect("b's line");
    assert!(b_line.len() < 200, "{b_line}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn numeric_ids_stay_distinct_as_written() {
    let run = storyhash(&[
        "cluster",
        "--format",
        "json",
        &path("bad/numeric_ids.jsonl"),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(!stderr(&run).contains("duplicate id"), "{}", stderr(&run));
    let report = json(&run);
    assert_eq!(report["stats"]["documents"], 4, "{report}");
    let ids: Vec<String> = report["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .flat_map(|c| c["members"].as_array().expect("members").clone())
        .map(|m| m.as_str().expect("id").to_owned())
        .collect();
    assert_eq!(
        ids,
        ["18446744073709551616", "18446744073709551617", "1e2", "100"]
    );
}

#[cfg(unix)]
#[test]
fn directory_entries_that_are_not_read_are_named_and_subdirectories_are_read() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("hostile-walk");
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(corpus.join("2025")).expect("dirs");
    let article = |word: &str| format!("{{\"text\":\"{word} closed the port for two days\"}}\n");
    std::fs::write(corpus.join("a.jsonl"), article("storm")).expect("a");
    std::fs::write(corpus.join("2025").join("b.jsonl"), article("strike")).expect("b");
    // A name that is not UTF-8 (Latin-1 é), with a recognised extension.
    let latin1 = std::ffi::OsStr::from_bytes(b"caf\xe9.jsonl");
    std::fs::write(corpus.join(latin1), article("fog")).expect("latin-1 name");
    std::os::unix::fs::symlink(corpus.join("gone.jsonl"), corpus.join("dangling.jsonl"))
        .expect("dangling link");
    std::os::unix::fs::symlink(&corpus, corpus.join("2025").join("loop")).expect("loop");
    let made = Command::new("mkfifo")
        .arg(corpus.join("pipe.jsonl"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    std::fs::write(corpus.join("notes.csv"), "a,b\n").expect("csv");
    std::fs::write(corpus.join(".hidden.jsonl"), article("hidden")).expect("hidden");

    let corpus_arg = corpus.display().to_string();
    let run = storyhash(&["cluster", "--format", "json", &corpus_arg]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(json(&run)["stats"]["documents"], 3, "{}", stderr(&run));
    let warnings = stderr(&run);
    for expected in [
        "dangling.jsonl: not read: a symbolic link to nothing readable",
        "loop: not read: a link to a directory that contains it",
        "pipe.jsonl: not read: not a regular file",
        "1 file not read",
        "notes.csv",
    ] {
        assert!(warnings.contains(expected), "{expected:?} in {warnings}");
    }
    assert!(!warnings.contains("hidden"), "{warnings}");

    // dedup walks the same way and says the same; with --strict the first stops it.
    let out = dir.join("kept.jsonl").display().to_string();
    let run = storyhash(&["dedup", &corpus_arg, "-o", &out]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("3 documents read"),
        "{}",
        stderr(&run)
    );
    assert!(
        stderr(&run).contains("pipe.jsonl: not read"),
        "{}",
        stderr(&run)
    );
    let run = storyhash(&["dedup", "--strict", &corpus_arg, "-o", &out]);
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("not read"), "{}", stderr(&run));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn updating_a_missing_index_leaves_no_lock_file() {
    let dir = scratch("hostile-missing-index");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, small_feed()).expect("feed");
    let index = dir.join("typo.idx").display().to_string();
    for args in [
        vec!["index", "add", &index, feed.to_str().expect("path")],
        vec!["index", "remove", &index, "a"],
    ] {
        let run = storyhash(&args);
        assert_eq!(run.status.code(), Some(1));
        assert!(stderr(&run).contains("typo.idx"), "{}", stderr(&run));
        assert_eq!(files_in(&dir), ["feed.jsonl"], "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `index add … > /dev/full`: the decisions cannot be written, so the index is left as
/// it was and the error says so; never "failed" after the index was saved.
#[cfg(target_os = "linux")]
#[test]
fn an_unwritable_standard_output_leaves_the_index_unchanged_and_says_so() {
    let IndexFixture {
        dir,
        index,
        index_arg,
        feed,
    } = index_fixture("hostile-dev-full");
    assert!(storyhash(&["index", "create", &index_arg]).status.success());
    let before = std::fs::read(index.join("MANIFEST")).expect("manifest");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let run = Command::new(env!("CARGO_BIN_EXE_storyhash"))
        .args(["index", "add", &index_arg, &feed.display().to_string()])
        .stdout(full)
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("was left unchanged"),
        "{}",
        stderr(&run)
    );
    assert_eq!(
        std::fs::read(index.join("MANIFEST")).expect("manifest"),
        before
    );
    let names: Vec<_> = std::fs::read_dir(&index)
        .expect("list")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "only MANIFEST and LOCK: {names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `index query … | head -1`: the reader leaving is not an error.
#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let IndexFixture {
        dir,
        index_arg,
        feed,
        ..
    } = index_fixture("hostile-pipe");
    assert!(storyhash(&["index", "create", &index_arg]).status.success());
    let feed_arg = feed.display().to_string();
    assert!(storyhash(&["index", "add", &index_arg, &feed_arg])
        .status
        .success());
    // Many queries, so the output outlasts the pipe's buffer after the reader is gone.
    let many = dir.join("many.jsonl");
    let line = std::fs::read_to_string(&feed).expect("feed");
    let first = line.lines().next().expect("a line");
    let queries: String = (0..20_000)
        .map(|i| first.replacen("\"id\":\"a\"", &format!("\"id\":\"q{i}\""), 1) + "\n")
        .collect();
    std::fs::write(&many, queries).expect("queries");
    let mut child = Command::new(env!("CARGO_BIN_EXE_storyhash"))
        .args(["index", "query", &index_arg, &many.display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut first_bytes = [0u8; 16];
    std::io::Read::read_exact(&mut out, &mut first_bytes).expect("some output");
    drop(out);
    let run = child.wait_with_output().expect("wait");
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(!stderr(&run).contains("Broken pipe"), "{}", stderr(&run));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Millions of tiny records in a small compressed file can need more memory than the
/// machine has: the run stops with the numbers as soon as its tables pass the limit.
#[test]
fn a_run_past_its_memory_limit_stops_with_the_numbers_and_writes_nothing() {
    let dir = scratch("hostile-memory");
    let feed = dir.join("tiny.jsonl");
    let lines: String = (0..20_000)
        .map(|i| {
            format!(
                "{{\"id\":\"t{i}\",\"text\":\"word{i} word{} word{}\"}}\n",
                i + 1,
                i + 2
            )
        })
        .collect();
    std::fs::write(&feed, lines).expect("feed");
    let out = dir.join("kept.jsonl");
    let run = storyhash(&[
        "dedup",
        &feed.display().to_string(),
        "-o",
        &out.display().to_string(),
        "--memory-limit",
        "1",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let message = stderr(&run);
    assert!(
        message.contains("more than the memory limit of 1 MiB"),
        "{message}"
    );
    assert!(message.contains("bytes a document"), "{message}");
    assert_eq!(files_in(&dir), ["tiny.jsonl"], "no output, no temporary");
    // The commands that hold every document stop the same way, naming the streaming one.
    for command in ["cluster", "stories"] {
        let run = storyhash(&[command, &feed.display().to_string(), "--memory-limit", "1"]);
        assert_eq!(run.status.code(), Some(1), "{command}: {}", stderr(&run));
        let message = stderr(&run);
        assert!(
            message.contains("holds every document in memory"),
            "{message}"
        );
        assert!(message.contains("dedup streams"), "{message}");
    }
    // The same run with room for its tables succeeds.
    let run = storyhash(&[
        "dedup",
        &feed.display().to_string(),
        "-o",
        &out.display().to_string(),
        "--memory-limit",
        "64",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let _ = std::fs::remove_dir_all(&dir);
}
