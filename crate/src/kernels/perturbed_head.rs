//! Launcher of `shaders/perturbed_head.wgsl`: the student's last layer (3x3 conv, C -> 1) for
//! the MAP weights and M Laplace samples in one dispatch, noise drawn in-kernel. Its CPU twin
//! materialises the samples' weights and runs them as one (grouped) convolution.

use burn::tensor::Tensor;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use super::{PHILOX, Wgsl, cube, from_cube, launch, on_cpu, param};
use crate::Error;
use crate::posterior::head::{HeadWeights, Layout};
use crate::rng::{self, Stream};

/// Whose features sample s of generation b convolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Features {
    /// Generation b's, `h` `[B, C, H, W]`: one trajectory, branching into S here.
    Shared,
    /// Its own, `h` `[B * S, C, H, W]` (row b * S + s): trajectory s of generation b.
    PerSample,
}

/// `h` -> `[B, S, H, W]`: sample 0 with the MAP weights, sample s >= 1 with
/// `W + std * eps_s`, `eps_s[p] = gaussian(seed, Stream::Weights(s), p)`; `h` is `[B, C, H, W]`
/// or, per sample, `[B * S, C, H, W]`.
pub fn perturbed_head(
    h: Tensor<4>,
    head: &HeadWeights,
    samples: usize,
    seed: u32,
    features: Features,
) -> Result<Tensor<4>, Error> {
    let [rows, c, height, width] = h.dims();
    let layout = head.layout;
    if c != layout.channels {
        return Err(Error::InvalidInput(format!(
            "head expects {} channels, got {c}",
            layout.channels
        )));
    }
    let b = match features {
        Features::Shared => rows,
        Features::PerSample if samples > 0 && rows % samples == 0 => rows / samples,
        Features::PerSample => {
            return Err(Error::InvalidInput(format!(
                "{rows} feature rows are not {samples} per generation"
            )));
        }
    };
    let device = h.device();
    if on_cpu(&device) {
        return Ok(twin(h, head, b, samples, seed, features));
    }
    let info = [
        param(c, "channels")?,
        param(height, "height")?,
        param(width, "width")?,
        param(samples, "samples")?,
        seed,
        rng::GENERATION_FAMILY,
        (features == Features::PerSample) as u32,
    ];
    let h = cube(h)?;
    let weight = cube(head.weight.clone())?;
    let stddev = cube(head.stddev.clone())?;
    let out = cube(Tensor::<4>::empty([b, samples, height, width], &device))?;
    let kernel = Wgsl {
        name: "perturbed_head",
        source: include_str!("../../../shaders/perturbed_head.wgsl"),
        includes: &[PHILOX],
        values: vec![("params", layout.params().to_string())],
    };
    let groups = [
        (height * width).div_ceil(super::WORKGROUP as usize) as u32,
        param(samples, "samples")?,
        param(b, "batch")?,
    ];
    launch(kernel, groups, &[&h, &weight, &stddev, &out], &info);
    Ok(from_cube(out))
}

/// The CPU path: the S weight samples materialised ([`HeadWeights::sample`], the kernel's
/// streams) as `[S, C, 3, 3]` and `[S]`, then one convolution: of the shared features
/// `[B, C, H, W]` with all S (S output channels), or per sample, of the features as
/// `[B, S * C, H, W]` in S groups (group s is row b * S + s).
fn twin(
    h: Tensor<4>,
    head: &HeadWeights,
    b: usize,
    samples: usize,
    seed: u32,
    features: Features,
) -> Tensor<4> {
    let [_, c, height, width] = h.dims();
    let (weights, biases): (Vec<_>, Vec<_>) = (0..samples).map(|m| head.sample(m, seed)).unzip();
    let (weight, bias) = (Tensor::cat(weights, 0), Tensor::cat(biases, 0));
    let (h, groups) = match features {
        Features::Shared => (h, 1),
        Features::PerSample => (h.reshape([b, samples * c, height, width]), samples),
    };
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], groups);
    conv2d(h, weight, Some(bias), options)
}

/// CPU f64 reference of [`perturbed_head`] on `[rows, C, H, W]` data (rows = B, or B * S per
/// sample): `[B, S, H, W]`.
pub fn reference(
    h: &[f32],
    dims: [usize; 4],
    weight: &[f32],
    stddev: &[f32],
    samples: usize,
    seed: u32,
    features: Features,
) -> Vec<f64> {
    let [rows, c, height, width] = dims;
    let b = match features {
        Features::Shared => rows,
        Features::PerSample => rows / samples,
    };
    let layout = Layout { channels: c };
    let mut out = vec![0.0; b * samples * height * width];
    for s in 0..samples {
        let w: Vec<f64> = (0..layout.params())
            .map(|p| {
                let eps = Stream::weight_sample(s)
                    .map_or(0.0, |stream| rng::gaussian(seed, stream, p as u32));
                weight[p] as f64 + stddev[p] as f64 * eps
            })
            .collect();
        for bi in 0..b {
            let source = match features {
                Features::Shared => bi,
                Features::PerSample => bi * samples + s,
            };
            for y in 0..height {
                for x in 0..width {
                    let mut acc = w[layout.bias()];
                    for ci in 0..c {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (yy, xx) = ((y + ky).wrapping_sub(1), (x + kx).wrapping_sub(1));
                                if yy < height && xx < width {
                                    let v = h[((source * c + ci) * height + yy) * width + xx];
                                    acc += w[layout.weight(ci, ky, kx)] * v as f64;
                                }
                            }
                        }
                    }
                    out[((bi * samples + s) * height + y) * width + x] = acc;
                }
            }
        }
    }
    out
}
