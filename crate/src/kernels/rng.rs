//! Launcher of `shaders/rng.wgsl`: fills a tensor with counter-based standard normals,
//! `out[i] = gaussian(seed, stream, i)`, identical (up to f32 rounding of log/cos/sin) to
//! [`rng::gaussian`](crate::rng::gaussian) on the CPU.

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::{PHILOX, WORKGROUP, Wgsl, cube, from_cube, launch, on_cpu, param};
use crate::Error;
use crate::rng::{self, Stream};

fn kernel(elem: &str, draw: &str) -> Wgsl {
    Wgsl {
        name: "rng",
        source: include_str!("../../../shaders/rng.wgsl"),
        includes: &[PHILOX],
        values: vec![("elem", elem.into()), ("draw", draw.into())],
    }
}

fn groups(len: usize) -> [u32; 3] {
    [len.div_ceil(4).div_ceil(WORKGROUP as usize) as u32, 1, 1]
}

/// `len` standard normals of `stream` under `seed`, drawn on the GPU (on the CPU path by
/// [`rng::gaussians_f32`], its twin).
pub fn gaussian(
    device: &Device,
    len: usize,
    seed: u32,
    stream: Stream,
) -> Result<Tensor<1>, Error> {
    if on_cpu(device) {
        let values = rng::gaussians_f32(seed, stream, len, 1.0);
        return Ok(Tensor::from_data(TensorData::new(values, [len]), device));
    }
    let [sub, family] = stream.words();
    let info = [param(len, "len")?, seed, sub, family];
    let out = cube(Tensor::<1>::empty([len], device))?;
    launch(kernel("f32", "gaussian4"), groups(len), &[&out], &info);
    Ok(from_cube(out))
}

/// The raw Philox words behind [`gaussian`] (`4 * blocks` of them), as `i32` bit patterns.
pub fn bits(
    device: &Device,
    blocks: usize,
    seed: u32,
    stream: Stream,
) -> Result<Tensor<1, Int>, Error> {
    let len = blocks * 4;
    if on_cpu(device) {
        let words: Vec<i32> = (0..param(blocks, "blocks")?)
            .flat_map(|b| rng::block(seed, stream, b))
            .map(|w| w as i32)
            .collect();
        return Ok(Tensor::from_data(TensorData::new(words, [len]), device));
    }
    let [sub, family] = stream.words();
    let info = [param(len, "len")?, seed, sub, family];
    let out = cube(Tensor::<1, Int>::empty([len], device))?;
    launch(kernel("u32", "philox_block"), groups(len), &[&out], &info);
    Ok(from_cube(out))
}
