//! The loaded models and the `generate()` pipeline ([`Generator`]): one trunk pass of the
//! student, MAP + M perturbed heads in one kernel, CLIP on the M + 1 images, the paper's score
//! u, a per-pixel heatmap, and the percentiles against reference generations.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, Transaction};
use web_time::Instant;

use crate::Error;
use crate::data::{IMAGE_SIZE, PIXELS};
use crate::kernels::{
    colormap::colormap, moments::moments, rng, semantic_entropy::semantic_entropy,
};
use crate::model::UNet;
use crate::model::clip::ClipImage;
use crate::posterior::Posterior;
use crate::posterior::head::HeadWeights;
use crate::rng::Stream;

use super::generation::{Generation, Timings};
use super::reference::ReferenceTable;
use super::request::Request;
use super::{ClassText, class_space, realism};

/// What the kernels make of one generation's M + 1 images.
pub struct Scores {
    /// The paper's u, `[1]`.
    pub u: Tensor<1>,
    /// Per-pixel variance across the images, `[1, PIXELS]`.
    pub variance: Tensor<2>,
    /// The variance as viridis RGBA8 (packed in an i32 per pixel), `[1, PIXELS]`.
    pub heatmap: Tensor<2, Int>,
    /// The standard deviation of the heatmap's top colour, `[1]`.
    pub scale: Tensor<1>,
}

/// u, the per-pixel variance and its heatmap from the images `[S, 1, H, W]` and their CLIP
/// embeddings `[S, D]`; the heatmap's top colour is the standard deviation `scale`, or the
/// image's largest.
pub fn score(images: Tensor<4>, emb: Tensor<2>, scale: Option<f32>) -> Result<Scores, Error> {
    let [s, d] = emb.dims();
    let u = semantic_entropy(emb.reshape([1, s, d]))?;
    let (_, variance) = moments(images.reshape([1, s, PIXELS]))?;
    let (heatmap, scale) = heatmap(variance.clone(), scale)?;
    Ok(Scores {
        u,
        heatmap,
        scale,
        variance,
    })
}

/// Variance `[1, N]` -> viridis RGBA8 `[1, N]` and its scale `[1]`: the standard deviation
/// `scale` (or else the largest) is the top colour.
fn heatmap(variance: Tensor<2>, scale: Option<f32>) -> Result<(Tensor<2, Int>, Tensor<1>), Error> {
    let scale = match scale {
        Some(s) => Tensor::from_floats([s], &variance.device()),
        None => variance.clone().max_dim(1).sqrt().reshape([1]),
    };
    Ok((colormap(variance, scale.clone())?, scale))
}

/// A failed readback as a clear error: a lost device (cubecl's device-lost signal, which
/// poisons the device for good) is [`Error::DeviceLost`]; anything else is a short message
/// (wgpu's error chains repeat themselves and end in backtrace notes, which help nobody on a
/// web page).
pub fn readback_error(e: burn::tensor::ExecutionError) -> Error {
    match e {
        burn::tensor::ExecutionError::DevicePoisoned { reason } => Error::DeviceLost(format!(
            "the GPU device was lost ({}); start again on a fresh device",
            reason.lines().next().unwrap_or("no reason given").trim()
        )),
        other => {
            let text = other.to_string();
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with("An error happened"))
                .unwrap_or("unknown error");
            Error::Device(format!("reading the results back failed: {first}"))
        }
    }
}

/// The loaded models. Our kernels run on `device` (wgpu: the WGSL; burn flex: their Rust
/// twins, the CPU path); the networks (the student's trunk and CLIP) on `nets`, which is the
/// same device unless [`Generator::with_nets_on`] moved them.
#[derive(Debug, Clone)]
pub struct Generator {
    pub student: UNet,
    pub clip: ClipImage,
    pub head: HeadWeights,
    /// Quantiles of u over reference generations (for percentiles), possibly empty.
    pub reference: ReferenceTable,
    /// The class prompts' embeddings (the class-space scores), if the models folder has them.
    pub class_text: Option<ClassText>,
    /// The structure space's encoder and real embeddings (the realism score), if the models
    /// folder has them.
    pub realism: Option<realism::Realism>,
    pub device: Device,
    pub nets: Device,
}

