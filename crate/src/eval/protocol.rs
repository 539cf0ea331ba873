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

use super::classify::{FEATURES, classify};
use super::detect::detection;
use super::floor::{Embeddings, floor_report, floor_sweep};
use super::generations::{MAIN_M, Scored, Variant, cache_dir, cached_score, judge_images, maps};
use super::independence::{clip_predictions, independence, judge_errors, real_class_scores};
use super::judge::{Curve, Judge, RANDOM_DRAWS};
use super::methods::{CURVES, as_f64, methods, random_scores, unconfidence};
use super::metrics::{Features, Manifold, fid};
use super::paired::{Candidate, Paired, paired, pick};
use super::report::{DetectionTable, Report};
use super::tables::{
    Judged, NamedScore, ablation_variants, detection_tables, head, judge_maps, quota_curve,
    quota_table, sampler_scores, score_tables,
};
use super::teacher::{Teacher, cached_posterior, cached_teacher};
use crate::data::{self, Dataset, Split};
use crate::gpu::Compute;
use crate::manifest::{CLASSIFIER, Manifest, TEACHER};
use crate::model::UNetConfig;
use crate::model::classifier::{Classifier, ClassifierConfig};
use crate::posterior::Posterior;
use crate::uncertainty::load::load_generator;
use crate::uncertainty::{Generator, SAMPLE_COUNTS};

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
        &self.judged[&steps].labels[0].2
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

/// Step 2: every variant at M = 8 on the ablation generations, every draw.
fn ablations(s: &Setup, args: &Options) -> anyhow::Result<Vec<(Variant, Vec<Scored>)>> {
    ablation_variants(&args.steps)
        .into_iter()
        .map(|v| Ok((v, s.score(v, s.n_abl, args)?)))
        .collect()
}

/// The posteriors' ablation: u of the one-step path with each other posterior of the last
/// layer on the ablation generations (one draw each), as rows `genuq, posterior NAME`.
fn posterior_ablation(s: &Setup, args: &Options) -> anyhow::Result<Vec<NamedScore>> {
    let v = Variant {
        steps: 1,
        perturb: crate::uncertainty::Perturb::All,
        max_samples: MAIN_M,
    };
    let mut rows = Vec::new();
    for path in &args.posteriors {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        let posterior = Posterior::parse(&text, s.g.head.layout)?;
        let key = &crate::manifest::sha256_hex(text.as_bytes())[..8];
        let alt = s.g.clone().with_posterior(&posterior)?;
        let scored = cached_score(
            &alt,
            &s.cache.join(key),
            v,
            s.n_abl,
            args.seed,
            args.seed,
            args.batch as usize,
        )?;
        let name = format!(
            "genuq, posterior {:?}, prior {:.3} ({})",
            posterior.curvature,
            posterior.prior_precision,
            path.file_name().and_then(|f| f.to_str()).unwrap_or("?")
        );
        rows.push((name, None, Some(MAIN_M), vec![as_f64(&scored.u[&MAIN_M])]));
    }
    Ok(rows)
}

/// The wrong-class macro AUROC of u (M = 8) of `v`'s draws on the first `n` generations.
fn u_auroc(s: &Setup, v: &Variant, draws: &[Scored], n: usize, seed: u32) -> f64 {
    let d: Vec<Vec<f64>> = draws
        .iter()
        .map(|x| head(&as_f64(&x.u[&MAIN_M]), n))
        .collect();
    detection(&d, &s.wrong(v.steps)[..n], &s.classes()[..n], seed).macro_auroc
}

