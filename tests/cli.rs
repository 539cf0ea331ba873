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

/// `genuq score`: shards that together equal one run, a resumed run that adds only what is
/// missing, and clear errors for a bad range or a corrupt or foreign file.
#[test]
fn score_resumes_and_shards_add_up_to_one_run() {
    use std::collections::BTreeSet;
    let dir = scratch("score");
    let m = models();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    // the run: every class of seeds 0 and 1, one step, M = 2; `extra` pairs replace its options
    let run = |steps: &'static str, out: String, extra: &[&str]| -> Vec<String> {
        let mut options = vec![
            ("--class", "all".to_string()),
            ("--seeds", "0..2".to_string()),
            ("--samples", "2".to_string()),
            ("--steps", steps.to_string()),
            ("--models", m.clone()),
            ("--out", out),
        ];
        for pair in extra.chunks(2) {
            match options.iter_mut().find(|(k, _)| *k == pair[0]) {
                Some(o) => o.1 = pair[1].to_string(),
                None => options.push((pair[0], pair[1].to_string())),
            }
        }
        let mut args = vec!["score".to_string()];
        args.extend(options.into_iter().flat_map(|(k, v)| [k.to_string(), v]));
        args
    };
    let score = |out: &str, extra: &[&str]| {
        let args = run("1", out.to_string(), extra);
        let (code, stderr) = genuq(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(code, 0, "{stderr}");
    };
    let lines = |p: &str| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    score(&path("full.jsonl"), &[]);
    let full = lines(&path("full.jsonl"));
    assert_eq!(full.len(), 20, "two seeds x ten classes");
    let first: serde_json::Value = serde_json::from_str(&full[0]).unwrap();
    assert_eq!(
        (first["seed"].as_u64(), first["class"].as_str()),
        (Some(0), Some("t-shirt"))
    );
    assert!(
        first["u"].as_f64().unwrap().is_finite()
            && first["image_png"].as_str().unwrap().len() > 100
    );
    // three shard processes at once, as a Kubernetes Indexed Job or a Slurm array runs them
    let shards: Vec<_> = (0..3)
        .map(|i| {
            let out = path(&format!("shard{i}.jsonl"));
            let args = run("1", out.clone(), &["--shard", &format!("{i}/3")]);
            let child = Command::new(env!("CARGO_BIN_EXE_genuq"))
                .args(&args)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("a shard starts");
            (out, child)
        })
        .collect();
    let mut sharded = BTreeSet::new();
    for (out, child) in shards {
        let done = child.wait_with_output().unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        sharded.extend(lines(&out));
    }
    assert_eq!(
        sharded,
        full.iter().cloned().collect::<BTreeSet<_>>(),
        "the shards merged (sort -u) are the run"
    );
    // for pipelines: the CPU path to standard output, the same lines
    let args = run("1", "-".into(), &["--compute", "cpu"]);
    let out = Command::new(env!("CARGO_BIN_EXE_genuq"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let piped: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(piped.len(), 20);
    for (a, b) in piped.iter().zip(&full) {
        let b: serde_json::Value = serde_json::from_str(b).unwrap();
        assert_eq!((&a["seed"], &a["class"]), (&b["seed"], &b["class"]));
        let du = (a["u"].as_f64().unwrap() - b["u"].as_f64().unwrap()).abs();
        assert!(du < 1e-3, "u on the CPU path vs auto: {du}");
        assert!(a["class_space"]["probability"].as_f64().is_some(), "{a}");
    }
    let resumed = path("resumed.jsonl");
    std::fs::write(&resumed, full[..5].join("\n") + "\n").unwrap();
    score(&resumed, &[]);
    let after = lines(&resumed);
    assert_eq!(&after[..5], &full[..5], "what was there stays");
    assert_eq!(
        after.iter().collect::<BTreeSet<_>>(),
        full.iter().collect::<BTreeSet<_>>()
    );
    score(&resumed, &[]);
    assert_eq!(lines(&resumed).len(), 20, "a finished run adds nothing");

    let bad = |steps, out: String, extra: &[&str], code, message| {
        let args = run(steps, out, extra);
        fails(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            code,
            message,
        );
    };
    bad("1", path("x.jsonl"), &["--seeds", "5..2"], 2, "--seeds");
    bad("1", path("x.jsonl"), &["--shard", "3/3"], 2, "--shard");
    bad("3", path("x.jsonl"), &[], 2, "--steps");
    bad(
        "1",
        path("x.jsonl"),
        &["--class", "boat"],
        1,
        "unknown class",
    );
    std::fs::write(
        path("corrupt.jsonl"),
        full[0].clone() + "\n{\"seed\": 4, \"cl\n",
    )
    .unwrap();
    bad("1", path("corrupt.jsonl"), &[], 1, "line 2");
    bad("2", path("full.jsonl"), &[], 1, "not this run's");
}

/// Labels by eye from end to end: two `score` pools (the weight samples at the last and the
/// first step), blind sheets with the recipe's inclusion probabilities, a labeller's marks
/// imported once (not twice), and `eval --labels` writing the by-eye section.
#[test]
fn labels_by_eye_from_pools_to_the_report() {
    let dir = scratch("label");
    let m = models();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    for perturb in ["last", "first"] {
        let out = path(&format!("{perturb}.jsonl"));
        let args = [
            "score",
            "--class",
            "all",
            "--seeds",
            "0..3",
            "--samples",
            "2",
            "--perturb",
            perturb,
            "--compute",
            "cpu",
            "--models",
            &m,
            "--out",
            &out,
        ];
        let (code, stderr) = genuq(&args);
        assert_eq!(code, 0, "{stderr}");
    }
    let (last, first, set) = (path("last.jsonl"), path("first.jsonl"), path("set"));
    let sheets = [
        "label",
        "sheets",
        "--set",
        "t",
        "--random",
        "2",
        "--top",
        "1",
        "--by",
        "u-last,darkness",
        "--per-sheet",
        "3",
        "--pool",
        &last,
        &first,
        "--out",
        &set,
    ];
    let (code, stderr) = genuq(&sheets);
    assert_eq!(code, 0, "{stderr}");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("set").join(name)).unwrap()).unwrap()
    };
    // the sheets carry no score: every cell is its number, seed and image, nothing else
    let cells = read("cells.json");
    for sheet in cells["sheets"].as_array().unwrap() {
        assert!(
            dir.join("set/sheets")
                .join(format!("{}.png", sheet["name"].as_str().unwrap()))
                .exists()
        );
        for cell in sheet["cells"].as_array().unwrap() {
            let keys: Vec<&String> = cell.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["cell", "image_png", "seed"], "{cell}");
        }
    }
    // a pool of 3 per class, 2 drawn at random: 2/3 for a generation in no top set, else 1
    let key = read("key.json");
    for item in key["items"].as_array().unwrap() {
        let top = item["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.get("top").is_some());
        let expected = if top { 1.0 } else { 2.0 / 3.0 };
        assert!(
            (item["inclusion"].as_f64().unwrap() - expected).abs() < 1e-12,
            "{item}"
        );
    }
    let name = cells["sheets"][0]["name"].as_str().unwrap().to_string();
    let marks = path("marks.json");
    let text = format!(
        r#"{{"labeller": "test", "pass": "first", "sheets": {{"{name}": {{"malformed": [1]}}}}}}"#
    );
    std::fs::write(&marks, text).unwrap();
    let (cells_json, labels) = (path("set/cells.json"), path("set/labels.jsonl"));
    let import = [
        "label",
        "import",
        "--cells",
        &cells_json,
        "--marks",
        &marks,
        "--out",
        &labels,
    ];
    let (code, stderr) = genuq(&import);
    assert_eq!(code, 0, "{stderr}");
    let n = cells["sheets"][0]["cells"].as_array().unwrap().len();
    assert_eq!(std::fs::read_to_string(&labels).unwrap().lines().count(), n);
    fails(&import, 1, "already has pass First");
    let report = path("report");
    std::fs::create_dir_all(&report).unwrap();
    let (code, stderr) = genuq(&["eval", "--labels", &set, "--out", &report]);
    assert_eq!(code, 0, "{stderr}");
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report/eval.json")).unwrap())
            .unwrap();
    assert_eq!(eval["by_eye"]["t"]["labelled"], n);
}
