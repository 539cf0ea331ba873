//! The `genuq` binary on bad input: a clear message and exit code 2 for bad usage (clap's), 1
//! for runtime errors; never a panic (exit code 101), and nothing written that was not asked for.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genuq-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `genuq ARGS` and returns (exit code, stderr).
fn genuq(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_genuq"))
        .args(args)
        .output()
        .expect("the genuq binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code().unwrap_or(-1), stderr)
}

fn models() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../models").to_string()
}

#[track_caller]
fn fails(args: &[&str], code: i32, message: &str) {
    let (got, stderr) = genuq(args);
    assert_eq!(got, code, "genuq {args:?} exited {got}: {stderr}");
    assert!(
        stderr.contains(message),
        "genuq {args:?}: {message:?} not in {stderr}"
    );
}

#[test]
fn a_batch_larger_than_the_data_is_an_error_not_a_division_by_zero() {
    let dir = scratch("limit");
    let (runs, out) = (dir.join("runs"), dir.join("out"));
    let (runs, out) = (runs.to_str().unwrap(), out.to_str().unwrap());
    let args = [
        "train",
        "classifier",
        "--limit",
        "4",
        "--batch",
        "8",
        "--runs",
        runs,
        "--out",
        out,
    ];
    fails(&args, 1, "a batch of 8 does not fit in 4 training examples");
    assert!(!dir.join("out").exists(), "no weights written");
}

#[test]
fn zero_and_negative_sizes_are_usage_errors() {
    fails(&["fit-laplace", "--examples", "0"], 2, "--examples");
    fails(&["train", "teacher", "--batch", "0"], 2, "--batch");
    fails(&["train", "clip", "--limit", "0"], 2, "--limit");
    fails(&["eval", "--generations=-3"], 2, "--generations");
    fails(
        &["train", "student", "--student-steps", "0"],
        2,
        "--student-steps",
    );
}

#[test]
fn fit_laplace_without_teacher_pairs_says_what_to_run() {
    let dir = scratch("fit");
    let runs = dir.to_str().unwrap();
    let args = [
        "fit-laplace",
        "--models",
        &models(),
        "--runs",
        runs,
        "--examples",
        "5",
    ];
    fails(&args, 1, "run `genuq train student` first");
}

#[test]
fn generate_rejects_bad_requests_clearly() {
    let dir = scratch("generate");
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    let m = models();
    fails(
        &[
            "generate",
            "--class",
            "spaceship",
            "--out",
            out,
            "--models",
            &m,
        ],
        1,
        "unknown class \"spaceship\"",
    );
    fails(
        &[
            "generate",
            "--class",
            "bag",
            "--samples",
            "0",
            "--out",
            out,
            "--models",
            &m,
        ],
        1,
        "samples = 0",
    );
    fails(
        &["generate", "--class", "bag", "--seed=-1", "--out", out],
        2,
        "--seed",
    );
    assert!(!dir.join("out").exists(), "nothing written");
}

/// A corrupt manifest is an error that names it, and nothing replaces it.
#[test]
fn a_corrupt_manifest_is_an_error_everywhere() {
    let dir = scratch("manifest");
    std::fs::write(dir.join("manifest.json"), "{\"files\": [").unwrap();
    let d = dir.to_str().unwrap();
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    fails(
        &["generate", "--class", "bag", "--models", d, "--out", out],
        1,
        "manifest.json",
    );
    fails(&["reference", "--models", d], 1, "manifest.json");
    fails(&["bench", "--models", d, "--out", out], 1, "manifest.json");
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert_eq!(
        text, "{\"files\": [",
        "the corrupt manifest is left as it was"
    );
}
