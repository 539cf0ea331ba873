//! Evaluation (native): metrics, and `genuq eval-models` for the manifest's numbers.

pub mod metrics;
pub mod models;
