//! The `generate()` pipeline, shared by the CLI and the browser: one trunk pass of the student,
//! MAP + M perturbed heads in one kernel, CLIP on the M + 1 images, the paper's score u, a
//! per-pixel heatmap, and the percentile of u against reference generations.

pub mod class_space;
mod generation;
mod generator;
pub mod load;
pub mod realism;
pub mod reference;
mod request;
pub mod sampler;

pub use class_space::ClassText;
pub use generation::{ClassSpace, Generation, GenerationRecord, Shipped, Timings};
pub use generator::{Drawn, Generator, Scores, readback_error, score};
pub use reference::{Flag, ReferenceTable, ScoreName};
pub use request::{
    DEFAULT_PERTURB, DEFAULT_SAMPLES, DEFAULT_STEPS, MAX_SAMPLES, Request, SAMPLE_COUNTS,
    SHIPPED_SCORE, STEPS,
};
pub use sampler::Perturb;