/// Step 3: the candidates to ship, on all generations: the one-step path (the cheapest) and the
/// few-step variant whose u detects best on the ablations.
fn candidates(
    s: &Setup,
    ablations: &[(Variant, Vec<Scored>)],
    args: &Options,
) -> anyhow::Result<Vec<(Variant, Vec<Scored>)>> {
    let best_few = ablations
        .iter()
        .filter(|(v, _)| v.steps > 1)
        .map(|(v, d)| (*v, u_auroc(s, v, d, s.n_abl, args.seed)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(v, _)| v);
    let one = ablations
        .iter()
        .find(|(v, _)| v.steps == 1)
        .map(|(v, _)| *v);
    one.into_iter()
        .chain(best_few)
        .map(|v| Ok((v, s.score(v, s.n, args)?)))
        .collect()
}

/// The teacher's run: its judged MAP images and its scores.
struct TeacherRun {
    judged: Judged,
    scored: Scored,
    posterior: Posterior,
    steps: usize,
}

/// Step 4: the paper's own setting, the teacher with its own posterior (None without
/// `--teacher-generations`).
fn teacher_control(s: &Setup, args: &Options) -> anyhow::Result<Option<TeacherRun>> {
    let n = (args.teacher_generations as usize).min(s.n);
    if n == 0 {
        return Ok(None);
    }
    let manifest = Manifest::read(&args.models)?;
    let bytes = manifest.read_verified(&args.models, TEACHER)?;
    let unet = crate::store::load(UNetConfig::new().init(&s.device), bytes, TEACHER)?;
    let key = &manifest.entry(TEACHER)?.sha256[..8];
    let dir = s.cache.join(format!("teacher-{key}"));
    let train = Dataset::load(&data::default_dir(), Split::Train)?;
    let path = dir.join(format!("posterior-{}.json", args.teacher_examples));
    let posterior = cached_posterior(
        &path,
        &unet,
        &train,
        args.teacher_examples as usize,
        &s.device,
    )?;
    let teacher = Teacher::new(
        unet,
        posterior.clone(),
        args.teacher_steps as usize,
        args.guidance,
    )?;
    let (scored, images) = cached_teacher(&s.g, &teacher, &dir, n, args.seed, args.batch as usize)?;
    let classes = s.classes()[..n].to_vec();
    let steps = args.teacher_steps as usize;
    let maps = judge_images(&s.classifier, images, classes, steps, &s.device)?;
    let manifold = Manifold::new(&s.real, 3);
    Ok(Some(TeacherRun {
        judged: judge_maps(maps, &manifold),
        scored,
        posterior,
        steps: args.teacher_steps as usize,
    }))
}

/// The CLIP cosine distance between the teacher's and the student's MAP image of each of the
/// first `n` generations.
fn teacher_distance(teacher: &Scored, student: &Scored, n: usize) -> Vec<f64> {
    let d = student.dims;
    let unit = |v: &[f32]| {
        let norm = v
            .iter()
            .map(|x| (*x as f64).powi(2))
            .sum::<f64>()
            .sqrt()
            .max(1e-12);
        v.iter().map(move |x| *x as f64 / norm).collect::<Vec<_>>()
    };
    (0..n)
        .map(|i| {
            let a = unit(&teacher.map_embedding[i * d..(i + 1) * d]);
            let b = unit(&student.map_embedding[i * d..(i + 1) * d]);
            1.0 - a.iter().zip(&b).map(|(x, y)| x * y).sum::<f64>()
        })
        .collect()
}

/// The teacher distance (and, beside it on the same generations, the student's u and
/// clip_margin) on the teacher's generations.
fn distance_tables(
    j: &Judged,
    t: &TeacherRun,
    v: &Variant,
    student: &Scored,
    seed: u32,
) -> Vec<DetectionTable> {
    let n = t.judged.maps.classes.len();
    let perturb = (v.steps > 1).then(|| v.perturb.name().to_string());
    let scores: Vec<NamedScore> = vec![
        (
            "teacher_distance".into(),
            None,
            None,
            vec![teacher_distance(&t.scored, student, n)],
        ),
        (
            "genuq".into(),
            perturb,
            Some(MAIN_M),
            vec![head(&as_f64(&student.u[&MAIN_M]), n)],
        ),
        (
            "clip_margin".into(),
            None,
            None,
            vec![head(
                &crate::eval::methods::one_minus(&student.class.probability),
                n,
            )],
        ),
    ];
    score_tables(j, n, &scores, seed)
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
            row.0 = format!("{}_teacher", row.0.replace("genuq", "u"));
        }
        out.extend(score_tables(&t.judged, n, &scores, seed));
    }
    out
}

