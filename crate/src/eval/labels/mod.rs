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

use super::pool::{EyeScore, PoolItem};
use crate::data::NUM_CLASSES;
use crate::rng::{self, Stream};
use crate::uncertainty::Perturb;

mod marks;
mod sheets;

pub use marks::{Marks, SheetMarks, disputed, label_lines};
pub use sheets::{
    Cell, Cells, FLAG_SHARE, Key, KeyItem, Sheet, flag_thresholds, lay_out, sheet_name,
};

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
}
