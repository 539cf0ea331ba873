//! `genuq train discriminator`: the classic detector of generator artefacts, a baseline for the
//! labels by eye. The evaluation classifier's CNN with two outputs learns real training images
//! (label 0) against the student's generations at the shipped sampler (label 1): MAP images of
//! [`FAKES`] fresh seeds from [`FIRST_SEED`] (classes in turn), rounded to grey bytes as real
//! images are, so the bytes carry no cue. Each batch is half real, half generated. Its
//! probability of "generated" on a generation is the score (eval/candidates.rs).

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::{Batches, RunDirs, TrainConfig, run, train_device, write_weights};
use crate::data::{self, Dataset, IMAGE_SIZE, NUM_CLASSES, PIXELS, Split, grey_byte, grey_pixel};
use crate::diffusion::flow;
use crate::manifest::{Manifest, STUDENT};
use crate::model::UNetConfig;
use crate::model::classifier::ClassifierConfig;
use crate::rng::{self, Stream};

/// Generated training images.
pub const FAKES: usize = 12_000;
/// The first seed of the generated images; no labelling pool or evaluation uses seeds here.
pub const FIRST_SEED: u32 = 3_000_000_000;
/// The student's steps of the generated images (the shipped sampler's).
pub const STEPS: usize = 2;

/// The discriminator's default settings.
pub fn config() -> TrainConfig {
    TrainConfig::new(2000, 64, 2e-3, 100)
}

/// MAP images `from..from + n` of the student (`models/student.safetensors`), image i of seed
/// `FIRST_SEED + i` and class `i % 10`, rounded to grey bytes: `[n * PIXELS]`.
fn fakes(models: &std::path::Path, from: usize, n: usize) -> anyhow::Result<Vec<f32>> {
    let device = Device::flex();
    let manifest = Manifest::read(models)?;
    let student = crate::store::load(
        UNetConfig::new().init(&device),
        manifest.read_verified(models, STUDENT)?,
        STUDENT,
    )?;
    let mut out = Vec::with_capacity(n * PIXELS);
    let bar = indicatif::ProgressBar::new(n as u64);
    for start in (from..from + n).step_by(200) {
        let b = 200.min(from + n - start);
        let z: Vec<f32> = (start..start + b)
            .flat_map(|i| rng::gaussians_f32(FIRST_SEED + i as u32, Stream::Noise, PIXELS, 1.0))
            .collect();
        let z = Tensor::<4>::from_data(TensorData::new(z, [b, 1, IMAGE_SIZE, IMAGE_SIZE]), &device);
        let c: Vec<i64> = (start..start + b)
            .map(|i| (i % NUM_CLASSES) as i64)
            .collect();
        let c = Tensor::<1, Int>::from_data(TensorData::new(c, [b]), &device);
        let x = flow::sample_student(&student, z, c, STEPS);
        out.extend(
            x.into_data()
                .iter::<f32>()
                .map(|v| grey_pixel(grey_byte(v))),
        );
        bar.inc(b as u64);
    }
    bar.finish();
    Ok(out)
}

pub fn train(config: &TrainConfig, dirs: &RunDirs, models: &std::path::Path) -> anyhow::Result<()> {
    config.check()?;
    let n = config.limit.unwrap_or(FAKES).min(FAKES);
    let real = Dataset::load(&data::default_dir(), Split::Train)?.limit(Some(n));
    let fake = Dataset {
        images: fakes(models, 0, n)?,
        labels: vec![1; n],
    };
    let device = train_device(config)?;
    let half = (config.batch / 2).max(1);
    let (mut real_batches, mut fake_batches) = (
        Batches::new(real.len(), half, config.seed)?,
        Batches::new(fake.len(), half, config.seed + 1)?,
    );
    let loss_fn = burn::nn::loss::CrossEntropyLossConfig::new().init(&device);
    let (model, _) = run(
        "discriminator",
        config,
        dirs,
        ClassifierConfig::new().with_outputs(2).init(&device),
        |model, step| {
            let (r, f) = (real_batches.batch(step), fake_batches.batch(step));
            let x = Tensor::cat(
                vec![
                    real.images_tensor(&r, &device),
                    fake.images_tensor(&f, &device),
                ],
                0,
            );
            let y: Vec<i64> = (0..r.len() + f.len())
                .map(|i| (i >= r.len()) as i64)
                .collect();
            let y = Tensor::<1, Int>::from_data(TensorData::new(y, [r.len() + f.len()]), &device);
            loss_fn.forward(model.forward(x), y)
        },
    )?;
    let held_out = held_out_accuracy(&model, models, n / 6)?;
    eprintln!("discriminator: held-out accuracy {held_out:.4} (real test images vs fresh seeds)");
    write_weights(
        &dirs.out,
        crate::manifest::DISCRIMINATOR,
        &crate::store::save(&model)?,
    )?;
    Manifest::update(&dirs.out, |m| {
        m.metrics.insert(
            "discriminator".into(),
            serde_json::json!({ "held_out_accuracy": held_out, "held_out_each": n / 6,
                "generated_training_images": n, "steps": STEPS }),
        );
    })?;
    Ok(())
}

/// Share right of `n` real test images and `n` generations of seeds after the training ones.
fn held_out_accuracy(
    model: &crate::model::classifier::Classifier,
    models: &std::path::Path,
    n: usize,
) -> anyhow::Result<f64> {
    let device = Device::flex();
    let model = burn::module::Module::to_device(model.clone(), &device);
    let real = Dataset::load(&data::default_dir(), Split::Test)?.limit(Some(n));
    let fake = Dataset {
        images: fakes(models, FAKES, n)?,
        labels: vec![1; n],
    };
    let mut right = 0usize;
    for (set, label) in [(&real, 0i64), (&fake, 1)] {
        for chunk in (0..set.len()).collect::<Vec<_>>().chunks(500) {
            let pred = model.forward(set.images_tensor(chunk, &device)).argmax(1);
            right += pred
                .into_data()
                .iter::<i64>()
                .filter(|&p| p == label)
                .count();
        }
    }
    Ok(right as f64 / (real.len() + fake.len()).max(1) as f64)
}
