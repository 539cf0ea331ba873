//! Launcher of `shaders/semantic_entropy.wgsl`: the paper's uncertainty score u from the
//! M + 1 CLIP image embeddings of each generation.

use burn::tensor::Tensor;

use super::{VARIANCE, WORKGROUP, Wgsl, cube, from_cube, host, launch, on_cpu, param, tensor};
use crate::Error;

/// The score's variance floor: `log(v_d + VARIANCE_FLOOR)` (the paper's 1e-3).
pub const VARIANCE_FLOOR: f64 = 1e-3;

/// `emb` `[B, S, D]` -> u `[B]` (D <= 256).
pub fn semantic_entropy(emb: Tensor<3>) -> Result<Tensor<1>, Error> {
    let [b, s, d] = emb.dims();
    if d > WORKGROUP as usize {
        return Err(Error::InvalidInput(format!(
            "embedding width {d} > {WORKGROUP}"
        )));
    }
    let device = emb.device();
    if on_cpu(&device) {
        let emb = host(emb)?;
        let u = emb.chunks(s * d).map(|e| reference(e, s, d));
        return Ok(tensor(u, [b], &device));
    }
    let info = [param(s, "samples")?, param(d, "dims")?];
    let emb = cube(emb)?;
    let u = cube(Tensor::<1>::empty([b], &device))?;
    let kernel = Wgsl {
        name: "semantic_entropy",
        source: include_str!("../../../shaders/semantic_entropy.wgsl"),
        includes: &[VARIANCE],
        values: vec![
            ("floor", format!("{VARIANCE_FLOOR:?}")),
            ("values", "emb".into()),
        ],
    };
    launch(kernel, [param(b, "batch")?, 1, 1], &[&emb, &u], &info);
    Ok(from_cube(u))
}

/// CPU f64 reference and the CPU path's twin: `u = 0.5 sum_d log(v_d + 1e-3) + 0.5 D (log 2pi + 1)` for one
/// generation's `[S, D]` embeddings, with the paper's code's `v_d = mean(e^2) - mean(e)^2`
/// clipped at 0 (the population variance).
pub fn reference(emb: &[f32], s: usize, d: usize) -> f64 {
    let sum: f64 = (0..d)
        .map(|k| {
            let v: Vec<f64> = (0..s).map(|i| emb[i * d + k] as f64).collect();
            let m = v.iter().sum::<f64>() / s as f64;
            let sq = v.iter().map(|x| x * x).sum::<f64>() / s as f64;
            let var = (sq - m * m).max(0.0);
            (var + VARIANCE_FLOOR).ln()
        })
        .sum();
    0.5 * sum + 0.5 * d as f64 * ((2.0 * std::f64::consts::PI).ln() + 1.0)
}
