//! Every score against the labels by eye (`genuq eval --labels`): per-class macro AUROC for
//! `malformed`, `other` and bad (either), weighted back to the pool by the inclusion
//! probabilities, with stratified bootstrap CIs; each score's paired difference to darkness
//! (the baseline to beat), CLIP's class probability and u at the last step (shipped before);
//! the precision and recall of a flag on the top 5% of each class's pool; how well two
//! independent passes agree (Cohen's kappa, agreement.rs); and the pick of the development set.

use std::collections::BTreeMap;

use serde::Serialize;

use super::detect::{BOOTSTRAP, resample};
use super::labels::{Key, Label, LabelLine, Target};
use super::pool::EyeScore;
use super::ranking::weighted_auroc;
use crate::data::{NUM_CLASSES, class_index};

mod agreement;
mod pick;
mod section;

pub use agreement::{Agreement, Generated, cohen_kappa, resolve};
pub use pick::{DETECTOR_RULE, Detector, FLAG_PRECISION, PICK_RULE, Pick, Space, detector, pick};
pub use section::{SECTION, read_section, read_set, write_sections};

/// One labelled generation of the sample, with its final label and weight (1 / inclusion).
#[derive(Debug, Clone)]
pub struct Labelled {
    pub class: usize,
    pub label: Label,
    pub weight: f64,
    pub scores: BTreeMap<EyeScore, f64>,
}

/// The labelled generations of `key` with their resolved labels (those not labelled are left
/// out; their inclusion probability is the design's, so a partial pass stays unbiased only
/// where it is a random part of the sheets).
pub fn labelled(key: &Key, labels: &BTreeMap<Generated, Label>) -> Vec<Labelled> {
    key.items
        .iter()
        .filter_map(|it| {
            let label = *labels.get(&(it.class.clone(), it.seed))?;
            Some(Labelled {
                class: class_index(&it.class)?,
                label,
                weight: 1.0 / it.inclusion,
                scores: it.scores.clone(),
            })
        })
        .collect()
}

/// The weighted per-class AUROC of `score` for `target`, averaged over the classes with both
/// kinds among `idx` (per class); NaN when none has.
fn macro_auroc(items: &[Labelled], groups: &[Vec<usize>], score: EyeScore, target: Target) -> f64 {
    let per_class: Vec<f64> = groups
        .iter()
        .filter_map(|idx| {
            let idx: Vec<usize> = idx
                .iter()
                .copied()
                .filter(|&i| items[i].scores.contains_key(&score))
                .collect();
            let pos: Vec<bool> = idx.iter().map(|&i| target.holds(items[i].label)).collect();
            let n_pos = pos.iter().filter(|&&p| p).count();
            if n_pos == 0 || n_pos == pos.len() {
                return None;
            }
            let s: Vec<f64> = idx.iter().map(|&i| items[i].scores[&score]).collect();
            let w: Vec<f64> = idx.iter().map(|&i| items[i].weight).collect();
            Some(weighted_auroc(&s, &pos, &w))
        })
        .collect();
    match per_class.len() {
        0 => f64::NAN,
        n => per_class.iter().sum::<f64>() / n as f64,
    }
}

/// Weighted precision and recall of the flag `score >= threshold[class]` for `target`, and the
/// share flagged.
fn flag_rates(
    items: &[Labelled],
    idx: &[usize],
    score: EyeScore,
    target: Target,
    threshold: &[f64],
) -> (f64, f64, f64) {
    let (mut flagged, mut hit, mut pos, mut all) = (0.0, 0.0, 0.0, 0.0);
    for &i in idx {
        let Some(&s) = items[i].scores.get(&score) else {
            continue;
        };
        let (w, p, f) = (
            items[i].weight,
            target.holds(items[i].label),
            s >= threshold[items[i].class],
        );
        all += w;
        flagged += w * f as u8 as f64;
        hit += w * (f && p) as u8 as f64;
        pos += w * p as u8 as f64;
    }
    (hit / flagged, hit / pos, flagged / all)
}

/// A statistic's point value and 95% bootstrap interval.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub ci: [f64; 2],
}

pub(crate) fn estimate(value: f64, mut boot: Vec<f64>) -> Estimate {
    boot.retain(|v| v.is_finite());
    boot.sort_by(f64::total_cmp);
    let at = |q: f64| match boot.len() {
        0 => f64::NAN,
        n => boot[((n - 1) as f64 * q).round() as usize],
    };
    Estimate {
        value,
        ci: [at(0.025), at(0.975)],
    }
}

/// The scores every score is compared with, paired: the baseline to beat (darkness), the score
/// shipped before the labels (CLIP's class probability), the paper's u at the placement
/// shipped before (last), at the one the labels picked (first) and at every step (the teacher
/// control's; all in CLIP's space, so u in the structure space is compared with them).
pub const PAIRED_WITH: [EyeScore; 5] = [
    EyeScore::Darkness,
    EyeScore::ClipMargin,
    EyeScore::ULast,
    EyeScore::UFirst,
    EyeScore::UAll,
];

