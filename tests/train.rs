//! A tiny-scale run of every trainer (a few steps on a few images), including a resume from
//! a checkpoint: the weights they write load back into their models.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use genuq::model::UNetConfig;
use genuq::model::classifier::ClassifierConfig;
use genuq::train::student::DistillConfig;
use genuq::train::{self, RunDirs, RunState, TrainConfig};

/// A stage's defaults at a tiny scale: `steps` steps of 8 examples out of 64.
fn tiny(defaults: TrainConfig, steps: usize) -> TrainConfig {
    TrainConfig {
        steps,
        batch: 8,
        seed: 1,
        limit: Some(64),
        ..defaults
    }
}

fn dirs(dir: &Path) -> RunDirs {
    RunDirs {
        runs: dir.join("runs"),
        out: dir.join("models"),
        checkpoint_minutes: 0.0,
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
    let config = |steps| tiny(train::classifier::config(), steps);
    train::classifier::train(&config(2), &dirs(&dir)).unwrap();
    assert_eq!(state(&dir, "classifier").step, 2);
    train::classifier::train(&config(4), &dirs(&dir)).unwrap();
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
    // the settings of the run are saved beside its checkpoints
    let saved = std::fs::read_to_string(dir.join("runs/classifier/config.json")).unwrap();
    let saved: TrainConfig = serde_json::from_str(&saved).unwrap();
    assert_eq!(saved, config(4));
}

/// A truncated checkpoint or a garbled state.json is an error that names the file and says how
/// to start afresh, not a panic; the good checkpoint files are left as they were.
#[test]
fn a_broken_checkpoint_is_a_clear_error() {
    let dir = scratch("broken-checkpoint");
    let config = |steps| tiny(train::classifier::config(), steps);
    train::classifier::train(&config(2), &dirs(&dir)).unwrap();
    let run = dir.join("runs/classifier");
    let optim = std::fs::read(run.join("optim.bpk")).unwrap();
    let model = std::fs::read(run.join("model.bpk")).unwrap();
    std::fs::write(run.join("model.bpk"), &model[..model.len() / 2]).unwrap();
    let err = format!(
        "{:#}",
        train::classifier::train(&config(4), &dirs(&dir)).unwrap_err()
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
        train::classifier::train(&config(4), &dirs(&dir)).unwrap_err()
    );
    assert!(err.contains("state.json"), "{err}");
}

#[test]
fn teacher_then_student() {
    let dir = scratch("diffusion");
    train::teacher::train(&tiny(train::teacher::config(), 2), &dirs(&dir)).unwrap();
    let defaults = train::student::config();
    let student = DistillConfig {
        train: tiny(defaults.train.clone(), 2).with_limit(None),
        ..defaults
    }
    .with_pairs(16)
    .with_teacher_steps(2)
    .with_student_steps(4);
    train::student::train(&student, &dirs(&dir)).unwrap();
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
    train::clip::train(&tiny(train::clip::config(), 2), &dirs(&dir)).unwrap();
    assert!(dir.join("models/clip_image.safetensors").exists());
    assert_eq!(state(&dir, "clip").losses.len(), 2);
}

/// A point on the straight path of a pair at t = 0.5, as the few-step student trains on it:
/// `(x_t, t, class, target velocity z - x)`, on `device`.
fn path_point(device: &Device) -> (Tensor<4>, Tensor<1>, Tensor<1, Int>, Tensor<4>) {
    use genuq::data::{IMAGE_SIZE, PIXELS};
    use genuq::diffusion::flow;
    use genuq::rng::{Stream, gaussians_f32};
    let noise = |k| gaussians_f32(3, Stream::Test(k), PIXELS, 1.0);
    let shape = [1, 1, IMAGE_SIZE, IMAGE_SIZE];
    let z = Tensor::<4>::from_data(TensorData::new(noise(0), shape), device);
    let x = Tensor::<4>::from_data(TensorData::new(noise(1), shape), device);
    let t = Tensor::<1>::from_floats([0.5], device);
    let x_t = flow::noisy(x.clone(), z.clone(), t.clone());
    (x_t, t, Tensor::from_ints([3], device), flow::velocity(x, z))
}

/// The analytic per-example last-layer gradients of the Laplace fit equal burn's autodiff
/// gradients of the same loss, `0.5 * sum (v(x_t, t) - (z - x))^2`, at a time inside the path.
#[test]
fn last_layer_gradients_match_autodiff() {
    use burn::module::Module;
    let device = Device::flex().autodiff();
    let unet = UNetConfig::new().init(&device);
    let (x_t, t, c, target) = path_point(&device);
    let loss = (unet.forward(x_t.clone(), t.clone(), c.clone()) - target.clone())
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
    let inner = Device::flex();
    let g = genuq::posterior::fit::per_example_gradients(
        &unet.valid(),
        x_t.without_autodiff().to_device(&inner),
        t.without_autodiff().to_device(&inner),
        c.to_device(&inner),
        target.without_autodiff().to_device(&inner),
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

/// The GGN's diagonal is the exact Hessian's for the linear last layer: moving parameter p by
/// eps moves its gradient by eps * H_pp (the loss is quadratic in the layer). Checked for the
/// bias (H = pixels) and two weights.
#[test]
fn ggn_diagonal_is_the_hessian_of_the_last_layer() {
    use burn::module::Param;
    use genuq::posterior::fit::{per_example_gradients, per_example_jacobian_squares};
    let device = Device::flex();
    let unet = UNetConfig::new().init(&device);
    let (x_t, t, c, target) = path_point(&device);
    let flat = |v: Tensor<2>| -> Vec<f64> { v.into_data().iter::<f64>().collect() };
    let j2 = flat(per_example_jacobian_squares(
        &unet,
        x_t.clone(),
        t.clone(),
        c.clone(),
    ));
    let g0 = flat(per_example_gradients(
        &unet,
        x_t.clone(),
        t.clone(),
        c.clone(),
        target.clone(),
    ));
    let bias = j2.len() - 1;
    assert_eq!(j2[bias], genuq::data::PIXELS as f64);
    let eps = 1e-2;
    for p in [0, 40, bias] {
        let mut moved = unet.clone();
        if p == bias {
            let b = moved.conv_out.bias.take().unwrap().val();
            moved.conv_out.bias = Some(Param::from_tensor(b + eps as f32));
        } else {
            let w = moved.conv_out.weight.val();
            let shape = w.shape();
            let mut v: Vec<f32> = w.into_data().iter::<f32>().collect();
            v[p] += eps as f32;
            moved.conv_out.weight =
                Param::from_tensor(Tensor::from_data(TensorData::new(v, shape), &device));
        }
        let g1 = flat(per_example_gradients(
            &moved,
            x_t.clone(),
            t.clone(),
            c.clone(),
            target.clone(),
        ));
        let hessian = (g1[p] - g0[p]) / eps;
        assert!(
            (hessian - j2[p]).abs() < 1e-2 * j2[p].max(1.0),
            "parameter {p}: Hessian {hessian} vs J^T J {}",
            j2[p]
        );
    }
}
