//! The perturbed sampler: M + 1 trajectories of the student's Euler sampler from the same
//! noise, trajectory m using weight sample m of the last layer (m = 0: the MAP) at the steps
//! [`Perturb`] picks, the MAP weights at the others. As in the paper (which re-runs the whole
//! sampler per weight sample), the weight noise is carried through the nonlinear trajectory:
//! from the first perturbed step on, each trajectory has its own state, so the trunk sees
//! different inputs.
//!
//! Fused: the trajectories of a batch run as one batch through the trunk, and the
//! `perturbed_head` kernel applies sample m's noise to trajectory m's features, drawing the
//! noise in-kernel (no weight copies). Before the first perturbed step the trajectories are one,
//! so the trunk runs once (with `Perturb::Last` that is every step but the last: today's cost).
//! [`Generator::naive_images`] is the paper's way to the same numbers: M + 1 separate samplers,
//! each with its own materialised weight copy.

use burn::tensor::{Int, Tensor};

use super::Generator;
use crate::Error;
use crate::data::{IMAGE_SIZE, PIXELS};
use crate::diffusion::flow::{euler, grid};
use crate::kernels::perturbed_head::{Features, perturbed_head};
use crate::posterior::head::HeadWeights;

/// Where the weight samples act along the sampler's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Perturb {
    /// At every step (the paper's way).
    All,
    /// At the first step only; the later steps use the MAP weights on each trajectory.
    First,
    /// At the last step only: one trajectory until it branches at the end.
    Last,
}

impl Perturb {
    pub const ALL: [Perturb; 3] = [Perturb::All, Perturb::First, Perturb::Last];

    /// Does the perturbation act at step `i` of `steps`?
    pub fn acts_at(self, i: usize, steps: usize) -> bool {
        match self {
            Perturb::All => true,
            Perturb::First => i == 0,
            Perturb::Last => i + 1 == steps,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Perturb::All => "all",
            Perturb::First => "first",
            Perturb::Last => "last",
        }
    }

    /// By name (`all`, `first`, `last`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The M + 1 images of a batch of generations and what else the sampler saw.
pub struct Trajectories {
    /// `[B, S, H, W]`, clamped to [-1, 1]; sample 0 is the MAP.
    pub images: Tensor<4>,
    /// The root-mean-square of the last layer's input features on the MAP trajectory at the
    /// last step, `[B]` (a trivial baseline score: how loud the features are).
    pub feature_rms: Tensor<1>,
}

impl Generator {
    /// The trunk's features `[N, C, H, W]` of states `x` `[N, 1, H, W]` at time `t`, where row
    /// n has class `classes[n / repeat]`, on the kernels' device.
    fn trunk_at(&self, x: Tensor<4>, t: f32, classes: &[usize], repeat: usize) -> Tensor<4> {
        let [n, ..] = x.dims();
        let rows: Vec<i32> = classes
            .iter()
            .flat_map(|&c| std::iter::repeat_n(c as i32, repeat))
            .collect();
        let class = Tensor::<1, Int>::from_ints(rows.as_slice(), &self.nets);
        let time = Tensor::full([n], t, &self.nets);
        self.student
            .trunk(x.to_device(&self.nets), time, class)
            .to_device(&self.device)
    }

    /// MAP + (`samples` - 1) trajectories of each generation b (noise of `seeds[b]`, class
    /// `classes[b]`) in `steps` Euler steps; the weight samples are drawn under `weight_seed`
    /// and shared by the batch.
    pub fn trajectories(
        &self,
        classes: &[usize],
        seeds: &[u32],
        samples: usize,
        weight_seed: u32,
        steps: usize,
        perturb: Perturb,
    ) -> Result<Trajectories, Error> {
        let b = classes.len();
        let noise = seeds
            .iter()
            .map(|&s| self.noise(s))
            .collect::<Result<Vec<_>, _>>()?;
        // trajectories per generation in `x`: one until the first perturbed step, then `samples`
        let mut rows = 1;
        let mut feature_rms = None;
        let x = euler(Tensor::cat(noise, 0), steps, |i, t, mut x| {
            let h = self.trunk_at(x.clone(), t, classes, rows);
            if i + 1 == steps {
                feature_rms = Some(map_rms(h.clone(), b, rows));
            }
            if !perturb.acts_at(i, steps) {
                let v = perturbed_head(h, &self.head, 1, weight_seed, Features::Shared)?;
                return Ok((x, v));
            }
            let features = match rows {
                1 => Features::Shared,
                _ => Features::PerSample,
            };
            if rows == 1 {
                x = x.reshape([b, 1, PIXELS]).repeat_dim(1, samples).reshape([
                    b * samples,
                    1,
                    IMAGE_SIZE,
                    IMAGE_SIZE,
                ]);
                rows = samples;
            }
            let v = perturbed_head(h, &self.head, samples, weight_seed, features)?;
            Ok::<_, Error>((x, v.reshape([b * samples, 1, IMAGE_SIZE, IMAGE_SIZE])))
        })?;
        if rows == 1 {
            return Err(Error::InvalidInput(format!(
                "the perturbation {:?} acts at none of {steps} steps",
                perturb
            )));
        }
        Ok(Trajectories {
            images: x
                .reshape([b, samples, IMAGE_SIZE, IMAGE_SIZE])
                .clamp(-1.0, 1.0),
            feature_rms: feature_rms
                .ok_or_else(|| Error::InvalidInput("a sampler of no steps".into()))?,
        })
    }

