//! Stage 7: clustering. Connected components of the verified-pair graph by union-find
//! (union by size, path halving), then a deterministic order: members by input position;
//! clusters largest first, ties by their earliest member. Every document is in exactly
//! one cluster, singletons included. Never does I/O.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::doc::DocIndex;
use crate::verify::ScoredPair;

/// Which member stands for a cluster (kept by dedup, listed first in reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeepPolicy {
    /// The member that came first in the input: stable, and usually the original wire copy
    /// when feeds are read in arrival order.
    #[default]
    First,
    /// The member with the longest text (bytes of the text field after JSON unescaping,
    /// or of a `.txt` file; title, URL and other fields do not count), ties to the
    /// earliest: keeps the fullest copy when republishers truncate. Every path
    /// (`cluster`, `dedup`, the index, Python) compares the same length.
    Longest,
    /// The member with the earliest `published` time, ties (and members without a
    /// parsable time, which rank last) to input order: keeps the original publication.
    Earliest,
}

impl std::fmt::Display for KeepPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeepPolicy::First => "first",
            KeepPolicy::Longest => "longest",
            KeepPolicy::Earliest => "earliest",
        })
    }
}

impl FromStr for KeepPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "first" => Ok(KeepPolicy::First),
            "longest" => Ok(KeepPolicy::Longest),
            "earliest" => Ok(KeepPolicy::Earliest),
            _ => Err(format!(
                "keep policy must be first, longest or earliest, got {s:?}"
            )),
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
#[derive(Debug, Clone, Default)]
pub(crate) struct UnionFind {
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

    /// Adds one singleton set (element `len()`).
    pub fn push(&mut self) {
        self.parent.push(self.parent.len() as DocIndex);
        self.size.push(1);
    }

    /// The root of `x`'s set, without compressing paths (for shared access).
    pub fn find_readonly(&self, mut x: DocIndex) -> DocIndex {
        while self.parent[x as usize] != x {
            x = self.parent[x as usize];
        }
        x
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

/// The kept document of each of `n` documents: its cluster's representative (itself
/// when it is kept). The one member → kept mapping of `dedup`, `cluster` and Python.
pub fn kept_of(n: usize, clusters: &[Cluster]) -> Vec<DocIndex> {
    let mut kept: Vec<DocIndex> = (0..n as DocIndex).collect();
    for cluster in clusters.iter().filter(|c| c.members.len() > 1) {
        for &m in &cluster.members {
            kept[m as usize] = cluster.representative;
        }
    }
    kept
}

/// What the keep policies need to know of each document.
#[derive(Debug, Clone, Default)]
pub struct DocFacts {
    /// Text length in bytes, by document.
    pub lengths: Vec<usize>,
    /// Publication time in Unix seconds, by document (None: unknown).
    pub published: Vec<Option<i64>>,
}

impl DocFacts {
    /// The facts of `records`, by position.
    pub fn of_records(records: &[crate::record::DocRecord]) -> DocFacts {
        DocFacts {
            lengths: records.iter().map(|r| r.text_len).collect(),
            published: records.iter().map(|r| r.published).collect(),
        }
    }
}

/// Clusters `n` documents connected by `pairs`, choosing representatives by `keep`.
pub fn connected_components(
    n: usize,
    pairs: &[ScoredPair],
    facts: &DocFacts,
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
            let representative = choose_representative(&members, facts, keep);
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

/// The member `keep` picks: `members` in input order, every tie to the earliest.
pub fn choose_representative(members: &[DocIndex], facts: &DocFacts, keep: KeepPolicy) -> DocIndex {
    // `min_by_key` keeps the first of equal keys, and members are in input order, so every
    // tie goes to the earliest input.
    let best = match keep {
        KeepPolicy::First => members.first(),
        KeepPolicy::Longest => members
            .iter()
            .min_by_key(|&&m| std::cmp::Reverse(facts.lengths[m as usize])),
        KeepPolicy::Earliest => members
            .iter()
            .min_by_key(|&&m| facts.published[m as usize].map_or((1, 0), |t| (0, t))),
    };
    *best.expect("clusters are never empty")
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
        let facts = DocFacts {
            lengths: vec![1; 8],
            published: vec![None; 8],
        };
        let clusters = connected_components(8, &pairs, &facts, KeepPolicy::First);
        let members: Vec<Vec<DocIndex>> = clusters.iter().map(|c| c.members.clone()).collect();
        assert_eq!(members, [vec![0, 4, 6], vec![1, 2], vec![3, 5], vec![7]]);
        assert_eq!(clusters[0].representative, 0);
    }

    #[test]
    fn longest_policy_picks_most_text_ties_to_earliest() {
        let pairs = [pair(0, 1), pair(1, 2)];
        let facts = DocFacts {
            lengths: vec![10, 30, 30],
            published: vec![None, Some(50), Some(20)],
        };
        let clusters = connected_components(3, &pairs, &facts, KeepPolicy::Longest);
        assert_eq!(clusters[0].representative, 1);
        let clusters = connected_components(3, &pairs, &facts, KeepPolicy::Earliest);
        assert_eq!(
            clusters[0].representative, 2,
            "dated members rank before undated ones"
        );
    }

    #[test]
    fn no_pairs_means_all_singletons() {
        let facts = DocFacts {
            lengths: vec![1; 3],
            published: vec![None; 3],
        };
        let clusters = connected_components(3, &[], &facts, KeepPolicy::First);
        assert_eq!(clusters.len(), 3);
        assert!(clusters.iter().all(|c| c.members.len() == 1));
    }
}
