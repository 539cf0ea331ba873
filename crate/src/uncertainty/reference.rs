//! Percentiles of u: a quantile table of the score over reference generations, one table per M
//! (u grows with the number of samples M, so a percentile compares like with like).
//! Written by `genuq eval --reference`, shipped as `models/reference_u.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Quantiles of u: `quantiles[M][i]` is the `i / (len - 1)` quantile for M weight samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReferenceTable {
    /// Generations the quantiles were taken over.
    pub generations: usize,
    pub quantiles: BTreeMap<usize, Vec<f32>>,
}

impl ReferenceTable {
    /// Quantile tables with `points` points (e.g. 1001: every 0.1%) from raw scores per M.
    pub fn from_scores(scores: &BTreeMap<usize, Vec<f32>>, points: usize) -> Self {
        let quantiles = scores
            .iter()
            .map(|(&m, u)| {
                let mut u = u.clone();
                u.sort_by(f32::total_cmp);
                let q = (0..points)
                    .map(|i| {
                        let pos = i as f64 * (u.len() - 1) as f64 / (points - 1) as f64;
                        let (lo, frac) = (pos.floor() as usize, pos.fract() as f32);
                        let hi = (lo + 1).min(u.len() - 1);
                        u[lo] + (u[hi] - u[lo]) * frac
                    })
                    .collect();
                (m, q)
            })
            .collect();
        Self {
            generations: scores.values().map(Vec::len).max().unwrap_or(0),
            quantiles,
        }
    }

    /// Parses and checks a table (non-empty, each table sorted and finite).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |why: String| Error::Model(format!("reference_u.json: {why}"));
        let table: Self = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        for (m, q) in &table.quantiles {
            if q.len() < 2 || q.iter().any(|v| !v.is_finite()) || !q.is_sorted() {
                return Err(bad(format!(
                    "the table for M = {m} is not a sorted list of finite quantiles"
                )));
            }
        }
        Ok(table)
    }

    /// The table used for `samples` weight samples: the one with the nearest M.
    pub fn nearest(&self, samples: usize) -> Option<(usize, &[f32])> {
        self.quantiles
            .iter()
            .min_by_key(|(m, _)| m.abs_diff(samples))
            .map(|(&m, q)| (m, q.as_slice()))
    }

    /// Percentage of reference generations (with the nearest M) whose u is below `u`,
    /// interpolated between quantiles; `None` without a table.
    pub fn percentile(&self, u: f32, samples: usize) -> Option<f32> {
        let (_, q) = self.nearest(samples)?;
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

    fn uniform_table() -> ReferenceTable {
        // u = 0, 1, ..., 1000 for M = 8; u = 10 * that for M = 16
        let scores = BTreeMap::from([
            (8, (0..=1000).map(|i| i as f32).collect()),
            (16, (0..=1000).map(|i| 10.0 * i as f32).collect::<Vec<_>>()),
        ]);
        ReferenceTable::from_scores(&scores, 101)
    }

    #[test]
    fn percentiles_of_a_uniform_reference() {
        let t = uniform_table();
        assert_eq!(t.generations, 1001);
        assert_eq!(t.quantiles[&8][50], 500.0);
        assert_eq!(t.percentile(-5.0, 8), Some(0.0));
        assert_eq!(t.percentile(5000.0, 8), Some(100.0));
        for u in [10.0, 255.0, 500.0, 999.0] {
            let p = t.percentile(u, 8).unwrap();
            assert!((p - u / 10.0).abs() < 1e-3, "{u} -> {p}");
        }
        // M = 7 and 30 use the nearest tables (8 and 16)
        assert!((t.percentile(250.0, 7).unwrap() - 25.0).abs() < 1e-3);
        assert!((t.percentile(2500.0, 30).unwrap() - 25.0).abs() < 1e-3);
        assert_eq!(ReferenceTable::default().percentile(1.0, 8), None);
    }

    #[test]
    fn parse_round_trips_and_rejects_unsorted() {
        let t = uniform_table();
        assert_eq!(
            ReferenceTable::parse(&serde_json::to_string(&t).unwrap()).unwrap(),
            t
        );
        let err = ReferenceTable::parse(r#"{"generations":3,"quantiles":{"8":[3.0,1.0]}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("M = 8"), "{err}");
        assert!(ReferenceTable::parse("[1, 2]").is_err());
    }
}
