//! The scores `genuq eval` compares (higher = less trustworthy, dropped first): the paper's u
//! at each M, u ranked within each class (drops the same share of every class, so the class
//! mix cannot shift), random within each class at the class mix the `u` row keeps (the
//! class shift's control), BayesDiff-style pixel variance, and the evaluation classifier's
//! own confidence, overall and within each class, as an upper reference (it is the judge of
//! class accuracy, so not a fair competitor). The last is a ceiling, not a method: within each
//! class it drops the generations farthest outside the test split's k-NN manifold (the ones
//! precision counts as bad), so it shows what removing bad samples could do for FID at best.

use super::generations::{MAIN_M, Maps, Scored};
use super::select::{class_counts, lowest, with_class_mix, within_class_rank};
use crate::rng::{self, Stream};
use crate::uncertainty::ScoreName;

/// A named score per generation.
pub type Method = (String, Vec<f64>);

/// Random scores of random draw `draw` (draw 0: the `random` row; 1..: its spread).
pub fn random_scores(seed: u32, draw: u32, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| rng::word(seed, Stream::EvalRandom(draw), i as u32) as f64)
        .collect()
}

/// f32 scores as f64.
pub fn as_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

/// `1 - p` of probabilities `p`: a score that is high where the probability is low.
pub fn one_minus(p: &[f32]) -> Vec<f64> {
    p.iter().map(|&v| 1.0 - v as f64).collect()
}

/// The classifier's unconfidence (higher = less sure of its prediction).
pub fn unconfidence(maps: &Maps) -> Vec<f64> {
    maps.confidence.iter().map(|&c| -(c as f64)).collect()
}

/// Every method's score on the generations of `maps`, scored by `scored`; `radius_ratio` is
/// each generation's distance outside the test manifold (the oracle's score), `keep` the number
/// the rows keep.
pub fn methods(
    maps: &Maps,
    scored: &Scored,
    radius_ratio: &[f64],
    seed: u32,
    keep: usize,
) -> Vec<Method> {
    let n = maps.classes.len();
    let classes = &maps.classes;
    let u_main = as_f64(&scored.u[&MAIN_M]);
    let mut methods: Vec<Method> = vec![
        ("random".into(), random_scores(seed, 0, n)),
        (ScoreName::U.name().into(), u_main.clone()),
    ];
    for (&m, u) in scored.u.iter().filter(|(m, _)| **m != MAIN_M) {
        methods.push((format!("u_m{m}"), as_f64(u)));
    }
    methods.push(("u_per_class".into(), within_class_rank(&u_main, classes)));
    // The control for the class shift: random generations within each class, as many of each
    // class as the u row keeps. Its gap to `u` is what u's choice within classes is
    // worth at that class mix; its gap to `random` is what the class shift alone costs.
    let u_mix = class_counts(&lowest(&u_main, keep), classes);
    let within: Vec<f64> = (0..n)
        .map(|i| rng::word(seed, Stream::EvalWithinClass, i as u32) as f64)
        .collect();
    methods.push((
        "random_u_mix".into(),
        with_class_mix(&within, classes, &u_mix),
    ));
    methods.push(("pixel_variance".into(), as_f64(&scored.pixel_variance)));
    if scored.class.bald.len() == n {
        let c = &scored.class;
        methods.push(("class_bald".into(), as_f64(&c.bald)));
        methods.push(("class_entropy".into(), as_f64(&c.entropy)));
        methods.push(("class_predictive".into(), one_minus(&c.predictive)));
        methods.push(("clip_margin".into(), one_minus(&c.probability)));
    }
    if maps.steps > 1 {
        methods.push((
            "trajectory_variance".into(),
            as_f64(&maps.trajectory_variance),
        ));
    }
    methods.push(("feature_rms".into(), as_f64(&scored.feature_rms)));
    let unconfident = unconfidence(maps);
    methods.push(("classifier_confidence".into(), unconfident.clone()));
    methods.push((
        "classifier_confidence_per_class".into(),
        within_class_rank(&unconfident, classes),
    ));
    methods.push((ORACLE.into(), within_class_rank(radius_ratio, classes)));
    methods
}

/// The oracle row's name.
pub const ORACLE: &str = "oracle_per_class";

/// The methods whose curves (metrics as more is dropped) the figures show, with their labels.
pub const CURVES: [(&str, &str); 5] = [
    ("random", "random"),
    ("u", "u (M = 8)"),
    ("u_per_class", "u per class"),
    ("pixel_variance", "pixel variance"),
    (ORACLE, "oracle per class (peeks at test)"),
];
