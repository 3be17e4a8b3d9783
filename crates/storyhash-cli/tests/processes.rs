//! Several processes, one index: writers killed with SIGKILL at many moments, writers
//! through two names of one index, and readers during commits. Real processes, real
//! signals: what an ingester's crash or a second cron job does.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// `n` distinct articles with ids `{prefix}-{i}`, as JSONL.
fn feed(path: &Path, prefix: &str, n: usize) {
    let mut state = prefix.bytes().fold(0x9E37_79B9_7F4A_7C15u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    let mut out = String::new();
    for i in 0..n {
        let mut words = Vec::with_capacity(120);
        for _ in 0..120 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            words.push(format!("w{}", (state >> 33) % 5000));
        }
        out.push_str(&format!(
            "{{\"id\":\"{prefix}-{i}\",\"text\":\"{}\"}}\n",
            words.join(" ")
        ));
    }
    std::fs::write(path, out).expect("feed");
}

fn leftovers(index: &Path) -> Vec<String> {
    std::fs::read_dir(index)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn a_writer_killed_at_any_moment_leaves_the_last_commit_readable() {
    let dir = scratch("killed");
    let index = dir.join("k.idx");
    let index_arg = index.display().to_string();
    assert!(storyhash(&["index", "create", &index_arg]).status.success());
    let base = dir.join("base.jsonl");
    feed(&base, "base", 300);
    assert!(storyhash(&[
        "index",
        "add",
        "-q",
        &index_arg,
        &base.display().to_string()
    ])
    .status
    .success());
    const BATCH: u64 = 1000;
    // How long an uninterrupted add takes here: the kills are spread over it.
    let timed = dir.join("timed.jsonl");
    feed(&timed, "timed", BATCH as usize);
    let start = Instant::now();
    assert!(storyhash(&[
        "index",
        "add",
        "-q",
        &index_arg,
        &timed.display().to_string()
    ])
    .status
    .success());
    let full = start.elapsed();
    let rounds = 16u32;
    let mut outcomes = (0, 0);
    for round in 0..rounds {
        let before = documents(&index_arg);
        let batch = dir.join(format!("r{round}.jsonl"));
        feed(&batch, &format!("r{round}"), BATCH as usize);
        let mut child = Command::new(env!("CARGO_BIN_EXE_storyhash"))
            .args([
                "index",
                "add",
                "-q",
                &index_arg,
                &batch.display().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(full.mul_f64(1.2 * f64::from(round) / f64::from(rounds)));
        let _ = child.kill();
        let _ = child.wait();
        // The last commit, whole: the batch is in or out, never in part.
        let after = documents(&index_arg);
        assert!(
            after == before || after == before + BATCH,
            "round {round}: {before} documents before, {after} after the kill"
        );
        if after == before {
            outcomes.0 += 1;
        } else {
            outcomes.1 += 1;
        }
        let check = storyhash(&["index", "check", &index_arg]);
        assert!(check.status.success(), "round {round}: {}", stderr(&check));
    }
    // The next writer removes whatever the killed ones left.
    let last = dir.join("last.jsonl");
    feed(&last, "last", 5);
    assert!(storyhash(&[
        "index",
        "add",
        "-q",
        &index_arg,
        &last.display().to_string()
    ])
    .status
    .success());
    assert_eq!(leftovers(&index), Vec::<String>::new());
    eprintln!(
        "killed before the commit {} times, after it {} times",
        outcomes.0, outcomes.1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn writers_through_two_names_take_turns_and_readers_see_only_whole_commits() {
    let dir = scratch("writers");
    let index = dir.join("w.idx");
    let link = dir.join("link.idx");
    let index_arg = index.display().to_string();
    assert!(storyhash(&["index", "create", &index_arg]).status.success());
    std::os::unix::fs::symlink(&index, &link).expect("symlink");
    const BATCH: u64 = 200;
    const ROUNDS: usize = 3;
    let names = [index.clone(), link.clone(), index.clone(), link.clone()];
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut seen = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let n = documents(&index_arg);
                assert_eq!(n % BATCH, 0, "a reader saw part of a commit: {n} documents");
                seen.push(n);
                std::thread::sleep(Duration::from_millis(5));
            }
            seen
        });
        let writers: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(w, name)| {
                let dir = &dir;
                scope.spawn(move || {
                    for round in 0..ROUNDS {
                        let batch = dir.join(format!("w{w}-{round}.jsonl"));
                        feed(&batch, &format!("w{w}-{round}"), BATCH as usize);
                        let out = storyhash(&[
                            "index",
                            "add",
                            "-q",
                            &name.display().to_string(),
                            &batch.display().to_string(),
                        ]);
                        assert!(out.status.success(), "{}", stderr(&out));
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().expect("writer");
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let seen = reader.join().expect("reader");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    });
    assert_eq!(documents(&index_arg), 4 * ROUNDS as u64 * BATCH);
    assert_eq!(leftovers(&index), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}
