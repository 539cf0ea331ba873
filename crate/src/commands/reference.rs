//! `genuq reference`: the quantiles of u (per M) and of the class-space scores (at M = 8) over
//! reference generations, per class, for every sampler the demo offers (1, 2, 4 steps; every
//! placement of the weight samples), and the flag `genuq eval` found for the shipped score,
//! written as MODELS/reference_u.json and recorded in the manifest. The demo, the widget and the
//! CLI turn them into "more uncertain than P% of <class> generations". The generations are the
//! first of `genuq eval`'s sequence, each scored the live way: its own weight samples, drawn
//! from its own seed as `generate` draws them (the evaluation's cached scores share one draw
//! across all generations, which shifted u's quantiles: live percentiles averaged 66).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::data::NUM_CLASSES;
use crate::eval::generations::{EVAL_SEED, MAIN_M, Scored, Variant, class_of, noise_seed};
use crate::eval::tables::ablation_variants;
use crate::gpu::Compute;
use crate::manifest::{Manifest, REFERENCE};
use crate::uncertainty::Generator;
use crate::uncertainty::load::load_generator;
use crate::uncertainty::reference::{Flag, HeatmapScale, Key, ReferenceTable, ScoreName};
use crate::uncertainty::{Perturb, SAMPLE_COUNTS, STEPS};

#[derive(Debug, Clone, Args)]
pub struct ReferenceArgs {
    /// Where the kernels run: `auto` (the wgpu adapter if it is a hardware one, else the CPU
    /// path), `webgpu` (our WGSL on the wgpu adapter, whatever it is) or `cpu` (their Rust
    /// twins on burn's CPU backend; the same numbers within float noise).
    #[arg(long, value_enum, default_value_t = Compute::Auto)]
    pub compute: Compute,
    /// The folder with the models; reference_u.json is written there.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Reference generations per step count (random classes).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(20..))]
    pub generations: u32,
    /// Seed of the classes, the noise and the weight samples (`genuq eval`'s).
    #[arg(long, default_value_t = EVAL_SEED)]
    pub seed: u32,
    /// Generations per batch (of the plain sampler, for realism).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub batch: u32,
    /// `genuq eval`'s report, whose flag (threshold and precision of the shipped score) the
    /// table carries.
    #[arg(long, default_value = "reports/eval.json")]
    pub eval: PathBuf,
}

/// Points of each quantile table (every 1%).
const POINTS: usize = 101;

/// The 95th percentile (nearest rank).
fn percentile_95(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * 0.95).round() as usize]
}

/// The class-space scores' columns of `scored` (at M = 8) by score name.
fn class_columns(scored: &Scored) -> Vec<(ScoreName, Vec<f32>)> {
    let c = &scored.class;
    let flip = |v: &[f32]| v.iter().map(|p| 1.0 - p).collect::<Vec<f32>>();
    vec![
        (ScoreName::ClipMargin, flip(&c.probability)),
        (ScoreName::ClassPredictive, flip(&c.predictive)),
        (ScoreName::ClassBald, c.bald.clone()),
        (ScoreName::ClassEntropy, c.entropy.clone()),
    ]
}

/// The `n` reference generations of `variant` scored the live way: generation i with its own
/// weight samples (drawn from its noise seed, as [`Generator::generate`] draws them).
fn live_scored(g: &Generator, variant: Variant, n: usize, seed: u32) -> anyhow::Result<Scored> {
    let counts = variant.sample_counts();
    let s = variant.max_samples + 1;
    let mut out = Scored {
        variant: Some(variant),
        weight_seed: seed,
        ..Scored::default()
    };
    let bar = indicatif::ProgressBar::new(n as u64);
    bar.set_message(format!("{} (each its own weight samples)", variant.name()));
    for i in 0..n {
        let (class, z) = (class_of(seed, i), noise_seed(seed, i));
        let t = g.trajectories(&[class], &[z], s, z, variant.steps, variant.perturb)?;
        let images = t.images.reshape([1, s, crate::data::PIXELS]);
        out.append(g, images, &[class], &counts, None)?;
        bar.inc(1);
    }
    bar.finish();
    Ok(out)
}

/// The realism scores of the MAP images of the `n` reference generations (the plain sampler at
/// `steps` steps), or `None` without the encoder.
fn realism_column(
    g: &Generator,
    steps: usize,
    n: usize,
    seed: u32,
    batch: usize,
) -> anyhow::Result<Option<Vec<f32>>> {
    let Some(r) = &g.realism else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(batch.max(1)) {
        let b = batch.min(n - start);
        let classes: Vec<usize> = (start..start + b).map(|i| class_of(seed, i)).collect();
        let seeds: Vec<u32> = (start..start + b).map(|i| noise_seed(seed, i)).collect();
        let images = g.plain_batch(&classes, &seeds, steps)?;
        let codes: Vec<f32> = r.embed(images).into_data().iter::<f32>().collect();
        out.extend(r.scores(&codes));
    }
    Ok(Some(out))
}

