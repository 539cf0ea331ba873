//! Checks shared by the native tests (`native.rs`, lavapipe) and the browser tests (`web.rs`,
//! WebGPU in headless Chrome): each takes a wgpu device, reads back asynchronously (the only
//! way in a browser) and panics with the numbers when a bound is broken. The kernel checks are
//! here; those of whole generations in `generation.rs`.

mod generation;
pub use generation::*;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use genuq::data::{IMAGE_SIZE, PIXELS};
use genuq::kernels::rng;
use genuq::model::{UNet, UNetConfig};
use genuq::posterior::head::{HeadWeights, Layout};
use genuq::rng::{Stream, block, gaussians, gaussians_f32};

pub async fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data_async()
        .await
        .expect("readback")
        .iter::<f32>()
        .collect()
}

/// A tensor of `u32` words (held as `i32` bit patterns), read back.
pub async fn words<const D: usize>(t: Tensor<D, Int>) -> Vec<u32> {
    t.into_data_async()
        .await
        .expect("readback")
        .iter::<i64>()
        .map(|v| v as u32)
        .collect()
}

/// The raw Philox words from the GPU equal the CPU twin's, bit for bit, in every stream family
/// the GPU draws from and in others.
pub async fn rng_bits_match_cpu(device: &Device) {
    for (seed, stream) in [
        (0u32, Stream::Noise),
        (42, Stream::weight_sample(1).unwrap()),
        (0xDEAD_BEEF, Stream::Test(7)),
        (u32::MAX, Stream::BatchOrder(u32::MAX)),
    ] {
        let blocks = 1000;
        let gpu = words(rng::bits(device, blocks, seed, stream).unwrap()).await;
        let cpu: Vec<u32> = (0..blocks as u32)
            .flat_map(|b| block(seed, stream, b))
            .collect();
        assert_eq!(gpu.len(), cpu.len());
        if let Some(i) = (0..cpu.len()).find(|&i| gpu[i] != cpu[i]) {
            panic!(
                "seed {seed} stream {stream:?} word {i}: gpu {:#x} cpu {:#x}",
                gpu[i], cpu[i]
            );
        }
    }
}

/// GPU normals equal the CPU f64 reference up to f32 rounding of log/cos/sin; an odd length
/// exercises the tail guard.
pub async fn rng_gaussians_match_cpu(device: &Device) {
    let len = 100_003;
    let gpu = floats(rng::gaussian(device, len, 9, Stream::Test(3)).unwrap()).await;
    let cpu = gaussians(9, Stream::Test(3), len);
    let worst = gpu
        .iter()
        .zip(&cpu)
        .map(|(g, c)| (*g as f64 - c).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-5, "max |gpu - cpu| = {worst:e}");
}

/// 2^20 draws: mean, variance and the Kolmogorov-Smirnov distance to N(0, 1) within the
/// bounds that a correct generator breaks with probability < 1e-4 (mean, variance: 4 sigma)
/// or 1e-3 (KS: D > 1.95 / sqrt(n)).
pub async fn rng_statistics(device: &Device) {
    let n = 1usize << 20;
    let mut x = floats(rng::gaussian(device, n, 2024, Stream::Noise).unwrap()).await;
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
            let values = gaussians_f32(7, Stream::Test(stream), shape.num_elements(), scale);
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
    let x = gaussians_f32(11, Stream::Test(0), 2 * PIXELS, 1.0);
    (
        Tensor::from_data(TensorData::new(x, [2, 1, IMAGE_SIZE, IMAGE_SIZE]), device),
        Tensor::from_floats([0.3, 0.9], device),
        Tensor::from_ints([3, 10], device),
    )
}

/// The smoke UNet's output on `device`: `[2 * PIXELS]`.
pub async fn smoke_output(device: &Device) -> Vec<f32> {
    let (x, t, c) = smoke_input(device);
    floats(smoke_unet(device).forward(x, t, c)).await
}

