//! `genuq generate`: one generation with its heatmap and score, written as PNGs and JSON.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde_json::json;

use crate::data::{self, IMAGE_SIZE, PIXELS};
use crate::uncertainty::load::load_generator;
use crate::uncertainty::{DEFAULT_PERTURB, DEFAULT_STEPS, Perturb, Request};

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Class name (t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle-boot) or 0-9.
    #[arg(long)]
    pub class: String,
    /// Seed of the initial noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u32,
    /// M, the weight samples besides the MAP (1-32).
    #[arg(long, default_value_t = 8)]
    pub samples: usize,
    /// Euler steps of the student (1, 2 or 4).
    #[arg(long, default_value_t = DEFAULT_STEPS)]
    pub steps: usize,
    /// Where the weight samples act along the steps: all (the paper's way), first or last.
    #[arg(long, default_value = DEFAULT_PERTURB.name(), value_parser = ["all", "first", "last"])]
    pub perturb: String,
    /// The folder with the models and their manifest.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Where image.png, heatmap.png, sample_*.png and result.json go.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write heatmap_exact.png: the closed-form variance (no sampling).
    #[arg(long)]
    pub exact: bool,
}

fn save_gray(path: &Path, pixels: &[f32]) -> anyhow::Result<()> {
    let bytes: Vec<u8> = pixels
        .iter()
        .map(|v| ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8)
        .collect();
    save(
        path,
        image::GrayImage::from_raw(IMAGE_SIZE as u32, IMAGE_SIZE as u32, bytes),
    )
}

fn save_rgba(path: &Path, rgba: Vec<u8>) -> anyhow::Result<()> {
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

pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    let class = data::class_index(&args.class).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown class {:?}; use one of {}",
            args.class,
            data::CLASS_NAMES.join(", ")
        )
    })?;
    let perturb = Perturb::parse(&args.perturb)
        .with_context(|| format!("--perturb {} is not all, first or last", args.perturb))?;
    let req = Request {
        class,
        seed: args.seed,
        samples: args.samples,
        steps: args.steps,
        perturb,
    };
    req.validate()?;
    let generator = load_generator(&args.models)?;
    let g = pollster::block_on(generator.generate(&req))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    save_gray(&args.out.join("image.png"), &g.image)?;
    save_rgba(&args.out.join("heatmap.png"), g.heatmap.clone())?;
    if args.exact {
        let (_, rgba) = pollster::block_on(generator.exact_heatmap(&req))?;
        save_rgba(&args.out.join("heatmap_exact.png"), rgba)?;
    }
    for (m, s) in g.samples.chunks(PIXELS).enumerate() {
        save_gray(&args.out.join(format!("sample_{:02}.png", m + 1)), s)?;
    }
    let d = g.embeddings.len() / (args.samples + 1);
    let result = json!({
        "class": data::CLASS_NAMES[class], "seed": args.seed, "samples": args.samples, "steps": args.steps,
        "perturb": perturb.name(),
        "u": g.u, "percentile": g.percentile,
        "embeddings": g.embeddings.chunks(d).collect::<Vec<_>>(),
        "timings_ms": g.timings,
        "formula": "u = 0.5 * sum_d log(v_d + 1e-3) + 0.5 * D * (log(2 pi) + 1), v_d = population variance (divided by M + 1) over the M + 1 embeddings (MAP first)",
    });
    std::fs::write(
        args.out.join("result.json"),
        serde_json::to_string_pretty(&result)? + "\n",
    )?;
    println!(
        "u = {:.3}{}  ->  {}",
        g.u,
        g.percentile
            .map(|p| format!(
                " (more uncertain than {p:.0}% of {} generations)",
                data::CLASS_NAMES[class]
            ))
            .unwrap_or_default(),
        args.out.display()
    );
    Ok(())
}
