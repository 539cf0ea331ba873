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

use crate::data::{Dataset, Split};
use crate::eval::candidates::Bank;
use crate::eval::candidates::{CandidateLine, Candidates};
use crate::eval::labels::{
    Cells, Key, LabelLine, Marks, Recipe, disputed, label_lines, lay_out, select,
};
use crate::eval::plots;
use crate::eval::pool::{EyeScore, PoolItem, PoolSampler, ScoredLine, join_pool};
use crate::eval::regions::{
    MapName, Mapped, RegionLine, RegionMarks, coverage, region_cells, region_lines,
};
use crate::eval::teacher::{Teacher, cached_posterior, eye_pool};
use crate::gpu::Compute;
use crate::manifest::{CLASSIFIER, DISCRIMINATOR, Manifest, TEACHER};
use crate::model::UNetConfig;
use crate::model::classifier::ClassifierConfig;
use crate::uncertainty::Generator;
use crate::uncertainty::Perturb;
use crate::uncertainty::Request;
use crate::uncertainty::load::load_generator;
use std::collections::BTreeMap;

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
fn placement<T>(path: &Path, lines: &[T], of: impl Fn(&T) -> Perturb) -> anyhow::Result<Perturb> {
    let perturb = lines
        .first()
        .map(&of)
        .with_context(|| format!("{} is empty", path.display()))?;
    anyhow::ensure!(
        lines.iter().all(|l| of(l) == perturb),
        "{} mixes placements",
        path.display()
    );
    Ok(perturb)
}

/// The lines of one `genuq score` file (read as that command's [`Line`]s), and the placement
/// they were scored with.
fn read_pool(path: &Path) -> anyhow::Result<(Perturb, Vec<ScoredLine>)> {
    let lines: Vec<ScoredLine> = read_jsonl::<Line>(path)?
        .into_iter()
        .map(|line| {
            let r = line.record;
            ScoredLine {
                seed: r.seed,
                class: r.class,
                steps: r.steps,
                samples: r.samples,
                perturb: r.perturb,
                u: r.u,
                pixel_variance: line.pixel_variance,
                class_space: r.class_space,
                image_png: line.image_png,
            }
        })
        .collect();
    Ok((placement(path, &lines, |l| l.perturb)?, lines))
}

/// The lines of a `genuq label candidates` file and their placement.
fn read_candidates(path: &Path) -> anyhow::Result<(Perturb, Vec<CandidateLine>)> {
    let lines: Vec<CandidateLine> = read_jsonl(path)?;
    Ok((placement(path, &lines, |l| l.perturb)?, lines))
}

/// `genuq label candidates`: every generation of the pool file scored with the candidates,
/// its MAP image checked against the pool's (within a grey level and a half).
fn candidates(args: &CandidatesArgs) -> anyhow::Result<()> {
    let (_, pool) = read_pool(&args.pool)?;
    let done: std::collections::HashSet<(u32, String)> = match args.out.exists() {
        true => read_candidates(&args.out)?
            .1
            .into_iter()
            .map(|l| (l.seed, l.class))
            .collect(),
        false => Default::default(),
    };
    let sample: Option<std::collections::HashSet<(u32, String)>> = match &args.key {
        Some(path) => Some(
            read_json::<Key>(path)?
                .items
                .into_iter()
                .map(|i| (i.seed, i.class))
                .collect(),
        ),
        None => None,
    };
    let todo: Vec<&ScoredLine> = pool
        .iter()
        .filter(|l| !done.contains(&(l.seed, l.class.clone())))
        .filter(|l| {
            sample
                .as_ref()
                .is_none_or(|s| s.contains(&(l.seed, l.class.clone())))
        })
        .collect();
    eprintln!("{} generations to score ({} done)", todo.len(), done.len());
    if todo.is_empty() {
        return Ok(());
    }
    let generator = load_generator(&args.models, Compute::Cpu)?;
    let manifest = Manifest::read(&args.models)?;
    let nets = generator.nets.clone();
    let read = |name: &str| manifest.read_verified(&args.models, name);
    let judge = crate::store::load(
        ClassifierConfig::new().init(&nets),
        read(CLASSIFIER)?,
        CLASSIFIER,
    )?;
    let discriminator = crate::store::load(
        ClassifierConfig::new().with_outputs(2).init(&nets),
        read(DISCRIMINATOR)?,
        DISCRIMINATOR,
    )?;
    let train = Dataset::load(&crate::data::default_dir(), Split::Train)?;
    let space = Candidates::new(judge, discriminator, &generator, &train);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.out)
        .with_context(|| format!("opening {}", args.out.display()))?;
    let bar = indicatif::ProgressBar::new(todo.len() as u64);
    for l in todo {
        let class = crate::data::class_index(&l.class)
            .with_context(|| format!("unknown class {:?}", l.class))?;
        let mut req = Request::new(class, l.seed);
        (req.steps, req.samples, req.perturb) = (l.steps, l.samples, l.perturb);
        let s = space.score(&generator, &req)?;
        let pool_image = decode_png(&l.image_png)?;
        let close = |(a, b): (&f32, &f32)| (a - b).abs() <= 1.5 / crate::data::GREY_HALF;
        anyhow::ensure!(
            s.image.iter().zip(&pool_image).all(close),
            "seed {} {}: the regenerated MAP image differs from the pool's",
            l.seed,
            l.class
        );
        writeln!(file, "{}", serde_json::to_string(&s)?)
            .and_then(|()| file.flush())
            .with_context(|| format!("writing {}", args.out.display()))?;
        bar.inc(1);
    }
    bar.finish();
    Ok(())
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
enum SheetKind {
    Labels,
    Regions,
}

