//! `genuq reference`: the quantiles of u over reference generations, per class, step count and
//! M, for the placement of the weight samples that ships (`uncertainty::DEFAULT_PERTURB`),
//! written as MODELS/reference_u.json and recorded in the manifest. The demo, the widget and the
//! CLI turn them into "more uncertain than P% of <class> generations". The generations are the
//! first of `genuq eval`'s sequence, so scores it cached are reused.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::data::NUM_CLASSES;
use crate::eval::generations::{Variant, cache_dir, cached_score, class_of};
use crate::gpu::Compute;
use crate::manifest::{Manifest, REFERENCE};
use crate::uncertainty::load::load_generator;
use crate::uncertainty::reference::{HeatmapScale, Key, ReferenceTable};
use crate::uncertainty::{DEFAULT_PERTURB, SAMPLE_COUNTS, STEPS};

#[derive(Debug, Clone, Args)]
pub struct ReferenceArgs {
    /// The folder with the models; reference_u.json is written there.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Reference generations per step count (random classes).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(20..))]
    pub generations: u32,
    /// Seed of the classes, the noise and the weight samples (`genuq eval`'s).
    #[arg(long, default_value_t = 2025)]
    pub seed: u32,
    /// Generations per batch.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub batch: u32,
    /// Where scores are kept between runs (shared with `genuq eval`).
    #[arg(long, default_value = "runs/eval")]
    pub cache: PathBuf,
}

/// Points of each quantile table (every 1%).
const POINTS: usize = 101;

/// The 95th percentile (nearest rank).
fn percentile_95(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * 0.95).round() as usize]
}

pub fn run(args: &ReferenceArgs) -> anyhow::Result<()> {
    let device = burn::tensor::Device::flex();
    let g = load_generator(&args.models, Compute::WebGpu)?.with_nets_on(&device);
    let cache = cache_dir(&args.models, &args.cache)?;
    let n = args.generations as usize;
    let classes: Vec<usize> = (0..n).map(|i| class_of(args.seed, i)).collect();
    let mut entries = Vec::new();
    let mut scales = Vec::new();
    for steps in STEPS {
        let variant = Variant {
            steps,
            perturb: DEFAULT_PERTURB,
            max_samples: SAMPLE_COUNTS[SAMPLE_COUNTS.len() - 1],
        };
        let scored = cached_score(
            &g,
            &cache,
            variant,
            n,
            args.seed,
            args.seed,
            args.batch as usize,
        )?;
        let max_std: Vec<f64> = scored.max_std.iter().map(|&v| v as f64).collect();
        anyhow::ensure!(
            max_std.len() == n,
            "the cached scores in {} predate max_std: delete them",
            cache.display()
        );
        scales.push(HeatmapScale {
            steps,
            perturb: DEFAULT_PERTURB,
            std: percentile_95(max_std) as f32,
        });
        for (&samples, u) in &scored.u {
            let key = |class| Key {
                steps,
                perturb: DEFAULT_PERTURB,
                samples,
                class,
            };
            entries.push((key(None), u.clone()));
            for c in 0..NUM_CLASSES {
                let mine = u
                    .iter()
                    .zip(&classes)
                    .filter(|(_, k)| **k == c)
                    .map(|(v, _)| *v)
                    .collect();
                entries.push((key(Some(c)), mine));
            }
        }
    }
    let mut table = ReferenceTable::from_scores(n, &entries, POINTS)?;
    table.heatmap_scales = scales;
    let text = serde_json::to_string(&table)? + "\n";
    let out = args.models.join(REFERENCE);
    std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
    Manifest::update(&args.models, |m| m.record_file(REFERENCE, text.as_bytes()))?;
    eprintln!(
        "wrote {} ({} tables over {n} generations per step count)",
        out.display(),
        entries.len()
    );
    Ok(())
}
