//! The generations `genuq eval` judges: `n` class-conditional generations (classes from the
//! counter RNG, generation i from the noise of seed `seed + i`), made by one sampler variant
//! and scored by it: u at nested M, pixel variance, the CLIP embedding variances, and the last
//! layer's input-feature RMS. The MAP images, and the evaluation classifier's view of them
//! (features, prediction, confidence), depend only on the number of steps: [`Maps`].

use std::collections::BTreeMap;

use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, TensorData, Transaction};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::data::{IMAGE_SIZE, NUM_CLASSES, PIXELS};
use crate::kernels::{moments::moments, semantic_entropy::semantic_entropy};
use crate::model::classifier::Classifier;
use crate::model::clip::normalize;
use crate::rng::{self, Stream};
use crate::uncertainty::class_space::ClassColumns;
use crate::uncertainty::readback_error;
use crate::uncertainty::sampler::Perturb;
use crate::uncertainty::{Generator, SAMPLE_COUNTS};

/// A sampler the evaluation scores: its steps, where the weight samples act, and the largest M
/// (smaller M of [`SAMPLE_COUNTS`] are nested in it: their first weight samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Variant {
    pub steps: usize,
    pub perturb: Perturb,
    pub max_samples: usize,
}

impl Variant {
    /// E.g. "4-step all" (one step has no choice of where to perturb: "1-step").
    pub fn name(&self) -> String {
        match self.steps {
            1 => "1-step".into(),
            s => format!("{s}-step {}", self.perturb.name()),
        }
    }

    /// The M of [`SAMPLE_COUNTS`] this variant scores.
    pub fn sample_counts(&self) -> Vec<usize> {
        SAMPLE_COUNTS
            .into_iter()
            .filter(|&m| m <= self.max_samples)
            .collect()
    }
}

/// Reads `tx` back; the closure hands its tensors out in the order they were registered.
pub fn readback(tx: Transaction) -> Result<impl FnMut() -> Result<TensorData, Error>, Error> {
    let mut data = pollster::block_on(tx.execute_async())
        .map_err(readback_error)?
        .into_iter();
    Ok(move || {
        data.next()
            .ok_or_else(|| Error::Device("a result missing from the readback".into()))
    })
}

/// The class of generation `i` of a run seeded `seed`: uniform over the classes.
pub fn class_of(seed: u32, i: usize) -> usize {
    rng::word(seed, Stream::EvalClasses, i as u32) as usize % NUM_CLASSES
}

/// The noise seed of generation `i`.
pub fn noise_seed(seed: u32, i: usize) -> u32 {
    seed.wrapping_add(i as u32)
}

/// What one variant and one draw of weight samples say about each generation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scored {
    pub variant: Option<Variant>,
    pub weight_seed: u32,
    /// u per M.
    pub u: BTreeMap<usize, Vec<f32>>,
    /// Sum over pixels of the per-pixel variance at the largest M of [`SAMPLE_COUNTS`] up to
    /// `MAIN_M` (BayesDiff's score).
    pub pixel_variance: Vec<f32>,
    /// Per-dimension CLIP embedding variances at that M, `[N * D]`.
    pub embedding_variance: Vec<f32>,
    /// Embedding width D.
    pub dims: usize,
    /// RMS of the last layer's input features on the MAP trajectory's last step.
    pub feature_rms: Vec<f32>,
    /// The largest per-pixel standard deviation (the heatmap's own top colour) at that M.
    #[serde(default)]
    pub max_std: Vec<f32>,
    /// Per-dimension variances of the unit-length CLIP embeddings at that M, `[N * D]`.
    #[serde(default)]
    pub unit_embedding_variance: Vec<f32>,
    /// The MAP image's CLIP embedding, `[N * D]`.
    #[serde(default)]
    pub map_embedding: Vec<f32>,
    /// The class-space scores at that M ([`crate::uncertainty::class_space`]), empty without
    /// the class prompts' embeddings.
    #[serde(default)]
    pub class: ClassColumns,
}

/// The evaluation's seed (classes, noise, weight samples, bootstrap), shared by `eval`,
/// `eval-models` and `reference` so their generations and caches are the same.
pub const EVAL_SEED: u32 = 2025;

/// The M whose pixel and embedding variances are kept: the demo's default.
pub const MAIN_M: usize = crate::uncertainty::DEFAULT_SAMPLES;

/// The largest of `counts` up to [`MAIN_M`]: the M whose variances are kept.
pub fn main_m(counts: &[usize]) -> Result<usize, Error> {
    counts
        .iter()
        .copied()
        .filter(|&m| m <= MAIN_M)
        .max()
        .ok_or_else(|| Error::InvalidInput(format!("{counts:?} has no M up to {MAIN_M}")))
}

