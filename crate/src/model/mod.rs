//! The networks, one file each, as `XConfig` + `X` pairs (burn's convention). Shared by
//! training (native), inference (native and wasm) and the tests.

pub mod autoencoder;
pub mod classifier;
pub mod clip;
pub mod unet;

pub use unet::{UNet, UNetConfig};
