//! Labels by eye, the ground truth for every score: what is labelled (a blind, stratified
//! sample of a pool of fresh generations), how it is shown (contact sheets with no score on
//! them) and what a labeller writes (one JSON line per generation).
//!
//! The flow, each a file under `reports/labels/<set>/`:
//! 1. a **pool** ([`super::pool`]): `genuq score` runs over fresh seeds at one sampler, once per
//!    placement of the weight samples; joined into [`PoolItem`]s;
//! 2. the **sample** ([`select`]): per class, `random` generations drawn uniformly from the
//!    pool plus the `top` of each candidate score, each with its inclusion probability, so
//!    every AUROC and precision can be weighted back to the pool (`key.json`, which holds the
//!    scores and is opened only after labelling);
//! 3. the **sheets**: the sample shuffled within each class, numbered, no score anywhere
//!    (`cells.json` for `label.html`, `sheets/*.png` for a person with an image viewer);
//! 4. the **labels**: [`LabelLine`]s in `labels.jsonl`, one per generation and pass.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::pool::{EyeScore, PoolItem, PoolSampler};
use crate::data::{CLASS_NAMES, NUM_CLASSES};
use crate::rng::{self, Stream};
use crate::uncertainty::Perturb;

/// What a person calls a generation (`docs/labels.md` defines each, with examples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// The requested garment, whole.
    Fine,
    /// Between the requested garment and another (shirt / t-shirt / pullover / coat).
    Ambiguous,
    /// A person would name another garment first (which: [`LabelLine::looks_like`]).
    Other,
    /// Broken structure a person would reject: missing parts, fragments, smears, two objects.
    Malformed,
}

impl Label {
    pub const ALL: [Label; 4] = [
        Label::Fine,
        Label::Ambiguous,
        Label::Other,
        Label::Malformed,
    ];
}

/// What a score is measured against: a yes/no question about a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Malformed,
    Other,
    /// Malformed or another garment (ambiguous counts as fine).
    Bad,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Malformed, Target::Other, Target::Bad];

    pub fn holds(self, label: Label) -> bool {
        match self {
            Target::Malformed => label == Label::Malformed,
            Target::Other => label == Label::Other,
            Target::Bad => matches!(label, Label::Other | Label::Malformed),
        }
    }
}

/// Which look at a generation a label is: two independent ones, and the third look that
/// resolves where they disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pass {
    First,
    Second,
    Third,
}

/// One line of `labels.jsonl`: one labeller's look at one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelLine {
    /// The sample set: `dev` (designs scores, picks) or `test` (reports only).
    pub set: String,
    pub sheet: String,
    /// The number on the sheet.
    pub cell: usize,
    /// The requested class.
    pub class: String,
    pub seed: u32,
    pub steps: usize,
    pub perturb: Perturb,
    pub label: Label,
    /// For `other` and `ambiguous`: the garment a person names (first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub looks_like: Option<String>,
    pub labeller: String,
    pub pass: Pass,
}

/// How a labelling sample is drawn from its pool, per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub set: String,
    /// Generations drawn uniformly without replacement from each class's pool.
    pub random: usize,
    /// The highest `top` of each score in `by`, per class.
    pub top: usize,
    pub by: Vec<EyeScore>,
    /// The seed of the random draw and the sheets' order.
    pub seed: u32,
    /// Generations per sheet.
    pub per_sheet: usize,
}

/// Why a generation is in the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Random,
    Top(EyeScore),
}

/// One sampled generation: its pool index, the probability that the recipe includes it, and
/// why it was included.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    pub item: usize,
    pub inclusion: f64,
    pub reasons: Vec<Reason>,
}

