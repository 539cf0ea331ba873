//! Checks shared by the native tests (`native.rs`, lavapipe) and the browser tests (`web.rs`,
//! WebGPU in headless Chrome): each takes a wgpu device, reads back asynchronously (the only
//! way in a browser) and panics with the numbers when a bound is broken.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use genuq::kernels::{philox, rng};
use genuq::model::{UNet, UNetConfig};

pub async fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data_async()
        .await
        .expect("readback")
        .iter::<f32>()
        .collect()
}

/// The raw Philox words from the GPU equal the CPU twin's, bit for bit.
pub async fn rng_bits_match_cpu(device: &Device) {
    for (seed, stream) in [
        (0u32, 0u32),
        (42, 1),
        (0xDEAD_BEEF, 7),
        (u32::MAX, u32::MAX),
    ] {
        let blocks = 1000;
        let gpu = rng::bits(device, blocks, seed, stream).unwrap();
        let gpu: Vec<u32> = gpu
            .into_data_async()
            .await
            .unwrap()
            .iter::<i64>()
            .map(|v| v as u32)
            .collect();
        let cpu: Vec<u32> = (0..blocks as u32)
            .flat_map(|b| philox::philox_block(seed, stream, b))
            .collect();
        assert_eq!(gpu.len(), cpu.len());
        if let Some(i) = (0..cpu.len()).find(|&i| gpu[i] != cpu[i]) {
            panic!(
                "seed {seed} stream {stream} word {i}: gpu {:#x} cpu {:#x}",
                gpu[i], cpu[i]
            );
        }
    }
}

/// GPU normals equal the CPU f64 reference up to f32 rounding of log/cos/sin; an odd length
/// exercises the tail guard.
pub async fn rng_gaussians_match_cpu(device: &Device) {
    let len = 100_003;
    let gpu = floats(rng::gaussian(device, len, 9, 3).unwrap()).await;
    let cpu = philox::gaussians(9, 3, len);
    let worst = gpu
        .iter()
        .zip(&cpu)
        .map(|(g, c)| (*g as f64 - c).abs())
        .fold(0.0, f64::max);
    assert!(worst < 2e-5, "max |gpu - cpu| = {worst:e}");
}

/// 2^20 draws: mean, variance and the Kolmogorov-Smirnov distance to N(0, 1) within the
/// bounds that a correct generator breaks with probability < 1e-4 (mean, variance: 4 sigma)
/// or 1e-3 (KS: D > 1.95 / sqrt(n)).
pub async fn rng_statistics(device: &Device) {
    let n = 1usize << 20;
    let mut x = floats(rng::gaussian(device, n, 2024, 0).unwrap()).await;
    let nf = n as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / nf;
    let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (nf - 1.0);
    assert!(mean.abs() < 4.0 / nf.sqrt(), "mean {mean}");
    assert!(
        (var - 1.0).abs() < 4.0 * (2.0 / nf).sqrt(),
        "variance {var}"
    );
    x.sort_by(f32::total_cmp);
    let ks = x
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let cdf = 0.5 * libm::erfc(-(v as f64) / std::f64::consts::SQRT_2);
            (cdf - i as f64 / nf).abs().max((i as f64 + 1.0) / nf - cdf)
        })
        .fold(0.0, f64::max);
    assert!(ks < 1.95 / nf.sqrt(), "KS distance {ks}");
}

/// Replaces every float parameter by counter-RNG normals scaled by 1/sqrt(fan-in): the same
/// weights on any device and target, without burn's own RNG.
struct PhiloxWeights {
    next_stream: u32,
}

impl ModuleMapper for PhiloxWeights {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let stream = self.next_stream;
        self.next_stream += 1;
        param.map(|t| {
            let shape = t.shape();
            let dims = shape.dims::<D>();
            let fan_in: usize = if D > 1 { dims[1..].iter().product() } else { 4 };
            let scale = 1.0 / (fan_in as f64).sqrt();
            let values: Vec<f32> = philox::gaussians(7, stream, shape.num_elements())
                .into_iter()
                .map(|v| (v * scale) as f32)
                .collect();
            Tensor::from_data(TensorData::new(values, shape), &t.device())
        })
    }
}

/// The smoke UNet: default config, weights from [`PhiloxWeights`].
pub fn smoke_unet(device: &Device) -> UNet {
    UNetConfig::new()
        .init(device)
        .map(&mut PhiloxWeights { next_stream: 0 })
}

/// The smoke UNet's input: two images, times and classes (one with the null class).
pub fn smoke_input(device: &Device) -> (Tensor<4>, Tensor<1>, Tensor<1, Int>) {
    let x: Vec<f32> = philox::gaussians(11, 0, 2 * 1024)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    (
        Tensor::from_data(TensorData::new(x, [2, 1, 32, 32]), device),
        Tensor::from_floats([0.3, 0.9], device),
        Tensor::from_ints([3, 10], device),
    )
}

/// The smoke UNet's output on `device`: `[2 * 1024]`.
pub async fn smoke_output(device: &Device) -> Vec<f32> {
    let (x, t, c) = smoke_input(device);
    floats(smoke_unet(device).forward(x, t, c)).await
}

/// The reference output, computed by burn's CPU backend natively (see `native.rs`).
pub fn smoke_reference() -> Vec<f32> {
    serde_json::from_str(include_str!("fixtures/unet_smoke.json")).expect("fixture")
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
