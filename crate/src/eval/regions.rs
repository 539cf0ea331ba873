//! Where a malformed generation is broken, and which map shows it. The malformed generations of
//! a labelled set (resolved labels) go on region sheets (`regions/cells.json`, the images at
//! 8x with a pixel grid); a labeller marks each with a box in the image's 0..32 pixel
//! coordinates (`[x0, y0, x1, y1]`, x1 and y1 excluded) or with `null` where the whole
//! garment is broken; `regions.jsonl` holds one [`RegionLine`] per generation and labeller.
//! A map (a heatmap's per-pixel variance, the trajectory spread, the ink) covers a box as well
//! as its [`pixel_auroc`] says: the chance that a pixel inside the box outranks one outside.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::by_eye::{Estimate, Generated, estimate};
use super::labels::{Cells, Label, Sheet};
use crate::data::IMAGE_SIZE;
use crate::uncertainty::Perturb;

/// A box `[x0, y0, x1, y1]` in image pixels (x1, y1 excluded).
pub type Region = [u32; 4];

/// A labeller's boxes: per sheet, per cell, a box or `null` (broken all over).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionMarks {
    pub labeller: String,
    pub sheets: BTreeMap<String, BTreeMap<usize, Option<Region>>>,
}

/// One generation's box by one labeller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionLine {
    pub set: String,
    pub class: String,
    pub seed: u32,
    pub steps: usize,
    pub perturb: Perturb,
    /// `None`: the labeller saw no place that is broken more than the rest.
    pub region: Option<Region>,
    pub labeller: String,
}

/// The region sheets of a set: its malformed generations (by `labels`), per class, at most
/// `per_sheet` to a sheet, in the order of the set's own sheets.
pub fn region_cells(cells: &Cells, labels: &BTreeMap<Generated, Label>, per_sheet: usize) -> Cells {
    let mut by_class: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for sheet in &cells.sheets {
        for c in &sheet.cells {
            if labels.get(&(sheet.class.clone(), c.seed)) == Some(&Label::Malformed) {
                by_class
                    .entry(sheet.class.as_str())
                    .or_default()
                    .push(c.clone());
            }
        }
    }
    let mut sheets = Vec::new();
    for (class, list) in by_class {
        for (page, chunk) in list.chunks(per_sheet.max(1)).enumerate() {
            sheets.push(Sheet {
                name: format!("{}-regions-{class}-{}", cells.set, page + 1),
                class: class.to_string(),
                cells: chunk
                    .iter()
                    .enumerate()
                    .map(|(n, c)| super::labels::Cell {
                        cell: n + 1,
                        ..c.clone()
                    })
                    .collect(),
            });
        }
    }
    Cells {
        sheets,
        ..cells.clone()
    }
}

/// The region lines of `marks` on the region sheets `cells`: every cell must be marked, every
/// box lie in the image and hold a pixel.
pub fn region_lines(cells: &Cells, marks: &RegionMarks) -> Result<Vec<RegionLine>, String> {
    let side = IMAGE_SIZE as u32;
    let mut out = Vec::new();
    for sheet in &cells.sheets {
        let mine = marks.sheets.get(&sheet.name);
        for c in &sheet.cells {
            let region = *mine.and_then(|m| m.get(&c.cell)).ok_or_else(|| {
                format!("{} cell {} has no mark (a box or null)", sheet.name, c.cell)
            })?;
            if let Some([x0, y0, x1, y1]) = region
                && !(x0 < x1 && y0 < y1 && x1 <= side && y1 <= side)
            {
                return Err(format!(
                    "{} cell {}: [{x0}, {y0}, {x1}, {y1}] is not a box in the 0..{side} image",
                    sheet.name, c.cell
                ));
            }
            out.push(RegionLine {
                set: cells.set.clone(),
                class: sheet.class.clone(),
                seed: c.seed,
                steps: cells.steps,
                perturb: cells.perturb,
                region,
                labeller: marks.labeller.clone(),
            });
        }
    }
    Ok(out)
}

/// Whether pixel `p` (row-major in the 32x32 image) lies in `r`.
fn inside(p: usize, r: Region) -> bool {
    let (x, y) = ((p % IMAGE_SIZE) as u32, (p / IMAGE_SIZE) as u32);
    x >= r[0] && x < r[2] && y >= r[1] && y < r[3]
}

