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
