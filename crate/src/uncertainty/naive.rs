//! The paper's released code's way, kept as the reference and the benchmark baseline: M full
//! copies of the last layer's weights, perturbed with burn ops, one convolution each.

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};

use crate::kernels::perturbed_head::HeadWeights;
use crate::kernels::philox;

/// Sample `s`'s last layer, materialised: weights `[1, C, 3, 3]` and bias `[1]` (s = 0: MAP).
pub fn naive_weights(head: &HeadWeights, s: usize, seed: u32) -> (Tensor<4>, Tensor<1>) {
    let device = head.weight.device();
    let c = head.channels;
    let params = c * 9 + 1;
    let eps: Vec<f32> = if s == 0 {
        vec![0.0; params]
    } else {
        philox::gaussians(seed, s as u32, params)
            .into_iter()
            .map(|v| v as f32)
            .collect()
    };
    let eps = Tensor::<1>::from_data(TensorData::new(eps, [params]), &device);
    let w = head.weight.clone() + head.stddev.clone() * eps;
    (
        w.clone().slice(0..c * 9).reshape([1, c, 3, 3]),
        w.slice(c * 9..params),
    )
}

/// The last layer with materialised weights `(weight, bias)` on `h` `[B, C, H, W]`: `[B, 1, H, W]`.
pub fn conv_head(h: Tensor<4>, (weight, bias): (Tensor<4>, Tensor<1>)) -> Tensor<4> {
    conv2d(
        h,
        weight,
        Some(bias),
        ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
    )
}

/// Same result as [`perturbed_head`](crate::kernels::perturbed_head::perturbed_head), with the
/// noise drawn on the CPU and `samples` weight tensors materialised: `[B, S, H, W]`.
pub fn naive_head(h: Tensor<4>, head: &HeadWeights, samples: usize, seed: u32) -> Tensor<4> {
    let outs = (0..samples)
        .map(|s| conv_head(h.clone(), naive_weights(head, s, seed)))
        .collect();
    Tensor::cat(outs, 1)
}
