//! The browser API (wasm-bindgen): `Genuq.load(src, {compute, onProgress})` then
//! `genuq.generate({...})`, on WebGPU or on the CPU path (see `compute.rs`). What crosses to JS
//! is typed in `generate_request.rs` and `request.rs` (in) and `types.rs` (out), which also give
//! `pkg/genuq.d.ts` its declarations.
//! Every failure is a rejected promise whose `Error.name` says what kind it is
//! (`GenuqInputError`, `GenuqModelError`, `GenuqDeviceError`, `GenuqDeviceLostError`) and whose
//! message says what to do.
//!
//! `api.rs` holds the exports. Only `generate_request.rs` (plain serde) compiles natively too,
//! where its tests run with `cargo test`.

mod generate_request;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod cache;
#[cfg(target_arch = "wasm32")]
mod compute;
#[cfg(target_arch = "wasm32")]
mod loader;
#[cfg(target_arch = "wasm32")]
mod request;
#[cfg(target_arch = "wasm32")]
mod scope;
#[cfg(target_arch = "wasm32")]
mod types;
