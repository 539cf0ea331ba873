//! The paper's own setting as a control: the **teacher** (guided Heun, the steps `eval-models`
//! uses) with a diagonal Laplace posterior of its own last layer (empirical Fisher of its own
//! flow-matching loss, prior precision 1), weight samples acting at every step of the sampler,
//! the M + 1 images embedded by CLIP and scored as the student's are ([`Scored::append`]).
//! Independent of distillation, this says whether u's signal exists on this data at all.
//!
//! The teacher learned the velocity `eps - x` at t ~ U(0, 1) on the straight path
//! `x_t = (1 - t) x + t eps`; its curvature is averaged over the grid t = 1, 0.9, ..., 0.1
//! (the posterior fit's quadrature) on `examples` training images with noise from the registry
//! ([`Stream::TeacherFitNoise`]).

use std::ops::Range;
use std::path::Path;

use anyhow::Context;
use burn::tensor::{Device, Int, Tensor};
use indicatif::ProgressBar;

use super::cache::CHUNK;
use super::candidates::Bank;
use super::generations::{MAIN_M, Scored, class_of, noise_seed};
use super::pool::{EyeScore, PoolItem};
use crate::Error;
use crate::data::{Dataset, IMAGE_SIZE, NUM_CLASSES, PIXELS, Pairs};
use crate::diffusion::flow;
use crate::kernels::semantic_entropy::semantic_entropy;
use crate::model::UNet;
use crate::posterior::Curvature;
use crate::posterior::Posterior;
use crate::posterior::fit::{FitOptions, Prior, fit};
use crate::posterior::head::HeadWeights;
use crate::rng::{self, Stream};
use crate::uncertainty::Generator;

/// Grid points of the teacher's loss in the posterior fit (t = 1, 0.9, ..., 0.1).
const FIT_TIMES: usize = 10;

/// The teacher's sampler and its last layer's posterior.
pub struct Teacher {
    pub unet: UNet,
    pub head: HeadWeights,
    pub posterior: Posterior,
    /// Heun steps and classifier-free guidance weight.
    pub steps: usize,
    pub guidance: f32,
}

/// The teacher's own (image, class) training examples with registry noise, as the fit's pairs.
fn fitting_pairs(train: &Dataset, examples: usize) -> Pairs {
    let n = examples.min(train.len());
    Pairs {
        z: rng::gaussians_f32(0, Stream::TeacherFitNoise, n * PIXELS, 1.0),
        class: train.labels[..n].iter().map(|&l| l as i64).collect(),
        x: train.images[..n * PIXELS].to_vec(),
    }
}

/// Fits the teacher's last-layer posterior (empirical Fisher, prior 1) on `examples` training
/// images.
pub fn fit_teacher(
    unet: &UNet,
    train: &Dataset,
    examples: usize,
    device: &Device,
) -> Result<Posterior, Error> {
    let options = FitOptions {
        steps: FIT_TIMES,
        curvature: Curvature::EmpiricalFisher,
        prior: Prior::Fixed(1.0),
        temperature: 1.0,
        batch: 64,
    };
    fit(unet, &fitting_pairs(train, examples), options, device)
}

impl Teacher {
    /// The teacher `unet` with the posterior `posterior` of its last layer.
    pub fn new(
        unet: UNet,
        posterior: Posterior,
        steps: usize,
        guidance: f32,
    ) -> Result<Self, Error> {
        let head = HeadWeights::new(&unet.conv_out, &posterior)?;
        Ok(Self {
            unet,
            head,
            posterior,
            steps,
            guidance,
        })
    }

    /// MAP + (`samples` - 1) images of each generation b (noise `z[b]`, class `classes[b]`),
    /// trajectory m with weight sample m of the last layer at every step: `[B, S, PIXELS]`,
    /// clamped. The trajectories run as one batch, sample-major.
    pub fn images(
        &self,
        z: Tensor<4>,
        classes: &[usize],
        samples: usize,
        weight_seed: u32,
    ) -> Tensor<3> {
        let b = classes.len();
        let device = z.device();
        let layers: Vec<_> = (0..samples)
            .map(|m| self.head.sample(m, weight_seed))
            .collect();
        let rows: Vec<i32> = (0..samples)
            .flat_map(|_| classes.iter().map(|&c| c as i32))
            .collect();
        let class = Tensor::<1, Int>::from_ints(rows.as_slice(), &device);
        // rows k * b .. (k + 1) * b of the trunk's output use sample k % samples (the guided
        // velocity stacks the conditional and the null pass)
        let head = |h: Tensor<4>| {
            let blocks = h.dims()[0] / b;
            let parts = (0..blocks)
                .map(|k| {
                    let rows = h.clone().slice(k * b..(k + 1) * b);
                    HeadWeights::conv(rows, layers[k % samples].clone())
                })
                .collect();
            Tensor::cat(parts, 0)
        };
        let z = z.repeat_dim(0, samples);
        let x = flow::heun(z, self.steps, |x, t| {
            flow::guided_velocity_with(&self.unet, x, t, class.clone(), self.guidance, head)
        });
        x.clamp(-1.0, 1.0)
            .reshape([samples, b, PIXELS])
            .swap_dims(0, 1)
    }
}

