//! The state behind the index's lock: matching a record against the stored documents,
//! storing it (copy groups, links, components), and removing documents.

use super::*;
use crate::lsh::MAX_BUCKET_PIVOTS;

impl State {
    /// The exact set of `slot` (its group's).
    pub(super) fn set_of(&self, slot: u32) -> &[u32] {
        &self.groups[self.group_of[slot as usize] as usize].set
    }

    pub(super) fn signature_of(&self, slot: u32) -> &[u32] {
        let k = self.num_perm;
        &self.signatures[slot as usize * k..(slot as usize + 1) * k]
    }

    /// Stored documents matching `record`, most similar first: group holders only, so
    /// an exact copy of stored documents meets the first of them.
    pub(super) fn matches(&self, record: &DocRecord, engine: &Engine) -> Vec<Match> {
        let Some(keys) = &record.keys else {
            return Vec::new();
        };
        let mut candidates: Vec<u32> = Vec::new();
        for (band, &key) in keys.iter().enumerate() {
            self.buckets
                .lookup(band, key, &mut candidates, MAX_BUCKET_PIVOTS);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut found: Vec<(u32, Match)> = candidates
            .into_iter()
            // Index files written before copies were left out of the buckets hold every
            // copy's keys: only holders are compared (a copy's holder is a candidate too).
            .filter(|&s| self.alive[s as usize] && self.is_holder(s))
            .filter_map(|s| {
                let stored = self.set_of(s);
                let shared = engine.shared_if_similar(
                    &record.set,
                    &record.signature,
                    stored,
                    self.signature_of(s),
                )?;
                let shared_f = shared as f64;
                let m = Match {
                    id: self.ids[s as usize].clone(),
                    jaccard: jaccard_from_counts(shared, record.set.len(), stored.len()),
                    containment_of_query: shared_f / record.set.len().max(1) as f64,
                    containment_of_stored: shared_f / stored.len().max(1) as f64,
                    cluster: self.cluster_name_readonly(s),
                };
                Some((s, m))
            })
            .collect();
        found.sort_by(|a, b| b.1.jaccard.total_cmp(&a.1.jaccard).then(a.0.cmp(&b.0)));
        found.into_iter().map(|(_, m)| m).collect()
    }

    pub(super) fn is_holder(&self, slot: u32) -> bool {
        self.groups[self.group_of[slot as usize] as usize].holder == slot
    }

    /// Stores `p` after matching it against what is stored.
    pub(super) fn insert(&mut self, p: Prepared, engine: &Engine) -> Result<Decision> {
        if self.by_id.contains_key(&p.id) {
            return Err(Error::DuplicateId(p.id));
        }
        let matches = self.matches(&p.record, engine);
        let new_slot = self.ids.len() as u32;
        let group = self.group_for(&p.record, new_slot);
        let copy = self.groups[group as usize].holder != new_slot;
        // A copy's only link is implicit (its holder); a new text links to every match.
        let links: Vec<(u32, f32)> = if copy {
            Vec::new()
        } else {
            matches
                .iter()
                .map(|m| (self.by_id[&m.id], m.jaccard as f32))
                .collect()
        };
        let copied_story = matches
            .first()
            .map(|m| self.story_of[self.by_id[&m.id] as usize]);
        let tracking = self.tracker.enabled();
        self.tracker.count(&p.terms);
        let (story, story_score) =
            self.tracker
                .assign(&p.terms, p.record.published, copied_story, new_slot);
        let id = p.id.clone();
        let slot = self.push(p, group, links.clone(), true, story);
        for &(other, j) in &links {
            self.links[other as usize].push((slot, j));
            self.join(slot, other);
        }
        if copy {
            self.join(slot, self.groups[group as usize].holder);
        }
        // Cluster names may have changed with this document's links.
        let mut matches = matches;
        for m in &mut matches {
            let other = self.by_id[&m.id];
            m.cluster = self.cluster_name(other);
        }
        let cluster = self.cluster_name(slot);
        Ok(Decision {
            id,
            matches,
            cluster,
            story: tracking.then(|| self.ids[story as usize].clone()),
            story_score: tracking.then_some(story_score),
        })
    }

    /// The group `record` (to be stored at `slot`) belongs to: the group of a stored
    /// document with an equal exact set, or a new group held by `slot`. A record without
    /// shingles is a group of its own (it matches nothing, not even its copies).
    pub(super) fn group_for(&mut self, record: &DocRecord, slot: u32) -> u32 {
        let new_group = self.groups.len() as u32;
        let existing = if record.set.is_empty() {
            None
        } else {
            let groups = &self.groups;
            self.firsts
                .representative(new_group, record.fingerprint, &record.set, |g| {
                    &groups[g as usize].set
                })
        };
        match existing {
            Some(group) => {
                self.groups[group as usize].later.push_back(slot);
                group
            }
            None => {
                self.groups.push(CopyGroup {
                    holder: slot,
                    set: record.set.clone(),
                    keys: record.keys.clone(),
                    fingerprint: record.fingerprint,
                    later: Default::default(),
                });
                new_group
            }
        }
    }

    /// Appends a slot in `group` (links given from the new slot's side only). A new
    /// group's band keys go into the recent entries if `index_keys` (not when the loaded
    /// base arrays hold them).
    pub(super) fn push(
        &mut self,
        p: Prepared,
        group: u32,
        links: Vec<(u32, f32)>,
        index_keys: bool,
        story: u32,
    ) -> u32 {
        debug_assert_eq!(p.record.signature.len(), self.num_perm);
        self.signatures.extend_from_slice(&p.record.signature);
        let slot = self.ids.len() as u32;
        let holder = &self.groups[group as usize];
        if let (Some(keys), true, true) = (&holder.keys, index_keys, holder.holder == slot) {
            self.buckets.insert(slot, keys);
        }
        if let Some(t) = p.record.published {
            self.newest_published = Some(self.newest_published.map_or(t, |n| n.max(t)));
        }
        self.by_id.insert(p.id.clone(), slot);
        self.ids.push(p.id);
        self.published.push(p.record.published);
        self.alive.push(true);
        self.group_of.push(group);
        self.terms.push(p.terms);
        self.story_of.push(story);
        self.links.push(links);
        self.components.push();
        self.first_of_root.push(slot);
        slot
    }

    pub(super) fn join(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.components.find(a), self.components.find(b));
        if ra == rb {
            return;
        }
        let first = self.first_of_root[ra as usize].min(self.first_of_root[rb as usize]);
        self.components.union(a, b);
        let root = self.components.find(a);
        self.first_of_root[root as usize] = first;
    }

