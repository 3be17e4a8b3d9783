//! Stage 6: verification. Scores each candidate pair by exact Jaccard similarity of the
//! two exact shingle sets (never by the signature estimate, whose ±0.044 error at k = 128
//! would put pairs near the threshold on the wrong side) and keeps those at or above the
//! threshold. The rule itself is [`Engine::similarity`](crate::record::Engine), shared by
//! every path; this module holds the verified pair and the batch form over plain sets.
//! Never does I/O.

use rayon::prelude::*;
use serde::Serialize;

use crate::doc::DocIndex;
use crate::shingle::jaccard_u32;

/// A verified pair and its exact similarity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoredPair {
    /// The earlier document.
    pub a: DocIndex,
    /// The later document.
    pub b: DocIndex,
    /// Exact Jaccard similarity of their shingle sets.
    pub jaccard: f64,
}

impl ScoredPair {
    /// Document `copy` with the earlier `first` whose exact set it repeats.
    pub fn copy(first: DocIndex, copy: DocIndex) -> ScoredPair {
        ScoredPair {
            a: first,
            b: copy,
            jaccard: 1.0,
        }
    }
}

/// Keeps the candidate pairs whose exact Jaccard is ≥ `threshold`, without a prefilter
/// (for callers that hold sets but no signatures).
pub fn verify_pairs(
    candidates: &[(DocIndex, DocIndex)],
    sets: &[Box<[u32]>],
    threshold: f64,
) -> Vec<ScoredPair> {
    candidates
        .par_iter()
        .filter_map(|&(a, b)| {
            let j = jaccard_u32(&sets[a as usize], &sets[b as usize]);
            (j >= threshold).then_some(ScoredPair { a, b, jaccard: j })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_pairs_at_or_above_threshold() {
        let sets: Vec<Box<[u32]>> = vec![
            Box::new([1, 2, 3, 4]),
            Box::new([1, 2, 3, 5]),
            Box::new([1, 9, 10, 11]),
        ];
        let kept = verify_pairs(&[(0, 1), (0, 2), (1, 2)], &sets, 0.6);
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].a, kept[0].b), (0, 1));
        assert!((kept[0].jaccard - 0.6).abs() < 1e-12);
    }
}