/// The reference output, computed by burn's CPU backend natively (see `native.rs`).
pub fn smoke_reference() -> Vec<f32> {
    serde_json::from_str(include_str!("../fixtures/unet_smoke.json")).expect("fixture")
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn philox_floats(seed: u32, stream: u32, n: usize, scale: f64) -> Vec<f32> {
    gaussians_f32(seed, Stream::Test(stream), n, scale)
}

fn assert_close(gpu: &[f32], cpu: &[f64], tol: f64, what: &str) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: length");
    let worst = gpu
        .iter()
        .zip(cpu)
        .map(|(g, c)| (*g as f64 - c).abs() / c.abs().max(1.0))
        .fold(0.0, f64::max);
    assert!(
        worst < tol,
        "{what}: max relative error {worst:e} >= {tol:e}"
    );
}

/// Trunk features `[b, 16, IMAGE_SIZE, IMAGE_SIZE]` and a head with its posterior stds, from the counter RNG.
fn head_fixture(device: &Device, b: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>, HeadWeights) {
    let layout = Layout { channels: 16 };
    let h = philox_floats(1, 0, b * layout.channels * PIXELS, 1.0);
    let weight = philox_floats(1, 1, layout.params(), 0.3);
    let stddev: Vec<f32> = philox_floats(1, 2, layout.params(), 0.05)
        .iter()
        .map(|v| v.abs())
        .collect();
    let head = HeadWeights {
        weight: Tensor::from_floats(weight.as_slice(), device),
        stddev: Tensor::from_floats(stddev.as_slice(), device),
        layout,
    };
    (h, weight, stddev, head)
}

/// The fused perturbed head equals the CPU f64 reference (MAP + 8 samples, noise in-kernel),
/// with the samples sharing each generation's features (a trajectory that branches) and with
/// each sample on its own features (M + 1 trajectories).
pub async fn perturbed_head_matches_reference(device: &Device) {
    use genuq::kernels::perturbed_head::{Features, perturbed_head, reference};
    let (b, c, s) = (2, 16, 9);
    for (features, rows) in [(Features::Shared, b), (Features::PerSample, b * s)] {
        let (h, weight, stddev, head) = head_fixture(device, rows);
        let dims = [rows, c, IMAGE_SIZE, IMAGE_SIZE];
        let ht = Tensor::<4>::from_data(TensorData::new(h.clone(), dims), device);
        let gpu = floats(perturbed_head(ht, &head, s, 77, features).unwrap()).await;
        let cpu = reference(&h, dims, &weight, &stddev, s, 77, features);
        assert_eq!(gpu.len(), b * s * PIXELS);
        assert_close(&gpu, &cpu, 1e-4, &format!("perturbed_head {features:?}"));
        // the samples really differ from the MAP
        assert!((gpu[PIXELS * 3] - gpu[3]).abs() > 1e-3);
    }
}

/// Per (b, n): the mean and the population variance over s of `x` `[B, S, N]`, in f64, two
/// passes, written apart from the crate's twins (which the CPU path runs), so a check on the
/// CPU device compares the twin with something else.
pub fn moments_f64(x: &[f32], [b, s, n]: [usize; 3]) -> (Vec<f64>, Vec<f64>) {
    let (mut mean, mut var) = (vec![0.0; b * n], vec![0.0; b * n]);
    for i in 0..b {
        for k in 0..n {
            let at = |j: usize| x[(i * s + j) * n + k] as f64;
            let m = (0..s).map(at).sum::<f64>() / s as f64;
            mean[i * n + k] = m;
            var[i * n + k] = (0..s).map(|j| (at(j) - m).powi(2)).sum::<f64>() / s as f64;
        }
    }
    (mean, var)
}

/// The paper's u in f64, from its formula: `0.5 * sum_d ln(v_d + 1e-3) + 0.5 * D * (ln 2 pi + 1)`,
/// `v_d` the population variance over the S embeddings `[S, D]` (written apart from the twin).
pub fn entropy_f64(emb: &[f32], s: usize, d: usize) -> f64 {
    let (_, var) = moments_f64(emb, [1, s, d]);
    let logs: f64 = var.iter().map(|v| (v + 1e-3).ln()).sum();
    0.5 * logs + 0.5 * d as f64 * ((2.0 * std::f64::consts::PI).ln() + 1.0)
}

