//! What JS sends in: `generate()`'s request and `Genuq.load`'s options, as Rust types
//! deserialized with the faulty field named, whose TypeScript declarations tsify writes into
//! `pkg/genuq.d.ts` (as `types.rs` does for what goes out).

use std::collections::HashMap;
use std::fmt;

use js_sys::{Array, Function, Object, Uint8Array};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use tsify::Tsify;
use wasm_bindgen::{JsCast, JsValue};

use crate::Error;
use crate::data::{CLASS_NAMES, class_index};
use crate::gpu::Compute;
use crate::uncertainty::{DEFAULT_PERTURB, DEFAULT_SAMPLES, DEFAULT_STEPS, Perturb, Request};

/// What `generate()` takes.
#[derive(Debug, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest {
    /// A class index 0-9 or a name from classNames(), e.g. "sneaker".
    #[tsify(type = "number | string")]
    pub class: ClassRef,
    /// The initial noise's seed, an integer 0..=4294967295.
    #[tsify(type = "number")]
    pub seed: Integer,
    /// M, weight samples besides the MAP, 1..=maxSamples (default: defaults().samples).
    #[tsify(optional, type = "number")]
    pub samples: Option<Integer>,
    /// Euler steps of the student, one of defaults().supportedSteps (default: the one `genuq eval`
    /// picked).
    #[tsify(optional, type = "number")]
    pub steps: Option<Integer>,
    /// Where the weight samples act: at "all" steps (the paper's way), the "first" or the "last"
    /// (default: the one `genuq eval` picked).
    #[tsify(optional)]
    pub perturb: Option<Perturb>,
    /// Also return the M perturbed images (default false).
    #[tsify(optional)]
    pub with_samples: Option<bool>,
    /// The heatmap's top colour: "own" (this image's largest spread, the default), "reference" (the
    /// 95th percentile over reference generations of this sampler, so heatmaps can be compared), or
    /// a standard deviation.
    #[tsify(optional, type = "\"own\" | \"reference\" | number")]
    pub heatmap_scale: Option<HeatmapScale>,
}

