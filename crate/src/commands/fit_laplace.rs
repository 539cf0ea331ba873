//! `genuq fit-laplace`: the student's last-layer Laplace posterior (models/posterior.json).

use std::path::PathBuf;

use clap::Args;

use crate::data::Pairs;
use crate::manifest::{Manifest, POSTERIOR, STUDENT};
use crate::posterior::Curvature;
use crate::posterior::fit::{self, FitOptions, Prior};
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
    /// Precision of the Gaussian prior on the last layer's parameters (the paper: 1), or
    /// `marglik` to choose it by the Laplace marginal likelihood.
    #[arg(long, default_value = "1", value_parser = parse_prior)]
    pub prior_precision: PriorArg,
    /// The curvature: the empirical Fisher (the paper's) or the GGN of the Gaussian likelihood.
    #[arg(long, value_enum, default_value_t = CurvatureArg::EmpiricalFisher)]
    pub curvature: CurvatureArg,
    /// The student's steps: the fit averages its loss over the grid t = 1/STEPS, ..., 1.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub steps: u32,
    /// Divides the curvature (1: plain Laplace).
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Where posterior.json goes (default: the models folder, recorded in its manifest).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorArg(Prior);

fn parse_prior(text: &str) -> Result<PriorArg, String> {
    match text {
        "marglik" => Ok(PriorArg(Prior::MarginalLikelihood)),
        t => match t.parse::<f64>() {
            Ok(p) if p > 0.0 && p.is_finite() => Ok(PriorArg(Prior::Fixed(p))),
            _ => Err(format!("{t:?} is neither a positive number nor `marglik`")),
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CurvatureArg {
    EmpiricalFisher,
    Ggn,
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
    let curvature = match args.curvature {
        CurvatureArg::EmpiricalFisher => Curvature::EmpiricalFisher,
        CurvatureArg::Ggn => Curvature::Ggn,
    };
    let options = FitOptions {
        steps: args.steps as usize,
        curvature,
        prior: args.prior_precision.0,
        temperature: args.temperature,
        batch: 100,
    };
    let posterior = fit::fit(&student, &pairs, options, &device)?;
    let text = serde_json::to_string_pretty(&posterior)? + "\n";
    match &args.out {
        Some(path) => std::fs::write(path, &text)?,
        None => {
            std::fs::write(args.models.join(POSTERIOR), &text)?;
            Manifest::update(&args.models, |m| m.record_file(POSTERIOR, text.as_bytes()))?;
        }
    }
    let mean = posterior.weight_std.iter().sum::<f32>() / posterior.weight_std.len() as f32;
    eprintln!(
        "posterior ({:?}, prior precision {:.4e}) over {} examples: mean weight std {mean:.4e}, bias std {:.4e}",
        posterior.curvature, posterior.prior_precision, posterior.examples, posterior.bias_std
    );
    Ok(())
}
