//! `genuq train student`: distils the teacher into a student that samples in 1 to S Euler
//! steps, by regression on teacher pairs (Luhman & Luhman 2021) along their straight paths
//! (reflow, Liu et al. 2022): for a pair (noise z, class, the teacher's guided Heun solution
//! x), the point at time t is `x_t = (1 - t) x + t z` and its velocity `z - x`, the same at
//! every t. The student learns that velocity at the S grid times t = 1/S, 2/S, ..., 1 under a
//! pseudo-Huber loss, so S Euler steps from z follow the straight path to x
//! ([`flow::sample_student`]); with S = 1 it is the one-step student `x = z - student(z, 1)`.
//! It starts from the weights of `--init` (the teacher by default, so at step 0 it is an
//! Euler sampler of the teacher) and keeps the UNet, so its last layer stays a plain conv.

use std::path::Path;

use anyhow::Context;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use indicatif::ProgressBar;

use super::{Batches, RunDirs, TrainConfig, run, train_device, write_weights};
use crate::data::{IMAGE_SIZE, NUM_CLASSES, PIXELS, Pairs};
use crate::diffusion::flow;
use crate::manifest::{Manifest, STUDENT, TEACHER};
use crate::model::{UNet, UNetConfig};
use crate::rng::{self, Stream};

/// The distillation's settings beyond the shared ones.
#[derive(Config, Debug, PartialEq)]
pub struct DistillConfig {
    pub train: TrainConfig,
    /// Teacher pairs to make (cached in RUNS/student/pairs.bin, resumable).
    #[config(default = 20_000)]
    pub pairs: usize,
    /// Heun steps of the teacher per pair.
    #[config(default = 6)]
    pub teacher_steps: usize,
    /// Classifier-free guidance weight of the teacher.
    #[config(default = 1.5)]
    pub guidance: f32,
    /// S: the student learns the velocity at t = 1/S, ..., 1 (S = 1: the one-step student).
    #[config(default = 1)]
    pub student_steps: usize,
    /// Weights to start from (a UNet's safetensors file); none: the teacher's.
    pub init: Option<String>,
}

/// The student's default settings.
pub fn config() -> DistillConfig {
    DistillConfig::new(TrainConfig::new(4000, 64, 5e-4, 100).with_ema(Some(0.998)))
}

/// A UNet's weights from `dir/name`, checked against `dir`'s manifest.
pub fn load_unet(dir: &Path, name: &str, device: &Device) -> anyhow::Result<UNet> {
    let bytes = Manifest::read(dir)
        .and_then(|m| m.read_verified(dir, name))
        .map_err(|e| anyhow::anyhow!("{e} (train it first)"))?;
    unet_from(bytes, name, device)
}

/// A UNet from safetensors bytes.
fn unet_from(bytes: Vec<u8>, name: &str, device: &Device) -> anyhow::Result<UNet> {
    Ok(crate::store::load(
        UNetConfig::new().init(device),
        bytes,
        name,
    )?)
}

/// Makes the teacher pairs missing from the cache at `path` (appending in chunks, so an
/// interrupted run resumes; a cache of another teacher, by its sha256, or other settings is
/// started over).
fn make_pairs(
    config: &DistillConfig,
    (teacher, sha256): (&UNet, &str),
    path: &Path,
) -> anyhow::Result<()> {
    let device = Device::flex();
    let teacher = teacher.clone().to_device(&device);
    let seed = config.train.seed as u32;
    let key = format!(
        "teacher {sha256}, Heun {} steps, guidance {}, seed {seed}",
        config.teacher_steps, config.guidance
    );
    let have = Pairs::complete(path, &key)?;
    let bar = ProgressBar::new(config.pairs as u64).with_position(have.min(config.pairs) as u64);
    bar.set_message("teacher pairs");
    let chunk = 100;
    let mut i = have;
    while i < config.pairs {
        let n = chunk.min(config.pairs - i);
        let z: Vec<f32> = (i..i + n)
            .flat_map(|k| rng::gaussians_f32(seed, Stream::PairNoise(k as u32), PIXELS, 1.0))
            .collect();
        let class: Vec<i64> = (i..i + n).map(|k| (k % NUM_CLASSES) as i64).collect();
        let side = IMAGE_SIZE;
        let zt = Tensor::<4>::from_data(TensorData::new(z.clone(), [n, 1, side, side]), &device);
        let ct = Tensor::<1, Int>::from_data(TensorData::new(class.clone(), [n]), &device);
        let x = flow::sample_heun(&teacher, zt, ct, config.teacher_steps, config.guidance)
            .into_data()
            .iter::<f32>()
            .collect();
        Pairs { z, class, x }.append(path)?;
        i += n;
        bar.set_position(i as u64);
    }
    bar.finish();
    Ok(())
}

