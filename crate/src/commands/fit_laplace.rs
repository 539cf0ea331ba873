//! `genuq fit-laplace`: the student's last-layer Laplace posterior (models/posterior.json).

use std::path::PathBuf;

use clap::Args;

use crate::data::Pairs;
use crate::manifest::Manifest;
use crate::manifest::{POSTERIOR, STUDENT};
use crate::posterior::fit;
use crate::train::student::load_unet;

#[derive(Debug, Clone, Args)]
pub struct FitArgs {
    /// The folder with the student, its manifest, and where posterior.json goes.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Where the student's teacher pairs are (from `genuq train student`).
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
    /// Training examples to sum the curvature over (the paper: >= 10,000).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub examples: u32,
    /// Precision of the Gaussian prior on the last layer's parameters (the paper: 1).
    #[arg(long, default_value_t = 1.0)]
    pub prior_precision: f64,
    /// Divides the curvature (1: plain Laplace).
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
}

pub fn run(args: &FitArgs) -> anyhow::Result<()> {
    let device = burn::tensor::Device::flex();
    let student = load_unet(&args.models, STUDENT, &device)?;
    let wanted = args.examples as usize;
    let pairs = Pairs::read(&args.runs.join("student/pairs.bin"), wanted)?;
    anyhow::ensure!(
        pairs.len() >= wanted.min(10_000),
        "only {} teacher pairs cached (run `genuq train student --pairs {wanted}` first)",
        pairs.len()
    );
    let posterior = fit::fit(
        &student,
        &pairs,
        100,
        args.prior_precision,
        args.temperature,
        &device,
    )?;
    let text = serde_json::to_string_pretty(&posterior)? + "\n";
    std::fs::write(args.models.join(POSTERIOR), &text)?;
    Manifest::update(&args.models, |m| m.record_file(POSTERIOR, text.as_bytes()))?;
    let mean = posterior.weight_std.iter().sum::<f32>() / posterior.weight_std.len() as f32;
    eprintln!(
        "posterior over {} examples: mean weight std {mean:.4e}, bias std {:.4e}",
        posterior.examples, posterior.bias_std
    );
    Ok(())
}
