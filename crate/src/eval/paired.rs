//! A sound pick between detectors: two scores of the **same** generations compared by a paired
//! bootstrap of their macro-AUROC difference (each resample draws generations within classes,
//! as [`detection`](super::detect::detection) does, and scores both on it), so the noise that
//! the two share (which generations happen to be hard) cancels and the interval is about the
//! difference alone. The rule that uses it: [`pick`].

use serde::Serialize;

use super::detect::{BOOTSTRAP, by_class, macro_auroc, resample};

/// A candidate detector: its name, what it costs and how its images look, and its score per
/// draw of weight samples (one draw for a score without weight samples).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub name: String,
    /// Trunk passes per generation (the browser's cost).
    pub cost: usize,
    /// FID of its sampler's images (lower = better looking).
    pub fid: f64,
    pub draws: Vec<Vec<f64>>,
    /// The label on its own sampler's images (samplers make different images of the same
    /// noise; the pairing is over the noise and class).
    pub poor: Vec<bool>,
}

/// `b - a` in macro AUROC, with its paired 95% bootstrap interval.
#[derive(Debug, Clone, Serialize)]
pub struct Paired {
    pub a: String,
    pub b: String,
    pub difference: f64,
    pub ci: [f64; 2],
    /// Does the interval exclude 0?
    pub significant: bool,
}

/// The mean over draws of a score's macro AUROC on the class groups `groups`.
fn mean_auroc(draws: &[Vec<f64>], poor: &[bool], groups: &[Vec<usize>]) -> f64 {
    draws
        .iter()
        .map(|s| macro_auroc(s, poor, groups))
        .sum::<f64>()
        / draws.len().max(1) as f64
}

/// The paired bootstrap of `b - a` (macro AUROC, each for its own label, over the same
/// generations of `classes`), resamples drawn under `seed` (the same resamples as
/// `detection`'s CIs).
pub fn paired(a: &Candidate, b: &Candidate, classes: &[usize], seed: u32) -> Paired {
    let groups = by_class(classes);
    let diff =
        |g: &[Vec<usize>]| mean_auroc(&b.draws, &b.poor, g) - mean_auroc(&a.draws, &a.poor, g);
    let difference = diff(&groups);
    let mut boot: Vec<f64> = (0..BOOTSTRAP)
        .map(|r| diff(&resample(&groups, classes.len(), seed, r)))
        .filter(|d| d.is_finite())
        .collect();
    boot.sort_by(f64::total_cmp);
    let at = |q: f64| match boot.len() {
        0 => f64::NAN,
        n => boot[((n - 1) as f64 * q).round() as usize],
    };
    let ci = [at(0.025), at(0.975)];
    Paired {
        a: a.name.clone(),
        b: b.name.clone(),
        difference,
        ci,
        significant: ci[0] > 0.0 || ci[1] < 0.0,
    }
}

/// What the pick decided and why.
#[derive(Debug, Clone, Serialize)]
pub struct Pick {
    pub rule: &'static str,
    /// The default: the best-looking candidate (lowest FID), the cheapest among equals.
    pub default: String,
    pub shipped: String,
    /// Every candidate against the default.
    pub against_default: Vec<Paired>,
    /// The walk of [`RULE`]: each challenger against the candidate held when it came, and
    /// whether it took over.
    pub steps: Vec<Step>,
}

/// One comparison of the walk: `b` (the challenger) against `a` (the holder).
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    #[serde(flatten)]
    pub paired: Paired,
    /// Did the challenger take over?
    pub replaces: bool,
}

/// The rule: order the candidates by looks (FID), then cost; hold the first. Each next one
/// takes over only where it needs no excuse (looks at least as good, costs no more, AUROC
/// higher at all) or where its paired 95% CI against the holder lies above 0. So a score that
/// looks worse or costs more never wins on a difference the data cannot tell from noise, and
/// among indistinguishable scores image quality and cost decide.
pub const RULE: &str = "order the candidates by image quality (FID), then cost; hold the best-looking. Each next candidate takes over if it looks as good, costs no more and detects better at all, or if its paired 95% bootstrap CI of the wrong-class macro-AUROC difference against the holder lies above 0; otherwise image quality and cost decide";