/// u (at each of `counts`) and the rest of [`Scored`] for the teacher's generations `range` of
/// `genuq eval`'s sequence (the same classes and noise as the student's), in batches; and
/// their MAP images `[N * PIXELS]`.
pub fn score_teacher(
    g: &Generator,
    teacher: &Teacher,
    counts: &[usize],
    range: Range<usize>,
    seed: u32,
    batch: usize,
) -> Result<(Scored, Vec<f32>), Error> {
    let s = counts.iter().copied().max().unwrap_or(0) + 1;
    let mut maps = Vec::with_capacity(range.len() * PIXELS);
    let mut out = Scored {
        weight_seed: seed,
        ..Scored::default()
    };
    let bar = ProgressBar::new(range.len() as u64);
    bar.set_message(format!(
        "teacher, {} Heun steps, M = {}, generations {range:?}",
        teacher.steps,
        s - 1
    ));
    for start in range.clone().step_by(batch.max(1)) {
        let b = batch.min(range.end - start);
        let classes: Vec<usize> = (start..start + b).map(|i| class_of(seed, i)).collect();
        let noise = (start..start + b)
            .map(|i| g.noise(noise_seed(seed, i)))
            .collect::<Result<Vec<_>, _>>()?;
        let z = Tensor::cat(noise, 0).to_device(&g.nets);
        let images = teacher.images(z, &classes, s, seed).to_device(&g.device);
        let map = images.clone().slice([0..b, 0..1]).reshape([b * PIXELS]);
        maps.extend(map.into_data().iter::<f32>());
        out.append(g, images, &classes, counts, None)?;
        bar.inc(b as u64);
    }
    bar.finish();
    Ok((out, maps))
}

/// The by-eye teacher control's pool: the teacher's generation of every class for each seed of
/// `seeds` (the noise of the seed, as the student's; the weight samples of the seed), each with
/// the scores the by-eye tables compare (higher = less trustworthy):
/// - u (M = [`MAIN_M`], weight samples at every step) of the M + 1 images in CLIP's space
///   ([`EyeScore::UAll`]) and in the structure space ([`EyeScore::UStructureAll`]);
/// - realism of the MAP image in the structure space and in CLIP's (`clip_bank`);
/// - darkness (minus the MAP image's mean intensity).
///
/// The generator must have the structure space. Items come without their PNG (`image_png`
/// empty).
pub fn eye_pool(
    g: &Generator,
    teacher: &Teacher,
    clip_bank: &Bank,
    seeds: Range<u32>,
) -> Result<Vec<PoolItem>, Error> {
    let structure = g.realism.as_ref().ok_or_else(|| {
        Error::Model(
            "the models folder lists no encoder.safetensors + real_codes.safetensors".into(),
        )
    })?;
    let (s, classes) = (MAIN_M + 1, (0..NUM_CLASSES).collect::<Vec<_>>());
    let bar = ProgressBar::new(seeds.len() as u64);
    bar.set_message(format!(
        "teacher, {} Heun steps, M = {MAIN_M}",
        teacher.steps
    ));
    let mut items = Vec::with_capacity(seeds.len() * NUM_CLASSES);
    for seed in seeds {
        let noise = g.noise(seed)?.repeat_dim(0, NUM_CLASSES).to_device(&g.nets);
        let images = teacher.images(noise, &classes, s, seed);
        let flat = images.reshape([NUM_CLASSES * s, 1, IMAGE_SIZE, IMAGE_SIZE]);
        let u = |emb: Tensor<2>| -> Result<Vec<f32>, Error> {
            let d = emb.dims()[1];
            let emb = emb.to_device(&g.device).reshape([NUM_CLASSES, s, d]);
            Ok(semantic_entropy(emb)?.into_data().iter::<f32>().collect())
        };
        let clip = g.embed(flat.clone());
        let codes = structure.embed(flat.clone());
        let d = (clip.dims()[1], codes.dims()[1]);
        let rows = |t: Tensor<2>| t.into_data().iter::<f32>().collect::<Vec<f32>>();
        let (u_clip, u_structure) = (u(clip.clone())?, u(codes.clone())?);
        let (clip, codes, pixels) = (
            rows(clip),
            rows(codes),
            rows(flat.reshape([NUM_CLASSES * s, PIXELS])),
        );
        for class in 0..NUM_CLASSES {
            let at = class * s;
            let image = pixels[at * PIXELS..(at + 1) * PIXELS].to_vec();
            let mean = image.iter().map(|&v| v as f64).sum::<f64>() / PIXELS as f64;
            let scores = [
                (EyeScore::UAll, u_clip[class]),
                (EyeScore::UStructureAll, u_structure[class]),
                (
                    EyeScore::Realism,
                    structure.scores(&codes[at * d.1..(at + 1) * d.1])[0],
                ),
                (
                    EyeScore::RealismClip,
                    clip_bank.realism(&clip[at * d.0..(at + 1) * d.0]),
                ),
            ];
            let mut scores: std::collections::BTreeMap<EyeScore, f64> =
                scores.into_iter().map(|(k, v)| (k, v as f64)).collect();
            scores.insert(EyeScore::Darkness, -mean);
            items.push(PoolItem {
                class,
                seed,
                image,
                image_png: String::new(),
                scores,
            });
        }
        bar.inc(1);
    }
    bar.finish();
    super::pool::beyond_ink(&mut items);
    Ok(items)
}

