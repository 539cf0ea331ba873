//! A small class-conditional UNet for 32x32 grey images: the teacher's velocity field and,
//! distilled, the few-step student (1, 2 or 4 Euler steps). Its last layer (`conv_out`, a plain
//! 3x3 conv) is where the Laplace posterior lives, so [`UNet::trunk`] and [`UNet::head`] split
//! the forward pass there.
//!
//! Shapes: images `[B, 1, 32, 32]`, times `[B]` in [0, 1], classes `[B]` in 0..=10 (10 = no
//! class, for classifier-free guidance). With the default channels (16, 32, 64) a forward pass
//! costs about 78 MFLOP per image (see [`UNetConfig::flops`]).

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{
    Embedding, EmbeddingConfig, GroupNorm, GroupNormConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::tensor::activation::silu;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Int, Tensor};

use crate::data::{NUM_CLASSES, PIXELS};

/// The "no class" label used for classifier-free guidance (after the real classes).
pub const NULL_CLASS: usize = NUM_CLASSES;
/// Number of class labels the embedding knows: the classes and "none".
pub const NUM_LABELS: usize = NUM_CLASSES + 1;

#[derive(Config, Debug)]
pub struct UNetConfig {
    /// Channels at 32x32, 16x16 and 8x8.
    #[config(default = "[16, 32, 64]")]
    pub channels: [usize; 3],
    /// Width of the time + class embedding.
    #[config(default = 64)]
    pub embed: usize,
    /// Groups of every group norm.
    #[config(default = 8)]
    pub groups: usize,
}

impl UNetConfig {
    pub fn init(&self, device: &Device) -> UNet {
        let [c1, c2, c3] = self.channels;
        let e = self.embed;
        let res = |cin, cout| ResBlockConfig::new(cin, cout, e, self.groups).init(device);
        UNet {
            time_in: LinearConfig::new(e, e).init(device),
            time_out: LinearConfig::new(e, e).init(device),
            class_embed: EmbeddingConfig::new(NUM_LABELS, e).init(device),
            conv_in: conv3(1, c1, 1, device),
            down1: res(c1, c1),
            pool1: conv3(c1, c1, 2, device),
            down2: res(c1, c2),
            pool2: conv3(c2, c2, 2, device),
            down3: res(c2, c3),
            mid: res(c3, c3),
            up2: res(c3 + c2, c2),
            up1: res(c2 + c1, c1),
            norm_out: GroupNormConfig::new(self.groups, c1).init(device),
            conv_out: conv3(c1, 1, 1, device),
            embed: e,
        }
    }

    /// Multiply-adds x 2 of one forward pass on one image (the convolutions).
    pub fn flops(&self) -> u64 {
        let [c1, c2, c3] = self.channels.map(|c| c as u64);
        let (full, half, quarter) = (PIXELS as u64, PIXELS as u64 / 4, PIXELS as u64 / 16);
        let conv = |cin: u64, cout: u64, px: u64| 2 * 9 * cin * cout * px;
        let skip = |cin: u64, cout: u64, px: u64| if cin == cout { 0 } else { 2 * cin * cout * px };
        let res = |cin, cout, px| conv(cin, cout, px) + conv(cout, cout, px) + skip(cin, cout, px);
        conv(1, c1, full)
            + res(c1, c1, full)
            + conv(c1, c1, half)
            + res(c1, c2, half)
            + conv(c2, c2, quarter)
            + res(c2, c3, quarter)
            + res(c3, c3, quarter)
            + res(c3 + c2, c2, half)
            + res(c2 + c1, c1, full)
            + conv(c1, 1, full)
    }
}

