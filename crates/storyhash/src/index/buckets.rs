//! The index's LSH buckets: per band a sorted base array with a directory of key
//! prefixes, and the entries added since, merged in as they grow.

use super::*;

/// LSH buckets: per band, a sorted base array of (key << 32 | slot), searched by binary
/// search and stored in the index file as is (so opening needs no rebuilding), plus the
/// entries added since ([`RecentBand`]), merged into the base once they hold more than
/// an eighth as many documents. Lookups may return removed slots (their entries stay
/// until the index is saved and opened again); callers filter them.
#[derive(Debug, Default)]
pub(super) struct BandIndex {
    base: Vec<Vec<u64>>,
    /// Per band, where each key prefix starts in `base`.
    directories: Vec<KeyDirectory>,
    recent: Vec<RecentBand>,
    recent_docs: usize,
    base_docs: usize,
}

/// One band's entries since the last merge, as chains through one vector: a document
/// costs one entry and one map update per band, where a map of vectors allocated a
/// vector for every new key (most keys, most bands: dozens of allocations per insert).
#[derive(Debug, Default)]
struct RecentBand {
    /// Key → index in `entries` of its newest entry.
    newest: HashMap<u32, u32, BuildHasherDefault<Prehashed>>,
    /// (slot, index of the previous entry with the same key or `NO_ENTRY`).
    entries: Vec<(u32, u32)>,
}

/// Ends a chain of [`RecentBand`] entries.
const NO_ENTRY: u32 = u32::MAX;

impl RecentBand {
    fn insert(&mut self, key: u32, slot: u32) {
        let at = self.entries.len() as u32;
        let previous = self.newest.insert(key, at).unwrap_or(NO_ENTRY);
        self.entries.push((slot, previous));
    }

    /// The slots with `key`, newest first.
    fn slots(&self, key: u32) -> impl Iterator<Item = u32> + '_ {
        let mut at = self.newest.get(&key).copied().unwrap_or(NO_ENTRY);
        std::iter::from_fn(move || {
            let &(slot, previous) = self.entries.get(at as usize)?;
            at = previous;
            Some(slot)
        })
    }

    /// Every entry as `key << 32 | slot`.
    fn packed(&self) -> impl Iterator<Item = u64> + '_ {
        self.newest.keys().flat_map(|&key| {
            self.slots(key)
                .map(move |slot| u64::from(key) << 32 | u64::from(slot))
        })
    }
}

/// Where the entries of each key prefix start in a band's sorted base array, so that a
/// lookup reads two offsets and a few neighbouring entries instead of binary-searching
/// the whole array (about 20 probes at a million documents, most of them cache misses:
/// half of an insert's matching time). Built when a base array is loaded or merged;
/// prefixes are sized for about eight entries each, which costs half a byte per entry.
#[derive(Debug, Clone)]
struct KeyDirectory {
    /// 32 − prefix bits: a key's prefix is `key >> shift`, taken in 64 bits so that a
    /// shift of 32 leaves one prefix for an array too short to split.
    shift: u32,
    /// starts[p]..starts[p + 1]: the entries whose key has prefix p.
    starts: Vec<u32>,
}

impl KeyDirectory {
    fn build(entries: &[u64]) -> KeyDirectory {
        const ENTRIES_PER_PREFIX: usize = 8;
        let bits = (entries.len() / ENTRIES_PER_PREFIX)
            .checked_ilog2()
            .unwrap_or(0)
            .min(24);
        let shift = 32 - bits;
        let mut starts = vec![0u32; (1 << bits) + 1];
        for &e in entries {
            starts[((e >> 32) >> shift) as usize + 1] += 1;
        }
        for p in 1..starts.len() {
            starts[p] += starts[p - 1];
        }
        KeyDirectory { shift, starts }
    }

    /// The range of the base array holding every entry of `key`.
    fn range(&self, key: u32) -> std::ops::Range<usize> {
        let prefix = (u64::from(key) >> self.shift) as usize;
        match (self.starts.get(prefix), self.starts.get(prefix + 1)) {
            (Some(&start), Some(&end)) => start as usize..end as usize,
            _ => 0..0,
        }
    }
}

/// Below this many recent documents the recent entries are never merged.
const MIN_MERGE: usize = 1 << 16;

impl BandIndex {
    pub(super) fn new(bands: usize) -> Self {
        BandIndex {
            base: vec![Vec::new(); bands],
            directories: vec![KeyDirectory::build(&[]); bands],
            recent: (0..bands).map(|_| RecentBand::default()).collect(),
            recent_docs: 0,
            base_docs: 0,
        }
    }

    pub(super) fn set_base(&mut self, base: Vec<Vec<u64>>) {
        self.base_docs = base.first().map_or(0, Vec::len);
        self.directories = base
            .par_iter()
            .map(|band| KeyDirectory::build(band))
            .collect();
        self.base = base;
    }

    /// Appends to `out` the newest `limit` slots with `key` in `band` (all of them when
    /// there are fewer). A bucket of a wire story's thousands of near-copies then costs
    /// each new copy `limit` comparisons, not one per earlier copy: the newest members
    /// are of its family as much as the first ones are, and it joins the cluster through
    /// them, as the batch path's oversized buckets join through their pivots.
    pub(super) fn lookup(&self, band: usize, key: u32, out: &mut Vec<u32>, limit: usize) {
        let before = out.len();
        out.extend(self.recent[band].slots(key).take(limit));
        let wanted = limit - (out.len() - before);
        if wanted == 0 {
            return;
        }
        let base = &self.base[band][self.directories[band].range(key)];
        let key = u64::from(key);
        let start = base.partition_point(|&e| e >> 32 < key);
        let end = base.partition_point(|&e| e >> 32 <= key);
        let first = end - wanted.min(end - start);
        out.extend(base[first..end].iter().rev().map(|&e| e as u32));
    }

