//! Detection: how well a score finds the generations an independent judge calls poor. Per
//! class (the class each generation was asked for), so a score cannot win by singling out a
//! hard class: macro AUROC and AUPRC with a stratified bootstrap CI, and the per-class-quota
//! filter that drops the same share of every class.

use serde::{Deserialize, Serialize};

use super::ranking::{auroc, average_precision};
use crate::data::NUM_CLASSES;
use crate::rng::{self, Stream};

/// Bootstrap resamples behind a confidence interval.
pub const BOOTSTRAP: u32 = 200;

/// The generations of each class.
pub fn by_class(classes: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); NUM_CLASSES];
    for (i, &c) in classes.iter().enumerate() {
        out[c].push(i);
    }
    out
}

/// The mean over classes of `metric` on each class's generations `idx`, over the classes that
/// have both poor and fine generations (a class with only one kind says nothing); NaN when no
/// class has both (written as null).
fn macro_over<F: Fn(&[f64], &[bool]) -> f64>(
    score: &[f64],
    poor: &[bool],
    groups: &[Vec<usize>],
    metric: F,
) -> f64 {
    let per_class: Vec<f64> = groups
        .iter()
        .filter_map(|idx| {
            let p: Vec<bool> = idx.iter().map(|&i| poor[i]).collect();
            let positives = p.iter().filter(|&&b| b).count();
            if positives == 0 || positives == p.len() {
                return None;
            }
            let s: Vec<f64> = idx.iter().map(|&i| score[i]).collect();
            Some(metric(&s, &p))
        })
        .collect();
    match per_class.len() {
        0 => f64::NAN,
        n => per_class.iter().sum::<f64>() / n as f64,
    }
}

/// The macro AUROC of `score` for the label `poor` over the class groups `groups`.
pub fn macro_auroc(score: &[f64], poor: &[bool], groups: &[Vec<usize>]) -> f64 {
    macro_over(score, poor, groups, auroc)
}

/// Bootstrap resample `r` (under `seed`) of `n` generations in class groups `groups`: each
/// class's generations drawn with replacement.
pub fn resample(groups: &[Vec<usize>], n: usize, seed: u32, r: u32) -> Vec<Vec<usize>> {
    groups
        .iter()
        .enumerate()
        .map(|(c, idx)| {
            (0..idx.len())
                .map(|k| {
                    let draw = (c * n + k) as u32;
                    idx[rng::word(seed, Stream::Bootstrap(r), draw) as usize % idx.len()]
                })
                .collect()
        })
        .collect()
}

/// Detection metrics of a score (averaged over its draws of weight samples) for one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Macro AUROC, the mean over the draws.
    pub macro_auroc: f64,
    /// 95% bootstrap interval of that mean (resampling generations within each class).
    pub auroc_ci: [f64; 2],
    /// Macro AUPRC, the mean over the draws.
    pub macro_auprc: f64,
    /// The macro AUPRC of a score that knows nothing: the mean share of poor generations.
    pub chance_auprc: f64,
    /// The macro AUROC of each draw.
    pub per_draw: Vec<f64>,
}

/// Macro AUROC and AUPRC for the label `poor` of a score (higher = more likely poor) drawn
/// several times (`draws`: one score per draw of weight samples, or just one), with the
/// bootstrap CI (under `seed`) of their mean.
pub fn detection(draws: &[Vec<f64>], poor: &[bool], classes: &[usize], seed: u32) -> Detection {
    let groups = by_class(classes);
    let mean_auroc = |groups: &[Vec<usize>]| {
        draws
            .iter()
            .map(|s| macro_over(s, poor, groups, auroc))
            .sum::<f64>()
            / draws.len().max(1) as f64
    };
    let mut boot: Vec<f64> = (0..BOOTSTRAP)
        .map(|r| mean_auroc(&resample(&groups, classes.len(), seed, r)))
        .collect();
    boot.retain(|v| v.is_finite());
    boot.sort_by(f64::total_cmp);
    let at = |q: f64| match boot.len() {
        0 => f64::NAN,
        n => boot[((n - 1) as f64 * q).round() as usize],
    };
    let chance = |_: &[f64], p: &[bool]| p.iter().filter(|&&b| b).count() as f64 / p.len() as f64;
    let per_draw: Vec<f64> = draws
        .iter()
        .map(|s| macro_over(s, poor, &groups, auroc))
        .collect();
    let auprc = draws
        .iter()
        .map(|s| macro_over(s, poor, &groups, average_precision))
        .sum::<f64>()
        / draws.len().max(1) as f64;
    Detection {
        macro_auroc: mean_auroc(&groups),
        auroc_ci: [at(0.025), at(0.975)],
        macro_auprc: auprc,
        chance_auprc: macro_over(&draws[0], poor, &groups, chance),
        per_draw,
    }
}

