//! One generation and its uncertainty ([`Generation`]): the record `generate()` returns, which
//! the CLI, the evaluation and the wasm API read.

use serde::Serialize;

use super::reference::{self, Flag, ReferenceTable, ScoreName};
use super::request::{Request, SHIPPED_SCORE};

/// Host milliseconds per stage: `heads_ms` (noise, trunk, perturbed heads) and `clip_ms` only
/// enqueue GPU work; `readback_ms` waits for all of it. `total_ms` is the wall time.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub heads_ms: f64,
    pub clip_ms: f64,
    pub readback_ms: f64,
    pub total_ms: f64,
}

/// One generation and its uncertainty.
#[derive(Debug, Clone, Serialize)]
pub struct Generation {
    /// The MAP image, `[PIXELS]` in [-1, 1].
    pub image: Vec<f32>,
    /// The M perturbed images, `[M * PIXELS]`.
    pub samples: Vec<f32>,
    /// Per-pixel variance across the M + 1 images, `[PIXELS]`.
    pub variance: Vec<f32>,
    /// The heatmap, RGBA8 `[PIXELS * 4]`.
    pub heatmap: Vec<u8>,
    /// The M + 1 CLIP image embeddings, `[(M + 1) * D]` (MAP first).
    pub embeddings: Vec<f32>,
    /// The paper's generative uncertainty.
    pub u: f32,
    /// Percentage of reference generations of the same class (same sampler, nearest M) with a
    /// lower u, if the reference tables cover this request.
    pub percentile: Option<f32>,
    /// The standard deviation of the heatmap's top colour.
    pub heatmap_scale: f32,
    /// CLIP's view of the requested class across the M + 1 images, if the models folder has
    /// the class prompts' embeddings.
    pub class_space: Option<ClassSpace>,
    /// The realism score ([`realism`]), if the models folder has the encoder.
    pub realism: Option<f32>,
    /// The score the evaluation ships ([`SHIPPED_SCORE`]), if this generation has it.
    pub shipped: Option<Shipped>,
    pub timings: Timings,
}

/// The shipped score of one generation, where it ranks, and whether it is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Shipped {
    pub score: ScoreName,
    /// Higher = less trustworthy.
    pub value: f32,
    /// Percentage of reference generations of the same class and sampler with a lower value.
    pub percentile: Option<f32>,
    /// The evaluation's flag, where this generation reaches its threshold.
    pub flag: Option<Flag>,
}

impl Generation {
    /// The largest per-pixel standard deviation across the M + 1 images.
    pub fn max_std(&self) -> f32 {
        self.variance.iter().copied().fold(0.0f32, f32::max).sqrt()
    }

    /// Sets [`Generation::shipped`] from the reference: the shipped score's value, its
    /// percentile and the flag where it applies and is reached.
    pub(super) fn with_shipped(mut self, req: &Request, reference: &ReferenceTable) -> Self {
        self.shipped = self.score(SHIPPED_SCORE).map(|value| {
            let key = reference::Key {
                score: SHIPPED_SCORE,
                ..req.reference_key()
            };
            let flag = reference.flag.filter(|f| {
                f.applies(SHIPPED_SCORE, req.steps, req.perturb) && value >= f.threshold
            });
            Shipped {
                score: SHIPPED_SCORE,
                value,
                percentile: reference.percentile(value, &key),
                flag,
            }
        });
        self
    }

    /// The value of `score` for this generation (higher = less trustworthy), if it has it.
    pub fn score(&self, score: ScoreName) -> Option<f32> {
        let c = self.class_space;
        match score {
            ScoreName::U => Some(self.u),
            ScoreName::ClipMargin => c.map(|c| 1.0 - c.probability),
            ScoreName::ClassPredictive => c.map(|c| 1.0 - c.predictive),
            ScoreName::ClassBald => c.map(|c| c.bald),
            ScoreName::ClassEntropy => c.map(|c| c.entropy),
            ScoreName::Realism => self.realism,
        }
    }
}

/// The class-space scores of one generation (from `class_space`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct ClassSpace {
    /// The MAP image's zero-shot probability of the requested class.
    pub probability: f32,
    /// The mean over the M + 1 images of that probability (the posterior predictive).
    pub predictive: f32,
    /// Mutual information between the class and the weights, nats (epistemic).
    pub bald: f32,
    /// Expected entropy of the class, nats (aleatoric).
    pub entropy: f32,
}
