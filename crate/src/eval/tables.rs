//! The tables of `genuq eval` from judged generations and their scores: the labels of each
//! generation (`Judged`), the detection tables (macro AUROC / AUPRC per label), the
//! per-class-quota filter against random quotas, and its precision curve.

use indicatif::ProgressBar;

use super::classify::FEATURES;
use super::detect::{class_balance, detection, quota_keep};
use super::generations::{MAIN_M, Maps, Scored, Variant};
use super::judge::RANDOM_DRAWS;
use super::methods::{as_f64, one_minus, random_scores, unconfidence};
use super::metrics::{Features, Manifold, MeanStd, fid_weighted, inside, precision};
use super::report::{DetectionRow, DetectionTable, QuotaRandom, QuotaRow, QuotaTable};
use crate::uncertainty::ScoreName;
use crate::uncertainty::sampler::Perturb;

/// The generations of one step count, judged: the MAP images and their labels.
pub struct Judged {
    pub maps: Maps,
    pub features: Features,
    /// Inside the test split's k-NN manifold (precision's flag).
    pub inside: Vec<bool>,
    /// Distance outside that manifold (the oracle's score).
    pub radius_ratio: Vec<f64>,
    /// The judge's labels, one flag per generation each, in [`Poor::ALL`]'s order
    /// ([`Judged::poor`]).
    labels: [Vec<bool>; 2],
}

/// What the judge (the evaluation classifier) calls a poor generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poor {
    /// The classifier puts it in another class.
    WrongClass,
    /// Its realism score in the classifier's features is below 1.
    Unrealistic,
}

impl Poor {
    pub const ALL: [Poor; 2] = [Poor::WrongClass, Poor::Unrealistic];

    /// The label's name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Poor::WrongClass => "wrong_class",
            Poor::Unrealistic => "unrealistic",
        }
    }

    /// What the label means, for the report.
    pub fn meaning(self) -> &'static str {
        match self {
            Poor::WrongClass => "the evaluation classifier puts it in another class",
            Poor::Unrealistic => {
                "its realism score (k = 3, the larger half of the test balls pruned) is below 1"
            }
        }
    }
}

impl Judged {
    /// The flags of `label`, one per generation.
    pub fn poor(&self, label: Poor) -> &[bool] {
        &self.labels[label as usize]
    }

    /// Every label with its flags.
    pub fn each_label(&self) -> impl Iterator<Item = (Poor, &[bool])> {
        Poor::ALL.into_iter().map(|p| (p, self.poor(p)))
    }
}

pub fn judge_maps(maps: Maps, manifold: &Manifold) -> Judged {
    let features = Features::new(&maps.features, FEATURES);
    let radius_ratio = manifold.radius_ratio(&features);
    let unrealistic = manifold
        .realism(&features)
        .iter()
        .map(|&r| r < 1.0)
        .collect();
    let wrong = maps.wrong_class();
    Judged {
        inside: inside(&radius_ratio),
        radius_ratio,
        features,
        labels: [wrong, unrealistic],
        maps,
    }
}

/// The variants the ablations compare: one step, and every placement for more steps.
pub fn ablation_variants(steps: &[u32]) -> Vec<Variant> {
    let mut out = Vec::new();
    for &s in steps {
        let placements: &[Perturb] = if s == 1 {
            &[Perturb::All]
        } else {
            &Perturb::ALL
        };
        for &perturb in placements {
            out.push(Variant {
                steps: s as usize,
                perturb,
                max_samples: MAIN_M,
            });
        }
    }
    out
}

/// A score to detect with: its name, placement of the weight samples and M (for the
/// sampler's scores), and its values per draw of weight samples.
pub type NamedScore = (String, Option<String>, Option<usize>, Vec<Vec<f64>>);

/// A prefix of a score.
pub fn head<T: Clone>(v: &[T], n: usize) -> Vec<T> {
    v[..n].to_vec()
}

