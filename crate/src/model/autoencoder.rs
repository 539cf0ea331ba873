//! A denoising autoencoder (Vincent et al. 2008) whose code is the **structure space**: a
//! feature space that has to hold an image's shape, parts and defects (its decoder rebuilds
//! the image from the code), not only its class, as CLIP's space trained on class captions
//! does. Only the encoder ships (`encoder.safetensors`); its code, centred and scaled to unit
//! variance per dimension over the training images, is the embedding u can be computed in, and
//! the embeddings of [`REAL_IMAGES`] real training images ([`RealCodes`],
//! `real_codes.safetensors`) are the neighbours of the **realism** score ([`realism`]), a
//! generation's mean distance to its [`K`] nearest.
//!
//! Encoder: image `[B, 1, 32, 32]` -> 3x3 conv (c0) -> three stride-2 3x3 convs (c1, c2, c3;
//! 16, 8, 4 px) each with group norm + SiLU -> flatten `[B, c3 * 16]` -> linear -> code
//! `[B, 64]`, about 6 MFLOP per image. Decoder: the mirror (linear, three nearest 2x
//! upsamplings each followed by a 3x3 conv + group norm + SiLU, a 3x3 conv to one channel).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::silu;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{DType, Device, Tensor};

use crate::data::IMAGE_SIZE;

/// Side of the smallest feature map (32 / 2^3).
const BOTTOM: usize = IMAGE_SIZE / 8;
/// Real training images (the first ones) whose embeddings [`RealCodes`] holds.
pub const REAL_IMAGES: usize = 5_000;
/// Neighbours of the realism score.
pub const K: usize = 5;

#[derive(Config, Debug)]
pub struct AutoencoderConfig {
    #[config(default = "[16, 32, 64, 64]")]
    pub channels: [usize; 4],
    /// Width of the code (D in the entropy formula, as CLIP's 64).
    #[config(default = 64)]
    pub code: usize,
}

fn conv3(cin: usize, cout: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

fn block(cin: usize, cout: usize, stride: usize, device: &Device) -> ConvBlock {
    ConvBlock {
        conv: conv3(cin, cout, stride, device),
        norm: GroupNormConfig::new(8, cout).init(device),
    }
}

impl AutoencoderConfig {
    /// The encoder alone (what ships).
    pub fn init_encoder(&self, device: &Device) -> Encoder {
        let [c0, c1, c2, c3] = self.channels;
        Encoder {
            conv_in: conv3(1, c0, 1, device),
            down: vec![
                block(c0, c1, 2, device),
                block(c1, c2, 2, device),
                block(c2, c3, 2, device),
            ],
            fc: LinearConfig::new(c3 * BOTTOM * BOTTOM, self.code).init(device),
            center: Param::from_tensor(Tensor::zeros([self.code], device)),
            inv_std: Param::from_tensor(Tensor::ones([self.code], device)),
        }
    }

    pub fn init(&self, device: &Device) -> Autoencoder {
        let [c0, c1, c2, c3] = self.channels;
        let flat = c3 * BOTTOM * BOTTOM;
        Autoencoder {
            encoder: self.init_encoder(device),
            decoder: Decoder {
                fc: LinearConfig::new(self.code, flat).init(device),
                up: vec![
                    block(c3, c2, 1, device),
                    block(c2, c1, 1, device),
                    block(c1, c0, 1, device),
                ],
                conv_out: conv3(c0, 1, 1, device),
                channels: c3,
            },
        }
    }
}

/// 3x3 conv, group norm, SiLU.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv: Conv2d,
    norm: GroupNorm,
}

impl ConvBlock {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        silu(self.norm.forward(self.conv.forward(x)))
    }
}

/// The encoder: what ships and embeds generations.
#[derive(Module, Debug)]
pub struct Encoder {
    conv_in: Conv2d,
    down: Vec<ConvBlock>,
    fc: Linear,
    /// The code's mean over the training images, `[code]` (set after training).
    center: Param<Tensor<1>>,
    /// One over the code's standard deviation over the training images, `[code]`.
    inv_std: Param<Tensor<1>>,
}

impl Encoder {
    /// The raw code `[B, code]` of images `[B, 1, 32, 32]` (what the decoder reads).
    pub fn code(&self, x: Tensor<4>) -> Tensor<2> {
        let mut h = silu(self.conv_in.forward(x));
        for block in &self.down {
            h = block.forward(h);
        }
        self.fc.forward(h.flatten(1, 3))
    }

