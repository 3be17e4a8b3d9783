//! Helpers the CLI test files share: running the binary, scratch directories, a small
//! feed and an index beside it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

pub fn storyhash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_storyhash"))
        .args(args)
        .output()
        .expect("the binary runs")
}

pub fn path(rel: &str) -> String {
    testdata(rel).display().to_string()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("UTF-8 stderr")
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// How many documents the index at `index` holds, as another process sees it.
pub fn documents(index: &str) -> u64 {
    let out = storyhash(&["index", "stats", "--format", "json", index]);
    assert!(out.status.success(), "stats: {}", stderr(&out));
    json(&out)["documents"].as_u64().expect("documents")
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storyhash-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Three articles, the second a lightly edited copy of the first, plus a bad line.
pub fn small_feed() -> String {
    let body = "the minister arrived in moscow on monday for talks on energy trade and \
                security with his counterpart who said the two countries would sign \
                several agreements on gas supplies and grain exports before the end of \
                the year according to officials familiar with the plans";
    let edited = body.replace("monday", "tuesday");
    format!(
        "{{\"id\":\"a\",\"text\":\"{body}\"}}\n{{\"id\":\"b\",\"text\":\"{edited}\",\"extra\":[1,2]}}\n\
         not json\n{{\"id\":\"c\",\"text\":\"a storm closed the port of rotterdam for two days\"}}\n"
    )
}

pub struct IndexFixture {
    pub dir: PathBuf,
    pub index: PathBuf,
    pub index_arg: String,
    pub feed: PathBuf,
}

pub fn index_fixture(name: &str) -> IndexFixture {
    let dir = scratch(name);
    let index = dir.join("feed.idx");
    let feed = dir.join("feed.jsonl");
    std::fs::write(&feed, small_feed()).expect("feed");
    IndexFixture {
        index_arg: index.display().to_string(),
        dir,
        index,
        feed,
    }
}