pub async fn moments_match_reference(device: &Device) {
    let (b, s, n) = (3, 9, PIXELS);
    let x = philox_floats(2, 0, b * s * n, 2.0);
    let t = Tensor::<3>::from_data(TensorData::new(x.clone(), [b, s, n]), device);
    let (mean, var) = genuq::kernels::moments::moments(t).unwrap();
    let (m, v) = moments_f64(&x, [b, s, n]);
    assert_close(&floats(mean).await, &m, 1e-5, "moments mean");
    assert_close(&floats(var).await, &v, 1e-5, "moments variance");
}

pub async fn semantic_entropy_matches_reference(device: &Device) {
    let (b, s, d) = (3, 9, 64);
    // three generations with very different spreads
    let emb: Vec<f32> = (0..b)
        .flat_map(|i| philox_floats(3, i as u32, s * d, [1e-3, 0.1, 3.0][i]))
        .collect();
    let t = Tensor::<3>::from_data(TensorData::new(emb.clone(), [b, s, d]), device);
    let u = floats(genuq::kernels::semantic_entropy::semantic_entropy(t).unwrap()).await;
    let cpu: Vec<f64> = (0..b)
        .map(|i| entropy_f64(&emb[i * s * d..(i + 1) * s * d], s, d))
        .collect();
    assert_close(&u, &cpu, 1e-5, "semantic entropy");
    assert!(u[0] < u[1] && u[1] < u[2], "u grows with the spread: {u:?}");
}

/// matplotlib's viridis at t = 0, 1/8, ..., 1 (R's `viridis(9)`), written down independently of
/// the kernel's polynomial fit.
const VIRIDIS_9: [[u8; 3]; 9] = [
    [0x44, 0x01, 0x54],
    [0x47, 0x2d, 0x7b],
    [0x3b, 0x52, 0x8b],
    [0x2c, 0x72, 0x8e],
    [0x21, 0x90, 0x8c],
    [0x27, 0xad, 0x81],
    [0x5d, 0xc8, 0x63],
    [0xaa, 0xdc, 0x32],
    [0xfd, 0xe7, 0x25],
];

