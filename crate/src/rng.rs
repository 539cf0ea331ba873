//! Every random number genuq draws, CPU and GPU alike: Philox4x32-10 (Salmon et al., "Parallel
//! random numbers: as easy as 1, 2, 3"), Box-Muller, and the one registry of named streams.
//! Two draws stay with burn's own RNG: the initial weights of a training run (seeded by
//! `train_device`) and the benchmarks' timing inputs, whose values no result depends on.
//!
//! A draw is a pure function of (seed, stream, index): Philox's key is `[seed, 0]` and its
//! counter `[index / 4, sub, family, 0]`, where `(sub, family)` are the [`Stream`]'s words. Two
//! named streams never share a counter, so two uses of one seed never share a random number.
//! This file is the CPU twin of `shaders/philox.wgsl` (word for word); the GPU draws only the
//! generation family (the initial noise and the weight samples), with the words given here.

use std::num::NonZeroU32;

/// The family word of a generation's own streams: its initial noise (sub 0) and its weight
/// samples (sub m >= 1). The browser, the fixtures and the evaluation were drawn with it.
pub const GENERATION_FAMILY: u32 = 0;

/// A named random stream. Its words `(sub, family)` are the counter's second and third words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// A generation's initial noise z (`shaders/rng.wgsl`, `seed` = the generation's seed).
    Noise,
    /// Weight sample m >= 1 of the last layer (`shaders/perturbed_head.wgsl`, index = the
    /// parameter). m = 0 is the MAP and draws nothing; the type cannot name it, so no weight
    /// sample shares the noise's words. Built with [`Stream::weight_sample`].
    Weights(NonZeroU32),
    /// `genuq eval`: the class of generation i (index i).
    EvalClasses,
    /// `genuq eval`: random scores of random baseline draw d (index = generation); draw 0 is
    /// the `random` row, 1.. its spread.
    EvalRandom(u32),
    /// `genuq eval`: random order within each class (the class-mix control).
    EvalWithinClass,
    /// `genuq eval`: bootstrap resample r of the detection metrics (index = draw).
    Bootstrap(u32),
    /// CLIP training: caption choice (index = caption drawn).
    Captions,
    /// Distillation: the noise of teacher pair i.
    PairNoise(u32),
    /// Distillation: the times of the trajectory points at step s (index = batch position).
    PairTimes(u32),
    /// Teacher training: which labels are dropped to the null class at step s.
    LabelDrop(u32),
    /// Training: the order of the examples in epoch e.
    BatchOrder(u32),
    /// Teacher training: the noise of step s (index = pixel of the batch, i * PIXELS + p).
    FlowNoise(u32),
    /// Teacher training: the flow times of step s (index = batch position).
    FlowTimes(u32),
    /// `genuq eval --teacher-generations`: the noise of the teacher posterior's fitting
    /// example i (index = pixel of example i, i * PIXELS + p).
    TeacherFitNoise,
    /// `genuq label`: the labelling sample's random draw of class c (sub c), and the sheets'
    /// order (sub 100 + c).
    LabelSample(u32),
    /// Encoder training: the corrupting noise of step s (index = pixel of the batch).
    DenoiseNoise(u32),
    /// Tests and fixtures: stream k.
    Test(u32),
}

impl Stream {
    /// The stream of weight sample `m`, or `None` for m = 0: the MAP, which draws nothing.
    pub fn weight_sample(m: usize) -> Option<Stream> {
        u32::try_from(m)
            .ok()
            .and_then(NonZeroU32::new)
            .map(Stream::Weights)
    }

    /// The counter words `(sub, family)` of this stream.
    pub fn words(self) -> [u32; 2] {
        match self {
            Stream::Noise => [0, GENERATION_FAMILY],
            Stream::Weights(m) => [m.get(), GENERATION_FAMILY],
            Stream::EvalClasses => [0, 1],
            Stream::EvalRandom(d) => [d, 2],
            Stream::EvalWithinClass => [0, 3],
            Stream::Bootstrap(r) => [r, 4],
            Stream::Captions => [0, 5],
            Stream::PairNoise(i) => [i, 6],
            Stream::PairTimes(s) => [s, 7],
            Stream::LabelDrop(s) => [s, 8],
            Stream::BatchOrder(e) => [e, 9],
            Stream::TeacherFitNoise => [0, 10],
            Stream::FlowNoise(s) => [s, 11],
            Stream::FlowTimes(s) => [s, 12],
            Stream::LabelSample(c) => [c, 13],
            Stream::DenoiseNoise(s) => [s, 14],
            Stream::Test(k) => [k, 0xFFFF],
        }
    }
}

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Philox4x32 with 10 rounds.
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let [mut c0, mut c1, mut c2, mut c3] = counter;
    let [mut k0, mut k1] = key;
    for round in 0..10 {
        if round > 0 {
            k0 = k0.wrapping_add(W0);
            k1 = k1.wrapping_add(W1);
        }
        let p0 = u64::from(M0) * u64::from(c0);
        let p1 = u64::from(M1) * u64::from(c2);
        (c0, c1, c2, c3) = (
            (p1 >> 32) as u32 ^ c1 ^ k0,
            p1 as u32,
            (p0 >> 32) as u32 ^ c3 ^ k1,
            p0 as u32,
        );
    }
    [c0, c1, c2, c3]
}

