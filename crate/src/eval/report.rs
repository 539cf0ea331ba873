//! What `genuq eval` writes: `eval.json`, the figures, and the tables on stdout.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::detect::Detection;
use super::figures::{self, CutCurves, QuotaCurve};
use super::floor::FloorReport;
use super::generations::{MAIN_M, Maps, Scored};
use super::judge::{Curve, Spread};
use super::metrics::{MeanStd, Quantiles};
use super::plots;
use super::select::lowest;
use crate::data::{NUM_CLASSES, PIXELS};

/// One line of a detection table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionRow {
    pub method: String,
    pub steps: usize,
    /// Where the weight samples act (`all`, `first`, `last`), for the sampler's scores.
    pub perturb: Option<String>,
    /// M, for the scores made from weight samples.
    pub samples: Option<usize>,
    pub generations: usize,
    #[serde(flatten)]
    pub detection: Detection,
}

/// A detection table: one label over one set of generations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionTable {
    pub label: String,
    /// What the label means.
    pub what: String,
    pub generations: usize,
    pub steps: usize,
    /// Generations with the label.
    pub positives: usize,
    pub rows: Vec<DetectionRow>,
}

/// One line of the per-class-quota filter.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaRow {
    pub method: String,
    pub precision: f64,
    /// Class-balanced FID of the kept generations.
    pub fid: f64,
    /// Share of the kept generations without each label.
    pub kept_not_poor: BTreeMap<&'static str, f64>,
}

/// The random per-class quotas over many draws.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaRandom {
    pub draws: u32,
    pub precision_mean: f64,
    pub precision_std: f64,
    pub fid_mean: f64,
    pub fid_std: f64,
}

impl QuotaRandom {
    pub fn new(draws: u32, precision: MeanStd, fid: MeanStd) -> Self {
        Self {
            draws,
            precision_mean: precision.mean,
            precision_std: precision.std,
            fid_mean: fid.mean,
            fid_std: fid.std,
        }
    }
}

/// The per-class-quota filter on one set of generations.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaTable {
    pub steps: usize,
    pub generations: usize,
    pub keep: usize,
    pub random: QuotaRandom,
    pub rows: Vec<QuotaRow>,
}

/// Everything the report is made of.
pub struct Report<'a> {
    /// The shipped variant's generations and scores (all of them).
    pub maps: &'a Maps,
    pub scored: &'a Scored,
    pub spread: Spread,
    /// (method, label, (FID curve, precision curve)).
    pub curves: Vec<(&'static str, &'static str, (Curve, Curve))>,
    pub floor: FloorReport,
    pub detection: Vec<DetectionTable>,
    /// The filter on all generations of the shipped variant's steps, and on the other sets.
    pub quota: QuotaTable,
    pub quota_other: Vec<QuotaTable>,
    /// Precision as more is dropped by per-class quotas, per variant (ablation generations).
    pub quota_curves: Vec<(String, Curve)>,
    pub shipped: String,
    pub keep: usize,
    pub seed: u32,
    pub weight_seeds: Vec<u32>,
    /// Further sections of eval.json by name (they replace a key of the same name).
    pub sections: serde_json::Map<String, serde_json::Value>,
}

