//! Step 4: the paper's own setting as a control: the teacher with its own posterior, and how
//! far the student's MAP images sit from the teacher's.

use super::{Options, Setup};
use crate::data::{self, Dataset, Split};
use crate::eval::generations::{MAIN_M, Scored, Variant, judge_images};
use crate::eval::methods::as_f64;
use crate::eval::metrics::Manifold;
use crate::eval::report::DetectionTable;
use crate::eval::tables::{Judged, NamedScore, head, judge_maps, score_tables};
use crate::eval::teacher::{Teacher, cached_posterior, cached_teacher};
use crate::manifest::{Manifest, TEACHER};
use crate::model::UNetConfig;
use crate::posterior::Posterior;
use crate::uncertainty::ScoreName;

/// The teacher's run: its judged MAP images and its scores.
pub(super) struct TeacherRun {
    pub(super) judged: Judged,
    pub(super) scored: Scored,
    pub(super) posterior: Posterior,
    pub(super) steps: usize,
}

/// Step 4: the paper's own setting, the teacher with its own posterior (None without
/// `--teacher-generations`).
pub(super) fn teacher_control(s: &Setup, args: &Options) -> anyhow::Result<Option<TeacherRun>> {
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
pub(super) fn distance_tables(
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
            ScoreName::U.name().into(),
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
