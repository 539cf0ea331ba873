//! The evaluation's protocol (`genuq eval` parses its arguments into [`Options`] and calls
//! [`run`]): which score finds bad generations, and which ships? Every sampler variant (1, 2,
//! 4 steps; the weight samples acting at every step, the first or the last) scores the same
//! class-conditional generations, and an independent judge, the evaluation classifier, labels
//! them poor when it puts them in another class (`wrong_class`) or when their realism score in
//! its features is below 1 (`unrealistic`). Measured per class, so no score wins by singling
//! out a hard class: macro AUROC / AUPRC with bootstrap CIs over draws of weight samples.
//!
//! The steps, each returning one part of the report:
//! 1. [`setup`]: the models, the judge, the MAP images of every step count, judged;
//! 2. [`ablations`]: every variant at M = 8 on the first `--ablation-generations`;
//! 3. [`candidates`]: the one-step path and the best few-step variant on all generations;
//! 4. [`teacher_control`]: the paper's own setting (the teacher, its posterior, Heun);
//! 5. [`detection`]: the tables; 6. [`selection`]: the paired pick of what ships;
//! 7. [`floor`], [`flag`], [`global_filter`], [`quotas`], [`independence`]: the rest.
//!
//! Scores are cached in `--cache` (keyed by the models' hashes), one file per variant, draw
//! and size: a killed run loses at most the file in flight, and a rerun scores only what is
//! missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::tensor::Device;
use serde_json::{Value, json};

use super::cache::{cache_dir, cached_score};
use super::classify::{FEATURES, classify};
use super::floor::floor_report;
use super::generations::{MAIN_M, Scored, Variant, maps};
use super::judge::{Curve, RANDOM_DRAWS};
use super::methods::{CURVES, as_f64, methods};
use super::metrics::{Features, Manifold, fid};
use super::report::{DetectionTable, Report};
use super::tables::{
    Judged, NamedScore, Poor, detection_tables, head, judge_maps, quota_curve, sampler_scores,
    score_tables,
};
use crate::data::{self, Dataset, Split};
use crate::gpu::Compute;
use crate::manifest::{CLASSIFIER, Manifest};
use crate::model::classifier::{Classifier, ClassifierConfig};
use crate::uncertainty::load::load_generator;
use crate::uncertainty::{Generator, SAMPLE_COUNTS};

mod ablations;
mod filters;
mod shipping;
mod teacher_control;

use ablations::{ablations, candidates, posterior_ablation};
pub use filters::judge_errors_section;
use filters::{floor, global_filter, independence_section, judge_of, quotas};
use shipping::{Pickable, flag, pick_candidates, selection};
use teacher_control::{TeacherRun, distance_tables, teacher_control};

/// What the protocol runs on (the arguments of `genuq eval`, commands/eval.rs, documents each).
#[derive(Debug, Clone)]
pub struct Options {
    pub models: PathBuf,
    pub compute: Compute,
    pub generations: u32,
    pub keep: u32,
    pub ablation_generations: u32,
    pub weight_seeds: u32,
    pub steps: Vec<u32>,
    pub teacher_generations: u32,
    pub teacher_steps: u32,
    pub guidance: f32,
    pub teacher_examples: u32,
    pub seed: u32,
    pub batch: u32,
    pub out: PathBuf,
    pub cache: PathBuf,
    pub posteriors: Vec<PathBuf>,
}

/// Everything the steps share: the models, the judge, the judged MAP images per step count.
struct Setup {
    g: Generator,
    classifier: Classifier,
    device: Device,
    test: Dataset,
    real: Features,
    cache: PathBuf,
    /// The MAP images of all generations per step count, judged; their FID.
    judged: BTreeMap<usize, Judged>,
    fid: BTreeMap<usize, f64>,
    n: usize,
    n_abl: usize,
    draws: Vec<u32>,
}

impl Setup {
    /// The score of `v` on the first `n` generations, one per draw of weight samples.
    fn score(&self, v: Variant, n: usize, args: &Options) -> anyhow::Result<Vec<Scored>> {
        self.draws
            .iter()
            .map(|&w| {
                cached_score(
                    &self.g,
                    &self.cache,
                    v,
                    n,
                    args.seed,
                    w,
                    args.batch as usize,
                )
            })
            .collect()
    }

    fn wrong(&self, steps: usize) -> &[bool] {
        self.judged[&steps].poor(Poor::WrongClass)
    }

