//! Percentiles of u: quantile tables of the score over reference generations, one per class,
//! step count, placement of the weight samples and M (u grows with M and differs between
//! classes and samplers, so a percentile compares like with like: "more uncertain than P% of
//! <class> generations"). Written by `genuq reference`, shipped as `models/reference_u.json`.

use serde::{Deserialize, Serialize};

use super::sampler::Perturb;
use crate::Error;
use crate::data::NUM_CLASSES;

/// A score a table can be of; every one is higher for a less trustworthy generation. Its serde
/// name ("u", "clip_margin", ..., "realism") is its one spelling: in files, in JS (a union type
/// in pkg/genuq.d.ts) and as the evaluation report's row name ([`ScoreName::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum ScoreName {
    /// The paper's generative uncertainty.
    #[default]
    U,
    /// `1 -` the MAP image's zero-shot probability of its class (no weight samples).
    ClipMargin,
    /// `1 -` the posterior predictive probability of the class over the M + 1 images.
    ClassPredictive,
    /// The mutual information between the class and the weights.
    ClassBald,
    /// The expected entropy of the class.
    ClassEntropy,
    /// The MAP image's mean distance to its nearest real training images in the structure
    /// space (no weight samples; [`crate::uncertainty::realism`]).
    Realism,
}

impl ScoreName {
    pub const ALL: [ScoreName; 6] = [
        ScoreName::U,
        ScoreName::ClipMargin,
        ScoreName::ClassPredictive,
        ScoreName::ClassBald,
        ScoreName::ClassEntropy,
        ScoreName::Realism,
    ];

    /// Its one spelling (serde's): reference tables, eval.json's rows, JS.
    pub fn name(self) -> &'static str {
        match self {
            ScoreName::U => "u",
            ScoreName::ClipMargin => "clip_margin",
            ScoreName::ClassPredictive => "class_predictive",
            ScoreName::ClassBald => "class_bald",
            ScoreName::ClassEntropy => "class_entropy",
            ScoreName::Realism => "realism",
        }
    }

    /// By the name of [`ScoreName::name`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Does the score depend on the weight samples (their placement and M)?
    pub fn uses_weight_samples(self) -> bool {
        !matches!(self, ScoreName::ClipMargin | ScoreName::Realism)
    }
}

/// What a table is of: score `score` of generations with `steps` steps, weight samples placed
/// by `perturb` (irrelevant with one step), `samples` = M, of class `class` (`None`: all
/// classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    #[serde(default)]
    pub score: ScoreName,
    pub steps: usize,
    pub perturb: Perturb,
    pub samples: usize,
    pub class: Option<usize>,
}

impl Key {
    /// Do `self` (a table's key) and `other` (a request's) describe the same score, sampler and
    /// class?
    fn same_sampler(&self, other: &Key) -> bool {
        let placement =
            self.steps == 1 || self.perturb == other.perturb || !self.score.uses_weight_samples();
        self.score == other.score
            && self.steps == other.steps
            && placement
            && self.class == other.class
    }
}

/// When a generation is flagged: the shipped score of a sampler at or above `threshold`, where
/// `precision` of the evaluation's generations that high were wrong-class (by the independent
/// classifier) and `recall` of the wrong-class ones were that high.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct Flag {
    pub score: ScoreName,
    pub steps: usize,
    pub perturb: Perturb,
    pub threshold: f32,
    /// Of the evaluation's generations at or above the threshold, the share the independent
    /// classifier put in another class.
    pub precision: f32,
    /// Of the evaluation's wrong-class generations, the share at or above the threshold.
    pub recall: f32,
    /// The evaluation generations it was measured on.
    pub generations: usize,
}

impl Flag {
    /// Does the flag speak of this score of generations of this sampler?
    pub fn applies(&self, score: ScoreName, steps: usize, perturb: Perturb) -> bool {
        self.score == score
            && self.steps == steps
            && (steps == 1 || self.perturb == perturb || !score.uses_weight_samples())
    }
}

/// One quantile table: `quantiles[i]` is the `i / (len - 1)` quantile of u.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    #[serde(flatten)]
    pub key: Key,
    pub quantiles: Vec<f32>,
}

/// A heatmap scale for comparing heatmaps: the 95th percentile, over reference generations of
/// a sampler, of each one's largest per-pixel standard deviation (at M = 8).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeatmapScale {
    pub steps: usize,
    pub perturb: Perturb,
    pub std: f32,
}

