//! `genuq eval`: the paper's protocol on our models. Generate class-conditional samples from
//! random classes, score each one, keep the `keep` least uncertain by each method, and compare
//! the kept set with the test split in the evaluation classifier's feature space (FID,
//! precision and recall with k = 3, class accuracy), plus the AUROC of each score for
//! detecting samples the classifier puts in another class. Methods: `eval::methods`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::ProgressBar;

use crate::data::{self, Dataset, Split};
use crate::eval::classify::{FEATURES, classify};
use crate::eval::floor::floor_report;
use crate::eval::generations::score;
use crate::eval::judge::{Judge, RANDOM_DRAWS, Row};
use crate::eval::methods::{CURVES, methods};
use crate::eval::metrics::{Features, Manifold, inside};
use crate::eval::report::Report;
use crate::manifest::CLASSIFIER;
use crate::model::classifier::ClassifierConfig;
use crate::uncertainty::load::load_generator;

#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// The folder with the models and their manifest.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Class-conditional generations to score (random classes).
    #[arg(long, default_value_t = 12_032, value_parser = clap::value_parser!(u32).range(2..))]
    pub generations: u32,
    /// How many generations each method keeps.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(2..))]
    pub keep: u32,
    /// Seed of the classes, the noise and the weight samples.
    #[arg(long, default_value_t = 2025)]
    pub seed: u32,
    /// Generations per GPU batch.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub batch: u32,
    /// Where eval.json and the figures go.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let (n, keep) = (args.generations as usize, args.keep as usize);
    anyhow::ensure!(
        keep <= n,
        "--keep {keep} is more than the {n} generations (--generations)"
    );
    // The networks on burn's CPU backend (about 10x lavapipe's speed on this kind of machine),
    // our kernels on the wgpu device.
    let device = burn::tensor::Device::flex();
    let generator = load_generator(&args.models)?.with_nets_on(&device);
    let path = args.models.join(CLASSIFIER);
    let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
    let classifier = crate::store::load(ClassifierConfig::new().init(&device), bytes, CLASSIFIER)?;
    let test = Dataset::load(&data::default_dir(), Split::Test)?;
    let scored = score(&generator, &classifier, n, args.seed, args.batch as usize)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    eprintln!("metrics against the test split ...");
    let (test_features, _) = classify(&classifier, &test.images, &device);
    let real = Features::new(&test_features, FEATURES);
    let generated = Features::new(&scored.features, FEATURES);
    let radius_ratio = Manifold::new(&real, 3).radius_ratio(&generated);
    let judge = Judge {
        inside: inside(&radius_ratio),
        real: &real,
        generated,
        wrong: scored
            .predictions
            .iter()
            .zip(&scored.classes)
            .map(|(&p, &c)| p != c as i64)
            .collect(),
        classes: &scored.classes,
    };
    let methods = methods(&scored, &radius_ratio, args.seed, keep);
    let bar = ProgressBar::new(methods.len() as u64);
    bar.set_message("metrics per method");
    let rows: Vec<Row> = methods
        .iter()
        .map(|(name, score)| {
            let row = judge.row(name, score, keep);
            bar.inc(1);
            row
        })
        .collect();
    bar.finish();
    let curves = CURVES
        .into_iter()
        .filter_map(|(name, label)| {
            let (_, score) = methods.iter().find(|(m, _)| m == name)?;
            Some((name, label, judge.curve(score)))
        })
        .collect();
    let report = Report {
        scored: &scored,
        rows,
        spread: judge.random_spread(args.seed, keep, RANDOM_DRAWS),
        curves,
        floor: floor_report(&scored.embedding_variance, scored.dims),
        keep,
        seed: args.seed,
    };
    report.write_json(&args.out)?;
    report.write_figures(&args.out)?;
    report.print(&args.out);
    Ok(())
}
