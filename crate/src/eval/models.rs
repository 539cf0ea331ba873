//! `genuq eval-models`: the manifest's metrics. Generates `per_class` samples of every class
//! with the teacher (guided Heun) and with the one-step student from the same noise, and
//! compares them with the test split in the evaluation classifier's feature space.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use indicatif::ProgressBar;
use serde_json::json;

use super::metrics::{Features, fid};
use crate::data::captions::Tokenizer;
use crate::data::{self, Dataset, Split};
use crate::diffusion::flow;
use crate::kernels::philox;
use crate::manifest::Manifest;
use crate::model::UNetConfig;
use crate::model::classifier::{Classifier, ClassifierConfig};
use crate::model::clip::ClipConfig;
use crate::train::clip::zero_shot_accuracy;

#[derive(Debug, Clone, clap::Args)]
pub struct EvalModelsArgs {
    /// The folder with the weights and manifest.json.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Generated samples per class.
    #[arg(long, default_value_t = 1000)]
    pub per_class: usize,
    /// Heun steps of the teacher.
    #[arg(long, default_value_t = 8)]
    pub teacher_steps: usize,
    /// Classifier-free guidance weight of the teacher.
    #[arg(long, default_value_t = 1.5)]
    pub guidance: f32,
    /// Seed of the noise.
    #[arg(long, default_value_t = 2025)]
    pub seed: u32,
}

/// The model files and what each one is.
pub const FILES: [(&str, &str); 5] = [
    (
        "student.safetensors",
        "one-step student UNet distilled from the teacher (demo + CLI); its conv_out is the Laplace layer",
    ),
    (
        "clip_image.safetensors",
        "tiny CLIP image tower (ViT); its embeddings give the uncertainty score (demo + CLI)",
    ),
    (
        "teacher.safetensors",
        "rectified-flow teacher UNet, class-conditional with classifier-free guidance (CLI: distillation, evaluation)",
    ),
    (
        "clip.safetensors",
        "tiny CLIP, image and text towers (CLI: zero-shot classification)",
    ),
    (
        "classifier.safetensors",
        "evaluation CNN: 128-d features for FID and precision/recall, class predictions (CLI)",
    ),
];

fn read(dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(dir.join(name)).map_err(|e| anyhow::anyhow!("{}: {e}", dir.join(name).display()))
}

/// Features and predicted labels of `images` (`[N * 1024]`) under the classifier.
pub(crate) fn classify(
    model: &Classifier,
    images: &[f32],
    device: &Device,
) -> (Vec<f32>, Vec<i64>) {
    let n = images.len() / 1024;
    let (mut feats, mut preds) = (Vec::new(), Vec::new());
    for start in (0..n).step_by(500) {
        let m = 500.min(n - start);
        let x = Tensor::<4>::from_data(
            TensorData::new(
                images[start * 1024..(start + m) * 1024].to_vec(),
                [m, 1, 32, 32],
            ),
            device,
        );
        let f = model.features(x);
        preds.extend(
            model
                .forward_features(f.clone())
                .argmax(1)
                .into_data()
                .iter::<i64>(),
        );
        feats.extend(f.into_data().iter::<f32>());
    }
    (feats, preds)
}

fn accuracy(pred: &[i64], truth: &[i64]) -> f64 {
    pred.iter().zip(truth).filter(|(a, b)| a == b).count() as f64 / truth.len() as f64
}