    fn classes(&self) -> &[usize] {
        &self
            .judged
            .values()
            .next()
            .expect("a step count")
            .maps
            .classes
    }
}

fn load_classifier(dir: &Path, device: &Device) -> anyhow::Result<Classifier> {
    let bytes = Manifest::read(dir)?.read_verified(dir, CLASSIFIER)?;
    Ok(crate::store::load(
        ClassifierConfig::new().init(device),
        bytes,
        CLASSIFIER,
    )?)
}

/// Step 1: the models, the judge and the MAP images of every step count, judged.
fn setup(args: &Options) -> anyhow::Result<Setup> {
    let (n, keep) = (args.generations as usize, args.keep as usize);
    anyhow::ensure!(
        keep < n,
        "--keep {keep} must be below the {n} generations (--generations): a filter drops some"
    );
    anyhow::ensure!(!args.steps.is_empty(), "--steps lists no step count");
    let device = Device::flex();
    let g = load_generator(&args.models, args.compute)?.with_nets_on(&device);
    anyhow::ensure!(
        g.class_text.is_some(),
        "{} lists no class_text.json: run `genuq class-text` first",
        args.models.join("manifest.json").display()
    );
    let classifier = load_classifier(&args.models, &device)?;
    let cache = cache_dir(&args.models, &args.cache)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let test = Dataset::load(&data::default_dir(), Split::Test)?;
    let (test_features, _) = classify(&classifier, &test.images, &device);
    let real = Features::new(&test_features, FEATURES);
    let manifold = Manifold::new(&real, 3);
    let (mut judged, mut fids) = (BTreeMap::new(), BTreeMap::new());
    for &s in &args.steps {
        let m = maps(
            &g,
            &classifier,
            s as usize,
            n,
            args.seed,
            args.batch as usize,
        )?;
        let j = judge_maps(m, &manifold);
        fids.insert(s as usize, fid(&j.features, &real));
        judged.insert(s as usize, j);
    }
    Ok(Setup {
        g,
        classifier,
        device,
        test,
        real,
        cache,
        judged,
        fid: fids,
        n,
        n_abl: (args.ablation_generations as usize).min(n),
        draws: (0..args.weight_seeds)
            .map(|k| args.seed.wrapping_add(k))
            .collect(),
    })
}

/// Step 5: the detection tables: the ablations (each step count, with the teacher distance
/// where the teacher ran), the candidates on all generations, and the teacher's own u.
fn detection_section(
    s: &Setup,
    ablations: &[(Variant, Vec<Scored>)],
    full: &[(Variant, Vec<Scored>)],
    teacher: Option<&TeacherRun>,
    posteriors: Vec<NamedScore>,
    seed: u32,
) -> Vec<DetectionTable> {
    let mut posteriors = Some(posteriors);
    let mut out = Vec::new();
    for (v, draws) in full {
        let samplers = [(*v, draws.as_slice(), &SAMPLE_COUNTS[..])];
        out.extend(detection_tables(
            &s.judged[&v.steps],
            s.n,
            &samplers,
            Vec::new(),
            seed,
        ));
    }
    for (&steps, j) in &s.judged {
        let samplers: Vec<(Variant, &[Scored], &[usize])> = ablations
            .iter()
            .filter(|(v, _)| v.steps == steps)
            .map(|(v, d)| (*v, d.as_slice(), &[MAIN_M][..]))
            .collect();
        let extra: Vec<NamedScore> = match steps {
            1 => posteriors.take().unwrap_or_default(),
            _ => Vec::new(),
        };
        if let (Some(t), Some((v, d, _))) = (teacher, samplers.first()) {
            out.extend(distance_tables(j, t, v, &d[0], seed));
        }
        out.extend(detection_tables(j, s.n_abl, &samplers, extra, seed));
    }
    if let Some(t) = teacher {
        let n = t.judged.maps.classes.len();
        let v = Variant {
            steps: t.steps,
            perturb: crate::uncertainty::Perturb::All,
            max_samples: MAIN_M,
        };
        let mut scores = sampler_scores(&v, std::slice::from_ref(&t.scored), &[5, MAIN_M], n);
        for row in &mut scores {
            row.0 = format!("{}_teacher", row.0);
        }
        out.extend(score_tables(&t.judged, n, &scores, seed));
    }
    out
}

