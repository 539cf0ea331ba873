//! `genuq train student`: distils the teacher into one step by regression on teacher ODE pairs
//! (Luhman & Luhman 2021): noise z -> the teacher's guided Heun solution x(z, class). The
//! student starts from the teacher's weights (so it starts as one Euler step of the teacher)
//! and learns `x0 = z - student(z, t = 1, class)` under a pseudo-Huber loss.

use std::io::{Read, Write};
use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use indicatif::ProgressBar;

use super::{Plan, TrainArgs, run, train_device, write_weights};
use crate::diffusion::flow;
use crate::kernels::philox;
use crate::model::{UNet, UNetConfig};

/// Options of the distillation beyond the shared ones.
#[derive(Debug, Clone, clap::Args)]
pub struct DistillArgs {
    #[command(flatten)]
    pub train: TrainArgs,
    /// Teacher ODE pairs to generate (cached in RUNS/student/pairs.bin, resumable).
    #[arg(long, default_value_t = 20_000)]
    pub pairs: usize,
    /// Heun steps of the teacher per pair.
    #[arg(long, default_value_t = 8)]
    pub teacher_steps: usize,
    /// Classifier-free guidance weight of the teacher.
    #[arg(long, default_value_t = 1.5)]
    pub guidance: f32,
}

const PX: usize = 32 * 32;

/// Teacher pairs: noise, class, the teacher's sample (`[N * 1024]`, `[N]`, `[N * 1024]`).
pub struct Pairs {
    z: Vec<f32>,
    class: Vec<i64>,
    x: Vec<f32>,
}

impl Pairs {
    pub fn len(&self) -> usize {
        self.class.len()
    }

    pub fn is_empty(&self) -> bool {
        self.class.is_empty()
    }

    /// (z, class, x) in batches of `size`.
    pub fn batches(
        &self,
        size: usize,
    ) -> impl Iterator<Item = (Vec<f32>, Vec<i64>, Vec<f32>)> + '_ {
        (0..self.len()).step_by(size).map(move |i| {
            let j = (i + size).min(self.len());
            (
                self.z[i * PX..j * PX].to_vec(),
                self.class[i..j].to_vec(),
                self.x[i * PX..j * PX].to_vec(),
            )
        })
    }
}

const RECORD: usize = 4 + 2 * PX * 4;

/// The first `limit` pairs cached at `path`.
pub fn read_pairs(path: &Path, limit: usize) -> anyhow::Result<Pairs> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (run `genuq train student` first)", path.display()))?
        .read_to_end(&mut bytes)?;
    let floats = |b: &[u8]| -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let mut pairs = Pairs {
        z: Vec::new(),
        class: Vec::new(),
        x: Vec::new(),
    };
    for r in bytes.chunks_exact(RECORD).take(limit) {
        pairs
            .class
            .push(u32::from_le_bytes([r[0], r[1], r[2], r[3]]) as i64);
        pairs.z.extend(floats(&r[4..4 + PX * 4]));
        pairs.x.extend(floats(&r[4 + PX * 4..]));
    }
    Ok(pairs)
}

/// A UNet's weights from `dir/name`.
pub fn load_unet(dir: &Path, name: &str, device: &Device) -> anyhow::Result<UNet> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (train it first)", path.display()))?;
    Ok(crate::store::load(
        UNetConfig::new().init(device),
        bytes,
        name,
    )?)
}

/// Noise of pair `i`: the counter RNG's stream `i` under `seed`.
fn pair_noise(seed: u32, i: usize) -> Vec<f32> {
    philox::gaussians(seed, i as u32, PX)
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

fn generate_pairs(args: &DistillArgs, teacher: &UNet, path: &Path) -> anyhow::Result<Pairs> {
    let device = Device::flex();
    let teacher = teacher.clone().to_device(&device);
    let seed = args.train.seed as u32 ^ 0x5eed;
    let record = RECORD;
    let mut done = std::fs::read(path).unwrap_or_default();
    done.truncate(done.len() / record * record);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.set_len(done.len() as u64)?;
    let have = done.len() / record;
    let bar = ProgressBar::new(args.pairs as u64).with_position(have.min(args.pairs) as u64);
    bar.set_message("teacher pairs");
    let chunk = 100;
    let mut i = have;
    while i < args.pairs {
        let n = chunk.min(args.pairs - i);
        let z: Vec<f32> = (i..i + n).flat_map(|k| pair_noise(seed, k)).collect();
        let class: Vec<i64> = (i..i + n).map(|k| (k % 10) as i64).collect();
        let zt = Tensor::<4>::from_data(TensorData::new(z.clone(), [n, 1, 32, 32]), &device);
        let ct = Tensor::<1, Int>::from_data(TensorData::new(class.clone(), [n]), &device);
        let x: Vec<f32> = flow::sample_heun(&teacher, zt, ct, args.teacher_steps, args.guidance)
            .into_data()
            .iter::<f32>()
            .collect();
        let mut buf = Vec::with_capacity(n * record);
        for k in 0..n {
            buf.extend((class[k] as u32).to_le_bytes());
            buf.extend(z[k * PX..(k + 1) * PX].iter().flat_map(|v| v.to_le_bytes()));
            buf.extend(x[k * PX..(k + 1) * PX].iter().flat_map(|v| v.to_le_bytes()));
        }
        file.write_all(&buf)?;
        i += n;
        bar.set_position(i as u64);
    }
    bar.finish();
    read_pairs(path, args.pairs)
}

pub fn train(args: &DistillArgs) -> anyhow::Result<()> {
    let t = &args.train;
    let device = train_device(t)?;
    let teacher = load_unet(&t.out, "teacher.safetensors", &device)?;
    std::fs::create_dir_all(t.runs.join("student"))?;
    let pairs = generate_pairs(args, &teacher.valid(), &t.runs.join("student/pairs.bin"))?;
    let n = pairs.class.len();
    let plan = Plan {
        name: "student",
        steps: t.steps.unwrap_or(4000),
        lr: t.lr.unwrap_or(5e-4),
        warmup: 100,
        ema: Some(0.998),
    };
    let batch = t.batch.unwrap_or(64);
    let mut batches = super::Batches::new(n, t.seed);
    let (model, _) = run(t, &plan, teacher, |model, step| {
        let idx = batches.batch(step, batch);
        let gather = |v: &[f32]| -> Vec<f32> {
            idx.iter()
                .flat_map(|&i| v[i * PX..(i + 1) * PX].iter().copied())
                .collect()
        };
        let z = Tensor::<4>::from_data(
            TensorData::new(gather(&pairs.z), [batch, 1, 32, 32]),
            &device,
        );
        let x = Tensor::<4>::from_data(
            TensorData::new(gather(&pairs.x), [batch, 1, 32, 32]),
            &device,
        );
        let class: Vec<i64> = idx.iter().map(|&i| pairs.class[i]).collect();
        let class = Tensor::<1, Int>::from_data(TensorData::new(class, [batch]), &device);
        let d2 = (flow::student_sample(model, z, class) - x).powi_scalar(2);
        // pseudo-Huber with c = 0.03: quadratic near 0, linear for large errors
        ((d2 + 0.03f32 * 0.03).sqrt() - 0.03).mean()
    })?;
    write_weights(&t.out, "student.safetensors", &crate::store::save(&model)?)?;
    Ok(())
}
