//! The exact per-pixel variance of a one-step student under the diagonal posterior: the last
//! layer is linear in its weights, so `Var[out(y, x)] = sum_p std_p^2 * in_p(y, x)^2 + std_b^2`
//! (a 3x3 convolution of h^2 with the variances). The heatmap's exact mode, and the limit the
//! sampled moments must approach.

use burn::tensor::Tensor;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use crate::kernels::perturbed_head::HeadWeights;

/// `h` `[B, C, H, W]` -> exact variance of the head's output `[B, 1, H, W]`.
pub fn exact_variance(h: Tensor<4>, head: &HeadWeights) -> Tensor<4> {
    let c = head.channels;
    let var = head.stddev.clone().powi_scalar(2);
    let w = var.clone().slice(0..c * 9).reshape([1, c, 3, 3]);
    let b = var.slice(c * 9..c * 9 + 1);
    conv2d(
        h.powi_scalar(2),
        w,
        Some(b),
        ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
    )
}
