//! What genuq costs, measured the same way natively (`genuq bench`) and in the browser
//! (`Genuq.bench()`): medians over `repeats` runs in one process, each run ending in a
//! readback so GPU time is counted. For each step count the student samples in:
//!
//! - `plain_ms`: the MAP image alone (noise, the student's steps, readback).
//! - `uncertainty_ms`: the whole `generate()` with M = 8 and the default placement of the
//!   weight samples (the M + 1 trajectories as one batch, fused perturbed heads, CLIP on
//!   M + 1 images, moments, entropy, colormap, one readback).
//! - `naive_ms`: the paper's released code's way in this binary: M + 1 separate samplers, each
//!   with its own materialised copy of the perturbed last layer, then the same CLIP and
//!   kernels.
//!
//! And once, at the default steps: the stages' shares, CLIP per image, the fused
//! `perturbed_head` kernel vs M + 1 convolutions with materialised weight copies (burn ops) on
//! the same trunk features, and the student's and the adapter's throughput.

use burn::tensor::{Distribution, Int, Tensor};
use serde::Serialize;
use web_time::Instant;

use crate::Error;
use crate::data::IMAGE_SIZE;
use crate::kernels::perturbed_head::{Features, perturbed_head};
use crate::model::UNetConfig;
use crate::uncertainty::{
    DEFAULT_PERTURB, DEFAULT_STEPS, Generator, Request, STEPS, readback_error, score,
};

/// The M of the benchmark (the demo's default).
pub const SAMPLES: usize = crate::uncertainty::DEFAULT_SAMPLES;
/// Side of the square matmul that measures the adapter's f32 throughput.
pub const MATMUL: usize = 512;
/// Least time a micro-benchmark loops for.
const MIN_MS: f64 = 1000.0;
/// Batch of the student forward whose achieved GFLOP/s is reported.
pub const STUDENT_BATCH: usize = 16;

/// The generation's costs at one step count (medians, ms).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct StepsReport {
    pub steps: usize,
    pub plain_ms: f64,
    pub uncertainty_ms: f64,
    pub naive_ms: f64,
    pub overhead_ratio: f64,
    pub naive_over_fused: f64,
}