/// Trunk passes per generation of a sampler's weight-sample scores (the browser's cost):
/// one trajectory until the first perturbed step, M + 1 from there on.
fn passes(v: &Variant) -> usize {
    use crate::uncertainty::Perturb;
    let s = v.max_samples + 1;
    match (v.steps, v.perturb) {
        (1, _) => 1,
        (steps, Perturb::All) => steps * s,
        (steps, Perturb::First) => 1 + (steps - 1) * s,
        (steps, Perturb::Last) => steps,
    }
}

/// A candidate of the pick and what shipping it means: its score's name and its sampler (for
/// `clip_margin`, the candidate sampler of its step count, whose u is shown beside it).
struct Pickable {
    candidate: Candidate,
    method: String,
    variant: Variant,
}

impl Pickable {
    /// `{"method", "steps", "perturb", "samples"}`: what eval.json's "shipped" holds.
    fn shipped(&self) -> Value {
        json!({
            "method": self.method,
            "steps": self.variant.steps,
            "perturb": self.variant.perturb.name(),
            "samples": MAIN_M,
        })
    }
}

/// The candidates of the pick: every score at M = 8 of each candidate sampler, and the MAP
/// image's `clip_margin` (one trajectory: `steps` passes) of each (distinct) step count.
fn pick_candidates(s: &Setup, full: &[(Variant, Vec<Scored>)]) -> Vec<Pickable> {
    let mut out = Vec::new();
    for (v, draws) in full {
        let poor = s.wrong(v.steps).to_vec();
        let fid = s.fid[&v.steps];
        for (method, perturb, m, d) in sampler_scores(v, draws, &[MAIN_M], s.n) {
            let p = perturb.map(|p| format!(" {p}")).unwrap_or_default();
            let m = m.map(|m| format!(" M={m}")).unwrap_or_default();
            let candidate = Candidate {
                name: format!("{method} {}-step{p}{m}", v.steps),
                cost: passes(v),
                fid,
                draws: d,
                poor: poor.clone(),
            };
            out.push(Pickable {
                candidate,
                method,
                variant: *v,
            });
        }
        let candidate = Candidate {
            name: format!("clip_margin {}-step", v.steps),
            cost: v.steps,
            fid,
            draws: vec![crate::eval::methods::one_minus(&draws[0].class.probability)],
            poor,
        };
        out.push(Pickable {
            candidate,
            method: "clip_margin".into(),
            variant: *v,
        });
    }
    out
}

/// Step 6: the pick ([`crate::eval::paired::RULE`]) and the paired comparisons the report
/// states: the shipped score, `class_bald` and the paper's best u against u on the one-step
/// path, and the teacher's u against the student's on the teacher's generations.
fn selection(
    s: &Setup,
    pickables: &[Pickable],
    teacher: Option<&TeacherRun>,
    seed: u32,
) -> (Value, Value) {
    let classes = s.classes();
    let candidates: Vec<Candidate> = pickables.iter().map(|p| p.candidate.clone()).collect();
    let candidates = candidates.as_slice();
    let chosen = pick(candidates, classes, seed);
    let find = |name: &str| candidates.iter().find(|c| c.name == name);
    let u_one = find(&format!("genuq 1-step M={MAIN_M}"));
    let best_u = candidates
        .iter()
        .filter(|c| c.name.starts_with("genuq "))
        .max_by(|a, b| auroc_of(a, classes, seed).total_cmp(&auroc_of(b, classes, seed)));
    let mut comparisons: Vec<Paired> = Vec::new();
    if let Some(base) = u_one {
        for other in [find(&chosen.shipped), best_u].into_iter().flatten() {
            if other.name != base.name {
                comparisons.push(paired(base, other, classes, seed));
            }
        }
        for c in candidates
            .iter()
            .filter(|c| c.name.starts_with("class_bald"))
        {
            comparisons.push(paired(base, c, classes, seed));
        }
        if let Some(t) = teacher {
            comparisons.push(teacher_against(base, t, s, seed));
        }
    }
    let shipped = pickables
        .iter()
        .find(|p| p.candidate.name == chosen.shipped)
        .map_or(Value::Null, Pickable::shipped);
    let json = json!({
        "rule": chosen.rule,
        "label": "wrong_class",
        "generations": s.n,
        "candidates": candidates.iter().map(|c| json!({"name": c.name, "cost_trunk_passes": c.cost, "fid": c.fid, "macro_auroc": auroc_of(c, classes, seed)})).collect::<Vec<_>>(),
        "default": chosen.default,
        "shipped": chosen.shipped,
        "against_default": chosen.against_default,
        "steps": chosen.steps,
        "comparisons": comparisons,
    });
    (json, shipped)
}

