//! `genuq fit-laplace`: the diagonal Laplace posterior of the student's last layer, on the
//! student's own training loss.
//!
//! The student learns the velocity `z - x` of a teacher pair (z, class, x) at the grid times
//! t = 1/S, ..., 1 on the straight path `x_t = (1 - t) x + t z` (train/student.rs). Each pixel is
//! one Gaussian observation (sigma = 1): `L_{n,t} = 0.5 * sum_pixels (v(x_t, t) - (z - x))^2`,
//! `v = conv_out(h)`. The last layer is linear, so everything is exact and cheap from the trunk
//! features h: the per-example gradient
//! `g[c, ky, kx] = sum_{y,x} delta[y, x] * h[c, y + ky - 1, x + kx - 1]`, `g[bias] = sum delta`
//! with the residual `delta = v - (z - x)`, and the Jacobian's square
//! `J2[c, ky, kx] = sum_{y,x} h[c, y + ky - 1, x + kx - 1]^2`, `J2[bias] = pixels`.
//! The curvature is averaged over the grid times (the expectation over t the training loss
//! takes) and summed over pairs:
//!
//! - the empirical Fisher, as the paper: `H = 0.5 * sum g^2` (depends on the residuals);
//! - the GGN of the Gaussian likelihood: `H = sum J2`, the Hessian of the loss in the last
//!   layer's parameters (it does not depend on the residuals).
//!
//! Then `std = 1 / sqrt(H / T + prior)`, the prior precision given (the paper: 1) or chosen by
//! the Laplace marginal likelihood ([`marginal_likelihood_prior`]).

use burn::tensor::{Device, Int, Tensor, TensorData};
use indicatif::ProgressBar;

use super::head::Layout;
use super::{Curvature, Posterior};
use crate::Error;
use crate::data::{IMAGE_SIZE, Pairs};
use crate::diffusion::flow;
use crate::model::UNet;

/// The prior precision: given, or chosen by the Laplace marginal likelihood.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prior {
    Fixed(f64),
    MarginalLikelihood,
}

/// The sums `(3x3 taps of a * b [B, C, 9], sum of b [B, 1])` of features `a` `[B, C, H, W]`
/// against one channel `b` `[B, 1, H, W]`: the last layer's (weights, bias) columns.
fn taps(a: Tensor<4>, b: Tensor<4>) -> (Tensor<3>, Tensor<2>) {
    let [n, c, height, width] = a.dims();
    let padded = a.pad(
        [(0, 0), (0, 0), (1, 1), (1, 1)],
        burn::tensor::ops::PadMode::Constant(0.0),
    );
    let mut out = Vec::new();
    for ky in 0..3 {
        for kx in 0..3 {
            let shifted = padded
                .clone()
                .slice([0..n, 0..c, ky..ky + height, kx..kx + width]);
            out.push((shifted * b.clone()).sum_dims(&[2, 3]).reshape([n, c, 1]));
        }
    }
    (Tensor::cat(out, 2), b.sum_dims(&[1, 2, 3]).reshape([n, 1]))
}

/// Per-example last-layer gradients `[B, C * 9 + 1]` (in [`Layout`] order) of
/// `0.5 * sum (v(x_t, t) - target)^2` for a batch of states `x_t` at times `t`.
pub fn per_example_gradients(
    student: &UNet,
    x_t: Tensor<4>,
    t: Tensor<1>,
    class: Tensor<1, Int>,
    target: Tensor<4>,
) -> Tensor<2> {
    let h = student.trunk(x_t, t, class);
    let delta = student.head(h.clone()) - target;
    let channels = h.dims()[1];
    let (w, b) = taps(h, delta);
    Layout { channels }.flatten(w, b)
}

/// Per-example squared Jacobians of the last layer's output, summed over pixels,
/// `[B, C * 9 + 1]`: the diagonal of `J^T J`.
pub fn per_example_jacobian_squares(
    student: &UNet,
    x_t: Tensor<4>,
    t: Tensor<1>,
    class: Tensor<1, Int>,
) -> Tensor<2> {
    let h = student.trunk(x_t, t, class);
    let [b, channels, height, width] = h.dims();
    let ones = Tensor::ones([b, 1, height, width], &h.device());
    let (w, bias) = taps(h.powi_scalar(2), ones);
    Layout { channels }.flatten(w, bias)
}

/// The prior precision that maximises the Laplace marginal likelihood of a diagonal posterior
/// with curvature `h` (already divided by the temperature) around the MAP parameters `theta`:
/// `log p(D) = log p(D | theta) - 0.5 lambda |theta|^2 + 0.5 P log lambda
/// - 0.5 sum_p log(h_p + lambda) + const`, whose stationary point is MacKay's
/// `lambda = gamma / |theta|^2`, `gamma = sum_p h_p / (h_p + lambda)`, iterated to convergence.
pub fn marginal_likelihood_prior(h: &[f64], theta: &[f64]) -> f64 {
    let norm: f64 = theta
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    let mut lambda = 1.0;
    for _ in 0..1000 {
        let gamma: f64 = h.iter().map(|&hp| hp / (hp + lambda)).sum();
        let next = (gamma / norm).max(1e-12);
        if (next - lambda).abs() <= 1e-12 * lambda {
            return next;
        }
        lambda = next;
    }
    lambda
}

