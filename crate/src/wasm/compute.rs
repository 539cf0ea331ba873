//! Which compute path a page gets: WebGPU when the browser offers a hardware adapter, else the
//! CPU path (burn flex in wasm, the kernels' Rust twins), and why. The adapter is probed through
//! `navigator.gpu` before wgpu is touched, so a browser without WebGPU never initialises it and
//! a software adapter (SwiftShader) is not paid for: the CPU path beats it (reports/bench.json).

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::Error;
use crate::gpu::{Compute, Gpu, cpu, gpu_async};

/// `obj[key]`, unless it is missing, undefined or null.
fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(obj, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// What `navigator.gpu.requestAdapter()` offers: `Ok(software)` for an adapter (software: the
/// browser calls it a fallback adapter, or names SwiftShader and the like), or why there is none.
async fn probe() -> Result<(bool, String), String> {
    // the page's or the Web Worker's navigator: both carry `gpu`
    let navigator = get(&js_sys::global(), "navigator").ok_or("there is no navigator")?;
    let gpu =
        get(&navigator, "gpu").ok_or("this browser has no WebGPU (navigator.gpu is missing)")?;
    let request: Function = get(&gpu, "requestAdapter")
        .and_then(|f| f.dyn_into().ok())
        .ok_or("navigator.gpu has no requestAdapter")?;
    let promise: Promise = request
        .call0(&gpu)
        .ok()
        .and_then(|p| p.dyn_into().ok())
        .ok_or("navigator.gpu.requestAdapter() failed")?;
    let adapter = JsFuture::from(promise)
        .await
        .ok()
        .filter(|a| !a.is_null() && !a.is_undefined())
        .ok_or("this browser offers no WebGPU adapter (WebGPU may be disabled, or blocked for this GPU)")?;
    let info = get(&adapter, "info");
    let text = |key: &str| {
        info.as_ref()
            .and_then(|i| get(i, key))
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let fallback = info
        .as_ref()
        .and_then(|i| get(i, "isFallbackAdapter"))
        .or_else(|| get(&adapter, "isFallbackAdapter"))
        .is_some_and(|v| v.is_truthy());
    let name = format!(
        "{} {} {}",
        text("vendor"),
        text("architecture"),
        text("description")
    );
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let software = fallback || crate::gpu::is_software_name(&name);
    Ok((software, name))
}

/// What `auto` picks from the probe alone: `Ok(adapter name)` for a hardware adapter, or why
/// the CPU path runs. The CPU-only module answers this without wgpu, so the WebGPU module is
/// fetched only where it will run.
pub async fn auto_choice() -> Result<String, String> {
    match probe().await {
        Err(why) => Err(why),
        Ok((true, name)) => Err(format!(
            "the only WebGPU adapter ({name}) is a software one, slower than the CPU path"
        )),
        Ok((false, name)) => Ok(name),
    }
}

/// The device and adapter `compute` asks for: `Cpu` always works; `WebGpu` fails without an
/// adapter; `Auto` takes a hardware WebGPU adapter, else the CPU path.
pub async fn device_for(compute: Compute) -> Result<Gpu, Error> {
    match compute {
        Compute::Cpu => Ok(cpu("asked for the CPU path")),
        Compute::WebGpu => Ok(gpu_async().await?.because("asked for WebGPU")),
        Compute::Auto => match auto_choice().await {
            Err(why) => Ok(cpu(why)),
            Ok(_) => match gpu_async().await {
                Ok(gpu) if gpu.adapter.is_software() => Ok(cpu(format!(
                    "the WebGPU adapter ({}) is a software one, slower than the CPU path",
                    gpu.adapter.name
                ))),
                Ok(gpu) => Ok(gpu.because("a hardware WebGPU adapter")),
                Err(e) => Ok(cpu(format!("WebGPU did not start ({e})"))),
            },
        },
    }
}
