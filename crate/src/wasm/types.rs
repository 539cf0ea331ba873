//! Every object that goes out to JS, as a Rust type: serde gives its shape (camelCase, as JS
//! expects; `None` is `null`) and tsify its TypeScript declaration in `pkg/genuq.d.ts`, so the
//! declarations cannot drift from what the API returns (`request.rs`: what comes in). Types
//! that are the same object natively derive their declarations where they live
//! ([`AdapterInfo`](crate::gpu::AdapterInfo), [`ClassSpace`],
//! [`BenchReport`](crate::bench::BenchReport), [`Perturb`]).

use js_sys::{Array, Uint8ClampedArray};
use serde::Serialize;
use tsify::Tsify;

use crate::data::{CLASS_NAMES, PIXELS, grey_byte};
use crate::uncertainty::{
    ClassSpace, DEFAULT_PERTURB, DEFAULT_SAMPLES, DEFAULT_STEPS, MAX_SAMPLES, Perturb, Request,
    SHIPPED_SCORE, STEPS, ScoreName,
};

/// What `onProgress` gets as a file's bytes arrive.
#[derive(Serialize, Tsify)]
pub struct LoadProgress {
    pub file: String,
    pub loaded: f64,
    pub total: f64,
    pub cached: bool,
}

/// What a generation uses unless told otherwise: the sampler `genuq eval` picked.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Defaults {
    /// The picked step count.
    pub steps: u32,
    /// Where the picked sampler's weight samples act.
    pub perturb: Perturb,
    /// M, the weight samples of a generation.
    pub samples: u32,
    /// The most weight samples a request may ask for.
    pub max_samples: u32,
    /// The score shown beside u (Shipped.score).
    pub score: ScoreName,
    /// The step counts the student samples in.
    pub supported_steps: Vec<u32>,
    /// The ten class names, index order.
    pub class_names: Vec<String>,
}

impl Defaults {
    pub fn shipped() -> Self {
        Defaults {
            steps: DEFAULT_STEPS as u32,
            perturb: DEFAULT_PERTURB,
            samples: DEFAULT_SAMPLES as u32,
            max_samples: MAX_SAMPLES as u32,
            score: SHIPPED_SCORE,
            supported_steps: STEPS.iter().map(|&s| s as u32).collect(),
            class_names: CLASS_NAMES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// What `probeCompute()` answers: would `compute: "auto"` take WebGPU here, and why.
#[derive(Serialize, Tsify)]
pub struct Probe {
    pub webgpu: bool,
    pub reason: String,
}

/// Host milliseconds per stage: `headsMs` (noise, trunk, perturbed heads) and `clipMs` only enqueue
/// GPU work on WebGPU; `readbackMs` waits for all of it. `totalMs` is the wall time, `queuedMs` the
/// wait behind earlier generations.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Timings {
    pub heads_ms: f64,
    pub clip_ms: f64,
    pub readback_ms: f64,
    pub total_ms: f64,
    pub queued_ms: f64,
}

/// The evaluation's flag on the shipped score.
#[derive(Serialize, Tsify)]
pub struct Flag {
    /// Of the evaluation's generations at or above the threshold, the share the independent
    /// classifier put in another class.
    pub precision: f32,
    /// Of the evaluation's wrong-class generations, the share at or above the threshold.
    pub recall: f32,
    pub threshold: f32,
    /// Evaluation generations behind these numbers.
    pub generations: u32,
}

/// The score `genuq eval` ships beside u.
#[derive(Serialize, Tsify)]
#[tsify(missing_as_null)]
pub struct Shipped {
    /// "realism" (the distance to real garments in the structure space), "u",
    /// "clip_margin" (1 - the MAP image's probability of its class), "class_predictive",
    /// "class_bald" or "class_entropy".
    pub score: ScoreName,
    /// Higher = less trustworthy.
    pub value: f32,
    /// Percentage of reference generations of the same class and sampler with a lower value, or
    /// null.
    pub percentile: Option<f32>,
    /// Set where this generation reaches the evaluation's flag threshold, else null.
    pub flag: Option<Flag>,
}

impl From<crate::uncertainty::Shipped> for Shipped {
    fn from(s: crate::uncertainty::Shipped) -> Self {
        Shipped {
            score: s.score,
            value: s.value,
            percentile: s.percentile,
            flag: s.flag.map(|f| Flag {
                precision: f.precision,
                recall: f.recall,
                threshold: f.threshold,
                generations: f.generations as u32,
            }),
        }
    }
}

/// One generation with its uncertainty.
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct Generation {
    pub class: String,
    pub class_index: u32,
    pub seed: u32,
    pub samples: u32,
    pub steps: u32,
    pub perturb: Perturb,
    /// The MAP image, 32x32 RGBA (ready for ImageData).
    #[tsify(type = "Uint8ClampedArray")]
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub image: Uint8ClampedArray,
    /// Per-pixel spread across the M + 1 images, viridis, 32x32 RGBA.
    #[tsify(type = "Uint8ClampedArray")]
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub heatmap: Uint8ClampedArray,
    /// The M perturbed images (32x32 RGBA each) when withSamples was set, else [].
    #[tsify(type = "Uint8ClampedArray[]")]
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub perturbed: Array,
    /// Largest per-pixel standard deviation, in [-1, 1] pixel units.
    pub max_std: f32,
    /// The standard deviation of the heatmap's top colour, in [-1, 1] pixel units.
    pub heatmap_scale: f32,
    /// The paper's generative uncertainty u (higher = less trustworthy).
    pub u: f32,
    /// Percentage of reference generations of the same class (same steps and placement, nearest M)
    /// with a lower u, or null without a reference table for them.
    pub percentile: Option<f32>,
    /// CLIP's zero-shot view of the requested class across the M + 1 images (null without
    /// models/class_text.json).
    pub class_space: Option<ClassSpace>,
    /// The score `genuq eval` ships beside u, its percentile, and the flag where it is reached
    /// (null if the models cannot compute it).
    pub shipped: Option<Shipped>,
    pub timings: Timings,
}

/// Grey `[-1, 1]` pixels -> RGBA8.
fn rgba(gray: &[f32]) -> Uint8ClampedArray {
    let bytes: Vec<u8> = gray
        .iter()
        .flat_map(|&v| {
            let g = grey_byte(v);
            [g, g, g, 255]
        })
        .collect();
    Uint8ClampedArray::from(bytes.as_slice())
}

impl Generation {
    /// The JS view of `g`, made for `req`.
    pub fn new(
        req: &Request,
        with_samples: bool,
        g: crate::uncertainty::Generation,
        queued_ms: f64,
    ) -> Self {
        let perturbed = Array::new();
        if with_samples {
            for s in g.samples.chunks(PIXELS) {
                perturbed.push(&rgba(s));
            }
        }
        let t = &g.timings;
        Generation {
            class: CLASS_NAMES[req.class].into(),
            class_index: req.class as u32,
            seed: req.seed,
            samples: req.samples as u32,
            steps: req.steps as u32,
            perturb: req.perturb,
            image: rgba(&g.image),
            heatmap: Uint8ClampedArray::from(g.heatmap.as_slice()),
            perturbed,
            max_std: g.max_std(),
            heatmap_scale: g.heatmap_scale,
            u: g.u,
            percentile: g.percentile,
            class_space: g.class_space,
            shipped: g.shipped.map(Shipped::from),
            timings: Timings {
                heads_ms: t.heads_ms,
                clip_ms: t.clip_ms,
                readback_ms: t.readback_ms,
                total_ms: t.total_ms,
                queued_ms,
            },
        }
    }
}
