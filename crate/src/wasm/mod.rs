//! The browser API (wasm-bindgen): `Genuq.load(src, {compute, onProgress})` then
//! `genuq.generate({...})`, on WebGPU or on the CPU path (see `compute.rs`).
//! Every failure is a rejected promise whose `Error.name` says what kind it is
//! (`GenuqInputError`, `GenuqModelError`, `GenuqDeviceError`, `GenuqDeviceLostError`) and whose
//! message says what to do.

mod compute;
mod loader;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array, Uint8ClampedArray};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::Error;
use crate::data::{CLASS_NAMES, PIXELS, class_index};
use crate::gpu::{AdapterInfo, Compute};
use crate::uncertainty::load::{OPTIONAL, REQUIRED};
use crate::uncertainty::{
    ClassSpace, DEFAULT_PERTURB, DEFAULT_SAMPLES, DEFAULT_STEPS, Generation, Generator,
    MAX_SAMPLES, Perturb, Request, SHIPPED_SCORE, STEPS, Shipped,
};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export interface GenerateRequest {
  /** A class index 0-9 or a name from classNames(), e.g. "sneaker". */
  class: number | string;
  /** The initial noise's seed, an integer 0..=4294967295. */
  seed: number;
  /** M, weight samples besides the MAP, 1..=32 (default 8). */
  samples?: number;
  /** Euler steps of the student: 1, 2 or 4 (default: the one `genuq eval` picked). */
  steps?: number;
  /** Where the weight samples act: at "all" steps (the paper's way), the "first" or the "last" (default: the one `genuq eval` picked). */
  perturb?: "all" | "first" | "last";
  /** Also return the M perturbed images (default false). */
  withSamples?: boolean;
  /** The heatmap's top colour: "own" (this image's largest spread, the default), "reference" (the 95th percentile over reference generations of this sampler, so heatmaps can be compared), or a standard deviation. */
  heatmapScale?: "own" | "reference" | number;
}
export interface Timings { heads_ms: number; clip_ms: number; readback_ms: number; total_ms: number; queued_ms: number }
export interface Generation {
  class: string; classIndex: number; seed: number; samples: number; steps: number; perturb: "all" | "first" | "last";
  /** The MAP image, 32x32 RGBA (ready for ImageData). */
  image: Uint8ClampedArray;
  /** Per-pixel spread across the M + 1 images, viridis, 32x32 RGBA. */
  heatmap: Uint8ClampedArray;
  /** The M perturbed images (32x32 RGBA each) when withSamples was set, else []. */
  perturbed: Uint8ClampedArray[];
  /** Largest per-pixel standard deviation, in [-1, 1] pixel units. */
  maxStd: number;
  /** The standard deviation of the heatmap's top colour, in [-1, 1] pixel units. */
  heatmapScale: number;
  /** The paper's generative uncertainty u (higher = less trustworthy). */
  u: number;
  /** Percentage of reference generations of the same class (same steps and placement, nearest M) with a lower u, or null without a reference table for them. */
  percentile: number | null;
  /** CLIP's zero-shot view of the requested class across the M + 1 images (null without models/class_text.json). */
  classSpace: ClassSpace | null;
  /** The score `genuq eval` ships beside u, its percentile, and the flag where it is reached (null if the models cannot compute it). */
  shipped: Shipped | null;
  timings: Timings;
}
export interface ClassSpace {
  /** The MAP image's zero-shot probability of the requested class. */
  probability: number;
  /** The mean of that probability over the M + 1 images (the posterior predictive). */
  predictive: number;
  /** Mutual information between the class and the weights, nats (epistemic). */
  bald: number;
  /** Expected entropy of the class, nats (aleatoric). */
  entropy: number;
}
export interface Flag {
  /** Of the evaluation's generations at or above the threshold, the share the independent classifier put in another class. */
  precision: number;
  /** Of the evaluation's wrong-class generations, the share at or above the threshold. */
  recall: number;
  threshold: number;
  /** Evaluation generations behind these numbers. */
  generations: number;
}
export interface Shipped {
  /** "genuq" (u), "clip_margin" (1 - the MAP image's probability of its class), "class_predictive", "class_bald" or "class_entropy". */
  score: string;
  /** Higher = less trustworthy. */
  value: number;
  /** Percentage of reference generations of the same class and sampler with a lower value, or null. */
  percentile: number | null;
  /** Set where this generation reaches the evaluation's flag threshold, else null. */
  flag: Flag | null;
}
export interface Defaults {
  /** The sampler `genuq eval` picked: its step count and where its weight samples act. */
  steps: number; perturb: "all" | "first" | "last"; samples: number;
  /** The most weight samples a request may ask for. */
  maxSamples: number;
  /** The score shown beside u (a Shipped.score name). */
  score: string;
  /** The step counts the student samples in. */
  supportedSteps: number[];
}
export interface LoadProgress { file: string; loaded: number; total: number; cached: boolean }
export interface LoadOptions {
  /** "auto" (the default): WebGPU on a hardware adapter, else the CPU; "webgpu": WebGPU or an error; "cpu": the CPU (wasm SIMD128, one thread). */
  compute?: "auto" | "webgpu" | "cpu";
  onProgress?: (p: LoadProgress) => void;
  /** Model files fetched before (another instance's modelFiles()): used instead of fetching, after the same sha256 check. */
  files?: Record<string, Uint8Array>;
}
export interface Adapter {
  name: string; backend: string; vendor: number; device_type: string; driver: string;
  /** The path the models run on. */
  compute: "webgpu" | "cpu";
  /** Why that path (e.g. "the only WebGPU adapter (google swiftshader) is a software one, ..."). */
  reason: string;
}
"#;

fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(match e {
        Error::InvalidInput(_) => "GenuqInputError",
        Error::Model(_) => "GenuqModelError",
        Error::Device(_) => "GenuqDeviceError",
        Error::DeviceLost(_) => "GenuqDeviceLostError",
    });
    err.into()
}

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// The ten class names, index order.
#[wasm_bindgen(js_name = classNames)]
pub fn class_names() -> Vec<String> {
    CLASS_NAMES.iter().map(|s| s.to_string()).collect()
}

/// What a generation uses unless told otherwise: the sampler the evaluation picked.
#[wasm_bindgen(unchecked_return_type = "Defaults")]
pub fn defaults() -> JsValue {
    let out = Object::new();
    set(&out, "steps", DEFAULT_STEPS as u32);
    set(&out, "perturb", DEFAULT_PERTURB.name());
    set(&out, "samples", DEFAULT_SAMPLES as u32);
    set(&out, "maxSamples", MAX_SAMPLES as u32);
    set(&out, "score", SHIPPED_SCORE.name());
    let steps = Array::new();
    for s in STEPS {
        steps.push(&JsValue::from(s as u32));
    }
    set(&out, "supportedSteps", steps);
    out.into()
}

/// The heatmap's colours as a strip `width` pixels wide and one high (RGBA, left = no spread,
/// right = the heatmap's top colour): the colormap kernel's CPU twin, so the colour bar beside a
/// heatmap is the heatmap's own scale.
#[wasm_bindgen(js_name = colorBar)]
pub fn color_bar(width: u32) -> Uint8ClampedArray {
    let w = width.max(2);
    let bytes: Vec<u8> = (0..w)
        .flat_map(|i| {
            let t = i as f64 / (w - 1) as f64;
            crate::kernels::colormap::reference(t * t, 1.0)
        })
        .collect();
    Uint8ClampedArray::from(bytes.as_slice())
}

/// The compute path `compute` ("auto" when undefined) gets on this page, and why; on WebGPU it
/// initialises the page's device (once).
#[wasm_bindgen(js_name = adapterInfo, unchecked_return_type = "Adapter")]
pub async fn adapter_info(
    #[wasm_bindgen(unchecked_param_type = "\"auto\" | \"webgpu\" | \"cpu\" | undefined")]
    compute: Option<String>,
) -> Result<JsValue, JsValue> {
    let compute = Compute::parse(compute.as_deref().unwrap_or("auto")).map_err(|e| js_error(&e))?;
    let gpu = compute::device_for(compute)
        .await
        .map_err(|e| js_error(&e))?;
    Ok(serde_wasm_bindgen::to_value(&gpu.adapter).expect("plain struct"))
}

/// Whether `compute: "auto"` takes WebGPU here, from `navigator.gpu` alone (wgpu is not
/// started, so the CPU-only module answers it): `{webgpu, reason}`.
#[wasm_bindgen(js_name = probeCompute, unchecked_return_type = "Promise<{ webgpu: boolean; reason: string }>")]
pub fn probe_compute() -> Promise {
    future_to_promise(async {
        let out = Object::new();
        let (webgpu, reason) = match compute::auto_choice().await {
            Ok(name) => (true, format!("a hardware WebGPU adapter ({name})")),
            Err(why) => (false, why),
        };
        set(&out, "webgpu", webgpu);
        set(&out, "reason", reason);
        Ok(out.into())
    })
}

