//! The browser API (wasm-bindgen). Every failure is a rejected promise with a message.

use wasm_bindgen::prelude::*;

use crate::gpu::gpu_async;

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// Initialises WebGPU (once) and describes the adapter: `{name, backend, vendor, device_type, driver}`.
#[wasm_bindgen(js_name = adapterInfo)]
pub async fn adapter_info() -> Result<JsValue, JsError> {
    let gpu = gpu_async().await.map_err(js_error)?;
    serde_wasm_bindgen::to_value(&gpu.adapter).map_err(js_error)
}
