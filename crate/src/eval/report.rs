//! What `genuq eval` writes: `eval.json`, the figures, and the tables on stdout.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::detect::Detection;
use super::floor::FloorReport;
use super::generations::{MAIN_M, Maps, Scored};
use super::judge::{Curve, Spread};
use super::methods::{CURVES, ORACLE};
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
            "quota_curves": self.quota_curves.iter().map(|(name, c)| json!({"method": name, "precision": c})).collect::<Vec<_>>(),
            "weight_seeds": self.weight_seeds,
            "generations": n,
            "keep": self.keep,
            "seed": self.seed,
            "main_samples": MAIN_M,
            "wrong_class": self.maps.wrong_class().iter().filter(|&&w| w).count(),
            "random_spread": self.spread,
            "curves": self.curves.iter().map(|(name, _, (f, p))| json!({"method": name, "fid": f, "precision": p})).collect::<Vec<_>>(),
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
        auroc_figures(dir, &self.detection)?;
        let curves: Vec<_> = self.curves.iter().map(|(_, l, c)| (*l, c)).collect();
        curve_figures(dir, &self.quota_curves, &curves)?;
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

/// One interval plot of macro AUROC per detection table.
fn auroc_figures(dir: &Path, detection: &[DetectionTable]) -> anyhow::Result<()> {
    for table in detection {
        let rows: Vec<(String, f64, [f64; 2])> = table
            .rows
            .iter()
            .filter(|r| r.detection.auroc_ci.iter().all(|v| v.is_finite()))
            .map(|r| {
                let m = r.samples.map(|m| format!(", M = {m}")).unwrap_or_default();
                let p = r
                    .perturb
                    .as_ref()
                    .map(|p| format!(" {p}"))
                    .unwrap_or_default();
                let name = format!("{} ({}-step{p}{m})", r.method, r.steps);
                (name, r.detection.macro_auroc, r.detection.auroc_ci)
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        plots::intervals(
            &dir.join(format!(
                "auroc_{}_{}step_{}.png",
                table.label, table.steps, table.generations
            )),
            &format!(
                "Macro AUROC for {} generations ({}-step, {} generations, 95% CI)",
                table.label.replace('_', " "),
                table.steps,
                table.generations
            ),
            "per-class macro AUROC (0.5 = chance)",
            &rows,
            0.5,
        )?;
    }
    Ok(())
}

/// Precision and FID of the kept generations against the fraction dropped: under per-class
/// quotas (`quota_curves`, by variant), and under the global cut (`curves`: label, (FID,
/// precision)).
fn curve_figures(
    dir: &Path,
    quota_curves: &[(String, Curve)],
    curves: &[(&str, &(Curve, Curve))],
) -> anyhow::Result<()> {
    plots::lines(
        &dir.join("quota_precision_vs_dropped.png"),
        "Precision of the kept generations, per-class quotas (higher is better)",
        ("fraction dropped from every class", "precision (k = 3)"),
        &quota_curves
            .iter()
            .map(|(n, c)| (n.as_str(), c.clone()))
            .collect::<Vec<_>>(),
    )?;
    let fid: Vec<_> = curves
        .iter()
        .map(|(label, (f, _))| (*label, f.clone()))
        .collect();
    // The oracle's precision (1.0 from 20% dropped, by construction) would flatten the others.
    let oracle = CURVES.iter().find(|(name, _)| *name == ORACLE).map(|c| c.1);
    let precision: Vec<_> = curves
        .iter()
        .filter(|(label, _)| Some(*label) != oracle)
        .map(|(label, (_, p))| (*label, p.clone()))
        .collect();
    plots::lines(
        &dir.join("fid_vs_dropped.png"),
        "FID of the kept generations, global cut (lower is better)",
        ("fraction dropped", "FID"),
        &fid,
    )?;
    plots::lines(
        &dir.join("precision_vs_dropped.png"),
        "Precision of the kept generations, global cut (higher is better)",
        ("fraction dropped", "precision (k = 3)"),
        &precision,
    )?;
    Ok(())
}

/// Redraws the figures that come from eval.json's numbers alone (the AUROC intervals and the
/// curves against the fraction dropped) from `dir/eval.json`, scoring nothing: for a change of
/// names or style without the hours of a full `genuq eval`. The histogram and the image grids
/// need the generations and stay as they are.
pub fn replot(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("eval.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (run `genuq eval` first)", path.display()))?;
    let report: serde_json::Value = serde_json::from_str(&text)?;
    let detection: Vec<DetectionTable> = serde_json::from_value(report["detection"].clone())?;
    let quota_curves: Vec<(String, Curve)> = named(&report["quota_curves"], &["precision"])?
        .into_iter()
        .map(|(name, mut c)| (name, c.remove(0)))
        .collect();
    let curves: Vec<(String, (Curve, Curve))> = named(&report["curves"], &["fid", "precision"])?
        .into_iter()
        .map(|(name, mut c)| {
            let label = CURVES
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(name, |c| c.1.to_string());
            let precision = c.remove(1);
            (label, (c.remove(0), precision))
        })
        .collect();
    auroc_figures(dir, &detection)?;
    let curves: Vec<_> = curves.iter().map(|(l, c)| (l.as_str(), c)).collect();
    curve_figures(dir, &quota_curves, &curves)
}

/// `[{"method": NAME, KEY: [[x, y], ...], ...}, ...]` as (NAME, the curves under `keys`).
fn named(list: &serde_json::Value, keys: &[&str]) -> anyhow::Result<Vec<(String, Vec<Curve>)>> {
    #[derive(Deserialize)]
    struct Named {
        method: String,
        #[serde(flatten)]
        curves: BTreeMap<String, Curve>,
    }
    let rows: Vec<Named> = serde_json::from_value(list.clone())?;
    rows.into_iter()
        .map(|mut r| {
            let curves = keys
                .iter()
                .map(|k| {
                    r.curves
                        .remove(*k)
                        .ok_or_else(|| anyhow::anyhow!("{}: no {k}", r.method))
                })
                .collect::<anyhow::Result<_>>()?;
            Ok((r.method, curves))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// eval.json's detection tables read back as they were written (`--replot` draws from
    /// them), the flattened metrics included; curves by name, a missing one an error.
    #[test]
    fn detection_tables_and_curves_read_back() {
        let detection = Detection {
            macro_auroc: 0.61,
            auroc_ci: [0.5, 0.7],
            macro_auprc: 0.3,
            chance_auprc: 0.2,
            per_draw: vec![0.6, 0.62],
        };
        let row = DetectionRow {
            method: "u".into(),
            steps: 2,
            perturb: Some("first".into()),
            samples: Some(8),
            generations: 10,
            detection,
        };
        let table = DetectionTable {
            label: "wrong_class".into(),
            what: "another class".into(),
            generations: 10,
            steps: 2,
            positives: 3,
            rows: vec![row],
        };
        let written = serde_json::to_value(vec![table.clone()]).unwrap();
        assert_eq!(written[0]["rows"][0]["macro_auroc"], 0.61, "flattened");
        let back: Vec<DetectionTable> = serde_json::from_value(written).unwrap();
        assert_eq!(back, vec![table]);
        let curves =
            json!([{"method": "u", "fid": [[0.0, 1.5], [0.1, 1.2]], "precision": [[0.0, 0.9]]}]);
        let fid = vec![(0.0, 1.5), (0.1, 1.2)];
        let expected = vec![("u".to_string(), vec![fid, vec![(0.0, 0.9)]])];
        assert_eq!(named(&curves, &["fid", "precision"]).unwrap(), expected);
        assert!(named(&curves, &["recall"]).is_err());
    }

    /// The shipped reports/eval.json is one `--replot` can read.
    #[test]
    fn the_shipped_report_reads_back() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/eval.json");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let tables: Vec<DetectionTable> =
            serde_json::from_value(report["detection"].clone()).unwrap();
        assert!(tables.iter().all(|t| !t.rows.is_empty()));
        assert_eq!(
            named(&report["curves"], &["fid", "precision"])
                .unwrap()
                .len(),
            CURVES.len()
        );
        assert!(
            !named(&report["quota_curves"], &["precision"])
                .unwrap()
                .is_empty()
        );
    }
}
