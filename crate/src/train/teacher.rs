//! `genuq train teacher`: rectified-flow velocity regression with 10% of the labels dropped to
//! the null class (for classifier-free guidance), EMA of the weights.

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

use super::{Batches, Plan, TrainArgs, run, train_device, write_weights};
use crate::data::{self, Dataset, Split};
use crate::diffusion::flow;
use crate::kernels::philox;
use crate::model::unet::{NULL_CLASS, UNetConfig};

pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let device = train_device(args)?;
    let data = Dataset::load(&data::default_dir(), Split::Train)?.limit(args.limit);
    let plan = Plan {
        name: "teacher",
        steps: args.steps.unwrap_or(8000),
        lr: args.lr.unwrap_or(2e-3),
        warmup: 200,
        ema: Some(0.999),
    };
    let batch = args.batch.unwrap_or(64);
    let mut batches = Batches::new(data.len(), args.seed);
    let (model, _) = run(
        args,
        &plan,
        UNetConfig::new().init(&device),
        |model, step| {
            let idx = batches.batch(step, batch);
            let x0 = data.images_tensor(&idx, &device);
            let class = drop_labels(data.labels_tensor(&idx, &device), step, args.seed, &device);
            let eps = Tensor::<4>::random(x0.shape(), Distribution::Normal(0.0, 1.0), &device);
            let t = Tensor::<1>::random([idx.len()], Distribution::Default, &device);
            let v = model.forward(flow::noisy(x0.clone(), eps.clone(), t.clone()), t, class);
            (v - flow::velocity(x0, eps)).powi_scalar(2).mean()
        },
    )?;
    write_weights(
        &args.out,
        "teacher.safetensors",
        &crate::store::save(&model)?,
    )?;
    Ok(())
}

/// Replaces 10% of the labels (chosen by the counter RNG) by the null class.
fn drop_labels(labels: Tensor<1, Int>, step: usize, seed: u64, device: &Device) -> Tensor<1, Int> {
    let [b] = labels.dims();
    let keep: Vec<i64> = (0..b as u32)
        .map(|i| {
            !philox::philox_block(seed as u32 ^ 0x7ea, step as u32, i)[0].is_multiple_of(10) as i64
        })
        .collect();
    let keep = Tensor::<1, Int>::from_data(TensorData::new(keep, [b]), device);
    let null = Tensor::<1, Int>::full([b], NULL_CLASS as i64, device);
    labels * keep.clone() + null * (keep.neg() + 1)
}
