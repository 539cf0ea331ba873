//! The exports: `Genuq` (load, generate, bench), the free functions (defaults, classNames,
//! colorBar, probeCompute, clearCache), and how a Rust error becomes a JS `Error`.

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, Shared};
use js_sys::{Object, Promise, Reflect, Uint8Array, Uint8ClampedArray};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use super::generate_request::{GenerateRequest, HeatmapScale};
use super::request::{self, LoadOptions};
use super::types::{Defaults, Generation, LoadProgress, Probe};
use super::{cache, compute, loader};
use crate::Error;
use crate::data::CLASS_NAMES;
use crate::gpu::{AdapterInfo, Compute};
use crate::manifest::{self, VerifiedFiles};
use crate::uncertainty::load::{OPTIONAL, REQUIRED};
use crate::uncertainty::{Generator, Request};

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

/// Deletes genuq's cached model files (the browser's Cache API); models already loaded stay in
/// memory, the next load downloads them again. Resolves true when there was a cache to delete.
#[wasm_bindgen(js_name = clearCache)]
pub async fn clear_cache() -> Result<bool, JsValue> {
    cache::clear_cache().await.map_err(|e| js_error(&e))
}

/// The model files a generation starts with (the others are asked for after them). The site's
/// build lists them in the served manifest (`first_files`), so the worker asks for them while
/// this module still downloads, and hands the requests to `Genuq.load`.
#[wasm_bindgen(js_name = firstFiles)]
pub fn first_files() -> Vec<String> {
    REQUIRED.iter().map(|s| s.to_string()).collect()
}

/// The ten class names, index order.
#[wasm_bindgen(js_name = classNames)]
pub fn class_names() -> Vec<String> {
    CLASS_NAMES.iter().map(|s| s.to_string()).collect()
}

/// What a generation uses unless told otherwise: the sampler the evaluation picked, the sample
/// range and the class names.
#[wasm_bindgen(unchecked_return_type = "Defaults")]
pub fn defaults() -> JsValue {
    to_js(&Defaults::shipped())
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
#[wasm_bindgen(js_name = adapterInfo, unchecked_return_type = "AdapterInfo")]
pub async fn adapter_info(
    #[wasm_bindgen(unchecked_param_type = "\"auto\" | \"webgpu\" | \"cpu\" | undefined")]
    compute: Option<String>,
) -> Result<JsValue, JsValue> {
    let compute = Compute::parse(compute.as_deref().unwrap_or("auto")).map_err(|e| js_error(&e))?;
    let gpu = compute::device_for(compute)
        .await
        .map_err(|e| js_error(&e))?;
    Ok(to_js(&gpu.adapter))
}

/// Whether `compute: "auto"` takes WebGPU here, from `navigator.gpu` alone (wgpu is not
/// started, so the CPU-only module answers it).
#[wasm_bindgen(js_name = probeCompute, unchecked_return_type = "Promise<Probe>")]
pub fn probe_compute() -> Promise {
    future_to_promise(async {
        let probe = match compute::auto_choice().await {
            Ok(name) => Probe {
                webgpu: true,
                reason: format!("a hardware WebGPU adapter ({name})"),
            },
            Err(reason) => Probe {
                webgpu: false,
                reason,
            },
        };
        Ok(to_js(&probe))
    })
}

/// A plain Rust value as the JS object its type's declaration describes (`null` for `None`;
/// plain objects for structs with flattened fields, which serde writes as maps).
fn to_js<T: serde::Serialize>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_missing_as_null(true)
        .serialize_maps_as_objects(true);
    value.serialize(&serializer).expect("plain struct")
}

/// The loaded models on the page's WebGPU device, or on the CPU. Generations in one are queued;
/// the demo and the widgets make one per Web Worker (web/genuq-pool.js: one on WebGPU, up to
/// four on the CPU path, each with its own copy of the models, the files fetched once).
#[wasm_bindgen]
pub struct Genuq {
    /// The student, the posterior and CLIP: a generation draws on them while the rest loads.
    drawing: Rc<Generator>,
    /// The whole generator, once the optional files are in (they download after `load`).
    whole: Whole,
    adapter: AdapterInfo,
    /// The manifest's bytes and the required model files, for other workers' `load({files})`.
    files: (Vec<u8>, VerifiedFiles),
    /// The last queued generation: the next one starts when it settles.
    tail: RefCell<Promise>,
}

/// The generator with every file, and the optional files, for all who wait on it; an error is
/// the JS `Error` each of them gets.
type Whole = Shared<LocalBoxFuture<'static, Result<Rc<Full>, JsValue>>>;

/// The generator built from every file, and the optional files it added.
struct Full {
    generator: Generator,
    optional: VerifiedFiles,
}

