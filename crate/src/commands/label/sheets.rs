//! `label sheets`, `label render` and `label teacher`: the blind sample and its contact sheets
//! (no score anywhere), and the key to open after labelling.

use std::path::Path;

use anyhow::Context;

use super::pool::{read_candidates, read_pool};
use super::{SheetsArgs, TeacherArgs, decode_png, write_atomic};
use crate::data::{Dataset, Split};
use crate::eval::candidates::Bank;
use crate::eval::labels::{Cells, Key, Recipe, lay_out, select};
use crate::eval::plots;
use crate::eval::pool::{PoolItem, PoolSampler, join_pool};
use crate::eval::teacher::{Teacher, cached_posterior, eye_pool};
use crate::gpu::Compute;
use crate::manifest::{Manifest, TEACHER};
use crate::model::UNetConfig;
use crate::uncertainty::Perturb;
use crate::uncertainty::load::load_generator;

pub(super) fn sheets(args: &SheetsArgs) -> anyhow::Result<()> {
    let runs = args
        .pool
        .iter()
        .map(|p| read_pool(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let candidates = args
        .candidates
        .iter()
        .map(|p| read_candidates(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (sampler, items) = join_pool(&runs, &candidates, decode_png)?;
    let recipe = Recipe {
        set: args.set.clone(),
        random: args.random,
        top: args.top,
        by: args.by.clone(),
        seed: args.layout.seed,
        per_sheet: args.layout.per_sheet as usize,
    };
    let (cells, key) = write_set(&items, &recipe, sampler, &args.layout.out)?;
    eprintln!(
        "{} generations from a pool of {} on {} sheets in {} (key.json: open after labelling)",
        key.items.len(),
        items.len(),
        cells.sheets.len(),
        args.layout.out.display()
    );
    Ok(())
}

/// The sample of `recipe` from `items` laid out on sheets in `out` (`sheets/`, `cells.json`) and
/// its key (`key.json`, opened only after labelling).
fn write_set(
    items: &[PoolItem],
    recipe: &Recipe,
    sampler: PoolSampler,
    out: &Path,
) -> anyhow::Result<(Cells, Key)> {
    let sample = select(items, recipe);
    let (cells, key) = lay_out(items, &sample, recipe, sampler);
    write_sheets(&cells, out, SheetKind::Labels)?;
    write_atomic(
        &out.join("key.json"),
        &(serde_json::to_string_pretty(&key)? + "\n"),
    )?;
    Ok((cells, key))
}

/// What a set of sheets is for: labelling (contact sheets) or marking regions (8x, a grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SheetKind {
    Labels,
    Regions,
}

/// `dir/cells.json` and one PNG per sheet in `dir/sheets/`.
pub(super) fn write_sheets(cells: &Cells, dir: &Path, kind: SheetKind) -> anyhow::Result<()> {
    let sheets = dir.join("sheets");
    std::fs::create_dir_all(&sheets).with_context(|| format!("creating {}", sheets.display()))?;
    for sheet in &cells.sheets {
        let images = sheet
            .cells
            .iter()
            .map(|c| decode_png(&c.image_png))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let refs: Vec<&[f32]> = images.iter().map(|v| v.as_slice()).collect();
        let path = sheets.join(format!("{}.png", sheet.name));
        let (name, class) = (&sheet.name, &sheet.class);
        match kind {
            SheetKind::Labels => {
                let title = format!("{name}: asked for {class} ({} steps)", cells.steps);
                plots::sheet(&path, &title, &refs, 10, 4)?
            }
            SheetKind::Regions => {
                let title = format!("{name}: asked for {class} (mark where each is broken)");
                plots::region_sheet(&path, &title, &refs, 4)?
            }
        }
    }
    write_atomic(
        &dir.join("cells.json"),
        &(serde_json::to_string(cells)? + "\n"),
    )
}

/// `genuq label teacher`: the teacher's generations of `args.seeds` (every class), scored
/// ([`eye_pool`]), every one on the sheets (inclusion 1), and the key.
pub(super) fn teacher_set(args: &TeacherArgs) -> anyhow::Result<()> {
    let seeds = u32::try_from(args.seeds.end)
        .map(|end| args.seeds.start..end)
        .context("the teacher's seeds end at 4294967295")?;
    let g = load_generator(&args.models, Compute::Cpu)?;
    let manifest = Manifest::read(&args.models)?;
    let bytes = manifest.read_verified(&args.models, TEACHER)?;
    let unet = crate::store::load(UNetConfig::new().init(&g.nets), bytes, TEACHER)?;
    let key = &manifest.entry(TEACHER)?.sha256[..8];
    let path = args
        .cache
        .join(format!("teacher-{key}-posterior-{}.json", args.examples));
    let train = Dataset::load(&crate::data::default_dir(), Split::Train)?;
    let examples = args.examples as usize;
    let posterior = cached_posterior(&path, &unet, &train, examples, &g.nets)?;
    let (steps, guidance) = (args.steps as usize, args.guidance);
    let teacher = Teacher::new(unet, posterior, steps, guidance)?;
    let bank = Bank::new(&train, &g.nets, |x| g.clip.forward(x));
    let mut items = eye_pool(&g, &teacher, &bank, seeds)?;
    for item in &mut items {
        item.image_png = crate::commands::score::png_base64(&item.image)?;
    }
    let recipe = Recipe {
        set: "teacher".into(),
        random: items.len(),
        top: 0,
        by: Vec::new(),
        seed: args.layout.seed,
        per_sheet: args.layout.per_sheet as usize,
    };
    let sampler = PoolSampler {
        steps,
        samples: crate::eval::generations::MAIN_M,
        perturb: Perturb::All,
    };
    let (cells, _) = write_set(&items, &recipe, sampler, &args.layout.out)?;
    eprintln!(
        "{} teacher generations on {} sheets in {} (the key: key.json)",
        items.len(),
        cells.sheets.len(),
        args.layout.out.display()
    );
    Ok(())
}
