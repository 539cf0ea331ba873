//! `genuq train teacher`: rectified-flow velocity regression with 10% of the labels dropped to
//! the null class (for classifier-free guidance), EMA of the weights.

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::{Batches, RunDirs, TrainConfig, run, train_device, write_weights};
use crate::data::{self, Dataset, IMAGE_SIZE, PIXELS, Split};
use crate::diffusion::flow;
use crate::model::unet::{NULL_CLASS, UNetConfig};
use crate::rng::{self, Stream};

/// The teacher's default settings.
pub fn config() -> TrainConfig {
    TrainConfig::new(8000, 64, 2e-3, 200).with_ema(Some(0.999))
}

pub fn train(config: &TrainConfig, dirs: &RunDirs) -> anyhow::Result<()> {
    config.check()?;
    let device = train_device(config)?;
    let data = Dataset::load(&data::default_dir(), Split::Train)?.limit(config.limit);
    let mut batches = Batches::new(data.len(), config.batch, config.seed)?;
    let (model, _) = run(
        "teacher",
        config,
        dirs,
        UNetConfig::new().init(&device),
        |model, step| {
            let idx = batches.batch(step);
            let x0 = data.images_tensor(&idx, &device);
            let labels = data.labels_tensor(&idx, &device);
            let class = drop_labels(labels, step, config.seed, &device);
            let (eps, t) = flow_noise(idx.len(), step, config.seed, &device);
            let v = model.forward(flow::noisy(x0.clone(), eps.clone(), t.clone()), t, class);
            (v - flow::velocity(x0, eps)).powi_scalar(2).mean()
        },
    )?;
    write_weights(
        &dirs.out,
        crate::manifest::TEACHER,
        &crate::store::save(&model)?,
    )?;
    Ok(())
}

/// The noise `[B, 1, H, W]` and the flow times `[B]` (uniform in [0, 1)) of training step
/// `step`, from the counter RNG, so a resumed run draws what an uninterrupted one would.
fn flow_noise(b: usize, step: usize, seed: u64, device: &Device) -> (Tensor<4>, Tensor<1>) {
    let (seed, step) = (seed as u32, step as u32);
    let eps = rng::gaussians_f32(seed, Stream::FlowNoise(step), b * PIXELS, 1.0);
    let t: Vec<f32> = (0..b as u32)
        .map(|i| (rng::word(seed, Stream::FlowTimes(step), i) >> 8) as f32 / (1u32 << 24) as f32)
        .collect();
    (
        Tensor::from_data(TensorData::new(eps, [b, 1, IMAGE_SIZE, IMAGE_SIZE]), device),
        Tensor::from_data(TensorData::new(t, [b]), device),
    )
}

/// Replaces one label in ten (chosen by the counter RNG) by the null class.
fn drop_labels(labels: Tensor<1, Int>, step: usize, seed: u64, device: &Device) -> Tensor<1, Int> {
    const DROP_ONE_IN: u32 = 10;
    let [b] = labels.dims();
    let keep: Vec<i64> = (0..b as u32)
        .map(|i| {
            let r = rng::word(seed as u32, Stream::LabelDrop(step as u32), i);
            !r.is_multiple_of(DROP_ONE_IN) as i64
        })
        .collect();
    let keep = Tensor::<1, Int>::from_data(TensorData::new(keep, [b]), device);
    let null = Tensor::<1, Int>::full([b], NULL_CLASS as i64, device);
    labels * keep.clone() + null * (keep.neg() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The training noise is standard normal and the flow times uniform on [0, 1): over 2,000
    /// examples (2,048,000 normals) the noise's mean and variance and the times' mean lie within
    /// 5 standard errors of 0, 1 and 1/2 (false-positive rate about 6e-7 each); the times stay
    /// in [0, 1); another step draws other numbers, the same step the same.
    #[test]
    fn flow_noise_is_normal_and_times_uniform() {
        let device = Device::flex();
        let b = 2000;
        let (eps, t) = flow_noise(b, 7, 3, &device);
        let eps: Vec<f64> = eps.into_data().iter::<f32>().map(f64::from).collect();
        let t: Vec<f64> = t.into_data().iter::<f32>().map(f64::from).collect();
        let n = eps.len() as f64;
        let mean = eps.iter().sum::<f64>() / n;
        let var = eps.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 5.0 / n.sqrt(), "noise mean {mean}");
        assert!(
            (var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(),
            "noise variance {var}"
        );
        let t_mean = t.iter().sum::<f64>() / b as f64;
        let t_se = (1.0 / 12.0 / b as f64).sqrt();
        assert!((t_mean - 0.5).abs() < 5.0 * t_se, "time mean {t_mean}");
        assert!(t.iter().all(|x| (0.0..1.0).contains(x)));
        let (again, _) = flow_noise(b, 7, 3, &device);
        let (other, _) = flow_noise(b, 8, 3, &device);
        let first = |x: Tensor<4>| x.into_data().iter::<f32>().take(4).collect::<Vec<_>>();
        assert_eq!(
            first(again),
            eps[..4].iter().map(|&x| x as f32).collect::<Vec<_>>()
        );
        assert_ne!(
            first(other),
            eps[..4].iter().map(|&x| x as f32).collect::<Vec<_>>()
        );
    }
}