/// One score against one target.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub macro_auroc: Estimate,
    /// Its macro AUROC minus each of [`PAIRED_WITH`]'s, paired over the same resamples.
    pub minus: BTreeMap<EyeScore, Estimate>,
    /// The flag on the top 5% of this score within each class's pool: weighted precision by
    /// eye (with CI), recall.
    pub flag_precision: Estimate,
    pub flag_recall: f64,
}

/// One score's row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub score: EyeScore,
    pub targets: BTreeMap<Target, Detection>,
}

/// The by-eye section of a set.
#[derive(Debug, Clone, Serialize)]
pub struct ByEye {
    pub set: String,
    pub labelled: usize,
    pub pool: usize,
    /// Each label's share of the pool (weighted), and the counts in the sample.
    pub share: BTreeMap<Label, f64>,
    pub counts: BTreeMap<Label, usize>,
    pub agreement: Agreement,
    pub rows: Vec<Row>,
}

fn detection(
    items: &[Labelled],
    groups: &[Vec<usize>],
    boots: &[Vec<Vec<usize>>],
    score: EyeScore,
    target: Target,
    threshold: &[f64],
) -> Detection {
    let auroc = |g: &[Vec<usize>]| macro_auroc(items, g, score, target);
    let flat = |g: &[Vec<usize>]| g.concat();
    let precision = |g: &[Vec<usize>]| flag_rates(items, &flat(g), score, target, threshold).0;
    let (_, recall, _) = flag_rates(items, &flat(groups), score, target, threshold);
    let minus = PAIRED_WITH
        .into_iter()
        .map(|other| {
            let diff = |g: &[Vec<usize>]| auroc(g) - macro_auroc(items, g, other, target);
            (
                other,
                estimate(diff(groups), boots.iter().map(|g| diff(g)).collect()),
            )
        })
        .collect();
    Detection {
        macro_auroc: estimate(auroc(groups), boots.iter().map(|g| auroc(g)).collect()),
        minus,
        flag_precision: estimate(
            precision(groups),
            boots.iter().map(|g| precision(g)).collect(),
        ),
        flag_recall: recall,
    }
}

/// The by-eye section for a set from its key and label lines (bootstrap under `seed`).
pub fn by_eye(key: &Key, lines: &[LabelLine], seed: u32) -> ByEye {
    let (labels, agreement) = resolve(lines);
    let items = labelled(key, &labels);
    let mut groups = vec![Vec::new(); NUM_CLASSES];
    for (i, it) in items.iter().enumerate() {
        groups[it.class].push(i);
    }
    let boots: Vec<Vec<Vec<usize>>> = (0..BOOTSTRAP)
        .map(|r| resample(&groups, items.len(), seed, r))
        .collect();
    let total: f64 = items.iter().map(|i| i.weight).sum();
    let share = Label::ALL
        .into_iter()
        .map(|l| {
            (
                l,
                items
                    .iter()
                    .filter(|i| i.label == l)
                    .map(|i| i.weight)
                    .sum::<f64>()
                    / total,
            )
        })
        .collect();
    let counts = Label::ALL
        .into_iter()
        .map(|l| (l, items.iter().filter(|i| i.label == l).count()))
        .collect();
    let rows = EyeScore::ALL
        .into_iter()
        .filter(|s| items.iter().any(|i| i.scores.contains_key(s)))
        .map(|score| {
            let none = vec![f64::INFINITY; NUM_CLASSES];
            let threshold = key.flag_thresholds.get(&score).unwrap_or(&none);
            let targets = Target::ALL
                .into_iter()
                .map(|t| (t, detection(&items, &groups, &boots, score, t, threshold)))
                .collect();
            Row { score, targets }
        })
        .collect();
    ByEye {
        set: key.recipe.set.clone(),
        labelled: items.len(),
        pool: key.pool.iter().sum(),
        share,
        counts,
        agreement,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flag's weighted precision: a flagged sample item of weight 3 counts three times.
    #[test]
    fn flag_precision_is_weighted() {
        let mk = |s: f64, label: Label, weight: f64| Labelled {
            class: 0,
            label,
            weight,
            scores: BTreeMap::from([(EyeScore::Darkness, s)]),
        };
        let items = vec![
            mk(0.9, Label::Malformed, 1.0),
            mk(0.8, Label::Fine, 3.0),
            mk(0.1, Label::Malformed, 2.0),
            mk(0.0, Label::Fine, 4.0),
        ];
        let (p, r, share) = flag_rates(
            &items,
            &[0, 1, 2, 3],
            EyeScore::Darkness,
            Target::Malformed,
            &[0.5],
        );
        assert!(
            (p - 0.25).abs() < 1e-12
                && (r - 1.0 / 3.0).abs() < 1e-12
                && (share - 0.4).abs() < 1e-12
        );
    }
}