/// The report's sections beside the tables: what ships and why, the flag, the floor, the global
/// filter, the judge's independence, FID and the teacher control.
fn sections(
    s: &Setup,
    args: &Options,
    full: &[(Variant, Vec<Scored>)],
    pick_from: &[Pickable],
    teacher: Option<&TeacherRun>,
    (selection, shipped): (Value, Value),
) -> anyhow::Result<serde_json::Map<String, Value>> {
    let flag = flag(
        s,
        pick_from,
        selection["shipped"].as_str().unwrap_or_default(),
    );
    let keep = args.keep as usize;
    let mut sections = serde_json::Map::new();
    sections.insert("shipped".into(), shipped);
    sections.insert("selection".into(), selection);
    sections.insert("flag".into(), flag);
    sections.insert("floor".into(), floor(s, full, args.seed));
    sections.insert(
        "global_filter".into(),
        global_filter(s, full, keep, args.seed),
    );
    sections.insert("judge_independence".into(), independence_section(s)?);
    sections.insert("fid".into(), json!(s.fid));
    if let Some(t) = teacher {
        sections.insert("u_teacher".into(), json!({
            "steps": t.steps, "guidance": args.guidance, "generations": t.judged.maps.classes.len(),
            "posterior": {"curvature": format!("{:?}", t.posterior.curvature), "prior_precision": t.posterior.prior_precision, "examples": t.posterior.examples},
            "wrong_class": t.judged.maps.wrong_class().iter().filter(|&&w| w).count(),
        }));
    }
    Ok(sections)
}

/// The per-class-quota curve of u (M = 8) of every ablation, on its step count's judge.
fn quota_curves(s: &Setup, ablations: &[(Variant, Vec<Scored>)]) -> Vec<(String, Curve)> {
    s.judged
        .iter()
        .flat_map(|(&steps, j)| {
            ablations
                .iter()
                .filter(move |(v, _)| v.steps == steps)
                .map(|(v, d)| {
                    (
                        format!("{} (M = {MAIN_M})", v.name()),
                        quota_curve(j, s.n_abl, &head(&as_f64(&d[0].u[&MAIN_M]), s.n_abl)),
                    )
                })
        })
        .collect()
}

/// The protocol's run: every step, then eval.json, its figures and its summary in `args.out`.
pub fn run(args: &Options) -> anyhow::Result<()> {
    let s = setup(args)?;
    let ablations = ablations(&s, args)?;
    let full = candidates(&s, &ablations, args)?;
    let teacher = teacher_control(&s, args)?;
    let posteriors = posterior_ablation(&s, args)?;
    let detection = detection_section(
        &s,
        &ablations,
        &full,
        teacher.as_ref(),
        posteriors,
        args.seed,
    );
    let pick_from = pick_candidates(&s, &full);
    let (selection, shipped) = selection(&s, &pick_from, teacher.as_ref(), args.seed);
    let shipped_name = selection["shipped"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let keep = args.keep as usize;
    let (v, draws) = full
        .iter()
        .find(|(v, _)| Some(v.steps as u64) == shipped["steps"].as_u64())
        .unwrap_or(&full[0]);
    let j = &s.judged[&v.steps];
    let sections = sections(
        &s,
        args,
        &full,
        &pick_from,
        teacher.as_ref(),
        (selection, shipped),
    )?;
    let quota = quotas(&s, &full, keep, args.seed);
    let curves_judge = judge_of(j, &s.real);
    let all_methods = methods(&j.maps, &draws[0], &j.radius_ratio, args.seed, keep);
    let curves = CURVES
        .into_iter()
        .filter_map(|(name, label)| {
            let (_, score) = all_methods.iter().find(|(m, _)| m == name)?;
            Some((name, label, curves_judge.curve(score)))
        })
        .collect();
    let quota_curves = quota_curves(&s, &ablations);
    let report = Report {
        maps: &j.maps,
        scored: &draws[0],
        spread: curves_judge.random_spread(args.seed, keep, RANDOM_DRAWS),
        curves,
        floor: floor_report(&draws[0].embedding_variance, draws[0].dims),
        detection,
        quota: quota[0].clone(),
        quota_other: quota[1..].to_vec(),
        quota_curves,
        shipped: shipped_name,
        keep,
        seed: args.seed,
        weight_seeds: s.draws.clone(),
        sections,
    };
    report.write_json(&args.out)?;
    report.write_figures(&args.out)?;
    report.print(&args.out);
    Ok(())
}
