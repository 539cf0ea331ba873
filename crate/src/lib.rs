//! genuq: generative uncertainty (Jazbec et al., UAI 2025) for a distilled diffusion model,
//! on WebGPU through burn, natively and in the browser.
//!
//! The data flows through the modules in this order: [`data`] (native) -> [`model`] ->
//! [`diffusion`] -> [`posterior`] -> [`kernels`] -> [`uncertainty`] -> `wasm` (browser API);
//! [`train`], [`eval`] and [`cli`] are the native-only commands around them; [`bench`]
//! measures the pipeline natively and in the browser alike.

pub mod bench;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod data;
pub mod diffusion;
#[cfg(not(target_arch = "wasm32"))]
pub mod eval;
pub mod gpu;
pub mod kernels;
pub mod manifest;
pub mod model;
pub mod posterior;
pub mod store;
#[cfg(not(target_arch = "wasm32"))]
pub mod train;
pub mod uncertainty;
#[cfg(target_arch = "wasm32")]
mod wasm;

/// Everything that can go wrong, as a message a user can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("GPU device: {0}")]
    Device(String),
    #[error("model: {0}")]
    Model(String),
}
