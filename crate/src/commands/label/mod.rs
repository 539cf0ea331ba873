//! `genuq label`: the ground truth by eye (eval/labels/ has the formats and the draw).
//! - `sheets`: from a pool of `genuq score` runs, draw the blind sample and write its contact
//!   sheets (`sheets/*.png`, `cells.json`: no score anywhere) and the key (`key.json`: the
//!   inclusion probabilities and scores; open it only after labelling);
//! - `import`: a labeller's marks (the cells that are not fine, per sheet) into label lines
//!   appended to `labels.jsonl`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use clap::{Args, Subcommand};

use crate::eval::labels::LabelLine;
use crate::eval::pool::EyeScore;

mod import;
mod pool;
mod sheets;

use import::{coverage_report, import, import_regions, regions, third};
use pool::candidates;
use sheets::{SheetKind, sheets, teacher_set, write_sheets};

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
    /// Region sheets of a set's malformed generations (regions/), to mark where each is broken.
    Regions(RenderArgs),
    /// Turn a labeller's boxes into region lines (appended to regions.jsonl).
    ImportRegions(ImportRegionsArgs),
    /// How well each map (heatmaps, trajectory spread, ink) covers the boxes (regions.jsonl).
    Coverage(CoverageArgs),
    /// Score a pool's generations with the candidates `genuq score` lacks (eval/candidates.rs).
    Candidates(CandidatesArgs),
    /// The teacher control by eye: sheets and key of the teacher's generations (every one
    /// labelled), scored in CLIP's space and the structure space.
    Teacher(TeacherArgs),
}

/// Where a set's sheets go and how they are laid out (`label sheets`, `label teacher`).
#[derive(Debug, Clone, Args)]
pub struct Layout {
    /// Seed of the random draw (where there is one) and of the sheets' order.
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
pub struct TeacherArgs {
    /// The seeds, `A..B` or `A..=B`: each seed's generation of every class.
    #[arg(long, value_parser = super::score::parse_seeds)]
    pub seeds: super::score::SeedRange,
    /// The models folder (the generator's files, the teacher).
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Heun steps and guidance of the teacher (`eval`'s defaults).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub steps: u32,
    #[arg(long, default_value_t = 1.5)]
    pub guidance: f32,
    /// Training images the teacher's posterior is fitted on (`eval`'s default).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub examples: u32,
    /// Where the fitted posterior is kept between runs.
    #[arg(long, default_value = "runs/teacher")]
    pub cache: PathBuf,
    #[command(flatten)]
    pub layout: Layout,
}

#[derive(Debug, Clone, Args)]
pub struct ImportRegionsArgs {
    /// The set's folder (regions/cells.json; regions.jsonl is appended to).
    #[arg(long)]
    pub dir: PathBuf,
    /// The labeller's boxes: {labeller, sheets: {NAME: {CELL: [x0, y0, x1, y1] or null}}}.
    #[arg(long)]
    pub marks: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct CoverageArgs {
    /// The sets' folders (each with regions.jsonl).
    #[arg(long, required = true, num_args = 1..)]
    pub dir: Vec<PathBuf>,
    /// The models folder (the generator's files).
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// The report (JSON, one section per set).
    #[arg(long, default_value = "reports/regions.json")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct CandidatesArgs {
    /// A `genuq score` file of the pool (its placement is the one scored).
    #[arg(long)]
    pub pool: PathBuf,
    /// The models folder: the generator's files (the structure space's among them), the
    /// classifier and the discriminator.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// The JSON-lines file (appended to; generations already there are skipped).
    #[arg(long)]
    pub out: PathBuf,
    /// Only the generations of this key.json (a labelled sample), not the whole pool.
    #[arg(long)]
    pub key: Option<PathBuf>,
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
    /// `genuq label candidates` files of the same pool (their scores join the key's; the
    /// scores of the MAP image alone come from the first file that has the generation).
    #[arg(long, num_args = 0..)]
    pub candidates: Vec<PathBuf>,
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
    #[command(flatten)]
    pub layout: Layout,
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
        LabelSub::Render(a) => write_sheets(
            &read_json(&a.dir.join("cells.json"))?,
            &a.dir,
            SheetKind::Labels,
        ),
        LabelSub::Candidates(a) => candidates(a),
        LabelSub::Regions(a) => regions(&a.dir),
        LabelSub::ImportRegions(a) => import_regions(a),
        LabelSub::Coverage(a) => coverage_report(a),
        LabelSub::Teacher(a) => teacher_set(a),
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

/// The lines of a JSON-lines file, each a `T`; an error names the line.
fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, l)| {
            serde_json::from_str(l).with_context(|| format!("{} line {}", path.display(), n + 1))
        })
        .collect()
}

/// The one placement of the weight samples all `lines` of `path` were scored at.
/// Writes `path` whole or not at all (a temporary file renamed over it).
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

fn read_labels(path: &Path) -> anyhow::Result<Vec<LabelLine>> {
    match path.exists() {
        true => read_jsonl(path),
        false => Ok(Vec::new()),
    }
}
