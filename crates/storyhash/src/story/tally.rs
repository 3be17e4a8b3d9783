//! Counting lines and sentences across the batches a story-tracking index learns from
//! ([`crate::Index::learn_story_lines`]), so that a feed arriving a few articles at a
//! time still finds each site's boilerplate, as `stories` finds it in one corpus.
//!
//! Per site (a document's source, see [`super::lines`]), a tally keeps how many
//! documents it counted and a Misra–Gries summary of its line keys: at most
//! [`SITE_COUNTERS`] counters; a key not held when all are taken lowers every counter by
//! one instead. A counter never exceeds the true number of documents holding its line
//! and falls short of it by at most the site's counted units over `SITE_COUNTERS + 1`.
//! A page has 30-60 distinct lines and sentences, so a counter falls short by at most 3-6%
//! of the site's pages: a line on more than 26% of them is always seen above the fifth
//! [`BOILERPLATE_SHARE`] asks, and a line the tally names is on more than a fifth of
//! them. The summary can miss a line `stories` would find, never name one it would not.
//!
//! A site's counts are halved when it reaches [`SITE_HORIZON`] documents, so its shares
//! describe its last one to two thousand pages: after a redesign the new footer is
//! learned within a few hundred pages, however long the index has lived. At most
//! [`MAX_SITES`] sites are kept (when half as many again have come, those with the fewest
//! documents are dropped), so a tally never takes more than about 19 MB (12 bytes a
//! counter) however many sites a feed has; a site needs [`BOILERPLATE_MIN_DOCUMENTS`]
//! documents before any of its lines counts anyway.

use std::collections::HashMap;

use super::attach::{BOILERPLATE_MIN_DOCUMENTS, BOILERPLATE_SHARE};
use crate::minhash::PrehashedMap;

/// Counters a site keeps.
pub(crate) const SITE_COUNTERS: usize = 1024;
/// Documents at which a site's counts are halved.
pub(crate) const SITE_HORIZON: u64 = 2048;
/// Sites a tally keeps.
pub(crate) const MAX_SITES: usize = 1024;

/// Per-site document counts and line counters (module docs). A tally made
/// [`LineTally::exact`] counts every key and never forgets: the counts of one batch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineTally {
    sites: PrehashedMap<u64, SiteTally>,
    bounded: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct SiteTally {
    documents: u64,
    counters: PrehashedMap<u64, u64>,
}

impl Default for LineTally {
    fn default() -> Self {
        LineTally::bounded()
    }
}

impl LineTally {
    /// An empty tally within the module's bounds: what an index keeps.
    pub(crate) fn bounded() -> LineTally {
        LineTally {
            sites: PrehashedMap::default(),
            bounded: true,
        }
    }

    /// An empty tally that counts exactly, without bounds.
    pub(crate) fn exact() -> LineTally {
        LineTally {
            sites: PrehashedMap::default(),
            bounded: false,
        }
    }

    /// Counts one document of `source` holding the line keys `keys` (distinct).
    pub(crate) fn count_document(&mut self, source: u64, keys: &[u64]) {
        let site = self.sites.entry(source).or_default();
        site.documents += 1;
        for &key in keys {
            if let Some(count) = site.counters.get_mut(&key) {
                *count += 1;
            } else if !self.bounded || site.counters.len() < SITE_COUNTERS {
                site.counters.insert(key, 1);
            } else {
                // Misra–Gries: the new key's one and one of every held key cancel.
                site.counters.retain(|_, count| {
                    *count -= 1;
                    *count > 0
                });
            }
        }
        if self.bounded && site.documents >= SITE_HORIZON {
            site.documents /= 2;
            site.counters.retain(|_, count| {
                *count /= 2;
                *count > 0
            });
        }
        if self.bounded && self.sites.len() >= MAX_SITES + MAX_SITES / 2 {
            self.forget_smallest_sites();
        }
    }