/// The heatmap's top colour for `req`: `None` is the image's own largest spread.
fn resolve_scale(scale: HeatmapScale, g: &Generator, req: &Request) -> Result<Option<f32>, Error> {
    match scale {
        HeatmapScale::Own => Ok(None),
        HeatmapScale::Fixed(x) => Ok(Some(x)),
        HeatmapScale::Reference => g
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

/// The whole generator: `drawing` with the optional files once they are in. It starts now
/// (the files are asked for at once), whoever waits on it.
fn complete(
    drawing: Rc<Generator>,
    optional: LocalBoxFuture<'static, Result<VerifiedFiles, Error>>,
) -> Whole {
    let whole = async move {
        let optional = optional.await.map_err(|e| js_error(&e))?;
        let generator = (*drawing)
            .clone()
            .with_optional(&optional)
            .map_err(|e| js_error(&e))?;
        Ok(Rc::new(Full {
            generator,
            optional,
        }))
    }
    .boxed_local()
    .shared();
    wasm_bindgen_futures::spawn_local(whole.clone().map(drop));
    whole
}

fn parse_request(value: JsValue) -> Result<(Request, bool, HeatmapScale), Error> {
    request::from_js::<GenerateRequest>(value, "generate()")?.into_request()
}

#[wasm_bindgen]
impl Genuq {
    /// Fetches the model files listed in `src`/manifest.json (checked by sha256, kept in the
    /// Cache API), picks the compute path (`compute`, default "auto": WebGPU on a hardware
    /// adapter, else the CPU; `adapter` says which and why) and builds the models there.
    /// `files` and `requests` stand in for fetches: bytes the caller has, requests it made
    /// (those of [`first_files`], while this module downloaded). `onProgress` gets
    /// `{file, loaded, total, cached}` as bytes arrive. It resolves once the
    /// files a generation starts with are in (the student, the posterior, CLIP); the rest (the
    /// reference table, the class prompts, realism's files) download after them, and the first
    /// generation waits for them before its scores. A bad one fails that generation (and each
    /// after it) with GenuqModelError.
    pub async fn load(
        src: String,
        #[wasm_bindgen(
            unchecked_param_type = "LoadOptions | ((p: LoadProgress) => void) | undefined"
        )]
        options: JsValue,
    ) -> Result<Genuq, JsValue> {
        let options = LoadOptions::parse(options).map_err(|e| js_error(&e))?;
        let (compute, progress, given) = (|| {
            let given = loader::Given {
                files: options.files()?,
                requests: options.requests()?,
            };
            Ok((options.compute()?, options.progress()?, given))
        })()
        .map_err(|e: Error| js_error(&e))?;
        let gpu = compute::device_for(compute)
            .await
            .map_err(|e| js_error(&e))?;
        let loaded = loader::load(&src, &REQUIRED, &OPTIONAL, given, |p| {
            if let Some(f) = &progress {
                let p = LoadProgress {
                    file: p.file.into(),
                    loaded: p.loaded as f64,
                    total: p.total as f64,
                    cached: p.cached,
                };
                let _ = f.call1(&JsValue::NULL, &to_js(&p));
            }
        })
        .await
        .map_err(|e| js_error(&e))?;
        let drawing =
            Generator::from_required(&loaded.required, &gpu.device).map_err(|e| js_error(&e))?;
        let drawing = Rc::new(drawing);
        let whole = complete(drawing.clone(), loaded.optional);
        Ok(Genuq {
            drawing,
            whole,
            adapter: gpu.adapter,
            files: (loaded.manifest_json, loaded.required),
            tail: RefCell::new(Promise::resolve(&JsValue::UNDEFINED)),
        })
    }

    /// The adapter the models run on: `compute` ("webgpu" or "cpu") and `reason` say which path
    /// and why.
    #[wasm_bindgen(getter, unchecked_return_type = "AdapterInfo")]
    pub fn adapter(&self) -> JsValue {
        to_js(&self.adapter)
    }

    /// The model files this instance loaded, verified (`{name: Uint8Array}`, manifest.json
    /// too), once all are in: another worker's `Genuq.load(src, {files})` then fetches nothing.
    #[wasm_bindgen(js_name = modelFiles, unchecked_return_type = "Promise<Record<string, Uint8Array>>")]
    pub async fn model_files(&self) -> Result<Object, JsValue> {
        let full = self.whole.clone().await?;
        let out = Object::new();
        let (manifest_json, required) = &self.files;
        let all = std::iter::once((manifest::FILE, manifest_json.as_slice()))
            .chain(required.iter())
            .chain(full.optional.iter());
        for (name, bytes) in all {
            Reflect::set(&out, &name.into(), &Uint8Array::from(bytes)).expect("plain object");
        }
        Ok(out)
    }

    /// One generation with its uncertainty. Calls made while one runs wait their turn.
    #[wasm_bindgen(unchecked_return_type = "Promise<Generation>")]
    pub fn generate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GenerateRequest")] request: JsValue,
    ) -> Promise {
        let parsed = parse_request(request);
        let (drawing, whole) = (self.drawing.clone(), self.whole.clone());
        let before = self.tail.borrow().clone();
        let queued = web_time::Instant::now();
        let promise = future_to_promise(async move {
            let (req, with_samples, scale) = parsed.map_err(|e| js_error(&e))?;
            // the previous generation's outcome is its caller's business
            let _ = JsFuture::from(before).await;
            let mut queued_ms = queued.elapsed().as_secs_f64() * 1e3;
            let drawn = drawing.draw(&req).map_err(|e| js_error(&e))?;
            let waiting = web_time::Instant::now();
            let full = whole.await?;
            queued_ms += waiting.elapsed().as_secs_f64() * 1e3;
            let g = &full.generator;
            let scale = resolve_scale(scale, g, &req).map_err(|e| js_error(&e))?;
            let g = g
                .finish(&req, drawn, scale)
                .await
                .map_err(|e| js_error(&e))?;
            Ok(to_js(&Generation::new(&req, with_samples, g, queued_ms)))
        });
        *self.tail.borrow_mut() = promise.clone();
        promise
    }

    /// Measures this browser (see `genuq bench`): medians over `repeats` runs.
    #[wasm_bindgen(unchecked_return_type = "BenchReport")]
    pub async fn bench(&self, repeats: u32) -> Result<JsValue, JsValue> {
        let full = self.whole.clone().await?;
        let report = crate::bench::run(&full.generator, repeats.max(1) as usize)
            .await
            .map_err(|e| js_error(&e))?;
        Ok(to_js(&report))
    }
}