/// How the posterior is fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// The student's steps: its loss is averaged over the grid t = 1/steps, ..., 1.
    pub steps: usize,
    pub curvature: Curvature,
    pub prior: Prior,
    /// Divides the curvature (1: plain Laplace).
    pub temperature: f64,
    /// Pairs per batch.
    pub batch: usize,
}

/// Fits the posterior on the teacher `pairs`. No pairs, or a prior precision or temperature
/// that is not positive, are errors.
pub fn fit(
    student: &UNet,
    pairs: &Pairs,
    options: FitOptions,
    device: &Device,
) -> Result<Posterior, Error> {
    let FitOptions {
        steps,
        curvature,
        prior,
        temperature,
        batch,
    } = options;
    if pairs.is_empty() || batch == 0 || steps == 0 {
        return Err(Error::InvalidInput(
            "the Laplace fit needs a teacher pair, a batch and a step".into(),
        ));
    }
    let fixed_ok = match prior {
        Prior::Fixed(p) => p > 0.0,
        Prior::MarginalLikelihood => true,
    };
    if !(fixed_ok && temperature > 0.0) {
        return Err(Error::InvalidInput(format!(
            "prior precision ({prior:?}) and temperature ({temperature}) must be > 0"
        )));
    }
    let (h, examples) = curvature_sum(student, pairs, steps, curvature, batch, device);
    let h: Vec<f64> = h.iter().map(|v| v / temperature).collect();
    let layout = Layout {
        channels: student.conv_out.weight.dims()[1],
    };
    let prior_precision = match prior {
        Prior::Fixed(p) => p,
        Prior::MarginalLikelihood => {
            let w = student.conv_out.weight.val().flatten::<1>(0, 3);
            let b = student.conv_out.bias.as_ref().map(|b| b.val());
            let mut theta: Vec<f64> = w.into_data().iter::<f64>().collect();
            theta.extend(
                b.into_iter()
                    .flat_map(|b| b.into_data().iter::<f64>().collect::<Vec<_>>()),
            );
            marginal_likelihood_prior(&h, &theta)
        }
    };
    let std: Vec<f32> = h
        .iter()
        .map(|&v| (1.0 / (v + prior_precision).sqrt()) as f32)
        .collect();
    let mut posterior = Posterior::from_flat(layout, &std, prior_precision, temperature, examples);
    posterior.curvature = curvature;
    posterior.steps = steps;
    Ok(posterior)
}

/// The diagonal curvature of the last layer's loss summed over `pairs` (averaged over the
/// `steps` grid times), one entry per parameter, and the number of examples.
fn curvature_sum(
    student: &UNet,
    pairs: &Pairs,
    steps: usize,
    curvature: Curvature,
    batch: usize,
    device: &Device,
) -> (Vec<f64>, usize) {
    let bar = ProgressBar::new(pairs.len() as u64);
    let mut total: Option<Tensor<1>> = None;
    let mut examples = 0;
    let side = IMAGE_SIZE;
    let times = flow::grid(steps);
    for (z, class, x) in pairs.batches(batch) {
        let b = class.len();
        let z = Tensor::<4>::from_data(TensorData::new(z, [b, 1, side, side]), device);
        let x = Tensor::<4>::from_data(TensorData::new(x, [b, 1, side, side]), device);
        let c = Tensor::<1, Int>::from_data(TensorData::new(class, [b]), device);
        for &t in &times[..steps] {
            let time = Tensor::full([b], t, device);
            let x_t = flow::noisy(x.clone(), z.clone(), time.clone());
            let per_example = match curvature {
                Curvature::EmpiricalFisher => {
                    let target = flow::velocity(x.clone(), z.clone());
                    per_example_gradients(student, x_t, time, c.clone(), target).powi_scalar(2)
                        * 0.5
                }
                Curvature::Ggn => per_example_jacobian_squares(student, x_t, time, c.clone()),
            };
            let sum = per_example.sum_dim(0).flatten::<1>(0, 1) / steps as f32;
            total = Some(match total {
                Some(acc) => acc + sum,
                None => sum,
            });
        }
        examples += b;
        bar.inc(b as u64);
    }
    bar.finish();
    let h = total
        .map(|h| h.into_data().iter::<f64>().collect())
        .unwrap_or_default();
    (h, examples)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One parameter: MacKay's fixed point solves `theta^2 lambda^2 + theta^2 h lambda - h = 0`.
    #[test]
    fn marginal_likelihood_prior_closed_form() {
        for (h, theta) in [(100.0, 0.5), (3.0, 2.0), (1e4, 0.01)] {
            let got = marginal_likelihood_prior(&[h], &[theta]);
            let a = theta * theta;
            let want = (-a * h + (a * a * h * h + 4.0 * a * h).sqrt()) / (2.0 * a);
            assert!(
                (got - want).abs() < 1e-9 * want,
                "h {h} theta {theta}: {got} vs {want}"
            );
        }
        // large curvature: every parameter is determined by the data, gamma = P, lambda = P / |theta|^2
        let big = marginal_likelihood_prior(&[1e12; 4], &[1.0, 1.0, 0.0, 0.0]);
        assert!((big - 2.0).abs() < 1e-6, "{big}");
    }
}
