//! `genuq class-text`: CLIP's zero-shot class embeddings (its text tower on every class's
//! prompts) and its temperature, written as MODELS/class_text.json and recorded in the manifest,
//! so the class-space scores need no text tower in the browser.

use std::path::PathBuf;

use anyhow::Context;
use burn::tensor::Device;
use clap::Args;

use crate::data::captions::Tokenizer;
use crate::manifest::{CLASS_TEXT, CLIP, Manifest};
use crate::model::clip::ClipConfig;
use crate::train::clip::class_embeddings;
use crate::uncertainty::ClassText;

#[derive(Debug, Clone, Args)]
pub struct ClassTextArgs {
    /// The folder with clip.safetensors; class_text.json is written there.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
}

pub fn run(args: &ClassTextArgs) -> anyhow::Result<()> {
    let device = Device::flex();
    let tokenizer = Tokenizer::default();
    let bytes = Manifest::read(&args.models)?.read_verified(&args.models, CLIP)?;
    let clip = crate::store::load(
        ClipConfig::new(tokenizer.vocab()).init(&device),
        bytes,
        CLIP,
    )?;
    let text = class_embeddings(&clip, &tokenizer, &device);
    let [classes, dims] = text.dims();
    let flat: Vec<f32> = text.into_data().iter::<f32>().collect();
    let scale = clip
        .logit_scale
        .val()
        .clamp_max(100f32.ln())
        .exp()
        .into_scalar::<f32>();
    let table = ClassText {
        scale,
        dims,
        embeddings: flat.chunks(dims).map(<[f32]>::to_vec).collect(),
    };
    let json = serde_json::to_string(&table)? + "\n";
    ClassText::parse(&json)?;
    let out = args.models.join(CLASS_TEXT);
    std::fs::write(&out, &json).with_context(|| format!("writing {}", out.display()))?;
    Manifest::update(&args.models, |m| m.record_file(CLASS_TEXT, json.as_bytes()))?;
    eprintln!(
        "wrote {} ({classes} classes, {dims} dims, scale {scale:.2})",
        out.display()
    );
    Ok(())
}
