//! The native commands that use the uncertainty core: `fit-laplace`, `generate`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::data;
use crate::manifest::Manifest;
use crate::posterior::fit;
use crate::uncertainty::load::{OPTIONAL, POSTERIOR, REQUIRED};
use crate::uncertainty::{Generator, Request, STUDENT_STEPS};

fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join("manifest.json");
    let text =
        std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(Manifest::parse(&text)?)
}

/// Loads the generator's files from `dir` (checked against its manifest) onto the wgpu device.
pub fn load_generator(dir: &Path) -> anyhow::Result<Generator> {
    let manifest = read_manifest(dir)?;
    let mut files = HashMap::new();
    let optional = OPTIONAL.into_iter().filter(|n| manifest.entry(n).is_ok());
    for name in REQUIRED.into_iter().chain(optional) {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        files.insert(name.to_string(), bytes);
    }
    let gpu = crate::gpu::gpu()?;
    Ok(Generator::from_files(&manifest, &files, &gpu.device)?)
}

#[derive(Debug, Clone, clap::Args)]
pub struct FitArgs {
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Where the student's teacher pairs are (from `genuq train student`).
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
    /// Training examples to sum the curvature over (the paper: >= 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub examples: usize,
    #[arg(long, default_value_t = 1.0)]
    pub prior_precision: f64,
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
}

pub fn fit_laplace(args: &FitArgs) -> anyhow::Result<()> {
    let device = burn::tensor::Device::flex();
    let student = crate::train::student::load_unet(&args.models, "student.safetensors", &device)?;
    let pairs =
        crate::train::student::read_pairs(&args.runs.join("student/pairs.bin"), args.examples)?;
    anyhow::ensure!(
        pairs.len() >= args.examples.min(10_000),
        "only {} teacher pairs cached",
        pairs.len()
    );
    let posterior = fit::fit(
        &student,
        pairs.batches(100),
        pairs.len(),
        args.prior_precision,
        args.temperature,
        &device,
    );
    let text = serde_json::to_string_pretty(&posterior)? + "\n";
    std::fs::write(args.models.join(POSTERIOR), &text)?;
    let mut manifest = read_manifest(&args.models).unwrap_or_default();
    manifest.record(
        POSTERIOR,
        text.as_bytes(),
        "diagonal Laplace posterior of the student's conv_out (std per weight and bias)",
    );
    std::fs::write(
        args.models.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    let mean = posterior.weight_std.iter().sum::<f32>() / posterior.weight_std.len() as f32;
    eprintln!(
        "posterior over {} examples: mean weight std {mean:.4e}, bias std {:.4e}",
        posterior.examples, posterior.bias_std
    );
    Ok(())
}

#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Class name (t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle-boot) or 0-9.
    #[arg(long)]
    pub class: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u32,
    /// M, the weight samples besides the MAP (1-32).
    #[arg(long, default_value_t = 8)]
    pub samples: usize,
    #[arg(long, default_value_t = STUDENT_STEPS)]
    pub steps: usize,
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Also write heatmap_exact.png: the closed-form variance (no sampling).
    #[arg(long)]
    pub exact: bool,
}

fn save_gray(path: &Path, pixels: &[f32]) -> anyhow::Result<()> {
    let bytes: Vec<u8> = pixels
        .iter()
        .map(|v| ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8)
        .collect();
    image::GrayImage::from_raw(32, 32, bytes)
        .expect("32x32")
        .save(path)?;
    Ok(())
}

pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let class = data::class_index(&args.class).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown class {:?}; use one of {}",
            args.class,
            data::CLASS_NAMES.join(", ")
        )
    })?;
    let req = Request {
        class,
        seed: args.seed,
        samples: args.samples,
        steps: args.steps,
    };
    req.validate()?;
    let generator = load_generator(&args.models)?;
    let g = pollster::block_on(generator.generate(&req))?;
    std::fs::create_dir_all(&args.out)?;
    save_gray(&args.out.join("image.png"), &g.image)?;
    image::RgbaImage::from_raw(32, 32, g.heatmap.clone())
        .expect("32x32")
        .save(args.out.join("heatmap.png"))?;
    if args.exact {
        let (_, rgba) = pollster::block_on(generator.exact_heatmap(&req))?;
        image::RgbaImage::from_raw(32, 32, rgba)
            .expect("32x32")
            .save(args.out.join("heatmap_exact.png"))?;
    }
    for (m, s) in g.samples.chunks(1024).enumerate() {
        save_gray(&args.out.join(format!("sample_{:02}.png", m + 1)), s)?;
    }
    let d = g.embeddings.len() / (args.samples + 1);
    let result = json!({
        "class": data::CLASS_NAMES[class], "seed": args.seed, "samples": args.samples, "steps": args.steps,
        "u": g.u, "percentile": g.percentile,
        "embeddings": g.embeddings.chunks(d).collect::<Vec<_>>(),
        "timings_ms": g.timings,
        "formula": "u = 0.5 * sum_d log(v_d + 1e-3) + 0.5 * D * (log(2 pi) + 1), v_d = unbiased variance over the M+1 embeddings (MAP first)",
    });
    std::fs::write(
        args.out.join("result.json"),
        serde_json::to_string_pretty(&result)? + "\n",
    )?;
    println!(
        "u = {:.3}{}  ->  {}",
        g.u,
        g.percentile
            .map(|p| format!(" (more uncertain than {p:.0}% of reference generations)"))
            .unwrap_or_default(),
        args.out.display()
    );
    Ok(())
}

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Runs per measurement (the report holds medians).
    #[arg(long, default_value_t = 10)]
    pub repeats: usize,
    /// The report; its "native" entry is replaced, a "browser" entry (from `./dev.sh bench`) kept.
    #[arg(long, default_value = "reports/bench.json")]
    pub out: PathBuf,
    /// The built wasm (for its size), if there is one.
    #[arg(long, default_value = "dist/pkg/genuq_bg.wasm")]
    pub wasm: PathBuf,
    /// Run the networks on burn's CPU backend (`flex`) and only our kernels on wgpu.
    #[arg(long)]
    pub nets_on_cpu: bool,
}

/// Bytes of the model files the demo downloads.
pub fn demo_weight_bytes(manifest: &Manifest) -> u64 {
    REQUIRED
        .iter()
        .chain(OPTIONAL.iter())
        .filter_map(|n| manifest.entry(n).ok())
        .map(|f| f.bytes)
        .sum()
}

pub fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    let mut generator = load_generator(&args.models)?;
    if args.nets_on_cpu {
        generator = generator.with_nets_on(&burn::tensor::Device::flex());
    }
    let req = Request {
        class: 7,
        seed: 1,
        samples: crate::bench::SAMPLES,
        steps: STUDENT_STEPS,
    };
    pollster::block_on(generator.generate(&req))?;
    let first_result_ms = start.elapsed().as_secs_f64() * 1e3;
    eprintln!(
        "first result after {first_result_ms:.0} ms; measuring ({} repeats) ...",
        args.repeats
    );
    let report = pollster::block_on(crate::bench::run(&generator, args.repeats.max(1)))?;
    let adapter = crate::gpu::gpu()?.adapter;
    let wasm = std::fs::read(&args.wasm).ok();
    let gz = wasm.as_ref().map(|w| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(w).expect("in memory");
        e.finish().expect("in memory").len()
    });
    let mut entry = serde_json::to_value(&report)?;
    let extra = json!({
        "adapter": format!("{} ({}){}", adapter.name, adapter.backend, if args.nets_on_cpu { ", networks on the flex CPU backend" } else { "" }),
        "wasm_bytes": wasm.as_ref().map(|w| w.len()),
        "wasm_gzip_bytes": gz,
        "weights_bytes": demo_weight_bytes(&read_manifest(&args.models)?),
        "first_result_ms": first_result_ms,
        "first_result_note": "native: process start to the first generate() result (load, shader compilation, one generation)",
    });
    if let (Some(e), serde_json::Value::Object(x)) = (entry.as_object_mut(), extra) {
        e.extend(x);
    }
    println!("{}", serde_json::to_string_pretty(&entry)?);
    let mut all: serde_json::Map<String, serde_json::Value> = std::fs::read_to_string(&args.out)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    all.insert(
        if args.nets_on_cpu {
            "native_cpu_nets"
        } else {
            "native"
        }
        .into(),
        entry,
    );
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&all)? + "\n")?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
