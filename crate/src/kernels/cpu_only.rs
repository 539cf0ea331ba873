//! The launchers' wgpu side in a build without the `webgpu` feature (the CPU path alone): no
//! wgpu tensor can exist there (the only device is burn flex, where every launcher runs its
//! twin), so [`CubeTensor`] is uninhabited and [`cube`] says why it cannot make one.

use burn::tensor::Tensor;

use crate::Error;

/// Stands for burn's wgpu tensor; it has no values, so code past [`cube`] never runs.
pub(crate) enum CubeTensor {}

/// A WGSL kernel, as in the `webgpu` build (its fields are unread here).
#[allow(dead_code)]
pub(crate) struct Wgsl {
    pub name: &'static str,
    pub source: &'static str,
    /// Shaders appended to `source` (shared functions: [`PHILOX`], [`VARIANCE`]).
    pub includes: &'static [&'static str],
    pub values: Vec<(&'static str, String)>,
}

/// Always an error: this build has no GPU tensors.
pub(crate) fn cube<const D: usize, K>(_: Tensor<D, K>) -> Result<CubeTensor, Error>
where
    K: burn::tensor::kind::Basic,
{
    Err(crate::gpu::cpu_only())
}

/// Unreachable: there is no [`CubeTensor`] to wrap.
pub(crate) fn from_cube<const D: usize, K: burn::tensor::kind::Basic>(
    t: CubeTensor,
) -> Tensor<D, K> {
    match t {}
}

/// Unreachable: there is no [`CubeTensor`] to bind.
pub(crate) fn launch(_: Wgsl, _: [u32; 3], buffers: &[&CubeTensor], _: &[u32]) {
    if let Some(t) = buffers.first() {
        match **t {}
    }
}