/// A whole number in `u32`'s range, as JS writes it (a `number`).
#[derive(Debug, Clone, Copy)]
pub struct Integer(pub u32);

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Integer;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an integer in 0..={}", u32::MAX)
            }
            fn visit_u64<E: de::Error>(self, i: u64) -> Result<Integer, E> {
                u32::try_from(i)
                    .map(Integer)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(i), &self))
            }
            fn visit_i64<E: de::Error>(self, i: i64) -> Result<Integer, E> {
                u64::try_from(i)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(i), &self))
                    .and_then(|i| self.visit_u64(i))
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<Integer, E> {
                match x.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&x) {
                    true => Ok(Integer(x as u32)),
                    false => Err(E::invalid_value(de::Unexpected::Float(x), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A class by index or by name.
#[derive(Debug, Clone, Copy)]
pub struct ClassRef(pub usize);

impl<'de> Deserialize<'de> for ClassRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ClassRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a class index 0..={} or one of {}",
                    CLASS_NAMES.len() - 1,
                    CLASS_NAMES.join(", ")
                )
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<ClassRef, E> {
                class_index(name)
                    .map(ClassRef)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(name), &self))
            }
            fn visit_u64<E: de::Error>(self, i: u64) -> Result<ClassRef, E> {
                match usize::try_from(i) {
                    Ok(i) if i < CLASS_NAMES.len() => Ok(ClassRef(i)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(i), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, i: i64) -> Result<ClassRef, E> {
                u64::try_from(i)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(i), &self))
                    .and_then(|i| self.visit_u64(i))
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<ClassRef, E> {
                match x.fract() == 0.0 && x >= 0.0 {
                    true => self.visit_u64(x as u64),
                    false => Err(E::invalid_value(de::Unexpected::Float(x), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The heatmap's top colour a request asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HeatmapScale {
    Own,
    Reference,
    Fixed(f32),
}

impl<'de> Deserialize<'de> for HeatmapScale {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HeatmapScale;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"own\", \"reference\" or a standard deviation")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<HeatmapScale, E> {
                match s {
                    "own" => Ok(HeatmapScale::Own),
                    "reference" => Ok(HeatmapScale::Reference),
                    _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                }
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<HeatmapScale, E> {
                Ok(HeatmapScale::Fixed(x as f32))
            }
            fn visit_u64<E: de::Error>(self, x: u64) -> Result<HeatmapScale, E> {
                self.visit_f64(x as f64)
            }
            fn visit_i64<E: de::Error>(self, x: i64) -> Result<HeatmapScale, E> {
                self.visit_f64(x as f64)
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads a JS value as `T`, naming the field at fault: "invalid input: seed: invalid type: ...".
pub fn from_js<T: de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, Error> {
    if !value.is_object() {
        return Err(Error::InvalidInput(format!(
            "{what}: {value:?} is not an object"
        )));
    }
    serde_path_to_error::deserialize(serde_wasm_bindgen::Deserializer::from(value)).map_err(|e| {
        // serde-wasm-bindgen's errors are JS Errors: their text starts "Error: "
        let inner = e.inner().to_string();
        let inner = inner.strip_prefix("Error: ").unwrap_or(&inner);
        Error::InvalidInput(format!("{what}: {}: {inner}", e.path()))
    })
}

impl GenerateRequest {
    /// The checked request, whether to return the perturbed images, and the heatmap's scale.
    pub fn into_request(self) -> Result<(Request, bool, HeatmapScale), Error> {
        let req = Request {
            class: self.class.0,
            seed: self.seed.0,
            samples: self.samples.map_or(DEFAULT_SAMPLES, |s| s.0 as usize),
            steps: self.steps.map_or(DEFAULT_STEPS, |s| s.0 as usize),
            perturb: self.perturb.unwrap_or(DEFAULT_PERTURB),
        };
        req.validate()?;
        Ok((
            req,
            self.with_samples.unwrap_or(false),
            self.heatmap_scale.unwrap_or(HeatmapScale::Own),
        ))
    }
}

/// `Genuq.load`'s options.
#[derive(Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct LoadOptions {
    /// "auto" (the default): WebGPU on a hardware adapter, else the CPU; "webgpu": WebGPU or an
    /// error; "cpu": the CPU (wasm SIMD128, one thread).
    #[tsify(optional, type = "\"auto\" | \"webgpu\" | \"cpu\"")]
    pub compute: Option<String>,
    /// Called as bytes arrive.
    #[tsify(optional, type = "(p: LoadProgress) => void")]
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    pub on_progress: JsValue,
    /// Model files fetched before (another instance's modelFiles()): used instead of fetching,
    /// after the same sha256 check.
    #[tsify(optional, type = "Record<string, Uint8Array>")]
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    pub files: JsValue,
}

impl LoadOptions {
    /// `options` as given to `Genuq.load`: `undefined`, the progress callback alone, or the
    /// options object.
    pub fn parse(options: JsValue) -> Result<Self, Error> {
        if options.is_undefined() || options.is_null() || options.is_function() {
            return Ok(LoadOptions {
                compute: None,
                on_progress: options,
                files: JsValue::UNDEFINED,
            });
        }
        if !options.is_object() {
            return Err(Error::InvalidInput(
                "load() takes (src, {compute?, onProgress?, files?}) or (src, onProgress)".into(),
            ));
        }
        serde_wasm_bindgen::from_value(options)
            .map_err(|e| Error::InvalidInput(format!("load options: {e}")))
    }

    /// The compute path asked for.
    pub fn compute(&self) -> Result<Compute, Error> {
        Compute::parse(self.compute.as_deref().unwrap_or("auto"))
    }

    /// The progress callback, if one was given.
    pub fn progress(&self) -> Result<Option<Function>, Error> {
        if self.on_progress.is_undefined() || self.on_progress.is_null() {
            return Ok(None);
        }
        self.on_progress
            .clone()
            .dyn_into()
            .map(Some)
            .map_err(|_| Error::InvalidInput("load options: onProgress: not a function".into()))
    }

    /// The files given (name -> bytes), checked later against the manifest as fetched ones.
    pub fn files(&self) -> Result<HashMap<String, Vec<u8>>, Error> {
        if self.files.is_undefined() || self.files.is_null() {
            return Ok(HashMap::new());
        }
        let bad = |why: &str| Error::InvalidInput(format!("load options: files: {why}"));
        let obj: &Object = self.files.dyn_ref().ok_or_else(|| bad("not an object"))?;
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
}