/// The four raw words of block `block` of `stream` under `seed`.
pub fn block(seed: u32, stream: Stream, block: u32) -> [u32; 4] {
    let [sub, family] = stream.words();
    philox4x32_10([block, sub, family, 0], [seed, 0])
}

/// A uniform `u32` per index: the first word of block `index`.
pub fn word(seed: u32, stream: Stream, index: u32) -> u32 {
    block(seed, stream, index)[0]
}

/// Two standard normals from two words, in f64 (the reference precision).
pub fn box_muller(a: u32, b: u32) -> [f64; 2] {
    const ULP: f64 = 1.0 / (1u64 << 24) as f64;
    let u1 = ((a >> 8) as f64 + 1.0) * ULP;
    let angle = (((b >> 8) as f64) * ULP * 2.0 - 1.0) * std::f64::consts::PI;
    let r = (-2.0 * u1.ln()).sqrt();
    [r * angle.cos(), r * angle.sin()]
}

/// The `index`-th standard normal of `stream`, as the GPU's `gaussian()`.
pub fn gaussian(seed: u32, stream: Stream, index: u32) -> f64 {
    let w = block(seed, stream, index >> 2);
    let lane = (index & 3) as usize;
    box_muller(w[lane & 2], w[(lane & 2) + 1])[lane & 1]
}

/// `len` normals of one stream, as `shaders/rng.wgsl` writes them.
pub fn gaussians(seed: u32, stream: Stream, len: usize) -> Vec<f64> {
    (0..len as u32).map(|i| gaussian(seed, stream, i)).collect()
}

/// `len` normals of one stream in f32, scaled by `scale`.
pub fn gaussians_f32(seed: u32, stream: Stream, len: usize, scale: f64) -> Vec<f32> {
    (0..len as u32)
        .map(|i| (gaussian(seed, stream, i) * scale) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Known-answer vectors of the Random123 distribution (kat_vectors, philox4x32_10).
    #[test]
    fn random123_known_answers() {
        assert_eq!(
            philox4x32_10([0; 4], [0; 2]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn box_muller_bounds() {
        let [z0, z1] = box_muller(u32::MAX, 0);
        assert!(z0.abs() < 1e-3 && z1.abs() < 1e-3, "u1 = 1 gives r ~ 0");
        let [z0, _] = box_muller(0, 1 << 31);
        assert!(
            (z0 - (2.0 * 24.0 * 2f64.ln()).sqrt()).abs() < 1e-9,
            "largest radius, angle 0"
        );
    }

    /// Every named stream (each parameterised one at several parameters) has its own counter
    /// words, so no two uses of a seed share a random number; and the words are what the
    /// browser and the fixtures were made with (the generation family keeps family 0).
    #[test]
    fn streams_are_distinct() {
        let params = [0, 1, 2, 7, 100, 65_535, u32::MAX];
        let mut streams = vec![
            Stream::Noise,
            Stream::EvalClasses,
            Stream::EvalWithinClass,
            Stream::Captions,
            Stream::TeacherFitNoise,
        ];
        for p in params {
            streams.extend([
                Stream::EvalRandom(p),
                Stream::Bootstrap(p),
                Stream::PairNoise(p),
                Stream::PairTimes(p),
                Stream::LabelDrop(p),
                Stream::BatchOrder(p),
                Stream::FlowNoise(p),
                Stream::FlowTimes(p),
                Stream::LabelSample(p),
                Stream::DenoiseNoise(p),
                Stream::Test(p),
            ]);
            streams.extend(Stream::weight_sample(p as usize)); // None for p = 0: the MAP
        }
        let mut seen: HashMap<[u32; 2], Stream> = HashMap::new();
        for s in streams {
            if let Some(other) = seen.insert(s.words(), s) {
                panic!(
                    "{s:?} and {other:?} share the counter words {:?}",
                    s.words()
                );
            }
        }
        assert_eq!(Stream::Noise.words(), [0, 0]);
        assert_eq!(Stream::weight_sample(3).unwrap().words(), [3, 0]);
        assert_eq!(Stream::weight_sample(0), None, "the MAP draws nothing");
    }
}
