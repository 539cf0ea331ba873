//! The generations `genuq eval` judges: `n` class-conditional generations (classes from the
//! counter RNG, generation i from the noise of seed `seed + i`), made by one sampler variant
//! and scored by it: u at nested M, pixel variance, the CLIP embedding variances, and the last
//! layer's input-feature RMS. The MAP images, and the evaluation classifier's view of them
//! (features, prediction, confidence), depend only on the number of steps: [`Maps`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use burn::tensor::activation::softmax;
use burn::tensor::{TensorData, Transaction};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::data::{IMAGE_SIZE, NUM_CLASSES, PIXELS};
use crate::kernels::{moments::moments, semantic_entropy::semantic_entropy};
use crate::manifest::{CLIP_IMAGE, Manifest, POSTERIOR, STUDENT};
use crate::model::classifier::Classifier;
use crate::rng::{self, Stream};
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
fn readback(tx: Transaction) -> Result<impl FnMut() -> Result<TensorData, Error>, Error> {
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
fn noise_seed(seed: u32, i: usize) -> u32 {
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
}

/// The M whose pixel and embedding variances are kept: the demo's default.
pub const MAIN_M: usize = 8;

/// Generates `n` generations with `variant`, weight samples drawn under `weight_seed` (shared
/// by all generations), and scores them, in batches of `batch`.
pub fn score(
    g: &Generator,
    variant: Variant,
    n: usize,
    seed: u32,
    weight_seed: u32,
    batch: usize,
) -> Result<Scored, Error> {
    let counts = variant.sample_counts();
    let s = variant.max_samples + 1;
    let main = counts
        .iter()
        .copied()
        .filter(|&m| m <= MAIN_M)
        .max()
        .ok_or_else(|| Error::InvalidInput(format!("{variant:?} scores no M")))?;
    let mut out = Scored {
        variant: Some(variant),
        weight_seed,
        ..Scored::default()
    };
    let bar = ProgressBar::new(n as u64);
    bar.set_message(format!("{} (weight seed {weight_seed})", variant.name()));
    for start in (0..n).step_by(batch.max(1)) {
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
        let images = t.images;
        let emb = g.embed(images.clone().reshape([b * s, 1, IMAGE_SIZE, IMAGE_SIZE]));
        let d = emb.dims()[1];
        let emb = emb.reshape([b, s, d]);
        let mut tx = Transaction::default();
        for &m in &counts {
            tx = tx.register(semantic_entropy(emb.clone().slice([0..b, 0..m + 1, 0..d]))?);
        }
        let (_, var) = moments(
            images
                .slice([0..b, 0..main + 1])
                .reshape([b, main + 1, PIXELS]),
        )?;
        let (_, emb_var) = moments(emb.slice([0..b, 0..main + 1, 0..d]))?;
        let tx = tx
            .register(var.clone().sum_dim(1))
            .register(var.max_dim(1).sqrt())
            .register(emb_var)
            .register(t.feature_rms);
        let mut next = readback(tx)?;
        for &m in &counts {
            out.u.entry(m).or_default().extend(next()?.iter::<f32>());
        }
        out.pixel_variance.extend(next()?.iter::<f32>());
        out.max_std.extend(next()?.iter::<f32>());
        out.embedding_variance.extend(next()?.iter::<f32>());
        out.feature_rms.extend(next()?.iter::<f32>());
        out.dims = d;
        bar.inc(b as u64);
    }
    bar.finish();
    Ok(out)
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
        let images = g.plain_batch(&classes, &seeds, steps)?.to_device(&g.nets);
        let features = classifier.features(images.clone());
        let logits = classifier.forward_features(features.clone());
        let confidence = softmax(logits.clone(), 1).max_dim(1);
        let tx = Transaction::default()
            .register(images)
            .register(features)
            .register(confidence)
            .register(logits.argmax(1));
        let mut next = readback(tx)?;
        out.images.extend(next()?.iter::<f32>());
        out.features.extend(next()?.iter::<f32>());
        out.confidence.extend(next()?.iter::<f32>());
        out.predictions.extend(next()?.iter::<i64>());
        out.classes.extend(classes);
        bar.inc(b as u64);
    }
    bar.finish();
    Ok(out)
}

/// The cache folder of the models in `models` under `cache`: a new student, posterior or CLIP
/// starts afresh.
pub fn cache_dir(models: &Path, cache: &Path) -> anyhow::Result<PathBuf> {
    let manifest = Manifest::read(models)?;
    let mut key = String::new();
    for name in [STUDENT, POSTERIOR, CLIP_IMAGE] {
        key.push_str(&manifest.entry(name)?.sha256[..8]);
    }
    Ok(cache.join(key))
}

/// [`score`], from the cache folder `dir` when it was scored before, else made and cached
/// (written to a temporary file, then renamed: an interrupted run leaves no half file).
pub fn cached_score(
    g: &Generator,
    dir: &Path,
    variant: Variant,
    n: usize,
    seed: u32,
    weight_seed: u32,
    batch: usize,
) -> anyhow::Result<Scored> {
    let name = format!(
        "{}-{}-m{}-n{n}-s{seed}-w{weight_seed}.json",
        variant.steps,
        variant.perturb.name(),
        variant.max_samples,
    );
    let path = dir.join(name);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return serde_json::from_str(&text)
            .with_context(|| format!("{} is corrupt: delete it to score afresh", path.display()));
    }
    let scored = score(g, variant, n, seed, weight_seed, batch)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_string(&scored)?)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(scored)
}
