//! What JS sends in, read with the faulty field named ([`from_js`]): `Genuq.load`'s options
//! here, `generate()`'s request in `generate_request.rs`; tsify writes their TypeScript
//! declarations into `pkg/genuq.d.ts` (as `types.rs` does for what goes out).

use std::collections::HashMap;

use js_sys::{Array, Function, Object, Promise, Uint8Array};
use serde::Deserialize;
use serde::de;
use tsify::Tsify;
use wasm_bindgen::{JsCast, JsValue};

use crate::Error;
use crate::gpu::Compute;

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
    /// Model files the page asked for already (`fetch` promises, e.g. made while the wasm
    /// compiled): awaited instead of asking again, and checked as any download. A file that
    /// is cached or among `files` leaves its request unused (not awaited: a rejection there is
    /// the caller's to handle).
    #[tsify(optional, type = "Record<string, Promise<Response>>")]
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    pub requests: JsValue,
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
                requests: JsValue::UNDEFINED,
            });
        }
        if !options.is_object() {
            return Err(Error::InvalidInput(
                "load() takes (src, {compute?, onProgress?, files?, requests?}) or (src, onProgress)".into(),
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
        by_name(&self.files, "files", |name, value| {
            let bytes: Uint8Array = value
                .dyn_into()
                .map_err(|_| format!("{name} is not a Uint8Array"))?;
            Ok(bytes.to_vec())
        })
    }

    /// The requests the page made (name -> a promise of its `Response`).
    pub fn requests(&self) -> Result<HashMap<String, Promise>, Error> {
        by_name(&self.requests, "requests", |name, value| {
            value
                .dyn_into()
                .map_err(|_| format!("{name} is not a Promise"))
        })
    }
}

/// The plain object `value` (a map by file name, none when undefined or null), each value read
/// by `read`; an error names the option (`what`) and the fault.
fn by_name<T>(
    value: &JsValue,
    what: &str,
    read: impl Fn(&str, JsValue) -> Result<T, String>,
) -> Result<HashMap<String, T>, Error> {
    if value.is_undefined() || value.is_null() {
        return Ok(HashMap::new());
    }
    let bad = |why: &str| Error::InvalidInput(format!("load options: {what}: {why}"));
    let obj: &Object = value.dyn_ref().ok_or_else(|| bad("not an object"))?;
    Object::entries(obj)
        .iter()
        .map(|pair| {
            let pair: Array = pair.unchecked_into();
            let name = pair
                .get(0)
                .as_string()
                .ok_or_else(|| bad("a name is not a string"))?;
            let value = read(&name, pair.get(1)).map_err(|why| bad(&why))?;
            Ok((name, value))
        })
        .collect()
}
