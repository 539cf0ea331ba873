//! `genuq bench`: the benchmark of `crate::bench` natively, written into reports/bench.json
//! (its "native" entry, "native_cpu" with `--compute cpu`; the other entries are kept).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::json;

use crate::gpu::Compute;
use crate::manifest::Manifest;
use crate::uncertainty::Request;
use crate::uncertainty::load::{demo_weight_bytes, load_generator};

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The folder with the models and their manifest.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Runs per measurement (the report holds medians).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeats: u32,
    /// The report; its "native" entry is replaced, a "browser" entry (from `./dev.sh bench`) kept.
    #[arg(long, default_value = "reports/bench.json")]
    pub out: PathBuf,
    /// The built wasm (for its size), if there is one.
    #[arg(long, default_value = "dist/pkg/genuq_bg.wasm")]
    pub wasm: PathBuf,
    /// Where to run: our kernels on the wgpu adapter (`webgpu`, the "native" entry), or the
    /// whole pipeline on the CPU path (`cpu`: burn flex and the kernels' Rust twins,
    /// "native_cpu", with `genuq score`'s throughput); `auto` (the default) picks as every
    /// command does.
    #[arg(long, value_enum, default_value_t = Compute::Auto)]
    pub compute: Compute,
    /// With `webgpu`: run the networks on burn's CPU backend (`flex`) and only our kernels on
    /// wgpu ("native_cpu_nets").
    #[arg(long)]
    pub nets_on_cpu: bool,
}

fn gzip_len(bytes: &[u8]) -> std::io::Result<usize> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes)?;
    Ok(e.finish()?.len())
}

/// Generations `genuq score` scores in the benchmark's throughput run (every class, seeds 0, 1).
const SCORE_GENERATIONS: u32 = 20;

/// `genuq score`'s throughput on the CPU path: [`SCORE_GENERATIONS`] lines of `score`
/// ([`super::score::score_line`], serialised) at the shipped sampler, after one of
/// warm-up; generations per second, and per core (divided by the cores the process may use:
/// flex spreads its work over them).
fn score_throughput(
    generator: &crate::uncertainty::Generator,
) -> anyhow::Result<serde_json::Value> {
    let one = |k: u32| -> anyhow::Result<()> {
        let req = Request::new(k as usize % crate::data::NUM_CLASSES, k / 10);
        let line = super::score::score_line(generator, &req)?;
        serde_json::to_string(&line).map(drop).map_err(Into::into)
    };
    one(SCORE_GENERATIONS)?;
    let start = std::time::Instant::now();
    for k in 0..SCORE_GENERATIONS {
        one(k)?;
    }
    let seconds = start.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_s = SCORE_GENERATIONS as f64 / seconds;
    eprintln!(
        "score: {per_s:.2} generations/s on {cores} cores ({:.2} per core)",
        per_s / cores as f64
    );
    let req = Request::new(0, 0); // the shipped sampler, as every line above
    Ok(json!({
        "generations": SCORE_GENERATIONS,
        "generations_per_s": per_s,
        "cores": cores,
        "generations_per_s_per_core": per_s / cores as f64,
        "steps": req.steps,
        "samples": req.samples,
        "perturb": req.perturb,
        "note": "genuq score's loop natively on the CPU path (burn flex and the kernels' Rust twins): generation, scores (u, class space, realism) and PNG per line, after one warm-up; per core = per second / the cores the process may use",
    }))
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    let gpu = crate::gpu::native(args.compute)?;
    let mut generator = load_generator(&args.models, args.compute)?;
    if args.nets_on_cpu {
        generator = generator.with_nets_on(&burn::tensor::Device::flex());
    }
    let req = Request {
        samples: crate::bench::SAMPLES,
        ..Request::new(7, 1)
    };
    pollster::block_on(generator.generate(&req))?;
    let first_result_ms = start.elapsed().as_secs_f64() * 1e3;
    eprintln!(
        "first result after {first_result_ms:.0} ms; measuring ({} repeats) ...",
        args.repeats
    );
    let report = pollster::block_on(crate::bench::run(&generator, args.repeats as usize))?;
    let score = match gpu.adapter.compute.as_str() {
        "cpu" => Some(score_throughput(&generator)?),
        _ => None,
    };
    let adapter = gpu.adapter;
    let wasm = std::fs::read(&args.wasm).ok();
    let gz = wasm.as_deref().map(gzip_len).transpose()?;
    let mut entry = serde_json::to_value(&report)?;
    let extra = json!({
        "adapter": match adapter.compute.as_str() {
            "cpu" => format!("{} ({})", adapter.name, adapter.driver),
            _ => format!("{} ({}){}", adapter.name, adapter.backend, if args.nets_on_cpu { ", networks on the flex CPU backend" } else { "" }),
        },
        "wasm_bytes": wasm.as_ref().map(|w| w.len()),
        "wasm_gzip_bytes": gz,
        "weights_bytes": demo_weight_bytes(&Manifest::read(&args.models)?),
        "first_result_ms": first_result_ms,
        "first_result_note": "native: process start to the first generate() result (load, shader compilation, one generation)",
    });
    if let (Some(e), serde_json::Value::Object(x)) = (entry.as_object_mut(), extra) {
        e.extend(x);
    }
    if let (Some(e), Some(score)) = (entry.as_object_mut(), score) {
        e.insert("score".into(), score);
    }
    println!("{}", serde_json::to_string_pretty(&entry)?);
    let mut all: serde_json::Map<String, serde_json::Value> =
        match std::fs::read_to_string(&args.out) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!("{} is not a JSON object; move it away", args.out.display())
            })?,
            Err(_) => Default::default(),
        };
    let key = match (adapter.compute.as_str(), args.nets_on_cpu) {
        ("cpu", _) => "native_cpu",
        (_, true) => "native_cpu_nets",
        _ => "native",
    };
    all.insert(key.into(), entry);
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&all)? + "\n")?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
