//! `genuq reference`: the quantiles of u over reference generations (the first `generations`
//! of `genuq eval`'s sequence under `seed`) for each M, written as MODELS/reference_u.json and
//! recorded in the manifest. The demo and `genuq generate` turn them into percentiles.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::eval::generations::score;
use crate::manifest::{CLASSIFIER, Manifest, REFERENCE};
use crate::model::classifier::ClassifierConfig;
use crate::uncertainty::ReferenceTable;
use crate::uncertainty::load::load_generator;

#[derive(Debug, Clone, Args)]
pub struct ReferenceArgs {
    /// The folder with the models; reference_u.json is written there.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Reference generations (random classes).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(2..))]
    pub generations: u32,
    /// Seed of the classes, the noise and the weight samples (`genuq eval`'s sequence).
    #[arg(long, default_value_t = 2025)]
    pub seed: u32,
    /// Generations per GPU batch.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub batch: u32,
}

/// Points of each quantile table (every 0.1%).
const POINTS: usize = 1001;

pub fn run(args: &ReferenceArgs) -> anyhow::Result<()> {
    let device = burn::tensor::Device::flex();
    let generator = load_generator(&args.models)?.with_nets_on(&device);
    let path = args.models.join(CLASSIFIER);
    let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
    let classifier = crate::store::load(ClassifierConfig::new().init(&device), bytes, CLASSIFIER)?;
    let n = args.generations as usize;
    let scored = score(&generator, &classifier, n, args.seed, args.batch as usize)?;
    let table =
        ReferenceTable::from_scores(&scored.u.into_iter().collect::<BTreeMap<_, _>>(), POINTS);
    let text = serde_json::to_string(&table)? + "\n";
    let out = args.models.join(REFERENCE);
    std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
    Manifest::update(&args.models, |m| m.record_file(REFERENCE, text.as_bytes()))?;
    eprintln!("wrote {} over {n} generations", out.display());
    Ok(())
}
