//! Launcher of `shaders/rng.wgsl`: fills a tensor with counter-based standard normals,
//! `out[i] = gaussian(seed, stream, i)`, identical (up to f32 rounding of log/cos/sin) to
//! [`philox::gaussian`](super::philox::gaussian) on the CPU.

use burn::backend::wgpu::{KernelSource, SourceTemplate};
use burn::cubecl::prelude::KernelId;
use burn::tensor::{Device, Int, Tensor};

use super::{WORKGROUP, cube, launch};
use crate::Error;

/// What `rng.wgsl` writes: normals, or the raw Philox words (for the bit-exact tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Draw {
    Gaussian,
    Bits,
}

struct Rng(Draw);

impl KernelSource for Rng {
    fn source(&self) -> SourceTemplate {
        let (elem, draw) = match self.0 {
            Draw::Gaussian => ("f32", "gaussian4"),
            Draw::Bits => ("u32", "philox_block"),
        };
        SourceTemplate::new(include_str!("../../../shaders/rng.wgsl"))
            .add_template(include_str!("../../../shaders/philox.wgsl"))
            .register("elem", elem)
            .register("draw", draw)
            .register("workgroup", WORKGROUP.to_string())
    }

    fn id(&self) -> KernelId {
        KernelId::new::<Self>().info(self.0)
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

fn info(len: usize, seed: u32, stream: u32) -> Result<[u32; 3], Error> {
    let len = u32::try_from(len)
        .map_err(|_| Error::InvalidInput(format!("cannot draw {len} numbers in one stream")))?;
    Ok([len, seed, stream])
}

/// `len` standard normals of stream `stream` under `seed`, drawn on the GPU.
pub fn gaussian(device: &Device, len: usize, seed: u32, stream: u32) -> Result<Tensor<1>, Error> {
    let out = cube(Tensor::<1>::empty([len], device))?;
    launch(
        Rng(Draw::Gaussian),
        len.div_ceil(4).div_ceil(WORKGROUP as usize) as u32,
        &[&out],
        &info(len, seed, stream)?,
    );
    Ok(Tensor::from_primitive::<burn::backend::Wgpu>(out))
}

/// The raw Philox words behind [`gaussian`] (`4 * blocks` of them), as `i32` bit patterns.
pub fn bits(
    device: &Device,
    blocks: usize,
    seed: u32,
    stream: u32,
) -> Result<Tensor<1, Int>, Error> {
    let len = blocks * 4;
    let out = cube(Tensor::<1, Int>::empty([len], device))?;
    launch(
        Rng(Draw::Bits),
        blocks.div_ceil(WORKGROUP as usize) as u32,
        &[&out],
        &info(len, seed, stream)?,
    );
    Ok(Tensor::from_primitive::<burn::backend::Wgpu>(out))
}
