//! Percentiles of u: quantile tables of the score over reference generations, one per class,
//! step count, placement of the weight samples and M (u grows with M and differs between
//! classes and samplers, so a percentile compares like with like: "more uncertain than P% of
//! <class> generations"). Written by `genuq reference`, shipped as `models/reference_u.json`.

use serde::{Deserialize, Serialize};

use super::sampler::Perturb;
use crate::Error;
use crate::data::NUM_CLASSES;

/// What a table is of: generations with `steps` steps, weight samples placed by `perturb`
/// (irrelevant with one step), `samples` = M, of class `class` (`None`: all classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub steps: usize,
    pub perturb: Perturb,
    pub samples: usize,
    pub class: Option<usize>,
}

impl Key {
    /// Do `self` (a table's key) and `other` (a request's) describe the same sampler and class?
    fn same_sampler(&self, other: &Key) -> bool {
        self.steps == other.steps
            && (self.steps == 1 || self.perturb == other.perturb)
            && self.class == other.class
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

    /// Percentage of reference generations like `key` (its class, steps, placement and the
    /// nearest M) whose u is below `u`, interpolated between quantiles; `None` without a table.
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
