//! `genuq train encoder`: the structure space's denoising autoencoder. Each step corrupts a
//! batch of training images with Gaussian noise (std [`NOISE_STD`], from the counter RNG) and
//! regresses the clean images (mean squared error). At the end the code is standardised over
//! the training images, measured on the test split (reconstruction error, and how well the
//! space holds the class: k-nearest-neighbour accuracy) and the encoder alone is written, with
//! its embeddings of the first real training images (the realism score's neighbours).

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};

use super::{Batches, RunDirs, TrainConfig, run, train_device, write_weights};
use crate::data::{self, Dataset, IMAGE_SIZE, PIXELS, Split};
use crate::manifest::Manifest;
use crate::model::autoencoder::{
    Autoencoder, AutoencoderConfig, Encoder, REAL_IMAGES, RealCodes, nearest,
};
use crate::rng::{self, Stream};

/// Std of the corrupting noise, in the images' [-1, 1] scale.
pub const NOISE_STD: f64 = 0.3;
/// Training images the standardisation and the k-NN bank use.
const BANK: usize = 10_000;
/// Neighbours of the k-NN class accuracy.
const K: usize = 5;

/// The encoder's default settings.
pub fn config() -> TrainConfig {
    TrainConfig::new(3000, 64, 2e-3, 100)
}

pub fn train(config: &TrainConfig, dirs: &RunDirs) -> anyhow::Result<()> {
    config.check()?;
    let device = train_device(config)?;
    let data = Dataset::load(&data::default_dir(), Split::Train)?.limit(config.limit);
    let mut batches = Batches::new(data.len(), config.batch, config.seed)?;
    let (model, _) = run(
        "encoder",
        config,
        dirs,
        AutoencoderConfig::new().init(&device),
        |model, step| {
            let idx = batches.batch(step);
            let x = data.images_tensor(&idx, &device);
            let eps = rng::gaussians_f32(
                config.seed as u32,
                Stream::DenoiseNoise(step as u32),
                idx.len() * PIXELS,
                NOISE_STD,
            );
            let eps = Tensor::<4>::from_data(
                TensorData::new(eps, [idx.len(), 1, IMAGE_SIZE, IMAGE_SIZE]),
                &device,
            );
            (model.forward(x.clone() + eps) - x).powi_scalar(2).mean()
        },
    )?;
    let cpu = Device::flex();
    let model = model.to_device(&cpu);
    let test = Dataset::load(&data::default_dir(), Split::Test)?.limit(config.limit);
    let mse = reconstruction_mse(&model, &test, &cpu);
    let encoder = standardised(model.encoder, &data, &cpu);
    let knn = knn_accuracy(&encoder, &data, &test, &cpu);
    eprintln!("encoder: test reconstruction mse {mse:.5}, {K}-NN class accuracy {knn:.4}");
    write_weights(
        &dirs.out,
        crate::manifest::ENCODER,
        &crate::store::save(&encoder)?,
    )?;
    write_weights(
        &dirs.out,
        crate::manifest::REAL_CODES,
        &crate::store::save(&real_codes(&encoder, &data, &cpu))?,
    )?;
    Manifest::update(&dirs.out, |m| {
        m.metrics.insert(
            "encoder".into(),
            serde_json::json!({ "test_reconstruction_mse": mse, "knn_class_accuracy": knn,
                "knn_k": K, "noise_std": NOISE_STD }),
        );
    })?;
    Ok(())
}

/// Embeds `idx` of `data` in chunks: `[idx.len() * code]`, row-major.
fn embed(encoder: &Encoder, data: &Dataset, idx: &[usize], device: &Device) -> Vec<f32> {
    idx.chunks(500)
        .flat_map(|c| {
            let e = encoder.forward(data.images_tensor(c, device));
            e.into_data().iter::<f32>().collect::<Vec<_>>()
        })
        .collect()
}

/// The encoder with its code standardised over the first [`BANK`] training images.
fn standardised(encoder: Encoder, train: &Dataset, device: &Device) -> Encoder {
    let idx: Vec<usize> = (0..BANK.min(train.len())).collect();
    let codes: Vec<Tensor<2>> = idx
        .chunks(500)
        .map(|c| encoder.code(train.images_tensor(c, device)))
        .collect();
    let codes = Tensor::cat(codes, 0);
    let mean = codes.clone().mean_dim(0);
    let std = (codes - mean.clone()).powi_scalar(2).mean_dim(0).sqrt();
    let d = mean.dims()[1];
    encoder.with_standardisation(mean.reshape([d]), std.reshape([d]))
}

/// The encoder's embeddings of the first [`REAL_IMAGES`] training images.
fn real_codes(encoder: &Encoder, train: &Dataset, device: &Device) -> RealCodes {
    let real: Vec<usize> = (0..REAL_IMAGES.min(train.len())).collect();
    let codes = embed(encoder, train, &real, device);
    let d = codes.len() / real.len().max(1);
    RealCodes::new(Tensor::from_data(
        TensorData::new(codes, [real.len(), d]),
        device,
    ))
}

/// Mean squared error of the clean test images' reconstructions.
fn reconstruction_mse(model: &Autoencoder, test: &Dataset, device: &Device) -> f64 {
    let idx: Vec<usize> = (0..test.len()).collect();
    let mut sum = 0.0f64;
    for c in idx.chunks(500) {
        let x = test.images_tensor(c, device);
        let err = (model.forward(x.clone()) - x).powi_scalar(2).sum();
        sum += err.into_scalar::<f32>() as f64;
    }
    sum / (test.len() * PIXELS).max(1) as f64
}

/// Share of the first 2,000 test images whose [`K`] nearest training codes (Euclidean, the
/// standardised space) vote for their class.
fn knn_accuracy(encoder: &Encoder, train: &Dataset, test: &Dataset, device: &Device) -> f64 {
    let bank_idx: Vec<usize> = (0..BANK.min(train.len())).collect();
    let bank = embed(encoder, train, &bank_idx, device);
    let query_idx: Vec<usize> = (0..2000.min(test.len())).collect();
    let query = embed(encoder, test, &query_idx, device);
    let d = bank.len() / bank_idx.len().max(1);
    let mut correct = 0usize;
    for (q, &i) in query.chunks(d).zip(&query_idx) {
        let near = nearest(&bank, d, q, K);
        let mut votes = [0usize; data::NUM_CLASSES];
        for &(_, j) in &near {
            votes[train.labels[j] as usize] += 1;
        }
        let best = (0..votes.len()).max_by_key(|&c| votes[c]).unwrap_or(0);
        correct += (best == test.labels[i] as usize) as usize;
    }
    correct as f64 / query_idx.len().max(1) as f64
}
