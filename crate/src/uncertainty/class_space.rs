//! The paper's framework with a categorical likelihood in CLIP's space: each of the M + 1
//! images gets CLIP's zero-shot class probabilities (softmax over the classes of the cosine
//! between its image embedding and each class's prompt embedding, times CLIP's learned inverse
//! temperature), and the M + 1 distributions give
//!
//! - `class_bald`: the mutual information between the class and the weights,
//!   `H(mean_s p_s) - mean_s H(p_s)` (epistemic: the weight samples disagree on the class);
//! - `class_entropy`: the expected entropy `mean_s H(p_s)` (aleatoric);
//! - `class_probability`: the MAP image's probability of the requested class (a non-Bayesian
//!   baseline; its detection score is `1 - p`);
//! - `class_predictive`: the posterior predictive probability of the requested class,
//!   `mean_s p_s(class)` (the Bayesian model average of the same).
//!
//! The class prompts' text embeddings are computed once by `genuq class-text` from CLIP's text
//! tower and shipped as `models/class_text.json` ([`ClassText`], this file owns its format), so
//! the browser needs no text tower. One implementation, burn tensor ops, for every device.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData, Transaction};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::data::NUM_CLASSES;
use crate::manifest::CLASS_TEXT;
use crate::model::clip::normalize;

/// The classes' prompt embeddings and CLIP's inverse temperature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassText {
    /// `exp(logit_scale)`: cosines times this are the zero-shot logits.
    pub scale: f32,
    /// Embedding width D.
    pub dims: usize,
    /// Per class, the unit-length mean of its prompts' unit text embeddings, `[C][D]`.
    pub embeddings: Vec<Vec<f32>>,
}

impl ClassText {
    /// Parses and checks the file: one finite unit vector of width `dims` per class.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |why: String| Error::Model(format!("{CLASS_TEXT}: {why}"));
        let t: Self = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if t.embeddings.len() != NUM_CLASSES {
            return Err(bad(format!(
                "{} class embeddings, expected {NUM_CLASSES}",
                t.embeddings.len()
            )));
        }
        if !(t.scale.is_finite() && t.scale > 0.0) {
            return Err(bad(format!("scale {} is not a positive number", t.scale)));
        }
        for (c, e) in t.embeddings.iter().enumerate() {
            let norm = e.iter().map(|v| v * v).sum::<f32>().sqrt();
            if e.len() != t.dims || !norm.is_finite() || (norm - 1.0).abs() > 1e-3 {
                return Err(bad(format!(
                    "class {c}'s embedding is not a unit vector of width {}",
                    t.dims
                )));
            }
        }
        Ok(t)
    }

    /// The embeddings as a tensor `[C, D]` on `device`.
    pub fn tensor(&self, device: &burn::tensor::Device) -> Tensor<2> {
        let flat: Vec<f32> = self.embeddings.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [NUM_CLASSES, self.dims]), device)
    }
}

/// The class-space scores of B generations, each `[B]`.
pub struct ClassScores {
    pub bald: Tensor<1>,
    pub entropy: Tensor<1>,
    /// The MAP image's (`s = 0`) probability of the requested class.
    pub probability: Tensor<1>,
    /// The mean over the M + 1 images of the requested class's probability.
    pub predictive: Tensor<1>,
}

impl ClassScores {
    /// Registers the four columns in `tx`, in the order bald, entropy, probability,
    /// predictive ([`ClassColumns::read`] takes them back in that order).
    pub fn register(self, tx: Transaction) -> Transaction {
        tx.register(self.bald)
            .register(self.entropy)
            .register(self.probability)
            .register(self.predictive)
    }
}

/// The class-space scores of N generations read back, one column each.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClassColumns {
    pub bald: Vec<f32>,
    pub entropy: Vec<f32>,
    pub probability: Vec<f32>,
    pub predictive: Vec<f32>,
}

impl ClassColumns {
    /// The four columns [`ClassScores::register`] registered, taken from `next` (a
    /// transaction's results, in order).
    pub fn read(next: &mut impl FnMut() -> Result<TensorData, Error>) -> Result<Self, Error> {
        let mut column = || next().map(|d| d.iter::<f32>().collect::<Vec<f32>>());
        Ok(Self {
            bald: column()?,
            entropy: column()?,
            probability: column()?,
            predictive: column()?,
        })
    }

    /// Appends `other`'s generations.
    pub fn extend(&mut self, other: ClassColumns) {
        self.bald.extend(other.bald);
        self.entropy.extend(other.entropy);
        self.probability.extend(other.probability);
        self.predictive.extend(other.predictive);
    }

    /// The scores of the first generation.
    pub fn first(&self) -> Result<super::ClassSpace, Error> {
        let at = |c: &[f32]| {
            c.first()
                .copied()
                .ok_or_else(|| Error::Device("an empty class score".into()))
        };
        Ok(super::ClassSpace {
            bald: at(&self.bald)?,
            entropy: at(&self.entropy)?,
            probability: at(&self.probability)?,
            predictive: at(&self.predictive)?,
        })
    }
}

/// `-sum_c p log p` over the last axis of `[.., C]` log-probabilities, keeping that axis (1).
fn entropy_of<const D: usize>(logp: Tensor<D>) -> Tensor<D> {
    -(logp.clone().exp() * logp).sum_dim(D - 1)
}

/// The class-space scores of B generations from their M + 1 CLIP image embeddings
/// `emb` `[B, S, D]` (the MAP first), the class text embeddings `text` `[C, D]` (unit rows),
/// CLIP's inverse temperature `scale`, and the requested class of each generation.
pub fn class_scores(
    emb: Tensor<3>,
    text: Tensor<2>,
    scale: f32,
    classes: &[usize],
) -> Result<ClassScores, Error> {
    let [b, s, d] = emb.dims();
    let c = text.dims()[0];
    if classes.len() != b || classes.iter().any(|&k| k >= c) || text.dims()[1] != d {
        return Err(Error::InvalidInput(format!(
            "class scores: {} classes (each < {c}) for {b} generations of width {d}, text {:?}",
            classes.len(),
            text.dims()
        )));
    }
    let device = emb.device();
    let logits = normalize(emb.reshape([b * s, d])).matmul(text.transpose()) * scale;
    let logp = log_softmax(logits, 1).reshape([b, s, c]);
    let expected_entropy = entropy_of(logp.clone()).mean_dim(1).reshape([b]);
    // log of the mean probability, by log-sum-exp over the samples
    let mean_logp = log_mean_exp(logp.clone());
    let predictive_entropy = entropy_of(mean_logp.clone()).reshape([b]);
    let idx: Vec<i64> = classes.iter().map(|&k| k as i64).collect();
    let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [b]), &device);
    let pick = |t: Tensor<2>| t.gather(1, idx.clone().reshape([b, 1])).exp().reshape([b]);
    let map_logp = logp.slice([0..b, 0..1, 0..c]).reshape([b, c]);
    Ok(ClassScores {
        bald: (predictive_entropy - expected_entropy.clone()).clamp_min(0.0),
        entropy: expected_entropy,
        probability: pick(map_logp),
        predictive: pick(mean_logp.reshape([b, c])),
    })
}

/// `log(mean_s exp(x))` over axis 1 of `[B, S, C]` (stable): `[B, 1, C]`.
fn log_mean_exp(x: Tensor<3>) -> Tensor<3> {
    let top = x.clone().max_dim(1);
    (x - top.clone()).exp().mean_dim(1).log() + top
}
