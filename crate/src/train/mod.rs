//! Training (native only, on burn's `flex` CPU backend with autodiff): one file per model, and
//! here the loop they share: AdamW with warmup + cosine decay, an exponential moving average of
//! the weights, resumable checkpoints every few minutes, a progress bar. A run's settings are a
//! [`TrainConfig`] (burn's `Config`), saved as `RUNS/NAME/config.json` beside its checkpoints.

pub mod classifier;
pub mod clip;
pub mod discriminator;
pub mod encoder;
pub mod student;
pub mod teacher;

use anyhow::Context;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::config::Config;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::manifest::Manifest;
use crate::rng::{self, Stream};

/// Where a trainer runs: burn's `flex` CPU backend, or the wgpu adapter (lavapipe here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Backend {
    Flex,
    Wgpu,
}

/// The settings of one training run: everything that decides the weights it makes.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// Optimiser steps in all (a resumed run continues up to this number).
    pub steps: usize,
    /// Examples per step.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Steps of linear warmup before the cosine decay.
    pub warmup: usize,
    /// Decay of the weights' moving average (none: the last weights are the result).
    pub ema: Option<f32>,
    /// Seed of initialisation, batching and noise.
    #[config(default = 0)]
    pub seed: u64,
    /// Training examples to use (all by default; small values for smoke tests).
    pub limit: Option<usize>,
    #[config(default = "Backend::Flex")]
    pub backend: Backend,
}

impl TrainConfig {
    /// Checks what can be checked before data is loaded: a batch and a learning rate that can
    /// train.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.batch >= 1, "--batch must be at least 1");
        anyhow::ensure!(
            self.lr.is_finite() && self.lr > 0.0,
            "--lr must be a positive number (got {})",
            self.lr
        );
        anyhow::ensure!(
            self.limit != Some(0),
            "--limit 0 leaves nothing to train on"
        );
        Ok(())
    }

    fn lr_at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        let p =
            (step - self.warmup) as f64 / (self.steps.saturating_sub(self.warmup)).max(1) as f64;
        self.lr * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * p).cos()))
    }
}

/// Where a run keeps its checkpoints and writes its weights, and how often it checkpoints:
/// not settings of the model.
#[derive(Debug, Clone)]
pub struct RunDirs {
    /// Checkpoints go to `runs/NAME/` (resumed from if present).
    pub runs: PathBuf,
    /// The finished weights.
    pub out: PathBuf,
    /// Minutes between checkpoints.
    pub checkpoint_minutes: f64,
}

/// What a run remembers between checkpoints.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RunState {
    pub step: usize,
    pub seconds: f64,
    /// (step, mean loss over the last interval)
    pub losses: Vec<(usize, f32)>,
}

/// The autodiff device training runs on, seeded.
pub fn train_device(config: &TrainConfig) -> anyhow::Result<Device> {
    let device = match config.backend {
        Backend::Flex => Device::flex(),
        Backend::Wgpu => crate::gpu::gpu()?.device,
    }
    .autodiff();
    device.seed(config.seed);
    Ok(device)
}

/// Writes `config` as `dir/config.json`, saying so when a resumed run's settings differ from
/// the ones it began with (other than `steps`, which a resumed run raises).
fn record_config(dir: &Path, config: &TrainConfig) -> anyhow::Result<()> {
    let path = dir.join("config.json");
    if let Ok(before) = TrainConfig::load(&path) {
        let same = TrainConfig {
            steps: config.steps,
            ..before.clone()
        };
        if &same != config {
            eprintln!(
                "note: {} was made with other settings ({}); the run goes on with these",
                path.display(),
                serde_json::to_string(&before)?
            );
        }
    }
    config
        .save(&path)
        .with_context(|| format!("writing {}", path.display()))
}

