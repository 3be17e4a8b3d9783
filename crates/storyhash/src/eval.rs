//! Evaluation of a clustering against true labels: pairwise precision, recall and F1,
//! the adjusted Rand index, and the documents outside their cluster's majority label.
//! Used by the story tests, the generated-corpus tests (`synth::PairScores`) and the
//! benchmarks; the pipeline never calls it.

use std::collections::BTreeMap;

use serde::Serialize;

/// Pairwise scores and the adjusted Rand index of a labelling against the truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Agreement {
    /// Pairwise precision.
    pub precision: f64,
    /// Pairwise recall.
    pub recall: f64,
    /// Pairwise F1.
    pub f1: f64,
    /// Adjusted Rand index (Hubert and Arabie 1985): 1 for identical partitions, about
    /// 0 for a random one.
    pub adjusted_rand: f64,
    /// Documents outside the majority true label of their predicted cluster.
    pub misplaced_documents: usize,
    /// Pairs of documents in one predicted cluster.
    pub predicted_pairs: u64,
    /// Pairs of documents with one true label.
    pub true_pairs: u64,
}

/// Compares predicted clusters with true labels.
pub fn agreement(predicted: &[usize], truth: &[u32]) -> Agreement {
    let pairs = |n: u64| n * n.saturating_sub(1) / 2;
    let mut by_pred: BTreeMap<usize, u64> = BTreeMap::new();
    let mut by_true: BTreeMap<u32, u64> = BTreeMap::new();
    let mut both: BTreeMap<(usize, u32), u64> = BTreeMap::new();
    for (&p, &t) in predicted.iter().zip(truth) {
        *by_pred.entry(p).or_insert(0) += 1;
        *by_true.entry(t).or_insert(0) += 1;
        *both.entry((p, t)).or_insert(0) += 1;
    }
    let index: f64 = both.values().map(|&n| pairs(n) as f64).sum();
    let predicted_pairs: u64 = by_pred.values().map(|&n| pairs(n)).sum();
    let true_pair_count: u64 = by_true.values().map(|&n| pairs(n)).sum();
    let (pred_pairs, true_pairs) = (predicted_pairs as f64, true_pair_count as f64);
    let total = pairs(predicted.len() as u64) as f64;
    let expected = if total > 0.0 {
        pred_pairs * true_pairs / total
    } else {
        0.0
    };
    let max_index = (pred_pairs + true_pairs) / 2.0;
    let adjusted_rand = if (max_index - expected).abs() < f64::EPSILON {
        1.0
    } else {
        (index - expected) / (max_index - expected)
    };
    let precision = if pred_pairs > 0.0 {
        index / pred_pairs
    } else {
        1.0
    };
    let recall = if true_pairs > 0.0 {
        index / true_pairs
    } else {
        1.0
    };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    let mut majority: BTreeMap<usize, u64> = BTreeMap::new();
    for (&(p, _), &n) in &both {
        let m = majority.entry(p).or_insert(0);
        *m = (*m).max(n);
    }
    let misplaced = by_pred.iter().map(|(p, &n)| n - majority[p]).sum::<u64>() as usize;
    Agreement {
        precision,
        recall,
        f1,
        adjusted_rand,
        misplaced_documents: misplaced,
        predicted_pairs,
        true_pairs: true_pair_count,
    }
}