/// `Genuq.load`'s second argument: the progress callback alone, or `{compute, onProgress, files}`.
#[derive(Default)]
struct LoadOptions {
    compute: Compute,
    progress: Option<Function>,
    /// Model files fetched before (name -> bytes), checked against the manifest as fetched ones.
    files: HashMap<String, Vec<u8>>,
}

fn load_options(options: &JsValue) -> Result<LoadOptions, Error> {
    if options.is_undefined() || options.is_null() {
        return Ok(LoadOptions::default());
    }
    if let Some(f) = options.dyn_ref::<Function>() {
        return Ok(LoadOptions {
            progress: Some(f.clone()),
            ..LoadOptions::default()
        });
    }
    if !options.is_object() {
        return Err(Error::InvalidInput(
            "load() takes (src, {compute?, onProgress?, files?}) or (src, onProgress)".into(),
        ));
    }
    let compute = match field(options, "compute") {
        None => Compute::Auto,
        Some(v) => Compute::parse(&v.as_string().unwrap_or_else(|| format!("{v:?}")))?,
    };
    let progress = match field(options, "onProgress") {
        None => None,
        Some(v) => Some(
            v.dyn_into::<Function>()
                .map_err(|_| Error::InvalidInput("onProgress: not a function".into()))?,
        ),
    };
    let files = match field(options, "files") {
        None => HashMap::new(),
        Some(v) => files_from_js(&v)?,
    };
    Ok(LoadOptions {
        compute,
        progress,
        files,
    })
}

/// `{name: Uint8Array}` -> name -> bytes.
fn files_from_js(obj: &JsValue) -> Result<HashMap<String, Vec<u8>>, Error> {
    let bad = |why: &str| Error::InvalidInput(format!("files: {why}"));
    let obj: &Object = obj.dyn_ref().ok_or_else(|| bad("not an object"))?;
    Object::entries(obj)
        .iter()
        .map(|pair| {
            let pair: Array = pair.unchecked_into();
            let name = pair
                .get(0)
                .as_string()
                .ok_or_else(|| bad("a name is not a string"))?;
            let bytes: Uint8Array = pair
                .get(1)
                .dyn_into()
                .map_err(|_| bad(&format!("{name} is not a Uint8Array")))?;
            Ok((name, bytes.to_vec()))
        })
        .collect()
}

/// The loaded models on the page's WebGPU device, or on the CPU. One per page is enough: generations are
/// queued, so any number of widgets can share it.
#[wasm_bindgen]
pub struct Genuq {
    generator: Rc<Generator>,
    adapter: AdapterInfo,
    /// The verified model files (manifest.json too), for other workers' `load({files})`.
    files: HashMap<String, Vec<u8>>,
    /// The last queued generation: the next one starts when it settles.
    tail: RefCell<Promise>,
}

fn field(obj: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(obj, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn integer(obj: &JsValue, key: &str, default: Option<u64>, max: u64) -> Result<u64, Error> {
    let bad = |why: String| Error::InvalidInput(format!("{key}: {why}"));
    let Some(v) = field(obj, key) else {
        return default.ok_or_else(|| bad("missing".into()));
    };
    let n = v
        .as_f64()
        .ok_or_else(|| bad(format!("{v:?} is not a number")))?;
    if n.fract() != 0.0 || n < 0.0 || n > max as f64 {
        return Err(bad(format!("{n} is not an integer in 0..={max}")));
    }
    Ok(n as u64)
}

/// The heatmap's top colour a request asks for.
#[derive(Debug, Clone, Copy)]
enum Scale {
    Own,
    Reference,
    Fixed(f32),
}

impl Scale {
    fn parse(obj: &JsValue) -> Result<Self, Error> {
        match field(obj, "heatmapScale") {
            None => Ok(Scale::Own),
            Some(v) => match (v.as_string().as_deref(), v.as_f64()) {
                (Some("own"), _) => Ok(Scale::Own),
                (Some("reference"), _) => Ok(Scale::Reference),
                (None, Some(x)) => Ok(Scale::Fixed(x as f32)),
                _ => Err(Error::InvalidInput(format!(
                    "heatmapScale: {v:?} is not \"own\", \"reference\" or a number"
                ))),
            },
        }
    }

    /// The standard deviation for the heatmap's top colour (None: the image's own largest).
    fn resolve(self, g: &Generator, req: &Request) -> Result<Option<f32>, Error> {
        match self {
            Scale::Own => Ok(None),
            Scale::Fixed(x) => Ok(Some(x)),
            Scale::Reference => g
                .reference
                .heatmap_scale(req.steps, req.perturb)
                .map(Some)
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "heatmapScale: the reference has no scale for {} steps with weight samples at {:?} steps",
                        req.steps,
                        req.perturb.name()
                    ))
                }),
        }
    }
}

