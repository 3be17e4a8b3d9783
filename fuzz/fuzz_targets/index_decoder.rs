//! Any bytes as a single-file index (formats 4 and 5): opening must fail cleanly or
//! yield a usable index, never panic or misread. Inputs that start from a real index
//! (the seed corpus in `run.sh` copies the checked-in fixture) explore the structure
//! behind the checksum. The directory format has its own target, `index_segment`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use storyhash::{Document, Index};

fuzz_target!(|data: &[u8]| {
    // As given: the checksum refuses nearly everything.
    let _ = Index::from_bytes(Path::new("fuzz.shix"), data);
    // With a valid checksum (and length) written over it, so that the decoder behind the
    // checksum sees arbitrary payloads, as it would from a faulty writer.
    if data.len() < 32 {
        return;
    }
    let mut fixed = data.to_vec();
    storyhash::index::forge::reseal_container(&mut fixed);
    if let Ok(index) = Index::from_bytes(Path::new("fuzz.shix"), &fixed) {
        let _ = index.stats();
        let _ = index.query(&Document::new("probe", "a probe document for the index"));
        let _ = index.clusters();
        let _ = index.cluster_list(None, 1);
    }
});