    /// The embedding `[B, code]`: the code centred and scaled to unit variance per dimension
    /// over the training images, so the entropy's 1e-3 floor means the same in every dimension.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let d = self.center.dims()[0];
        (self.code(x) - self.center.val().reshape([1, d])) * self.inv_std.val().reshape([1, d])
    }

    /// Sets the standardisation from the codes' per-dimension `mean` and `std` (`[code]` each).
    pub fn with_standardisation(mut self, mean: Tensor<1>, std: Tensor<1>) -> Self {
        self.center = Param::from_tensor(mean);
        self.inv_std = Param::from_tensor(std.clamp_min(1e-6).recip());
        self
    }
}

/// The decoder (training only).
#[derive(Module, Debug)]
pub struct Decoder {
    fc: Linear,
    up: Vec<ConvBlock>,
    conv_out: Conv2d,
    channels: usize,
}

impl Decoder {
    /// Images `[B, 1, 32, 32]` from raw codes `[B, code]`.
    pub fn forward(&self, code: Tensor<2>) -> Tensor<4> {
        let b = code.dims()[0];
        let mut h = silu(self.fc.forward(code)).reshape([b, self.channels, BOTTOM, BOTTOM]);
        for block in &self.up {
            let [_, _, s, _] = h.dims();
            let up =
                InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([2 * s, 2 * s]);
            h = block.forward(interpolate(h, up));
        }
        self.conv_out.forward(h)
    }
}

#[derive(Module, Debug)]
pub struct Autoencoder {
    pub encoder: Encoder,
    pub decoder: Decoder,
}

impl Autoencoder {
    /// The reconstruction `[B, 1, 32, 32]` of (possibly corrupted) images.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.decoder.forward(self.encoder.code(x))
    }
}

/// The encoder's embeddings of [`REAL_IMAGES`] real training images, `[REAL_IMAGES, code]`
/// (`real_codes.safetensors`), kept at f16 precision: the file is half the size (0.6 MB less
/// before the demo's first result), and over 300 generations the realism score moved by at
/// most 4.4e-4 and no two generations of a class changed order (docs/benchmarks.md).
#[derive(Module, Debug)]
pub struct RealCodes {
    codes: Param<Tensor<2>>,
}

impl RealCodes {
    /// The bank of `codes` (any float type), rounded to f16.
    pub fn new(codes: Tensor<2>) -> Self {
        Self {
            codes: Param::from_tensor(codes.cast(DType::F16)),
        }
    }

    /// An empty bank of the right shape, to load a file into.
    pub fn zeros(config: &AutoencoderConfig, device: &Device) -> Self {
        Self::new(Tensor::zeros([REAL_IMAGES, config.code], device))
    }

    /// The codes, row-major, and their width.
    pub fn rows(&self) -> (Vec<f32>, usize) {
        let t = self.codes.val();
        let d = t.dims()[1];
        (t.into_data().iter::<f32>().collect(), d)
    }
}

/// The `k` rows of `bank` (`[n, d]`, row-major) nearest to `q` (`[d]`): (squared Euclidean
/// distance, row), nearest first.
pub fn nearest(bank: &[f32], d: usize, q: &[f32], k: usize) -> Vec<(f64, usize)> {
    let mut all: Vec<(f64, usize)> = bank
        .chunks(d)
        .enumerate()
        .map(|(j, b)| {
            let s = b.iter().zip(q).map(|(a, b)| ((a - b) as f64).powi(2)).sum();
            (s, j)
        })
        .collect();
    let k = k.min(all.len());
    if k == 0 {
        return Vec::new();
    }
    all.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
    all.truncate(k);
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    all
}