/// Generates the generations `range` with `variant`, weight samples drawn under `weight_seed`
/// (shared by all generations), and scores them, in batches of `batch`.
pub fn score(
    g: &Generator,
    variant: Variant,
    range: std::ops::Range<usize>,
    seed: u32,
    weight_seed: u32,
    batch: usize,
) -> Result<Scored, Error> {
    let (first, n) = (range.start, range.end);
    let counts = variant.sample_counts();
    let s = variant.max_samples + 1;
    let mut out = Scored {
        variant: Some(variant),
        weight_seed,
        ..Scored::default()
    };
    let bar = ProgressBar::new((n - first) as u64);
    bar.set_message(format!("{} (weight seed {weight_seed})", variant.name()));
    for start in (first..n).step_by(batch.max(1)) {
        let b = batch.min(n - start);
        let classes: Vec<usize> = (start..start + b).map(|i| class_of(seed, i)).collect();
        let seeds: Vec<u32> = (start..start + b).map(|i| noise_seed(seed, i)).collect();
        let t = g.trajectories(
            &classes,
            &seeds,
            s,
            weight_seed,
            variant.steps,
            variant.perturb,
        )?;
        let images = t.images.reshape([b, s, PIXELS]);
        out.append(g, images, &classes, &counts, Some(t.feature_rms))?;
        bar.inc(b as u64);
    }
    bar.finish();
    Ok(out)
}

impl Scored {
    /// Scores a batch of B generations from their MAP + M images `[B, S, PIXELS]` (the MAP
    /// first) and appends every column: u at each of `counts`, the variances at the largest
    /// of them up to [`MAIN_M`], the class-space scores, the MAP embedding, `feature_rms` if
    /// the sampler gave it.
    pub fn append(
        &mut self,
        g: &Generator,
        images: Tensor<3>,
        classes: &[usize],
        counts: &[usize],
        feature_rms: Option<Tensor<1>>,
    ) -> Result<(), Error> {
        let [b, s, _] = images.dims();
        let main = main_m(counts)?;
        let emb = g.embed(images.clone().reshape([b * s, 1, IMAGE_SIZE, IMAGE_SIZE]));
        let d = emb.dims()[1];
        let emb = emb.reshape([b, s, d]);
        let mut tx = Transaction::default();
        for &m in counts {
            tx = tx.register(semantic_entropy(emb.clone().slice([0..b, 0..m + 1, 0..d]))?);
        }
        let (_, var) = moments(images.slice([0..b, 0..main + 1]))?;
        let main_emb = emb.slice([0..b, 0..main + 1, 0..d]);
        let (_, emb_var) = moments(main_emb.clone())?;
        let unit = normalize(main_emb.clone().reshape([b * (main + 1), d]));
        let (_, unit_var) = moments(unit.reshape([b, main + 1, d]))?;
        let class = g.class_scores(main_emb.clone().reshape([b * (main + 1), d]), classes)?;
        tx = tx
            .register(var.clone().sum_dim(1))
            .register(var.max_dim(1).sqrt())
            .register(emb_var)
            .register(unit_var)
            .register(main_emb.slice([0..b, 0..1, 0..d]));
        if let Some(c) = class {
            tx = c.register(tx);
        }
        if let Some(rms) = &feature_rms {
            tx = tx.register(rms.clone());
        }
        let mut next = readback(tx)?;
        for &m in counts {
            self.u.entry(m).or_default().extend(next()?.iter::<f32>());
        }
        self.pixel_variance.extend(next()?.iter::<f32>());
        self.max_std.extend(next()?.iter::<f32>());
        self.embedding_variance.extend(next()?.iter::<f32>());
        self.unit_embedding_variance.extend(next()?.iter::<f32>());
        self.map_embedding.extend(next()?.iter::<f32>());
        if g.class_text.is_some() {
            self.class.extend(ClassColumns::read(&mut next)?);
        }
        if feature_rms.is_some() {
            self.feature_rms.extend(next()?.iter::<f32>());
        }
        self.dims = d;
        Ok(())
    }
}

/// The MAP images of `n` generations with `steps` steps and the classifier's view of them.
#[derive(Debug, Clone, Default)]
pub struct Maps {
    pub steps: usize,
    pub classes: Vec<usize>,
    /// `[N * PIXELS]`.
    pub images: Vec<f32>,
    /// The classifier's features, `[N * FEATURES]`.
    pub features: Vec<f32>,
    pub predictions: Vec<i64>,
    /// The classifier's probability of its prediction.
    pub confidence: Vec<f32>,
    /// The sum over pixels of the variance, across the steps, of the clean image each step
    /// predicts (Aithal et al.'s trajectory spread; 0 with one step).
    pub trajectory_variance: Vec<f32>,
}

