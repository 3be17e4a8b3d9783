//! The index file: writing an [`Index`] as the sections of the `persist` container and
//! reading it back, every length and reference checked before it is used.

use super::*;

/// The index file format this build writes; [`SUPPORTED_VERSIONS`] are those it reads.
/// No version yet changed the layout; each changed what a text hashes to, so an older
/// index's stored sets and band keys no longer match what this build computes for the
/// same text, and it is refused, never misread. Version 2: a faster token hash and a
/// rolling shingle polynomial. Version 3: normalization folds the Persian and Urdu
/// yeh, kaf and heh and the Turkish i forms; tokens lose their final mixing step and
/// word shingles are the polynomial itself (one-permutation hashing mixes each anyway).
/// Version 4: word shingles roll a cyclic polynomial (rotations and xors), and bands of
/// up to four rows are keyed by one folded multiplication instead of xxh3.
/// Version 5 hashes as version 4 and changes the layout: an exact copy is stored by
/// reference (no set, keys or signature of its own, and no links; a last section names
/// each document's copy-group holder), so 100,000 copies of one article cost about 600
/// bytes each instead of 2,500. Version 4 files are read as they are.
pub const FORMAT_VERSION: u32 = 5;
/// Index file format versions this build reads.
pub const SUPPORTED_VERSIONS: &[u32] = &[4, 5];

impl Index {
    /// The index as the bytes of its file.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let state = self.read();
        let live: Vec<u32> = (0..state.ids.len() as u32)
            .filter(|&s| state.alive[s as usize])
            .collect();
        let mut new_slot = vec![u32::MAX; state.ids.len()];
        for (n, &s) in live.iter().enumerate() {
            new_slot[s as usize] = n as u32;
        }
        let mut w = PayloadWriter::default();
        w.meta(&IndexMeta {
            params: self.params.clone(),
            story: self.story_params.clone(),
            writer: format!("storyhash {}", env!("CARGO_PKG_VERSION")),
            documents: live.len() as u64,
        })?;
        let mut id_bytes = Vec::new();
        let mut id_ends = Vec::with_capacity(live.len());
        let mut published = Vec::with_capacity(live.len());
        let mut has_published = Vec::with_capacity(live.len());
        let mut set_ends = Vec::with_capacity(live.len());
        let mut set_values = Vec::new();
        let mut keyed = Vec::with_capacity(live.len());
        let mut keys = Vec::new();
        let mut signatures = Vec::with_capacity(live.len() * self.params.num_perm);
        let mut term_ends = Vec::with_capacity(live.len());
        let mut term_ids = Vec::new();
        let mut term_weights = Vec::new();
        // A story is renamed after its first surviving member.
        let mut story_names: HashMap<u32, u32> = HashMap::new();
        let mut stories = Vec::with_capacity(live.len());
        let mut link_ends = Vec::with_capacity(live.len());
        let mut link_to = Vec::new();
        let mut link_jaccard = Vec::new();
        let mut holders = Vec::with_capacity(live.len());
        for &s in &live {
            let s = s as usize;
            id_bytes.extend_from_slice(state.ids[s].as_bytes());
            id_ends.push(id_bytes.len() as u64);
            published.push(state.published[s].unwrap_or(0));
            has_published.push(u8::from(state.published[s].is_some()));
            // A copy is stored by reference to its group's holder: no set, keys or
            // signature of its own.
            let holder = state.groups[state.group_of[s] as usize].holder;
            let is_holder = holder as usize == s;
            holders.push(new_slot[holder as usize]);
            if is_holder {
                let group = &state.groups[state.group_of[s] as usize];
                set_values.extend_from_slice(&group.set);
                if let Some(k) = &group.keys {
                    keys.extend_from_slice(k);
                }
                signatures.extend_from_slice(state.signature_of(s as u32));
            }
            set_ends.push(set_values.len() as u64);
            keyed.push(u8::from(
                is_holder && state.groups[state.group_of[s] as usize].keys.is_some(),
            ));
            for &(t, w) in state.terms[s].iter() {
                term_ids.push(t);
                term_weights.push(w);
            }
            term_ends.push(term_ids.len() as u64);
            let named = *story_names.entry(state.story_of[s]).or_insert(new_slot[s]);
            stories.push(named);
            for &(other, j) in &state.links[s] {
                let other = new_slot[other as usize];
                if other != u32::MAX {
                    link_to.push(other);
                    link_jaccard.push(j);
                }
            }
            link_ends.push(link_to.len() as u64);
        }
        w.bytes(&id_bytes);
        w.u64s(&id_ends);
        w.i64s(&published);
        w.bytes(&has_published);
        w.u64s(&set_ends);
        w.u32s(&set_values);
        w.bytes(&keyed);
        w.u32s(&keys);
        w.u32s(&signatures);
        w.u64s(&term_ends);
        w.u64s(&term_ids);
        w.f32s(&term_weights);
        w.u32s(&stories);
        w.u64s(&link_ends);
        w.u32s(&link_to);
        w.f32s(&link_jaccard);
        for band in 0..self.engine.lsh().bands {
            w.u64s(&state.buckets.sorted_band(band, &new_slot));
        }
        w.u32s(&holders);
        Ok(w.finish(ContentKind::Index, FORMAT_VERSION))
    }

    /// Writes the index to `path` atomically: a crash leaves the previous file intact.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let bytes = self.to_bytes()?;
        write_atomically(path, |w| std::io::Write::write_all(w, &bytes))
    }

    /// Opens an index file, refusing anything damaged, foreign or of an unknown version.
    pub fn open(path: impl AsRef<Path>) -> Result<Index> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Index::from_bytes(path, &bytes)
    }

    /// Reads an index from the bytes of its file (`path` names it in errors).
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
        let bands_in_file = meta
            .params
            .lsh()
            .map_err(|e| r.inconsistent(&e.to_string()))?
            .bands;
        let mut band_arrays = Vec::with_capacity(bands_in_file);
        for _ in 0..bands_in_file {
            let array = r.u64s()?;
            let sorted = array.windows(2).all(|w| w[0] <= w[1]);
            if !sorted || array.iter().any(|&e| (e & 0xFFFF_FFFF) as usize >= n) {
                return Err(r.inconsistent("a band array is unsorted or names unknown documents"));
            }
            band_arrays.push(array);
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
        let index = Index::with_stories(meta.params, meta.story)
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
                if links.iter().any(|&(to, _)| to as usize >= n) || state.by_id.contains_key(&id) {
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
                state.tracker.count(&terms);
                state
                    .tracker
                    .assign(&terms, when, Some(stories[slot]), slot as u32);
                let holder = holders[slot] as usize;
                let set: Box<[u32]> = set_values[set_ranges[holder].clone()].into();
                let row = signature_row[slot];
                let record = DocRecord {
                    fingerprint: set_fingerprint(&set),
                    text_len: 0,
                    set,
                    signature: signatures[row * k..(row + 1) * k].into(),
                    keys: doc_keys,
                    published: when,
                };
                let group = state.group_for(&record, slot as u32);
                let stored = Prepared { id, record, terms };
                state.push(stored, group, links, false, stories[slot]);
            }
            state.buckets.set_base(band_arrays);
            state.rebuild_components();
        }
        Ok(index)
    }
}
