//! Evaluation (native): metrics, `genuq eval-models` for the manifest's numbers, and
//! `genuq eval` for the paper's protocol (with its figures).

mod floor;
mod judge;
pub mod metrics;
pub mod models;
mod plots;
pub mod protocol;
mod select;
