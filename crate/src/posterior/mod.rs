//! The last-layer Laplace posterior of the student: diagonal, one standard deviation per
//! parameter of `conv_out` ([`head::Layout`]). Fitted natively (`genuq fit-laplace`), loaded
//! anywhere.

use serde::{Deserialize, Serialize};

use crate::Error;

#[cfg(not(target_arch = "wasm32"))]
pub mod fit;
pub mod head;

use head::Layout;

/// Which curvature the posterior's precision uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Curvature {
    /// `0.5 * sum_n g_n^2`, the paper's.
    #[default]
    EmpiricalFisher,
    /// `sum_n J_n^T J_n`: the Gaussian likelihood's generalised Gauss-Newton.
    Ggn,
}

fn one() -> usize {
    1
}

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
    /// The curvature (the empirical Fisher unless the file says otherwise).
    #[serde(default)]
    pub curvature: Curvature,
    /// The grid the fit averaged over: t = 1/steps, ..., 1 (1: the one-step student's t = 1).
    #[serde(default = "one")]
    pub steps: usize,
}

impl Posterior {
    /// Parses and checks a posterior for a head with `layout`.
    pub fn parse(text: &str, layout: Layout) -> Result<Self, Error> {
        let p: Posterior =
            serde_json::from_str(text).map_err(|e| Error::Model(format!("posterior.json: {e}")))?;
        p.flat(layout)?;
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

    /// The standard deviations as one vector in `layout`'s order.
    pub fn flat(&self, layout: Layout) -> Result<Vec<f32>, Error> {
        if self.weight_std.len() != layout.weights() {
            return Err(Error::Model(format!(
                "posterior.json: {} weight stds for a {}-channel head ({} expected)",
                self.weight_std.len(),
                layout.channels,
                layout.weights()
            )));
        }
        let mut v = self.weight_std.clone();
        v.insert(layout.bias(), self.bias_std);
        Ok(v)
    }

    /// A posterior from standard deviations in `layout`'s order.
    pub fn from_flat(
        layout: Layout,
        std: &[f32],
        prior_precision: f64,
        temperature: f64,
        examples: usize,
    ) -> Self {
        let mut weight_std = std.to_vec();
        let bias_std = weight_std.remove(layout.bias());
        Self {
            weight_std,
            bias_std,
            prior_precision,
            temperature,
            examples,
            curvature: Curvature::default(),
            steps: 1,
        }
    }
}
