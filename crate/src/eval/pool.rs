//! The pool a labelling sample is drawn from: fresh generations scored by `genuq score` once
//! per placement of the weight samples (the MAP images are the same), joined into one item per
//! generation with every candidate score, darkness and u beyond ink included.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::candidates::CandidateLine;
use crate::data::{NUM_CLASSES, PIXELS};
use crate::uncertainty::{ClassSpace, Perturb};

/// A score a sample can be drawn by and measured on; every one is higher for a generation
/// that is more likely bad.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum EyeScore {
    /// The paper's u, the weight samples at the last step (the shipped placement).
    ULast,
    /// u, the weight samples at the first step.
    UFirst,
    /// u, the weight samples at every step (the paper's way).
    UAll,
    /// `1 -` CLIP's probability of the requested class (the MAP image): shipped so far.
    ClipMargin,
    /// The mutual information between CLIP's class and the weights (last placement).
    ClassBald,
    /// The per-pixel variance across the M + 1 images, summed (BayesDiff), last placement.
    PixelVarianceLast,
    /// Pixel variance, weight samples at the first step.
    PixelVarianceFirst,
    /// `-` the image's mean intensity: faint, fragmented generations are dark (the baseline
    /// every score must beat).
    Darkness,
    /// u (last) with darkness partialled out: the residual of u's least-squares line on the
    /// mean intensity within its class, so a score gets no credit for measuring ink.
    ULastBeyondInk,
    /// u (first) beyond ink.
    UFirstBeyondInk,
    /// u (all) beyond ink.
    UAllBeyondInk,
    /// u in the structure space (the denoising autoencoder's code), last placement.
    UStructureLast,
    /// u in the structure space, weight samples at the first step.
    UStructureFirst,
    /// u in the structure space, weight samples at every step.
    UStructureAll,
    /// The MAP image's mean distance to its nearest real images in the structure space.
    Realism,
    /// The same in CLIP's space.
    RealismClip,
    /// u in the structure space (last) beyond ink.
    UStructureLastBeyondInk,
    /// u in the structure space (first) beyond ink.
    UStructureFirstBeyondInk,
    /// u in the structure space (all) beyond ink.
    UStructureAllBeyondInk,
    /// Realism (structure space) beyond ink.
    RealismBeyondInk,
    /// Aithal et al.'s trajectory spread (the clean predictions' variance across the steps).
    Trajectory,
    /// `1 -` the judge's (the evaluation classifier's) probability of the requested class.
    JudgeMargin,
    /// The real-vs-generated discriminator's probability of "generated".
    Discriminator,
}

impl EyeScore {
    pub const ALL: [EyeScore; 23] = [
        EyeScore::ULast,
        EyeScore::UFirst,
        EyeScore::UAll,
        EyeScore::ClipMargin,
        EyeScore::ClassBald,
        EyeScore::PixelVarianceLast,
        EyeScore::PixelVarianceFirst,
        EyeScore::Darkness,
        EyeScore::ULastBeyondInk,
        EyeScore::UFirstBeyondInk,
        EyeScore::UAllBeyondInk,
        EyeScore::UStructureLast,
        EyeScore::UStructureFirst,
        EyeScore::UStructureAll,
        EyeScore::Realism,
        EyeScore::RealismClip,
        EyeScore::UStructureLastBeyondInk,
        EyeScore::UStructureFirstBeyondInk,
        EyeScore::UStructureAllBeyondInk,
        EyeScore::RealismBeyondInk,
        EyeScore::Trajectory,
        EyeScore::JudgeMargin,
        EyeScore::Discriminator,
    ];

    /// The name in reports (serde's).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// What the pool needs of one scored generation (a `genuq score` line: that command owns
/// the file format and reads it).
#[derive(Debug, Clone)]
pub struct ScoredLine {
    pub seed: u32,
    pub class: String,
    pub steps: usize,
    pub samples: usize,
    pub perturb: Perturb,
    pub u: f32,
    pub pixel_variance: f32,
    pub class_space: Option<ClassSpace>,
    pub image_png: String,
}

/// One generation of a pool: its MAP image (`[-1, 1]`, [`PIXELS`]) and every score.
#[derive(Debug, Clone)]
pub struct PoolItem {
    pub class: usize,
    pub seed: u32,
    pub image: Vec<f32>,
    /// The MAP image as the scored line's base64 PNG (what the sheets show).
    pub image_png: String,
    pub scores: BTreeMap<EyeScore, f64>,
}

/// The sampler the pool was scored at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PoolSampler {
    pub steps: usize,
    pub samples: usize,
    /// The placement whose class-space scores the pool keeps (the shipped one).
    pub perturb: Perturb,
}

