//! `genuq train classifier`: cross-entropy on the train split; test accuracy at the end.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::Device;

use super::{Batches, Plan, TrainArgs, run, train_device, write_weights};
use crate::data::{self, Dataset, Split};
use crate::model::classifier::{Classifier, ClassifierConfig};

pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let device = train_device(args)?;
    let data = Dataset::load(&data::default_dir(), Split::Train)?.limit(args.limit);
    let plan = Plan {
        name: "classifier",
        steps: args.steps.unwrap_or(3000),
        lr: args.lr.unwrap_or(3e-3),
        warmup: 100,
        ema: None,
    };
    let batch = args.batch.unwrap_or(64);
    let mut batches = Batches::new(data.len(), args.seed);
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let (model, _) = run(
        args,
        &plan,
        ClassifierConfig::new().init(&device),
        |model, step| {
            let idx = batches.batch(step, batch);
            let logits = model.forward(data.images_tensor(&idx, &device));
            loss_fn.forward(logits, data.labels_tensor(&idx, &device))
        },
    )?;
    let test = Dataset::load(&data::default_dir(), Split::Test)?.limit(args.limit);
    let acc = accuracy(&model, &test, &Device::flex());
    eprintln!("classifier test accuracy {acc:.4}");
    write_weights(
        &args.out,
        "classifier.safetensors",
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
    correct as f64 / data.len() as f64
}
