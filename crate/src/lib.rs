//! genuq: generative uncertainty (Jazbec et al., UAI 2025) for a distilled diffusion model,
//! on WebGPU through burn, or on the CPU (burn flex), natively and in the browser.
//!
//! The modules in the order the data flows through them; each imports only from those above
//! it (`tests/architecture.rs` checks this):
//!
//! - [`rng`], [`manifest`], [`store`], [`gpu`]: the foundations (random streams, the models
//!   folder's index, weight files, the wgpu device);
//! - [`data`]: image size, classes; natively the data set, captions and teacher pairs;
//! - [`model`]: the networks; [`diffusion`]: rectified flow and the samplers;
//! - `train` (native): the trainers;
//! - [`posterior`]: the last layer's Laplace posterior and its parameter layout;
//! - [`kernels`]: our WGSL kernels, one launcher each, with its Rust twin for the CPU path;
//! - [`uncertainty`]: `generate()`, the pipeline shared by the CLI and the browser;
//! - [`bench`]: the benchmark, natively and in the browser;
//! - `eval` (native): metrics and the paper's protocol;
//! - `commands` (native: the CLI) and `wasm` (the browser API), on top.

pub mod gpu;
pub mod manifest;
pub mod rng;
pub mod store;

pub mod data;

pub mod model;

pub mod diffusion;

#[cfg(not(target_arch = "wasm32"))]
pub mod train;

pub mod posterior;

pub mod kernels;

pub mod uncertainty;

pub mod bench;

#[cfg(not(target_arch = "wasm32"))]
pub mod eval;

#[cfg(not(target_arch = "wasm32"))]
pub mod commands;
// The browser API; natively only its request parser compiles, for its tests.
#[cfg(any(target_arch = "wasm32", test))]
mod wasm;

/// Everything that can go wrong, as a message a user can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("GPU device: {0}")]
    Device(String),
    /// The device is gone for good (lost, destroyed, reset): only a fresh one helps.
    #[error("GPU device lost: {0}")]
    DeviceLost(String),
    #[error("model: {0}")]
    Model(String),
}
