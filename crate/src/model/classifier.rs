//! The evaluation classifier: an independent small CNN (no weights shared with the generator or
//! CLIP). Its 128-d penultimate features are the space for FID and precision/recall; its
//! predictions give the class accuracy of generated samples.
//!
//! `[B, 1, 32, 32]` -> features `[B, 128]` -> logits `[B, 10]`; about 15 MFLOP per image. With
//! two outputs the same network is the real-vs-generated discriminator (`train/discriminator.rs`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::data::NUM_CLASSES;

#[derive(Config, Debug)]
pub struct ClassifierConfig {
    #[config(default = "[16, 32, 64]")]
    pub channels: [usize; 3],
    #[config(default = 128)]
    pub features: usize,
    /// Logits out: the classes (the evaluation classifier), or 2 (the real-vs-generated
    /// discriminator).
    #[config(default = "NUM_CLASSES")]
    pub outputs: usize,
}

impl ClassifierConfig {
    pub fn init(&self, device: &Device) -> Classifier {
        let [a, b, c] = self.channels;
        let block = |cin, cout| ConvBlock {
            conv: Conv2dConfig::new([cin, cout], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            norm: GroupNormConfig::new(8, cout).init(device),
        };
        Classifier {
            blocks: vec![
                block(1, a),
                block(a, a),
                block(a, b),
                block(b, b),
                block(b, c),
            ],
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc: LinearConfig::new(c, self.features).init(device),
            out: LinearConfig::new(self.features, self.outputs).init(device),
        }
    }
}

#[derive(Module, Debug)]
struct ConvBlock {
    conv: Conv2d,
    norm: GroupNorm,
}

impl ConvBlock {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.norm.forward(self.conv.forward(x)))
    }
}

#[derive(Module, Debug)]
pub struct Classifier {
    blocks: Vec<ConvBlock>,
    pool: MaxPool2d,
    fc: Linear,
    out: Linear,
}

impl Classifier {
    /// Penultimate features `[B, 128]`.
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let mut h = x;
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward(h);
            if i == 1 || i == 3 {
                h = self.pool.forward(h);
            }
        }
        let [b, c, _, _] = h.dims();
        let pooled = h.mean_dims(&[2, 3]).reshape([b, c]);
        relu(self.fc.forward(pooled))
    }

    /// Logits `[B, outputs]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_features(self.features(x))
    }

    /// Class logits `[B, 10]` from penultimate features `[B, 128]`.
    pub fn forward_features(&self, features: Tensor<2>) -> Tensor<2> {
        self.out.forward(features)
    }
}
