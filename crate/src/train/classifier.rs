//! `genuq train classifier`: cross-entropy on the train split; test accuracy at the end.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::Device;

use super::{Batches, RunDirs, TrainConfig, run, train_device, write_weights};
use crate::data::{self, Dataset, Split};
use crate::model::classifier::{Classifier, ClassifierConfig};

/// The classifier's default settings.
pub fn config() -> TrainConfig {
    TrainConfig::new(3000, 64, 3e-3, 100)
}

pub fn train(config: &TrainConfig, dirs: &RunDirs) -> anyhow::Result<()> {
    config.check()?;
    let device = train_device(config)?;
    let data = Dataset::load(&data::default_dir(), Split::Train)?.limit(config.limit);
    let mut batches = Batches::new(data.len(), config.batch, config.seed)?;
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let (model, _) = run(
        "classifier",
        config,
        dirs,
        ClassifierConfig::new().init(&device),
        |model, step| {
            let idx = batches.batch(step);
            let logits = model.forward(data.images_tensor(&idx, &device));
            loss_fn.forward(logits, data.labels_tensor(&idx, &device))
        },
    )?;
    let test = Dataset::load(&data::default_dir(), Split::Test)?.limit(config.limit);
    let acc = accuracy(&model, &test, &Device::flex());
    eprintln!("classifier test accuracy {acc:.4}");
    write_weights(
        &dirs.out,
        crate::manifest::CLASSIFIER,
        &crate::store::save(&model)?,
    )?;
    Ok(())
}

/// Fraction of `data` that `model` labels correctly.
pub fn accuracy(model: &Classifier, data: &Dataset, device: &Device) -> f64 {
    let model = model.clone().to_device(device);
    let mut correct = 0usize;
    for chunk in (0..data.len()).collect::<Vec<_>>().chunks(500) {
        let pred = model.forward(data.images_tensor(chunk, device)).argmax(1);
        let truth = data.labels_tensor(chunk, device).reshape([chunk.len(), 1]);
        correct += pred.equal(truth).int().sum().into_scalar::<i64>() as usize;
    }
    correct as f64 / data.len().max(1) as f64
}
