//! `genuq score` end to end: shards, resume, and its errors.

use std::process::Command;

use super::{fails, genuq, models, scratch};

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
