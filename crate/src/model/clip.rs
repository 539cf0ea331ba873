//! A tiny CLIP (Radford et al. 2021) for 32x32 Fashion-MNIST: a ViT image encoder and a
//! transformer text encoder mapped into one 64-d space, trained contrastively (InfoNCE with a
//! learned temperature). The image embedding, not normalised, is what the uncertainty score uses.
//!
//! Image `[B, 1, 32, 32]` -> 64 patches of 4x4 -> 3 pre-norm layers (d = 64, 4 heads) -> mean
//! -> `[B, 64]`, about 17 MFLOP per image. Text `[B, L]` token ids -> 2 layers -> mean over
//! non-pad tokens -> `[B, 64]`.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{
    Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::tensor::{Bool, Device, Int, Tensor};

use crate::data::IMAGE_SIZE;

#[derive(Config, Debug)]
pub struct ClipConfig {
    #[config(default = 64)]
    pub d_model: usize,
    #[config(default = 4)]
    pub heads: usize,
    #[config(default = 3)]
    pub image_layers: usize,
    #[config(default = 2)]
    pub text_layers: usize,
    /// Width of the shared embedding space (D in the entropy formula).
    #[config(default = 64)]
    pub embed: usize,
    #[config(default = 4)]
    pub patch: usize,
    pub vocab: usize,
    #[config(default = 12)]
    pub max_len: usize,
}

impl ClipConfig {
    fn encoder(&self, layers: usize, device: &Device) -> TransformerEncoder {
        TransformerEncoderConfig::new(self.d_model, 2 * self.d_model, self.heads, layers)
            .with_dropout(0.0)
            .with_norm_first(true)
            .init(device)
    }

    fn position(&self, tokens: usize, device: &Device) -> Param<Tensor<3>> {
        Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        }
        .init([1, tokens, self.d_model], device)
    }

    pub fn init_image(&self, device: &Device) -> ClipImage {
        let p = self.patch;
        ClipImage {
            patch: Conv2dConfig::new([1, self.d_model], [p, p])
                .with_stride([p, p])
                .init(device),
            position: self.position((IMAGE_SIZE / p) * (IMAGE_SIZE / p), device),
            encoder: self.encoder(self.image_layers, device),
            norm: LayerNormConfig::new(self.d_model).init(device),
            proj: LinearConfig::new(self.d_model, self.embed).init(device),
        }
    }

    pub fn init(&self, device: &Device) -> Clip {
        Clip {
            image: self.init_image(device),
            text: ClipText {
                tokens: EmbeddingConfig::new(self.vocab, self.d_model).init(device),
                position: self.position(self.max_len, device),
                encoder: self.encoder(self.text_layers, device),
                norm: LayerNormConfig::new(self.d_model).init(device),
                proj: LinearConfig::new(self.d_model, self.embed).init(device),
            },
            // log(1 / 0.07), as CLIP
            logit_scale: Param::from_tensor(Tensor::from_floats([(1.0f32 / 0.07).ln()], device)),
        }
    }
}

/// The image tower: `[B, 1, 32, 32]` -> `[B, embed]`.
#[derive(Module, Debug)]
pub struct ClipImage {
    patch: Conv2d,
    position: Param<Tensor<3>>,
    encoder: TransformerEncoder,
    norm: LayerNorm,
    proj: Linear,
}

impl ClipImage {
    /// Width of the embedding, D.
    pub fn embed_dims(&self) -> usize {
        self.proj.weight.dims()[1]
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let h = self.patch.forward(x);
        let [b, d, gh, gw] = h.dims();
        let tokens = h.reshape([b, d, gh * gw]).swap_dims(1, 2) + self.position.val();
        let h = self
            .norm
            .forward(self.encoder.forward(TransformerEncoderInput::new(tokens)));
        self.proj.forward(h.mean_dim(1).reshape([b, d]))
    }
}

/// The text tower: token ids `[B, L]` (0 = padding) -> `[B, embed]`.
#[derive(Module, Debug)]
pub struct ClipText {
    tokens: Embedding,
    position: Param<Tensor<3>>,
    encoder: TransformerEncoder,
    norm: LayerNorm,
    proj: Linear,
}

impl ClipText {
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<2> {
        let [b, l] = ids.dims();
        let pad: Tensor<2, Bool> = ids.clone().equal_elem(0);
        let h = self.tokens.forward(ids) + self.position.val().slice([0..1, 0..l]);
        let h = self.norm.forward(
            self.encoder
                .forward(TransformerEncoderInput::new(h).mask_pad(pad.clone())),
        );
        let d = h.dims()[2];
        let keep = pad.bool_not().float().reshape([b, l, 1]);
        let pooled = (h * keep.clone()).sum_dim(1) / keep.sum_dim(1).clamp_min(1.0);
        self.proj.forward(pooled.reshape([b, d]))
    }
}

#[derive(Module, Debug)]
pub struct Clip {
    pub image: ClipImage,
    pub text: ClipText,
    /// log of the inverse temperature of the contrastive loss.
    pub logit_scale: Param<Tensor<1>>,
}

/// Rows scaled to unit length.
pub fn normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-6);
    x / norm
}

impl Clip {
    /// Symmetric InfoNCE over a batch of matching (image, caption) pairs.
    pub fn loss(&self, images: Tensor<4>, ids: Tensor<2, Int>) -> Tensor<1> {
        let img = normalize(self.image.forward(images));
        let txt = normalize(self.text.forward(ids));
        let [b, _] = img.dims();
        let scale = self
            .logit_scale
            .val()
            .clamp_max(100f32.ln())
            .exp()
            .reshape([1, 1]);
        let logits = img.matmul(txt.transpose()) * scale;
        let target = Tensor::<1, Int>::arange(0..b as i64, &logits.device());
        let ce = burn::nn::loss::CrossEntropyLossConfig::new().init(&logits.device());
        (ce.forward(logits.clone(), target.clone()) + ce.forward(logits.transpose(), target)) / 2.0
    }
}