/// The class-space scores of a sampler's draws (empty without the class prompts' embeddings),
/// at M = [`MAIN_M`]: `class_bald`, `class_entropy` and `class_predictive` (`1 -` the
/// posterior predictive probability of the requested class).
pub fn class_space_scores(draws: &[Scored], perturb: Option<String>, n: usize) -> Vec<NamedScore> {
    if draws.iter().any(|s| s.class.bald.len() < n) {
        return Vec::new();
    }
    let column = |f: &dyn Fn(&Scored) -> Vec<f64>| -> Vec<Vec<f64>> {
        draws.iter().map(|s| head(&f(s), n)).collect()
    };
    vec![
        (
            "class_bald".into(),
            perturb.clone(),
            Some(MAIN_M),
            column(&|s| as_f64(&s.class.bald)),
        ),
        (
            "class_entropy".into(),
            perturb.clone(),
            Some(MAIN_M),
            column(&|s| as_f64(&s.class.entropy)),
        ),
        (
            "class_predictive".into(),
            perturb,
            Some(MAIN_M),
            column(&|s| one_minus(&s.class.predictive)),
        ),
    ]
}

/// The scores of one sampler's draws: u at each of `counts`, and at M = [`MAIN_M`] its pixel
/// variance and the class-space scores.
pub fn sampler_scores(
    v: &Variant,
    draws: &[Scored],
    counts: &[usize],
    n: usize,
) -> Vec<NamedScore> {
    let perturb = (v.steps > 1).then(|| v.perturb.name().to_string());
    let mut scores: Vec<NamedScore> = Vec::new();
    for &m in counts.iter().filter(|&&m| m <= v.max_samples) {
        let d = draws.iter().map(|s| head(&as_f64(&s.u[&m]), n)).collect();
        scores.push((ScoreName::U.name().into(), perturb.clone(), Some(m), d));
    }
    if counts.contains(&MAIN_M) {
        let pixel = draws
            .iter()
            .map(|s| head(&as_f64(&s.pixel_variance), n))
            .collect();
        scores.push((
            "pixel_variance".into(),
            perturb.clone(),
            Some(MAIN_M),
            pixel,
        ));
        scores.extend(class_space_scores(draws, perturb, n));
    }
    scores
}

/// The baselines and references of one set of generations: `clip_margin` (`1 -` the MAP
/// image's zero-shot probability of its class, from `first`'s scores), the feature RMS, the
/// trajectory spread (more than one step), random, the classifier's unconfidence and the
/// manifold oracle.
pub fn baseline_scores(
    judged: &Judged,
    first: Option<&Scored>,
    n: usize,
    seed: u32,
) -> Vec<NamedScore> {
    let mut scores: Vec<NamedScore> = Vec::new();
    if let Some(s) = first {
        if s.class.probability.len() >= n {
            let margin = head(&one_minus(&s.class.probability), n);
            scores.push(("clip_margin".into(), None, None, vec![margin]));
        }
        if s.feature_rms.len() >= n {
            let rms = head(&as_f64(&s.feature_rms), n);
            scores.push(("feature_rms".into(), None, None, vec![rms]));
        }
    }
    if judged.maps.steps > 1 {
        let spread = head(&as_f64(&judged.maps.trajectory_variance), n);
        scores.push(("trajectory_variance".into(), None, None, vec![spread]));
    }
    scores.push(("random".into(), None, None, vec![random_scores(seed, 0, n)]));
    let confidence = head(&unconfidence(&judged.maps), n);
    scores.push((
        "classifier_confidence (reference)".into(),
        None,
        None,
        vec![confidence],
    ));
    let oracle = head(&judged.radius_ratio, n);
    scores.push((
        "manifold_oracle (reference)".into(),
        None,
        None,
        vec![oracle],
    ));
    scores
}