/// The grid time of each example of training step `step`: one of 1/S, ..., 1 (S =
/// `student_steps`), drawn by the counter RNG.
pub fn grid_times(seed: u64, step: usize, batch: usize, student_steps: usize) -> Vec<f32> {
    (0..batch as u32)
        .map(|i| {
            let k = rng::word(seed as u32, Stream::PairTimes(step as u32), i) as usize;
            (k % student_steps + 1) as f32 / student_steps as f32
        })
        .collect()
}

/// Distils the teacher in `dirs.out/teacher.safetensors` into `dirs.out/student.safetensors`.
pub fn train(config: &DistillConfig, dirs: &RunDirs) -> anyhow::Result<()> {
    let t = &config.train;
    t.check()?;
    anyhow::ensure!(
        config.student_steps >= 1 && config.teacher_steps >= 1,
        "--student-steps and --teacher-steps must be at least 1"
    );
    let device = train_device(t)?;
    let teacher = load_unet(&dirs.out, TEACHER, &device)?;
    let start = match &config.init {
        // A file of the user's choosing, with no manifest to check it against: read as it is
        // (its safetensors header is still checked).
        Some(file) => {
            let bytes = std::fs::read(file).with_context(|| format!("--init {file}"))?;
            unet_from(bytes, file, &device)?
        }
        None => teacher.clone(),
    };
    let run_dir = dirs.runs.join("student");
    std::fs::create_dir_all(&run_dir)?;
    let cache = run_dir.join("pairs.bin");
    let sha256 = Manifest::read(&dirs.out)?.entry(TEACHER)?.sha256.clone();
    make_pairs(config, (&teacher.valid(), &sha256), &cache)?;
    let pairs = Pairs::read(&cache, config.pairs.min(t.limit.unwrap_or(usize::MAX)))?;
    let n = pairs.len();
    config
        .save(run_dir.join("distill.json"))
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", run_dir.display()))?;
    let batch = t.batch;
    let mut batches = Batches::new(n, batch, t.seed)?;
    let side = IMAGE_SIZE;
    let (model, _) = run("student", t, dirs, start, |model, step| {
        let idx = batches.batch(step);
        let gather = |v: &[f32]| -> Vec<f32> {
            idx.iter()
                .flat_map(|&i| v[i * PIXELS..(i + 1) * PIXELS].iter().copied())
                .collect()
        };
        let z = Tensor::<4>::from_data(
            TensorData::new(gather(&pairs.z), [batch, 1, side, side]),
            &device,
        );
        let x = Tensor::<4>::from_data(
            TensorData::new(gather(&pairs.x), [batch, 1, side, side]),
            &device,
        );
        let class: Vec<i64> = idx.iter().map(|&i| pairs.class[i]).collect();
        let class = Tensor::<1, Int>::from_data(TensorData::new(class, [batch]), &device);
        let times = grid_times(t.seed, step, batch, config.student_steps);
        let time = Tensor::<1>::from_data(TensorData::new(times, [batch]), &device);
        let x_t = flow::noisy(x.clone(), z.clone(), time.clone());
        let d2 = (model.forward(x_t, time, class) - flow::velocity(x, z)).powi_scalar(2);
        // pseudo-Huber with c = 0.03: quadratic near 0, linear for large errors
        ((d2 + 0.03f32 * 0.03).sqrt() - 0.03).mean()
    })?;
    write_weights(&dirs.out, STUDENT, &crate::store::save(&model)?)?;
    Ok(())
}
