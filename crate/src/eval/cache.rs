//! The evaluation's cache of scores (`runs/eval/`): a folder per set of models, a file per
//! chunk of generations, written atomically, so a killed run resumes where it stopped.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::generations::{Scored, Variant, score};
use crate::manifest::{CLASS_TEXT, CLIP_IMAGE, Manifest, POSTERIOR, STUDENT};
use crate::uncertainty::Generator;

/// The cache folder of the models in `models` under `cache`: a new student, posterior or CLIP
/// starts afresh.
pub fn cache_dir(models: &Path, cache: &Path) -> anyhow::Result<PathBuf> {
    let manifest = Manifest::read(models)?;
    let mut key = String::new();
    for name in [STUDENT, POSTERIOR, CLIP_IMAGE, CLASS_TEXT] {
        key.push_str(&manifest.entry(name)?.sha256[..8]);
    }
    Ok(cache.join(key))
}

/// Generations per cache file: a killed run loses at most the chunk in flight.
pub const CHUNK: usize = 128;

/// [`score`] of the first `n` generations, chunk by chunk ([`CHUNK`], aligned, so runs of
/// different sizes share their first chunks): each from the cache folder `dir` when it was
/// scored before, else made and cached (written to a temporary file, then renamed: an
/// interrupted run leaves no half file).
pub fn cached_score(
    g: &Generator,
    dir: &Path,
    variant: Variant,
    n: usize,
    seed: u32,
    weight_seed: u32,
    batch: usize,
) -> anyhow::Result<Scored> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out: Option<Scored> = None;
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let name = format!(
            "{}-{}-m{}-s{seed}-w{weight_seed}-{start}-{end}.json",
            variant.steps,
            variant.perturb.name(),
            variant.max_samples,
        );
        let path = dir.join(name);
        let chunk: Scored = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!("{} is corrupt: delete it to score afresh", path.display())
            })?,
            Err(_) => {
                let scored = score(g, variant, start..end, seed, weight_seed, batch)?;
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, serde_json::to_string(&scored)?)
                    .and_then(|()| std::fs::rename(&tmp, &path))
                    .with_context(|| format!("writing {}", path.display()))?;
                scored
            }
        };
        match &mut out {
            Some(all) => all.concat(chunk),
            None => out = Some(chunk),
        }
    }
    out.context("no generations to score")
}