/// The sample of `recipe` from `items`, class by class: the top `recipe.top` of each score
/// (included with probability 1), and `recipe.random` drawn uniformly from the whole class
/// (a generation outside every top set is included with probability `random / N_class`).
pub fn select(items: &[PoolItem], recipe: &Recipe) -> Vec<Sampled> {
    let mut out = Vec::new();
    for class in 0..NUM_CLASSES {
        let idx: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].class == class)
            .collect();
        let mut reasons: BTreeMap<usize, Vec<Reason>> = BTreeMap::new();
        for &score in &recipe.by {
            let mut ranked: Vec<usize> = idx
                .iter()
                .copied()
                .filter(|&i| items[i].scores.contains_key(&score))
                .collect();
            ranked.sort_by(|&a, &b| items[b].scores[&score].total_cmp(&items[a].scores[&score]));
            for &i in ranked.iter().take(recipe.top) {
                reasons.entry(i).or_default().push(Reason::Top(score));
            }
        }
        let draw = draw_without_replacement(idx.len(), recipe.random, recipe.seed, class as u32);
        for k in draw {
            reasons.entry(idx[k]).or_default().push(Reason::Random);
        }
        let p_random = (recipe.random as f64 / idx.len().max(1) as f64).min(1.0);
        for (item, reasons) in reasons {
            let top = reasons.iter().any(|r| matches!(r, Reason::Top(_)));
            let inclusion = if top { 1.0 } else { p_random };
            out.push(Sampled {
                item,
                inclusion,
                reasons,
            });
        }
    }
    out
}

/// `k` distinct indices of `0..n` (all of them if `k >= n`), uniformly: a partial
/// Fisher-Yates shuffle on the counter RNG (stream `LabelSample(sub)`).
pub fn draw_without_replacement(n: usize, k: usize, seed: u32, sub: u32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..k.min(n) {
        let r = rng::word(seed, Stream::LabelSample(sub), i as u32) as usize % (n - i);
        order.swap(i, i + r);
    }
    order.truncate(k.min(n));
    order
}

/// The sheet name of `class`'s sheet `page` (from 1) of a set.
pub fn sheet_name(set: &str, class: usize, page: usize) -> String {
    format!("{set}-{}-{page}", CLASS_NAMES[class])
}

/// The share of the pool a flag sets aside: the product's flag marks the top 5%.
pub const FLAG_SHARE: f64 = 0.05;

/// One numbered generation on a sheet (what a labeller sees: no score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub cell: usize,
    pub seed: u32,
    /// The MAP image, a grey PNG, base64.
    pub image_png: String,
}

/// One contact sheet: generations of one requested class, in shuffled order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sheet {
    pub name: String,
    pub class: String,
    pub cells: Vec<Cell>,
}

/// `cells.json`: every sheet of a set, what `label.html` shows; no score, no reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cells {
    pub set: String,
    pub steps: usize,
    pub perturb: Perturb,
    pub sheets: Vec<Sheet>,
}

/// One sampled generation in the key: where it is on the sheets, why it was drawn, its
/// inclusion probability and every score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyItem {
    pub sheet: String,
    pub cell: usize,
    pub class: String,
    pub seed: u32,
    pub inclusion: f64,
    pub reasons: Vec<Reason>,
    pub scores: BTreeMap<EyeScore, f64>,
}

/// `key.json`: the recipe, the pool and the sampled generations' scores. Opened only after
/// labelling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    pub recipe: Recipe,
    pub sampler: PoolSampler,
    /// The pool's generations per class.
    pub pool: Vec<usize>,
    /// Each score's threshold per class at which the top [`FLAG_SHARE`] of the class's pool
    /// begins.
    pub flag_thresholds: BTreeMap<EyeScore, Vec<f64>>,
    pub items: Vec<KeyItem>,
}