/// Runs the run called `name` with `config` on `model`: `loss(model, step)` gives one batch's
/// scalar loss. Resumes from `dirs.runs/NAME/` if a checkpoint is there. Returns the trained
/// model (the EMA weights if the config keeps an average), without autodiff. A checkpoint that
/// cannot be read, a loss that is not finite or a file that cannot be written is an error that
/// names the file.
pub fn run<M, F>(
    name: &str,
    config: &TrainConfig,
    dirs: &RunDirs,
    model: M,
    mut loss: F,
) -> anyhow::Result<(M, RunState)>
where
    M: Module + ModuleSnapshot + Clone,
    F: FnMut(&M, usize) -> Tensor<1>,
{
    let dir = dirs.runs.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    record_config(&dir, config)?;
    let mut optim = AdamWConfig::new().with_weight_decay(1e-4).init();
    let (mut model, mut ema, mut state) = resume(&dir, model, &mut optim)?;
    let bar = ProgressBar::new(config.steps as u64).with_position(state.step as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {msg} (eta {eta})",
        )
        .expect("template"),
    );
    bar.set_prefix(name.to_string());
    let started = Instant::now();
    let seconds_before = state.seconds;
    let mut last_checkpoint = Instant::now();
    let (mut sum, mut count) = (0.0f64, 0usize);
    while state.step < config.steps {
        let step = state.step;
        let l = loss(&model, step);
        let value: f32 = l.clone().into_scalar::<f32>();
        anyhow::ensure!(
            value.is_finite(),
            "{name}: loss is {value} at step {step} (the last checkpoint in {} is intact)",
            dir.display()
        );
        let grads = GradientsParams::from_grads(l.backward(), &model);
        model = optim.step(config.lr_at(step), model, grads);
        if let Some(decay) = config.ema {
            let current = model.valid();
            ema = Some(match ema.take() {
                None => current,
                Some(avg) => average(
                    avg,
                    &current,
                    decay.min((1 + step) as f32 / (10 + step) as f32),
                ),
            });
        }
        state.step += 1;
        (sum, count) = (sum + value as f64, count + 1);
        bar.set_position(state.step as u64);
        bar.set_message(format!("loss {:.4}", sum / count as f64));
        let last = state.step == config.steps;
        if last || last_checkpoint.elapsed().as_secs_f64() > dirs.checkpoint_minutes * 60.0 {
            let mean = (sum / count as f64) as f32;
            state.losses.push((state.step, mean));
            if bar.is_hidden() {
                eprintln!(
                    "{name} step {}/{} loss {mean:.4} ({:.0} s)",
                    state.step,
                    config.steps,
                    seconds_before + started.elapsed().as_secs_f64()
                );
            }
            (sum, count) = (0.0, 0);
            state.seconds = seconds_before + started.elapsed().as_secs_f64();
            checkpoint(&dir, &model, ema.as_ref(), &optim, &state)?;
            last_checkpoint = Instant::now();
        }
    }
    bar.finish();
    Ok((ema.unwrap_or_else(|| model.valid()), state))
}

fn resume<M: Module + ModuleSnapshot + Clone>(
    dir: &Path,
    model: M,
    optim: &mut ModuleOptimizer,
) -> anyhow::Result<(M, Option<M>, RunState)> {
    let Ok(text) = std::fs::read_to_string(dir.join("state.json")) else {
        return Ok((model, None, RunState::default()));
    };
    let broken = |file: &str| {
        format!(
            "checkpoint {} is unreadable: delete {} to start this run afresh",
            dir.join(file).display(),
            dir.display()
        )
    };
    let state: RunState = serde_json::from_str(&text).with_context(|| broken("state.json"))?;
    let mut model = model;
    model
        .load_from(&mut BurnpackStore::from_file(dir.join("model.bpk")))
        .with_context(|| broken("model.bpk"))?;
    let ema = if dir.join("ema.bpk").exists() {
        let mut ema = model.valid();
        ema.load_from(&mut BurnpackStore::from_file(dir.join("ema.bpk")))
            .with_context(|| broken("ema.bpk"))?;
        Some(ema)
    } else {
        None
    };
    let loaded = std::mem::replace(optim, AdamWConfig::new().init()).load(dir.join("optim.bpk"));
    *optim = loaded.with_context(|| broken("optim.bpk"))?;
    eprintln!("resuming {} at step {}", dir.display(), state.step);
    Ok((model, ema, state))
}