/// The realism score of an embedding `q` (`[d]`): its mean Euclidean distance to its [`K`]
/// nearest rows of `bank` (`[n, d]`). Higher = further from anything real.
pub fn realism(bank: &[f32], d: usize, q: &[f32]) -> f32 {
    let near = nearest(bank, d, q, K);
    let n = near.len().max(1) as f64;
    (near.iter().map(|(d2, _)| d2.sqrt()).sum::<f64>() / n) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    /// `x` rounded to the nearest f16 (11 significant bits; every value here is a normal f16).
    fn to_f16(x: f32) -> f32 {
        let x = x as f64;
        let step = 2f64.powi(x.abs().log2().floor() as i32 - 10);
        ((x / step).round_ties_even() * step) as f32
    }

    /// The bank is stored at f16: its file holds 2 bytes per number, and what loads back as
    /// f32 is each number rounded to the nearest f16 (closed form above), at most 2^-11 of it
    /// away.
    #[test]
    fn real_codes_round_to_f16() {
        let device = Device::flex();
        let v: Vec<f32> = (0..REAL_IMAGES * 64)
            .map(|i| (i * 7919 % 10007) as f32 / 1000.0 - 5.0 + 1e-4)
            .collect();
        let t = Tensor::<2>::from_data(TensorData::new(v.clone(), [REAL_IMAGES, 64]), &device);
        let bytes = crate::store::save(&RealCodes::new(t)).unwrap();
        assert!(
            bytes.len() < REAL_IMAGES * 64 * 2 + 1024,
            "{} bytes",
            bytes.len()
        );
        let zeros = RealCodes::zeros(&AutoencoderConfig::new(), &device);
        let (rows, d) = crate::store::load(zeros, bytes, "codes").unwrap().rows();
        assert_eq!((d, rows.len()), (64, v.len()));
        for (got, x) in rows.iter().zip(&v) {
            assert_eq!(*got, to_f16(*x), "{x}");
            assert!((got - x).abs() <= x.abs() * 2f32.powi(-11), "{x} -> {got}");
        }
    }

    /// Realism is the mean distance to the K nearest rows: a 1-d bank 0, 1, ..., 9 seen from
    /// 2.2 has the nearest 2, 3, 1, 4, 0 at 0.2, 0.8, 1.2, 1.8, 2.2 (mean 1.24), whatever the
    /// rows' order; with fewer rows than K, all of them.
    #[test]
    fn realism_is_the_mean_distance_to_the_nearest() {
        let mut rows: Vec<f32> = (0..10).map(|i| i as f32).collect();
        rows.reverse();
        assert!((realism(&rows, 1, &[2.2]) - 1.24).abs() < 1e-5);
        let two = [0.0, 0.0, 3.0, 4.0];
        assert!((realism(&two, 2, &[0.0, 0.0]) - 2.5).abs() < 1e-6);
        assert!(nearest(&[], 2, &[0.0, 0.0], K).is_empty());
    }

    /// The shapes the header states, and the standardisation: codes of a batch, standardised
    /// by that batch's own mean and std, have mean 0 and std 1 per dimension (closed form).
    #[test]
    fn shapes_and_standardisation() {
        let device = Device::flex();
        let ae = AutoencoderConfig::new().init(&device);
        let v: Vec<f32> = (0..6 * 1024)
            .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
            .collect();
        let x = Tensor::<4>::from_data(TensorData::new(v, [6, 1, 32, 32]), &device);
        assert_eq!(ae.forward(x.clone()).dims(), [6, 1, 32, 32]);
        let code = ae.encoder.code(x.clone());
        assert_eq!(code.dims(), [6, 64]);
        let rows: Vec<f32> = code.into_data().iter::<f32>().collect();
        let (mut mean, mut std) = (vec![0f64; 64], vec![0f64; 64]);
        for d in 0..64 {
            let col: Vec<f64> = (0..6).map(|b| rows[b * 64 + d] as f64).collect();
            mean[d] = col.iter().sum::<f64>() / 6.0;
            std[d] = (col.iter().map(|c| (c - mean[d]).powi(2)).sum::<f64>() / 6.0).sqrt();
        }
        let f = |v: &[f64]| {
            Tensor::<1>::from_data(
                TensorData::new(v.iter().map(|&a| a as f32).collect(), [64]),
                &device,
            )
        };
        let enc = ae.encoder.with_standardisation(f(&mean), f(&std));
        let out: Vec<f32> = enc.forward(x).into_data().iter::<f32>().collect();
        for d in 0..64 {
            let col: Vec<f64> = (0..6).map(|b| out[b * 64 + d] as f64).collect();
            let m = col.iter().sum::<f64>() / 6.0;
            let s = (col.iter().map(|c| (c - m).powi(2)).sum::<f64>() / 6.0).sqrt();
            assert!(m.abs() < 1e-3, "dim {d}: mean {m}");
            assert!(std[d] < 1e-5 || (s - 1.0).abs() < 1e-3, "dim {d}: std {s}");
        }
    }
}
