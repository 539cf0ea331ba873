//! Launcher of `shaders/colormap.wgsl`: per-pixel variance -> viridis RGBA8 for display.

use burn::tensor::{Int, Tensor, TensorData};

use super::{Wgsl, cube, from_cube, groups_for, host, launch, on_cpu, param};
use crate::Error;

/// `var` `[B, N]` and `scale` `[B]` (the standard deviation shown as the top colour) ->
/// packed RGBA8 `[B, N]` (`r | g << 8 | b << 16 | a << 24`, as `i32` bit patterns).
pub fn colormap(var: Tensor<2>, scale: Tensor<1>) -> Result<Tensor<2, Int>, Error> {
    let [b, n] = var.dims();
    let device = var.device();
    if on_cpu(&device) {
        let scale = host(scale)?;
        let rgba: Vec<i32> = host(var)?
            .iter()
            .enumerate()
            .map(|(i, &v)| i32::from_le_bytes(reference(v as f64, scale[i / n] as f64)))
            .collect();
        return Ok(Tensor::from_data(TensorData::new(rgba, [b, n]), &device));
    }
    let info = [param(b, "batch")?, param(n, "n")?];
    let var = cube(var)?;
    let scale = cube(scale)?;
    let rgba = cube(Tensor::<2, Int>::empty([b, n], &device))?;
    let kernel = Wgsl {
        name: "colormap",
        source: include_str!("../../../shaders/colormap.wgsl"),
        includes: &[],
        values: vec![],
    };
    launch(kernel, groups_for(b * n), &[&var, &scale, &rgba], &info);
    Ok(from_cube(rgba))
}

const C: [[f64; 3]; 7] = [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

/// CPU reference and the CPU path's twin: viridis at `t` in [0, 1] as RGBA8 `[r, g, b, 255]`.
pub fn reference(var: f64, scale: f64) -> [u8; 4] {
    let t = if scale > 0.0 {
        (var.max(0.0).sqrt() / scale).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut rgb = [0u8; 3];
    for (ch, out) in rgb.iter_mut().enumerate() {
        let v = C.iter().rev().fold(0.0, |acc, c| acc * t + c[ch]);
        *out = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    }
    [rgb[0], rgb[1], rgb[2], 255]
}