/// Medians in milliseconds (and what follows from them); the top-level generation costs are
/// those of the default step count. `Genuq.bench()` returns it as the record `genuq bench` and
/// tests/bench/browser.mjs store in reports/bench.json, so it keeps that file's snake_case keys.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct BenchReport {
    pub repeats: usize,
    pub samples: usize,
    pub steps: usize,
    pub perturb: &'static str,
    pub per_steps: Vec<StepsReport>,
    pub plain_ms: f64,
    pub uncertainty_ms: f64,
    pub naive_ms: f64,
    pub overhead_ratio: f64,
    pub naive_over_fused: f64,
    /// Each stage's share of a staged run (a readback after each stage).
    pub stage_share: StageShare,
    pub clip_ms_per_image: f64,
    pub head_fused_ms: f64,
    pub head_naive_ms: f64,
    pub head_fused_speedup: f64,
    pub student_mflops: f64,
    pub student_gflops: f64,
    pub matmul_gflops: f64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct StageShare {
    pub trunk_and_heads: f64,
    pub clip: f64,
    pub moments_entropy_colormap: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Waits for `t` by reading all of it back (reading a slice is not enough: lavapipe then
/// returned in 0.2 ms from a 512^3 matmul).
pub async fn sync<const D: usize>(t: Tensor<D>) -> Result<(), Error> {
    t.into_data_async().await.map_err(readback_error)?;
    Ok(())
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Mean milliseconds per call of `f(i)` (each ending in a full readback), calling it until at
/// least `MIN_MS` have passed. Short single runs are not trusted: on lavapipe a lone 1024^3
/// matmul read back in 0.2 ms, while 64 chained ones took 4.6 s (30 GFLOP/s); only a long
/// enough loop measures the throughput.
async fn per_call<F, Fut>(mut f: F) -> Result<f64, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let t = Instant::now();
    let mut n = 0;
    while n < 3 || ms(t) < MIN_MS {
        f(n).await?;
        n += 1;
    }
    Ok(ms(t) / n as f64)
}

/// What `generate` does after CLIP ([`score`]); returns the last tensor queued (the heatmap,
/// as floats) to wait on.
fn kernels(images: Tensor<4>, emb: Tensor<2>) -> Result<Tensor<2>, Error> {
    let scores = score(images, emb, None)?;
    Ok(scores.heatmap.float() + scores.u.reshape([1, 1]))
}

/// The naive path: M + 1 separate samplers with weight copies, then CLIP and the kernels.
fn naive(g: &Generator, r: &Request) -> Result<Tensor<2>, Error> {
    let images = g.naive_images(r.class, r.seed, r.samples + 1, r.seed, r.steps, r.perturb)?;
    kernels(images.clone(), g.embed(images))
}

/// Plain, uncertain and naive generation at `req.steps`, `repeats` times each.
async fn generation_costs(
    g: &Generator,
    req: &Request,
    repeats: usize,
) -> Result<StepsReport, Error> {
    // one warm-up of every path: shader compilation and autotuning are not what we time
    sync(g.plain(req.class, req.seed, req.steps)?).await?;
    g.generate(req).await?;
    sync(naive(g, req)?).await?;
    let (mut plain, mut full, mut slow) = (vec![], vec![], vec![]);
    for i in 0..repeats {
        let r = Request {
            seed: req.seed + i as u32,
            ..*req
        };
        let t = Instant::now();
        sync(g.plain(r.class, r.seed, r.steps)?).await?;
        plain.push(ms(t));
        let t = Instant::now();
        g.generate(&r).await?;
        full.push(ms(t));
        let t = Instant::now();
        sync(naive(g, &r)?).await?;
        slow.push(ms(t));
    }
    let (plain_ms, uncertainty_ms, naive_ms) = (median(plain), median(full), median(slow));
    Ok(StepsReport {
        steps: req.steps,
        plain_ms,
        uncertainty_ms,
        naive_ms,
        overhead_ratio: uncertainty_ms / plain_ms,
        naive_over_fused: naive_ms / uncertainty_ms,
    })
}

pub async fn run(g: &Generator, repeats: usize) -> Result<BenchReport, Error> {
    let req = Request {
        samples: SAMPLES,
        ..Request::new(7, 42)
    };
    let s = SAMPLES + 1;
    let mut per_steps = Vec::new();
    for steps in STEPS {
        let r = Request { steps, ..req };
        per_steps.push(generation_costs(g, &r, repeats).await?);
    }
    let main = per_steps
        .iter()
        .find(|p| p.steps == DEFAULT_STEPS)
        .cloned()
        .ok_or_else(|| Error::InvalidInput("the default steps were not measured".into()))?;

    let (heads_ms, clip_ms, rest_ms) = stages(g, &req, repeats).await?;
    let (head_fused_ms, head_naive_ms) = head_costs(g, &req).await?;
    let (student_ms, matmul_ms) = throughput(g).await?;
    let flops = UNetConfig::new().flops() as f64;
    let staged = heads_ms + clip_ms + rest_ms;
    Ok(BenchReport {
        repeats,
        samples: SAMPLES,
        steps: DEFAULT_STEPS,
        perturb: DEFAULT_PERTURB.name(),
        plain_ms: main.plain_ms,
        uncertainty_ms: main.uncertainty_ms,
        naive_ms: main.naive_ms,
        overhead_ratio: main.overhead_ratio,
        naive_over_fused: main.naive_over_fused,
        per_steps,
        stage_share: StageShare {
            trunk_and_heads: heads_ms / staged,
            clip: clip_ms / staged,
            moments_entropy_colormap: rest_ms / staged,
        },
        clip_ms_per_image: clip_ms / s as f64,
        head_fused_ms,
        head_naive_ms,
        head_fused_speedup: head_naive_ms / head_fused_ms,
        student_mflops: flops / 1e6,
        student_gflops: STUDENT_BATCH as f64 * flops / (student_ms * 1e6),
        matmul_gflops: 2.0 * (MATMUL as f64).powi(3) / (matmul_ms * 1e6),
    })
}

/// Medians (ms) of the default generation's stages, each waited for: the trunk and the
/// perturbed heads, CLIP, and the moments, score and colormap kernels.
async fn stages(g: &Generator, req: &Request, repeats: usize) -> Result<(f64, f64, f64), Error> {
    let (mut heads, mut clip, mut rest) = (vec![], vec![], vec![]);
    for i in 0..repeats {
        let r = Request {
            seed: req.seed + i as u32,
            ..*req
        };
        let t = Instant::now();
        let images = g.images(&r)?;
        sync(images.clone()).await?;
        heads.push(ms(t));
        let t = Instant::now();
        let emb = g.embed(images.clone());
        sync(emb.clone()).await?;
        clip.push(ms(t));
        let t = Instant::now();
        sync(kernels(images, emb)?).await?;
        rest.push(ms(t));
    }
    Ok((median(heads), median(clip), median(rest)))
}

/// The last layer alone on fixed trunk features: (fused kernel, naive per-sample convolution),
/// ms per call.
async fn head_costs(g: &Generator, req: &Request) -> Result<(f64, f64), Error> {
    let s = req.samples + 1;
    let (_, h) = g.trunk(&[req.class], &[req.seed])?;
    sync(h.clone()).await?;
    sync(g.head.naive(h.clone(), s, req.seed)).await?;
    let fused = per_call(|i| {
        let out = perturbed_head(h.clone(), &g.head, s, req.seed + i, Features::Shared);
        async move { sync(out?).await }
    })
    .await?;
    let naive = per_call(|i| sync(g.head.naive(h.clone(), s, req.seed + i))).await?;
    Ok((fused, naive))
}

/// The student's forward pass on a batch and a square matmul on the kernels' device, ms per call.
async fn throughput(g: &Generator) -> Result<(f64, f64), Error> {
    let x = Tensor::<4>::random(
        [STUDENT_BATCH, 1, IMAGE_SIZE, IMAGE_SIZE],
        Distribution::Default,
        &g.nets,
    );
    let tb = Tensor::ones([STUDENT_BATCH], &g.nets);
    let cb = Tensor::<1, Int>::zeros([STUDENT_BATCH], &g.nets);
    let a = Tensor::<2>::random([MATMUL, MATMUL], Distribution::Default, &g.device);
    let b = Tensor::<2>::random([MATMUL, MATMUL], Distribution::Default, &g.device);
    sync(g.student.forward(x.clone(), tb.clone(), cb.clone())).await?;
    sync(a.clone().matmul(b.clone())).await?;
    let student_ms = per_call(|i| {
        let xi = x.clone() + i as f32 * 1e-3;
        sync(g.student.forward(xi, tb.clone(), cb.clone()))
    })
    .await?;
    let matmul_ms = per_call(|i| sync(a.clone().matmul(b.clone() + i as f32 * 1e-3))).await?;
    Ok((student_ms, matmul_ms))
}