/// Joins `genuq score` runs (`(placement, lines)`: one per placement of the weight samples,
/// `last` and `first` required, `all` optional) into pool items; the same (seed, class) must
/// have the same MAP image in every run. `candidates` holds `genuq label candidates` runs of
/// the same pool (any placements, possibly none): their scores join the items'. `decode` turns a
/// base64 PNG into pixels.
pub fn join_pool(
    runs: &[(Perturb, Vec<ScoredLine>)],
    candidates: &[(Perturb, Vec<CandidateLine>)],
    decode: impl Fn(&str) -> anyhow::Result<Vec<f32>>,
) -> anyhow::Result<(PoolSampler, Vec<PoolItem>)> {
    let of = |p: Perturb| runs.iter().find(|(q, _)| *q == p).map(|(_, l)| l);
    let last =
        of(Perturb::Last).ok_or_else(|| anyhow::anyhow!("no pool scored with --perturb last"))?;
    let first =
        of(Perturb::First).ok_or_else(|| anyhow::anyhow!("no pool scored with --perturb first"))?;
    let index = |lines: &[ScoredLine]| -> HashMap<(u32, String), usize> {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| ((l.seed, l.class.clone()), i))
            .collect()
    };
    let (first_at, all_at) = (index(first), of(Perturb::All).map(|l| index(l)));
    let sampler = PoolSampler {
        steps: last.first().map_or(0, |l| l.steps),
        samples: last.first().map_or(0, |l| l.samples),
        perturb: Perturb::Last,
    };
    let mut items = Vec::with_capacity(last.len());
    for l in last {
        anyhow::ensure!(
            (l.steps, l.samples) == (sampler.steps, sampler.samples),
            "seed {} {}: the pool mixes samplers",
            l.seed,
            l.class
        );
        let class = crate::data::class_index(&l.class)
            .ok_or_else(|| anyhow::anyhow!("unknown class {:?}", l.class))?;
        let space = l.class_space.ok_or_else(|| {
            anyhow::anyhow!("the pool has no class-space scores (class_text.json)")
        })?;
        let image = decode(&l.image_png)?;
        anyhow::ensure!(image.len() == PIXELS, "an image of the wrong size");
        let f = twin(first, &first_at, l, &image, &decode)?;
        let mean = image.iter().map(|&v| v as f64).sum::<f64>() / PIXELS as f64;
        let mut scores = BTreeMap::from([
            (EyeScore::ULast, l.u as f64),
            (EyeScore::UFirst, f.u as f64),
            (EyeScore::ClipMargin, 1.0 - space.probability as f64),
            (EyeScore::ClassBald, space.bald as f64),
            (EyeScore::PixelVarianceLast, l.pixel_variance as f64),
            (EyeScore::PixelVarianceFirst, f.pixel_variance as f64),
            (EyeScore::Darkness, -mean),
        ]);
        if let (Some(lines), Some(at)) = (of(Perturb::All), &all_at) {
            let a = twin(lines, at, l, &image, &decode)?;
            scores.insert(EyeScore::UAll, a.u as f64);
        }
        for (p, lines) in candidates {
            let Some(s) = candidate_twin(lines, l)? else {
                continue;
            };
            let u = match p {
                Perturb::Last => EyeScore::UStructureLast,
                Perturb::First => EyeScore::UStructureFirst,
                Perturb::All => EyeScore::UStructureAll,
            };
            scores.insert(u, s.u_structure as f64);
            // the scores of the MAP image alone: from the first run that has the generation
            for (score, v) in [
                (EyeScore::Realism, s.realism),
                (EyeScore::RealismClip, s.realism_clip),
                (EyeScore::Trajectory, s.trajectory),
                (EyeScore::JudgeMargin, s.judge_margin),
                (EyeScore::Discriminator, s.discriminator),
            ] {
                scores.entry(score).or_insert(v as f64);
            }
        }
        let (seed, image_png) = (l.seed, l.image_png.clone());
        items.push(PoolItem {
            class,
            seed,
            image,
            image_png,
            scores,
        });
    }
    beyond_ink(&mut items);
    Ok((sampler, items))
}

/// The line of `lines` (indexed by `at`) for `l`'s generation, which must have its sampler
/// and its MAP image `image` (decoded by `decode`) within a grey level: the MAP trajectory is
/// the same whatever the placement, but batches of another size may round differently.
fn twin<'a>(
    lines: &'a [ScoredLine],
    at: &HashMap<(u32, String), usize>,
    l: &ScoredLine,
    image: &[f32],
    decode: &impl Fn(&str) -> anyhow::Result<Vec<f32>>,
) -> anyhow::Result<&'a ScoredLine> {
    let what = || format!("seed {} {}", l.seed, l.class);
    let t = at
        .get(&(l.seed, l.class.clone()))
        .map(|&i| &lines[i])
        .ok_or_else(|| anyhow::anyhow!("{} is missing from a placement's pool", what()))?;
    anyhow::ensure!(
        (t.steps, t.samples) == (l.steps, l.samples),
        "{}: the placements' runs differ in sampler",
        what()
    );
    let other = decode(&t.image_png)?;
    let close = |(a, b): (&f32, &f32)| (a - b).abs() <= 1.5 / crate::data::GREY_HALF;
    anyhow::ensure!(
        other.len() == PIXELS && image.iter().zip(&other).all(close),
        "{}: the placements' MAP images differ",
        what()
    );
    Ok(t)
}

