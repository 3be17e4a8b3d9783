//! The binary used as people use ripgrep and fd: pipes in and out, readers that leave
//! early, `-` for standard streams, runs that read nothing, other encodings, help that
//! says what presets set, reports that count in English and carry a schema version.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};

use common::*;

/// Runs the binary with `stdin` piped in.
fn piped(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_storyhash"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    out
}

#[test]
fn a_pipe_into_a_command_without_inputs_is_read() {
    let out = piped(&["cluster", "--format", "json"], small_feed().as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["stats"]["documents"], 3, "the feed, not the seeds");
    assert_eq!(report["stats"]["skipped_records"], 1);
    // Without a pipe (standard input at /dev/null), the seeds.
    let seeds = storyhash(&["cluster", "--format", "json"]);
    assert_eq!(json(&seeds)["stats"]["documents"], 5);
}

#[test]
fn a_dash_names_standard_output() {
    let dir = scratch("habits-dash");
    let run = Command::new(env!("CARGO_BIN_EXE_storyhash"))
        .args(["cluster", "-o", "-"])
        .current_dir(&dir)
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).starts_with("storyhash: 5 documents"));
    assert!(!dir.join("-").exists(), "no file named -");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dedup_writes_the_kept_records_to_standard_output_by_default() {
    let feed = small_feed();
    let kept_lines: Vec<&str> = feed
        .lines()
        .filter(|l| l.contains("\"id\":\"a\"") || l.contains("\"id\":\"c\""))
        .collect();
    for args in [vec!["dedup", "-"], vec!["dedup", "-", "-o", "-"]] {
        let out = piped(&args, feed.as_bytes());
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
        assert_eq!(lines, kept_lines, "{args:?}");
    }
}

