//! Our WGSL kernels. Each `shaders/X.wgsl` has exactly one launcher here (`X.rs`), and each
//! launcher has a test against a CPU reference (natively in `tests/native.rs`, in the browser
//! in `tests/web.rs`).
//!
//! A kernel runs on burn's wgpu tensors: the launcher takes the raw `CubeTensor` out of a burn
//! `Tensor`, dispatches the WGSL through burn's `SourceKernel`, and hands a burn `Tensor` back,
//! so kernels and burn ops chain on one device and queue without copies.

pub mod philox;
pub mod rng;

use burn::backend::wgpu::{CubeTensor, SourceKernel};
use burn::backend::{Wgpu, wgpu::KernelSource};
use burn::cubecl::{CubeCount, CubeDim, server::KernelArguments};
use burn::tensor::{BackendPrimitive, Tensor, kind::Basic};

use crate::Error;

/// Threads per workgroup of every 1-D kernel.
pub const WORKGROUP: u32 = 256;

/// The raw wgpu tensor behind a burn tensor (made contiguous), or a clear error off wgpu.
pub(crate) fn cube<const D: usize, K>(tensor: Tensor<D, K>) -> Result<CubeTensor, Error>
where
    K: Basic + BackendPrimitive<Wgpu, Primitive = CubeTensor>,
{
    let t = tensor
        .try_into_primitive::<Wgpu>()
        .map_err(|e| Error::Device(format!("custom kernels need the wgpu device ({e:?})")))?;
    Ok(burn::backend::wgpu::into_contiguous(t))
}

/// Dispatches `source` over `groups` workgroups of [`WORKGROUP`] threads, with `buffers` bound
/// to `@binding(0..)` in order and a trailing `info` buffer of `u32` parameters.
pub(crate) fn launch<S: KernelSource>(
    source: S,
    groups: u32,
    buffers: &[&CubeTensor],
    info: &[u32],
) {
    let client = &buffers[0].client;
    let info = client.create_from_slice(bytemuck::cast_slice(info));
    let mut args = KernelArguments::new();
    for b in buffers {
        args = args.with_buffer(b.handle.clone().binding());
    }
    args = args.with_buffer(info.binding());
    client.launch(
        Box::new(SourceKernel::new(source, CubeDim::new_1d(WORKGROUP))),
        CubeCount::Static(groups, 1, 1),
        args,
    );
}