/// The detection tables (one per label) of the first `n` generations of `judged`: each
/// sampler's scores with their draws ([`sampler_scores`]), the `extra` scores, then the
/// baselines and references ([`baseline_scores`]).
pub fn detection_tables(
    judged: &Judged,
    n: usize,
    samplers: &[(Variant, &[Scored], &[usize])],
    extra: Vec<NamedScore>,
    seed: u32,
) -> Vec<DetectionTable> {
    let mut scores: Vec<NamedScore> = samplers
        .iter()
        .flat_map(|(v, draws, counts)| sampler_scores(v, draws, counts, n))
        .collect();
    scores.extend(extra);
    let first = samplers.first().and_then(|(_, d, _)| d.first());
    scores.extend(baseline_scores(judged, first, n, seed));
    score_tables(judged, n, &scores, seed)
}

/// One table per label of `scores` on the first `n` generations of `judged`.
pub fn score_tables(
    judged: &Judged,
    n: usize,
    scores: &[NamedScore],
    seed: u32,
) -> Vec<DetectionTable> {
    let classes = &judged.maps.classes[..n];
    let steps = judged.maps.steps;
    judged
        .each_label()
        .map(|(label, flags)| {
            let (label, what) = (label.name(), label.meaning());
            let poor = &flags[..n];
            let bar = ProgressBar::new(scores.len() as u64);
            bar.set_message(format!("{label}, {steps}-step, {n} generations"));
            let rows = scores
                .iter()
                .map(|(method, perturb, samples, draws)| {
                    let row = DetectionRow {
                        method: method.clone(),
                        steps,
                        perturb: perturb.clone(),
                        samples: *samples,
                        generations: n,
                        detection: detection(draws, poor, classes, seed),
                    };
                    bar.inc(1);
                    row
                })
                .collect();
            bar.finish();
            DetectionTable {
                label: label.to_string(),
                what: what.to_string(),
                generations: n,
                steps,
                positives: poor.iter().filter(|&&p| p).count(),
                rows,
            }
        })
        .collect()
}

/// The per-class-quota filter of each `(name, score)` on the first `n` generations of
/// `judged`, keeping `keep`, against random quotas.
pub fn quota_table(
    judged: &Judged,
    n: usize,
    keep: usize,
    scores: &[(String, Vec<f64>)],
    real: &Features,
    seed: u32,
) -> QuotaTable {
    let classes = &judged.maps.classes[..n];
    let measure = |score: &[f64]| {
        let kept = quota_keep(score, classes, keep);
        let sub = judged.features.select(&kept);
        let fid = fid_weighted(&sub, &class_balance(&kept, classes), real);
        (kept, fid)
    };
    let (precisions, fids): (Vec<f64>, Vec<f64>) = (1..=RANDOM_DRAWS)
        .map(|d| {
            let (kept, fid) = measure(&random_scores(seed, d, n));
            (precision(&judged.inside, &kept), fid)
        })
        .unzip();
    let rows = scores
        .iter()
        .map(|(method, score)| {
            let (kept, fid) = measure(score);
            let kept_not_poor = judged
                .each_label()
                .map(|(label, flags)| {
                    let fine = kept.iter().filter(|&&i| !flags[i]).count();
                    (label.name(), fine as f64 / kept.len().max(1) as f64)
                })
                .collect();
            QuotaRow {
                method: method.clone(),
                precision: precision(&judged.inside, &kept),
                fid,
                kept_not_poor,
            }
        })
        .collect();
    QuotaTable {
        steps: judged.maps.steps,
        generations: n,
        keep,
        random: QuotaRandom::new(RANDOM_DRAWS, MeanStd::of(&precisions), MeanStd::of(&fids)),
        rows,
    }
}

/// Precision as 0, 5, ..., 50% of every class is dropped by `score`.
pub fn quota_curve(judged: &Judged, n: usize, score: &[f64]) -> Vec<(f64, f64)> {
    let classes = &judged.maps.classes[..n];
    (0..=10)
        .map(|i| {
            let dropped = i as f64 * 0.05;
            let keep = n - (dropped * n as f64).round() as usize;
            (
                dropped,
                precision(&judged.inside, &quota_keep(score, classes, keep)),
            )
        })
        .collect()
}
