//! Training (native only, on burn's `flex` CPU backend with autodiff): one file per model, and
//! here the loop they share: AdamW with warmup + cosine decay, an exponential moving average of
//! the weights, resumable checkpoints every few minutes, a progress bar.

pub mod classifier;
pub mod clip;
pub mod student;
pub mod teacher;

use anyhow::Context;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::kernels::philox;

/// The options every trainer takes (`genuq train STAGE --steps ...`).
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// Optimiser steps in all (a resumed run continues up to this number).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Images per step.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Peak learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Seed of initialisation, batching and noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where checkpoints go (resumed from if present).
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
    /// Where the finished weights go.
    #[arg(long, default_value = "models")]
    pub out: PathBuf,
    /// Minutes between checkpoints.
    #[arg(long, default_value_t = 3.0)]
    pub checkpoint_minutes: f64,
    /// Training examples to use (all by default; small values for smoke tests).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Where to train: burn's `flex` CPU backend, or the wgpu adapter (lavapipe here).
    #[arg(long, value_enum, default_value_t = TrainBackend::Flex)]
    pub backend: TrainBackend,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrainBackend {
    Flex,
    Wgpu,
}

/// What a run remembers between checkpoints.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RunState {
    pub step: usize,
    pub seconds: f64,
    /// (step, mean loss over the last interval)
    pub losses: Vec<(usize, f32)>,
}

/// The schedule and hyper-parameters of one run.
pub struct Plan {
    pub name: &'static str,
    pub steps: usize,
    pub lr: f64,
    pub warmup: usize,
    pub ema: Option<f32>,
}

impl Plan {
    fn lr_at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        let p = (step - self.warmup) as f64 / (self.steps - self.warmup).max(1) as f64;
        self.lr * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * p).cos()))
    }
}

/// The autodiff CPU device training runs on, seeded.
pub fn train_device(args: &TrainArgs) -> anyhow::Result<Device> {
    let device = match args.backend {
        TrainBackend::Flex => Device::flex(),
        TrainBackend::Wgpu => crate::gpu::gpu()?.device,
    }
    .autodiff();
    device.seed(args.seed);
    Ok(device)
}

/// Runs `plan` on `model`: `loss(model, step)` gives one batch's scalar loss. Resumes from
/// `args.runs/NAME/` if a checkpoint is there. Returns the trained model (the EMA weights if
/// the plan keeps an average), without autodiff. A checkpoint that cannot be read, a loss that
/// is not finite or a file that cannot be written is an error that names the file.
pub fn run<M, F>(
    args: &TrainArgs,
    plan: &Plan,
    model: M,
    mut loss: F,
) -> anyhow::Result<(M, RunState)>
where
    M: Module + ModuleSnapshot + Clone,
    F: FnMut(&M, usize) -> Tensor<1>,
{
    let dir = args.runs.join(plan.name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut optim = AdamWConfig::new().with_weight_decay(1e-4).init();
    let (mut model, mut ema, mut state) = resume(&dir, model, &mut optim)?;
    let bar = ProgressBar::new(plan.steps as u64).with_position(state.step as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {msg} (eta {eta})",
        )
        .expect("template"),
    );
    bar.set_prefix(plan.name);
    let started = Instant::now();
    let seconds_before = state.seconds;
    let mut last_checkpoint = Instant::now();
    let (mut sum, mut count) = (0.0f64, 0usize);
    while state.step < plan.steps {
        let step = state.step;
        let l = loss(&model, step);
        let value: f32 = l.clone().into_scalar::<f32>();
        anyhow::ensure!(
            value.is_finite(),
            "{}: loss is {value} at step {step} (the last checkpoint in {} is intact)",
            plan.name,
            dir.display()
        );
        let grads = GradientsParams::from_grads(l.backward(), &model);
        model = optim.step(plan.lr_at(step), model, grads);
        if let Some(decay) = plan.ema {
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
        let last = state.step == plan.steps;
        if last || last_checkpoint.elapsed().as_secs_f64() > args.checkpoint_minutes * 60.0 {
            let mean = (sum / count as f64) as f32;
            state.losses.push((state.step, mean));
            if bar.is_hidden() {
                eprintln!(
                    "{} step {}/{} loss {mean:.4} ({:.0} s)",
                    plan.name,
                    state.step,
                    plan.steps,
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

/// A seeded permutation of `0..n` for each epoch; `batch(step, size)` walks through them.
pub struct Batches {
    n: usize,
    seed: u32,
    order: Vec<usize>,
    epoch: usize,
}

impl Batches {
    pub fn new(n: usize, seed: u64) -> Self {
        Self {
            n,
            seed: seed as u32,
            order: Vec::new(),
            epoch: usize::MAX,
        }
    }

    /// The example indices of batch `step`.
    pub fn batch(&mut self, step: usize, size: usize) -> Vec<usize> {
        let per_epoch = self.n / size;
        let epoch = step / per_epoch;
        if epoch != self.epoch {
            self.order = (0..self.n).collect();
            for i in (1..self.n).rev() {
                let r = philox::philox_block(self.seed, epoch as u32, i as u32)[0];
                self.order.swap(i, r as usize % (i + 1));
            }
            self.epoch = epoch;
        }
        let start = (step % per_epoch) * size;
        self.order[start..start + size].to_vec()
    }
}

/// Writes `bytes` to `dir/name` and says so.
pub fn write_weights(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(name);
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, bytes))
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
    Ok(())
}
