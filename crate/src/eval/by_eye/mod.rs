//! Every score against the labels by eye (`genuq eval --labels`): per-class macro AUROC for
//! `malformed`, `other` and bad (either), weighted back to the pool by the inclusion
//! probabilities, with stratified bootstrap CIs; each score's paired difference to darkness
//! (the baseline to beat), CLIP's class probability and u at the last step (shipped before);
//! the precision and recall of a flag on the top 5% of each class's pool; how well two
//! independent passes agree (Cohen's kappa); and the pick of the development set.

use std::collections::BTreeMap;

use serde::Serialize;

use super::detect::{BOOTSTRAP, resample};
use super::labels::{Key, Label, LabelLine, Pass, Target};
use super::pool::EyeScore;
use super::ranking::weighted_auroc;
use crate::data::{NUM_CLASSES, class_index};

mod pick;
mod section;

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

/// How two independent passes agree on the generations both labelled.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub labellers: Vec<String>,
    /// Generations with a first and a second pass.
    pub both: usize,
    pub kappa_malformed: f64,
    pub kappa_bad: f64,
    pub kappa_other: f64,
    /// Over the four labels.
    pub kappa_labels: f64,
    pub disagreements: usize,
    /// Disagreements a third look resolved; the rest keep the first pass's label.
    pub resolved: usize,
    /// Each pass's count of each label on the generations both labelled.
    pub counts: BTreeMap<String, BTreeMap<Label, usize>>,
}

/// Cohen's kappa of two raters' categories (`0..k`) on the same items: observed agreement
/// against the agreement their marginals give by chance. NaN when chance agreement is 1.
pub fn cohen_kappa(a: &[usize], b: &[usize], k: usize) -> f64 {
    let n = a.len() as f64;
    let observed = a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / n;
    let share = |r: &[usize], c: usize| r.iter().filter(|&&x| x == c).count() as f64 / n;
    let chance: f64 = (0..k).map(|c| share(a, c) * share(b, c)).sum();
    (observed - chance) / (1.0 - chance)
}

/// A generation of a set: its requested class and seed (a third look's sheets number it
/// anew, so it is not its sheet and cell).
pub type Generated = (String, u32);

/// The labels of a set resolved per generation: a third look wins, else the first pass's
/// (which the second agrees with, or which stands unresolved); and the agreement.
pub fn resolve(lines: &[LabelLine]) -> (BTreeMap<Generated, Label>, Agreement) {
    let mut by: BTreeMap<Generated, BTreeMap<Pass, &LabelLine>> = BTreeMap::new();
    for l in lines {
        by.entry((l.class.clone(), l.seed))
            .or_default()
            .insert(l.pass, l);
    }
    let mut names: Vec<String> = lines
        .iter()
        .map(|l| format!("{} ({:?})", l.labeller, l.pass).to_lowercase())
        .collect();
    names.sort();
    names.dedup();
    let (mut a, mut b, mut resolved, mut counts) = (Vec::new(), Vec::new(), 0, BTreeMap::new());
    let mut out = BTreeMap::new();
    for (at, passes) in &by {
        let first = passes
            .get(&Pass::First)
            .or(passes.get(&Pass::Second))
            .copied();
        let third = passes.get(&Pass::Third).map(|l| l.label);
        if let (Some(f), Some(s)) = (passes.get(&Pass::First), passes.get(&Pass::Second)) {
            a.push(f.label);
            b.push(s.label);
            for l in [f, s] {
                let counts: &mut BTreeMap<Label, usize> =
                    counts.entry(l.labeller.clone()).or_default();
                *counts.entry(l.label).or_default() += 1;
            }
            resolved += usize::from(f.label != s.label && third.is_some());
        }
        if let Some(label) = third.or(first.map(|l| l.label)) {
            out.insert(at.clone(), label);
        }
    }
    let kappa = |t: Target| {
        let code = |v: &[Label]| {
            v.iter()
                .map(|&l| usize::from(t.holds(l)))
                .collect::<Vec<_>>()
        };
        cohen_kappa(&code(&a), &code(&b), 2)
    };
    let code = |v: &[Label]| {
        v.iter()
            .map(|l| Label::ALL.iter().position(|x| x == l).unwrap_or(0))
            .collect::<Vec<_>>()
    };
    let agreement = Agreement {
        labellers: names,
        both: a.len(),
        kappa_malformed: kappa(Target::Malformed),
        kappa_bad: kappa(Target::Bad),
        kappa_other: kappa(Target::Other),
        kappa_labels: cohen_kappa(&code(&a), &code(&b), Label::ALL.len()),
        disagreements: a.iter().zip(&b).filter(|(x, y)| x != y).count(),
        resolved,
        counts,
    };
    (out, agreement)
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

    /// Cohen (1960)'s worked example as usually quoted: 50 items, both yes 20, both no 15,
    /// yes/no 5, no/yes 10: p_o = 0.7, p_e = 0.5 -> kappa 0.4.
    #[test]
    fn kappa_of_the_textbook_table() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (x, y, n) in [(1, 1, 20), (0, 0, 15), (1, 0, 5), (0, 1, 10)] {
            a.extend(std::iter::repeat_n(x, n));
            b.extend(std::iter::repeat_n(y, n));
        }
        assert!((cohen_kappa(&a, &b, 2) - 0.4).abs() < 1e-12);
        assert!((cohen_kappa(&a, &a, 2) - 1.0).abs() < 1e-12);
    }

    fn line(cell: usize, label: Label, pass: Pass) -> LabelLine {
        LabelLine {
            set: "t".into(),
            sheet: "t-bag-1".into(),
            cell,
            class: "bag".into(),
            seed: cell as u32,
            steps: 2,
            perturb: crate::uncertainty::Perturb::Last,
            label,
            looks_like: None,
            labeller: format!("{pass:?}"),
            pass,
        }
    }

    #[test]
    fn a_third_look_resolves_and_agreement_counts() {
        use Label::*;
        let lines = vec![
            line(1, Fine, Pass::First),
            line(1, Fine, Pass::Second),
            line(2, Malformed, Pass::First),
            line(2, Fine, Pass::Second),
            line(2, Fine, Pass::Third),
            line(3, Other, Pass::First),
            line(3, Malformed, Pass::Second),
            line(4, Malformed, Pass::First),
        ];
        let (labels, agreement) = resolve(&lines);
        let at = |c: usize| labels[&("bag".to_string(), c as u32)];
        assert_eq!((at(1), at(2), at(3), at(4)), (Fine, Fine, Other, Malformed));
        assert_eq!(
            (agreement.both, agreement.disagreements, agreement.resolved),
            (3, 2, 1)
        );
        // bad vs fine on the three both labelled: (0,0), (1,0), (1,1): p_o 2/3, p_e 2/3*1/3 + 1/3*2/3
        let pe = 4.0 / 9.0;
        assert!((agreement.kappa_bad - (2.0 / 3.0 - pe) / (1.0 - pe)).abs() < 1e-12);
    }

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
