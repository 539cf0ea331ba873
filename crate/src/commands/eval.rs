//! `genuq eval`: the arguments of the evaluation's protocol (eval/protocol/: which score finds
//! bad generations, and which ships), or, with `--labels`, the by-eye sections of eval.json
//! (eval/by_eye/), or, with `--replot`, the figures of eval.json's numbers (eval/figures.rs).

use std::path::PathBuf;

use clap::Args;

use crate::eval::generations::EVAL_SEED;
use crate::eval::protocol::{self, Options};
use crate::gpu::Compute;

#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// The folder with the models and their manifest.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Where the kernels run: `auto` (the wgpu adapter if it is a hardware one, else the CPU
    /// path), `webgpu` (our WGSL on the wgpu adapter, whatever it is) or `cpu` (their Rust
    /// twins on burn's CPU backend; the same numbers within float noise).
    #[arg(long, value_enum, default_value_t = Compute::Auto)]
    pub compute: Compute,
    /// Class-conditional generations the candidates score (random classes).
    #[arg(long, default_value_t = 12_032, value_parser = clap::value_parser!(u32).range(20..))]
    pub generations: u32,
    /// How many generations each filter keeps (at most --generations).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(2..))]
    pub keep: u32,
    /// Generations the ablations score (the first of the sequence).
    #[arg(long, default_value_t = 4_000, value_parser = clap::value_parser!(u32).range(20..))]
    pub ablation_generations: u32,
    /// Draws of weight samples every score repeats over (weight seeds SEED, SEED + 1, ...).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub weight_seeds: u32,
    /// The student's step counts to compare.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4", value_parser = clap::value_parser!(u32).range(1..=16))]
    pub steps: Vec<u32>,
    /// Generations the teacher control scores (0: none).
    #[arg(long, default_value_t = 4_000)]
    pub teacher_generations: u32,
    /// Heun steps and guidance of the teacher (`eval-models`' defaults).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub teacher_steps: u32,
    #[arg(long, default_value_t = 1.5)]
    pub guidance: f32,
    /// Training images the teacher's posterior is fitted on.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub teacher_examples: u32,
    /// Seed of the classes, the noise and the first draw of weight samples.
    #[arg(long, default_value_t = EVAL_SEED)]
    pub seed: u32,
    /// Generations per batch.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub batch: u32,
    /// Where eval.json and the figures go.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Where scores are kept between runs.
    #[arg(long, default_value = "runs/eval")]
    pub cache: PathBuf,
    /// Other posteriors of the last layer (posterior.json files, e.g. `genuq fit-laplace
    /// --curvature ggn --out F`) whose u the one-step path also scores on the ablation
    /// generations (one draw of weight samples each).
    #[arg(long, value_delimiter = ',')]
    pub posteriors: Vec<PathBuf>,
    /// Label sets by eye (`reports/labels/dev`, ...: key.json + labels.jsonl from `genuq
    /// label`): only their by-eye sections are computed, into eval.json's `by_eye`.
    #[arg(long, num_args = 1..)]
    pub labels: Vec<PathBuf>,
    /// With --labels: also each class-space score of one image against the judge's own errors
    /// on the 10,000 real test images (`by_eye.judge_errors`; needs the models and the data).
    #[arg(long)]
    pub judge_errors: bool,
    /// Only redraw the figures made from OUT/eval.json's numbers (the AUROC intervals and the
    /// curves against the fraction dropped), scoring nothing.
    #[arg(long, conflicts_with = "labels")]
    pub replot: bool,
}

impl EvalArgs {
    /// The protocol's options.
    fn options(&self) -> Options {
        Options {
            models: self.models.clone(),
            compute: self.compute,
            generations: self.generations,
            keep: self.keep,
            ablation_generations: self.ablation_generations,
            weight_seeds: self.weight_seeds,
            steps: self.steps.clone(),
            teacher_generations: self.teacher_generations,
            teacher_steps: self.teacher_steps,
            guidance: self.guidance,
            teacher_examples: self.teacher_examples,
            seed: self.seed,
            batch: self.batch,
            out: self.out.clone(),
            cache: self.cache.clone(),
            posteriors: self.posteriors.clone(),
        }
    }
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    if args.replot {
        return crate::eval::figures::replot(&args.out);
    }
    let options = args.options();
    if args.labels.is_empty() {
        return protocol::run(&options);
    }
    let judge = match args.judge_errors {
        true => Some(protocol::judge_errors_section(&options)?),
        false => None,
    };
    crate::eval::by_eye::write_sections(&args.labels, &args.out, args.seed, judge)
}