/// The candidate line of `l`'s generation, if the run has it (a run may hold a labelled sample
/// only), which must have its sampler (`genuq label candidates` checked its MAP image against
/// the score line's when it wrote it).
fn candidate_twin<'a>(
    lines: &'a [CandidateLine],
    l: &ScoredLine,
) -> anyhow::Result<Option<&'a CandidateLine>> {
    let Some(s) = lines
        .iter()
        .find(|s| s.seed == l.seed && s.class == l.class)
    else {
        return Ok(None);
    };
    anyhow::ensure!(
        (s.steps, s.samples) == (l.steps, l.samples),
        "seed {} {}: the candidates run's sampler differs",
        l.seed,
        l.class
    );
    Ok(Some(s))
}

/// Adds the `*BeyondInk` scores: within each class, the residual of u on the mean intensity's
/// least-squares line (darkness partialled out).
pub fn beyond_ink(items: &mut [PoolItem]) {
    let pairs = [
        (EyeScore::ULast, EyeScore::ULastBeyondInk),
        (EyeScore::UFirst, EyeScore::UFirstBeyondInk),
        (EyeScore::UAll, EyeScore::UAllBeyondInk),
        (EyeScore::UStructureLast, EyeScore::UStructureLastBeyondInk),
        (
            EyeScore::UStructureFirst,
            EyeScore::UStructureFirstBeyondInk,
        ),
        (EyeScore::UStructureAll, EyeScore::UStructureAllBeyondInk),
        (EyeScore::Realism, EyeScore::RealismBeyondInk),
    ];
    for class in 0..NUM_CLASSES {
        let idx: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].class == class)
            .collect();
        for (from, to) in pairs {
            let xy: Vec<(f64, f64)> = idx
                .iter()
                .filter_map(|&i| {
                    Some((
                        items[i].scores[&EyeScore::Darkness],
                        *items[i].scores.get(&from)?,
                    ))
                })
                .collect();
            // a score of the labelled sample alone (not the pool) gets no line: the sample is
            // not uniform
            if xy.len() < 2 || xy.len() < idx.len() {
                continue;
            }
            let (slope, intercept) = least_squares(&xy);
            for &i in &idx {
                let (x, y) = (items[i].scores[&EyeScore::Darkness], items[i].scores[&from]);
                items[i].scores.insert(to, y - (intercept + slope * x));
            }
        }
    }
}

/// The least-squares line `y = intercept + slope * x` through the points.
pub fn least_squares(xy: &[(f64, f64)]) -> (f64, f64) {
    let n = xy.len() as f64;
    let (mx, my) = (
        xy.iter().map(|p| p.0).sum::<f64>() / n,
        xy.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = xy.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xy.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (slope, my - slope * mx)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A pool item of `class` whose u (last) is `score` and darkness `-score`.
    pub(crate) fn item(class: usize, score: f64) -> PoolItem {
        PoolItem {
            class,
            seed: 0,
            image: vec![0.0; PIXELS],
            image_png: String::new(),
            scores: BTreeMap::from([(EyeScore::ULast, score), (EyeScore::Darkness, -score)]),
        }
    }

    #[test]
    fn beyond_ink_removes_a_linear_ink_term() {
        // u = 1 + 3 * darkness + r, with r orthogonal to 1 and to darkness: r comes back
        let residual = [1.0, -1.0, -1.0, 1.0];
        let mut items: Vec<PoolItem> = (0..4)
            .map(|i| {
                let d = i as f64;
                let mut it = item(0, 0.0);
                it.scores = BTreeMap::from([
                    (EyeScore::Darkness, d),
                    (EyeScore::ULast, 1.0 + 3.0 * d + residual[i]),
                ]);
                it
            })
            .collect();
        beyond_ink(&mut items);
        for (i, it) in items.iter().enumerate() {
            assert!((it.scores[&EyeScore::ULastBeyondInk] - residual[i]).abs() < 1e-12);
        }
        assert!(!items[0].scores.contains_key(&EyeScore::UFirstBeyondInk));
    }

    #[test]
    fn least_squares_closed_form() {
        let (slope, intercept) = least_squares(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]);
        assert!((slope - 2.0).abs() < 1e-12 && (intercept - 1.0).abs() < 1e-12);
    }
}
