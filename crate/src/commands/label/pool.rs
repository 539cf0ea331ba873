//! The pools the sheets are drawn from: `genuq score` runs (and `genuq label candidates`
//! runs of the same pool) read and joined, and `label candidates` itself.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::{CandidatesArgs, decode_png, read_json, read_jsonl};
use crate::commands::score::Line;
use crate::data::{Dataset, Split};
use crate::eval::candidates::{CandidateLine, Candidates};
use crate::eval::labels::Key;
use crate::eval::pool::ScoredLine;
use crate::gpu::Compute;
use crate::manifest::{CLASSIFIER, DISCRIMINATOR, Manifest};
use crate::model::classifier::ClassifierConfig;
use crate::uncertainty::Perturb;
use crate::uncertainty::Request;
use crate::uncertainty::load::load_generator;

fn placement<T>(path: &Path, lines: &[T], of: impl Fn(&T) -> Perturb) -> anyhow::Result<Perturb> {
    let perturb = lines
        .first()
        .map(&of)
        .with_context(|| format!("{} is empty", path.display()))?;
    anyhow::ensure!(
        lines.iter().all(|l| of(l) == perturb),
        "{} mixes placements",
        path.display()
    );
    Ok(perturb)
}

/// The lines of one `genuq score` file (read as that command's [`Line`]s), and the placement
/// they were scored with.
pub(super) fn read_pool(path: &Path) -> anyhow::Result<(Perturb, Vec<ScoredLine>)> {
    let lines: Vec<ScoredLine> = read_jsonl::<Line>(path)?
        .into_iter()
        .map(|line| {
            let r = line.record;
            ScoredLine {
                seed: r.seed,
                class: r.class,
                steps: r.steps,
                samples: r.samples,
                perturb: r.perturb,
                u: r.u,
                pixel_variance: line.pixel_variance,
                class_space: r.class_space,
                image_png: line.image_png,
            }
        })
        .collect();
    Ok((placement(path, &lines, |l| l.perturb)?, lines))
}

/// The lines of a `genuq label candidates` file and their placement.
pub(super) fn read_candidates(path: &Path) -> anyhow::Result<(Perturb, Vec<CandidateLine>)> {
    let lines: Vec<CandidateLine> = read_jsonl(path)?;
    Ok((placement(path, &lines, |l| l.perturb)?, lines))
}

/// `genuq label candidates`: every generation of the pool file scored with the candidates,
/// its MAP image checked against the pool's (within a grey level and a half).
pub(super) fn candidates(args: &CandidatesArgs) -> anyhow::Result<()> {
    let (_, pool) = read_pool(&args.pool)?;
    let done: std::collections::HashSet<(u32, String)> = match args.out.exists() {
        true => read_candidates(&args.out)?
            .1
            .into_iter()
            .map(|l| (l.seed, l.class))
            .collect(),
        false => Default::default(),
    };
    let sample: Option<std::collections::HashSet<(u32, String)>> = match &args.key {
        Some(path) => Some(
            read_json::<Key>(path)?
                .items
                .into_iter()
                .map(|i| (i.seed, i.class))
                .collect(),
        ),
        None => None,
    };
    let todo: Vec<&ScoredLine> = pool
        .iter()
        .filter(|l| !done.contains(&(l.seed, l.class.clone())))
        .filter(|l| {
            sample
                .as_ref()
                .is_none_or(|s| s.contains(&(l.seed, l.class.clone())))
        })
        .collect();
    eprintln!("{} generations to score ({} done)", todo.len(), done.len());
    if todo.is_empty() {
        return Ok(());
    }
    let generator = load_generator(&args.models, Compute::Cpu)?;
    let manifest = Manifest::read(&args.models)?;
    let nets = generator.nets.clone();
    let read = |name: &str| manifest.read_verified(&args.models, name);
    let judge = crate::store::load(
        ClassifierConfig::new().init(&nets),
        read(CLASSIFIER)?,
        CLASSIFIER,
    )?;
    let discriminator = crate::store::load(
        ClassifierConfig::new().with_outputs(2).init(&nets),
        read(DISCRIMINATOR)?,
        DISCRIMINATOR,
    )?;
    let train = Dataset::load(&crate::data::default_dir(), Split::Train)?;
    let space = Candidates::new(judge, discriminator, &generator, &train);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.out)
        .with_context(|| format!("opening {}", args.out.display()))?;
    let bar = indicatif::ProgressBar::new(todo.len() as u64);
    for l in todo {
        let class = crate::data::class_index(&l.class)
            .with_context(|| format!("unknown class {:?}", l.class))?;
        let mut req = Request::new(class, l.seed);
        (req.steps, req.samples, req.perturb) = (l.steps, l.samples, l.perturb);
        let s = space.score(&generator, &req)?;
        let pool_image = decode_png(&l.image_png)?;
        let close = |(a, b): (&f32, &f32)| (a - b).abs() <= 1.5 / crate::data::GREY_HALF;
        anyhow::ensure!(
            s.image.iter().zip(&pool_image).all(close),
            "seed {} {}: the regenerated MAP image differs from the pool's",
            l.seed,
            l.class
        );
        writeln!(file, "{}", serde_json::to_string(&s)?)
            .and_then(|()| file.flush())
            .with_context(|| format!("writing {}", args.out.display()))?;
        bar.inc(1);
    }
    bar.finish();
    Ok(())
}