/// A request object from JS, checked field by field.
fn parse_request(obj: &JsValue) -> Result<(Request, bool, Scale), Error> {
    if !obj.is_object() {
        return Err(Error::InvalidInput(
            "generate() takes an object {class, seed, samples?, steps?, perturb?}".into(),
        ));
    }
    let class = match field(obj, "class") {
        None => return Err(Error::InvalidInput("class: missing".into())),
        Some(v) => match (v.as_string(), v.as_f64()) {
            (Some(name), _) => class_index(&name).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "class {name:?} is not one of {}",
                    CLASS_NAMES.join(", ")
                ))
            })?,
            (None, Some(_)) => integer(obj, "class", None, 9)? as usize,
            _ => return Err(Error::InvalidInput("class: not a number or a name".into())),
        },
    };
    let perturb = match field(obj, "perturb") {
        None => DEFAULT_PERTURB,
        Some(v) => v
            .as_string()
            .and_then(|p| Perturb::parse(&p))
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "perturb: {v:?} is not \"all\", \"first\" or \"last\""
                ))
            })?,
    };
    let req = Request {
        class,
        seed: integer(obj, "seed", None, u32::MAX as u64)? as u32,
        samples: integer(
            obj,
            "samples",
            Some(DEFAULT_SAMPLES as u64),
            u32::MAX as u64,
        )? as usize,
        steps: integer(obj, "steps", Some(DEFAULT_STEPS as u64), u32::MAX as u64)? as usize,
        perturb,
    };
    req.validate()?;
    let with_samples = field(obj, "withSamples").is_some_and(|v| v.is_truthy());
    Ok((req, with_samples, Scale::parse(obj)?))
}

/// Grey `[-1, 1]` pixels -> RGBA8.
fn rgba(gray: &[f32]) -> Uint8ClampedArray {
    let bytes: Vec<u8> = gray
        .iter()
        .flat_map(|&v| {
            let g = crate::data::grey_byte(v);
            [g, g, g, 255]
        })
        .collect();
    Uint8ClampedArray::from(bytes.as_slice())
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    Reflect::set(obj, &key.into(), &value.into()).expect("plain object");
}

fn class_space_js(c: ClassSpace) -> JsValue {
    let out = Object::new();
    set(&out, "probability", c.probability);
    set(&out, "predictive", c.predictive);
    set(&out, "bald", c.bald);
    set(&out, "entropy", c.entropy);
    out.into()
}

fn shipped_js(s: Shipped) -> JsValue {
    let out = Object::new();
    set(&out, "score", s.score.name());
    set(&out, "value", s.value);
    set(
        &out,
        "percentile",
        s.percentile.map_or(JsValue::NULL, JsValue::from),
    );
    let flag = s.flag.map_or(JsValue::NULL, |f| {
        let o = Object::new();
        set(&o, "precision", f.precision);
        set(&o, "recall", f.recall);
        set(&o, "threshold", f.threshold);
        set(&o, "generations", f.generations as u32);
        o.into()
    });
    set(&out, "flag", flag);
    out.into()
}

fn to_js(req: &Request, with_samples: bool, g: &Generation, queued_ms: f64) -> JsValue {
    let out = Object::new();
    set(&out, "class", CLASS_NAMES[req.class]);
    set(&out, "classIndex", req.class as u32);
    set(&out, "seed", req.seed);
    set(&out, "samples", req.samples as u32);
    set(&out, "steps", req.steps as u32);
    set(&out, "perturb", req.perturb.name());
    set(&out, "image", rgba(&g.image));
    set(
        &out,
        "heatmap",
        Uint8ClampedArray::from(g.heatmap.as_slice()),
    );
    let perturbed = Array::new();
    if with_samples {
        for s in g.samples.chunks(PIXELS) {
            perturbed.push(&rgba(s));
        }
    }
    set(&out, "perturbed", perturbed);
    set(&out, "maxStd", g.max_std());
    set(&out, "heatmapScale", g.heatmap_scale);
    set(&out, "u", g.u);
    set(
        &out,
        "percentile",
        g.percentile.map_or(JsValue::NULL, JsValue::from),
    );
    set(
        &out,
        "classSpace",
        g.class_space.map_or(JsValue::NULL, class_space_js),
    );
    set(&out, "shipped", g.shipped.map_or(JsValue::NULL, shipped_js));
    let t = Object::new();
    set(&t, "heads_ms", g.timings.heads_ms);
    set(&t, "clip_ms", g.timings.clip_ms);
    set(&t, "readback_ms", g.timings.readback_ms);
    set(&t, "total_ms", g.timings.total_ms);
    set(&t, "queued_ms", queued_ms);
    set(&out, "timings", t);
    out.into()
}

