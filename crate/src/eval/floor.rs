//! How much of u is the paper's variance floor. Above its floor, u's term for dimension d is
//! `0.5 log(1 + v_d / floor)`: about `v_d / (2 floor)` while `v_d` is small against the floor,
//! so when few dimensions clear it, u ranks generations by the trace of the embedding
//! covariance rather than by a log-volume.

use serde::Serialize;

use super::detect::{Detection, detection};
use super::metrics::Quantiles;
use crate::kernels::semantic_entropy::VARIANCE_FLOOR;

/// Where the embedding variances sit against the floor, over generations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FloorReport {
    pub floor: f64,
    /// Embedding width D.
    pub dims: usize,
    /// Per generation: dimensions with `v_d > floor`.
    pub dims_above_floor: Quantiles,
    /// Over all generations and dimensions.
    pub median_variance: f64,
    /// Per generation: u above its floor over its linear approximation,
    /// `sum_d log(1 + v_d / floor) / sum_d (v_d / floor)` (1 = u is the trace, up to scale).
    pub above_floor_over_linear: Quantiles,
}

/// `variances` `[N * dims]`: the per-dimension embedding variances of N generations
/// (the same population `v_d` as u's).
pub fn floor_report(variances: &[f32], dims: usize) -> FloorReport {
    let rows: Vec<&[f32]> = variances.chunks_exact(dims).collect();
    let above = rows
        .iter()
        .map(|r| r.iter().filter(|&&v| v as f64 > VARIANCE_FLOOR).count() as f64)
        .collect();
    let ratio = rows
        .iter()
        .map(|r| {
            let (log, linear) = r.iter().fold((0.0, 0.0), |(l, s), &v| {
                let x = v as f64 / VARIANCE_FLOOR;
                (l + x.ln_1p(), s + x)
            });
            if linear > 0.0 { log / linear } else { 1.0 }
        })
        .collect();
    let all: Vec<f64> = variances.iter().map(|&v| v as f64).collect();
    FloorReport {
        floor: VARIANCE_FLOOR,
        dims,
        dims_above_floor: Quantiles::of(above),
        median_variance: Quantiles::of(all).median,
        above_floor_over_linear: Quantiles::of(ratio),
    }
}

/// The absolute floors of the sweep (the paper's is 1e-3).
pub const ABSOLUTE: [f64; 8] = [1e-8, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0];
/// The floors relative to each dimension's variance across generations.
pub const RELATIVE: [f64; 5] = [1e-4, 1e-3, 1e-2, 1e-1, 1.0];

/// One floor of the sweep and how u detects with it.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRow {
    /// `raw` (the paper's) or `unit` (L2-normalised embeddings).
    pub embeddings: &'static str,
    /// `absolute` (s2 itself) or `relative` (s2 times dimension d's variance across generations).
    pub kind: &'static str,
    pub s2: f64,
    /// Per label: detection with u at this floor.
    pub wrong_class: Detection,
    pub unrealistic: Detection,
}

/// The embeddings of one kind: per draw of weight samples, the per-dimension variances across
/// the M + 1 images `[N * D]`; and the MAP embeddings `[N * D]` (for the across-generation
/// variance).
pub struct Embeddings<'a> {
    pub name: &'static str,
    pub variances: Vec<&'a [f32]>,
    pub maps: Vec<f32>,
}

/// The variance of each dimension across generations, `[D]`, of `maps` `[N * D]`.
pub fn across_generations(maps: &[f32], dims: usize) -> Vec<f64> {
    let n = (maps.len() / dims).max(1) as f64;
    (0..dims)
        .map(|d| {
            let col = maps.iter().skip(d).step_by(dims).map(|&v| v as f64);
            let mean = col.clone().sum::<f64>() / n;
            col.map(|v| (v - mean).powi(2)).sum::<f64>() / n
        })
        .collect()
}

/// u up to its constant, `0.5 * sum_d log(v_d + floor_d)`, of each generation.
pub fn u_with_floor(variances: &[f32], floor: &[f64]) -> Vec<f64> {
    variances
        .chunks_exact(floor.len())
        .map(|r| {
            0.5 * r
                .iter()
                .zip(floor)
                .map(|(&v, f)| (v as f64 + f).ln())
                .sum::<f64>()
        })
        .collect()
}