impl Generator {
    /// The models on `device` (the student, CLIP and the kernels alike).
    pub fn new(
        student: UNet,
        clip: ClipImage,
        posterior: &Posterior,
        reference: ReferenceTable,
        device: &Device,
    ) -> Result<Self, Error> {
        let head = HeadWeights::new(&student.conv_out, posterior)?;
        Ok(Self {
            student,
            clip,
            head,
            reference,
            class_text: None,
            realism: None,
            device: device.clone(),
            nets: device.clone(),
        })
    }

    /// Runs the networks on `nets` (e.g. burn's CPU backend where it beats the wgpu adapter,
    /// as on lavapipe) and keeps the kernels on the wgpu device; tensors cross between them.
    pub fn with_nets_on(mut self, nets: &Device) -> Self {
        self.student = self.student.to_device(nets);
        self.clip = self.clip.to_device(nets);
        self.realism = self.realism.map(|r| r.to_device(nets));
        self.nets = nets.clone();
        self
    }

    /// The same models with another posterior on the last layer (an ablation's).
    pub fn with_posterior(mut self, posterior: &Posterior) -> Result<Self, Error> {
        let head = HeadWeights::new(&self.student.conv_out, posterior)?;
        self.head = HeadWeights {
            weight: head.weight.to_device(&self.device),
            stddev: head.stddev.to_device(&self.device),
            layout: head.layout,
        };
        Ok(self)
    }

    /// The class-space scores ([`class_space::class_scores`]) of B generations from their
    /// M + 1 embeddings `[B * S, D]` (generation-major, the MAP first), if the models folder
    /// has the class prompts' embeddings.
    pub fn class_scores(
        &self,
        emb: Tensor<2>,
        classes: &[usize],
    ) -> Result<Option<class_space::ClassScores>, Error> {
        let Some(text) = &self.class_text else {
            return Ok(None);
        };
        let [n, d] = emb.dims();
        let b = classes.len().max(1);
        let emb = emb.reshape([b, n / b, d]);
        class_space::class_scores(emb, text.tensor(&self.device), text.scale, classes).map(Some)
    }

    /// CLIP image embeddings of `images` `[N, 1, H, W]`: `[N, D]` on the kernels' device.
    pub fn embed(&self, images: Tensor<4>) -> Tensor<2> {
        self.clip
            .forward(images.to_device(&self.nets))
            .to_device(&self.device)
    }

    /// The initial noise of `seed`, `[1, 1, H, W]`, drawn on the GPU.
    pub fn noise(&self, seed: u32) -> Result<Tensor<4>, Error> {
        Ok(rng::gaussian(&self.device, PIXELS, seed, Stream::Noise)?
            .reshape([1, 1, IMAGE_SIZE, IMAGE_SIZE]))
    }

    /// MAP + M images `[S, 1, H, W]` from the same noise (clamped to [-1, 1]).
    pub fn images(&self, req: &Request) -> Result<Tensor<4>, Error> {
        let t = self.trajectories(
            &[req.class],
            &[req.seed],
            req.samples + 1,
            req.seed,
            req.steps,
            req.perturb,
        )?;
        Ok(t.images
            .reshape([req.samples + 1, 1, IMAGE_SIZE, IMAGE_SIZE]))
    }

    /// The noise `[B, 1, H, W]` of `seeds` and the student's trunk features on it at t = 1
    /// `[B, C, H, W]` for `classes`, both on the kernels' device: everything before the
    /// last layer of the first step.
    pub fn trunk(&self, classes: &[usize], seeds: &[u32]) -> Result<(Tensor<4>, Tensor<4>), Error> {
        let noise = seeds
            .iter()
            .map(|&s| self.noise(s))
            .collect::<Result<Vec<_>, _>>()?;
        let z = Tensor::cat(noise, 0);
        let t = Tensor::ones([seeds.len()], &self.nets);
        let class: Vec<i32> = classes.iter().map(|&c| c as i32).collect();
        let class = Tensor::<1, Int>::from_ints(class.as_slice(), &self.nets);
        let h = self
            .student
            .trunk(z.clone().to_device(&self.nets), t, class)
            .to_device(&self.device);
        Ok((z, h))
    }

