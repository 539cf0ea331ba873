//! `genuq eval-models`: the manifest's metrics. Generates `per_class` samples of every class
//! with the teacher (guided Heun) and with the student at each of its step counts, from the
//! same noise, and compares them with the test split in the evaluation classifier's features.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use clap::Args;
use indicatif::ProgressBar;
use serde_json::json;

use crate::data::captions::Tokenizer;
use crate::data::{self, Dataset, IMAGE_SIZE, NUM_CLASSES, PIXELS, Split};
use crate::diffusion::flow;
use crate::eval::classify::{FEATURES, accuracy, classify};
use crate::eval::generations::EVAL_SEED;
use crate::eval::metrics::{Features, fid, precision_recall};
use crate::manifest::{self, CLASSIFIER, CLIP, Manifest, STUDENT, TEACHER};
use crate::model::classifier::ClassifierConfig;
use crate::model::clip::ClipConfig;
use crate::model::{UNet, UNetConfig};
use crate::rng::{self, Stream};
use crate::train::clip::zero_shot_accuracy;

#[derive(Debug, Clone, Args)]
pub struct EvalModelsArgs {
    /// The folder with the weights and manifest.json.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Generated samples per class.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(2..))]
    pub per_class: u32,
    /// Heun steps of the teacher.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub teacher_steps: u32,
    /// Classifier-free guidance weight of the teacher.
    #[arg(long, default_value_t = 1.5)]
    pub guidance: f32,
    /// The student's step counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4", value_parser = clap::value_parser!(u32).range(1..=16))]
    pub student_steps: Vec<u32>,
    /// Seed of the noise: sample i starts from the noise of seed SEED + i.
    #[arg(long, default_value_t = EVAL_SEED)]
    pub seed: u32,
}

/// The model file `name` of `dir`, checked against `dir`'s manifest.
fn read(dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    Ok(Manifest::read(dir)?.read_verified(dir, name)?)
}

/// FID, precision and recall (k = 3) against the test features, and class accuracy.
fn judge(
    images: &[f32],
    classes: &[i64],
    test: &Features,
    classifier: &crate::model::classifier::Classifier,
    device: &Device,
) -> serde_json::Value {
    let (f, pred) = classify(classifier, images, device);
    let f = Features::new(&f, FEATURES);
    let (precision, recall) = precision_recall(test, &f, 3);
    json!({
        "fid": fid(&f, test),
        "precision": precision,
        "recall": recall,
        "class_accuracy": accuracy(&pred, classes),
    })
}

pub fn run(args: &EvalModelsArgs) -> anyhow::Result<()> {
    let device = Device::flex();
    let dir = &args.models;
    let unet = |name: &str| -> anyhow::Result<_> {
        Ok(crate::store::load(
            UNetConfig::new().init(&device),
            read(dir, name)?,
            name,
        )?)
    };
    let teacher = unet(TEACHER)?;
    let student = unet(STUDENT)?;
    let classifier = crate::store::load(
        ClassifierConfig::new().init(&device),
        read(dir, CLASSIFIER)?,
        CLASSIFIER,
    )?;
    let tokenizer = Tokenizer::default();
    let clip = crate::store::load(
        ClipConfig::new(tokenizer.vocab()).init(&device),
        read(dir, CLIP)?,
        CLIP,
    )?;

    let test = Dataset::load(&data::default_dir(), Split::Test)?;
    let test_labels: Vec<i64> = test.labels.iter().map(|&l| l as i64).collect();
    let (test_feats, test_pred) = classify(&classifier, &test.images, &device);
    let classifier_acc = accuracy(&test_pred, &test_labels);
    let clip_acc = zero_shot_accuracy(&clip, &tokenizer, &test, &device);
    eprintln!("classifier test accuracy {classifier_acc:.4}, CLIP zero-shot {clip_acc:.4}");
    let test_feats = Features::new(&test_feats, FEATURES);

    let n = NUM_CLASSES * args.per_class as usize;
    let classes: Vec<i64> = (0..n).map(|i| (i % NUM_CLASSES) as i64).collect();
    let (teacher_x, student_x) = samples(args, &teacher, &student, &classes, &device);
    let teacher_metrics = judge(&teacher_x, &classes, &test_feats, &classifier, &device);
    let student_metrics: BTreeMap<String, serde_json::Value> = student_x
        .iter()
        .map(|(steps, x)| {
            let m = judge(x, &classes, &test_feats, &classifier, &device);
            (steps.to_string(), m)
        })
        .collect();
    let metrics = json!({
        "teacher": teacher_metrics,
        "student": student_metrics,
        "teacher_steps": args.teacher_steps,
        "teacher_evaluations": 2 * (2 * args.teacher_steps - 1),
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
        "fid_features": "evaluation classifier, 128-d penultimate layer, vs the 10k test split; precision and recall with k = 3",
    });
    eprintln!("{}", serde_json::to_string_pretty(&metrics)?);
    record(dir, metrics)
}

