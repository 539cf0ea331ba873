//! The wgpu side of the launchers: a burn tensor's raw `CubeTensor`, our WGSL as a burn
//! `SourceKernel` (with its template values), and the dispatch.

use burn::backend::Wgpu;
use burn::backend::wgpu::{CubeTensor, KernelSource, SourceKernel, SourceTemplate};
use burn::cubecl::prelude::KernelId;
use burn::cubecl::{CubeCount, CubeDim, server::KernelArguments};
use burn::tensor::{BackendPrimitive, Tensor, kind::Basic};

use super::WORKGROUP;
use crate::Error;

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

/// A burn tensor of the wgpu device around a kernel's output.
pub(crate) fn from_cube<const D: usize, K>(t: CubeTensor) -> Tensor<D, K>
where
    K: Basic + BackendPrimitive<Wgpu, Primitive = CubeTensor>,
{
    Tensor::from_primitive::<Wgpu>(t)
}

/// A WGSL kernel: `shaders/NAME.wgsl` (optionally after `philox.wgsl`), with its template
/// values. The id covers the values, so each variant compiles once.
pub(crate) struct Wgsl {
    pub name: &'static str,
    pub source: &'static str,
    /// Shaders appended to `source` (shared functions: [`PHILOX`], [`VARIANCE`]).
    pub includes: &'static [&'static str],
    pub values: Vec<(&'static str, String)>,
}

impl KernelSource for Wgsl {
    fn source(&self) -> SourceTemplate {
        let mut t = SourceTemplate::new(self.source);
        for include in self.includes {
            t = t.add_template(*include);
        }
        t = t.register("workgroup", WORKGROUP.to_string());
        for (k, v) in &self.values {
            t = t.register(*k, v.clone());
        }
        t
    }

    fn id(&self) -> KernelId {
        KernelId::new::<Self>().info((self.name, self.values.clone()))
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

/// Dispatches `source` over `groups` (x, y, z) workgroups, with `buffers` bound to
/// `@binding(0..)` in order and a trailing `info` buffer of `u32` parameters.
pub(crate) fn launch(source: Wgsl, groups: [u32; 3], buffers: &[&CubeTensor], info: &[u32]) {
    let client = &buffers[0].client;
    let info = client.create_from_slice(bytemuck::cast_slice(info));
    let mut args = KernelArguments::new();
    for b in buffers {
        args = args.with_buffer(b.handle.clone().binding());
    }
    args = args.with_buffer(info.binding());
    client.launch(
        Box::new(SourceKernel::new(source, CubeDim::new_1d(WORKGROUP))),
        CubeCount::Static(groups[0], groups[1], groups[2]),
        args,
    );
}
