//! A tiny-scale run of every trainer (a few steps on a few images), including a resume from
//! a checkpoint: the weights they write load back into their models.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use genuq::model::UNetConfig;
use genuq::model::classifier::ClassifierConfig;
use genuq::train::student::DistillArgs;
use genuq::train::{self, RunState, TrainArgs};

fn args(dir: &Path, steps: usize) -> TrainArgs {
    TrainArgs {
        steps: Some(steps),
        batch: Some(8),
        lr: None,
        seed: 1,
        runs: dir.join("runs"),
        out: dir.join("models"),
        checkpoint_minutes: 0.0,
        limit: Some(64),
        backend: train::TrainBackend::Flex,
    }
}

fn state(dir: &Path, name: &str) -> RunState {
    let text = std::fs::read_to_string(dir.join("runs").join(name).join("state.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genuq-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn classifier_trains_and_resumes() {
    let dir = scratch("classifier");
    train::classifier::train(&args(&dir, 2)).unwrap();
    assert_eq!(state(&dir, "classifier").step, 2);
    train::classifier::train(&args(&dir, 4)).unwrap();
    let s = state(&dir, "classifier");
    assert_eq!(
        (s.step, s.losses.len()),
        (4, 4),
        "resumed at step 2, not from scratch"
    );
    let bytes = std::fs::read(dir.join("models/classifier.safetensors")).unwrap();
    genuq::store::load(
        ClassifierConfig::new().init(&Device::flex()),
        bytes,
        "classifier",
    )
    .unwrap();
}

/// A truncated checkpoint or a garbled state.json is an error that names the file and says how
/// to start afresh, not a panic; the good checkpoint files are left as they were.
#[test]
fn a_broken_checkpoint_is_a_clear_error() {
    let dir = scratch("broken-checkpoint");
    train::classifier::train(&args(&dir, 2)).unwrap();
    let run = dir.join("runs/classifier");
    let optim = std::fs::read(run.join("optim.bpk")).unwrap();
    let model = std::fs::read(run.join("model.bpk")).unwrap();
    std::fs::write(run.join("model.bpk"), &model[..model.len() / 2]).unwrap();
    let err = format!(
        "{:#}",
        train::classifier::train(&args(&dir, 4)).unwrap_err()
    );
    assert!(
        err.contains("model.bpk") && err.contains("start this run afresh"),
        "{err}"
    );
    assert_eq!(std::fs::read(run.join("optim.bpk")).unwrap(), optim);
    std::fs::write(run.join("model.bpk"), &model).unwrap();
    std::fs::write(run.join("state.json"), "{\"step\": ").unwrap();
    let err = format!(
        "{:#}",
        train::classifier::train(&args(&dir, 4)).unwrap_err()
    );
    assert!(err.contains("state.json"), "{err}");
}

#[test]
fn teacher_then_student() {
    let dir = scratch("diffusion");
    train::teacher::train(&args(&dir, 2)).unwrap();
    let student = DistillArgs {
        train: args(&dir, 2),
        pairs: 16,
        teacher_steps: 2,
        guidance: 1.5,
    };
    train::student::train(&student).unwrap();
    assert_eq!(state(&dir, "student").step, 2);
    // 16 pairs of (class, z, x) were cached for a resumed run
    let pairs = std::fs::metadata(dir.join("runs/student/pairs.bin"))
        .unwrap()
        .len();
    assert_eq!(pairs, 16 * (4 + 2 * 32 * 32 * 4));
    let bytes = std::fs::read(dir.join("models/student.safetensors")).unwrap();
    genuq::store::load(UNetConfig::new().init(&Device::flex()), bytes, "student").unwrap();
}

#[test]
fn clip_trains() {
    let dir = scratch("clip");
    train::clip::train(&args(&dir, 2)).unwrap();
    assert!(dir.join("models/clip_image.safetensors").exists());
    assert_eq!(state(&dir, "clip").losses.len(), 2);
}

/// The analytic per-example last-layer gradients of the Laplace fit equal burn's autodiff
/// gradients of the same loss, `0.5 * sum (x0 - x)^2`.
#[test]
fn last_layer_gradients_match_autodiff() {
    use burn::module::Module;
    use burn::tensor::{Int, Tensor, TensorData};
    use genuq::kernels::philox::gaussians;
    let device = Device::flex().autodiff();
    let unet = UNetConfig::new().init(&device);
    let noise = |stream| -> Vec<f32> {
        gaussians(3, stream, 1024)
            .iter()
            .map(|&v| v as f32)
            .collect()
    };
    let z = Tensor::<4>::from_data(TensorData::new(noise(0), [1, 1, 32, 32]), &device);
    let x = Tensor::<4>::from_data(TensorData::new(noise(1), [1, 1, 32, 32]), &device);
    let c = Tensor::<1, Int>::from_ints([3], &device);
    let loss = (genuq::diffusion::flow::student_sample(&unet, z.clone(), c.clone()) - x.clone())
        .powi_scalar(2)
        .sum()
        * 0.5;
    let grads = loss.backward();
    let mut autodiff: Vec<f32> = unet
        .conv_out
        .weight
        .val()
        .grad(&grads)
        .unwrap()
        .into_data()
        .iter::<f32>()
        .collect();
    let bias = unet
        .conv_out
        .bias
        .as_ref()
        .unwrap()
        .val()
        .grad(&grads)
        .unwrap();
    autodiff.extend(bias.into_data().iter::<f32>());
    let plain = unet.valid();
    let inner = Device::flex();
    let g = genuq::posterior::fit::per_example_gradients(
        &plain,
        z.without_autodiff().to_device(&inner),
        c.to_device(&inner),
        x.without_autodiff().to_device(&inner),
    );
    let ours: Vec<f32> = g.into_data().iter::<f32>().collect();
    assert_eq!(ours.len(), autodiff.len());
    let scale = autodiff.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let worst = ours
        .iter()
        .zip(&autodiff)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        scale > 1e-3 && worst < 1e-4 * scale.max(1.0),
        "worst {worst} (scale {scale})"
    );
}
