//! Evaluation (native): the classifier's view of images, sample-quality metrics, and the
//! pieces of the paper's protocol (`genuq eval`): the generations and their scores, the
//! methods, the judge of one selection, the report and its figures.

pub mod by_eye;
pub mod cache;
pub mod candidates;
pub mod classify;
pub mod detect;
pub mod figures;
pub mod floor;
pub mod generations;
pub mod independence;
pub mod judge;
pub mod labels;
pub mod methods;
pub mod metrics;
pub mod paired;
pub mod plots;
pub mod pool;
pub mod protocol;
pub mod ranking;
pub mod regions;
pub mod report;
pub mod select;
pub mod tables;
pub mod teacher;
