//! Statistical checks of the estimators against their documented behaviour.

use storyhash::lsh::{candidate_pairs, LshParams};
use storyhash::minhash::{
    estimate_jaccard, estimate_std_dev, low_byte_agreement, MinHasher, SketchKind,
};
use storyhash::synth::Rng;

/// Two sets with exactly `shared` common elements and `own` elements each of their own:
/// J = shared / (shared + 2·own). Elements are random 64-bit values, like shingle hashes.
fn pair_with_overlap(rng: &mut Rng, shared: usize, own: usize) -> (Vec<u64>, Vec<u64>) {
    let common: Vec<u64> = (0..shared).map(|_| rng.next_u64()).collect();
    let mut a = common.clone();
    let mut b = common;
    a.extend((0..own).map(|_| rng.next_u64()));
    b.extend((0..own).map(|_| rng.next_u64()));
    a.sort_unstable();
    b.sort_unstable();
    (a, b)
}

#[test]
fn minhash_estimates_are_unbiased_with_the_documented_spread() {
    for kind in [SketchKind::Classic, SketchKind::Oph] {
        check_estimator(kind);
    }
}

/// Both schemes must show the same behaviour: the fast one is only acceptable if it
/// estimates like the classic one.
fn check_estimator(kind: SketchKind) {
    let k = 128;
    let mut rng = Rng::new(2024);
    // Set sizes from 70 (fewer shingles than bins: densification at work) to 500.
    for (shared, own) in [
        (100, 200),
        (200, 100),
        (300, 50),
        (400, 20),
        (30, 20),
        (60, 5),
    ] {
        let j = shared as f64 / (shared + 2 * own) as f64;
        let sigma = estimate_std_dev(j, k);
        let trials = 400;
        let mut errors = Vec::with_capacity(trials);
        for t in 0..trials {
            let (a, b) = pair_with_overlap(&mut rng, shared, own);
            let hasher = MinHasher::with_kind(kind, k, t as u64);
            errors.push(estimate_jaccard(&hasher.sign(&a), &hasher.sign(&b)) - j);
        }
        let mean = errors.iter().sum::<f64>() / trials as f64;
        let variance = errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (trials - 1) as f64;
        let within_3_sigma = errors.iter().filter(|e| e.abs() <= 3.0 * sigma).count();
        eprintln!(
            "{kind:?} J={j:.3}: bias {mean:+.4} (σ/√n = {:.4}), std {:.4} vs documented {sigma:.4}, \
             {within_3_sigma}/{trials} within 3σ",
            sigma / (trials as f64).sqrt(),
            variance.sqrt()
        );
        // Bias: the mean error of an unbiased estimator is within 4 standard errors of 0.
        assert!(
            mean.abs() < 4.0 * sigma / (trials as f64).sqrt(),
            "bias {mean} at J={j}"
        );
        // Spread: the sample variance of 400 draws is within ±25% of the theory. Classic
        // MinHash: J(1−J)/k. OPH samples the union without replacement, so for a union
        // of f ≥ k shingles its variance is smaller by 1 − (k−1)/(f−1) (Li, Owen, Zhang
        // 2012). Below that, densification copies values between bins, which adds
        // variance: measured here up to about 1.3× the classic figure at f = 70, k = 128.
        let union = (shared + 2 * own) as f64;
        let k_f = k as f64;
        let expected = match kind {
            SketchKind::Oph if union >= 2.0 * k_f => {
                sigma * sigma * (1.0 - (k_f - 1.0) / (union - 1.0))
            }
            _ => sigma * sigma,
        };
        let ratio = variance / expected;
        if kind == SketchKind::Oph && union < 2.0 * k_f {
            assert!(
                ratio < 1.5,
                "{kind:?} variance ratio {ratio} at J={j}, f={union}"
            );
        } else {
            assert!(
                (0.75..1.25).contains(&ratio),
                "{kind:?} variance ratio {ratio} at J={j}"
            );
        }
        // Tails: about 99.7% of a normal sample lies within 3σ.
        assert!(within_3_sigma as f64 >= 0.98 * trials as f64);
    }
}

#[test]
fn lsh_candidate_rates_follow_the_s_curve() {
    let k = 128;
    let params = LshParams { bands: 16, rows: 8 };
    let hasher = MinHasher::with_kind(SketchKind::Oph, k, 99);
    let mut rng = Rng::new(77);
    for (shared, own) in [(60, 120), (150, 75), (200, 50), (300, 38), (400, 25)] {
        let s = shared as f64 / (shared + 2 * own) as f64;
        let trials = 300;
        let mut sets = Vec::with_capacity(2 * trials);
        for _ in 0..trials {
            let (a, b) = pair_with_overlap(&mut rng, shared, own);
            sets.push(a);
            sets.push(b);
        }
        let signatures = hasher.sign_all(&sets);
        let docs: Vec<u32> = (0..sets.len() as u32).collect();
        let candidates = candidate_pairs(&signatures, &docs, params).pairs;
        // Only the planted pairs (2i, 2i+1) count; unrelated sets share nothing.
        let hits = candidates
            .iter()
            .filter(|&&(a, b)| a % 2 == 0 && b == a + 1)
            .count();
        let rate = hits as f64 / trials as f64;
        let expected = params.probability(s);
        let tolerance = 4.0 * (expected * (1.0 - expected) / trials as f64).sqrt() + 0.02;
        eprintln!("s={s:.3}: candidate rate {rate:.3}, S-curve {expected:.3} ± {tolerance:.3}");
        assert!(
            (rate - expected).abs() <= tolerance,
            "s={s}: {rate} vs {expected}"
        );
        assert_eq!(
            hits,
            candidates.len(),
            "unrelated random sets became candidates"
        );
    }
}

/// dedup dismisses a candidate pair without exact verification when the low bytes of
/// the two signatures agree in fewer than threshold − PREFILTER_MARGIN (0.25) of the
/// positions, unless either document has fewer shingles than the signature has values
/// (densification copies a few bins everywhere there, widening the spread; such pairs
/// are always verified). A pair exactly at the threshold must essentially never be
/// dismissed: the lowest agreement seen must stay clear of the floor.
#[test]
fn the_dedup_prefilter_keeps_pairs_at_the_threshold() {
    let threshold = 0.4;
    let floor = threshold - 0.25;
    let k = 128;
    let mut rng = Rng::new(77);
    // J = shared / (shared + 2·own) = 0.4; each set has shared + own ≥ k elements.
    for (shared, own) in [(76, 57), (120, 90), (200, 150), (400, 300)] {
        let mut lowest: f64 = 1.0;
        for seed in 0..1500 {
            let (a, b) = pair_with_overlap(&mut rng, shared, own);
            let hasher = MinHasher::with_kind(SketchKind::Oph, k, seed);
            let low =
                |set: &[u64]| -> Vec<u8> { hasher.sign(set).iter().map(|&v| v as u8).collect() };
            lowest = lowest.min(low_byte_agreement(&low(&a), &low(&b)));
        }
        // 1,500 draws reach about 3.2 standard deviations (0.043 at J = 0.4) below the
        // mean; the floor is 5.8 below.
        assert!(
            lowest >= floor + 0.05,
            "sets of {}: a pair at J = 0.4 agreed in only {lowest:.3} of positions",
            shared + own
        );
    }
}