    /// Keeps the [`MAX_SITES`] sites with the most documents (ties by key).
    fn forget_smallest_sites(&mut self) {
        let mut sizes: Vec<(u64, u64)> = self
            .sites
            .iter()
            .map(|(&source, site)| (site.documents, source))
            .collect();
        sizes.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, source) in &sizes[MAX_SITES..] {
            self.sites.remove(&source);
        }
    }

    /// The share of `source`'s documents holding the line `key`, when it makes the line
    /// boilerplate (a site of at least [`BOILERPLATE_MIN_DOCUMENTS`] documents, more
    /// than [`BOILERPLATE_SHARE`] of them).
    pub(crate) fn boilerplate_share(&self, source: u64, key: u64) -> Option<f64> {
        let site = self.sites.get(&source)?;
        let count = *site.counters.get(&key)?;
        let share = count as f64 / site.documents as f64;
        (site.documents >= BOILERPLATE_MIN_DOCUMENTS && share > BOILERPLATE_SHARE).then_some(share)
    }

    /// The bytes an index stores: the site count, then per site in key order its key,
    /// documents and counter count, then its counters (key, count) in key order, all
    /// little-endian (u64, u64, u32; u64, u32: a count stays under [`SITE_HORIZON`]).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.sites.len() as u32).to_le_bytes());
        let mut sites: Vec<_> = self.sites.iter().collect();
        sites.sort_unstable_by_key(|(&source, _)| source);
        for (&source, site) in sites {
            out.extend_from_slice(&source.to_le_bytes());
            out.extend_from_slice(&site.documents.to_le_bytes());
            out.extend_from_slice(&(site.counters.len() as u32).to_le_bytes());
            let mut counters: Vec<(u64, u64)> =
                site.counters.iter().map(|(&k, &c)| (k, c)).collect();
            counters.sort_unstable();
            for (key, count) in counters {
                out.extend_from_slice(&key.to_le_bytes());
                out.extend_from_slice(&(count as u32).to_le_bytes());
            }
        }
        out
    }

    /// Reads [`LineTally::to_bytes`]'s bytes as a bounded tally, refusing (with what is
    /// wrong) anything it could not have written: more sites or counters than the
    /// bounds, keys out of order, a counter above its site's documents, bytes missing or
    /// left over.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<LineTally, String> {
        let mut r = Reader { rest: bytes };
        let sites = r.u32()? as usize;
        if sites >= MAX_SITES + MAX_SITES / 2 {
            return Err(format!("{sites} sites, more than a tally keeps"));
        }
        let mut tally = LineTally::bounded();
        let mut previous_source = None;
        for _ in 0..sites {
            let source = r.u64()?;
            let documents = r.u64()?;
            let n = r.u32()? as usize;
            if previous_source.is_some_and(|p| p >= source) {
                return Err("sites out of order".into());
            }
            previous_source = Some(source);
            if n > SITE_COUNTERS || documents >= SITE_HORIZON {
                return Err(format!(
                    "a site of {documents} documents with {n} counters, more than a tally keeps"
                ));
            }
            let mut counters = HashMap::with_capacity_and_hasher(n, Default::default());
            let mut previous_key = None;
            for _ in 0..n {
                let (key, count) = (r.u64()?, u64::from(r.u32()?));
                if previous_key.is_some_and(|p| p >= key) {
                    return Err("counters out of order".into());
                }
                previous_key = Some(key);
                if count == 0 || count > documents {
                    return Err(format!(
                        "a counter of {count} in a site of {documents} documents"
                    ));
                }
                counters.insert(key, count);
            }
            tally.sites.insert(
                source,
                SiteTally {
                    documents,
                    counters,
                },
            );
        }
        if !r.rest.is_empty() {
            return Err(format!("{} bytes after the last site", r.rest.len()));
        }
        Ok(tally)
    }
}