/// `dir/cells.json` and one PNG per sheet in `dir/sheets/`.
fn write_sheets(cells: &Cells, dir: &Path, kind: SheetKind) -> anyhow::Result<()> {
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
fn teacher_set(args: &TeacherArgs) -> anyhow::Result<()> {
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
        item.image_png = super::score::png_base64(&item.image)?;
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

fn read_labels(path: &Path) -> anyhow::Result<Vec<LabelLine>> {
    match path.exists() {
        true => read_jsonl(path),
        false => Ok(Vec::new()),
    }
}

fn third(args: &DisputedArgs) -> anyhow::Result<()> {
    let cells: Cells = read_json(&args.dir.join("cells.json"))?;
    let lines = read_labels(&args.dir.join("labels.jsonl"))?;
    let third = disputed(&cells, &lines, args.seed, 50);
    let n: usize = third.sheets.iter().map(|s| s.cells.len()).sum();
    write_sheets(&third, &args.dir.join("third"), SheetKind::Labels)?;
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

/// `genuq label regions`: the set's malformed generations (resolved labels) on region sheets.
fn regions(dir: &Path) -> anyhow::Result<()> {
    let cells: Cells = read_json(&dir.join("cells.json"))?;
    let (labels, _) = crate::eval::by_eye::resolve(&read_labels(&dir.join("labels.jsonl"))?);
    let regions = region_cells(&cells, &labels, 12);
    let out = dir.join("regions");
    write_sheets(&regions, &out, SheetKind::Regions)?;
    let n: usize = regions.sheets.iter().map(|s| s.cells.len()).sum();
    eprintln!(
        "{n} malformed generations on {} region sheets in {}",
        regions.sheets.len(),
        out.display()
    );
    Ok(())
}

/// `genuq label import-regions`: a labeller's boxes into `regions.jsonl`, once per labeller.
fn import_regions(args: &ImportRegionsArgs) -> anyhow::Result<()> {
    let cells: Cells = read_json(&args.dir.join("regions").join("cells.json"))?;
    let marks: RegionMarks = read_json(&args.marks)?;
    let lines = region_lines(&cells, &marks)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.marks.display()))?;
    let path = args.dir.join("regions.jsonl");
    let existing: Vec<RegionLine> = match path.exists() {
        true => read_jsonl(&path)?,
        false => Vec::new(),
    };
    let seen = existing.iter().any(|l| l.labeller == marks.labeller);
    anyhow::ensure!(
        !seen,
        "{} already has {}'s boxes",
        path.display(),
        marks.labeller
    );
    let text: String = lines
        .iter()
        .map(|l| serde_json::to_string(l).map(|s| s + "\n"))
        .collect::<Result<_, _>>()?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "{} boxes by {} into {}",
        lines.len(),
        marks.labeller,
        path.display()
    );
    Ok(())
}

