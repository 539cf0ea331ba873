//! `genuq train clip`: InfoNCE on (image, caption) pairs; zero-shot test accuracy at the end.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::{Batches, RunDirs, TrainConfig, run, train_device, write_weights};
use crate::data::captions::{self, Tokenizer};
use crate::data::{self, Dataset, NUM_CLASSES, Split};
use crate::model::clip::{Clip, ClipConfig, normalize};

/// CLIP's default settings.
pub fn config() -> TrainConfig {
    TrainConfig::new(3000, 128, 1e-3, 200)
}

pub fn train(config: &TrainConfig, dirs: &RunDirs) -> anyhow::Result<()> {
    config.check()?;
    let device = train_device(config)?;
    let data = Dataset::load(&data::default_dir(), Split::Train)?.limit(config.limit);
    let tokenizer = Tokenizer::default();
    let model = ClipConfig::new(tokenizer.vocab()).init(&device);
    let batch = config.batch;
    let mut batches = Batches::new(data.len(), batch, config.seed)?;
    let tones: Vec<&str> = (0..data.len())
        .map(|i| captions::tone(data.image(i)))
        .collect();
    let (model, _) = run("clip", config, dirs, model, |model, step| {
        let idx = batches.batch(step);
        let ids: Vec<i64> = idx
            .iter()
            .enumerate()
            .flat_map(|(k, &i)| {
                let draw = (step * batch + k) as u32;
                let text =
                    captions::caption(data.labels[i] as usize, tones[i], config.seed as u32, draw);
                tokenizer.encode(&text)
            })
            .collect();
        let ids = Tensor::<2, Int>::from_data(
            TensorData::new(ids, [idx.len(), tokenizer.max_len]),
            &device,
        );
        model.loss(data.images_tensor(&idx, &device), ids)
    })?;
    let test = Dataset::load(&data::default_dir(), Split::Test)?.limit(config.limit);
    let acc = zero_shot_accuracy(&model, &tokenizer, &test, &Device::flex());
    eprintln!("clip zero-shot test accuracy {acc:.4}");
    write_weights(
        &dirs.out,
        crate::manifest::CLIP,
        &crate::store::save(&model)?,
    )?;
    write_weights(
        &dirs.out,
        crate::manifest::CLIP_IMAGE,
        &crate::store::save(&model.image)?,
    )?;
    Ok(())
}

/// The classes' zero-shot embeddings, `[C, D]`: per class, the unit-length mean of its
/// prompts' unit text embeddings (prompt ensembling, as in CLIP).
pub fn class_embeddings(model: &Clip, tokenizer: &Tokenizer, device: &Device) -> Tensor<2> {
    let classes: Vec<Tensor<2>> = (0..NUM_CLASSES)
        .map(|c| {
            let prompts = captions::prompts(c);
            let ids: Vec<i64> = prompts.iter().flat_map(|p| tokenizer.encode(p)).collect();
            let ids = Tensor::<2, Int>::from_data(
                TensorData::new(ids, [prompts.len(), tokenizer.max_len]),
                device,
            );
            normalize(model.text.forward(ids)).mean_dim(0)
        })
        .collect();
    normalize(Tensor::cat(classes, 0))
}

/// Fraction of `data` whose nearest class (the mean embedding of its prompts) is the right one.
pub fn zero_shot_accuracy(
    model: &Clip,
    tokenizer: &Tokenizer,
    data: &Dataset,
    device: &Device,
) -> f64 {
    let model = model.clone().to_device(device);
    let classes = class_embeddings(&model, tokenizer, device);
    let mut correct = 0usize;
    for chunk in (0..data.len()).collect::<Vec<_>>().chunks(500) {
        let img = normalize(model.image.forward(data.images_tensor(chunk, device)));
        let pred = img.matmul(classes.clone().transpose()).argmax(1);
        let truth = data.labels_tensor(chunk, device).reshape([chunk.len(), 1]);
        correct += pred.equal(truth).int().sum().into_scalar::<i64>() as usize;
    }
    correct as f64 / data.len().max(1) as f64
}
