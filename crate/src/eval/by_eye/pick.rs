//! What the labels by eye pick: the score the product ships with its flag ([`pick`]), and the
//! detector of broken generations to ship next with the space u is computed in ([`detector`]).

use serde::Serialize;

use super::ByEye;
use crate::eval::labels::Target;
use crate::eval::pool::EyeScore;
use crate::uncertainty::Perturb;
use crate::uncertainty::reference::ScoreName;

/// The smallest precision by eye a flag needs to be shown: a flag wrong more often than right
/// tells a user nothing they can act on.
pub const FLAG_PRECISION: f64 = 0.5;

/// What the development set picks: the score the product ships (one the browser computes: u
/// at a placement of the weight samples, or a class-space score) and whether it may flag.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Pick {
    pub score: EyeScore,
    /// The product's name of that score (`Shipped.score`).
    pub shipped: ScoreName,
    /// The sampler of the score (u's placement of the weight samples).
    pub perturb: Perturb,
    /// The flag's label ("malformed") where its dev precision reached [`FLAG_PRECISION`].
    pub flag: Option<Target>,
    pub rule: String,
}

/// The scores the product can ship: their name there and the placement each needs.
const SHIPPABLE: [(EyeScore, ScoreName, Perturb); 5] = [
    (EyeScore::ULast, ScoreName::U, Perturb::Last),
    (EyeScore::UFirst, ScoreName::U, Perturb::First),
    (EyeScore::UAll, ScoreName::U, Perturb::All),
    (EyeScore::ClipMargin, ScoreName::ClipMargin, Perturb::Last),
    (EyeScore::ClassBald, ScoreName::ClassBald, Perturb::Last),
];

/// The rule, fixed before the test set was labelled.
pub const PICK_RULE: &str = "on the development set: ship the score the product can compute (u at each placement, CLIP's class probability, class-space BALD) with the highest per-class macro AUROC for `malformed` by eye; it flags only if its precision by eye for `malformed` on the top 5% of each class is at least 0.5 (no `other` flag: too few other garments to measure); the test set only reports";

/// The pick of [`PICK_RULE`] from a development set's section.
pub fn pick(dev: &ByEye) -> Option<Pick> {
    let malformed = |score: EyeScore| {
        dev.rows
            .iter()
            .find(|r| r.score == score)
            .map(|r| &r.targets[&Target::Malformed])
    };
    let (score, shipped, perturb, det) = SHIPPABLE
        .into_iter()
        .filter_map(|(s, n, p)| Some((s, n, p, malformed(s)?)))
        .filter(|(.., d)| d.macro_auroc.value.is_finite())
        .max_by(|a, b| a.3.macro_auroc.value.total_cmp(&b.3.macro_auroc.value))?;
    let flag = (det.flag_precision.value >= FLAG_PRECISION).then_some(Target::Malformed);
    Some(Pick {
        score,
        shipped,
        perturb,
        flag,
        rule: PICK_RULE.to_string(),
    })
}

/// The rule for the candidates of eval/candidates.rs (the structure space, realism, the
/// baselines), fixed on the development numbers before the test set's were computed.
pub const DETECTOR_RULE: &str = "on the development set, among every candidate score except the *_beyond_ink ones (they need the pool's own line on ink), the highest per-class macro AUROC for `malformed` by eye is the detector of broken generations to ship next; u is computed in the feature space (CLIP's or the structure space) where u at the picked placement has the higher development AUROC for `malformed`";

/// The feature space of u.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Space {
    /// The tiny CLIP's image embedding (what ships).
    Clip,
    /// The denoising autoencoder's standardised code.
    Structure,
}

/// What [`DETECTOR_RULE`] picks on the development set.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Detector {
    pub score: EyeScore,
    /// Its development AUROC for `malformed`.
    pub auroc: f64,
    /// The space of u (at the placement [`pick`] picked).
    pub u_space: Space,
    pub rule: String,
}

/// The pick of [`DETECTOR_RULE`] from a development set's section, for u at `perturb`.
pub fn detector(dev: &ByEye, perturb: Perturb) -> Option<Detector> {
    let malformed = |score: EyeScore| {
        dev.rows
            .iter()
            .find(|r| r.score == score)
            .map(|r| r.targets[&Target::Malformed].macro_auroc.value)
            .filter(|v| v.is_finite())
    };
    let (score, auroc) = dev
        .rows
        .iter()
        .filter(|r| !r.score.name().ends_with("_beyond_ink"))
        .filter_map(|r| Some((r.score, malformed(r.score)?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let (clip, structure) = match perturb {
        Perturb::Last => (EyeScore::ULast, EyeScore::UStructureLast),
        Perturb::First => (EyeScore::UFirst, EyeScore::UStructureFirst),
        Perturb::All => (EyeScore::UAll, EyeScore::UStructureAll),
    };
    let u_space = match (malformed(clip), malformed(structure)) {
        (Some(c), Some(s)) if s > c => Space::Structure,
        _ => Space::Clip,
    };
    Some(Detector {
        score,
        auroc,
        u_space,
        rule: DETECTOR_RULE.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::eval::by_eye::{Detection, Estimate, Row, resolve};
    use crate::eval::labels::Target;

    /// The detector is the best development AUROC for `malformed` (a beyond-ink score not
    /// counted), and u's space the one where u at the placement scores higher.
    #[test]
    fn the_detector_and_the_space_of_u() {
        let row = |score: EyeScore, v: f64| {
            let e = Estimate {
                value: v,
                ci: [v, v],
            };
            let d = Detection {
                macro_auroc: e,
                minus: BTreeMap::new(),
                flag_precision: e,
                flag_recall: 0.0,
            };
            Row {
                score,
                targets: BTreeMap::from([(Target::Malformed, d)]),
            }
        };
        let dev = |u_structure: f64| ByEye {
            set: "dev".into(),
            labelled: 0,
            pool: 0,
            share: BTreeMap::new(),
            counts: BTreeMap::new(),
            agreement: resolve(&[]).1,
            rows: vec![
                row(EyeScore::Darkness, 0.70),
                row(EyeScore::Realism, 0.84),
                row(EyeScore::RealismBeyondInk, 0.90),
                row(EyeScore::UFirst, 0.69),
                row(EyeScore::UStructureFirst, u_structure),
                row(EyeScore::UStructureLast, 0.79),
            ],
        };
        let d = detector(&dev(0.65), Perturb::First).unwrap();
        assert_eq!(
            (d.score, d.auroc, d.u_space),
            (EyeScore::Realism, 0.84, Space::Clip)
        );
        let d = detector(&dev(0.72), Perturb::First).unwrap();
        assert_eq!(d.u_space, Space::Structure);
        assert_eq!(
            detector(&dev(0.72), Perturb::Last).unwrap().u_space,
            Space::Clip
        );
    }
}
