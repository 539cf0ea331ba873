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
    /// "native_cpu"); `auto` picks as `genuq generate` does.
    #[arg(long, value_enum, default_value_t = Compute::WebGpu)]
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
