//! Every object that goes out to JS, as a Rust type: serde gives its shape (camelCase, as JS
//! expects; `None` is `null`) and tsify its TypeScript declaration in `pkg/genuq.d.ts`, so the
//! declarations cannot drift from what the API returns (`request.rs`: what comes in). Types
//! that are the same object natively derive their declarations where they live
//! ([`AdapterInfo`](crate::gpu::AdapterInfo), [`GenerationRecord`] with its class-space
//! scores, shipped score and flag, [`Timings`], [`BenchReport`](crate::bench::BenchReport),
//! [`Perturb`]).

use js_sys::{Array, Uint8ClampedArray};
use serde::Serialize;
use tsify::Tsify;

use crate::data::{CLASS_NAMES, PIXELS, grey_byte};
use crate::uncertainty::{
    DEFAULT_PERTURB, DEFAULT_SAMPLES, DEFAULT_STEPS, GenerationRecord, MAX_SAMPLES, Perturb,
    Request, SHIPPED_SCORE, STEPS, ScoreName, Timings,
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

/// One generation with its uncertainty: the record every surface shares, with what only JS
/// gets (its pixels as RGBA arrays, the class's index, the spread and the timings).
#[derive(Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
#[tsify(missing_as_null)]
pub struct Generation {
    #[serde(flatten)]
    pub record: GenerationRecord,
    pub class_index: u32,
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
        Generation {
            record: g.record(req),
            class_index: req.class as u32,
            image: rgba(&g.image),
            heatmap: Uint8ClampedArray::from(g.heatmap.as_slice()),
            perturbed,
            max_std: g.max_std(),
            heatmap_scale: g.heatmap_scale,
            timings: Timings {
                queued_ms,
                ..g.timings
            },
        }
    }
}