fn checkpoint<M: Module + ModuleSnapshot>(
    dir: &Path,
    model: &M,
    ema: Option<&M>,
    optim: &ModuleOptimizer,
    state: &RunState,
) -> anyhow::Result<()> {
    let writing = |name: &str| format!("writing checkpoint {}", dir.join(name).display());
    let save = |m: &M, name: &str| -> anyhow::Result<()> {
        let tmp = dir.join(format!("{name}.tmp.bpk"));
        m.save_into(&mut BurnpackStore::from_file(&tmp).overwrite(true))
            .with_context(|| writing(&format!("{name}.bpk")))?;
        std::fs::rename(&tmp, dir.join(format!("{name}.bpk")))
            .with_context(|| writing(&format!("{name}.bpk")))
    };
    save(model, "model")?;
    if let Some(ema) = ema {
        save(ema, "ema")?;
    }
    optim
        .save(dir.join("optim.tmp.bpk"))
        .with_context(|| writing("optim.bpk"))?;
    std::fs::rename(dir.join("optim.tmp.bpk"), dir.join("optim.bpk"))
        .with_context(|| writing("optim.bpk"))?;
    // state.json last: a checkpoint counts only once all its files are written.
    std::fs::write(dir.join("state.json"), serde_json::to_string_pretty(state)?)
        .with_context(|| writing("state.json"))
}

/// Collects a module's float parameters by id, flattened.
struct Collect(HashMap<ParamId, Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.insert(param.id, param.val().flatten(0, D - 1));
    }
}

/// `avg <- decay * avg + (1 - decay) * current`, parameter by parameter.
struct Average {
    current: HashMap<ParamId, Tensor<1>>,
    decay: f32,
}

impl ModuleMapper for Average {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(cur) = self.current.remove(&param.id) else {
            return param;
        };
        let decay = self.decay;
        param.map(|avg| {
            let shape = avg.shape();
            avg * decay + cur.reshape(shape) * (1.0 - decay)
        })
    }
}

fn average<M: Module>(avg: M, current: &M, decay: f32) -> M {
    let mut collect = Collect(HashMap::new());
    current.visit(&mut collect);
    avg.map(&mut Average {
        current: collect.0,
        decay,
    })
}

/// A seeded permutation of `0..n` for each epoch; `batch(step)` walks through them, `size`
/// examples at a time.
pub struct Batches {
    n: usize,
    size: usize,
    seed: u32,
    order: Vec<usize>,
    epoch: usize,
}

impl Batches {
    /// Batches of `size` from `n` examples: an error when not even one batch fits.
    pub fn new(n: usize, size: usize, seed: u64) -> anyhow::Result<Self> {
        anyhow::ensure!(
            size >= 1 && size <= n,
            "a batch of {size} does not fit in {n} training examples (lower --batch or raise --limit)"
        );
        Ok(Self {
            n,
            size,
            seed: seed as u32,
            order: Vec::new(),
            epoch: usize::MAX,
        })
    }

    /// The example indices of batch `step`.
    pub fn batch(&mut self, step: usize) -> Vec<usize> {
        let per_epoch = self.n / self.size;
        let epoch = step / per_epoch;
        if epoch != self.epoch {
            self.order = (0..self.n).collect();
            for i in (1..self.n).rev() {
                let r = rng::word(self.seed, Stream::BatchOrder(epoch as u32), i as u32);
                self.order.swap(i, r as usize % (i + 1));
            }
            self.epoch = epoch;
        }
        let start = (step % per_epoch) * self.size;
        self.order[start..start + self.size].to_vec()
    }
}

/// Writes `bytes` to `dir/name`, records it (size, sha256) in `dir`'s manifest, so the
/// verified loaders take it at once, and says so.
pub fn write_weights(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(name);
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, bytes))
        .with_context(|| format!("writing {}", path.display()))?;
    Manifest::update(dir, |m| m.record_file(name, bytes))?;
    eprintln!(
        "wrote {} ({} bytes), recorded in its manifest",
        path.display(),
        bytes.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What training writes, the verified loader takes at once (no stale sha256 in the
    /// manifest); an overwritten file is re-recorded, and a file changed behind the manifest's
    /// back is refused.
    #[test]
    fn written_weights_are_recorded() {
        let dir = std::env::temp_dir().join(format!("genuq-weights-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_weights(&dir, "teacher.safetensors", b"first").unwrap();
        write_weights(&dir, "teacher.safetensors", b"second").unwrap();
        let m = Manifest::read(&dir).unwrap();
        let read = m.read_verified(&dir, "teacher.safetensors").unwrap();
        assert_eq!(read, b"second");
        std::fs::write(dir.join("teacher.safetensors"), b"third!").unwrap();
        assert!(m.read_verified(&dir, "teacher.safetensors").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