/// The chance that a pixel inside `r` has a higher `map` value than one outside (ties half):
/// 1 where the map is highest exactly in the box, 0.5 for a map blind to it. `None` for a box
/// that covers the whole image.
pub fn pixel_auroc(map: &[f32], r: Region) -> Option<f64> {
    let (inn, out): (Vec<_>, Vec<_>) = map
        .iter()
        .copied()
        .enumerate()
        .partition(|&(p, _)| inside(p, r));
    if inn.is_empty() || out.is_empty() {
        return None;
    }
    let mut ranked: Vec<(f32, bool)> = inn
        .iter()
        .map(|&(_, v)| (v, true))
        .chain(out.iter().map(|&(_, v)| (v, false)))
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mann-Whitney U with mid-ranks for ties
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < ranked.len() {
        let j = (i..ranked.len())
            .find(|&j| ranked[j].0 != ranked[i].0)
            .unwrap_or(ranked.len());
        let mid = (i + j + 1) as f64 / 2.0;
        rank_sum += mid * ranked[i..j].iter().filter(|r| r.1).count() as f64;
        i = j;
    }
    let (n1, n0) = (inn.len() as f64, out.len() as f64);
    Some((rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0))
}

/// The intersection over union of two boxes.
pub fn iou(a: Region, b: Region) -> f64 {
    let w = a[2].min(b[2]).saturating_sub(a[0].max(b[0])) as f64;
    let h = a[3].min(b[3]).saturating_sub(a[1].max(b[1])) as f64;
    let area = |r: Region| ((r[2] - r[0]) * (r[3] - r[1])) as f64;
    let inter = w * h;
    inter / (area(a) + area(b) - inter)
}

/// The maps a region can be compared with, each `[PIXELS]`, higher = "look here".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapName {
    /// The heatmap (per-pixel variance across the M + 1 images), weight samples at the last step.
    HeatmapLast,
    /// The heatmap, weight samples at the first step (the shipped placement).
    HeatmapFirst,
    /// The heatmap, weight samples at every step.
    HeatmapAll,
    /// The per-pixel variance across the steps of each step's clean prediction.
    Trajectory,
    /// The MAP image's brightness: where the garment is (the baseline: a map that only knows
    /// where the ink is).
    Ink,
}

/// One boxed generation: its maps and every labeller's box.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub maps: BTreeMap<MapName, Vec<f32>>,
    pub regions: Vec<Region>,
}

/// How well one map covers the boxes.
#[derive(Debug, Clone, Serialize)]
pub struct MapCoverage {
    /// The mean over generations of the mean pixel AUROC over their boxes (0.5: blind).
    pub auroc: Estimate,
    /// The share of boxes that hold the map's highest pixel.
    pub hit: f64,
    /// The AUROC minus ink's, paired by generation.
    pub minus_ink: Estimate,
}

/// The boxes of a set and every map's coverage of them.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// Malformed generations with at least one box.
    pub boxed: usize,
    pub boxes: usize,
    /// Marks that said "broken all over" (no box).
    pub nulls: usize,
    /// The median intersection over union of two labellers' boxes of one generation.
    pub iou_median: Option<f64>,
    pub maps: BTreeMap<MapName, MapCoverage>,
}