/// The teacher's (guided Heun) and the student's (each step count) images of `classes`, from
/// the same noise (seed `args.seed + i` for generation i), clamped, `[N * PIXELS]` each.
fn samples(
    args: &EvalModelsArgs,
    teacher: &UNet,
    student: &UNet,
    classes: &[i64],
    device: &Device,
) -> (Vec<f32>, BTreeMap<u32, Vec<f32>>) {
    let n = classes.len();
    let mut teacher_x = Vec::new();
    let mut student_x: BTreeMap<u32, Vec<f32>> = BTreeMap::new();
    let bar = ProgressBar::new(n as u64);
    bar.set_message("teacher and student samples");
    for start in (0..n).step_by(100) {
        let m = 100.min(n - start);
        let z: Vec<f32> = (start..start + m)
            .flat_map(|i| {
                let seed = args.seed.wrapping_add(i as u32);
                rng::gaussians_f32(seed, Stream::Noise, PIXELS, 1.0)
            })
            .collect();
        let z = Tensor::<4>::from_data(TensorData::new(z, [m, 1, IMAGE_SIZE, IMAGE_SIZE]), device);
        let c = Tensor::<1, Int>::from_data(
            TensorData::new(classes[start..start + m].to_vec(), [m]),
            device,
        );
        let t = flow::sample_heun(
            teacher,
            z.clone(),
            c.clone(),
            args.teacher_steps as usize,
            args.guidance,
        );
        teacher_x.extend(t.clamp(-1.0, 1.0).into_data().iter::<f32>());
        for &steps in &args.student_steps {
            let s = flow::sample_student(student, z.clone(), c.clone(), steps as usize);
            student_x
                .entry(steps)
                .or_default()
                .extend(s.clamp(-1.0, 1.0).into_data().iter::<f32>());
        }
        bar.inc(m as u64);
    }
    bar.finish();
    (teacher_x, student_x)
}

/// Records `metrics` in `dir`'s manifest. The files' entries are left as training wrote them:
/// every file this command evaluated was read through `read_verified`, so a file changed behind
/// the manifest's back was refused, not re-hashed into it.
fn record(dir: &Path, metrics: serde_json::Value) -> anyhow::Result<()> {
    Manifest::update(dir, |m| {
        if let serde_json::Value::Object(map) = metrics {
            m.metrics.extend(map);
        }
    })?;
    eprintln!("updated {}", dir.join(manifest::FILE).display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model file changed behind the manifest's back stays recorded as training wrote it:
    /// eval-models adds its metrics and never re-hashes a file into the manifest.
    #[test]
    fn record_keeps_the_files_entries_and_adds_the_metrics() {
        let dir = std::env::temp_dir().join(format!("genuq-record-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let name = crate::manifest::STUDENT;
        let trained = Manifest::update(&dir, |m| m.record_file(name, b"the trained weights"))
            .unwrap()
            .entry(name)
            .unwrap()
            .clone();
        std::fs::write(dir.join(name), b"the trained weightZ").unwrap(); // same size, other bytes
        record(&dir, serde_json::json!({ "student_fid": 0.5 })).unwrap();
        let after = Manifest::read(&dir).unwrap();
        assert_eq!(after.entry(name).unwrap(), &trained);
        assert_eq!(after.metrics["student_fid"], serde_json::json!(0.5));
        let refused = after.read_verified(&dir, name).unwrap_err().to_string();
        assert!(refused.contains("does not match"), "{refused}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