/// The colour map against viridis itself: a standard deviation of `t * scale` (variance
/// `(t * scale)^2`) shows viridis at `t` within 5 per channel at the nine stops, each channel
/// within its two bracketing stops (+-16: viridis bends between them, blue dips to 0x18
/// near 0.95) between them, and alpha 255; a negative variance or a
/// zero scale shows the bottom colour, a spread beyond `scale` the top one. On WebGPU the
/// kernel also equals its CPU twin within 1.
pub async fn colormap_matches_reference(device: &Device) {
    let n = 801;
    let scale = [2.0f32, 0.5];
    let t_of = |i: usize| (i % n) as f64 / (n - 1) as f64;
    let mut var: Vec<f32> = (0..2 * n)
        .map(|i| (t_of(i) * scale[i / n] as f64).powi(2) as f32)
        .collect();
    var[1] = -1.0; // below 0: t = 0
    var[n - 2] = 100.0; // beyond the scale: t = 1
    let t = Tensor::<2>::from_data(TensorData::new(var.clone(), [2, n]), device);
    let rgba = genuq::kernels::colormap::colormap(t, Tensor::from_floats(scale, device)).unwrap();
    let got: Vec<[u8; 4]> = words(rgba).await.iter().map(|w| w.to_le_bytes()).collect();
    for (i, px) in got.iter().enumerate() {
        let t = match i % n {
            1 => 0.0,
            k if k == n - 2 => 1.0,
            _ => t_of(i),
        };
        let k = ((t * 8.0).floor() as usize).min(7);
        let (lo, hi) = (VIRIDIS_9[k], VIRIDIS_9[k + 1]);
        let at_stop = (t * 8.0 - (t * 8.0).round()).abs() < 1e-9;
        for ch in 0..3 {
            let v = px[ch] as i32;
            if at_stop {
                let want = VIRIDIS_9[(t * 8.0).round() as usize][ch] as i32;
                assert!(
                    (v - want).abs() <= 5,
                    "pixel {i} (t = {t}): {px:?} vs {want}"
                );
            }
            let (a, b) = (lo[ch].min(hi[ch]) as i32, lo[ch].max(hi[ch]) as i32);
            assert!(v >= a - 16 && v <= b + 16, "pixel {i} (t = {t}): {px:?}");
        }
        assert_eq!(px[3], 255);
        if !genuq::kernels::on_cpu(device) {
            let twin = genuq::kernels::colormap::reference(var[i] as f64, scale[i / n] as f64);
            assert!((0..4).all(|ch| (px[ch] as i32 - twin[ch] as i32).abs() <= 1));
        }
    }
    let zero = Tensor::<2>::from_data(TensorData::new(vec![1.0f32; 4], [1, 4]), device);
    let flat = genuq::kernels::colormap::colormap(zero, Tensor::from_floats([0.0f32], device));
    for w in words(flat.unwrap()).await {
        let px = w.to_le_bytes();
        let near = (0..3).all(|ch| (px[ch] as i32 - VIRIDIS_9[0][ch] as i32).abs() <= 5);
        assert!(near, "scale 0 shows the bottom colour: {px:?}");
    }
}

/// The fused head equals the naive path that materialises the M perturbed weight copies.
pub async fn fused_head_matches_materialised_weights(device: &Device) {
    let (h, _, _, head) = head_fixture(device, 1);
    let ht = Tensor::<4>::from_data(TensorData::new(h, [1, 16, IMAGE_SIZE, IMAGE_SIZE]), device);
    let fused = genuq::kernels::perturbed_head::perturbed_head(
        ht.clone(),
        &head,
        9,
        5,
        genuq::kernels::perturbed_head::Features::Shared,
    )
    .unwrap();
    let naive = head.naive(ht, 9, 5);
    let d = max_abs_diff(&floats(fused).await, &floats(naive).await);
    assert!(d < 1e-4, "fused vs materialised: max |diff| = {d:e}");
}

/// With M = 2048 weight samples the sampled per-pixel variance approaches the closed form
/// sum_p std_p^2 in_p^2 + std_b^2, times (M / (M + 1))^2: the MAP is one of the M + 1 images
/// and the variance is the population one (divided by M + 1). Each pixel within 6 standard
/// errors of a variance estimate, sqrt(2 / M).
pub async fn sampled_variance_converges_to_exact(device: &Device) {
    let (h, _, _, head) = head_fixture(device, 1);
    let ht = Tensor::<4>::from_data(TensorData::new(h, [1, 16, IMAGE_SIZE, IMAGE_SIZE]), device);
    let m = 2048;
    let heads = genuq::kernels::perturbed_head::perturbed_head(
        ht.clone(),
        &head,
        m + 1,
        9,
        genuq::kernels::perturbed_head::Features::Shared,
    )
    .unwrap();
    let (_, var) = genuq::kernels::moments::moments(heads.reshape([1, m + 1, PIXELS])).unwrap();
    let exact = floats(head.exact_variance(ht)).await;
    let var = floats(var).await;
    let bound = 6.0 * (2.0 / m as f64).sqrt();
    let factor = (m as f64 / (m + 1) as f64).powi(2);
    let mut worst = 0.0f64;
    for (v, e) in var.iter().zip(&exact) {
        assert!(*e > 0.0);
        worst = worst.max((*v as f64 / (*e as f64 * factor) - 1.0).abs());
    }
    assert!(
        worst < bound,
        "worst relative error {worst:.4} >= {bound:.4}"
    );
}

