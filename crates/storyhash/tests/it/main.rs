//! Integration tests over the public API: one binary, one module per concern.

mod dedup;
mod determinism;
mod generated;
mod golden;
mod index;
mod paths;
mod properties;
mod seeds;
mod statistics;
mod stories;
mod tampered;

use std::path::PathBuf;

use storyhash::synth::SynthDoc;
use storyhash::Document;

/// The repository's `testdata/` directory.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Synthetic documents as pipeline documents.
pub fn documents(docs: &[SynthDoc]) -> Vec<Document> {
    docs.iter()
        .map(|d| Document::new(d.id.clone(), d.text.clone()))
        .collect()
}