/// Every table, and how many generations per step count they were taken over.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReferenceTable {
    pub generations: usize,
    pub tables: Vec<Table>,
    #[serde(default)]
    pub heatmap_scales: Vec<HeatmapScale>,
    /// The flag of the shipped score, where the evaluation found a threshold with a precision
    /// worth stating.
    #[serde(default)]
    pub flag: Option<Flag>,
}

/// `points` quantiles (e.g. 101: every 1%) of `u`, linearly interpolated.
fn quantiles(u: &[f32], points: usize) -> Vec<f32> {
    let mut u = u.to_vec();
    u.sort_by(f32::total_cmp);
    (0..points)
        .map(|i| {
            let pos = i as f64 * (u.len() - 1) as f64 / (points - 1) as f64;
            let (lo, frac) = (pos.floor() as usize, pos.fract() as f32);
            let hi = (lo + 1).min(u.len() - 1);
            u[lo] + (u[hi] - u[lo]) * frac
        })
        .collect()
}

impl ReferenceTable {
    /// Quantile tables with `points` points from raw scores per key, over `generations` per
    /// step count; a key with fewer than two scores is an error.
    pub fn from_scores(
        generations: usize,
        scores: &[(Key, Vec<f32>)],
        points: usize,
    ) -> Result<Self, Error> {
        let tables = scores
            .iter()
            .map(|(key, u)| match u.len() >= 2 && points >= 2 {
                true => Ok(Table {
                    key: *key,
                    quantiles: quantiles(u, points),
                }),
                false => Err(Error::InvalidInput(format!(
                    "{key:?}: {} scores are too few for a quantile table",
                    u.len()
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            generations,
            tables,
            heatmap_scales: Vec::new(),
            flag: None,
        })
    }

    /// The heatmap scale of the sampler `steps` and `perturb` (the placement does not matter
    /// with one step), if the reference has one.
    pub fn heatmap_scale(&self, steps: usize, perturb: Perturb) -> Option<f32> {
        self.heatmap_scales
            .iter()
            .find(|h| h.steps == steps && (steps == 1 || h.perturb == perturb))
            .map(|h| h.std)
    }

    /// Parses and checks a table (each sorted, finite and of a known class).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |why: String| Error::Model(format!("reference_u.json: {why}"));
        let table: Self = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        for t in &table.tables {
            let q = &t.quantiles;
            if q.len() < 2 || q.iter().any(|v| !v.is_finite()) || !q.is_sorted() {
                return Err(bad(format!(
                    "the table for {:?} is not a sorted list of finite quantiles",
                    t.key
                )));
            }
            if t.key.class.is_some_and(|c| c >= NUM_CLASSES) {
                return Err(bad(format!("class {:?} is not a class", t.key.class)));
            }
        }
        if let Some(h) = table
            .heatmap_scales
            .iter()
            .find(|h| !(h.std.is_finite() && h.std > 0.0))
        {
            return Err(bad(format!(
                "the heatmap scale {h:?} is not a positive number"
            )));
        }
        Ok(table)
    }

    /// The table for `key`: same sampler and class, the nearest M.
    pub fn nearest(&self, key: &Key) -> Option<&Table> {
        self.tables
            .iter()
            .filter(|t| t.key.same_sampler(key))
            .min_by_key(|t| t.key.samples.abs_diff(key.samples))
    }

    /// Percentage of reference generations like `key` (its score, class, steps, placement and
    /// the nearest M) whose score is below `u`, interpolated between quantiles; `None` without
    /// a table.
    pub fn percentile(&self, u: f32, key: &Key) -> Option<f32> {
        let q = &self.nearest(key)?.quantiles;
        let step = 100.0 / (q.len() - 1) as f32;
        let i = q.partition_point(|&r| r <= u);
        Some(match i {
            0 => 0.0,
            i if i == q.len() => 100.0,
            i => {
                let (lo, hi) = (q[i - 1], q[i]);
                let frac = if hi > lo { (u - lo) / (hi - lo) } else { 0.5 };
                (i - 1) as f32 * step + frac * step
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(steps: usize, samples: usize, class: Option<usize>) -> Key {
        Key {
            score: ScoreName::U,
            steps,
            perturb: Perturb::All,
            samples,
            class,
        }
    }

    /// u = 0, 1, ..., 1000 for class 3 at M = 8; ten times that at M = 16; class 5 shifted up.
    fn uniform_table() -> ReferenceTable {
        let u: Vec<f32> = (0..=1000).map(|i| i as f32).collect();
        let scores = vec![
            (key(4, 8, Some(3)), u.clone()),
            (key(4, 16, Some(3)), u.iter().map(|v| 10.0 * v).collect()),
            (key(4, 8, Some(5)), u.iter().map(|v| v + 1000.0).collect()),
        ];
        ReferenceTable::from_scores(1001, &scores, 101).unwrap()
    }

    /// The one spelling: every score's name is the string serde writes (the reference
    /// tables', JS's) and reads back.
    #[test]
    fn a_score_has_one_spelling() {
        let names: Vec<String> = ScoreName::ALL
            .iter()
            .map(|s| {
                serde_json::to_value(s)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let expected = [
            "u",
            "clip_margin",
            "class_predictive",
            "class_bald",
            "class_entropy",
            "realism",
        ];
        assert_eq!(names, expected);
        for s in ScoreName::ALL {
            assert_eq!(s.name(), serde_json::to_value(s).unwrap(), "{s:?}");
            assert_eq!(ScoreName::parse(s.name()), Some(s));
        }
        assert_eq!(ScoreName::parse("genuq"), None);
    }

    #[test]
    fn class_relative_percentiles_of_a_uniform_reference() {
        let t = uniform_table();
        let k = key(4, 8, Some(3));
        assert_eq!(t.tables[0].quantiles[50], 500.0);
        assert_eq!(t.percentile(-5.0, &k), Some(0.0));
        assert_eq!(t.percentile(5000.0, &k), Some(100.0));
        for u in [10.0, 255.0, 500.0, 999.0] {
            let p = t.percentile(u, &k).unwrap();
            assert!((p - u / 10.0).abs() < 1e-3, "{u} -> {p}");
        }
        // the same u is high for class 3 and low for class 5
        assert!((t.percentile(900.0, &k).unwrap() - 90.0).abs() < 1e-3);
        assert_eq!(t.percentile(900.0, &key(4, 8, Some(5))), Some(0.0));
        // M = 7 and 30 use the nearest tables (8 and 16)
        assert!((t.percentile(250.0, &key(4, 7, Some(3))).unwrap() - 25.0).abs() < 1e-3);
        assert!((t.percentile(2500.0, &key(4, 30, Some(3))).unwrap() - 25.0).abs() < 1e-3);
        // another sampler or class has no table
        assert_eq!(t.percentile(1.0, &key(2, 8, Some(3))), None);
        let last = Key {
            perturb: Perturb::Last,
            ..k
        };
        assert_eq!(t.percentile(1.0, &last), None);
        assert_eq!(ReferenceTable::default().percentile(1.0, &k), None);
        let mut scaled = t.clone();
        scaled.heatmap_scales.push(HeatmapScale {
            steps: 4,
            perturb: Perturb::All,
            std: 0.1,
        });
        assert_eq!(scaled.heatmap_scale(4, Perturb::All), Some(0.1));
        assert_eq!(scaled.heatmap_scale(4, Perturb::Last), None);
        assert_eq!(scaled.heatmap_scale(2, Perturb::All), None);
    }

    #[test]
    fn parse_round_trips_and_rejects_bad_tables() {
        let t = uniform_table();
        assert_eq!(
            ReferenceTable::parse(&serde_json::to_string(&t).unwrap()).unwrap(),
            t
        );
        let unsorted = r#"{"generations":3,"tables":[{"steps":1,"perturb":"all","samples":8,"class":null,"quantiles":[3.0,1.0]}]}"#;
        let err = ReferenceTable::parse(unsorted).unwrap_err().to_string();
        assert!(err.contains("samples: 8"), "{err}");
        let class = unsorted
            .replace("null", "12")
            .replace("[3.0,1.0]", "[1.0,3.0]");
        assert!(
            ReferenceTable::parse(&class)
                .unwrap_err()
                .to_string()
                .contains("class")
        );
        assert!(ReferenceTable::parse("[1, 2]").is_err());
        assert!(ReferenceTable::from_scores(1, &[(key(1, 8, None), vec![1.0])], 101).is_err());
    }
}