/// The teacher's last-layer posterior from `path` if it was fitted before, else fitted and
/// written there (atomically).
pub fn cached_posterior(
    path: &Path,
    unet: &UNet,
    train: &Dataset,
    examples: usize,
    device: &Device,
) -> anyhow::Result<Posterior> {
    let layout = crate::posterior::head::Layout {
        channels: unet.conv_out.weight.dims()[1],
    };
    if let Ok(text) = std::fs::read_to_string(path) {
        return Posterior::parse(&text, layout)
            .with_context(|| format!("{} is corrupt: delete it to fit afresh", path.display()));
    }
    let posterior = fit_teacher(unet, train, examples, device)?;
    let tmp = path.with_extension("tmp");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&tmp, serde_json::to_string_pretty(&posterior)? + "\n")
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(posterior)
}

/// [`score_teacher`] of the first `n` generations and their MAP images `[N * PIXELS]`, chunk by
/// chunk ([`CHUNK`], aligned as the student's, so runs of different sizes share them): each
/// chunk read from the folder `dir` when it was made before, else made and written there (each
/// file atomically; a killed run loses at most the chunk in flight).
pub fn cached_teacher(
    g: &Generator,
    teacher: &Teacher,
    dir: &Path,
    n: usize,
    seed: u32,
    batch: usize,
) -> anyhow::Result<(Scored, Vec<f32>)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out: Option<Scored> = None;
    let mut images = Vec::with_capacity(n * PIXELS);
    for start in (0..n).step_by(CHUNK) {
        let range = start..(start + CHUNK).min(n);
        let (scored, maps) = teacher_chunk(g, teacher, dir, range, seed, batch)?;
        images.extend(maps);
        match &mut out {
            Some(all) => all.concat(scored),
            None => out = Some(scored),
        }
    }
    Ok((out.context("no teacher generations")?, images))
}

/// One chunk of [`cached_teacher`].
fn teacher_chunk(
    g: &Generator,
    teacher: &Teacher,
    dir: &Path,
    range: Range<usize>,
    seed: u32,
    batch: usize,
) -> anyhow::Result<(Scored, Vec<f32>)> {
    let stem = format!(
        "heun{}-w{}-s{seed}-{}-{}",
        teacher.steps, teacher.guidance, range.start, range.end
    );
    let (json, bin) = (
        dir.join(format!("{stem}.json")),
        dir.join(format!("{stem}.f32")),
    );
    if let (Ok(text), Ok(bytes)) = (std::fs::read_to_string(&json), std::fs::read(&bin)) {
        let scored: Scored = serde_json::from_str(&text)
            .with_context(|| format!("{} is corrupt: delete it", json.display()))?;
        let images: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        anyhow::ensure!(
            images.len() == range.len() * PIXELS,
            "{} is truncated: delete it",
            bin.display()
        );
        return Ok((scored, images));
    }
    let (scored, images) = score_teacher(g, teacher, &[5, MAIN_M], range, seed, batch)?;
    let write = |path: &Path, bytes: &[u8]| -> anyhow::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("writing {}", path.display()))
    };
    let raw: Vec<u8> = images.iter().flat_map(|v| v.to_le_bytes()).collect();
    write(&bin, &raw)?;
    write(&json, serde_json::to_string(&scored)?.as_bytes())?;
    Ok((scored, images))
}
