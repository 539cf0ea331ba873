//! The `genuq` command line (native): one file per command, each a clap `Args` struct and a
//! `run`. Usage errors exit with 2 (clap's), runtime errors with 1.

pub mod bench;
pub mod class_text;
pub mod eval;
pub mod eval_models;
pub mod fit_laplace;
pub mod generate;
pub mod label;
pub mod prerender;
pub mod reference;
pub mod score;
pub mod train;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Parser, Subcommand};

use crate::data::{CLASS_NAMES, class_index};
use crate::uncertainty::STEPS;

/// `--class`: a class name (its aliases too, e.g. `boot`) or number, as `data::class_index`
/// reads them; clap lists the names in the help and in the error for a bad one.
#[derive(Debug, Clone, Copy)]
pub struct ClassParser;

impl TypedValueParser for ClassParser {
    type Value = usize;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<usize, clap::Error> {
        let text = value.to_str().unwrap_or_default();
        class_index(text).ok_or_else(|| {
            let mut err = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
            let ctx = clap::error::ContextKind::InvalidArg;
            let name = arg.map_or("--class".to_string(), |a| a.to_string());
            err.insert(ctx, clap::error::ContextValue::String(name));
            let ctx = clap::error::ContextKind::InvalidValue;
            err.insert(ctx, clap::error::ContextValue::String(text.to_string()));
            let names = CLASS_NAMES.iter().map(|s| s.to_string()).collect();
            let ctx = clap::error::ContextKind::ValidValue;
            err.insert(ctx, clap::error::ContextValue::Strings(names));
            err
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(CLASS_NAMES.iter().map(PossibleValue::new)))
    }
}

/// `--steps`: one of the step counts the student samples in.
pub fn parse_steps(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|s| STEPS.contains(s))
        .ok_or_else(|| format!("{text:?} is not one of {STEPS:?}"))
}

#[derive(Parser)]
#[command(
    version,
    about = "Generative uncertainty for a distilled diffusion model"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one model on Fashion-MNIST (CPU); resumes from its checkpoint.
    Train(train::TrainCommand),
    /// Fit the last-layer Laplace posterior of the student (models/posterior.json).
    FitLaplace(fit_laplace::FitArgs),
    /// Generate one image with its uncertainty heatmap and score.
    Generate(generate::GenerateArgs),
    /// Measure the models (FID, class accuracy, zero-shot accuracy) and update models/manifest.json.
    EvalModels(eval_models::EvalModelsArgs),
    /// The paper's evaluation: drop the most uncertain generations, compare with random
    /// (FID, precision/recall, class accuracy, AUROC); writes reports/eval.json and figures.
    Eval(eval::EvalArgs),
    /// CLIP's zero-shot class embeddings for the class-space scores (models/class_text.json).
    ClassText(class_text::ClassTextArgs),
    /// Quantiles of u over reference generations (models/reference_u.json), for percentiles.
    Reference(reference::ReferenceArgs),
    /// Labels by eye: blind contact sheets of fresh generations, and a labeller's marks
    /// into label lines.
    Label(label::LabelCommand),
    /// Score many generations: one JSON line each (resumable, shardable).
    Score(score::ScoreArgs),
    /// Render one generation per class ahead of time, for browsers without WebGPU.
    Prerender(prerender::PrerenderArgs),
    /// Time plain vs uncertain generation, the naive path, the fused head, CLIP, matmul
    /// (medians); writes reports/bench.json.
    Bench(bench::BenchArgs),
}

/// Parses the command line and runs the command.
pub fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Train(args) => train::run(&args),
        Command::FitLaplace(args) => fit_laplace::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::EvalModels(args) => eval_models::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::ClassText(args) => class_text::run(&args),
        Command::Reference(args) => reference::run(&args),
        Command::Label(args) => label::run(&args),
        Command::Score(args) => score::run(&args),
        Command::Prerender(args) => prerender::run(&args),
        Command::Bench(args) => bench::run(&args),
    }
}
