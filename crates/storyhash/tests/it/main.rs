//! Integration tests over the public API: one binary, one module per concern.

mod dedup;
mod determinism;
mod generated;
mod golden;
mod html;
mod index;
mod parquet;
mod paths;
mod properties;
mod seeds;
mod statistics;
mod stories;
mod tampered;

use std::path::PathBuf;

use storyhash::synth::SynthDoc;
use storyhash::Document;

/// A directory `storyhash-{name}-{pid}` under the system's temporary directory, made
/// fresh and removed when dropped, also when its test fails.
pub struct Scratch(PathBuf);

impl Scratch {
    /// Makes the directory, removing any left by an earlier run of this process id.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("storyhash-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The repository's `testdata/` directory.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// The seed articles (`testdata/seeds`), as the CLI reads them.
pub fn seed_documents() -> Vec<Document> {
    storyhash::input::read_sources(
        &[storyhash::input::Source::Path(testdata().join("seeds"))],
        &storyhash::input::ReadOptions::default(),
    )
    .expect("seeds")
    .documents
}

/// Synthetic documents as pipeline documents.
pub fn documents(docs: &[SynthDoc]) -> Vec<Document> {
    docs.iter()
        .map(|d| Document::new(d.id.clone(), d.text.clone()))
        .collect()
}

/// Synthetic documents as pipeline documents with their publication times.
pub fn dated_documents(docs: &[SynthDoc]) -> Vec<Document> {
    docs.iter()
        .map(|d| {
            let mut doc = Document::new(d.id.clone(), d.text.clone());
            doc.published = d.published.clone();
            doc
        })
        .collect()
}

/// Forty generated events of up to 20 reports each (457 articles): an event's names are
/// in more than 1% of the documents and more than 10, past the plain rare-term rule.
pub fn events_of_up_to_twenty_reports() -> Vec<SynthDoc> {
    storyhash::synth::StoryCorpus {
        seed: 7,
        events: 40,
        max_articles: 20,
        ..storyhash::synth::StoryCorpus::default()
    }
    .generate()
}