#[test]
fn a_reader_that_leaves_early_ends_no_run_with_an_error() {
    let dir = scratch("habits-early-reader");
    let feed = dir.join("big.jsonl");
    let lines: String = (0..30_000)
        .map(|i| format!("{{\"id\":\"d{i}\",\"text\":\"article {i} about the harbour and the storm that closed it for {i} days\"}}\n"))
        .collect();
    std::fs::write(&feed, lines).expect("feed");
    let feed_arg = feed.display().to_string();
    for args in [
        vec!["dedup", "--quiet", feed_arg.as_str(), "-o", "/dev/stdout"],
        vec!["dedup", "--quiet", feed_arg.as_str()],
        vec!["cluster", feed_arg.as_str()],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_storyhash"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut out = child.stdout.take().expect("stdout");
        let mut first = [0u8; 10];
        out.read_exact(&mut first).expect("ten bytes");
        drop(out);
        let run = child.wait_with_output().expect("wait");
        assert!(run.status.success(), "{args:?}: {}", stderr(&run));
        assert!(!stderr(&run).contains("Broken pipe"), "{}", stderr(&run));
        assert!(!stderr(&run).contains("<kept"), "{}", stderr(&run));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_that_skips_every_record_fails_and_says_why() {
    let dir = scratch("habits-all-skipped");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, "{\"id\":\"a\",\"body\":\"text under another name\"}\n{\"id\":\"b\",\"body\":\"and again\"}\n").expect("feed");
    let feed_arg = feed.display().to_string();
    for args in [
        vec!["cluster", feed_arg.as_str()],
        vec!["stories", feed_arg.as_str()],
        vec!["dedup", feed_arg.as_str(), "-o", "/dev/null"],
    ] {
        let run = storyhash(&args);
        assert_eq!(run.status.code(), Some(1), "{args:?}");
        let message = stderr(&run);
        assert!(
            message.contains("no document was read: 2 records skipped (2 missing_field)"),
            "{message}"
        );
        assert!(message.contains("--text-field"), "{message}");
    }
    // The same records under the right field name are read.
    let run = storyhash(&["cluster", "--text-field", "body", &feed_arg]);
    assert!(run.status.success(), "{}", stderr(&run));
    // An empty input is no mistake: an empty report.
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").expect("empty");
    let run = piped(&["cluster", "-"], b"");
    assert!(run.status.success(), "{}", stderr(&run));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn latin1_input_is_read_with_its_encoding() {
    let dir = scratch("habits-latin1");
    let feed = dir.join("feed.jsonl");
    // "Café à Montréal" in Latin-1 bytes.
    let mut bytes =
        b"{\"id\":\"a\",\"text\":\"Caf\xe9 \xe0 Montr\xe9al: the city council met on monday\"}\n"
            .to_vec();
    bytes.extend_from_slice(b"{\"id\":\"b\",\"text\":\"plain ascii text about the harbour\"}\n");
    std::fs::write(&feed, &bytes).expect("feed");
    let text = dir.join("note.txt");
    std::fs::write(&text, b"Na\xefve caf\xe9 owners met the mayor\n").expect("txt");
    let feed_arg = feed.display().to_string();
    let run = storyhash(&["cluster", "--format", "json", &feed_arg]);
    assert!(run.status.success());
    assert_eq!(json(&run)["stats"]["skipped_by_reason"]["invalid_utf8"], 1);
    for encoding in ["latin1", "windows-1252"] {
        let run = storyhash(&[
            "cluster",
            "--format",
            "json",
            "--encoding",
            encoding,
            &feed_arg,
            &text.display().to_string(),
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
        let report = json(&run);
        assert_eq!(report["stats"]["documents"], 3, "{report}");
        let headlines = report.to_string();
        assert!(headlines.contains("Café à Montréal"), "{headlines}");
        assert!(headlines.contains("Naïve café"), "{headlines}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_says_what_each_preset_sets_and_stemming_is_a_switch() {
    let help = stdout(&storyhash(&["cluster", "--help"]));
    assert!(
        help.contains("dup: --threshold 0.4 --shingle word:5 --num-perm 128 --bands 42x3"),
        "{help}"
    );
    assert!(
        help.contains("story: --threshold 0.15 --shingle word:1"),
        "{help}"
    );
    assert!(help.contains("--no-stem"));
    for (flag, stemmed) in [("--stem", true), ("--no-stem", false)] {
        let run = storyhash(&["cluster", "--format", "json", flag]);
        assert!(run.status.success(), "{}", stderr(&run));
        assert_eq!(json(&run)["params"]["stem_arabic"], stemmed);
    }
    assert_eq!(
        storyhash(&["cluster", "--stem", "true"]).status.code(),
        Some(1),
        "true is an input path now"
    );
}

#[test]
fn reports_count_in_english_hide_small_clusters_and_carry_a_schema_version() {
    let dir = scratch("habits-reports");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, small_feed()).expect("feed");
    let feed_arg = feed.display().to_string();
    let text = stdout(&storyhash(&["cluster", &feed_arg]));
    assert!(
        text.contains("cluster 0: 2 documents, 1 verified pair,"),
        "{text}"
    );
    let hidden = stdout(&storyhash(&["cluster", "--min-size", "2", &feed_arg]));
    assert!(!hidden.contains("in no cluster"), "{hidden}");
    assert!(
        hidden.contains("1 document in 1 cluster below the size asked for, not shown"),
        "{hidden}"
    );
    let report = json(&storyhash(&[
        "cluster",
        "--format",
        "json",
        "--min-size",
        "2",
        &feed_arg,
    ]));
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["clusters"].as_array().expect("clusters").len(), 1);
    assert_eq!(report["stats"]["omitted_clusters"], 1);

    // Stories: whole headlines in JSON, the window in its unit, --keep for groups.
    let long_title =
        "A headline long enough to pass the seventy-two characters the text report shows of it";
    let stories_feed = dir.join("stories.jsonl");
    std::fs::write(
        &stories_feed,
        format!(
            "{{\"id\":\"s\",\"title\":\"{long_title}\",\"text\":\"short text of the story\"}}\n\
             {{\"id\":\"l\",\"title\":\"{long_title}\",\"text\":\"short text of the story\\n\\nwith a longer ending\"}}\n"
        ),
    )
    .expect("stories feed");
    let stories_arg = stories_feed.display().to_string();
    let stories = json(&storyhash(&["stories", "--format", "json", &stories_arg]));
    assert_eq!(stories["schema_version"], 1);
    assert_eq!(stories["stories"][0]["groups"][0]["headline"], long_title);
    let text = stdout(&storyhash(&["stories", "--window", "36h", &stories_arg]));
    assert!(text.contains("window 36 hours"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dedup_summary_and_index_stats_carry_the_schema_version() {
    let IndexFixture {
        dir,
        index_arg,
        feed,
        ..
    } = index_fixture("habits-schema");
    let summary = dir.join("summary.json");
    let run = storyhash(&[
        "dedup",
        "--quiet",
        &feed.display().to_string(),
        "-o",
        "/dev/null",
        "--summary",
        &summary.display().to_string(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).expect("summary")).expect("JSON");
    assert_eq!(summary["schema_version"], 1);
    assert!(storyhash(&["index", "create", &index_arg]).status.success());
    let stats = json(&storyhash(&[
        "index", "stats", "--format", "json", &index_arg,
    ]));
    assert_eq!(stats["schema_version"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The fields the README's "JSON outputs" table lists for `output` (the first column,
/// without backticks), in order: the documented schema.
fn documented_fields(output: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(testdata("../README.md")).expect("README");
    let row = readme
        .lines()
        .find(|line| line.starts_with(&format!("| {output} |")))
        .unwrap_or_else(|| panic!("README documents {output}"));
    let fields = row.rsplit('|').nth(1).expect("a fields column");
    // Each field is the first backticked word of a comma-separated item; parentheses
    // describe nested fields.
    let mut names = Vec::new();
    let mut depth = 0;
    for part in fields.split('`').collect::<Vec<_>>().chunks(2) {
        let (between, name) = (part[0], part.get(1));
        depth += between.matches('(').count() as i32 - between.matches(')').count() as i32;
        if let (Some(name), 0) = (name, depth) {
            names.push((*name).to_owned());
        }
    }
    names
}

fn keys(value: &serde_json::Value) -> Vec<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn json_outputs_have_the_documented_fields() {
    let IndexFixture {
        dir,
        index_arg,
        feed,
        ..
    } = index_fixture("habits-documented");
    let feed_arg = feed.display().to_string();
    let cluster = json(&storyhash(&["cluster", "--format", "json", &feed_arg]));
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let same = |got: Vec<String>, output: &str| {
        assert_eq!(sorted(got), sorted(documented_fields(output)), "{output}");
    };
    same(keys(&cluster), "`cluster --format json`");
    same(keys(&cluster["stats"]), "its `stats`");
    same(keys(&cluster["clusters"][0]), "each of its `clusters`");
    let stories = json(&storyhash(&["stories", "--format", "json", &feed_arg]));
    same(keys(&stories), "`stories --format json`");
    same(keys(&stories["stories"][0]), "each of its `stories`");

    let out = |name: &str| dir.join(name).display().to_string();
    let run = storyhash(&[
        "dedup",
        "--quiet",
        &feed_arg,
        "-o",
        &out("kept.jsonl"),
        "--summary",
        &out("s.json"),
        "--removed",
        &out("removed.jsonl"),
        "--clusters",
        &out("clusters.jsonl"),
        "--pairs",
        &out("pairs.jsonl"),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let first_line = |name: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(dir.join(name)).expect(name);
        serde_json::from_str(text.lines().next().expect("a line")).expect("JSON")
    };
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("s.json")).expect("summary")).expect("JSON");
    same(keys(&summary), "`dedup --summary`");
    same(
        keys(&first_line("removed.jsonl")),
        "`dedup --removed`, a line",
    );
    same(
        keys(&first_line("clusters.jsonl")),
        "`dedup --clusters`, a line",
    );
    same(keys(&first_line("pairs.jsonl")), "`dedup --pairs`, a line");

    assert!(storyhash(&["index", "create", &index_arg]).status.success());
    // The feed's answers come in its order: the second line's first, then the malformed
    // third line's, as skipped.
    let lines = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = storyhash(args);
        (stdout(&out).lines())
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect()
    };
    let added = lines(&["index", "add", "--format", "json", &index_arg, &feed_arg]);
    let skipped = "`index add` or `index query --format json`, a record not stored or not answered";
    same(keys(&added[2]), skipped);
    same(keys(&added[1]), "`index add --format json`, a line");
    let queried = lines(&["index", "query", "--format", "json", &index_arg, &feed_arg]);
    same(keys(&queried[2]), skipped);
    same(keys(&queried[1]), "`index query --format json`, a line");
    let stats = json(&storyhash(&[
        "index", "stats", "--format", "json", &index_arg,
    ]));
    same(keys(&stats), "`index stats --format json`");
    let clusters = json(&storyhash(&[
        "index", "clusters", "--format", "json", &index_arg,
    ]));
    same(keys(&clusters[0]), "`index clusters --format json`");
    let story_index = dir.join("stories.idx").display().to_string();
    assert!(
        storyhash(&["index", "create", &story_index, "--stories", "story"])
            .status
            .success()
    );
    assert!(
        storyhash(&["index", "add", "--quiet", &story_index, &feed_arg])
            .status
            .success()
    );
    let stories = json(&storyhash(&[
        "index",
        "stories",
        "--format",
        "json",
        &story_index,
    ]));
    same(keys(&stories[0]), "`index stories --format json`");
    let queried = lines(&[
        "index",
        "query",
        "--format",
        "json",
        &story_index,
        &feed_arg,
    ]);
    same(
        keys(&queried[1]),
        "`index query --format json` of a story-tracking index, a line",
    );
    let sweep = json(&storyhash(&[
        "cluster", "--sweep", "0.4,0.6", "--format", "json", &feed_arg,
    ]));
    same(keys(&sweep), "`cluster --sweep … --format json`");
    let explained = json(&storyhash(&[
        "explain", "a", "b", "--format", "json", &feed_arg,
    ]));
    same(keys(&explained), "`explain --format json`");
    let explained = json(&storyhash(&[
        "explain",
        "a",
        "b",
        "--granularity",
        "story",
        "--format",
        "json",
        &feed_arg,
    ]));
    same(keys(&explained), "`explain --granularity G --format json`");
    same(keys(&explained["sides"][0]), "each of its `sides`");
    same(
        keys(&explained["shared_terms"][0]),
        "each of its `shared_terms`",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_says_why_two_documents_match_or_not() {
    let dir = scratch("habits-explain");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, small_feed()).expect("feed");
    let feed_arg = feed.display().to_string();
    let copy = stdout(&storyhash(&["explain", "a", "b", &feed_arg]));
    assert!(
        copy.starts_with("a and b: duplicates: compared through"),
        "{copy}"
    );
    assert!(
        copy.contains("shared: \"the minister arrived in moscow on"),
        "{copy}"
    );
    let apart = json(&storyhash(&[
        "explain", "a", "c", "--format", "json", &feed_arg,
    ]));
    assert_eq!(apart["joined"], false);
    assert!(
        apart["verdict"]
            .as_str()
            .expect("verdict")
            .starts_with("never compared"),
        "{apart}"
    );
    assert_eq!(apart["bands_met"].as_array().expect("bands").len(), 0);
    // The same pair under the cluster report: joined exactly when explain says so.
    let report = json(&storyhash(&["cluster", "--format", "json", &feed_arg]));
    assert_eq!(
        report["clusters"][0]["members"],
        serde_json::json!(["a", "b"])
    );
    let missing = storyhash(&["explain", "a", "zz", &feed_arg]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no document with id \"zz\""));

    // By the story engine: the copies are one story, the storm report another.
    let story = |a: &str, b: &str, extra: &[&str]| {
        let mut args = vec!["explain", a, b, "--granularity", "story", &feed_arg];
        args.extend(extra);
        storyhash(&args)
    };
    let copies = json(&story("a", "b", &["--format", "json"]));
    assert_eq!(
        (copies["copies"].as_bool(), copies["same_story"].as_bool()),
        (Some(true), Some(true))
    );
    let apart = stdout(&story("a", "c", &[]));
    assert!(
        apart.contains("not in one story: a in story 0 (2 documents, founding it), b in story 1"),
        "{apart}"
    );
    assert!(
        apart.contains("mean cosine to the other's story: a to b's 0.022, b to a's 0.022"),
        "{apart}"
    );
    // Shingle settings do not apply to the story engine, nor story lists to shingles.
    let out = story("a", "c", &["--shingle", "word:3"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--shingle does not apply"),
        "{}",
        stderr(&out)
    );
    let out = storyhash(&[
        "explain",
        "a",
        "c",
        "--stopwords-file",
        &feed_arg,
        &feed_arg,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("applies with --granularity"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// On the seeds, `explain --granularity` agrees with `stories` about which pairs share a
/// story, at both granularities.
#[test]
fn a_story_explanation_agrees_with_the_stories_report() {
    let ids = [
        "000_06492c2b52d2f1b0",
        "001_bb00997dd8f01e8a",
        "004_883a00e972f11a53",
    ];
    for granularity in ["story", "event"] {
        let report = json(&storyhash(&[
            "stories",
            "--granularity",
            granularity,
            "--format",
            "json",
        ]));
        let story_of = |id: &str| {
            let stories = report["stories"].as_array().expect("stories");
            stories.iter().position(|s| {
                s["groups"].as_array().expect("groups").iter().any(|g| {
                    g["members"]
                        .as_array()
                        .expect("members")
                        .iter()
                        .any(|m| m == id)
                })
            })
        };
        for (a, b) in [(ids[0], ids[1]), (ids[0], ids[2]), (ids[1], ids[2])] {
            let e = json(&storyhash(&[
                "explain",
                a,
                b,
                "--granularity",
                granularity,
                "--format",
                "json",
            ]));
            assert_eq!(
                e["same_story"].as_bool(),
                Some(story_of(a) == story_of(b)),
                "{a} {b}"
            );
            assert_eq!(
                e["sides"][0]["story"].as_u64().map(|s| s as usize),
                story_of(a)
            );
        }
    }
}

#[test]
fn a_sweep_shows_several_thresholds_from_one_run() {
    let dir = scratch("habits-sweep");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, small_feed()).expect("feed");
    let feed_arg = feed.display().to_string();
    let rows = json(&storyhash(&[
        "cluster", "--sweep", "0.95,0.2", "--format", "json", &feed_arg,
    ]));
    let rows = rows["sweep"].as_array().expect("rows").clone();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["threshold"], 0.2, "sorted by threshold");
    assert_eq!(rows[0]["multi_member_clusters"], 1);
    assert_eq!(rows[1]["multi_member_clusters"], 0);
    let text = stdout(&storyhash(&["cluster", "--sweep", "0.2,0.95", &feed_arg]));
    assert!(text.starts_with("threshold  verified pairs"), "{text}");
    assert_eq!(
        storyhash(&["cluster", "--sweep", "0.2,1.5"]).status.code(),
        Some(2)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_and_a_man_page_come_from_the_same_definitions() {
    let bash = storyhash(&["completions", "bash"]);
    assert!(bash.status.success());
    assert!(
        stdout(&bash).contains("--min-size"),
        "completions list the flags"
    );
    let man = stdout(&storyhash(&["man"]));
    assert!(
        man.contains(".TH storyhash 1") && man.contains("explain"),
        "{man}"
    );
}

#[test]
fn cluster_writes_the_pairs_dedup_writes() {
    let dir = scratch("habits-pairs");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, small_feed()).expect("feed");
    let feed_arg = feed.display().to_string();
    let (from_cluster, from_dedup) = (dir.join("c.jsonl"), dir.join("d.jsonl"));
    let run = storyhash(&[
        "cluster",
        &feed_arg,
        "--pairs",
        &from_cluster.display().to_string(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let run = storyhash(&[
        "dedup",
        "--quiet",
        &feed_arg,
        "-o",
        "/dev/null",
        "--pairs",
        &from_dedup.display().to_string(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let read = |p: &std::path::Path| std::fs::read_to_string(p).expect("pairs");
    assert_eq!(read(&from_cluster), read(&from_dedup));
    assert!(read(&from_cluster).starts_with("{\"a\":\"a\",\"b\":\"b\",\"jaccard\":"));
    let over_input = storyhash(&["cluster", &feed_arg, "--pairs", &feed_arg]);
    assert_eq!(over_input.status.code(), Some(1));
    assert_eq!(read(&feed), small_feed(), "the input is kept");
    let _ = std::fs::remove_dir_all(&dir);
}
