//! Single-file indexes of formats 4 and 5, read whole into memory: what earlier
//! releases wrote. They are written again as a directory by saving to a new path
//! (`storyhash index upgrade`); nothing writes this format any more.
//!
//! Format 4 and 5 hash texts as today's analyzer does (the golden vectors of
//! `testdata/golden/hash-vectors.jsonl` hold it to that), so their sets and band keys
//! are used as stored. Version 5 stores an exact copy by reference (a last section names
//! each document's copy-group holder). Every length and reference is checked before use.

use std::path::Path;

use serde::Deserialize;

use super::Index;
use crate::error::{Error, Result};
use crate::persist::{ContentKind, PayloadReader};
use crate::pipeline::Params;
use crate::record::{set_fingerprint, DocRecord};
use crate::story::{StoredStoryParamsV6, StoryParams};

/// Single-file index format versions this build reads.
pub(super) const SUPPORTED_VERSIONS: &[u32] = &[4, 5];

/// Metadata stored as the file's bincode section.
#[derive(Debug, Deserialize)]
struct IndexMeta {
    params: Params,
    story: Option<StoredStoryParamsV6>,
    _writer: String,
    documents: u64,
}

/// Opens a single-file index.
pub(super) fn open(path: &Path) -> Result<Index> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::Index {
            path: path.to_path_buf(),
            problem: "not an index: neither an index directory nor a regular file".into(),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Index::from_bytes(path, &bytes)
}

