//! What `genuq eval` writes: `eval.json`, the figures, and the table on stdout.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::floor::FloorReport;
use super::generations::{MAIN_M, Scored};
use super::judge::{Curve, Row, Spread};
use super::methods::ORACLE;
use super::metrics::Quantiles;
use super::plots;
use super::select::{class_counts, lowest, most_dropped};
use crate::data::{CLASS_NAMES, PIXELS};

/// Everything the report is made of.
pub struct Report<'a> {
    pub scored: &'a Scored,
    pub rows: Vec<Row>,
    pub spread: Spread,
    /// (method, label, (FID curve, precision curve)).
    pub curves: Vec<(&'static str, &'static str, (Curve, Curve))>,
    pub floor: FloorReport,
    pub keep: usize,
    pub seed: u32,
}

impl Report<'_> {
    fn wrong(&self) -> usize {
        let s = self.scored;
        s.predictions
            .iter()
            .zip(&s.classes)
            .filter(|(p, c)| **p != **c as i64)
            .count()
    }

    /// `dir/eval.json`.
    pub fn write_json(&self, dir: &Path) -> anyhow::Result<()> {
        let report = json!({
            "rows": self.rows,
            "generations": self.scored.classes.len(),
            "keep": self.keep,
            "seed": self.seed,
            "main_samples": MAIN_M,
            "wrong_class": self.wrong(),
            "random_spread": self.spread,
            "curves": self.curves.iter().map(|(name, _, (f, p))| json!({"method": name, "fid": f, "precision": p})).collect::<Vec<_>>(),
            "u": self.scored.u.iter().map(|(m, u)| (m.to_string(), Quantiles::of(u.iter().map(|&x| x as f64).collect()))).collect::<BTreeMap<_, _>>(),
            "u_floor": self.floor,
            "protocol": "keep the `keep` generations with the lowest score (higher = more uncertain); FID, precision/recall (k = 3) in the evaluation classifier's 128-d features vs the 10k test split; class accuracy by the evaluation classifier; AUROC of the score for detecting wrong-class generations over all generations",
        });
        std::fs::write(
            dir.join("eval.json"),
            serde_json::to_string_pretty(&report)? + "\n",
        )?;
        Ok(())
    }

    /// The curves, the u histogram and the most and least uncertain generations as PNGs.
    pub fn write_figures(&self, dir: &Path) -> anyhow::Result<()> {
        let fid: Vec<_> = self
            .curves
            .iter()
            .map(|(_, label, (f, _))| (*label, f.clone()))
            .collect();
        // The oracle's precision (1.0 from 20% dropped, by construction) would flatten the others.
        let precision: Vec<_> = self
            .curves
            .iter()
            .filter(|(name, _, _)| *name != ORACLE)
            .map(|(_, label, (_, p))| (*label, p.clone()))
            .collect();
        plots::lines(
            &dir.join("fid_vs_dropped.png"),
            "FID of the kept generations (lower is better)",
            ("fraction dropped", "FID"),
            &fid,
        )?;
        plots::lines(
            &dir.join("precision_vs_dropped.png"),
            "Precision of the kept generations (higher is better)",
            ("fraction dropped", "precision (k = 3)"),
            &precision,
        )?;
        let s = self.scored;
        let n = s.classes.len();
        let u: Vec<f64> = s.u[&MAIN_M].iter().map(|&x| x as f64).collect();
        plots::histogram(
            &dir.join("u_histogram.png"),
            &format!("Generative uncertainty u over {n} generations (M = {MAIN_M})"),
            "u",
            &u,
            60,
        )?;
        const GRID: usize = 32;
        let order = lowest(&u, n);
        let image = |i: &usize| &s.maps[i * PIXELS..(i + 1) * PIXELS];
        let least: Vec<&[f32]> = order.iter().take(GRID).map(image).collect();
        let most: Vec<&[f32]> = order.iter().rev().take(GRID).map(image).collect();
        plots::grid(&dir.join("least_uncertain.png"), &least, 8, 3)?;
        plots::grid(&dir.join("most_uncertain.png"), &most, 8, 3)?;
        Ok(())
    }

    /// The table, the random baseline's spread and the floor, on stdout.
    pub fn print(&self, dir: &Path) {
        let s = self.scored;
        let n = s.classes.len();
        let generated = class_counts(&(0..n).collect::<Vec<_>>(), &s.classes);
        println!(
            "{:<32} {:>8} {:>10} {:>8} {:>10} {:>7}  most dropped class",
            "method", "FID", "precision", "recall", "class acc", "AUROC"
        );
        for r in &self.rows {
            let (c, share) = most_dropped(&r.kept_per_class, &generated);
            println!(
                "{:<32} {:>8.4} {:>10.4} {:>8.4} {:>10.4} {:>7.3}  {} {:.0}%",
                r.method,
                r.fid,
                r.precision,
                r.recall,
                r.class_accuracy,
                r.auroc,
                CLASS_NAMES[c],
                100.0 * share
            );
        }
        let spread = &self.spread;
        println!(
            "random over {} draws: FID {:.4} +- {:.4}, precision {:.4} +- {:.4}",
            spread.draws,
            spread.fid.mean,
            spread.fid.std,
            spread.precision.mean,
            spread.precision.std
        );
        let f = &self.floor;
        println!(
            "u's floor (M = {MAIN_M}): dimensions with v_d > {} per generation: median {} of {} (p90 {}); \
             median v_d {:.1e}; u above its floor / its linear approximation: median {:.2}",
            f.floor,
            f.dims_above_floor.median,
            f.dims,
            f.dims_above_floor.p90,
            f.median_variance,
            f.above_floor_over_linear.median
        );
        println!(
            "{} of {n} generations are of another class by the classifier; wrote {}",
            self.wrong(),
            dir.join("eval.json").display()
        );
    }
}
