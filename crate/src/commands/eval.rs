//! `genuq eval`: does u find bad generations? Every sampler variant (1, 2, 4 steps; the weight
//! samples acting at every step, the first or the last) scores the same class-conditional
//! generations, and an independent judge, the evaluation classifier, labels them poor when it
//! puts them in another class (`wrong_class`) or when their realism score in its features is
//! below 1 (`unrealistic`). Measured per class, so no score wins by singling out a hard class:
//! macro AUROC / AUPRC with bootstrap CIs over several draws of weight samples, and a filter
//! that drops the same share of every class (per-class quotas), against random quotas.
//!
//! The ablations (every variant at M = 8) score the first `--ablation-generations`; the variant
//! with the best wrong-class AUROC is the one that ships. It scores all generations at M = 8
//! (and the ablation generations at M = 2, 5, 16), and so does the best variant of the other
//! kind (more steps if the one-step path ships, else the one-step path), so the choice is
//! compared on all generations; the paper's global cut is on top.
//! Scores are cached in `--cache` (keyed by the models' hashes), so a rerun scores only what is
//! missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::data::{self, Dataset, Split};
use crate::eval::classify::{FEATURES, classify};
use crate::eval::detect::detection;
use crate::eval::floor::floor_report;
use crate::eval::generations::{MAIN_M, Scored, Variant, cache_dir, cached_score, maps};
use crate::eval::judge::{Judge, RANDOM_DRAWS, Row};
use crate::eval::methods::{CURVES, as_f64, methods, random_scores, unconfidence};
use crate::eval::metrics::{Features, Manifold};
use crate::eval::report::{DetectionRow, Report};
use crate::eval::tables::{
    Judged, ablation_variants, detection_tables, head, judge_maps, quota_curve, quota_table,
};
use crate::gpu::Compute;
use crate::manifest::CLASSIFIER;
use crate::model::classifier::{Classifier, ClassifierConfig};
use crate::posterior::Posterior;
use crate::uncertainty::SAMPLE_COUNTS;
use crate::uncertainty::load::load_generator;

#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// The folder with the models and their manifest.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Class-conditional generations to score (random classes).
    #[arg(long, default_value_t = 12_032, value_parser = clap::value_parser!(u32).range(20..))]
    pub generations: u32,
    /// How many generations each filter keeps.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(2..))]
    pub keep: u32,
    /// Generations the ablations score (the first of the sequence).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(20..))]
    pub ablation_generations: u32,
    /// Draws of weight samples the ablations repeat over (weight seeds SEED, SEED + 1, ...).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub weight_seeds: u32,
    /// The student's step counts to compare.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4", value_parser = clap::value_parser!(u32).range(1..=16))]
    pub steps: Vec<u32>,
    /// Seed of the classes, the noise and the first draw of weight samples.
    #[arg(long, default_value_t = 2025)]
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
    /// --curvature ggn --out F`) whose u the shipped variant also scores on the ablation
    /// generations (one draw of weight samples each): the posterior's ablations.
    #[arg(long, value_delimiter = ',')]
    pub posteriors: Vec<PathBuf>,
}