/// The generations a per-class-quota filter keeps: within each class the lowest scores, every
/// class keeping the same share (`keep` of all, rounded per class by largest remainder).
pub fn quota_keep(score: &[f64], classes: &[usize], keep: usize) -> Vec<usize> {
    let groups = by_class(classes);
    let n = classes.len().max(1);
    let exact: Vec<f64> = groups
        .iter()
        .map(|g| g.len() as f64 * keep as f64 / n as f64)
        .collect();
    let mut quota: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    let short = keep.saturating_sub(quota.iter().sum());
    for &c in order.iter().take(short) {
        quota[c] += 1;
    }
    let mut kept = Vec::with_capacity(keep);
    for (g, q) in groups.iter().zip(quota) {
        let mut idx = g.clone();
        idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
        kept.extend(idx.into_iter().take(q));
    }
    kept
}

/// Weights that give every class the same total weight among `kept`.
pub fn class_balance(kept: &[usize], classes: &[usize]) -> Vec<f64> {
    let mut counts = [0usize; NUM_CLASSES];
    for &i in kept {
        counts[classes[i]] += 1;
    }
    kept.iter()
        .map(|&i| 1.0 / counts[classes[i]] as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A score that ranks every class's poor generations first has macro AUROC 1 and a tight
    /// CI at 1, though a global ranking would mix the classes up; a score that only knows the
    /// class is at chance (0.5) within classes.
    #[test]
    fn macro_auroc_is_per_class() {
        let classes: Vec<usize> = (0..400).map(|i| i % 2).collect();
        let poor: Vec<bool> = (0..400).map(|i| i % 8 < 2).collect();
        // class 1 scores sit far above class 0's, but within each class poor ranks first
        let score: Vec<f64> = (0..400)
            .map(|i| 100.0 * (i % 2) as f64 + if poor[i] { 1.0 } else { 0.0 } + i as f64 * 1e-6)
            .collect();
        let d = detection(std::slice::from_ref(&score), &poor, &classes, 1);
        assert_eq!(d.macro_auroc, 1.0);
        assert_eq!(d.auroc_ci, [1.0, 1.0]);
        assert!((d.macro_auprc - 1.0).abs() < 1e-12);
        assert!((d.chance_auprc - 0.25).abs() < 1e-12);
        let class_only: Vec<f64> = classes.iter().map(|&c| c as f64).collect();
        let d = detection(&[class_only], &poor, &classes, 1);
        assert_eq!(d.macro_auroc, 0.5);
        assert!((d.macro_auprc - 0.25).abs() < 1e-12, "ties: the base rate");
    }

    /// A random score's 95% CI covers 0.5 (it misses with probability ~5%; this seed is fixed).
    #[test]
    fn bootstrap_interval_covers_chance_for_a_random_score() {
        let n = 2000;
        let classes: Vec<usize> = (0..n).map(|i| i % 10).collect();
        let poor: Vec<bool> = (0..n as u32)
            .map(|i| rng::word(3, Stream::Test(0), i).is_multiple_of(5))
            .collect();
        let score: Vec<f64> = (0..n as u32)
            .map(|i| rng::word(3, Stream::Test(1), i) as f64)
            .collect();
        let d = detection(std::slice::from_ref(&score), &poor, &classes, 9);
        assert!(d.auroc_ci[0] < 0.5 && 0.5 < d.auroc_ci[1], "{d:?}");
        assert!(d.auroc_ci[1] - d.auroc_ci[0] < 0.1, "{d:?}");
        // two draws: the mean of their AUROCs, and each one's
        let flipped: Vec<f64> = score.iter().map(|s| -s).collect();
        let two = detection(&[score, flipped], &poor, &classes, 9);
        assert!((two.macro_auroc - 0.5).abs() < 1e-9, "{two:?}");
        assert!((two.per_draw[0] + two.per_draw[1] - 1.0).abs() < 1e-9);
    }

    /// A label no class has both kinds of says nothing: NaN, not a number that looks measured.
    #[test]
    fn a_label_without_both_kinds_is_nan() {
        let classes = [0, 0, 1, 1];
        let d = detection(&[vec![1.0, 2.0, 3.0, 4.0]], &[true; 4], &classes, 1);
        assert!(d.macro_auroc.is_nan() && d.auroc_ci[0].is_nan() && d.macro_auprc.is_nan());
        assert_eq!(
            serde_json::to_value(&d).unwrap()["macro_auroc"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn quotas_drop_the_same_share_of_every_class() {
        // class 0: 6 generations, class 1: 4; keep 5 of 10 -> 3 and 2
        let classes = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
        let score = [5.0, 0.0, 4.0, 1.0, 3.0, 2.0, 9.0, 7.0, 8.0, 6.0];
        let mut kept = quota_keep(&score, &classes, 5);
        kept.sort();
        assert_eq!(kept, vec![1, 3, 5, 7, 9]);
        let w = class_balance(&kept, &classes);
        let class0: f64 = kept
            .iter()
            .zip(&w)
            .filter(|(i, _)| classes[**i] == 0)
            .map(|(_, w)| w)
            .sum();
        assert!((class0 - 1.0).abs() < 1e-12);
    }
}
