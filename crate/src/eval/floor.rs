//! How much of u is the paper's variance floor. Above its floor, u's term for dimension d is
//! `0.5 log(1 + v_d / floor)`: about `v_d / (2 floor)` while `v_d` is small against the floor,
//! so when few dimensions clear it, u ranks generations by the trace of the embedding
//! covariance rather than by a log-volume.

use serde::Serialize;

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
}
