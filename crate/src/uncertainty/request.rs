//! What a generation asks for ([`Request`], checked by [`Request::validate`]) and the defaults
//! that ship: the sampler the evaluation picked and the score the labels by eye picked.

use crate::Error;
use crate::data::NUM_CLASSES;

use super::reference::{self, ScoreName};
use super::sampler::Perturb;

/// Most weight samples one generation may ask for.
pub const MAX_SAMPLES: usize = 32;
/// The M the reference tables and the evaluation score (nested draws: M = 2 is the first two
/// weight samples of M = 16).
pub const SAMPLE_COUNTS: [usize; 4] = [2, 5, 8, 16];
/// The step counts the student samples in: it learned the velocity at t = 1/4, ..., 1, so
/// 1, 2 and 4 Euler steps land on the times it was trained at.
pub const STEPS: [usize; 3] = [1, 2, 4];
/// What the demo, the widget and the CLI use unless told otherwise: the steps `genuq eval`
/// picked (reports/eval.json, "shipped") and the placement the labels by eye picked
/// ("by_eye.pick": u finds broken generations best with the weight samples at the first
/// step); a test holds them together.
pub const DEFAULT_STEPS: usize = 2;
pub const DEFAULT_PERTURB: Perturb = Perturb::First;
pub const DEFAULT_SAMPLES: usize = 8;
/// The score the product ships beside u: the detector the labels by eye picked
/// (reports/eval.json, "by_eye.detector"): the MAP image's distance to real images in the
/// structure space. Generations of models without the encoder have u alone.
pub const SHIPPED_SCORE: ScoreName = ScoreName::Realism;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub class: usize,
    pub seed: u32,
    /// M: weight samples besides the MAP.
    pub samples: usize,
    /// Euler steps of the student, one of [`STEPS`].
    pub steps: usize,
    /// Where along the steps the weight samples act.
    pub perturb: Perturb,
}

impl Request {
    /// A request with the defaults that ship.
    pub fn new(class: usize, seed: u32) -> Self {
        Self {
            class,
            seed,
            samples: DEFAULT_SAMPLES,
            steps: DEFAULT_STEPS,
            perturb: DEFAULT_PERTURB,
        }
    }

    /// Is there a closed-form heatmap for this request? Only where the images are linear in
    /// the weights: one step, or the weight samples at the last step only.
    pub fn check_exact(&self) -> Result<(), Error> {
        if self.steps > 1 && self.perturb != Perturb::Last {
            return Err(Error::InvalidInput(format!(
                "the exact heatmap exists for one step, or for weight samples at the last step \
                 only; with {} steps and weight samples at {:?} steps the images are not linear \
                 in the weights",
                self.steps,
                self.perturb.name()
            )));
        }
        Ok(())
    }

    /// The reference table this request's u is compared with (its class, sampler and M).
    pub fn reference_key(&self) -> reference::Key {
        reference::Key {
            score: reference::ScoreName::U,
            steps: self.steps,
            perturb: self.perturb,
            samples: self.samples,
            class: Some(self.class),
        }
    }
}

impl Request {
    pub fn validate(&self) -> Result<(), Error> {
        if self.class >= NUM_CLASSES {
            return Err(Error::InvalidInput(format!(
                "class {} is not in 0..{NUM_CLASSES}",
                self.class
            )));
        }
        if !(1..=MAX_SAMPLES).contains(&self.samples) {
            return Err(Error::InvalidInput(format!(
                "samples = {} is not in 1..={MAX_SAMPLES}",
                self.samples
            )));
        }
        if !STEPS.contains(&self.steps) {
            return Err(Error::InvalidInput(format!(
                "steps = {} is not one of {STEPS:?} (the step counts the student learned)",
                self.steps
            )));
        }
        Ok(())
    }
}
