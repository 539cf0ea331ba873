//! How a sample is shown: contact sheets (`cells.json`, no score on them) and the key that
//! holds the scores (`key.json`, opened only after labelling).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Reason, Recipe, Sampled, draw_without_replacement};
use crate::data::{CLASS_NAMES, NUM_CLASSES};
use crate::eval::pool::{EyeScore, PoolItem, PoolSampler};
use crate::uncertainty::Perturb;

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
