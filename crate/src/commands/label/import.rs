//! `label import`, `label disputed`, `label regions`, `label import-regions` and
//! `label coverage`: a labeller's marks into label lines, the third pass on disagreements, and
//! the regions a labeller marked against the heatmaps.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::sheets::{SheetKind, write_sheets};
use super::{
    CoverageArgs, DisputedArgs, ImportArgs, ImportRegionsArgs, read_json, read_jsonl, read_labels,
    write_atomic,
};
use crate::eval::labels::{Cells, LabelLine, Marks, disputed, label_lines};
use crate::eval::regions::{
    MapName, Mapped, RegionLine, RegionMarks, coverage, region_cells, region_lines,
};
use crate::gpu::Compute;
use crate::uncertainty::Generator;
use crate::uncertainty::Perturb;
use crate::uncertainty::Request;
use crate::uncertainty::load::load_generator;
use std::collections::BTreeMap;

pub(super) fn third(args: &DisputedArgs) -> anyhow::Result<()> {
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

pub(super) fn import(args: &ImportArgs) -> anyhow::Result<()> {
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
pub(super) fn regions(dir: &Path) -> anyhow::Result<()> {
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
pub(super) fn import_regions(args: &ImportRegionsArgs) -> anyhow::Result<()> {
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
pub(super) fn coverage_report(args: &CoverageArgs) -> anyhow::Result<()> {
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