    /// The MAP trajectory of one generation up to its last step: the trunk's features there
    /// `[1, C, H, W]` and the last step's size `dt` (negative: time runs from 1 to 0).
    pub fn last_step_features(
        &self,
        class: usize,
        seed: u32,
        steps: usize,
    ) -> Result<(Tensor<4>, f32), Error> {
        let times = grid(steps);
        let mut last = None;
        euler(self.noise(seed)?, steps, |i, t, x| {
            let h = self.trunk_at(x.clone(), t, &[class], 1);
            if i + 1 == steps {
                // the last step's features are the answer; its update is not needed
                last = Some(h);
                let none = x.zeros_like();
                return Ok((x, none));
            }
            Ok::<_, Error>((x, perturbed_head(h, &self.head, 1, seed, Features::Shared)?))
        })?;
        let h = last.ok_or_else(|| Error::InvalidInput("a sampler of no steps".into()))?;
        Ok((h, times[steps] - times[steps - 1]))
    }

    /// The paper's way to [`Generator::trajectories`] for one generation: `samples` separate
    /// samplers from the same noise, sampler m with its own materialised copy of the last layer
    /// (weight sample m at the perturbed steps, the MAP at the others): `[S, 1, H, W]`, clamped.
    pub fn naive_images(
        &self,
        class: usize,
        seed: u32,
        samples: usize,
        weight_seed: u32,
        steps: usize,
        perturb: Perturb,
    ) -> Result<Tensor<4>, Error> {
        let z = self.noise(seed)?.to_device(&self.nets);
        let on_nets =
            |(w, b): (Tensor<4>, Tensor<1>)| (w.to_device(&self.nets), b.to_device(&self.nets));
        let map = on_nets(self.head.sample(0, weight_seed));
        let outs = (0..samples)
            .map(|m| {
                let sample = on_nets(self.head.sample(m, weight_seed));
                let x = euler(z.clone(), steps, |i, t, x| {
                    let t = Tensor::full([1], t, &self.nets);
                    let c = Tensor::<1, Int>::from_ints([class as i32], &self.nets);
                    let h = self.student.trunk(x.clone(), t, c);
                    let layer = match perturb.acts_at(i, steps) {
                        true => sample.clone(),
                        false => map.clone(),
                    };
                    Ok::<_, std::convert::Infallible>((x, HeadWeights::conv(h, layer)))
                });
                let Ok(x) = x;
                x
            })
            .collect();
        Ok(Tensor::cat(outs, 0)
            .clamp(-1.0, 1.0)
            .to_device(&self.device))
    }
}

/// The root-mean-square over each generation's MAP features: `h` is `[B * rows, C, H, W]`,
/// the MAP trajectory row 0 of every `rows`.
fn map_rms(h: Tensor<4>, b: usize, rows: usize) -> Tensor<1> {
    let [_, c, height, width] = h.dims();
    let per = c * height * width;
    h.reshape([b, rows, per])
        .slice([0..b, 0..1, 0..per])
        .reshape([b, per])
        .powi_scalar(2)
        .mean_dim(1)
        .sqrt()
        .reshape([b])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each placement acts, over 1, 2 and 4 steps; with one step all three are the same.
    #[test]
    fn placements_act_where_their_names_say() {
        let acts = |p: Perturb, steps: usize| -> Vec<bool> {
            (0..steps).map(|i| p.acts_at(i, steps)).collect()
        };
        assert_eq!(acts(Perturb::All, 4), [true; 4]);
        assert_eq!(acts(Perturb::First, 4), [true, false, false, false]);
        assert_eq!(acts(Perturb::Last, 4), [false, false, false, true]);
        for p in Perturb::ALL {
            assert_eq!(acts(p, 1), [true], "{p:?}");
            assert_eq!(Perturb::parse(p.name()), Some(p));
        }
        assert_eq!(Perturb::parse("middle"), None);
    }
}