impl Maps {
    /// Generations the classifier puts in another class than the one asked for.
    pub fn wrong_class(&self) -> Vec<bool> {
        self.predictions
            .iter()
            .zip(&self.classes)
            .map(|(&p, &c)| p != c as i64)
            .collect()
    }
}

/// Aithal et al.'s trajectory spread of B generations from the clean image each step predicted
/// (one `[B, 1, H, W]` per step): the sum over pixels of the variance across the steps, `[B]`.
pub fn trajectory_variance(predictions: Vec<Tensor<4>>) -> Tensor<1> {
    let b = predictions.first().map_or(0, |p| p.dims()[0]);
    Tensor::stack::<3>(
        predictions
            .into_iter()
            .map(|p| p.reshape([b, PIXELS]))
            .collect(),
        1,
    )
    .var_bias(1)
    .sum_dim(2)
    .reshape([b])
}

/// The MAP images (the student's plain sampler) of the first `n` generations under `seed`, in
/// batches of `batch`, and the classifier's features, predictions and confidence.
pub fn maps(
    g: &Generator,
    classifier: &Classifier,
    steps: usize,
    n: usize,
    seed: u32,
    batch: usize,
) -> Result<Maps, Error> {
    let mut out = Maps {
        steps,
        ..Maps::default()
    };
    let bar = ProgressBar::new(n as u64);
    bar.set_message(format!("{steps}-step MAP images"));
    for start in (0..n).step_by(batch.max(1)) {
        let b = batch.min(n - start);
        let classes: Vec<usize> = (start..start + b).map(|i| class_of(seed, i)).collect();
        let seeds: Vec<u32> = (start..start + b).map(|i| noise_seed(seed, i)).collect();
        let (images, predictions) = g.plain_traced(&classes, &seeds, steps)?;
        let spread = trajectory_variance(predictions);
        out.judge_batch(classifier, images, classes, spread)?;
        bar.inc(b as u64);
    }
    bar.finish();
    Ok(out)
}

/// Another sampler's MAP images `[N * PIXELS]` of the generations of `classes`, judged by the
/// classifier (no trajectory spread: zeros), as [`Maps`] of `steps` steps.
pub fn judge_images(
    classifier: &Classifier,
    images: Vec<f32>,
    classes: Vec<usize>,
    steps: usize,
    device: &burn::tensor::Device,
) -> Result<Maps, Error> {
    let mut out = Maps {
        steps,
        ..Maps::default()
    };
    for (chunk, cls) in images.chunks(256 * PIXELS).zip(classes.chunks(256)) {
        let b = cls.len();
        let x = Tensor::<4>::from_data(
            TensorData::new(chunk.to_vec(), [b, 1, IMAGE_SIZE, IMAGE_SIZE]),
            device,
        );
        out.judge_batch(classifier, x, cls.to_vec(), Tensor::zeros([b], device))?;
    }
    Ok(out)
}

impl Maps {
    /// Appends a batch: its MAP images `[B, 1, H, W]`, their classes and trajectory spread
    /// `[B]`, and the classifier's features, prediction and confidence on them.
    fn judge_batch(
        &mut self,
        classifier: &Classifier,
        images: Tensor<4>,
        classes: Vec<usize>,
        spread: Tensor<1>,
    ) -> Result<(), Error> {
        let features = classifier.features(images.clone());
        let logits = classifier.forward_features(features.clone());
        let confidence = softmax(logits.clone(), 1).max_dim(1);
        let tx = Transaction::default()
            .register(images)
            .register(features)
            .register(confidence)
            .register(logits.argmax(1))
            .register(spread);
        let mut next = readback(tx)?;
        self.images.extend(next()?.iter::<f32>());
        self.features.extend(next()?.iter::<f32>());
        self.confidence.extend(next()?.iter::<f32>());
        self.predictions.extend(next()?.iter::<i64>());
        self.trajectory_variance.extend(next()?.iter::<f32>());
        self.classes.extend(classes);
        Ok(())
    }
}

impl Scored {
    /// Appends the generations of `next` (the same variant and draw) after these.
    pub fn concat(&mut self, next: Scored) {
        for (m, u) in next.u {
            self.u.entry(m).or_default().extend(u);
        }
        self.pixel_variance.extend(next.pixel_variance);
        self.embedding_variance.extend(next.embedding_variance);
        self.feature_rms.extend(next.feature_rms);
        self.max_std.extend(next.max_std);
        self.unit_embedding_variance
            .extend(next.unit_embedding_variance);
        self.map_embedding.extend(next.map_embedding);
        self.class.extend(next.class);
    }
}