/// The mean pixel AUROC of `map` over `regions` (`None` if no box leaves pixels outside).
fn item_auroc(map: &[f32], regions: &[Region]) -> Option<f64> {
    let v: Vec<f64> = regions
        .iter()
        .filter_map(|&r| pixel_auroc(map, r))
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Every map's coverage of the boxes of `items`, with 200 bootstrap resamples of the
/// generations (seeded by `seed`) for the intervals.
pub fn coverage(items: &[Mapped], nulls: usize, ious: &[f64], seed: u32) -> Coverage {
    let names: Vec<MapName> = items
        .first()
        .map_or(Vec::new(), |i| i.maps.keys().copied().collect());
    let per = |name: MapName| -> Vec<f64> {
        items
            .iter()
            .map(|i| item_auroc(&i.maps[&name], &i.regions).unwrap_or(f64::NAN))
            .collect()
    };
    let ink = per(MapName::Ink);
    let mean = |v: &[f64], idx: &[usize]| {
        let x: Vec<f64> = idx
            .iter()
            .map(|&i| v[i])
            .filter(|x| x.is_finite())
            .collect();
        x.iter().sum::<f64>() / x.len().max(1) as f64
    };
    let n = items.len();
    let all: Vec<usize> = (0..n).collect();
    let resamples: Vec<Vec<usize>> = (0..200u32)
        .map(|r| {
            (0..n as u32)
                .map(|i| {
                    crate::rng::word(seed, crate::rng::Stream::Bootstrap(r), i) as usize % n.max(1)
                })
                .collect()
        })
        .collect();
    let mut maps = BTreeMap::new();
    for name in names {
        let v = per(name);
        let diff: Vec<f64> = v.iter().zip(&ink).map(|(a, b)| a - b).collect();
        let boot = |x: &[f64]| resamples.iter().map(|idx| mean(x, idx)).collect::<Vec<_>>();
        let (mut hits, mut boxes) = (0usize, 0usize);
        for i in items {
            let m = &i.maps[&name];
            let top = (0..m.len())
                .max_by(|&a, &b| m[a].total_cmp(&m[b]))
                .unwrap_or(0);
            hits += i.regions.iter().filter(|&&r| inside(top, r)).count();
            boxes += i.regions.len();
        }
        maps.insert(
            name,
            MapCoverage {
                auroc: estimate(mean(&v, &all), boot(&v)),
                hit: hits as f64 / boxes.max(1) as f64,
                minus_ink: estimate(mean(&diff, &all), boot(&diff)),
            },
        );
    }
    let mut sorted = ious.to_vec();
    sorted.sort_by(f64::total_cmp);
    Coverage {
        boxed: n,
        boxes: items.iter().map(|i| i.regions.len()).sum(),
        nulls,
        iou_median: (!sorted.is_empty()).then(|| sorted[sorted.len() / 2]),
        maps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::PIXELS;

    /// A map that is 1 exactly in the box scores 1, its negative 0, a constant 0.5; a map with
    /// the box's pixels at 1 and half the outside at 1 too scores 0.75 (closed form: a pair
    /// (in, out) is won when out is 0, tied otherwise).
    #[test]
    fn pixel_auroc_closed_forms() {
        let r = [4, 4, 12, 8];
        let boxed: Vec<f32> = (0..PIXELS).map(|p| inside(p, r) as u8 as f32).collect();
        assert_eq!(pixel_auroc(&boxed, r), Some(1.0));
        let neg: Vec<f32> = boxed.iter().map(|v| -v).collect();
        assert_eq!(pixel_auroc(&neg, r), Some(0.0));
        assert_eq!(pixel_auroc(&vec![3.0; PIXELS], r), Some(0.5));
        let half: Vec<f32> = (0..PIXELS)
            .map(|p| (inside(p, r) || p < PIXELS / 2) as u8 as f32)
            .collect();
        let outside_ones = (0..PIXELS / 2).filter(|&p| !inside(p, r)).count() as f64;
        let out = (PIXELS - 32) as f64;
        let want = 1.0 - 0.5 * outside_ones / out;
        assert!((pixel_auroc(&half, r).unwrap() - want).abs() < 1e-12);
        assert_eq!(pixel_auroc(&boxed, [0, 0, 32, 32]), None);
    }

    /// A map that lights exactly the box covers it (AUROC 1, every hit, +0.5 over a blind
    /// ink map); ink that is flat scores 0.5.
    #[test]
    fn coverage_of_an_exact_map() {
        let r = [8, 8, 16, 16];
        let exact: Vec<f32> = (0..PIXELS).map(|p| inside(p, r) as u8 as f32).collect();
        let items: Vec<Mapped> = (0..5)
            .map(|_| Mapped {
                maps: BTreeMap::from([
                    (MapName::HeatmapFirst, exact.clone()),
                    (MapName::Ink, vec![0.0; PIXELS]),
                ]),
                regions: vec![r],
            })
            .collect();
        let c = coverage(&items, 2, &[0.5, 1.0], 1);
        let h = &c.maps[&MapName::HeatmapFirst];
        assert_eq!((h.auroc.value, h.hit, h.minus_ink.value), (1.0, 1.0, 0.5));
        assert_eq!(c.maps[&MapName::Ink].auroc.value, 0.5);
        assert_eq!(
            (c.boxed, c.boxes, c.nulls, c.iou_median),
            (5, 5, 2, Some(1.0))
        );
    }

    #[test]
    fn iou_of_boxes() {
        assert_eq!(iou([0, 0, 4, 4], [0, 0, 4, 4]), 1.0);
        assert_eq!(iou([0, 0, 4, 4], [4, 4, 8, 8]), 0.0);
        assert!((iou([0, 0, 4, 4], [2, 0, 6, 4]) - 8.0 / 24.0).abs() < 1e-12);
    }

    /// Every cell needs a mark, and a box must lie in the image.
    #[test]
    fn region_marks_are_checked() {
        let cells = Cells {
            set: "dev".into(),
            steps: 2,
            perturb: Perturb::First,
            sheets: vec![Sheet {
                name: "s".into(),
                class: "sandal".into(),
                cells: vec![super::super::labels::Cell {
                    cell: 1,
                    seed: 7,
                    image_png: String::new(),
                }],
            }],
        };
        let marks = |m: Option<Option<Region>>| RegionMarks {
            labeller: "a".into(),
            sheets: BTreeMap::from([(
                "s".to_string(),
                m.map(|r| BTreeMap::from([(1, r)])).unwrap_or_default(),
            )]),
        };
        let lines = region_lines(&cells, &marks(Some(Some([1, 2, 3, 4])))).unwrap();
        assert_eq!((lines[0].seed, lines[0].region), (7, Some([1, 2, 3, 4])));
        assert!(
            region_lines(&cells, &marks(Some(None))).unwrap()[0]
                .region
                .is_none()
        );
        assert!(region_lines(&cells, &marks(None)).is_err());
        assert!(region_lines(&cells, &marks(Some(Some([3, 2, 3, 4])))).is_err());
        assert!(region_lines(&cells, &marks(Some(Some([0, 0, 33, 4])))).is_err());
    }
}