/// Each score's threshold of the top `share` of each class's pool (as the product's
/// percentiles are within the class): the smallest value among its `ceil(share * n)` highest.
/// Only scores every item of the pool has (a score computed on the sample alone has no pool
/// threshold).
pub fn flag_thresholds(items: &[PoolItem], share: f64) -> BTreeMap<EyeScore, Vec<f64>> {
    EyeScore::ALL
        .into_iter()
        .filter(|s| !items.is_empty() && items.iter().all(|i| i.scores.contains_key(s)))
        .map(|score| {
            let per_class = (0..NUM_CLASSES)
                .map(|class| {
                    let mut v: Vec<f64> = items
                        .iter()
                        .filter(|i| i.class == class)
                        .filter_map(|i| i.scores.get(&score).copied())
                        .collect();
                    v.sort_by(|a, b| b.total_cmp(a));
                    let k = ((share * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
                    v.get(k - 1).copied().unwrap_or(f64::INFINITY)
                })
                .collect();
            (score, per_class)
        })
        .collect()
}

/// Lays the sample out on sheets: per class, shuffled (stream `LabelSample(100 + class)`),
/// `recipe.per_sheet` to a sheet, numbered from 1. Returns the sheets and the key.
pub fn lay_out(
    items: &[PoolItem],
    sample: &[Sampled],
    recipe: &Recipe,
    sampler: PoolSampler,
) -> (Cells, Key) {
    let mut sheets = Vec::new();
    let mut keyed = Vec::new();
    for (class, class_name) in CLASS_NAMES.iter().enumerate() {
        let mine: Vec<&Sampled> = sample
            .iter()
            .filter(|s| items[s.item].class == class)
            .collect();
        let order =
            draw_without_replacement(mine.len(), mine.len(), recipe.seed, 100 + class as u32);
        for (page, chunk) in order.chunks(recipe.per_sheet.max(1)).enumerate() {
            let name = sheet_name(&recipe.set, class, page + 1);
            let mut cells = Vec::new();
            for (n, &k) in chunk.iter().enumerate() {
                let (s, item) = (mine[k], &items[mine[k].item]);
                cells.push(Cell {
                    cell: n + 1,
                    seed: item.seed,
                    image_png: item.image_png.clone(),
                });
                keyed.push(KeyItem {
                    sheet: name.clone(),
                    cell: n + 1,
                    class: class_name.to_string(),
                    seed: item.seed,
                    inclusion: s.inclusion,
                    reasons: s.reasons.clone(),
                    scores: item.scores.clone(),
                });
            }
            sheets.push(Sheet {
                name,
                class: class_name.to_string(),
                cells,
            });
        }
    }
    let pool = (0..NUM_CLASSES)
        .map(|c| items.iter().filter(|i| i.class == c).count())
        .collect();
    let cells = Cells {
        set: recipe.set.clone(),
        steps: sampler.steps,
        perturb: sampler.perturb,
        sheets,
    };
    let key = Key {
        recipe: recipe.clone(),
        sampler,
        pool,
        flag_thresholds: flag_thresholds(items, FLAG_SHARE),
        items: keyed,
    };
    (cells, key)
}

/// What a labeller writes for a pass over sheets (`marks.json`): per sheet the cells that
/// are not fine; every other cell of a listed sheet is fine, a sheet not listed is not
/// labelled in this pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marks {
    pub labeller: String,
    pub pass: Pass,
    pub sheets: BTreeMap<String, SheetMarks>,
}

/// The cells of one sheet that are not fine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetMarks {
    #[serde(default)]
    pub malformed: Vec<usize>,
    /// Cell -> the garment a person would name first.
    #[serde(default)]
    pub other: BTreeMap<usize, String>,
    /// Cell -> the other garment it is between.
    #[serde(default)]
    pub ambiguous: BTreeMap<usize, String>,
}

