//! `genuq train STAGE`: the options every trainer takes, turned into the stage's
//! [`TrainConfig`] (its defaults, overridden by what is given).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::train::student::DistillConfig;
use crate::train::{self, Backend, RunDirs, TrainConfig};

#[derive(Debug, Clone, Args)]
pub struct TrainCommand {
    #[command(subcommand)]
    pub stage: Stage,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Stage {
    /// The evaluation classifier (CNN).
    Classifier(TrainArgs),
    /// The rectified-flow teacher (UNet).
    Teacher(TrainArgs),
    /// The tiny CLIP (ViT + text transformer).
    Clip(TrainArgs),
    /// The structure space: a denoising autoencoder (its encoder ships).
    Encoder(TrainArgs),
    /// The few-step student, distilled from the teacher.
    Student(DistillArgs),
    /// The real-vs-generated discriminator (a baseline; reads the student from --out).
    Discriminator(TrainArgs),
}

/// The options every trainer takes.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Optimiser steps in all (a resumed run continues up to this number) [default: the stage's].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Examples per step [default: the stage's].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: Option<u32>,
    /// Peak learning rate [default: the stage's].
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
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// Where to train: burn's `flex` CPU backend, or the wgpu adapter.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
}

impl TrainArgs {
    /// `defaults` with what was given on the command line.
    pub fn config(&self, defaults: TrainConfig) -> TrainConfig {
        TrainConfig {
            steps: self.steps.unwrap_or(defaults.steps),
            batch: self.batch.map_or(defaults.batch, |b| b as usize),
            lr: self.lr.unwrap_or(defaults.lr),
            seed: self.seed,
            limit: self.limit.map(|l| l as usize),
            backend: self.backend,
            ..defaults
        }
    }

    pub fn dirs(&self) -> RunDirs {
        RunDirs {
            runs: self.runs.clone(),
            out: self.out.clone(),
            checkpoint_minutes: self.checkpoint_minutes,
        }
    }
}

/// The distillation's options beyond the shared ones.
#[derive(Debug, Clone, Args)]
pub struct DistillArgs {
    #[command(flatten)]
    pub train: TrainArgs,
    /// Teacher pairs to make (cached in RUNS/student/pairs.bin, resumable).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub pairs: u32,
    /// Heun steps of the teacher per pair.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub teacher_steps: u32,
    /// Classifier-free guidance weight of the teacher.
    #[arg(long, default_value_t = 1.5)]
    pub guidance: f32,
    /// S: the student learns to sample in 1 to S Euler steps (its velocity at t = 1/S, ..., 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub student_steps: u32,
    /// Weights to start from (a UNet safetensors file) [default: the teacher's].
    #[arg(long)]
    pub init: Option<PathBuf>,
}

impl DistillArgs {
    pub fn config(&self) -> DistillConfig {
        let defaults = train::student::config();
        DistillConfig {
            train: self.train.config(defaults.train.clone()),
            pairs: self.pairs as usize,
            teacher_steps: self.teacher_steps as usize,
            guidance: self.guidance,
            student_steps: self.student_steps as usize,
            init: self.init.as_ref().map(|p| p.display().to_string()),
        }
    }
}

pub fn run(args: &TrainCommand) -> anyhow::Result<()> {
    match &args.stage {
        Stage::Classifier(a) => {
            train::classifier::train(&a.config(train::classifier::config()), &a.dirs())
        }
        Stage::Teacher(a) => train::teacher::train(&a.config(train::teacher::config()), &a.dirs()),
        Stage::Clip(a) => train::clip::train(&a.config(train::clip::config()), &a.dirs()),
        Stage::Encoder(a) => train::encoder::train(&a.config(train::encoder::config()), &a.dirs()),
        Stage::Discriminator(a) => train::discriminator::train(
            &a.config(train::discriminator::config()),
            &a.dirs(),
            &a.out,
        ),
        Stage::Student(a) => train::student::train(&a.config(), &a.train.dirs()),
    }
}
