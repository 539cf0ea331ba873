//! `genuq label`: the ground truth by eye (eval/labels.rs has the formats and the draw).
//! - `sheets`: from a pool of `genuq score` runs, draw the blind sample and write its contact
//!   sheets (`sheets/*.png`, `cells.json`: no score anywhere) and the key (`key.json`: the
//!   inclusion probabilities and scores; open it only after labelling);
//! - `import`: a labeller's marks (the cells that are not fine, per sheet) into label lines
//!   appended to `labels.jsonl`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use clap::{Args, Subcommand};

use crate::eval::labels::{
    Cells, LabelLine, Marks, Recipe, disputed, label_lines, lay_out, select,
};
use crate::eval::plots;
use crate::eval::pool::{EyeScore, ScoredLine, join_pool};
use crate::uncertainty::Perturb;

use super::score::Line;

#[derive(Debug, Clone, Args)]
pub struct LabelCommand {
    #[command(subcommand)]
    pub command: LabelSub,
}

#[derive(Debug, Clone, Subcommand)]
pub enum LabelSub {
    /// Draw a blind sample from a pool and write its contact sheets and key.
    Sheets(SheetsArgs),
    /// Turn a labeller's marks into label lines (appended to labels.jsonl).
    Import(ImportArgs),
    /// Sheets of the generations whose first and second passes disagree, for a third look.
    Disputed(DisputedArgs),
    /// Draw a set's sheets again from its cells.json (the PNGs are not committed).
    Render(RenderArgs),
}

#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// The folder with cells.json; the sheets go to its `sheets/`.
    #[arg(long)]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct DisputedArgs {
    /// The set's folder (cells.json, labels.jsonl); the sheets go to its `third/`.
    #[arg(long)]
    pub dir: PathBuf,
    /// Seed of the sheets' order.
    #[arg(long, default_value_t = 30)]
    pub seed: u32,
}

#[derive(Debug, Clone, Args)]
pub struct SheetsArgs {
    /// The set's name (`dev` designs scores and picks; `test` only reports).
    #[arg(long)]
    pub set: String,
    /// `genuq score` files of the pool, one per placement of the weight samples (`last` and
    /// `first` needed, `all` optional), same seeds and classes.
    #[arg(long, required = true, num_args = 1..)]
    pub pool: Vec<PathBuf>,
    /// Generations drawn uniformly per class.
    #[arg(long, default_value_t = 50)]
    pub random: usize,
    /// The highest of each `--by` score per class.
    #[arg(long, default_value_t = 8)]
    pub top: usize,
    /// The scores whose top is sampled.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "u-last,u-first,u-all,clip-margin,class-bald,darkness,pixel-variance-last"
    )]
    pub by: Vec<EyeScore>,
    /// Seed of the random draw and the sheets' order.
    #[arg(long, default_value_t = 30)]
    pub seed: u32,
    /// Generations per sheet.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub per_sheet: u32,
    /// Where cells.json, key.json and sheets/ go.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The set's cells.json (from `genuq label sheets`).
    #[arg(long)]
    pub cells: PathBuf,
    /// The labeller's marks.json: {labeller, pass, sheets: {NAME: {malformed: [..], other:
    /// {CELL: garment}, ambiguous: {CELL: garment}}}}.
    #[arg(long)]
    pub marks: PathBuf,
    /// The labels file (appended to).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: &LabelCommand) -> anyhow::Result<()> {
    match &args.command {
        LabelSub::Sheets(a) => sheets(a),
        LabelSub::Import(a) => import(a),
        LabelSub::Disputed(a) => third(a),
        LabelSub::Render(a) => write_sheets(&read_json(&a.dir.join("cells.json"))?, &a.dir),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not what it should be", path.display()))
}

/// A base64 grey PNG as pixels in [-1, 1].
fn decode_png(b64: &str) -> anyhow::Result<Vec<f32>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64)?;
    let img = image::load_from_memory(&bytes)?.to_luma8();
    Ok(img
        .pixels()
        .map(|p| crate::data::grey_pixel(p.0[0]))
        .collect())
}