/// The quantile tables of `scores` (per generation, classes `classes`) under `key`: over all
/// classes and per class.
fn tables_of(key: Key, scores: &[f32], classes: &[usize]) -> Vec<(Key, Vec<f32>)> {
    let mut out = vec![(key, scores.to_vec())];
    for c in 0..NUM_CLASSES {
        let mine = scores
            .iter()
            .zip(classes)
            .filter(|(_, k)| **k == c)
            .map(|(v, _)| *v)
            .collect();
        out.push((
            Key {
                class: Some(c),
                ..key
            },
            mine,
        ));
    }
    out
}

/// The flag `genuq eval` found (reports/eval.json: "shipped", "flag"), if any. The pick by
/// eye (`by_eye.pick`, `genuq eval --labels`) overrules the classifier judge's: where the
/// labels back no flag there is none.
fn flag_of(eval: &Path) -> anyhow::Result<Option<Flag>> {
    let text = std::fs::read_to_string(eval).with_context(|| eval.display().to_string())?;
    let report: serde_json::Value = serde_json::from_str(&text)?;
    let by_eye = &report[crate::eval::by_eye::SECTION]["pick"];
    if by_eye.is_object() {
        anyhow::ensure!(
            by_eye["flag"].is_null(),
            "eval.json: a flag by eye is picked, which the browser cannot show yet"
        );
        return Ok(None);
    }
    let (shipped, chosen) = (&report["shipped"], &report["flag"]["flag"]);
    if chosen.is_null() {
        return Ok(None);
    }
    let score = shipped["method"]
        .as_str()
        .and_then(ScoreName::parse)
        .context("eval.json: the shipped method is not a score the browser computes")?;
    let perturb = shipped["perturb"]
        .as_str()
        .and_then(Perturb::parse)
        .unwrap_or(Perturb::All);
    let number = |v: &serde_json::Value, what: &str| {
        v.as_f64()
            .with_context(|| format!("eval.json: flag.{what} is not a number"))
    };
    Ok(Some(Flag {
        score,
        steps: shipped["steps"].as_u64().unwrap_or(1) as usize,
        perturb,
        threshold: number(&chosen["threshold"], "threshold")? as f32,
        precision: number(&chosen["precision"], "precision")? as f32,
        recall: number(&chosen["recall"], "recall")? as f32,
        generations: report["flag"]["generations"].as_u64().unwrap_or(0) as usize,
    }))
}

pub fn run(args: &ReferenceArgs) -> anyhow::Result<()> {
    let device = burn::tensor::Device::flex();
    let g = load_generator(&args.models, args.compute)?.with_nets_on(&device);
    let n = args.generations as usize;
    let classes: Vec<usize> = (0..n).map(|i| class_of(args.seed, i)).collect();
    let mut entries = Vec::new();
    let mut scales = Vec::new();
    let steps: Vec<u32> = STEPS.iter().map(|&s| s as u32).collect();
    let mut realism = std::collections::BTreeMap::new();
    for &s in &STEPS {
        let column = realism_column(&g, s, n, args.seed, args.batch as usize)?;
        realism.insert(s, column);
    }
    for v in ablation_variants(&steps) {
        let variant = Variant {
            max_samples: SAMPLE_COUNTS[SAMPLE_COUNTS.len() - 1],
            ..v
        };
        let scored = live_scored(&g, variant, n, args.seed)?;
        let max_std: Vec<f64> = scored.max_std.iter().map(|&v| v as f64).collect();
        scales.push(HeatmapScale {
            steps: v.steps,
            perturb: v.perturb,
            std: percentile_95(max_std) as f32,
        });
        let key = |score, samples| Key {
            score,
            steps: v.steps,
            perturb: v.perturb,
            samples,
            class: None,
        };
        for (&samples, u) in &scored.u {
            entries.extend(tables_of(key(ScoreName::U, samples), u, &classes));
        }
        for (score, column) in class_columns(&scored) {
            entries.extend(tables_of(key(score, MAIN_M), &column, &classes));
        }
        if let Some(Some(column)) = realism.get(&v.steps) {
            entries.extend(tables_of(key(ScoreName::Realism, MAIN_M), column, &classes));
        }
    }
    let mut table = ReferenceTable::from_scores(n, &entries, POINTS)?;
    table.heatmap_scales = scales;
    table.flag = flag_of(&args.eval)?;
    let text = serde_json::to_string(&table)? + "\n";
    let out = args.models.join(REFERENCE);
    std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
    Manifest::update(&args.models, |m| m.record_file(REFERENCE, text.as_bytes()))?;
    eprintln!(
        "wrote {} ({} tables over {n} generations per sampler; flag: {:?})",
        out.display(),
        entries.len(),
        table.flag
    );
    Ok(())
}