/// Little-endian numbers read off the front of a byte slice.
struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        if self.rest.len() < N {
            return Err("truncated".into());
        }
        let (head, rest) = self.rest.split_at(N);
        self.rest = rest;
        let mut out = [0u8; N];
        out.copy_from_slice(head);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.take().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, String> {
        self.take().map(u64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `documents` pages of one site, each holding the footer (key 1) when `footer(d)`
    /// and otherwise `own` keys of its own.
    fn site(tally: &mut LineTally, documents: u64, own: u64, footer: impl Fn(u64) -> bool) {
        for d in 0..documents {
            let mut keys: Vec<u64> = (0..own).map(|k| 1_000 + d * own + k).collect();
            if footer(d) {
                keys.push(1);
            }
            tally.count_document(7, &keys);
        }
    }

    #[test]
    fn a_line_on_every_page_is_found_through_many_unique_lines() {
        // 1,000 pages of 60 lines of their own: 60,000 keys through 1,024 counters.
        let mut tally = LineTally::bounded();
        site(&mut tally, 1_000, 60, |_| true);
        let share = tally
            .boilerplate_share(7, 1)
            .expect("the footer is boilerplate");
        assert!(share > 0.9, "{share}");
        assert!(tally.sites[&7].counters.len() <= SITE_COUNTERS);
        assert_eq!(tally.boilerplate_share(7, 1_000), None);
    }

    #[test]
    fn counters_never_overstate_and_miss_at_most_the_bound() {
        // On every third page: a share of 1/3, above a fifth.
        let mut tally = LineTally::bounded();
        site(&mut tally, 900, 40, |d| d % 3 == 0);
        let count = tally.sites[&7].counters.get(&1).copied().unwrap_or(0);
        // 900 × 41 units at most over 1,025: the Misra–Gries bound.
        let bound = 900 * 41 / (SITE_COUNTERS as u64 + 1);
        assert!(count <= 300 && count + bound >= 300, "{count}");
        assert!(tally.boilerplate_share(7, 1).is_some());
        // On one page in ten: never named, however the counters fell.
        let mut tally = LineTally::bounded();
        site(&mut tally, 900, 40, |d| d % 10 == 0);
        assert_eq!(tally.boilerplate_share(7, 1), None);
    }

    #[test]
    fn a_small_site_names_nothing_and_an_exact_tally_counts_exactly() {
        let mut tally = LineTally::exact();
        site(&mut tally, BOILERPLATE_MIN_DOCUMENTS - 1, 5, |_| true);
        assert_eq!(tally.boilerplate_share(7, 1), None);
        site(&mut tally, 1, 5, |_| true);
        assert_eq!(tally.boilerplate_share(7, 1), Some(1.0));
        // The second call's page repeats the first page's own lines: counted exactly.
        assert_eq!(tally.sites[&7].counters.len(), 5 * 49 + 1);
        assert_eq!(tally.sites[&7].counters[&1_000], 2);
    }

    #[test]
    fn a_new_footer_is_learned_after_a_long_life() {
        // 10,000 pages under an old footer (key 1), then a redesign (key 2).
        let mut tally = LineTally::bounded();
        site(&mut tally, 10_000, 20, |_| true);
        let mut learned_after = None;
        for d in 0..2_000u64 {
            tally.count_document(7, &[2, 50_000_000 + d]);
            if learned_after.is_none() && tally.boilerplate_share(7, 2).is_some() {
                learned_after = Some(d + 1);
            }
        }
        let after = learned_after.expect("the new footer is learned");
        assert!(after < SITE_HORIZON / 2, "{after}");
        assert!(tally.sites[&7].documents < SITE_HORIZON);
    }

    #[test]
    fn sites_beyond_the_bound_are_forgotten_smallest_first() {
        let mut tally = LineTally::bounded();
        for _ in 0..60 {
            tally.count_document(u64::MAX, &[1]);
        }
        for source in 0..(2 * MAX_SITES as u64) {
            tally.count_document(source, &[1]);
        }
        assert!(tally.sites.len() < MAX_SITES + MAX_SITES / 2);
        assert!(tally.boilerplate_share(u64::MAX, 1).is_some());
    }

    #[test]
    fn bytes_round_trip_and_damage_is_refused() {
        let mut tally = LineTally::bounded();
        site(&mut tally, 120, 3, |d| d % 2 == 0);
        tally.count_document(3, &[9, 4]);
        let bytes = tally.to_bytes();
        assert_eq!(LineTally::from_bytes(&bytes), Ok(tally.clone()));
        // Every truncation, and a byte more.
        for cut in 0..bytes.len() {
            assert!(
                LineTally::from_bytes(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(LineTally::from_bytes(&longer).is_err());
        // A counter above its site's documents (site 3 holds one document; its first
        // counter's count sits at bytes 4 + 20 + 8 ..).
        let mut forged = bytes.clone();
        forged[32..36].copy_from_slice(&5u32.to_le_bytes());
        let problem = LineTally::from_bytes(&forged).expect_err("a counter over its documents");
        assert!(problem.contains("counter of 5"), "{problem}");
        // A site count no tally holds.
        let mut forged = bytes;
        forged[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(LineTally::from_bytes(&forged)
            .expect_err("too many sites")
            .contains("sites"));
    }
}