/// Native-only: read a tensor back synchronously.
#[cfg(not(target_arch = "wasm32"))]
pub fn floats_sync<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    pollster::block_on(floats(t))
}

/// The class-space scores in f64, written apart from the crate's tensor code: per image the
/// softmax over classes of `scale` times the cosine to each class's text embedding, then
/// `[bald, expected entropy, MAP probability of class, mean probability of class]`.
pub fn class_scores_reference(
    emb: &[f32],
    d: usize,
    text: &[f32],
    scale: f64,
    class: usize,
) -> [f64; 4] {
    let c = text.len() / d;
    let probs: Vec<Vec<f64>> = emb
        .chunks(d)
        .map(|e| {
            let norm = e.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
            let logits: Vec<f64> = text
                .chunks(d)
                .map(|t| {
                    scale
                        * e.iter()
                            .zip(t)
                            .map(|(a, b)| *a as f64 * *b as f64)
                            .sum::<f64>()
                        / norm
                })
                .collect();
            let top = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = logits.iter().map(|l| (l - top).exp()).sum();
            logits.iter().map(|l| (l - top).exp() / z).collect()
        })
        .collect();
    let entropy = |p: &[f64]| {
        -p.iter()
            .filter(|&&v| v > 0.0)
            .map(|v| v * v.ln())
            .sum::<f64>()
    };
    let s = probs.len() as f64;
    let mean: Vec<f64> = (0..c)
        .map(|k| probs.iter().map(|p| p[k]).sum::<f64>() / s)
        .collect();
    let expected = probs.iter().map(|p| entropy(p)).sum::<f64>() / s;
    [
        entropy(&mean) - expected,
        expected,
        probs[0][class],
        mean[class],
    ]
}

/// The class-space scores of three generations (9 images each, random embeddings, random unit
/// class embeddings, scale 30) equal the f64 reference within 1e-4; nine equal images have no
/// mutual information.
pub async fn class_scores_match_reference(device: &Device) {
    use genuq::uncertainty::class_space::class_scores;
    let (b, s, d, c) = (3, 9, 64, 10);
    let emb = gaussians_f32(5, Stream::Test(11), b * s * d, 1.0);
    let mut text = gaussians_f32(5, Stream::Test(12), c * d, 1.0);
    for t in text.chunks_mut(d) {
        let norm = t.iter().map(|v| v * v).sum::<f32>().sqrt();
        t.iter_mut().for_each(|v| *v /= norm);
    }
    let classes = [0, 4, 9];
    let scale = 30.0;
    let tensor = |v: &[f32], shape: Vec<usize>| {
        Tensor::<3>::from_data(TensorData::new(v.to_vec(), shape), device)
    };
    let e = tensor(&emb, vec![b, s, d]);
    let t = tensor(&text, vec![1, c, d]).reshape([c, d]);
    let out = class_scores(e, t.clone(), scale, &classes).unwrap();
    let got = [
        floats(out.bald).await,
        floats(out.entropy).await,
        floats(out.probability).await,
        floats(out.predictive).await,
    ];
    for (i, &class) in classes.iter().enumerate() {
        let want = class_scores_reference(
            &emb[i * s * d..(i + 1) * s * d],
            d,
            &text,
            scale as f64,
            class,
        );
        for (k, name) in ["bald", "entropy", "probability", "predictive"]
            .iter()
            .enumerate()
        {
            let diff = (got[k][i] as f64 - want[k]).abs();
            assert!(
                diff < 1e-4,
                "{name} of generation {i}: {} vs f64 {}",
                got[k][i],
                want[k]
            );
        }
    }
    assert!(
        got[0].iter().any(|&v| v > 1e-3),
        "random images disagree: bald > 0"
    );
    let same: Vec<f32> = emb[..d].repeat(s);
    let out = class_scores(tensor(&same, vec![1, s, d]), t, scale, &[2]).unwrap();
    let bald = floats(out.bald).await[0];
    assert!(bald.abs() < 1e-5, "identical images: bald {bald}");
}