fn load_classifier(dir: &Path, device: &burn::tensor::Device) -> anyhow::Result<Classifier> {
    let path = dir.join(CLASSIFIER);
    let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
    Ok(crate::store::load(
        ClassifierConfig::new().init(device),
        bytes,
        CLASSIFIER,
    )?)
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let (n, keep) = (args.generations as usize, args.keep as usize);
    let n_abl = (args.ablation_generations as usize).min(n);
    anyhow::ensure!(
        keep <= n,
        "--keep {keep} is more than the {n} generations (--generations)"
    );
    anyhow::ensure!(!args.steps.is_empty(), "--steps lists no step count");
    let keep_share = keep as f64 / n as f64;
    let keep_abl = (n_abl as f64 * keep_share).round() as usize;
    // The networks on burn's CPU backend (about 10x lavapipe's speed on this kind of machine),
    // our kernels on the wgpu device.
    let device = burn::tensor::Device::flex();
    let g = load_generator(&args.models, Compute::WebGpu)?.with_nets_on(&device);
    let classifier = load_classifier(&args.models, &device)?;
    let cache = cache_dir(&args.models, &args.cache)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let test = Dataset::load(&data::default_dir(), Split::Test)?;
    let (test_features, _) = classify(&classifier, &test.images, &device);
    let real = Features::new(&test_features, FEATURES);
    let manifold = Manifold::new(&real, 3);

    let mut judged: BTreeMap<usize, Judged> = BTreeMap::new();
    for &s in &args.steps {
        let m = maps(
            &g,
            &classifier,
            s as usize,
            n,
            args.seed,
            args.batch as usize,
        )?;
        judged.insert(s as usize, judge_maps(m, &manifold));
    }
    let weight_seeds: Vec<u32> = (0..args.weight_seeds)
        .map(|k| args.seed.wrapping_add(k))
        .collect();

    // The ablations: every variant at M = 8 on the first generations, over the weight seeds.
    let mut ablations: Vec<(Variant, Vec<Scored>)> = Vec::new();
    for v in ablation_variants(&args.steps) {
        let draws = weight_seeds
            .iter()
            .map(|&w| cached_score(&g, &cache, v, n_abl, args.seed, w, args.batch as usize))
            .collect::<anyhow::Result<Vec<_>>>()?;
        ablations.push((v, draws));
    }
    let wrong_auroc = |v: &Variant, draws: &[Scored]| {
        let j = &judged[&v.steps];
        let d: Vec<Vec<f64>> = draws.iter().map(|s| as_f64(&s.u[&MAIN_M])).collect();
        detection(
            &d,
            &j.labels[0].2[..n_abl],
            &j.maps.classes[..n_abl],
            args.seed,
        )
        .macro_auroc
    };
    let aurocs: Vec<(Variant, f64)> = ablations
        .iter()
        .map(|(v, d)| (*v, wrong_auroc(v, d)))
        .collect();
    let best = |few_steps: Option<bool>| {
        aurocs
            .iter()
            .filter(|(v, _)| few_steps.is_none_or(|few| (v.steps > 1) == few))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(v, _)| *v)
    };
    let shipped_variant = best(None).context("no variant to compare")?;
    eprintln!("the ablations pick {}", shipped_variant.name());
    // The best variant of the other kind (more steps if the one-step path ships, else the
    // one-step path) scores all generations too: the shipped choice against it, on all of them.
    let contender_variant = best(Some(shipped_variant.steps == 1));

    // The shipped variant at M = 2, 5, 16 too (nested in one draw of 16) on the ablation
    // generations; at M = 8 on all generations, with the contender beside it.
    let largest = SAMPLE_COUNTS[SAMPLE_COUNTS.len() - 1];
    let shipped_every_m = Variant {
        max_samples: largest,
        ..shipped_variant
    };
    let every_m = cached_score(
        &g,
        &cache,
        shipped_every_m,
        n_abl,
        args.seed,
        args.seed,
        args.batch as usize,
    )?;
    let all_generations =
        |v: Variant| cached_score(&g, &cache, v, n, args.seed, args.seed, args.batch as usize);
    let shipped = all_generations(shipped_variant)?;
    let contender = contender_variant
        .map(|v| all_generations(v).map(|s| (v, s)))
        .transpose()?;

    // The posterior's ablations: the shipped variant with each other posterior.
    let mut alternatives = Vec::new();
    for path in &args.posteriors {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        let posterior = Posterior::parse(&text, g.head.layout)?;
        let key = &crate::manifest::sha256_hex(text.as_bytes())[..8];
        let alt = g.clone().with_posterior(&posterior)?;
        let scored = cached_score(
            &alt,
            &cache.join(key),
            shipped_variant,
            n_abl,
            args.seed,
            args.seed,
            args.batch as usize,
        )?;
        let name = format!(
            "{:?}, prior {:.3} ({})",
            posterior.curvature,
            posterior.prior_precision,
            path.file_name().and_then(|f| f.to_str()).unwrap_or("?")
        );
        alternatives.push((name, scored));
    }

    let mut detection_out = Vec::new();
    let js = &judged[&shipped_variant.steps];
    detection_out.extend(detection_tables(
        js,
        n,
        &[(shipped_variant, std::slice::from_ref(&shipped), &[MAIN_M])],
        args.seed,
    ));
    if let Some((v, scored)) = &contender {
        detection_out.extend(detection_tables(
            &judged[&v.steps],
            n,
            &[(*v, std::slice::from_ref(scored), &[MAIN_M])],
            args.seed,
        ));
    }
    let other_m: Vec<usize> = SAMPLE_COUNTS.into_iter().filter(|&m| m != MAIN_M).collect();
    for (&s, j) in &judged {
        let mut samplers: Vec<(Variant, &[Scored], &[usize])> = ablations
            .iter()
            .filter(|(v, _)| v.steps == s)
            .map(|(v, d)| (*v, d.as_slice(), &[MAIN_M][..]))
            .collect();
        if s == shipped_variant.steps {
            samplers.push((shipped_every_m, std::slice::from_ref(&every_m), &other_m));
        }
        let mut tables = detection_tables(j, n_abl, &samplers, args.seed);
        if s == shipped_variant.steps {
            for (name, scored) in &alternatives {
                let u = vec![head(&as_f64(&scored.u[&MAIN_M]), n_abl)];
                for table in tables.iter_mut() {
                    let (_, _, flags) = j
                        .labels
                        .iter()
                        .find(|l| l.0 == table.label)
                        .expect("a label");
                    table.rows.push(DetectionRow {
                        method: format!("genuq, posterior {name}"),
                        steps: s,
                        perturb: (s > 1).then(|| shipped_variant.perturb.name().to_string()),
                        samples: Some(MAIN_M),
                        generations: n_abl,
                        detection: detection(
                            &u,
                            &flags[..n_abl],
                            &j.maps.classes[..n_abl],
                            args.seed,
                        ),
                    });
                }
            }
        }
        detection_out.extend(tables);
    }

    // The per-class-quota filter: all generations of the shipped steps, the one-step path, and
    // each variant on the ablation generations.
    let sampler_rows = |s: &Scored, v: &Variant, n: usize| -> Vec<(String, Vec<f64>)> {
        let mut rows: Vec<(String, Vec<f64>)> =
            s.u.iter()
                .map(|(m, u)| (format!("genuq {} M={m}", v.name()), head(&as_f64(u), n)))
                .collect();
        rows.push((
            format!("pixel_variance {} M={MAIN_M}", v.name()),
            head(&as_f64(&s.pixel_variance), n),
        ));
        rows
    };
    let references = |j: &Judged, s: &Scored, n: usize| {
        vec![
            ("feature_rms".to_string(), head(&as_f64(&s.feature_rms), n)),
            (
                "classifier_confidence (reference)".to_string(),
                head(&unconfidence(&j.maps), n),
            ),
            (
                "manifold_oracle (reference)".to_string(),
                head(&j.radius_ratio, n),
            ),
        ]
    };
    let mut rows = sampler_rows(&shipped, &shipped_variant, n);
    rows.extend(references(js, &shipped, n));
    let quota = quota_table(js, n, keep, &rows, &real, args.seed);
    let mut quota_other = Vec::new();
    if let Some((v, scored)) = &contender {
        let j = &judged[&v.steps];
        let mut rows = sampler_rows(scored, v, n);
        rows.extend(references(j, scored, n));
        quota_other.push(quota_table(j, n, keep, &rows, &real, args.seed));
    }
    let mut quota_curves = Vec::new();
    for (&s, j) in &judged {
        let mut rows = Vec::new();
        for (v, draws) in ablations.iter().filter(|(v, _)| v.steps == s) {
            rows.extend(
                sampler_rows(&draws[0], v, n_abl)
                    .into_iter()
                    .filter(|(name, _)| name.contains(&format!("M={MAIN_M}"))),
            );
            let u = head(&as_f64(&draws[0].u[&MAIN_M]), n_abl);
            quota_curves.push((
                format!("{} (M = {MAIN_M})", v.name()),
                quota_curve(j, n_abl, &u),
            ));
        }
        if let Some((_, draws)) = ablations.iter().find(|(v, _)| v.steps == s) {
            rows.extend(references(j, &draws[0], n_abl));
        }
        quota_other.push(quota_table(j, n_abl, keep_abl, &rows, &real, args.seed));
    }
    if let Some(j) = judged.values().next() {
        let random = random_scores(args.seed, 0, n_abl);
        quota_curves.push(("random".into(), quota_curve(j, n_abl, &random)));
    }

    // The paper's protocol on the shipped variant: a global cut by each method.
    let radius_ratio = &js.radius_ratio;
    let judge = Judge {
        inside: js.inside.clone(),
        real: &real,
        generated: Features::new(&js.maps.features, FEATURES),
        wrong: js.maps.wrong_class(),
        classes: &js.maps.classes,
    };
    let methods = methods(&js.maps, &shipped, radius_ratio, args.seed, keep);
    let protocol_rows: Vec<Row> = methods
        .iter()
        .map(|(name, score)| judge.row(name, score, keep))
        .collect();
    let curves = CURVES
        .into_iter()
        .filter_map(|(name, label)| {
            let (_, score) = methods.iter().find(|(m, _)| m == name)?;
            Some((name, label, judge.curve(score)))
        })
        .collect();
    let report = Report {
        maps: &js.maps,
        scored: &shipped,
        rows: protocol_rows,
        spread: judge.random_spread(args.seed, keep, RANDOM_DRAWS),
        curves,
        floor: floor_report(&shipped.embedding_variance, shipped.dims),
        detection: detection_out,
        quota,
        quota_other,
        quota_curves,
        shipped: format!("{}, M = {MAIN_M}", shipped_variant.name()),
        keep,
        seed: args.seed,
        weight_seeds,
    };
    report.write_json(&args.out)?;
    report.write_figures(&args.out)?;
    report.print(&args.out);
    Ok(())
}