/// The sweep: u re-scored from stored variances at every floor of [`ABSOLUTE`] and
/// [`RELATIVE`], for each kind of embeddings, against the labels `(wrong, unrealistic)` of
/// the generations of `classes`.
pub fn floor_sweep(
    kinds: &[Embeddings],
    dims: usize,
    labels: (&[bool], &[bool]),
    classes: &[usize],
    seed: u32,
) -> Vec<SweepRow> {
    let mut rows = Vec::new();
    for e in kinds {
        let across = across_generations(&e.maps, dims);
        let floors = ABSOLUTE
            .iter()
            .map(|&s| ("absolute", s, vec![s; dims]))
            .chain(
                RELATIVE
                    .iter()
                    .map(|&r| ("relative", r, across.iter().map(|a| a * r).collect())),
            );
        for (kind, s2, floor) in floors {
            let draws: Vec<Vec<f64>> = e
                .variances
                .iter()
                .map(|v| u_with_floor(v, &floor))
                .collect();
            rows.push(SweepRow {
                embeddings: e.name,
                kind,
                s2,
                wrong_class: detection(&draws, labels.0, classes, seed),
                unrealistic: detection(&draws, labels.1, classes, seed),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Closed forms: a generation with every `v_d = floor / 2` has ratio 2 ln 1.5 and no
    /// dimension above; one far below the floor is linear (ratio -> 1); counts per generation.
    #[test]
    fn floor_report_closed_forms() {
        let f = VARIANCE_FLOOR as f32;
        let h = f / 2.0;
        let d = 4;
        let v = [
            [h, h, h, h],                      // half the floor: 2 ln 1.5, 0 above
            [f * 1e-4, 0.0, f * 1e-4, 0.0],    // far below: ~1, 0 above
            [f * 3.0, f * 3.0, 0.0, 0.0],      // ln 4 / 3, 2 above
            [f * 10.0, f * 10.0, f * 10.0, h], // 3 above
            [0.0; 4],                          // no spread at all: 1 by convention
        ];
        let flat: Vec<f32> = v.iter().flatten().copied().collect();
        let r = floor_report(&flat, d);
        assert_eq!(r.dims, 4);
        assert_eq!(r.dims_above_floor.median, 0.0);
        assert_eq!(r.dims_above_floor.p90, 3.0);
        assert_eq!(r.median_variance, h as f64);
        // ratios sorted: (3 ln 11 + ln 1.5) / 30.5 = 0.249, ln 4 / 3 = 0.462, 2 ln 1.5 = 0.811, ~1, 1
        let r4 = (3.0 * 11f64.ln() + 1.5f64.ln()) / 30.5;
        assert!((r.above_floor_over_linear.p10 - r4).abs() < 1e-6, "{r:?}");
        assert!(
            (r.above_floor_over_linear.median - 2.0 * 1.5f64.ln()).abs() < 1e-6,
            "{r:?}"
        );
        assert!((r.above_floor_over_linear.p90 - 1.0).abs() < 1e-4, "{r:?}");
    }

    /// Closed forms of the sweep's pieces: the across-generation variance of a column
    /// (population), and u at a floor, `0.5 * sum ln(v + s2)`.
    #[test]
    fn sweep_pieces_closed_forms() {
        // two dims over 4 generations: (0, 1), (2, 1), (4, 1), (6, 1): var 5 and 0
        let maps = [0.0, 1.0, 2.0, 1.0, 4.0, 1.0, 6.0, 1.0];
        let a = across_generations(&maps, 2);
        assert!((a[0] - 5.0).abs() < 1e-12 && a[1] == 0.0, "{a:?}");
        let u = u_with_floor(&[1.0, 3.0, 0.0, 0.0], &[1.0, 1.0]);
        assert!((u[0] - 0.5 * (2f64.ln() + 4f64.ln())).abs() < 1e-12);
        assert!(u[1].abs() < 1e-12);
    }
}