pub fn eval_models(args: &EvalModelsArgs) -> anyhow::Result<()> {
    let device = Device::flex();
    let dir = &args.models;
    let unet = |name: &str| -> anyhow::Result<_> {
        Ok(crate::store::load(
            UNetConfig::new().init(&device),
            read(dir, name)?,
            name,
        )?)
    };
    let teacher = unet("teacher.safetensors")?;
    let student = unet("student.safetensors")?;
    let classifier = crate::store::load(
        ClassifierConfig::new().init(&device),
        read(dir, "classifier.safetensors")?,
        "classifier",
    )?;
    let tokenizer = Tokenizer::default();
    let clip = crate::store::load(
        ClipConfig::new(tokenizer.vocab()).init(&device),
        read(dir, "clip.safetensors")?,
        "clip",
    )?;

    let test = Dataset::load(&data::default_dir(), Split::Test)?;
    let test_labels: Vec<i64> = test.labels.iter().map(|&l| l as i64).collect();
    let (test_feats, test_pred) = classify(&classifier, &test.images, &device);
    let classifier_acc = accuracy(&test_pred, &test_labels);
    let clip_acc = zero_shot_accuracy(&clip, &tokenizer, &test, &device);
    eprintln!("classifier test accuracy {classifier_acc:.4}, CLIP zero-shot {clip_acc:.4}");
    let test_feats = Features::new(&test_feats, 128);

    let n = 10 * args.per_class;
    let classes: Vec<i64> = (0..n).map(|i| (i % 10) as i64).collect();
    let (mut teacher_x, mut student_x) = (Vec::new(), Vec::new());
    let bar = ProgressBar::new(n as u64);
    bar.set_message("teacher and student samples");
    for start in (0..n).step_by(100) {
        let m = 100.min(n - start);
        let z: Vec<f32> = (start..start + m)
            .flat_map(|i| philox::gaussians(args.seed, i as u32, 1024))
            .map(|v| v as f32)
            .collect();
        let z = Tensor::<4>::from_data(TensorData::new(z, [m, 1, 32, 32]), &device);
        let c = Tensor::<1, Int>::from_data(
            TensorData::new(classes[start..start + m].to_vec(), [m]),
            &device,
        );
        let t = flow::sample_heun(
            &teacher,
            z.clone(),
            c.clone(),
            args.teacher_steps,
            args.guidance,
        );
        teacher_x.extend(t.clamp(-1.0, 1.0).into_data().iter::<f32>());
        let s = flow::student_sample(&student, z, c);
        student_x.extend(s.clamp(-1.0, 1.0).into_data().iter::<f32>());
        bar.inc(m as u64);
    }
    bar.finish();
    let (tf, tp) = classify(&classifier, &teacher_x, &device);
    let (sf, sp) = classify(&classifier, &student_x, &device);
    let teacher_fid = fid(&Features::new(&tf, 128), &test_feats);
    let student_fid = fid(&Features::new(&sf, 128), &test_feats);
    let metrics = json!({
        "teacher_fid": teacher_fid,
        "student_fid": student_fid,
        "student_steps": 1,
        "teacher_steps": args.teacher_steps,
        "teacher_evaluations": 2 * (2 * args.teacher_steps - 1),
        "student_class_accuracy": accuracy(&sp, &classes),
        "teacher_class_accuracy": accuracy(&tp, &classes),
        "clip_zero_shot_accuracy": clip_acc,
        "classifier_test_accuracy": classifier_acc,
        "samples": n,
        "parameters": {
            "unet": teacher.num_params(),
            "clip": clip.num_params(),
            "clip_image": clip.image.num_params(),
            "classifier": classifier.num_params(),
        },
        "unet_mflops_per_image": UNetConfig::new().flops() as f64 / 1e6,
        "fid_features": "evaluation classifier, 128-d penultimate layer, vs the 10k test split",
    });
    eprintln!("{}", serde_json::to_string_pretty(&metrics)?);
    let path = dir.join("manifest.json");
    let mut manifest = match std::fs::read_to_string(&path) {
        Ok(text) => Manifest::parse(&text)?,
        Err(_) => Manifest::default(),
    };
    for (name, what) in FILES {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            manifest.record(name, &bytes, what);
        }
    }
    if let serde_json::Value::Object(map) = metrics {
        manifest.metrics.extend(map);
    }
    std::fs::write(&path, serde_json::to_string_pretty(&manifest)? + "\n")?;
    eprintln!("updated {}", path.display());
    Ok(())
}
