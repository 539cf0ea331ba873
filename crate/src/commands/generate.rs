//! `genuq generate`: one generation with its heatmap and score, written as PNGs and JSON.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use super::{ClassParser, parse_steps};
use crate::data::{IMAGE_SIZE, PIXELS};
use crate::gpu::{AdapterInfo, Compute};
use crate::uncertainty::load::load_generator;
use crate::uncertainty::{
    DEFAULT_PERTURB, DEFAULT_SAMPLES, DEFAULT_STEPS, GenerationRecord, MAX_SAMPLES, Perturb,
    Request, ScoreName, Timings,
};

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// The garment: a class name (or its number 0-9).
    #[arg(long, value_parser = ClassParser)]
    pub class: usize,
    /// Seed of the initial noise (0-4294967295); the weight samples are drawn under it too.
    #[arg(long, default_value_t = 0)]
    pub seed: u32,
    /// M, the weight samples of the last layer besides the MAP.
    #[arg(long, default_value_t = DEFAULT_SAMPLES as u32, value_parser = clap::value_parser!(u32).range(1..=MAX_SAMPLES as i64))]
    pub samples: u32,
    /// Euler steps of the student: 1, 2 or 4.
    #[arg(long, default_value_t = DEFAULT_STEPS, value_parser = parse_steps)]
    pub steps: usize,
    /// Where along the steps the weight samples act: at every step (the paper's way), the
    /// first or the last.
    #[arg(long, value_enum, default_value_t = DEFAULT_PERTURB)]
    pub perturb: Perturb,
    /// The folder with the models and their manifest.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Where to run: the wgpu adapter (`webgpu`), the CPU path (burn flex), or `auto` (the
    /// adapter unless it is a software one).
    #[arg(long, value_enum, default_value_t = Compute::Auto)]
    pub compute: Compute,
    /// Where image.png, heatmap.png, sample_*.png and result.json go.
    #[arg(long, required_unless_present = "json")]
    pub out: Option<PathBuf>,
    /// Print the result (result.json's content) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write heatmap_exact.png: the closed-form variance (no sampling; one step or
    /// `--perturb last` only).
    #[arg(long, requires = "out")]
    pub exact: bool,
}

/// A grey image `[PIXELS]` in [-1, 1] as a PNG.
pub fn save_gray(path: &Path, pixels: &[f32]) -> anyhow::Result<()> {
    let bytes: Vec<u8> = pixels.iter().map(|&v| crate::data::grey_byte(v)).collect();
    save(
        path,
        image::GrayImage::from_raw(IMAGE_SIZE as u32, IMAGE_SIZE as u32, bytes),
    )
}

/// An RGBA8 image `[PIXELS * 4]` as a PNG.
pub fn save_rgba(path: &Path, rgba: Vec<u8>) -> anyhow::Result<()> {
    save(
        path,
        image::RgbaImage::from_raw(IMAGE_SIZE as u32, IMAGE_SIZE as u32, rgba),
    )
}

fn save<P: image::Pixel<Subpixel = u8> + image::PixelWithColorType>(
    path: &Path,
    img: Option<image::ImageBuffer<P, Vec<u8>>>,
) -> anyhow::Result<()> {
    img.context("an image of the wrong size")?
        .save(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// What `--json` prints and result.json holds: the generation's record with what only the CLI
/// says (the M + 1 embeddings, the timings, the path it ran on and u's formula).
#[derive(Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    record: GenerationRecord,
    /// The M + 1 CLIP image embeddings, `[M + 1][D]`, MAP first.
    embeddings: Vec<&'a [f32]>,
    timings_ms: &'a Timings,
    compute: &'a str,
    reason: &'a str,
    formula: &'static str,
}

const FORMULA: &str = "u = 0.5 * sum_d log(v_d + 1e-3) + 0.5 * D * (log(2 pi) + 1), v_d = population variance (divided by M + 1) over the M + 1 embeddings (MAP first)";

pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    let samples = args.samples as usize;
    let req = Request {
        class: args.class,
        seed: args.seed,
        samples,
        steps: args.steps,
        perturb: args.perturb,
    };
    req.validate()?;
    if args.exact {
        req.check_exact()?;
    }
    let generator = load_generator(&args.models, args.compute)?;
    let adapter = crate::gpu::native(args.compute)?.adapter;
    let g = pollster::block_on(generator.generate(&req))?;
    let d = g.embeddings.len() / (samples + 1);
    let result = Output {
        record: g.record(&req),
        embeddings: g.embeddings.chunks(d).collect(),
        timings_ms: &g.timings,
        compute: &adapter.compute,
        reason: &adapter.reason,
        formula: FORMULA,
    };
    let text = serde_json::to_string_pretty(&result)? + "\n";
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        save_gray(&out.join("image.png"), &g.image)?;
        save_rgba(&out.join("heatmap.png"), g.heatmap.clone())?;
        if args.exact {
            let (_, rgba) = pollster::block_on(generator.exact_heatmap(&req))?;
            save_rgba(&out.join("heatmap_exact.png"), rgba)?;
        }
        for (m, s) in g.samples.chunks(PIXELS).enumerate() {
            save_gray(&out.join(format!("sample_{:02}.png", m + 1)), s)?;
        }
        std::fs::write(out.join("result.json"), &text)?;
    }
    let summary = summary(&result.record, &adapter, args.out.as_deref());
    match args.json {
        true => {
            print!("{text}");
            eprintln!("{summary}");
        }
        false => println!("{summary}"),
    }
    Ok(())
}

/// The lines a person reads: the path taken, the shipped score and u in words, the flag.
fn summary(r: &GenerationRecord, adapter: &AdapterInfo, out: Option<&Path>) -> String {
    let class = &r.class;
    let realism = r
        .shipped
        .filter(|s| s.score == ScoreName::Realism)
        .map(|s| match s.percentile {
            Some(p) => format!(
                "further from real garments than {p:.0}% of {class} generations (realism {:.2})\n",
                s.value
            ),
            None => format!("realism {:.2}\n", s.value),
        })
        .unwrap_or_default();
    let percentile = r
        .percentile
        .map(|p| format!(" (more uncertain than {p:.0}% of {class} generations)"))
        .unwrap_or_default();
    let clip = r
        .class_space
        .map(|c| format!("; CLIP: {:.0}% {class}", 100.0 * c.probability))
        .unwrap_or_default();
    let out = out
        .map(|o| format!("  ->  {}", o.display()))
        .unwrap_or_default();
    let flag = r
        .shipped
        .and_then(|s| s.flag)
        .map(|f| {
            format!(
                "\nflagged: {:.0}% of the evaluation's generations scored this high were wrong-class",
                100.0 * f.precision
            )
        })
        .unwrap_or_default();
    format!(
        "on the {} path: {}\n{realism}u = {:.3}{percentile}{clip}{out}{flag}",
        adapter.compute, adapter.reason, r.u
    )
}