    /// The MAP images alone (the plain generation without uncertainty) of a batch, with
    /// `steps` steps: `[B, 1, H, W]`, clamped, on the networks' device.
    pub fn plain_batch(
        &self,
        classes: &[usize],
        seeds: &[u32],
        steps: usize,
    ) -> Result<Tensor<4>, Error> {
        Ok(self.plain_traced(classes, seeds, steps)?.0)
    }

    /// [`Generator::plain_batch`] and the clean image each step predicted (unclamped, one
    /// `[B, 1, H, W]` per step), on the networks' device.
    pub fn plain_traced(
        &self,
        classes: &[usize],
        seeds: &[u32],
        steps: usize,
    ) -> Result<(Tensor<4>, Vec<Tensor<4>>), Error> {
        let noise = seeds
            .iter()
            .map(|&s| self.noise(s))
            .collect::<Result<Vec<_>, _>>()?;
        let z = Tensor::cat(noise, 0).to_device(&self.nets);
        let class: Vec<i32> = classes.iter().map(|&c| c as i32).collect();
        let class = Tensor::<1, Int>::from_ints(class.as_slice(), &self.nets);
        let (x, predictions) =
            crate::diffusion::flow::sample_student_traced(&self.student, z, class, steps);
        Ok((x.clamp(-1.0, 1.0), predictions))
    }

    /// The MAP image alone, `[1, 1, H, W]`.
    pub fn plain(&self, class: usize, seed: u32, steps: usize) -> Result<Tensor<4>, Error> {
        self.plain_batch(&[class], &[seed], steps)
    }

    /// The heatmap's exact mode: the closed-form per-pixel variance under the posterior (no
    /// sampling), `[PIXELS]`, and its viridis RGBA8 `[PIXELS * 4]`. It exists where the image
    /// is linear in the weights: one step, or the weight samples acting at the last step only
    /// (`x0 = x + dt * head(h)`, so the variance is `dt^2` times the head's).
    pub async fn exact_heatmap(&self, req: &Request) -> Result<(Vec<f32>, Vec<u8>), Error> {
        req.validate()?;
        req.check_exact()?;
        let (h, dt) = self.last_step_features(req.class, req.seed, req.steps)?;
        let var = (self.head.exact_variance(h) * (dt * dt)).reshape([1, PIXELS]);
        let (rgba, _) = heatmap(var.clone(), None)?;
        let data = Transaction::default()
            .register(var)
            .register(rgba)
            .execute_async()
            .await
            .map_err(readback_error)?;
        let [var, rgba]: [_; 2] = data
            .try_into()
            .map_err(|_| Error::Device("readback".into()))?;
        Ok((
            var.iter::<f32>().collect(),
            rgba.iter::<i64>()
                .flat_map(|v| (v as u32).to_le_bytes())
                .collect(),
        ))
    }

    /// The whole pipeline, read back in one transaction; the heatmap scaled to its own largest
    /// spread.
    pub async fn generate(&self, req: &Request) -> Result<Generation, Error> {
        self.generate_scaled(req, None).await
    }

    /// [`Generator::generate`] with the heatmap's top colour at the standard deviation
    /// `heatmap_scale` (e.g. the reference's, so heatmaps can be compared), or else at the
    /// image's largest. A scale that is not a positive number is an error.
    pub async fn generate_scaled(
        &self,
        req: &Request,
        heatmap_scale: Option<f32>,
    ) -> Result<Generation, Error> {
        let drawn = self.draw(req)?;
        self.finish(req, drawn, heatmap_scale).await
    }