    pub(super) fn cluster_name(&mut self, slot: u32) -> String {
        let root = self.components.find(slot);
        self.ids[self.first_of_root[root as usize] as usize].clone()
    }

    pub(super) fn cluster_name_readonly(&self, slot: u32) -> String {
        let root = self.components.find_readonly(slot);
        self.ids[self.first_of_root[root as usize] as usize].clone()
    }

    /// Marks `slot` removed. A group holder hands its place (bucket entries, links) to
    /// the earliest alive member of its group. Links naming removed slots stay until
    /// [`State::prune_links`], so that removing many documents costs one pass.
    pub(super) fn forget(&mut self, slot: u32) {
        let s = slot as usize;
        self.alive[s] = false;
        self.by_id.remove(&self.ids[s]);
        let terms = std::mem::take(&mut self.terms[s]);
        self.tracker.uncount(&terms);
        let g = self.group_of[s] as usize;
        if self.groups[g].holder != slot {
            return;
        }
        let heir = loop {
            match self.groups[g].later.pop_front() {
                Some(next) if self.alive[next as usize] => break Some(next),
                Some(_) => continue,
                None => break None,
            }
        };
        let links = std::mem::take(&mut self.links[s]);
        let group = &mut self.groups[g];
        match heir {
            Some(heir) => {
                group.holder = heir;
                // Band entries of removed slots stay until the index is saved and opened
                // again (lookups skip them); the heir's are added now.
                if let Some(keys) = group.keys.clone() {
                    self.buckets.insert(heir, &keys);
                }
                // Same set, same Jaccard: every link of the old holder is the heir's.
                for (other, j) in links {
                    if self.alive[other as usize] {
                        self.links[other as usize].push((heir, j));
                        self.links[heir as usize].push((other, j));
                    }
                }
            }
            None => {
                let fingerprint = group.fingerprint;
                group.set = Box::new([]);
                group.keys = None;
                self.firsts.forget(g as u32, fingerprint);
            }
        }
    }

    /// Drops links to removed slots.
    pub(super) fn prune_links(&mut self) {
        let alive = &self.alive;
        for links in &mut self.links {
            links.retain(|&(other, _)| alive[other as usize]);
        }
    }

    /// Components from scratch: every alive slot joins its group's holder and its links.
    pub(super) fn rebuild_components(&mut self) {
        let n = self.ids.len();
        self.components = UnionFind::new(n);
        self.first_of_root = (0..n as u32).collect();
        for slot in 0..n as u32 {
            if !self.alive[slot as usize] {
                continue;
            }
            let holder = self.groups[self.group_of[slot as usize] as usize].holder;
            if holder != slot {
                self.join(slot, holder);
            }
            for i in 0..self.links[slot as usize].len() {
                let other = self.links[slot as usize][i].0;
                self.join(slot, other);
            }
        }
    }
}
