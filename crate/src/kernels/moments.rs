//! Launcher of `shaders/moments.wgsl`: per-pixel mean and population variance across samples
//! (divided by S, the paper's definition).

use burn::tensor::Tensor;

use super::{VARIANCE, Wgsl, cube, from_cube, groups_for, host, launch, on_cpu, param, tensor};
use crate::Error;

/// `x` `[B, S, N]` -> (mean `[B, N]`, variance `[B, N]`, divided by S).
pub fn moments(x: Tensor<3>) -> Result<(Tensor<2>, Tensor<2>), Error> {
    let [b, s, n] = x.dims();
    let device = x.device();
    if on_cpu(&device) {
        let (mean, var) = reference(&host(x)?, [b, s, n]);
        return Ok((tensor(mean, [b, n], &device), tensor(var, [b, n], &device)));
    }
    let info = [param(b, "batch")?, param(s, "samples")?, param(n, "n")?];
    let x = cube(x)?;
    let mean = cube(Tensor::<2>::empty([b, n], &device))?;
    let var = cube(Tensor::<2>::empty([b, n], &device))?;
    let kernel = Wgsl {
        name: "moments",
        source: include_str!("../../../shaders/moments.wgsl"),
        includes: &[VARIANCE],
        values: vec![("values", "x".into())],
    };
    launch(kernel, groups_for(b * n), &[&x, &mean, &var], &info);
    Ok((from_cube(mean), from_cube(var)))
}

/// CPU f64 reference and the CPU path's twin: (mean, variance) of `[B, S, N]` data.
pub fn reference(x: &[f32], [b, s, n]: [usize; 3]) -> (Vec<f64>, Vec<f64>) {
    let (mut mean, mut var) = (vec![0.0; b * n], vec![0.0; b * n]);
    for bi in 0..b {
        for k in 0..n {
            let v: Vec<f64> = (0..s).map(|si| x[(bi * s + si) * n + k] as f64).collect();
            let m = v.iter().sum::<f64>() / s as f64;
            mean[bi * n + k] = m;
            var[bi * n + k] = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / s as f64;
        }
    }
    (mean, var)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two generations of S = 4 samples of N = 2 pixels, `[B, S, N]` row-major: the mean and the
    /// population variance (divided by S) by hand.
    #[test]
    fn reference_is_the_population_variance_per_pixel() {
        let x = [
            1.0, 10.0, 2.0, 10.0, 3.0, 10.0, 4.0,
            10.0, // b = 0: pixel 0 is 1..4, pixel 1 constant
            0.0, -1.0, 0.0, 1.0, 0.0, -1.0, 0.0, 1.0, // b = 1: pixel 1 alternates
        ];
        let (mean, var) = reference(&x, [2, 4, 2]);
        assert_eq!(mean, vec![2.5, 10.0, 0.0, 0.0]);
        assert_eq!(var, vec![1.25, 0.0, 0.0, 1.0]);
    }
}