    /// The expensive half of a generation, which needs only the student, the posterior and
    /// CLIP: the MAP + M images and their embeddings (the browser starts it while the files
    /// that [`Generator::finish`] needs still download).
    pub fn draw(&self, req: &Request) -> Result<Drawn, Error> {
        req.validate()?;
        let start = Instant::now();
        let images = self.images(req)?;
        let heads_done = Instant::now();
        let emb = self.embed(images.clone());
        Ok(Drawn {
            images,
            emb,
            heads_ms: ms(start, heads_done),
            embed_ms: ms(heads_done, Instant::now()),
        })
    }

    /// The rest of the generation `req` that [`Generator::draw`] began: u, the heatmap (its top
    /// colour as in [`Generator::generate_scaled`]), the class-space and realism scores, the
    /// percentiles, all read back in one transaction.
    pub async fn finish(
        &self,
        req: &Request,
        drawn: Drawn,
        heatmap_scale: Option<f32>,
    ) -> Result<Generation, Error> {
        if let Some(s) = heatmap_scale.filter(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(Error::InvalidInput(format!(
                "heatmapScale = {s} is not a positive standard deviation"
            )));
        }
        let Drawn { images, emb, .. } = drawn;
        let start = Instant::now();
        let Scores {
            u,
            variance: var,
            heatmap: rgba,
            scale,
        } = score(images.clone(), emb.clone(), heatmap_scale)?;
        let class_scores = self.class_scores(emb.clone(), &[req.class])?;
        let code = self.realism.as_ref().map(|r| {
            r.embed(images.clone().slice(0..1).to_device(&self.nets))
                .to_device(&self.device)
        });
        let scored = Instant::now();
        let mut tx = Transaction::default()
            .register(images)
            .register(var)
            .register(rgba)
            .register(emb)
            .register(u)
            .register(scale);
        if let Some(c) = class_scores {
            tx = c.register(tx);
        }
        if let Some(code) = code {
            tx = tx.register(code);
        }
        let data = tx.execute_async().await.map_err(readback_error)?;
        let done = Instant::now();
        let mut data = data.into_iter();
        let mut next = || data.next().ok_or_else(|| Error::Device("readback".into()));
        let [images, var, rgba, emb, u, scale] =
            [next()?, next()?, next()?, next()?, next()?, next()?];
        let class_space = match self.class_text {
            Some(_) => Some(class_space::ClassColumns::read(&mut next)?.first()?),
            None => None,
        };
        let realism = match &self.realism {
            Some(r) => r
                .scores(&next()?.iter::<f32>().collect::<Vec<_>>())
                .first()
                .copied(),
            None => None,
        };
        let images: Vec<f32> = images.iter::<f32>().collect();
        let heatmap: Vec<u8> = rgba
            .iter::<i64>()
            .flat_map(|v| (v as u32).to_le_bytes())
            .collect();
        let u = u
            .iter::<f32>()
            .next()
            .ok_or_else(|| Error::Device("empty score".into()))?;
        let clip_ms = drawn.embed_ms + ms(start, scored);
        let readback_ms = ms(scored, done);
        Ok(Generation {
            image: images[..PIXELS].to_vec(),
            samples: images[PIXELS..].to_vec(),
            variance: var.iter::<f32>().collect(),
            heatmap,
            embeddings: emb.iter::<f32>().collect(),
            u,
            percentile: self.reference.percentile(u, &req.reference_key()),
            heatmap_scale: scale.iter::<f32>().next().unwrap_or(0.0),
            class_space,
            realism,
            shipped: None,
            timings: Timings {
                heads_ms: drawn.heads_ms,
                clip_ms,
                readback_ms,
                total_ms: drawn.heads_ms + clip_ms + readback_ms,
                queued_ms: 0.0,
            },
        }
        .with_shipped(req, &self.reference))
    }
}

/// Milliseconds from `a` to `b`.
fn ms(a: Instant, b: Instant) -> f64 {
    (b - a).as_secs_f64() * 1e3
}

/// A generation's images and their CLIP embeddings ([`Generator::draw`]), not yet read back.
pub struct Drawn {
    /// MAP + M images, `[S, 1, H, W]`.
    images: Tensor<4>,
    /// Their CLIP embeddings, `[S, D]`.
    emb: Tensor<2>,
    heads_ms: f64,
    embed_ms: f64,
}
