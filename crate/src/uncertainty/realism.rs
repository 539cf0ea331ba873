//! The realism score of a generation: its MAP image's embedding in the structure space (the
//! denoising autoencoder's encoder, `model/autoencoder.rs`) and that embedding's mean distance
//! to its nearest real training images ([`crate::model::autoencoder::realism`]). The labels by
//! eye picked it as the best sign of a broken generation (`by_eye.detector` in
//! reports/eval.json; docs/evaluation.md). No weight samples: one encoder pass on the MAP image.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::model::autoencoder::{Encoder, RealCodes, realism};

/// The encoder and the real images' embeddings.
#[derive(Debug, Clone)]
pub struct Realism {
    pub encoder: Encoder,
    bank: Vec<f32>,
    dims: usize,
}

impl Realism {
    pub fn new(encoder: Encoder, real: &RealCodes) -> Self {
        let (bank, dims) = real.rows();
        Self {
            encoder,
            bank,
            dims,
        }
    }

    /// The encoder on `device`.
    pub fn to_device(mut self, device: &Device) -> Self {
        self.encoder = self.encoder.to_device(device);
        self
    }

    /// Embeddings `[B, D]` of MAP images `[B, 1, H, W]` (on the encoder's device).
    pub fn embed(&self, images: Tensor<4>) -> Tensor<2> {
        self.encoder.forward(images)
    }

    /// The real images' embeddings (`[n * D]`, row-major) and D.
    pub fn bank(&self) -> (&[f32], usize) {
        (&self.bank, self.dims)
    }

    /// The realism score of each embedding of `codes` (`[B * D]`, row-major).
    pub fn scores(&self, codes: &[f32]) -> Vec<f32> {
        codes
            .chunks(self.dims.max(1))
            .map(|q| realism(&self.bank, self.dims, q))
            .collect()
    }
}