/// The lines of one `genuq score` file (read as that command's [`Line`]s), and the placement
/// they were scored with.
fn read_pool(path: &Path) -> anyhow::Result<(Perturb, Vec<ScoredLine>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let lines: Vec<ScoredLine> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, l)| {
            let line: Line = serde_json::from_str(l)
                .with_context(|| format!("{} line {}", path.display(), n + 1))?;
            Ok(ScoredLine {
                seed: line.seed,
                class: line.class,
                steps: line.steps,
                samples: line.samples,
                perturb: line.perturb,
                u: line.u,
                pixel_variance: line.pixel_variance,
                class_space: line.class_space,
                image_png: line.image_png,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let perturb = lines
        .first()
        .map(|l| l.perturb)
        .with_context(|| format!("{} is empty", path.display()))?;
    anyhow::ensure!(
        lines.iter().all(|l| l.perturb == perturb),
        "{} mixes placements",
        path.display()
    );
    Ok((perturb, lines))
}

/// Writes `path` whole or not at all (a temporary file renamed over it).
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

fn sheets(args: &SheetsArgs) -> anyhow::Result<()> {
    let runs = args
        .pool
        .iter()
        .map(|p| read_pool(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (sampler, items) = join_pool(&runs, decode_png)?;
    let recipe = Recipe {
        set: args.set.clone(),
        random: args.random,
        top: args.top,
        by: args.by.clone(),
        seed: args.seed,
        per_sheet: args.per_sheet as usize,
    };
    let sample = select(&items, &recipe);
    let (cells, key) = lay_out(&items, &sample, &recipe, sampler);
    write_sheets(&cells, &args.out)?;
    write_atomic(
        &args.out.join("key.json"),
        &(serde_json::to_string_pretty(&key)? + "\n"),
    )?;
    eprintln!(
        "{} generations from a pool of {} on {} sheets in {} (key.json: open after labelling)",
        key.items.len(),
        items.len(),
        cells.sheets.len(),
        args.out.display()
    );
    Ok(())
}

/// `dir/cells.json` and one PNG per sheet in `dir/sheets/`.
fn write_sheets(cells: &Cells, dir: &Path) -> anyhow::Result<()> {
    let sheets = dir.join("sheets");
    std::fs::create_dir_all(&sheets).with_context(|| format!("creating {}", sheets.display()))?;
    for sheet in &cells.sheets {
        let images = sheet
            .cells
            .iter()
            .map(|c| decode_png(&c.image_png))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let refs: Vec<&[f32]> = images.iter().map(|v| v.as_slice()).collect();
        let title = format!(
            "{}: asked for {} ({} steps)",
            sheet.name, sheet.class, cells.steps
        );
        plots::sheet(
            &sheets.join(format!("{}.png", sheet.name)),
            &title,
            &refs,
            10,
            4,
        )?;
    }
    write_atomic(
        &dir.join("cells.json"),
        &(serde_json::to_string(cells)? + "\n"),
    )
}

fn read_labels(path: &Path) -> anyhow::Result<Vec<LabelLine>> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(n, l)| {
                serde_json::from_str(l)
                    .with_context(|| format!("{} line {}", path.display(), n + 1))
            })
            .collect(),
        Err(_) => Ok(Vec::new()),
    }
}

fn third(args: &DisputedArgs) -> anyhow::Result<()> {
    let cells: Cells = read_json(&args.dir.join("cells.json"))?;
    let lines = read_labels(&args.dir.join("labels.jsonl"))?;
    let third = disputed(&cells, &lines, args.seed, 50);
    let n: usize = third.sheets.iter().map(|s| s.cells.len()).sum();
    write_sheets(&third, &args.dir.join("third"))?;
    eprintln!(
        "{n} disputed generations on {} sheets in {}",
        third.sheets.len(),
        args.dir.join("third").display()
    );
    Ok(())
}

fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let cells: Cells = read_json(&args.cells)?;
    let marks: Marks = read_json(&args.marks)?;
    let lines = label_lines(&cells, &marks)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.marks.display()))?;
    let existing = read_labels(&args.out)?;
    let clash = |l: &LabelLine| {
        existing
            .iter()
            .any(|e| (e.pass, &e.class, e.seed) == (l.pass, &l.class, l.seed))
    };
    if let Some(l) = lines.iter().find(|l| clash(l)) {
        anyhow::bail!(
            "{} already has pass {:?} of {} seed {}",
            args.out.display(),
            l.pass,
            l.class,
            l.seed
        );
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.out)?;
    let text: String = lines
        .iter()
        .map(|l| serde_json::to_string(l).map(|s| s + "\n"))
        .collect::<Result<_, _>>()?;
    file.write_all(text.as_bytes())?;
    eprintln!(
        "{} labels by {} ({:?} pass) into {}",
        lines.len(),
        marks.labeller,
        marks.pass,
        args.out.display()
    );
    Ok(())
}