#[wasm_bindgen]
impl Genuq {
    /// Fetches the model files listed in `src`/manifest.json (checked by sha256, kept in the
    /// Cache API), picks the compute path (`compute`, default "auto": WebGPU on a hardware
    /// adapter, else the CPU; `adapter` says which and why) and builds the models there.
    /// `onProgress` gets `{file, loaded, total, cached}` as bytes arrive.
    pub async fn load(
        src: String,
        #[wasm_bindgen(
            unchecked_param_type = "LoadOptions | ((p: LoadProgress) => void) | undefined"
        )]
        options: JsValue,
    ) -> Result<Genuq, JsValue> {
        let options = load_options(&options).map_err(|e| js_error(&e))?;
        let gpu = compute::device_for(options.compute)
            .await
            .map_err(|e| js_error(&e))?;
        let (manifest, files) = loader::load(&src, &REQUIRED, &OPTIONAL, &options.files, |p| {
            if let Some(f) = &options.progress {
                let o = Object::new();
                set(&o, "file", p.file);
                set(&o, "loaded", p.loaded as f64);
                set(&o, "total", p.total as f64);
                set(&o, "cached", p.cached);
                let _ = f.call1(&JsValue::NULL, &o);
            }
        })
        .await
        .map_err(|e| js_error(&e))?;
        let generator =
            Generator::from_files(&manifest, &files, &gpu.device).map_err(|e| js_error(&e))?;
        Ok(Genuq {
            generator: Rc::new(generator),
            adapter: gpu.adapter,
            files,
            tail: RefCell::new(Promise::resolve(&JsValue::UNDEFINED)),
        })
    }

    /// The adapter the models run on: `compute` ("webgpu" or "cpu") and `reason` say which path
    /// and why.
    #[wasm_bindgen(getter, unchecked_return_type = "Adapter")]
    pub fn adapter(&self) -> JsValue {
        serde_wasm_bindgen::to_value(&self.adapter).expect("plain struct")
    }

    /// The model files this instance loaded, verified (`{name: Uint8Array}`, manifest.json
    /// too): another worker's `Genuq.load(src, {files})` then fetches nothing.
    #[wasm_bindgen(js_name = modelFiles, unchecked_return_type = "Record<string, Uint8Array>")]
    pub fn model_files(&self) -> Object {
        let out = Object::new();
        for (name, bytes) in &self.files {
            set(&out, name, Uint8Array::from(bytes.as_slice()));
        }
        out
    }

    /// One generation with its uncertainty. Calls made while one runs wait their turn.
    #[wasm_bindgen(unchecked_return_type = "Promise<Generation>")]
    pub fn generate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GenerateRequest")] request: JsValue,
    ) -> Promise {
        let parsed = parse_request(&request);
        let generator = self.generator.clone();
        let before = self.tail.borrow().clone();
        let queued = web_time::Instant::now();
        let promise = future_to_promise(async move {
            let (req, with_samples, scale) = parsed.map_err(|e| js_error(&e))?;
            let scale = scale.resolve(&generator, &req).map_err(|e| js_error(&e))?;
            // the previous generation's outcome is its caller's business
            let _ = JsFuture::from(before).await;
            let queued_ms = queued.elapsed().as_secs_f64() * 1e3;
            let g = generator
                .generate_scaled(&req, scale)
                .await
                .map_err(|e| js_error(&e))?;
            Ok(to_js(&req, with_samples, &g, queued_ms))
        });
        *self.tail.borrow_mut() = promise.clone();
        promise
    }

    /// Measures this browser (see `genuq bench`): medians over `repeats` runs.
    pub async fn bench(&self, repeats: u32) -> Result<JsValue, JsValue> {
        let report = crate::bench::run(&self.generator, repeats.max(1) as usize)
            .await
            .map_err(|e| js_error(&e))?;
        Ok(serde_wasm_bindgen::to_value(&report).expect("plain struct"))
    }
}
