//! One generation and its uncertainty: [`Generation`], what `generate()` returns (pixels,
//! embeddings and scores), and [`GenerationRecord`], what every surface says about it.

use serde::{Deserialize, Serialize};

use super::reference::{self, Flag, ReferenceTable, ScoreName};
use super::request::{Request, SHIPPED_SCORE};
use super::sampler::Perturb;
use crate::data::CLASS_NAMES;

/// Host milliseconds per stage: `heads_ms` (noise, trunk, perturbed heads) and `clip_ms` only
/// enqueue GPU work on WebGPU; `readback_ms` waits for all of it. `total_ms` is their sum,
/// `queued_ms` the wait that is not work: behind earlier generations (the browser API queues
/// them) and, in the first one, for the model files needed last (0 elsewhere).
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "camelCase")
)]
pub struct Timings {
    pub heads_ms: f64,
    pub clip_ms: f64,
    pub readback_ms: f64,
    pub total_ms: f64,
    pub queued_ms: f64,
}

/// What every surface says about one generation: what was asked and every score. One record,
/// serialised by `genuq generate --json`, `genuq score`'s lines, `genuq prerender`'s index and
/// the wasm API, each adding only what is its own (pixels, PNGs, timings). Casing, chosen once
/// by serde attributes: snake_case in the CLI's files, camelCase in JS (the wasm build's
/// attribute; the prerendered index, a file JS reads, converts its keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    target_arch = "wasm32",
    derive(tsify::Tsify),
    serde(rename_all = "camelCase"),
    tsify(missing_as_null)
)]
pub struct GenerationRecord {
    /// The class name ([`CLASS_NAMES`]).
    pub class: String,
    pub seed: u32,
    /// M, the weight samples besides the MAP.
    pub samples: usize,
    pub steps: usize,
    pub perturb: Perturb,
    /// The paper's generative uncertainty u (higher = less trustworthy).
    pub u: f32,
    /// Percentage of reference generations of the same class (same steps and placement,
    /// nearest M) with a lower u, or null without a reference table for them.
    pub percentile: Option<f32>,
    /// CLIP's zero-shot view of the requested class across the M + 1 images (null without
    /// models/class_text.json).
    pub class_space: Option<ClassSpace>,
    /// The realism score (the MAP image's distance to real garments in the structure space;
    /// null without the encoder).
    pub realism: Option<f32>,
    /// The score `genuq eval` ships beside u, its percentile, and the flag where it is reached
    /// (null if the models cannot compute it).
    pub shipped: Option<Shipped>,
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null))]
pub struct Shipped {
    /// "realism" (the distance to real garments in the structure space), "u", "clip_margin"
    /// (1 - the MAP image's probability of its class), "class_predictive", "class_bald" or
    /// "class_entropy".
    pub score: ScoreName,
    /// Higher = less trustworthy.
    pub value: f32,
    /// Percentage of reference generations of the same class and sampler with a lower value.
    pub percentile: Option<f32>,
    /// The evaluation's flag, where this generation reaches its threshold, else null.
    pub flag: Option<Flag>,
}

impl Generation {
    /// What every surface says about this generation, made for `req`.
    pub fn record(&self, req: &Request) -> GenerationRecord {
        GenerationRecord {
            class: CLASS_NAMES[req.class].to_string(),
            seed: req.seed,
            samples: req.samples,
            steps: req.steps,
            perturb: req.perturb,
            u: self.u,
            percentile: self.percentile,
            class_space: self.class_space,
            realism: self.realism,
            shipped: self.shipped,
        }
    }

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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
