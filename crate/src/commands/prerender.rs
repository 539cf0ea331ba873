//! `genuq prerender`: a few generations rendered ahead of time (image and heatmap PNGs, and an
//! index.json with their scores), which the demo and the widget show in a browser without
//! WebGPU instead of an empty box. Written to web/prerendered/ (committed: ten small pairs).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use heck::ToLowerCamelCase;
use serde::Serialize;
use serde_json::{Value, json};

use super::generate::{save_gray, save_rgba};
use crate::data::CLASS_NAMES;
use crate::gpu::Compute;
use crate::uncertainty::load::load_generator;
use crate::uncertainty::{GenerationRecord, Request};

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

/// One entry of index.json: the generation's record, its spread and its PNGs' names (what the
/// widget types as `PrerenderedGeneration`).
#[derive(Serialize)]
struct Entry {
    #[serde(flatten)]
    record: GenerationRecord,
    max_std: f32,
    image: String,
    heatmap: String,
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
        index.push(Entry {
            record: g.record(&req),
            max_std: g.max_std(),
            image: format!("{name}.png"),
            heatmap: format!("{name}-heatmap.png"),
        });
        eprintln!("{name}: u = {:.3}", g.u);
    }
    let index = camel_case_keys(json!({ "generations": index }));
    let text = serde_json::to_string_pretty(&index)? + "\n";
    std::fs::write(args.out.join("index.json"), text)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

/// The keys of `value` in JS's casing (`class_space` -> `classSpace`), at every depth: the
/// index is read in the browser beside live generations, whose record the wasm build
/// serialises camelCase.
fn camel_case_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_lower_camel_case(), camel_case_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_camel_case_at_every_depth_and_values_stay() {
        let snake = json!({"class_space": {"max_std": 1}, "shipped": [{"score": "clip_margin"}]});
        let camel = json!({"classSpace": {"maxStd": 1}, "shipped": [{"score": "clip_margin"}]});
        assert_eq!(camel_case_keys(snake), camel);
    }
}