fn conv3(cin: usize, cout: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

#[derive(Module, Debug)]
pub struct UNet {
    time_in: Linear,
    time_out: Linear,
    class_embed: Embedding,
    conv_in: Conv2d,
    down1: ResBlock,
    pool1: Conv2d,
    down2: ResBlock,
    pool2: Conv2d,
    down3: ResBlock,
    mid: ResBlock,
    up2: ResBlock,
    up1: ResBlock,
    norm_out: GroupNorm,
    /// The last layer: `[1, c1, 3, 3]` weights and a `[1]` bias.
    pub conv_out: Conv2d,
    embed: usize,
}

impl UNet {
    /// The network's output (a velocity for the teacher): `[B, 1, 32, 32]`.
    pub fn forward(&self, x: Tensor<4>, t: Tensor<1>, class: Tensor<1, Int>) -> Tensor<4> {
        self.head(self.trunk(x, t, class))
    }

    /// Everything before the last layer: `[B, c1, 32, 32]` (normed and activated).
    pub fn trunk(&self, x: Tensor<4>, t: Tensor<1>, class: Tensor<1, Int>) -> Tensor<4> {
        let emb = self.embedding(t, class);
        let h0 = self.conv_in.forward(x);
        let h1 = self.down1.forward(h0, emb.clone());
        let h2 = self
            .down2
            .forward(self.pool1.forward(h1.clone()), emb.clone());
        let h3 = self
            .down3
            .forward(self.pool2.forward(h2.clone()), emb.clone());
        let m = self.mid.forward(h3, emb.clone());
        let u2 = self
            .up2
            .forward(Tensor::cat(vec![upsample(m), h2], 1), emb.clone());
        let u1 = self
            .up1
            .forward(Tensor::cat(vec![upsample(u2), h1], 1), emb);
        silu(self.norm_out.forward(u1))
    }

    /// The last layer: `[B, c1, 32, 32]` -> `[B, 1, 32, 32]`.
    pub fn head(&self, h: Tensor<4>) -> Tensor<4> {
        self.conv_out.forward(h)
    }

    /// Time (sinusoidal, then an MLP) plus class embedding: `[B, embed]`.
    fn embedding(&self, t: Tensor<1>, class: Tensor<1, Int>) -> Tensor<2> {
        let [b] = t.dims();
        let device = t.device();
        let half = self.embed / 2;
        let freqs: Vec<f32> = (0..half)
            .map(|i| (-(10_000f32).ln() * i as f32 / half as f32).exp() * 1000.0)
            .collect();
        let freqs = Tensor::<1>::from_floats(freqs.as_slice(), &device).reshape([1, half]);
        let angles = t.reshape([b, 1]) * freqs;
        let sinus = Tensor::cat(vec![angles.clone().sin(), angles.cos()], 1);
        let time = self.time_out.forward(silu(self.time_in.forward(sinus)));
        let class = self
            .class_embed
            .forward(class.reshape([b, 1]))
            .reshape([b, self.embed]);
        time + class
    }
}

/// Nearest-neighbour 2x upsampling.
fn upsample(x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    interpolate(
        x,
        InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([2 * h, 2 * w]),
    )
}

#[derive(Config, Debug)]
pub struct ResBlockConfig {
    pub channels_in: usize,
    pub channels_out: usize,
    pub embed: usize,
    pub groups: usize,
}

impl ResBlockConfig {
    pub fn init(&self, device: &Device) -> ResBlock {
        let (cin, cout) = (self.channels_in, self.channels_out);
        ResBlock {
            norm1: GroupNormConfig::new(self.groups, cin).init(device),
            conv1: conv3(cin, cout, 1, device),
            emb: LinearConfig::new(self.embed, cout).init(device),
            norm2: GroupNormConfig::new(self.groups, cout).init(device),
            conv2: conv3(cout, cout, 1, device),
            skip: (cin != cout).then(|| Conv2dConfig::new([cin, cout], [1, 1]).init(device)),
        }
    }
}

/// Pre-activation residual block with an additive embedding: `[B, cin, H, W]` -> `[B, cout, H, W]`.
#[derive(Module, Debug)]
pub struct ResBlock {
    norm1: GroupNorm,
    conv1: Conv2d,
    emb: Linear,
    norm2: GroupNorm,
    conv2: Conv2d,
    skip: Option<Conv2d>,
}

impl ResBlock {
    pub fn forward(&self, x: Tensor<4>, emb: Tensor<2>) -> Tensor<4> {
        let h = self.conv1.forward(silu(self.norm1.forward(x.clone())));
        let [b, c, _, _] = h.dims();
        let h = h + self.emb.forward(silu(emb)).reshape([b, c, 1, 1]);
        let h = self.conv2.forward(silu(self.norm2.forward(h)));
        let skip = match &self.skip {
            Some(conv) => conv.forward(x),
            None => x,
        };
        h + skip
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::IMAGE_SIZE;

    /// The documented shapes: images `[B, 1, 32, 32]` in, the same out; the trunk's features
    /// have the first level's channels at full size (what the last layer and its posterior see).
    #[test]
    fn forward_keeps_the_image_shape() {
        let device = Device::flex();
        let config = UNetConfig::new();
        let unet = config.init(&device);
        let x = Tensor::<4>::zeros([3, 1, IMAGE_SIZE, IMAGE_SIZE], &device);
        let t = Tensor::<1>::from_floats([1.0, 0.5, 0.0], &device);
        let class = Tensor::<1, Int>::from_ints([0, 9, NUM_CLASSES as i32], &device);
        let h = unet.trunk(x.clone(), t.clone(), class.clone());
        assert_eq!(h.dims(), [3, config.channels[0], IMAGE_SIZE, IMAGE_SIZE]);
        assert_eq!(
            unet.forward(x, t, class).dims(),
            [3, 1, IMAGE_SIZE, IMAGE_SIZE]
        );
    }
}