/// The label lines of a pass: every cell of every sheet the marks list; an error names a
/// sheet or cell that is not in `cells`, a cell marked twice, or a garment that is no class.
pub fn label_lines(cells: &Cells, marks: &Marks) -> Result<Vec<LabelLine>, String> {
    let mut out = Vec::new();
    for (name, m) in &marks.sheets {
        let sheet = cells
            .sheets
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| format!("no sheet {name:?} in this set"))?;
        let mut label: BTreeMap<usize, (Label, Option<String>)> = BTreeMap::new();
        let marked = m.malformed.iter().map(|&c| (c, Label::Malformed, None));
        let other = m.other.iter().map(|(&c, g)| (c, Label::Other, Some(g)));
        let ambiguous = m
            .ambiguous
            .iter()
            .map(|(&c, g)| (c, Label::Ambiguous, Some(g)));
        for (cell, l, garment) in marked.chain(other).chain(ambiguous) {
            if !sheet.cells.iter().any(|c| c.cell == cell) {
                return Err(format!("{name}: no cell {cell}"));
            }
            let garment = match garment {
                Some(g) => Some(
                    crate::data::class_index(g)
                        .map(|c| CLASS_NAMES[c].to_string())
                        .ok_or_else(|| {
                            format!(
                                "{name} cell {cell}: {g:?} is not a garment ({})",
                                CLASS_NAMES.join(", ")
                            )
                        })?,
                ),
                None => None,
            };
            if label.insert(cell, (l, garment)).is_some() {
                return Err(format!("{name}: cell {cell} is marked twice"));
            }
        }
        for c in &sheet.cells {
            let (l, looks_like) = label.remove(&c.cell).unwrap_or((Label::Fine, None));
            out.push(LabelLine {
                set: cells.set.clone(),
                sheet: name.clone(),
                cell: c.cell,
                class: sheet.class.clone(),
                seed: c.seed,
                steps: cells.steps,
                perturb: cells.perturb,
                label: l,
                looks_like,
                labeller: marks.labeller.clone(),
                pass: marks.pass,
            });
        }
    }
    Ok(out)
}

