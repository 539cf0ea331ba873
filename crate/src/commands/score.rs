//! `genuq score`: batch scoring for people who filter many generations. Loads the models once
//! and writes one JSON line per generation (its record: seed, class, sampler, u, its class
//! percentile, the class-space, realism and shipped scores; the pixel-variance sum, and the
//! image as a base64 PNG), each the same numbers as
//! `genuq generate` with that seed and class. It resumes (generations already in the file are
//! skipped) and takes `--shard i/n`, so shards run as independent jobs whose files together
//! hold one run's lines.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use clap::Args;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use super::parse_steps;
use crate::data::{CLASS_NAMES, IMAGE_SIZE, NUM_CLASSES, class_index};
use crate::gpu::Compute;
use crate::uncertainty::load::load_generator;
use crate::uncertainty::{
    DEFAULT_PERTURB, DEFAULT_SAMPLES, DEFAULT_STEPS, GenerationRecord, Generator, MAX_SAMPLES,
    Perturb, Request,
};

fn parse_samples(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|m| (1..=MAX_SAMPLES).contains(m))
        .ok_or_else(|| format!("{text:?} is not in 1..={MAX_SAMPLES}"))
}

#[derive(Debug, Clone, Args)]
pub struct ScoreArgs {
    /// A class name (or 0-9), or `all` for every class of every seed.
    #[arg(long)]
    pub class: String,
    /// The seeds, `A..B` (B excluded) or `A..=B`.
    #[arg(long, value_parser = parse_seeds)]
    pub seeds: SeedRange,
    /// Euler steps of the student: 1, 2 or 4.
    #[arg(long, default_value_t = DEFAULT_STEPS, value_parser = parse_steps)]
    pub steps: usize,
    /// M, the weight samples of the last layer besides the MAP.
    #[arg(long, default_value_t = DEFAULT_SAMPLES, value_parser = parse_samples)]
    pub samples: usize,
    /// Where along the steps the weight samples act: at every step, the first or the last.
    #[arg(long, value_enum, default_value_t = DEFAULT_PERTURB)]
    pub perturb: Perturb,
    /// Only generation k of the run where k % n == i (`i/n`), for independent jobs.
    #[arg(long, value_parser = parse_shard, default_value = "0/1")]
    pub shard: Shard,
    /// Where the kernels run: `auto` (the wgpu adapter if it is a hardware one, else the CPU
    /// path), `webgpu` (our WGSL on the wgpu adapter, whatever it is) or `cpu` (their Rust
    /// twins on burn's CPU backend; the same numbers within float noise).
    #[arg(long, value_enum, default_value_t = Compute::Auto)]
    pub compute: Compute,
    /// The folder with the models and their manifest.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// The JSON-lines file (appended to; lines already there are not scored again), or `-`
    /// for standard output (no resume).
    #[arg(long)]
    pub out: PathBuf,
}

/// Seeds `start..end` (end excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedRange {
    pub start: u32,
    pub end: u64,
}

pub(super) fn parse_seeds(text: &str) -> Result<SeedRange, String> {
    let bad = || format!("{text:?} is not a seed range A..B or A..=B (seeds are 0..=4294967295)");
    let (a, b, inclusive) = match text.split_once("..=") {
        Some((a, b)) => (a, b, true),
        None => {
            let (a, b) = text.split_once("..").ok_or_else(bad)?;
            (a, b, false)
        }
    };
    let start: u32 = a.trim().parse().map_err(|_| bad())?;
    let last: u64 = b.trim().parse().map_err(|_| bad())?;
    let end = last + inclusive as u64;
    if end > u32::MAX as u64 + 1 || end <= start as u64 {
        return Err(format!("{text:?} is an empty or out-of-range seed range"));
    }
    Ok(SeedRange { start, end })
}

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || format!("{text:?} is not a shard i/n with 0 <= i < n");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (index, count): (u64, u64) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    match index < count {
        true => Ok(Shard { index, count }),
        false => Err(bad()),
    }
}

/// One line of the output: the generation's record, the sum of its pixel variance and its
/// MAP image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    #[serde(flatten)]
    pub record: GenerationRecord,
    /// Sum over pixels of the per-pixel variance across the M + 1 images.
    pub pixel_variance: f32,
    /// The MAP image, a grey PNG, base64.
    pub image_png: String,
}

/// The (seed, class) of every generation of the run, in order.
fn run_items(args: &ScoreArgs) -> anyhow::Result<Vec<(u32, usize)>> {
    let classes: Vec<usize> = match args.class.as_str() {
        "all" => (0..NUM_CLASSES).collect(),
        name => vec![class_index(name).with_context(|| {
            format!(
                "unknown class {name:?}; use all or one of {}",
                CLASS_NAMES.join(", ")
            )
        })?],
    };
    let seeds = args.seeds.start as u64..args.seeds.end;
    Ok(seeds
        .flat_map(|s| classes.iter().map(move |&c| (s as u32, c)))
        .collect())
}