/// Picks among `candidates` (not empty) by [`RULE`].
pub fn pick(candidates: &[Candidate], classes: &[usize], seed: u32) -> Pick {
    let mut order: Vec<&Candidate> = candidates.iter().collect();
    order.sort_by(|a, b| a.fid.total_cmp(&b.fid).then(a.cost.cmp(&b.cost)));
    let default = order[0];
    let against_default: Vec<Paired> = order[1..]
        .iter()
        .map(|c| paired(default, c, classes, seed))
        .collect();
    let mut holder = default;
    let mut steps = Vec::with_capacity(order.len() - 1);
    for (&c, to_default) in order[1..].iter().zip(&against_default) {
        let p = match std::ptr::eq(holder, default) {
            true => to_default.clone(), // the same bootstrap, already done
            false => paired(holder, c, classes, seed),
        };
        let free = c.fid <= holder.fid && c.cost <= holder.cost;
        let replaces = p.difference > 0.0 && (free || p.ci[0] > 0.0);
        if replaces {
            holder = c;
        }
        steps.push(Step {
            paired: p,
            replaces,
        });
    }
    Pick {
        rule: RULE,
        default: default.name.clone(),
        shipped: holder.name.clone(),
        against_default,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Stream};

    fn candidate(name: &str, cost: usize, fid: f64, score: Vec<f64>, poor: &[bool]) -> Candidate {
        Candidate {
            name: name.into(),
            cost,
            fid,
            draws: vec![score],
            poor: poor.to_vec(),
        }
    }

    /// 2,000 generations of ten classes under `seed`: their classes, which are poor (one in
    /// five) and a random score.
    fn generations(seed: u32) -> (Vec<usize>, Vec<bool>, Vec<f64>) {
        let n = 2000u32;
        let classes = (0..n as usize).map(|i| i % 10).collect();
        let poor = (0..n)
            .map(|i| rng::word(seed, Stream::Test(0), i).is_multiple_of(5))
            .collect();
        let random = (0..n)
            .map(|i| rng::word(seed, Stream::Test(1), i) as f64)
            .collect();
        (classes, poor, random)
    }

    /// A perfect score against a random one on the same generations: the difference is about
    /// 0.5 and its paired interval lies far above 0; a score against itself plus a tie-free
    /// jitter is not significant. The rule then ships the perfect score although it costs more,
    /// and keeps the default against the jittered copy, which costs more.
    #[test]
    fn paired_bootstrap_and_the_rule() {
        let (classes, poor, random) = generations(5);
        let perfect: Vec<f64> = poor.iter().map(|&p| p as u8 as f64).collect();
        let jittered: Vec<f64> = random.iter().map(|r| r + 0.5).collect();
        let a = candidate("random", 1, 0.5, random.clone(), &poor);
        let b = candidate("perfect", 9, 0.8, perfect, &poor);
        let c = candidate("jittered", 9, 0.5, jittered, &poor);
        let p = paired(&a, &b, &classes, 3);
        assert!(
            p.difference > 0.4 && p.ci[0] > 0.4 && p.significant,
            "{p:?}"
        );
        let q = paired(&a, &c, &classes, 3);
        assert_eq!(q.difference, 0.0);
        assert!(!q.significant, "{q:?}");
        let chosen = pick(&[a.clone(), b, c.clone()], &classes, 3);
        assert_eq!(chosen.default, "random");
        assert_eq!(chosen.shipped, "perfect");
        let kept = pick(&[a, c], &classes, 3);
        assert_eq!(kept.shipped, "random");
    }

    /// The walk keeps a score that looks better over one that looks worse and detects better
    /// by one generation only: `nicer` beats `random` by far (as `good` does), and beats
    /// `good` on one poor generation, which most resamples miss or draw once, so its paired
    /// interval starts at 0. Ranking by the gain over the default alone would ship `nicer`.
    #[test]
    fn a_gain_within_noise_does_not_outweigh_looks() {
        let (classes, poor, random) = generations(6);
        let flip = |i: u32| rng::word(6, Stream::Test(2), i).is_multiple_of(4);
        let good: Vec<f64> = (0..poor.len())
            .map(|i| ((poor[i] != flip(i as u32)) as u8) as f64 + random[i] * 1e-12)
            .collect();
        let missed = (0..poor.len())
            .find(|&i| poor[i] && flip(i as u32))
            .expect("a poor generation `good` misses");
        let mut nicer = good.clone();
        nicer[missed] = 2.0;
        let a = candidate("random", 1, 0.5, random, &poor);
        let b = candidate("good", 1, 0.5, good, &poor);
        let c = candidate("nicer", 1, 0.8, nicer, &poor);
        let over_good = paired(&b, &c, &classes, 3);
        assert!(over_good.difference > 0.0, "{over_good:?}");
        assert!(over_good.ci[0] <= 0.0, "{over_good:?}");
        let over_random = paired(&a, &c, &classes, 3);
        assert!(over_random.ci[0] > 0.2, "{over_random:?}");
        let chosen = pick(&[c, a, b], &classes, 3);
        assert_eq!(chosen.default, "random");
        assert_eq!(chosen.shipped, "good");
        let took: Vec<bool> = chosen.steps.iter().map(|s| s.replaces).collect();
        assert_eq!(took, [true, false]);
    }
}
