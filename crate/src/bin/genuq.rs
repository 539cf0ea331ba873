//! The `genuq` command line: train the models, fit the posterior, generate, evaluate.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> anyhow::Result<()> {
    use clap::{Parser, Subcommand};
    use genuq::train::{self, TrainArgs};

    #[derive(Parser)]
    #[command(
        version,
        about = "Generative uncertainty for a distilled diffusion model"
    )]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Train one model on Fashion-MNIST (CPU); resumes from its checkpoint.
        Train {
            #[command(subcommand)]
            stage: Stage,
        },
        /// Fit the last-layer Laplace posterior of the student (models/posterior.json).
        FitLaplace(genuq::cli::FitArgs),
        /// Generate one image with its uncertainty heatmap and score.
        Generate(genuq::cli::GenerateArgs),
        /// Measure the models (FID, class accuracy, zero-shot accuracy) and update models/manifest.json.
        EvalModels(genuq::eval::models::EvalModelsArgs),
        /// The paper's evaluation: drop the most uncertain generations, compare with random
        /// (FID, precision/recall, class accuracy, AUROC); writes reports/eval.json and figures.
        Eval(genuq::eval::protocol::EvalArgs),
        /// Time plain vs uncertain generation, the naive path, the fused head, CLIP, matmul
        /// (medians); writes reports/bench.json.
        Bench(genuq::cli::BenchArgs),
    }

    #[derive(Subcommand)]
    enum Stage {
        /// The evaluation classifier (CNN).
        Classifier(TrainArgs),
        /// The rectified-flow teacher (UNet).
        Teacher(TrainArgs),
        /// The tiny CLIP (ViT + text transformer).
        Clip(TrainArgs),
        /// The one-step student, distilled from the teacher.
        Student(train::student::DistillArgs),
    }

    match Cli::parse().command {
        Command::Train { stage } => match stage {
            Stage::Classifier(args) => train::classifier::train(&args),
            Stage::Teacher(args) => train::teacher::train(&args),
            Stage::Clip(args) => train::clip::train(&args),
            Stage::Student(args) => train::student::train(&args),
        },
        Command::EvalModels(args) => genuq::eval::models::eval_models(&args),
        Command::Eval(args) => genuq::eval::protocol::eval(&args),
        Command::Bench(args) => genuq::cli::bench(&args),
        Command::FitLaplace(args) => genuq::cli::fit_laplace(&args),
        Command::Generate(args) => genuq::cli::generate(&args),
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