/// The (seed, class) pairs already in `path` (none if it does not exist); a line that is not a
/// generation of this run's sampler is an error naming the line.
fn done(path: &Path, args: &ScoreArgs) -> anyhow::Result<HashSet<(u32, usize)>> {
    let perturb = args.perturb;
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(HashSet::new());
    };
    let mut seen = HashSet::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |why: String| {
            anyhow::anyhow!(
                "{} line {}: {why}; move the file away or fix the line to resume",
                path.display(),
                n + 1
            )
        };
        let l: Line = serde_json::from_str(line)
            .map_err(|e| bad(format!("not a scored generation ({e})")))?;
        let l = l.record;
        if (l.steps, l.samples, l.perturb) != (args.steps, args.samples, perturb) {
            return Err(bad(format!(
                "scored with steps {}, samples {}, perturb {}, not this run's",
                l.steps,
                l.samples,
                l.perturb.name()
            )));
        }
        let class =
            class_index(&l.class).ok_or_else(|| bad(format!("unknown class {:?}", l.class)))?;
        seen.insert((l.seed, class));
    }
    Ok(seen)
}

pub(super) fn png_base64(pixels: &[f32]) -> anyhow::Result<String> {
    let bytes: Vec<u8> = pixels.iter().map(|&v| crate::data::grey_byte(v)).collect();
    let side = IMAGE_SIZE as u32;
    let img =
        image::GrayImage::from_raw(side, side, bytes).context("an image of the wrong size")?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(png))
}

/// The line `genuq score` writes for the generation `req` (its scores and its MAP image as a
/// PNG); `genuq bench` times this too.
pub(super) fn score_line(generator: &Generator, req: &Request) -> anyhow::Result<Line> {
    let g = pollster::block_on(generator.generate(req))?;
    Ok(Line {
        record: g.record(req),
        pixel_variance: g.variance.iter().sum(),
        image_png: png_base64(&g.image)?,
    })
}

pub fn run(args: &ScoreArgs) -> anyhow::Result<()> {
    let perturb = args.perturb;
    let items = run_items(args)?;
    let probe = Request {
        class: items[0].1,
        seed: items[0].0,
        samples: args.samples,
        steps: args.steps,
        perturb,
    };
    probe.validate()?;
    let stdout = args.out.as_os_str() == "-";
    let seen = match stdout {
        true => HashSet::new(),
        false => done(&args.out, args)?,
    };
    let todo: Vec<(u32, usize)> = items
        .into_iter()
        .enumerate()
        .filter(|(k, _)| *k as u64 % args.shard.count == args.shard.index)
        .map(|(_, item)| item)
        .filter(|item| !seen.contains(item))
        .collect();
    if !stdout {
        eprintln!(
            "{} generations to score ({} already in {})",
            todo.len(),
            seen.len(),
            args.out.display()
        );
    }
    if todo.is_empty() {
        return Ok(());
    }
    let generator =
        load_generator(&args.models, args.compute)?.with_nets_on(&burn::tensor::Device::flex());
    let mut file: Box<dyn Write> = match stdout {
        true => Box::new(std::io::stdout().lock()),
        false => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&args.out)
                .with_context(|| format!("opening {}", args.out.display()))?,
        ),
    };
    let bar = ProgressBar::new(todo.len() as u64);
    for (seed, class) in todo {
        let req = Request {
            class,
            seed,
            ..probe
        };
        let line = score_line(&generator, &req)?;
        // one write per line: an interrupted run leaves whole lines (a cut last line is
        // reported on resume)
        writeln!(file, "{}", serde_json::to_string(&line)?)
            .and_then(|()| file.flush())
            .with_context(|| format!("writing {}", args.out.display()))?;
        bar.inc(1);
    }
    bar.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line written before the record had `realism` still reads (a run resumes over it),
    /// with no realism; a line without `u` does not.
    #[test]
    fn lines_from_before_realism_still_read() {
        let old = r#"{"seed":3,"class":"bag","steps":2,"samples":8,"perturb":"first","u":-126.5,
            "percentile":40.0,"pixel_variance":1.25,"class_space":null,"shipped":null,
            "image_png":"iVBO"}"#;
        let line: Line = serde_json::from_str(old).unwrap();
        assert_eq!(
            (line.record.seed, line.record.class.as_str(), line.record.u),
            (3, "bag", -126.5)
        );
        assert_eq!((line.record.realism, line.pixel_variance), (None, 1.25));
        assert!(serde_json::from_str::<Line>(&old.replace(r#""u":-126.5,"#, "")).is_err());
    }

    #[test]
    fn seed_ranges_and_shards_parse_or_say_why_not() {
        assert_eq!(parse_seeds("3..7"), Ok(SeedRange { start: 3, end: 7 }));
        assert_eq!(parse_seeds("3..=7"), Ok(SeedRange { start: 3, end: 8 }));
        let top = parse_seeds("4294967295..=4294967295").unwrap();
        assert_eq!(top.end, 1 << 32);
        for bad in ["7..3", "3..3", "a..4", "3", "-1..4", "0..4294967297"] {
            assert!(parse_seeds(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_shard("1/4"), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1/0", "x/2", "3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
