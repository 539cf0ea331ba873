//! `genuq prerender`: a few generations rendered ahead of time (image and heatmap PNGs, and an
//! index.json with their scores), which the demo and the widget show in a browser without
//! WebGPU instead of an empty box. Written to web/prerendered/ (committed: ten small pairs).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::json;

use super::generate::{save_gray, save_rgba};
use crate::data::CLASS_NAMES;
use crate::gpu::Compute;
use crate::uncertainty::Request;
use crate::uncertainty::load::load_generator;

#[derive(Debug, Clone, Args)]
pub struct PrerenderArgs {
    /// The folder with the models and their manifest.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// The seed of every class's generation.
    #[arg(long, default_value_t = 42)]
    pub seed: u32,
    /// Where the PNGs and index.json go.
    #[arg(long, default_value = "web/prerendered")]
    pub out: PathBuf,
    /// Where to run (the same numbers either way, within 1e-5: tests/native.rs).
    #[arg(long, value_enum, default_value_t = Compute::Auto)]
    pub compute: Compute,
}

pub fn run(args: &PrerenderArgs) -> anyhow::Result<()> {
    let generator = load_generator(&args.models, args.compute)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut index = Vec::new();
    for (class, name) in CLASS_NAMES.iter().enumerate() {
        let req = Request::new(class, args.seed);
        let g = pollster::block_on(generator.generate(&req))?;
        save_gray(&args.out.join(format!("{name}.png")), &g.image)?;
        save_rgba(
            &args.out.join(format!("{name}-heatmap.png")),
            g.heatmap.clone(),
        )?;
        index.push(json!({
            "class": name, "seed": args.seed, "samples": req.samples, "steps": req.steps,
            "perturb": req.perturb.name(), "u": g.u, "percentile": g.percentile,
            "maxStd": g.max_std(), "classSpace": g.class_space, "shipped": g.shipped,
            "image": format!("{name}.png"), "heatmap": format!("{name}-heatmap.png"),
        }));
        eprintln!("{name}: u = {:.3}", g.u);
    }
    let text = serde_json::to_string_pretty(&json!({ "generations": index }))? + "\n";
    std::fs::write(args.out.join("index.json"), text)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