/// The sheets of a third look: the generations of `cells` whose first and second passes in
/// `lines` disagree, per class in a random order (stream `LabelSample(200 + class)`), numbered
/// anew on sheets named `<set>-third-<class>-<page>`; no label of either pass on them.
pub fn disputed(cells: &Cells, lines: &[LabelLine], seed: u32, per_sheet: usize) -> Cells {
    let label_of = |class: &str, s: u32, pass: Pass| {
        lines
            .iter()
            .find(|l| l.class == class && l.seed == s && l.pass == pass)
            .map(|l| l.label)
    };
    let mut sheets = Vec::new();
    for (class, name) in CLASS_NAMES.iter().enumerate() {
        let mine: Vec<&Cell> = cells
            .sheets
            .iter()
            .filter(|s| s.class == *name)
            .flat_map(|s| &s.cells)
            .filter(|c| {
                match (
                    label_of(name, c.seed, Pass::First),
                    label_of(name, c.seed, Pass::Second),
                ) {
                    (Some(a), Some(b)) => a != b,
                    _ => false,
                }
            })
            .collect();
        let order = draw_without_replacement(mine.len(), mine.len(), seed, 200 + class as u32);
        for (page, chunk) in order.chunks(per_sheet.max(1)).enumerate() {
            let numbered = chunk
                .iter()
                .enumerate()
                .map(|(n, &k)| Cell {
                    cell: n + 1,
                    ..mine[k].clone()
                })
                .collect();
            let sheet = format!("{}-third-{name}-{}", cells.set, page + 1);
            sheets.push(Sheet {
                name: sheet,
                class: name.to_string(),
                cells: numbered,
            });
        }
    }
    Cells {
        sheets,
        ..cells.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::pool::tests::item;

    /// Inclusion probabilities: the top of a score always, the rest `random / N`; checked by
    /// drawing the sample under many seeds and counting (a 5-standard-error bound: a false
    /// alarm about once in 1.7 million per generation).
    #[test]
    fn inclusion_probabilities_match_the_draw() {
        let items: Vec<PoolItem> = (0..40).map(|i| item(i % 2, i as f64)).collect();
        let mut recipe = Recipe {
            set: "t".into(),
            random: 5,
            top: 3,
            by: vec![EyeScore::ULast],
            seed: 0,
            per_sheet: 50,
        };
        let runs = 2000;
        let mut counts = vec![0usize; items.len()];
        let mut stated = vec![0.0; items.len()];
        for s in 0..runs {
            recipe.seed = s;
            for sampled in select(&items, &recipe) {
                counts[sampled.item] += 1;
                stated[sampled.item] = sampled.inclusion;
            }
        }
        for (i, &c) in counts.iter().enumerate() {
            let p = stated[i];
            let expected = if i >= 34 { 1.0 } else { 5.0 / 20.0 };
            assert_eq!(p, expected, "item {i}'s stated inclusion");
            let se = (p * (1.0 - p) / runs as f64).sqrt();
            let seen = c as f64 / runs as f64;
            assert!(
                (seen - p).abs() <= 5.0 * se + 1e-12,
                "item {i}: {seen} vs {p}"
            );
        }
    }

    #[test]
    fn draws_are_distinct_and_complete() {
        let d = draw_without_replacement(10, 4, 7, 0);
        let mut s = d.clone();
        s.sort();
        s.dedup();
        assert_eq!(s.len(), 4);
        let mut all = draw_without_replacement(5, 9, 7, 0);
        all.sort();
        assert_eq!(all, vec![0, 1, 2, 3, 4]);
    }

    /// The marks file as label.html writes it (tests/e2e/label.test.mjs checks the page's side)
    /// becomes one line per cell of each listed sheet; a wrong cell or garment is refused.
    #[test]
    fn marks_become_label_lines() {
        let cell = |cell, seed| Cell {
            cell,
            seed,
            image_png: String::new(),
        };
        let cells = Cells {
            set: "e2e".into(),
            steps: 2,
            perturb: Perturb::Last,
            sheets: vec![
                Sheet {
                    name: "e2e-sandal-1".into(),
                    class: "sandal".into(),
                    cells: (1..=4).map(|c| cell(c, 10 + c as u32)).collect(),
                },
                Sheet {
                    name: "e2e-shirt-1".into(),
                    class: "shirt".into(),
                    cells: vec![cell(1, 21), cell(2, 22)],
                },
            ],
        };
        let marks: Marks = serde_json::from_str(
            r#"{"labeller": "e2e", "pass": "second", "sheets": {
                "e2e-sandal-1": {"malformed": [2], "other": {"3": "sneaker"}, "ambiguous": {}}}}"#,
        )
        .unwrap();
        let lines = label_lines(&cells, &marks).unwrap();
        let got: Vec<(usize, u32, Label, Option<&str>)> = lines
            .iter()
            .map(|l| (l.cell, l.seed, l.label, l.looks_like.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 11, Label::Fine, None),
                (2, 12, Label::Malformed, None),
                (3, 13, Label::Other, Some("sneaker")),
                (4, 14, Label::Fine, None),
            ]
        );
        assert!(
            lines
                .iter()
                .all(|l| l.class == "sandal" && l.pass == Pass::Second && l.labeller == "e2e")
        );
        let bad =
            |json: &str| label_lines(&cells, &serde_json::from_str(json).unwrap()).unwrap_err();
        assert!(bad(r#"{"labeller": "x", "pass": "first", "sheets": {"e2e-sandal-1": {"malformed": [9]}}}"#).contains("no cell 9"));
        assert!(bad(r#"{"labeller": "x", "pass": "first", "sheets": {"e2e-sandal-1": {"other": {"1": "cat"}}}}"#).contains("not a garment"));
        assert!(bad(r#"{"labeller": "x", "pass": "first", "sheets": {"e2e-sandal-1": {"malformed": [1], "other": {"1": "bag"}}}}"#).contains("twice"));
        assert!(
            bad(r#"{"labeller": "x", "pass": "first", "sheets": {"nope": {}}}"#)
                .contains("no sheet")
        );
    }
}