impl Report<'_> {
    /// `dir/eval.json`.
    pub fn write_json(&self, dir: &Path) -> anyhow::Result<()> {
        let n = self.maps.classes.len();
        let mut report = json!({
            "shipped": self.shipped,
            "detection": self.detection,
            "quota_filter": {
                "steps": self.quota.steps,
                "generations": self.quota.generations,
                "keep": self.quota.keep,
                "random": self.quota.random,
                "rows": self.quota.rows,
                "other": self.quota_other,
            },
            "quota_curves": self.quota_curves.iter().map(|(method, c)| QuotaCurve { method: method.clone(), precision: c.clone() }).collect::<Vec<_>>(),
            "weight_seeds": self.weight_seeds,
            "generations": n,
            "keep": self.keep,
            "seed": self.seed,
            "main_samples": MAIN_M,
            "wrong_class": self.maps.wrong_class().iter().filter(|&&w| w).count(),
            "random_spread": self.spread,
            "curves": self.curves.iter().map(|(method, _, (fid, precision))| CutCurves { method: method.to_string(), fid: fid.clone(), precision: precision.clone() }).collect::<Vec<_>>(),
            "u": self.scored.u.iter().map(|(m, u)| (m.to_string(), Quantiles::of(u.iter().map(|&x| x as f64).collect()))).collect::<BTreeMap<_, _>>(),
            "u_floor": self.floor,
            "protocol": "detection: per-class macro AUROC / AUPRC of each score (higher = more likely poor) for generations the evaluation classifier puts in another class (wrong_class) or whose realism score (Kynkäänniemi et al. 2019, k = 3, in its 128-d features vs the 10k test split) is below 1 (unrealistic), bootstrap 95% CI over generations resampled within classes, averaged over the weight-sample seeds; quota_filter: each score keeps the same share of every class, precision (k = 3), class-balanced FID, the share of kept generations without each label, against random per-class quotas; global_filter: the paper's global cut (keep the `keep` lowest scores of all classes together) with FID, precision/recall, class accuracy and AUROC for wrong-class generations",
        });
        if let Some(map) = report.as_object_mut() {
            map.extend(self.sections.clone());
            // the by-eye section comes from `genuq eval --labels`, not from this run: kept
            if let Some(by_eye) = super::by_eye::read_section(&dir.join("eval.json")) {
                map.insert(super::by_eye::SECTION.to_string(), by_eye);
            }
        }
        std::fs::write(
            dir.join("eval.json"),
            serde_json::to_string_pretty(&report)? + "\n",
        )?;
        Ok(())
    }

    /// The figures: AUROC with CIs per label, precision vs dropped under per-class quotas, the
    /// global cut's curves, the u histogram and the most and least uncertain generations.
    pub fn write_figures(&self, dir: &Path) -> anyhow::Result<()> {
        figures::auroc_figures(dir, &self.detection)?;
        let curves: Vec<_> = self.curves.iter().map(|(_, l, c)| (*l, c)).collect();
        figures::curve_figures(dir, &self.quota_curves, &curves)?;
        self.image_figures(dir)
    }

    /// u's histogram, and the generations u ranks lowest and highest (overall and per class).
    fn image_figures(&self, dir: &Path) -> anyhow::Result<()> {
        let n = self.maps.classes.len();
        let u: Vec<f64> = self.scored.u[&MAIN_M].iter().map(|&x| x as f64).collect();
        plots::histogram(
            &dir.join("u_histogram.png"),
            &format!("u over {n} generations ({}, M = {MAIN_M})", self.shipped),
            "u",
            &u,
            60,
        )?;
        let image = |i: &usize| &self.maps.images[i * PIXELS..(i + 1) * PIXELS];
        const GRID: usize = 32;
        let order = lowest(&u, n);
        let least: Vec<&[f32]> = order.iter().take(GRID).map(image).collect();
        let most: Vec<&[f32]> = order.iter().rev().take(GRID).map(image).collect();
        plots::grid(&dir.join("least_uncertain.png"), &least, 8, 3)?;
        plots::grid(&dir.join("most_uncertain.png"), &most, 8, 3)?;
        // per class: its 6 least uncertain, then its 6 most uncertain, one class a row
        const PER_SIDE: usize = 6;
        let mut per_class = Vec::new();
        for c in 0..NUM_CLASSES {
            let mine: Vec<usize> = order
                .iter()
                .copied()
                .filter(|&i| self.maps.classes[i] == c)
                .collect();
            per_class.extend(mine.iter().take(PER_SIDE).map(image));
            per_class.extend(mine.iter().rev().take(PER_SIDE).rev().map(image));
        }
        plots::grid(
            &dir.join("per_class_extremes.png"),
            &per_class,
            2 * PER_SIDE,
            2,
        )?;
        Ok(())
    }

    /// The tables on stdout.
    pub fn print(&self, dir: &Path) {
        println!("shipped: {}", self.shipped);
        self.print_detection();
        self.print_quotas();
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
        println!("wrote {}", dir.join("eval.json").display());
    }

    /// The detection tables, one per label and step count.
    fn print_detection(&self) {
        for t in &self.detection {
            println!(
                "\n{} ({} of {} generations, {}-step MAP images): macro AUROC [95% CI], AUPRC (chance {:.3})",
                t.label,
                t.positives,
                t.generations,
                t.steps,
                t.rows.first().map_or(0.0, |r| r.detection.chance_auprc)
            );
            for r in &t.rows {
                let d = &r.detection;
                println!(
                    "  {:<40} {:.3} [{:.3}, {:.3}]  {:.3}",
                    format!(
                        "{} {}-step{}{}",
                        r.method,
                        r.steps,
                        r.perturb
                            .as_ref()
                            .map(|p| format!(" {p}"))
                            .unwrap_or_default(),
                        r.samples.map(|m| format!(" M={m}")).unwrap_or_default()
                    ),
                    d.macro_auroc,
                    d.auroc_ci[0],
                    d.auroc_ci[1],
                    d.macro_auprc
                );
            }
        }
    }

    /// The per-class-quota filters against random.
    fn print_quotas(&self) {
        for q in std::iter::once(&self.quota).chain(&self.quota_other) {
            let r = &q.random;
            println!(
                "\nper-class quotas, {}-step, keep {} of {}: random precision {:.4} +- {:.4}, FID {:.4} +- {:.4}",
                q.steps,
                q.keep,
                q.generations,
                r.precision_mean,
                r.precision_std,
                r.fid_mean,
                r.fid_std
            );
            for row in &q.rows {
                let not_poor: Vec<String> = row
                    .kept_not_poor
                    .iter()
                    .map(|(k, v)| format!("{k} {v:.4}"))
                    .collect();
                println!(
                    "  {:<40} precision {:.4} ({:+.1} std)  FID {:.4}  kept not poor: {}",
                    row.method,
                    row.precision,
                    (row.precision - r.precision_mean) / r.precision_std.max(1e-12),
                    row.fid,
                    not_poor.join(", ")
                );
            }
        }
    }
}
