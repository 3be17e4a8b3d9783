//! The LSH buckets of documents not yet committed (committed ones are in their
//! segments' sorted band arrays).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::minhash::Prehashed;

/// The band buckets of uncommitted documents (committed ones are in their segments'
/// sorted band arrays): per band, chains of entries through one vector.
#[derive(Debug, Default)]
pub(super) struct MemBands {
    bands: Vec<RecentBand>,
}

/// One band's entries since the last commit, as chains through one vector: a document
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
    #[cfg(test)]
    fn packed(&self) -> impl Iterator<Item = u64> + '_ {
        self.newest.keys().flat_map(|&key| {
            self.slots(key)
                .map(move |slot| u64::from(key) << 32 | u64::from(slot))
        })
    }
}

impl MemBands {
    pub(super) fn new(bands: usize) -> Self {
        MemBands {
            bands: (0..bands).map(|_| RecentBand::default()).collect(),
        }
    }

    /// Appends to `out` the newest `limit` documents with `key` in `band` (all of them
    /// when there are fewer). A bucket of a wire story's thousands of near-copies then
    /// costs each new copy `limit` comparisons, not one per earlier copy: the newest
    /// members are of its family as much as the first ones are, and it joins the cluster
    /// through them, as the batch path's oversized buckets join through their pivots.
    pub(super) fn lookup(&self, band: usize, key: u32, out: &mut Vec<u32>, limit: usize) {
        if let Some(recent) = self.bands.get(band) {
            out.extend(recent.slots(key).take(limit));
        }
    }

    pub(super) fn insert(&mut self, doc: u32, keys: &[u32]) {
        for (recent, &key) in self.bands.iter_mut().zip(keys) {
            recent.insert(key, doc);
        }
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

    #[test]
    fn lookups_take_the_newest_entries_up_to_the_limit() {
        let mut index = MemBands::new(2);
        for doc in 0..10 {
            index.insert(doc, &[5, doc]);
        }
        let newest = |limit: usize| {
            let mut out = Vec::new();
            index.lookup(0, 5, &mut out, limit);
            out
        };
        assert_eq!(newest(3), [9, 8, 7]);
        assert_eq!(newest(100).len(), 10);
        assert!(newest(0).is_empty());
        let mut out = Vec::new();
        index.lookup(1, 4, &mut out, 100);
        assert_eq!(out, [4]);
    }
}