    pub(super) fn insert(&mut self, slot: u32, keys: &[u32]) {
        for (recent, &key) in self.recent.iter_mut().zip(keys) {
            recent.insert(key, slot);
        }
        self.recent_docs += 1;
    }

    /// Merges the recent entries into the base once they have grown enough.
    pub(super) fn maybe_merge(&mut self) {
        if self.recent_docs > MIN_MERGE.max(self.base_docs / 8) {
            self.merge();
        }
    }

    /// Folds the recent entries into the sorted base arrays.
    pub(super) fn merge(&mut self) {
        let recent = std::mem::take(&mut self.recent);
        let merged: Vec<Vec<u64>> = std::mem::take(&mut self.base)
            .into_par_iter()
            .zip(recent.into_par_iter())
            .map(|(mut base, recent)| {
                base.extend(recent.packed());
                base.sort_unstable();
                base
            })
            .collect();
        self.recent = (0..merged.len()).map(|_| RecentBand::default()).collect();
        self.set_base(merged);
        self.recent_docs = 0;
    }

    /// Band `band`'s entries for live slots, renumbered by `new_slot` (u32::MAX: gone),
    /// sorted: the form stored in files.
    pub(super) fn sorted_band(&self, band: usize, new_slot: &[u32]) -> Vec<u64> {
        let renumber = |key: u64, slot: u32| {
            let new = new_slot[slot as usize];
            (new != u32::MAX).then_some(key << 32 | u64::from(new))
        };
        let mut entries: Vec<u64> = self.base[band]
            .iter()
            .filter_map(|&e| renumber(e >> 32, e as u32))
            .chain(
                self.recent[band]
                    .packed()
                    .filter_map(|e| renumber(e >> 32, e as u32)),
            )
            .collect();
        entries.sort_unstable();
        entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_entries_chain_every_slot_of_a_key_newest_first() {
        let mut band = RecentBand::default();
        for (key, slot) in [(7, 0), (9, 1), (7, 2), (7, 3), (u32::MAX, 4)] {
            band.insert(key, slot);
        }
        assert_eq!(band.slots(7).collect::<Vec<_>>(), [3, 2, 0]);
        assert_eq!(band.slots(9).collect::<Vec<_>>(), [1]);
        assert_eq!(band.slots(u32::MAX).collect::<Vec<_>>(), [4]);
        assert_eq!(band.slots(8).count(), 0);
        let mut packed: Vec<u64> = band.packed().collect();
        packed.sort_unstable();
        let pack = |key: u64, slot: u64| key << 32 | slot;
        assert_eq!(
            packed,
            [
                pack(7, 0),
                pack(7, 2),
                pack(7, 3),
                pack(9, 1),
                pack(u64::from(u32::MAX), 4)
            ]
        );
    }

    proptest::proptest! {
        /// A key's directory range holds every base entry of that key, whatever the
        /// array's length (none, one prefix, many) and however keys cluster.
        #[test]
        fn a_key_directory_range_holds_all_of_its_keys_entries(
            keys in proptest::collection::vec(proptest::prop_oneof![
                proptest::num::u32::ANY,
                0u32..4,
                (u32::MAX - 3)..=u32::MAX,
            ], 0..1000),
            probe in proptest::num::u32::ANY,
        ) {
            let mut entries: Vec<u64> = keys
                .iter()
                .enumerate()
                .map(|(slot, &key)| u64::from(key) << 32 | slot as u64)
                .collect();
            entries.sort_unstable();
            let directory = KeyDirectory::build(&entries);
            for key in keys.iter().copied().chain([probe, 0, u32::MAX]) {
                let range = directory.range(key);
                let inside = entries[range].iter().filter(|&&e| (e >> 32) as u32 == key).count();
                let all = entries.partition_point(|&e| e >> 32 <= u64::from(key))
                    - entries.partition_point(|&e| e >> 32 < u64::from(key));
                proptest::prop_assert_eq!(inside, all, "key {}", key);
            }
        }
    }

    #[test]
    fn lookups_take_the_newest_entries_up_to_the_limit() {
        let mut index = BandIndex::new(1);
        for slot in 0..10 {
            index.insert(slot, &[5]);
            if slot == 5 {
                index.merge();
            }
        }
        let newest = |limit: usize| {
            let mut out = Vec::new();
            index.lookup(0, 5, &mut out, limit);
            out
        };
        // Recent entries (6..10) first, newest first, then the base's newest.
        assert_eq!(newest(3), [9, 8, 7]);
        assert_eq!(newest(6), [9, 8, 7, 6, 5, 4]);
        assert_eq!(newest(100).len(), 10);
        assert!(newest(0).is_empty());
    }

    #[test]
    fn lookups_find_entries_before_and_after_a_merge() {
        let mut index = BandIndex::new(2);
        index.insert(0, &[5, 6]);
        index.insert(1, &[5, 8]);
        let found = |index: &BandIndex, band: usize, key: u32| {
            let mut out = Vec::new();
            index.lookup(band, key, &mut out, usize::MAX);
            out.sort_unstable();
            out
        };
        assert_eq!(found(&index, 0, 5), [0, 1]);
        assert_eq!(found(&index, 1, 8), [1]);
        index.merge();
        index.insert(2, &[5, 6]);
        assert_eq!(found(&index, 0, 5), [0, 1, 2]);
        assert_eq!(found(&index, 1, 6), [0, 2]);
        assert_eq!(
            index.recent[0].slots(5).collect::<Vec<_>>(),
            [2],
            "only since the merge"
        );
    }
}
