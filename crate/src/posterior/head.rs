//! The student's last layer as the posterior sees it: `conv_out`, a 3x3 convolution from C
//! channels to one, flattened to `C * 9 + 1` parameters (weights in (c, ky, kx) order, bias
//! last). This file is the one owner of that layout: the posterior file, the fit's gradients,
//! the `perturbed_head` kernel (and its reference), the paper's materialised weight copies and
//! the exact variance all go through [`Layout`] and [`HeadWeights`].

use burn::nn::conv::Conv2d;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};

use super::Posterior;
use crate::Error;
use crate::rng::{self, Stream};

/// Taps of the 3x3 kernel.
pub const TAPS: usize = 9;

/// Where each parameter of a C-channel head sits in the flat vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub channels: usize,
}

impl Layout {
    /// Weights and bias: `C * 9 + 1`.
    pub fn params(self) -> usize {
        self.weights() + 1
    }

    /// The weights alone: `C * 9`.
    pub fn weights(self) -> usize {
        self.channels * TAPS
    }

    /// The bias's index (the last).
    pub fn bias(self) -> usize {
        self.weights()
    }

    /// Index of weight (c, ky, kx), ky and kx in 0..3.
    pub fn weight(self, c: usize, ky: usize, kx: usize) -> usize {
        c * TAPS + ky * 3 + kx
    }

    /// Per-example quantities `[B, C, 9]` (one per weight) and `[B, 1]` (the bias) as
    /// `[B, C * 9 + 1]` in this layout.
    pub fn flatten(self, weights: Tensor<3>, bias: Tensor<2>) -> Tensor<2> {
        let [b, ..] = weights.dims();
        Tensor::cat(vec![weights.reshape([b, self.weights()]), bias], 1)
    }

    /// A flat vector `[C * 9 + 1]` as conv weights `[1, C, 3, 3]` and bias `[1]`.
    pub fn split(self, flat: Tensor<1>) -> (Tensor<4>, Tensor<1>) {
        (
            flat.clone()
                .slice(0..self.weights())
                .reshape([1, self.channels, 3, 3]),
            flat.slice(self.bias()..self.params()),
        )
    }
}

/// The last layer flattened (MAP weights) and the posterior's standard deviations, both
/// `[C * 9 + 1]` in [`Layout`] order, on the device the kernels run on.
#[derive(Debug, Clone)]
pub struct HeadWeights {
    pub weight: Tensor<1>,
    pub stddev: Tensor<1>,
    pub layout: Layout,
}

impl HeadWeights {
    /// The student's `conv_out` with the posterior fitted to it.
    pub fn new(conv_out: &Conv2d, posterior: &Posterior) -> Result<Self, Error> {
        let weight = conv_out.weight.val();
        let [out, channels, kh, kw] = weight.dims();
        if out != 1 || kh * kw != TAPS {
            return Err(Error::Model(format!(
                "the last layer is a [{out}, {channels}, {kh}, {kw}] convolution, not 3x3 to one channel"
            )));
        }
        let layout = Layout { channels };
        let bias = conv_out
            .bias
            .as_ref()
            .ok_or_else(|| Error::Model("the last layer has no bias".into()))?
            .val();
        let device = weight.device();
        let stddev = posterior.flat(layout)?;
        Ok(Self {
            weight: Tensor::cat(vec![weight.flatten::<1>(0, 3), bias], 0),
            stddev: Tensor::from_data(TensorData::new(stddev, [layout.params()]), &device),
            layout,
        })
    }

    /// Weight sample `m`'s parameters, materialised as the paper's code does (noise drawn on
    /// the CPU from the same streams as the kernel): conv weights `[1, C, 3, 3]` and bias `[1]`;
    /// m = 0 is the MAP.
    pub fn sample(&self, m: usize, seed: u32) -> (Tensor<4>, Tensor<1>) {
        let device = self.weight.device();
        let params = self.layout.params();
        let eps = match Stream::weight_sample(m) {
            None => vec![0.0; params],
            Some(stream) => rng::gaussians_f32(seed, stream, params, 1.0),
        };
        let eps = Tensor::<1>::from_data(TensorData::new(eps, [params]), &device);
        self.layout
            .split(self.weight.clone() + self.stddev.clone() * eps)
    }

    /// The layer with materialised parameters `(weight, bias)` on `h` `[B, C, H, W]`:
    /// `[B, 1, H, W]`.
    pub fn conv(h: Tensor<4>, (weight, bias): (Tensor<4>, Tensor<1>)) -> Tensor<4> {
        conv2d(
            h,
            weight,
            Some(bias),
            ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
        )
    }

    /// The paper's way to the same numbers as the `perturbed_head` kernel: `samples` weight
    /// copies, one convolution each: `[B, S, H, W]`.
    pub fn naive(&self, h: Tensor<4>, samples: usize, seed: u32) -> Tensor<4> {
        let outs = (0..samples)
            .map(|m| Self::conv(h.clone(), self.sample(m, seed)))
            .collect();
        Tensor::cat(outs, 1)
    }

    /// The exact per-pixel variance of the layer's output under the diagonal posterior, on
    /// features `h` `[B, C, H, W]`: the layer is linear in its parameters, so
    /// `Var[out(y, x)] = sum_p std_p^2 in_p(y, x)^2 + std_bias^2`, a 3x3 convolution of h^2
    /// with the variances: `[B, 1, H, W]`.
    pub fn exact_variance(&self, h: Tensor<4>) -> Tensor<4> {
        Self::conv(
            h.powi_scalar(2),
            self.layout.split(self.stddev.clone().powi_scalar(2)),
        )
    }
}
