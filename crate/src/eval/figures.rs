//! The figures made from the evaluation's numbers alone: the AUROC intervals of each detection
//! table and the curves against the fraction dropped. `genuq eval` draws them from its
//! [`Report`](super::report::Report); `genuq eval --replot` from an eval.json it wrote.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::judge::Curve;
use super::methods::{CURVES, ORACLE};
use super::plots;
use super::report::DetectionTable;

/// One interval plot of macro AUROC per detection table.
pub fn auroc_figures(dir: &Path, detection: &[DetectionTable]) -> anyhow::Result<()> {
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
pub fn curve_figures(
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
    let quota: Vec<QuotaCurve> = serde_json::from_value(report["quota_curves"].clone())?;
    let cut: Vec<CutCurves> = serde_json::from_value(report["curves"].clone())?;
    auroc_figures(dir, &detection)?;
    let quota: Vec<_> = quota.into_iter().map(|q| (q.method, q.precision)).collect();
    let labelled: Vec<_> = cut
        .into_iter()
        .map(|c| {
            let label = CURVES.iter().find(|(n, _)| *n == c.method).map(|n| n.1);
            (label.map_or(c.method, str::to_string), (c.fid, c.precision))
        })
        .collect();
    let curves: Vec<_> = labelled.iter().map(|(l, c)| (l.as_str(), c)).collect();
    curve_figures(dir, &quota, &curves)
}

/// A method's curves against the fraction dropped under the global cut: a row of eval.json's
/// `curves`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct CutCurves {
    pub method: String,
    pub fid: Curve,
    pub precision: Curve,
}

/// A variant's precision against the fraction dropped under per-class quotas: a row of
/// eval.json's `quota_curves`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotaCurve {
    pub method: String,
    pub precision: Curve,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::eval::detect::Detection;
    use crate::eval::report::DetectionRow;

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
        let expected = CutCurves {
            method: "u".into(),
            fid: vec![(0.0, 1.5), (0.1, 1.2)],
            precision: vec![(0.0, 0.9)],
        };
        let read: Vec<CutCurves> = serde_json::from_value(curves).unwrap();
        assert_eq!(read, vec![expected]);
        let no_fid = json!([{"method": "u", "precision": [[0.0, 0.9]]}]);
        assert!(serde_json::from_value::<Vec<CutCurves>>(no_fid).is_err());
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
        let cut: Vec<CutCurves> = serde_json::from_value(report["curves"].clone()).unwrap();
        assert_eq!(cut.len(), CURVES.len());
        let quota: Vec<QuotaCurve> =
            serde_json::from_value(report["quota_curves"].clone()).unwrap();
        assert!(!quota.is_empty());
    }
}