/// The maps of one generation at the shipped steps and M: the heatmap at every placement, the
/// trajectory spread per pixel, the MAP image's ink.
fn maps_of(g: &Generator, class: usize, seed: u32) -> anyhow::Result<BTreeMap<MapName, Vec<f32>>> {
    let mut maps = BTreeMap::new();
    for (name, perturb) in [
        (MapName::HeatmapLast, Perturb::Last),
        (MapName::HeatmapFirst, Perturb::First),
        (MapName::HeatmapAll, Perturb::All),
    ] {
        let mut req = Request::new(class, seed);
        req.perturb = perturb;
        let out = pollster::block_on(g.generate(&req))?;
        if name == MapName::HeatmapFirst {
            maps.insert(
                MapName::Ink,
                out.image.iter().map(|v| (v + 1.0) / 2.0).collect(),
            );
        }
        maps.insert(name, out.variance);
    }
    let (_, steps) = g.plain_traced(&[class], &[seed], crate::uncertainty::DEFAULT_STEPS)?;
    let n = steps.len();
    let stacked = burn::tensor::Tensor::stack::<3>(
        steps
            .into_iter()
            .map(|p| p.reshape([1, crate::data::PIXELS]))
            .collect(),
        1,
    );
    let spread = stacked.var_bias(1).reshape([crate::data::PIXELS]);
    anyhow::ensure!(n >= 1, "no steps");
    maps.insert(
        MapName::Trajectory,
        spread.into_data().iter::<f32>().collect(),
    );
    Ok(maps)
}

/// `genuq label coverage`: per set, every map's coverage of the labellers' boxes.
fn coverage_report(args: &CoverageArgs) -> anyhow::Result<()> {
    let g = load_generator(&args.models, Compute::Cpu)?;
    let mut report = serde_json::Map::new();
    for dir in &args.dir {
        let lines: Vec<RegionLine> = read_jsonl(&dir.join("regions.jsonl"))?;
        let mut by: BTreeMap<(String, u32), Vec<Option<[u32; 4]>>> = BTreeMap::new();
        for l in &lines {
            by.entry((l.class.clone(), l.seed))
                .or_default()
                .push(l.region);
        }
        let nulls = lines.iter().filter(|l| l.region.is_none()).count();
        let ious: Vec<f64> = by
            .values()
            .filter_map(|r| match r.as_slice() {
                [Some(a), Some(b)] => Some(crate::eval::regions::iou(*a, *b)),
                _ => None,
            })
            .collect();
        let mut items = Vec::new();
        for ((class, seed), regions) in &by {
            let regions: Vec<[u32; 4]> = regions.iter().flatten().copied().collect();
            if regions.is_empty() {
                continue;
            }
            let c = crate::data::class_index(class)
                .with_context(|| format!("unknown class {class:?}"))?;
            items.push(Mapped {
                maps: maps_of(&g, c, *seed)?,
                regions,
            });
        }
        let set = dir
            .file_name()
            .map_or("set".into(), |n| n.to_string_lossy().to_string());
        let c = coverage(&items, nulls, &ious, 30);
        eprintln!(
            "{set}: {} boxed generations, {} boxes, {} nulls, median IoU {:?}",
            c.boxed, c.boxes, c.nulls, c.iou_median
        );
        for (name, m) in &c.maps {
            eprintln!(
                "  {:<14} pixel AUROC {:.3} [{:.3}, {:.3}]  hit {:.2}  minus ink {:+.3} [{:+.3}, {:+.3}]",
                format!("{name:?}"),
                m.auroc.value,
                m.auroc.ci[0],
                m.auroc.ci[1],
                m.hit,
                m.minus_ink.value,
                m.minus_ink.ci[0],
                m.minus_ink.ci[1]
            );
        }
        report.insert(set, serde_json::to_value(&c)?);
    }
    write_atomic(&args.out, &(serde_json::to_string_pretty(&report)? + "\n"))?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
