//! The metrics of one selection: a method's score keeps its lowest `keep` generations, which
//! are judged against the test split in the evaluation classifier's feature space (FID,
//! precision and recall with k = 3, class accuracy, and the score's AUROC for wrong-class
//! generations), plus the random baseline's spread and the metrics as more is dropped.

use serde::Serialize;

use super::methods::random_scores;
use super::metrics::{Features, MeanStd, fid, precision, recall};
use super::ranking::auroc;
use super::select::{ClassCounts, class_counts, lowest};

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub method: String,
    pub fid: f64,
    pub precision: f64,
    pub recall: f64,
    pub class_accuracy: f64,
    /// AUROC of the score for detecting generations of the wrong class.
    pub auroc: f64,
    /// Generations kept of each class (0-9): how far the filter shifted the class mix.
    pub kept_per_class: ClassCounts,
}

/// Points `(fraction dropped, metric)`.
pub type Curve = Vec<(f64, f64)>;

/// Random subsets drawn for the spread of the random baseline.
pub const RANDOM_DRAWS: u32 = 20;

/// The random baseline over many draws.
#[derive(Debug, Serialize)]
pub struct Spread {
    pub draws: u32,
    pub fid: MeanStd,
    pub precision: MeanStd,
}

/// The shared pieces of every row's metrics.
pub struct Judge<'a> {
    pub real: &'a Features,
    pub generated: Features,
    /// Is generation i inside the real k-NN manifold (its precision flag)?
    pub inside: Vec<bool>,
    /// Does the classifier call generation i another class?
    pub wrong: Vec<bool>,
    /// The class each generation was asked for.
    pub classes: &'a [usize],
}

impl Judge<'_> {
    pub fn row(&self, method: &str, score: &[f64], keep: usize) -> Row {
        let kept = lowest(score, keep);
        let sub = self.generated.select(&kept);
        let kept_per_class = class_counts(&kept, self.classes);
        Row {
            method: method.to_string(),
            fid: fid(&sub, self.real),
            precision: precision(&self.inside, &kept),
            recall: recall(self.real, &sub, 3),
            class_accuracy: kept.iter().filter(|&&i| !self.wrong[i]).count() as f64 / keep as f64,
            auroc: auroc(score, &self.wrong),
            kept_per_class,
        }
    }

    /// FID and precision of `draws` random subsets of `keep` (draws apart from the `random`
    /// row's): the noise scale against which a method's gain over random is read.
    pub fn random_spread(&self, seed: u32, keep: usize, draws: u32) -> Spread {
        let n = self.inside.len();
        let (fids, precisions): (Vec<f64>, Vec<f64>) = (1..=draws)
            .map(|d| {
                let kept = lowest(&random_scores(seed, d, n), keep);
                let precision = precision(&self.inside, &kept);
                (fid(&self.generated.select(&kept), self.real), precision)
            })
            .unzip();
        Spread {
            draws,
            fid: MeanStd::of(&fids),
            precision: MeanStd::of(&precisions),
        }
    }

    /// (fraction dropped, FID) and (fraction dropped, precision) as more is dropped.
    pub fn curve(&self, score: &[f64]) -> (Curve, Curve) {
        let n = score.len();
        (0..=10)
            .map(|i| {
                let dropped = i as f64 * 0.05;
                let kept = lowest(score, n - (dropped * n as f64).round() as usize);
                let sub = self.generated.select(&kept);
                let precision = precision(&self.inside, &kept);
                ((dropped, fid(&sub, self.real)), (dropped, precision))
            })
            .unzip()
    }
}