impl Index {
    /// Reads a single-file index (format 4 or 5) from the bytes of its file (`path`
    /// names it in errors) into memory.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Index> {
        let (version, mut r) =
            PayloadReader::open(path, bytes, ContentKind::Index, SUPPORTED_VERSIONS)?;
        let meta: IndexMeta = r.meta()?;
        let id_bytes = r.bytes()?;
        let id_ends = r.u64s()?;
        let published = r.i64s()?;
        let has_published = r.bytes()?;
        let set_ends = r.u64s()?;
        let set_values = r.u32s()?;
        let keyed = r.bytes()?;
        let keys = r.u32s()?;
        let signatures = r.u32s()?;
        let term_ends = r.u64s()?;
        let term_ids = r.u64s()?;
        let term_weights = r.f32s()?;
        let stories = r.u32s()?;
        let link_ends = r.u64s()?;
        let link_to = r.u32s()?;
        let link_jaccard = r.f32s()?;
        let n = meta.documents as usize;
        // Every count below is checked against this one, itself checked against the
        // data present, before anything is sized by it.
        if id_ends.len() != n {
            return Err(r.inconsistent("the document count disagrees with the ids"));
        }
        let bands_in_file = meta
            .params
            .lsh()
            .map_err(|e| r.inconsistent(&e.to_string()))?
            .bands;
        // The band arrays repeat the stored keys, sorted; the keys are what is used.
        for _ in 0..bands_in_file {
            let array = r.u64s()?;
            let sorted = array.windows(2).all(|w| w[0] <= w[1]);
            if !sorted || array.iter().any(|&e| (e & 0xFFFF_FFFF) as usize >= n) {
                return Err(r.inconsistent("a band array is unsorted or names unknown documents"));
            }
        }
        // Version 5 names each document's copy-group holder; in version 4 every
        // document holds its own set (its groups are found again from the sets).
        let holders: Vec<u32> = if version >= 5 {
            r.u32s()?
        } else {
            (0..n as u32).collect()
        };
        let holders_valid = holders.len() == n
            && holders
                .iter()
                .enumerate()
                .all(|(slot, &h)| (h as usize) <= slot && holders[h as usize] == h);
        if !holders_valid {
            return Err(r.inconsistent("a copy names no earlier holder"));
        }
        let index = Index::with_stories(meta.params, meta.story.map(StoryParams::from))
            .map_err(|e| r.inconsistent(&e.to_string()))?;
        let bands = index.engine.lsh().bands;
        let lengths_agree = [
            id_ends.len(),
            published.len(),
            has_published.len(),
            set_ends.len(),
            keyed.len(),
            link_ends.len(),
        ]
        .iter()
        .all(|&len| len == n)
            && link_to.len() == link_jaccard.len();
        if !lengths_agree {
            return Err(r.inconsistent("array lengths disagree"));
        }
        let slices = |ends: &[u64], total: usize| -> Option<Vec<std::ops::Range<usize>>> {
            let mut start = 0usize;
            let mut out = Vec::with_capacity(ends.len());
            for &end in ends {
                let end = usize::try_from(end).ok()?;
                if end < start || end > total {
                    return None;
                }
                out.push(start..end);
                start = end;
            }
            (start == total).then_some(out)
        };
        let bad = || r.inconsistent("offsets out of order or out of range");
        let id_ranges = slices(&id_ends, id_bytes.len()).ok_or_else(bad)?;
        let set_ranges = slices(&set_ends, set_values.len()).ok_or_else(bad)?;
        let copies_hold_nothing = (0..n).all(|slot| {
            holders[slot] as usize == slot || (set_ranges[slot].is_empty() && keyed[slot] == 0)
        });
        if !copies_hold_nothing {
            return Err(r.inconsistent("a copy holds a set or band keys of its own"));
        }
        if term_ids.len() != term_weights.len() || term_ends.len() != n || stories.len() != n {
            return Err(r.inconsistent("story terms do not match the documents"));
        }
        let term_ranges = slices(&term_ends, term_ids.len()).ok_or_else(bad)?;
        if stories
            .iter()
            .enumerate()
            .any(|(slot, &story)| story as usize > slot)
        {
            return Err(r.inconsistent("a story names a later document"));
        }
        let link_ranges = slices(&link_ends, link_to.len()).ok_or_else(bad)?;
        let k = index.params.num_perm;
        // Where each document's signature and keys are: a copy's are its holder's.
        let mut signature_row = Vec::with_capacity(n);
        let mut key_row: Vec<Option<usize>> = Vec::with_capacity(n);
        let (mut signature_rows, mut key_rows) = (0, 0);
        for (slot, &holder) in holders.iter().enumerate() {
            if holder as usize == slot {
                signature_row.push(signature_rows);
                signature_rows += 1;
                key_row.push((keyed[slot] == 1).then(|| {
                    key_rows += 1;
                    key_rows - 1
                }));
            } else {
                signature_row.push(signature_row[holder as usize]);
                key_row.push(key_row[holder as usize]);
            }
        }
        if signatures.len() != signature_rows * k {
            return Err(r.inconsistent("signatures do not match the documents"));
        }
        if key_rows * bands != keys.len() {
            return Err(r.inconsistent("band keys do not match the documents"));
        }
        r.finish()?;
        {
            let mut state = index.write();
            for slot in 0..n {
                let id = std::str::from_utf8(&id_bytes[id_ranges[slot].clone()])
                    .map_err(|_| Error::Index {
                        path: path.to_path_buf(),
                        problem: "inconsistent index: an id is not UTF-8".into(),
                    })?
                    .to_string();
                let doc_keys =
                    key_row[slot].map(|row| Box::from(&keys[row * bands..(row + 1) * bands]));
                let links: Vec<(u32, f32)> = link_ranges[slot]
                    .clone()
                    .map(|i| (link_to[i], link_jaccard[i]))
                    .collect();
                if links.iter().any(|&(to, _)| to as usize >= n) || state.contains(&id)? {
                    return Err(Error::Index {
                        path: path.to_path_buf(),
                        problem: "inconsistent index: a link or id is invalid".into(),
                    });
                }
                let when = (has_published[slot] == 1).then_some(published[slot]);
                let terms: Box<[(u64, f32)]> = term_ranges[slot]
                    .clone()
                    .map(|i| (term_ids[i], term_weights[i]))
                    .collect();
                let holder = holders[slot] as usize;
                let set: Box<[u32]> = set_values[set_ranges[holder].clone()].into();
                let record = DocRecord {
                    fingerprint: set_fingerprint(&set),
                    text_len: 0,
                    set,
                    signature: signatures[signature_row[slot] * k..(signature_row[slot] + 1) * k]
                        .into(),
                    keys: doc_keys,
                    published: when,
                };
                // Links are stored from both ends; one end is enough.
                let links: Vec<(u32, f32)> = links
                    .into_iter()
                    .filter(|&(to, _)| (to as usize) < slot)
                    .collect();
                state.push_loaded(id, record, links, terms, stories[slot])?;
            }
            state.rebuild_components();
        }
        Ok(index)
    }
}