/// The macro AUROC of a candidate for its label.
fn auroc_of(c: &Candidate, classes: &[usize], seed: u32) -> f64 {
    detection(&c.draws, &c.poor, classes, seed).macro_auroc
}

/// The teacher's u (M = 8) against the student's one-step u on the teacher's generations.
fn teacher_against(base: &Candidate, t: &TeacherRun, s: &Setup, seed: u32) -> Paired {
    let n = t.judged.maps.classes.len();
    let cut = |c: &Candidate| Candidate {
        draws: c.draws.iter().map(|d| head(d, n)).collect(),
        poor: head(&c.poor, n),
        ..c.clone()
    };
    let teacher = Candidate {
        name: format!("u_teacher {}-step Heun M={MAIN_M}", t.steps),
        cost: 0,
        fid: f64::NAN,
        draws: vec![as_f64(&t.scored.u[&MAIN_M])],
        poor: t.judged.labels[0].2.clone(),
    };
    paired(&cut(base), &teacher, &s.classes()[..n], seed)
}

/// Step 7a: the floor sweep on the paper's u of each candidate sampler (raw and unit
/// embeddings, every draw), and where the variances sit against the floor.
fn floor(s: &Setup, full: &[(Variant, Vec<Scored>)], seed: u32) -> Value {
    let rows: Vec<Value> = full
        .iter()
        .map(|(v, draws)| {
            let j = &s.judged[&v.steps];
            let kinds = [
                Embeddings {
                    name: "raw",
                    variances: draws
                        .iter()
                        .map(|d| d.embedding_variance.as_slice())
                        .collect(),
                    maps: draws[0].map_embedding.clone(),
                },
                Embeddings {
                    name: "unit",
                    variances: draws
                        .iter()
                        .map(|d| d.unit_embedding_variance.as_slice())
                        .collect(),
                    maps: unit_rows(&draws[0].map_embedding, draws[0].dims),
                },
            ];
            let labels = (&j.labels[0].2[..], &j.labels[1].2[..]);
            json!({
                "sampler": v.name(),
                "samples": MAIN_M,
                "now": floor_report(&draws[0].embedding_variance, draws[0].dims),
                "sweep": floor_sweep(&kinds, draws[0].dims, labels, &j.maps.classes, seed),
            })
        })
        .collect();
    json!(rows)
}

/// Rows `[N * D]` scaled to unit length.
fn unit_rows(x: &[f32], d: usize) -> Vec<f32> {
    x.chunks_exact(d)
        .flat_map(|r| {
            let norm = r.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            r.iter().map(move |v| v / norm)
        })
        .collect()
}

/// Step 7b: the flag: for the shipped score on all generations of its sampler, the precision
/// (share wrong-class) and recall of flagging the top 1, 2, 5, 10, 20% (across classes); the
/// flag is the largest share whose precision is at least 0.5, or none.
fn flag(s: &Setup, pickables: &[Pickable], shipped: &str) -> Value {
    let Some(c) = pickables
        .iter()
        .map(|p| &p.candidate)
        .find(|c| c.name == shipped)
    else {
        return Value::Null;
    };
    let score = &c.draws[0];
    let mut sorted = score.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let positives = c.poor.iter().filter(|&&p| p).count().max(1);
    let points: Vec<Value> = [0.01, 0.02, 0.05, 0.10, 0.20]
        .iter()
        .map(|&share| {
            let k = ((s.n as f64 * share).round() as usize).clamp(1, s.n);
            let threshold = sorted[k - 1];
            let flagged: Vec<usize> = (0..s.n).filter(|&i| score[i] >= threshold).collect();
            let hits = flagged.iter().filter(|&&i| c.poor[i]).count();
            json!({
                "share": share,
                "threshold": threshold,
                "flagged": flagged.len(),
                "precision": hits as f64 / flagged.len().max(1) as f64,
                "recall": hits as f64 / positives as f64,
            })
        })
        .collect();
    let chosen = points
        .iter()
        .rev()
        .find(|p| p["precision"].as_f64().unwrap_or(0.0) >= 0.5)
        .cloned();
    json!({"score": shipped, "label": "wrong_class", "generations": s.n, "points": points, "flag": chosen})
}

