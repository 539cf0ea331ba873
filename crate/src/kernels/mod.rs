//! Our WGSL kernels. Each `shaders/X.wgsl` has exactly one launcher here (`X.rs`), and each
//! launcher has a test against a CPU reference (natively in `tests/native.rs`, in the browser
//! in `tests/web.rs`).
//!
//! A kernel runs on burn's wgpu tensors: the launcher takes the raw `CubeTensor` out of a burn
//! `Tensor`, dispatches the WGSL through burn's `SourceKernel`, and hands a burn `Tensor` back,
//! so kernels and burn ops chain on one device and queue without copies.
//!
//! The CPU path: on burn's `flex` device ([`on_cpu`]) the same launcher runs the kernel's Rust
//! twin instead, on the same random streams, so one pipeline runs on either device. The twins of
//! the moments, the score and the colormap are their CPU references (f64 inside, f32 out: the
//! work is a few thousand numbers); the perturbed head's twin materialises the M weight samples
//! (a few KB on the CPU) and runs one burn convolution.

pub mod colormap;
pub mod moments;
pub mod perturbed_head;
pub mod rng;
pub mod semantic_entropy;

// The WGSL side: dispatch through burn's wgpu runtime (launch.rs), or, in a build without the
// `webgpu` feature (the CPU path alone), a stand-in whose GPU tensors cannot exist
// (cpu_only.rs); both offer the same four items.
#[cfg(not(feature = "webgpu"))]
mod cpu_only;
#[cfg(feature = "webgpu")]
mod launch;
#[cfg(not(feature = "webgpu"))]
pub(crate) use cpu_only::{Wgsl, cube, from_cube, launch};
#[cfg(feature = "webgpu")]
pub(crate) use launch::{Wgsl, cube, from_cube, launch};

use burn::tensor::{Device, Tensor, TensorData};

use crate::Error;

/// Philox4x32-10 in WGSL (the RNG kernels' include; rng.rs owns the streams).
pub(crate) const PHILOX: &str = include_str!("../../../shaders/philox.wgsl");
/// The two-pass mean and population variance in WGSL (moments' and semantic_entropy's
/// include; its template value `values` names the shader's buffer).
pub(crate) const VARIANCE: &str = include_str!("../../../shaders/variance.wgsl");

/// Threads per workgroup of every 1-D kernel.
pub const WORKGROUP: u32 = 256;

/// Does `device` run the kernels' Rust twins (burn's CPU backend) rather than the WGSL?
pub fn on_cpu(device: &Device) -> bool {
    *device == Device::flex()
}

/// A CPU-path tensor's values, `f32`, row-major.
pub(crate) fn host<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, Error> {
    let data = tensor
        .try_into_data()
        .map_err(|e| Error::Device(format!("reading a CPU tensor failed: {e}")))?;
    Ok(data.iter::<f32>().collect())
}

/// `values` (f64 from a twin) as an `f32` tensor of `shape` on `device`.
pub(crate) fn tensor<const D: usize>(
    values: impl IntoIterator<Item = f64>,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D> {
    let values: Vec<f32> = values.into_iter().map(|v| v as f32).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Workgroups to cover `n` invocations in one dimension.
pub(crate) fn groups_for(n: usize) -> [u32; 3] {
    [n.div_ceil(WORKGROUP as usize) as u32, 1, 1]
}

/// A `u32` parameter, or a clear error when a size does not fit.
pub(crate) fn param(value: usize, what: &str) -> Result<u32, Error> {
    u32::try_from(value).map_err(|_| {
        Error::InvalidInput(format!("{what} = {value} is too large for the GPU kernels"))
    })
}
