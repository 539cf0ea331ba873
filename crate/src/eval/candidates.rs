//! The candidate scores of a labelling pool that `genuq score` does not compute:
//! - in the **structure space** (the denoising autoencoder's standardised code,
//!   `model/autoencoder.rs`): the paper's u on the M + 1 images' codes instead of their CLIP
//!   embeddings (the same kernel), and the class-free realism score the product ships (the
//!   generator's own [`crate::uncertainty::realism`]); realism in CLIP's space too, over the same
//!   [`REAL_IMAGES`] real images;
//! - the baselines: Aithal et al.'s trajectory spread, the judge's (the evaluation
//!   classifier's) `1 -` probability of the requested class, and the real-vs-generated
//!   discriminator's probability of "generated".
//!
//! Higher = less trustworthy, every one. `genuq label candidates` writes one [`CandidateLine`]
//! per pool generation; `join_pool` reads them beside the `genuq score` lines.

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use burn::tensor::activation::softmax;

use super::generations::trajectory_variance;
use crate::Error;
use crate::data::{Dataset, PIXELS};
use crate::kernels::semantic_entropy::semantic_entropy;
use crate::model::autoencoder::{REAL_IMAGES, realism};
use crate::model::classifier::Classifier;
use crate::uncertainty::{Generator, Perturb, Request};

/// One pool generation's candidate scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateLine {
    pub seed: u32,
    pub class: String,
    pub steps: usize,
    pub samples: usize,
    pub perturb: Perturb,
    /// u of the M + 1 images' structure codes.
    pub u_structure: f32,
    /// Mean distance of the MAP image's structure code to its nearest real images'.
    pub realism: f32,
    /// The same in CLIP's embedding space.
    pub realism_clip: f32,
    /// The sum over pixels of the variance across the steps of each step's clean prediction.
    pub trajectory: f32,
    /// `1 -` the evaluation classifier's probability of the requested class (MAP image).
    pub judge_margin: f32,
    /// The discriminator's probability that the MAP image is generated.
    pub discriminator: f32,
    /// The MAP image, `[PIXELS]` (checked against the score line's; not written).
    #[serde(skip)]
    pub image: Vec<f32>,
}

/// Embeddings of real images in CLIP's space, `[n, d]` row-major, to measure distances to.
pub struct Bank {
    pub rows: Vec<f32>,
    pub dims: usize,
}

impl Bank {
    /// The embeddings by `embed` of the first [`REAL_IMAGES`] images of `data` (the images of
    /// the encoder's bank).
    pub fn new(data: &Dataset, device: &Device, embed: impl Fn(Tensor<4>) -> Tensor<2>) -> Self {
        let idx: Vec<usize> = (0..REAL_IMAGES.min(data.len())).collect();
        let mut rows = Vec::with_capacity(idx.len() * 64);
        let mut dims = 0;
        for c in idx.chunks(500) {
            let e = embed(data.images_tensor(c, device));
            dims = e.dims()[1];
            rows.extend(e.into_data().iter::<f32>());
        }
        Self { rows, dims }
    }

    /// The mean Euclidean distance of `q` (`[dims]`) to its nearest rows
    /// ([`crate::model::autoencoder::realism`]).
    pub fn realism(&self, q: &[f32]) -> f32 {
        realism(&self.rows, self.dims, q)
    }
}

/// The networks the candidates need beside the generator (which brings the structure space),
/// and CLIP's bank.
pub struct Candidates {
    pub judge: Classifier,
    pub discriminator: Classifier,
    pub clip_bank: Bank,
}

/// Row 0 of a `[1, n]` tensor's softmax.
fn probabilities(logits: Tensor<2>) -> Vec<f32> {
    softmax(logits, 1).into_data().iter::<f32>().collect()
}

impl Candidates {
    /// [`REAL_IMAGES`] images of `train` embedded by the generator's CLIP.
    pub fn new(
        judge: Classifier,
        discriminator: Classifier,
        generator: &Generator,
        train: &Dataset,
    ) -> Self {
        let clip_bank = Bank::new(train, &generator.nets, |x| generator.clip.forward(x));
        Self {
            judge,
            discriminator,
            clip_bank,
        }
    }

    /// The candidate scores of the generation `req` (networks on the generator's `nets`); the
    /// generator must have the structure space (encoder.safetensors, real_codes.safetensors).
    pub fn score(&self, generator: &Generator, req: &Request) -> Result<CandidateLine, Error> {
        let structure = generator.realism.as_ref().ok_or_else(|| {
            Error::Model(
                "the models folder lists no encoder.safetensors + real_codes.safetensors".into(),
            )
        })?;
        let images = generator.images(req)?.to_device(&generator.nets);
        let codes = structure.embed(images.clone());
        let [s, d] = codes.dims();
        let u = semantic_entropy(
            codes
                .clone()
                .to_device(&generator.device)
                .reshape([1, s, d]),
        )?;
        let map = images.slice(0..1);
        let clip = generator.clip.forward(map.clone());
        let (_, steps) = generator.plain_traced(&[req.class], &[req.seed], req.steps)?;
        let trajectory = trajectory_variance(steps);
        let judge = probabilities(self.judge.forward(map.clone()));
        let fake = probabilities(self.discriminator.forward(map.clone()));
        let first: Vec<f32> = codes.slice(0..1).into_data().iter::<f32>().collect();
        let clip: Vec<f32> = clip.into_data().iter::<f32>().collect();
        let image: Vec<f32> = map.into_data().iter::<f32>().collect();
        debug_assert_eq!(image.len(), PIXELS);
        let first_of = |t: Tensor<1>| t.into_data().iter::<f32>().next().unwrap_or(f32::NAN);
        Ok(CandidateLine {
            seed: req.seed,
            class: crate::data::CLASS_NAMES[req.class].to_string(),
            steps: req.steps,
            samples: req.samples,
            perturb: req.perturb,
            u_structure: first_of(u),
            realism: structure.scores(&first)[0],
            realism_clip: self.clip_bank.realism(&clip),
            trajectory: first_of(trajectory),
            judge_margin: 1.0 - judge[req.class],
            discriminator: fake[1],
            image,
        })
    }
}