/// The judge of a global cut on the generations of `j`, against the test features `real`.
fn judge_of<'a>(j: &'a Judged, real: &'a Features) -> Judge<'a> {
    Judge {
        inside: j.inside.clone(),
        real,
        generated: Features::new(&j.maps.features, FEATURES),
        wrong: j.maps.wrong_class(),
        classes: &j.maps.classes,
    }
}

/// Step 7c: the paper's global filter (keep the `keep` lowest of all classes together) of every
/// method on all generations of each candidate sampler.
fn global_filter(s: &Setup, full: &[(Variant, Vec<Scored>)], keep: usize, seed: u32) -> Value {
    let tables: Vec<Value> = full
        .iter()
        .map(|(v, draws)| {
            let j = &s.judged[&v.steps];
            let judge = judge_of(j, &s.real);
            let rows: Vec<_> = methods(&j.maps, &draws[0], &j.radius_ratio, seed, keep)
                .iter()
                .map(|(name, score)| judge.row(name, score, keep))
                .collect();
            json!({"sampler": v.name(), "keep": keep, "generations": s.n, "rows": rows,
                   "random_spread": judge.random_spread(seed, keep, RANDOM_DRAWS)})
        })
        .collect();
    json!(tables)
}

/// Step 7d: the per-class-quota filter of each candidate sampler's scores on all generations.
fn quotas(
    s: &Setup,
    full: &[(Variant, Vec<Scored>)],
    keep: usize,
    seed: u32,
) -> Vec<crate::eval::report::QuotaTable> {
    full.iter()
        .map(|(v, draws)| {
            let j = &s.judged[&v.steps];
            let mut rows: Vec<(String, Vec<f64>)> =
                sampler_scores(v, &draws[..1], &SAMPLE_COUNTS, s.n)
                    .into_iter()
                    .map(|(m, _, k, d)| {
                        (
                            format!("{m} {} M={}", v.name(), k.unwrap_or(0)),
                            d[0].clone(),
                        )
                    })
                    .collect();
            rows.push((
                "clip_margin".into(),
                crate::eval::methods::one_minus(&draws[0].class.probability),
            ));
            rows.push(("random".into(), random_scores(seed, 0, s.n)));
            rows.push((
                "classifier_confidence (reference)".into(),
                unconfidence(&j.maps),
            ));
            quota_table(j, s.n, keep, &rows, &s.real, seed)
        })
        .collect()
}

/// Beside the labels by eye: each class-space score of a single image against the judge's own
/// errors on the 10,000 real test images (a set with no bad image).
pub fn judge_errors_section(args: &Options) -> anyhow::Result<Value> {
    let device = Device::flex();
    let g = load_generator(&args.models, Compute::Cpu)?.with_nets_on(&device);
    let test = Dataset::load(&crate::data::default_dir(), Split::Test)?;
    let labels: Vec<i64> = test.labels.iter().map(|&l| l as i64).collect();
    let (_, classifier) = classify(
        &load_classifier(&args.models, &device)?,
        &test.images,
        &device,
    );
    let (probability, entropy) = real_class_scores(&g, &test, &device)?;
    let r = judge_errors(&labels, &classifier, &probability, &entropy);
    println!(
        "the judge's errors on {} real test images ({:.1}%): AUROC clip_margin {:.3}, class entropy {:.3}",
        r.images,
        100.0 * r.classifier_error,
        r.clip_margin,
        r.class_entropy
    );
    Ok(serde_json::to_value(r)?)
}

/// Step 7e: how often CLIP and the classifier err together on the test split.
fn independence_section(s: &Setup) -> anyhow::Result<Value> {
    let labels: Vec<i64> = s.test.labels.iter().map(|&l| l as i64).collect();
    let (_, classifier) = classify(&s.classifier, &s.test.images, &s.device);
    let clip = clip_predictions(&s.g, &s.test, &s.device)?;
    Ok(serde_json::to_value(independence(
        &labels,
        &classifier,
        &clip,
    ))?)
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
