//! Stage 7: clustering. Connected components of the verified-pair graph by union-find
//! (union by size, path halving), then a deterministic order: members by input position;
//! clusters largest first, ties by their earliest member. Every document is in exactly
//! one cluster, singletons included. Never does I/O.

use std::str::FromStr;

use serde::Serialize;

use crate::doc::DocIndex;
use crate::verify::ScoredPair;

/// Which member stands for a cluster (kept by dedup, listed first in reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeepPolicy {
    /// The member that came first in the input: stable, and usually the original wire copy
    /// when feeds are read in arrival order.
    #[default]
    First,
    /// The member with the most text (bytes), ties to the earliest: keeps the fullest copy
    /// when republishers truncate.
    Longest,
}

impl FromStr for KeepPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "first" => Ok(KeepPolicy::First),
            "longest" => Ok(KeepPolicy::Longest),
            _ => Err(format!("keep policy must be first or longest, got {s:?}")),
        }
    }
}

/// A group of documents connected by verified pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cluster {
    /// Members in input order.
    pub members: Vec<DocIndex>,
    /// The member chosen by the [`KeepPolicy`].
    pub representative: DocIndex,
}

/// Disjoint sets over `0..n`.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<DocIndex>,
    size: Vec<u32>,
}

impl UnionFind {
    /// n singletons.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as DocIndex).collect(),
            size: vec![1; n],
        }
    }

    /// The root of `x`'s set.
    pub fn find(&mut self, mut x: DocIndex) -> DocIndex {
        while self.parent[x as usize] != x {
            let grandparent = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
        x
    }

    /// Merges the sets of `a` and `b`.
    pub fn union(&mut self, a: DocIndex, b: DocIndex) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
    }
}

/// Clusters `n` documents connected by `pairs`; `lengths[i]` is document i's size for
/// [`KeepPolicy::Longest`].
pub fn connected_components(
    n: usize,
    pairs: &[ScoredPair],
    lengths: &[usize],
    keep: KeepPolicy,
) -> Vec<Cluster> {
    let mut sets = UnionFind::new(n);
    for pair in pairs {
        sets.union(pair.a, pair.b);
    }
    // Group by root; visiting documents in order keeps members sorted and makes the first
    // member of each group its earliest.
    let mut group_of_root: Vec<Option<usize>> = vec![None; n];
    let mut groups: Vec<Vec<DocIndex>> = Vec::new();
    for doc in 0..n as DocIndex {
        let root = sets.find(doc) as usize;
        let group = *group_of_root[root].get_or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(doc);
    }
    let mut clusters: Vec<Cluster> = groups
        .into_iter()
        .map(|members| {
            let representative = choose_representative(&members, lengths, keep);
            Cluster {
                members,
                representative,
            }
        })
        .collect();
    clusters.sort_by(|x, y| {
        y.members
            .len()
            .cmp(&x.members.len())
            .then(x.members[0].cmp(&y.members[0]))
    });
    clusters
}

fn choose_representative(members: &[DocIndex], lengths: &[usize], keep: KeepPolicy) -> DocIndex {
    match keep {
        KeepPolicy::First => members[0],
        KeepPolicy::Longest => {
            let mut best = members[0];
            for &m in &members[1..] {
                if lengths[m as usize] > lengths[best as usize] {
                    best = m;
                }
            }
            best
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: DocIndex, b: DocIndex) -> ScoredPair {
        ScoredPair { a, b, jaccard: 1.0 }
    }

    #[test]
    fn components_are_transitive_and_ordered() {
        let pairs = [pair(3, 5), pair(0, 4), pair(4, 6), pair(1, 2)];
        let clusters = connected_components(8, &pairs, &[1; 8], KeepPolicy::First);
        let members: Vec<Vec<DocIndex>> = clusters.iter().map(|c| c.members.clone()).collect();
        assert_eq!(members, [vec![0, 4, 6], vec![1, 2], vec![3, 5], vec![7]]);
        assert_eq!(clusters[0].representative, 0);
    }

    #[test]
    fn longest_policy_picks_most_text_ties_to_earliest() {
        let pairs = [pair(0, 1), pair(1, 2)];
        let clusters = connected_components(3, &pairs, &[10, 30, 30], KeepPolicy::Longest);
        assert_eq!(clusters[0].representative, 1);
    }

    #[test]
    fn no_pairs_means_all_singletons() {
        let clusters = connected_components(3, &[], &[1; 3], KeepPolicy::First);
        assert_eq!(clusters.len(), 3);
        assert!(clusters.iter().all(|c| c.members.len() == 1));
    }
}
