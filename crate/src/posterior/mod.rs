//! The last-layer Laplace posterior of the student: diagonal, one standard deviation per
//! weight of `conv_out` (and its bias). Fitted natively (`genuq fit-laplace`), loaded anywhere.

use serde::{Deserialize, Serialize};

use crate::Error;

#[cfg(not(target_arch = "wasm32"))]
pub mod fit;

/// `models/posterior.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Posterior {
    /// Posterior standard deviations of `conv_out.weight`, `[C * 9]` in (c, ky, kx) order.
    pub weight_std: Vec<f32>,
    /// Posterior standard deviation of `conv_out.bias`.
    pub bias_std: f32,
    /// Prior precision (1 in the paper).
    pub prior_precision: f64,
    /// Temperature that scales the curvature (1 = plain Laplace).
    pub temperature: f64,
    /// Training examples the curvature was summed over.
    pub examples: usize,
}

impl Posterior {
    pub fn parse(text: &str, channels: usize) -> Result<Self, Error> {
        let p: Posterior =
            serde_json::from_str(text).map_err(|e| Error::Model(format!("posterior.json: {e}")))?;
        if p.weight_std.len() != channels * 9 {
            return Err(Error::Model(format!(
                "posterior.json: {} weight stds for a {channels}-channel head ({} expected)",
                p.weight_std.len(),
                channels * 9
            )));
        }
        if p.weight_std
            .iter()
            .chain([&p.bias_std])
            .any(|s| !s.is_finite() || *s < 0.0)
        {
            return Err(Error::Model(
                "posterior.json: standard deviations must be finite and >= 0".into(),
            ));
        }
        Ok(p)
    }

    /// Standard deviations in the kernel's layout: weights then bias.
    pub fn flat(&self) -> Vec<f32> {
        let mut v = self.weight_std.clone();
        v.push(self.bias_std);
        v
    }
}
