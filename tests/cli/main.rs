//! The `genuq` binary on bad input: a clear message and exit code 2 for bad usage (clap's), 1
//! for runtime errors; never a panic (exit code 101), and nothing written that was not asked for.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::Command;

mod label;
mod score;

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
    // clap's usage errors list what is allowed
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
        2,
        "possible values: t-shirt, trouser",
    );
    fails(
        &["generate", "--class", "bag", "--samples", "0", "--out", out],
        2,
        "--samples",
    );
    fails(
        &[
            "generate",
            "--class",
            "bag",
            "--samples",
            "33",
            "--out",
            out,
        ],
        2,
        "--samples",
    );
    fails(
        &["generate", "--class", "bag", "--steps", "3", "--out", out],
        2,
        "[1, 2, 4]",
    );
    fails(
        &[
            "generate",
            "--class",
            "bag",
            "--perturb",
            "middle",
            "--out",
            out,
        ],
        2,
        "possible values: all, first, last",
    );
    fails(
        &["generate", "--class", "bag", "--seed=-1", "--out", out],
        2,
        "--seed",
    );
    fails(&["generate", "--class", "bag"], 2, "--out");
    // a closed-form heatmap where there is none is a runtime error
    fails(
        &[
            "generate",
            "--class",
            "bag",
            "--steps",
            "2",
            "--perturb",
            "all",
            "--exact",
            "--models",
            &m,
            "--out",
            out,
        ],
        1,
        "not linear in the weights",
    );
    assert!(!dir.join("out").exists(), "nothing written");
}

/// `--json` prints the result on stdout (and writes nothing without `--out`); aliases and
/// numbers name classes too.
#[test]
fn generate_json_prints_the_result() {
    let out = Command::new(env!("CARGO_BIN_EXE_genuq"))
        .args([
            "generate",
            "--class",
            "boot",
            "--seed",
            "3",
            "--steps",
            "1",
            "--samples",
            "2",
            "--json",
            "--models",
            &models(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(result["class"], "ankle-boot");
    assert_eq!(
        (result["seed"].as_u64(), result["samples"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(result["embeddings"].as_array().unwrap().len(), 3);
    assert!(result["u"].as_f64().unwrap().is_finite());
}

/// One record of a generation: `generate --json` and a `score` line of the same request carry
/// the same fields with the same values, each surface adding only its own.
#[test]
fn generate_and_score_write_one_record() {
    let run = |args: &[&str]| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_genuq"))
            .args(args)
            .args(["--steps", "1", "--samples", "2", "--models", &models()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        // the first JSON value on stdout (pretty from generate, a line from score)
        serde_json::Deserializer::from_slice(&out.stdout)
            .into_iter()
            .next()
            .expect("JSON on stdout")
            .expect("valid JSON")
    };
    let generated = run(&["generate", "--class", "boot", "--seed", "3", "--json"]);
    let line = run(&[
        "score",
        "--class",
        "ankle-boot",
        "--seeds",
        "3..4",
        "--out",
        "-",
    ]);
    let record = [
        "class",
        "seed",
        "samples",
        "steps",
        "perturb",
        "u",
        "percentile",
        "class_space",
        "realism",
        "shipped",
    ];
    let own = |v: &serde_json::Value, own: &[&str]| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.retain(|k| !own.contains(&k.as_str()));
        keys.sort();
        keys
    };
    let mut want: Vec<String> = record.iter().map(|k| k.to_string()).collect();
    want.sort();
    let cli_own = ["embeddings", "timings_ms", "compute", "reason", "formula"];
    assert_eq!(own(&generated, &cli_own), want, "{generated}");
    assert_eq!(own(&line, &["pixel_variance", "image_png"]), want, "{line}");
    for key in record {
        assert_eq!(generated[key], line[key], "{key}");
    }
    assert!(generated["realism"].as_f64().is_some() && !generated["shipped"].is_null());
}

/// `auto` (the default) probes wgpu quietly where the session has no XDG_RUNTIME_DIR (no
/// "XDG_RUNTIME_DIR is invalid" from the Vulkan loader), and says which path it took and why.
#[test]
fn auto_is_the_default_probes_quietly_and_says_which_path() {
    let out = Command::new(env!("CARGO_BIN_EXE_genuq"))
        .args([
            "generate",
            "--class",
            "bag",
            "--json",
            "--models",
            &models(),
        ])
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let compute = result["compute"].as_str().unwrap();
    assert!(["cpu", "webgpu"].contains(&compute), "{compute}");
    assert!(
        stderr.starts_with(&format!("on the {compute} path: ")),
        "{stderr}"
    );
    assert!(!result["reason"].as_str().unwrap().is_empty());
}

/// `--compute cpu` runs the whole pipeline on the CPU path and gives the wgpu path's u (within
/// 1e-4 of its size); an unknown path is a usage error.
#[test]
fn generate_on_the_cpu_path_gives_the_same_score() {
    let u = |compute: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_genuq"))
            .args([
                "generate", "--class", "sandal", "--seed", "8", "--steps", "2",
            ])
            .args(["--json", "--compute", compute, "--models", &models()])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{compute}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        result["u"].as_f64().unwrap()
    };
    let (cpu, wgpu) = (u("cpu"), u("webgpu"));
    assert!(
        (cpu - wgpu).abs() < 1e-4 * wgpu.abs(),
        "u on the CPU {cpu}, on wgpu {wgpu}"
    );
    fails(
        &["generate", "--class", "bag", "--json", "--compute", "gpu"],
        2,
        "invalid value 'gpu'",
    );
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
