//! `genuq fit-laplace`: diagonal empirical Fisher of the student's last layer.
//!
//! The student's training loss per example n is the distillation loss on a teacher pair
//! (z_n, c_n, x_n), summed over pixels (each pixel one Gaussian observation, sigma = 1):
//! `L_n = 0.5 * sum_pixels (x0(z_n) - x_n)^2`, `x0 = z - conv_out(h)`. The last layer is
//! linear, so its per-example gradient is exact and cheap from the trunk features h:
//! `g_n[c, ky, kx] = sum_{y,x} delta_n[y, x] * h_n[c, y + ky - 1, x + kx - 1]`,
//! `delta_n = dL_n / d conv_out = -(x0 - x_n)`, and `g_n[bias] = sum delta_n`.
//! Then, as in the paper, `H = 0.5 * sum_n g_n^2`, std = `1 / sqrt(H / T + prior)`.

use burn::tensor::{Device, Int, Tensor, TensorData};
use indicatif::ProgressBar;

use super::Posterior;
use super::head::Layout;
use crate::Error;
use crate::data::{IMAGE_SIZE, Pairs};
use crate::model::UNet;

/// Per-example last-layer gradients `[B, C * 9 + 1]` (in [`Layout`] order) for a batch of pairs.
pub fn per_example_gradients(
    student: &UNet,
    z: Tensor<4>,
    class: Tensor<1, Int>,
    target: Tensor<4>,
) -> Tensor<2> {
    let [b, ..] = z.dims();
    let t = Tensor::ones([b], &z.device());
    let h = student.trunk(z.clone(), t, class);
    let x0 = z - student.head(h.clone());
    let delta = (x0 - target).neg(); // [B, 1, H, W]
    let [_, c, height, width] = h.dims();
    let padded = h.pad(
        [(0, 0), (0, 0), (1, 1), (1, 1)],
        burn::tensor::ops::PadMode::Constant(0.0),
    );
    let mut taps = Vec::new();
    for ky in 0..3 {
        for kx in 0..3 {
            let shifted = padded
                .clone()
                .slice([0..b, 0..c, ky..ky + height, kx..kx + width]);
            taps.push(
                (shifted * delta.clone())
                    .sum_dims(&[2, 3])
                    .reshape([b, c, 1]),
            );
        }
    }
    // [B, C, 9]: tap ky * 3 + kx of channel c
    Layout { channels: c }.flatten(
        Tensor::cat(taps, 2),
        delta.sum_dims(&[1, 2, 3]).reshape([b, 1]),
    )
}

/// Sums `0.5 * g_n^2` over the teacher `pairs` in batches of `batch` and forms the posterior.
/// No pairs, or a prior precision and temperature that are not positive, are errors.
pub fn fit(
    student: &UNet,
    pairs: &Pairs,
    batch: usize,
    prior_precision: f64,
    temperature: f64,
    device: &Device,
) -> Result<Posterior, Error> {
    if pairs.is_empty() || batch == 0 {
        return Err(Error::InvalidInput(
            "the Laplace fit needs at least one teacher pair and a batch of at least one".into(),
        ));
    }
    if !(prior_precision > 0.0 && temperature > 0.0) {
        return Err(Error::InvalidInput(format!(
            "prior precision ({prior_precision}) and temperature ({temperature}) must be > 0"
        )));
    }
    let bar = ProgressBar::new(pairs.len() as u64);
    let mut h: Option<Tensor<1>> = None;
    let mut examples = 0;
    let side = IMAGE_SIZE;
    for (z, class, x) in pairs.batches(batch) {
        let b = class.len();
        let z = Tensor::<4>::from_data(TensorData::new(z, [b, 1, side, side]), device);
        let x = Tensor::<4>::from_data(TensorData::new(x, [b, 1, side, side]), device);
        let c = Tensor::<1, Int>::from_data(TensorData::new(class, [b]), device);
        let g = per_example_gradients(student, z, c, x);
        let sq = (g.powi_scalar(2) * 0.5).sum_dim(0).flatten::<1>(0, 1);
        h = Some(match h {
            Some(acc) => acc + sq,
            None => sq,
        });
        examples += b;
        bar.inc(b as u64);
    }
    bar.finish();
    let h: Vec<f64> = h
        .map(|h| h.into_data().iter::<f64>().collect())
        .unwrap_or_default();
    let std: Vec<f32> = h
        .iter()
        .map(|&v| (1.0 / (v / temperature + prior_precision).sqrt()) as f32)
        .collect();
    let layout = Layout {
        channels: student.conv_out.weight.dims()[1],
    };
    Ok(Posterior::from_flat(
        layout,
        &std,
        prior_precision,
        temperature,
        examples,
    ))
}
