//! The generations `genuq eval` judges: `n` class-conditional generations (classes from the
//! counter RNG, generation i from the noise of seed `seed + i`), each with everything the
//! methods score it by: u at nested M, pixel variance, its CLIP embedding variances, and the
//! evaluation classifier's features, prediction and confidence of its MAP image.

use std::collections::BTreeMap;

use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, Transaction};
use indicatif::ProgressBar;

use crate::Error;
use crate::data::{IMAGE_SIZE, NUM_CLASSES, PIXELS};
use crate::kernels::{moments::moments, semantic_entropy::semantic_entropy};
use crate::model::classifier::Classifier;
use crate::rng::{self, Stream};
use crate::uncertainty::Generator;

/// The M values scored, nested: M = 2 uses the first two of the largest M's weight samples.
pub const SAMPLE_COUNTS: [usize; 4] = [2, 5, 8, 16];
/// The M of the `genuq` row, the pixel-variance baseline and the demo's default.
pub const MAIN_M: usize = 8;

/// Everything measured per generation.
#[derive(Default)]
pub struct Scored {
    pub classes: Vec<usize>,
    /// MAP images, `[N * PIXELS]`.
    pub maps: Vec<f32>,
    /// The classifier's features of the MAP images, `[N * FEATURES]`.
    pub features: Vec<f32>,
    pub predictions: Vec<i64>,
    pub confidence: Vec<f32>,
    /// u per M.
    pub u: BTreeMap<usize, Vec<f32>>,
    /// Sum over pixels of the per-pixel variance at M = `MAIN_M`.
    pub pixel_variance: Vec<f32>,
    /// Per-dimension CLIP embedding variances at M = `MAIN_M`, `[N * D]`.
    pub embedding_variance: Vec<f32>,
    /// Embedding width D.
    pub dims: usize,
}

/// The class of generation `i` of a run seeded `seed`: uniform over the classes.
pub fn class_of(seed: u32, i: usize) -> usize {
    rng::word(seed, Stream::EvalClasses, i as u32) as usize % NUM_CLASSES
}

/// Generates and scores `n` generations in batches of `batch`; the weight samples are drawn
/// under `seed` and shared by all generations.
pub fn score(
    g: &Generator,
    classifier: &Classifier,
    n: usize,
    seed: u32,
    batch: usize,
) -> Result<Scored, Error> {
    let m_max = SAMPLE_COUNTS[SAMPLE_COUNTS.len() - 1];
    let s = m_max + 1;
    let mut out = Scored::default();
    let bar = ProgressBar::new(n as u64);
    bar.set_message("generate and score");
    let readback = |e| Error::Device(format!("readback failed: {e:?}"));
    for start in (0..n).step_by(batch.max(1)) {
        let b = batch.min(n - start);
        let classes: Vec<usize> = (start..start + b).map(|i| class_of(seed, i)).collect();
        let seeds: Vec<u32> = (start..start + b)
            .map(|i| seed.wrapping_add(i as u32))
            .collect();
        let images = g.images_batch(&classes, &seeds, m_max, seed)?;
        let emb = g.embed(images.clone().reshape([b * s, 1, IMAGE_SIZE, IMAGE_SIZE]));
        let d = emb.dims()[1];
        let emb = emb.reshape([b, s, d]);
        let mut tx = Transaction::default();
        for m in SAMPLE_COUNTS {
            tx = tx.register(semantic_entropy(emb.clone().slice([0..b, 0..m + 1, 0..d]))?);
        }
        let main = images
            .clone()
            .slice([0..b, 0..MAIN_M + 1])
            .reshape([b, MAIN_M + 1, PIXELS]);
        let (_, var) = moments(main)?;
        let map: Tensor<4> = images.slice([0..b, 0..1]).to_device(&g.nets);
        let features = classifier.features(map.clone());
        let logits = classifier.forward_features(features.clone());
        let confidence = softmax(logits.clone(), 1).max_dim(1);
        let (_, emb_var) = moments(emb.slice([0..b, 0..MAIN_M + 1, 0..d]))?;
        let tx = tx.register(var.sum_dim(1)).register(emb_var);
        let gpu = tx.execute().into_iter();
        let cpu = Transaction::default()
            .register(map)
            .register(features)
            .register(confidence)
            .register(logits.argmax(1))
            .execute();
        let mut data = gpu.chain(cpu);
        let mut next = || {
            data.next()
                .ok_or_else(|| readback("a result missing from the transaction"))
        };
        for m in SAMPLE_COUNTS {
            out.u.entry(m).or_default().extend(next()?.iter::<f32>());
        }
        out.pixel_variance.extend(next()?.iter::<f32>());
        out.embedding_variance.extend(next()?.iter::<f32>());
        out.dims = d;
        out.maps.extend(next()?.iter::<f32>());
        out.features.extend(next()?.iter::<f32>());
        out.confidence.extend(next()?.iter::<f32>());
        out.predictions.extend(next()?.iter::<i64>());
        out.classes.extend(classes);
        bar.inc(b as u64);
    }
    bar.finish();
    Ok(out)
}
