//! Native tests on the wgpu device (lavapipe here), against CPU references.
#![cfg(not(target_arch = "wasm32"))]

mod checks;

use burn::tensor::Device;
use genuq::data::PIXELS;
use pollster::block_on;

fn gpu() -> Device {
    genuq::gpu::gpu()
        .expect("a wgpu adapter (lavapipe: apt install mesa-vulkan-drivers)")
        .device
}

#[test]
fn rng_bits_match_cpu() {
    block_on(checks::rng_bits_match_cpu(&gpu()));
}

#[test]
fn rng_gaussians_match_cpu() {
    block_on(checks::rng_gaussians_match_cpu(&gpu()));
}

#[test]
fn rng_statistics() {
    block_on(checks::rng_statistics(&gpu()));
}

/// wgpu and burn's CPU backend agree on the smoke UNet, and the CPU backend still gives the
/// fixture that the browser test compares against (`GENUQ_BLESS=1` rewrites it).
#[test]
fn unet_wgpu_matches_cpu_backend() {
    let cpu = block_on(checks::smoke_output(&Device::flex()));
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/unet_smoke.json"
    );
    if std::env::var_os("GENUQ_BLESS").is_some() {
        std::fs::write(path, serde_json::to_string(&cpu).unwrap()).unwrap();
    }
    let wgpu = block_on(checks::smoke_output(&gpu()));
    let spread = cpu.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(
        spread > 0.1,
        "the smoke output is not trivially small ({spread})"
    );
    let d = checks::max_abs_diff(&wgpu, &cpu);
    assert!(d < 1e-4, "wgpu vs CPU backend: max |diff| = {d:e}");
    let d = checks::max_abs_diff(&cpu, &checks::smoke_reference());
    assert!(
        d < 1e-5,
        "CPU backend vs fixture: max |diff| = {d:e} (rerun with GENUQ_BLESS=1?)"
    );
}

#[test]
fn perturbed_head_matches_reference() {
    block_on(checks::perturbed_head_matches_reference(&gpu()));
}

#[test]
fn moments_match_reference() {
    block_on(checks::moments_match_reference(&gpu()));
}

#[test]
fn semantic_entropy_matches_reference() {
    block_on(checks::semantic_entropy_matches_reference(&gpu()));
}

#[test]
fn colormap_matches_reference() {
    block_on(checks::colormap_matches_reference(&gpu()));
}

/// The class-space scores on wgpu and on the CPU path against the f64 reference.
#[test]
fn class_scores_match_reference() {
    block_on(checks::class_scores_match_reference(&gpu()));
    block_on(checks::class_scores_match_reference(&Device::flex()));
}

#[test]
fn fused_head_matches_materialised_weights() {
    block_on(checks::fused_head_matches_materialised_weights(&gpu()));
}

#[test]
fn sampled_variance_converges_to_exact() {
    block_on(checks::sampled_variance_converges_to_exact(&gpu()));
}

/// A real generation from the committed models on lavapipe; `GENUQ_BLESS=1` rewrites the
/// fixture the browser test compares against.
#[test]
fn demo_generation_is_consistent_and_matches_fixture() {
    let g = checks::demo_generator(&gpu());
    let out = block_on(checks::generation_is_consistent(&g));
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/generation.json"
    );
    if std::env::var_os("GENUQ_BLESS").is_some() {
        let json =
            serde_json::json!({"request": "sneaker, seed 42, M 8", "u": out.u, "image": out.image});
        std::fs::write(path, serde_json::to_string(&json).unwrap() + "\n").unwrap();
    }
    checks::matches_native_generation(&out, 1e-5, 1e-4);
}

#[test]
fn trajectories_match_naive() {
    let g = checks::demo_generator(&gpu());
    block_on(checks::trajectories_match_naive(&g));
}

/// The networks on burn's CPU backend with our kernels on wgpu give the same generation.
#[test]
fn networks_on_cpu_backend_match_wgpu() {
    let g = checks::demo_generator(&gpu());
    let a = block_on(g.generate(&checks::SNEAKER_42)).unwrap();
    let b = block_on(
        g.with_nets_on(&Device::flex())
            .generate(&checks::SNEAKER_42),
    )
    .unwrap();
    let d = checks::max_abs_diff(&a.image, &b.image);
    assert!(d < 1e-4, "image: max |diff| = {d:e}");
    assert!((a.u - b.u).abs() < 1e-2, "u {} vs {}", a.u, b.u);
}

/// The CPU path (the whole pipeline on burn flex, the kernels' Rust twins) agrees with the
/// wgpu path (lavapipe) on real generations: within 1e-5 per step (measured: at most 2.7e-6 at
/// any step count).
#[test]
fn cpu_path_matches_wgpu() {
    let webgpu = checks::demo_generator(&gpu());
    let cpu = checks::demo_generator(&Device::flex());
    let diffs = block_on(checks::cpu_path_matches_webgpu(&webgpu, &cpu, 1e-5, 1e-5));
    eprintln!("CPU vs wgpu, per request (images, embeddings, relative u): {diffs:?}");
}

/// The kernels' Rust twins on the CPU path against the same f64 references and closed forms
/// as the WGSL.
#[test]
fn cpu_twins_match_references() {
    let cpu = Device::flex();
    block_on(checks::rng_bits_match_cpu(&cpu));
    block_on(checks::rng_gaussians_match_cpu(&cpu));
    block_on(checks::perturbed_head_matches_reference(&cpu));
    block_on(checks::moments_match_reference(&cpu));
    block_on(checks::semantic_entropy_matches_reference(&cpu));
    block_on(checks::colormap_matches_reference(&cpu));
    block_on(checks::sampled_variance_converges_to_exact(&cpu));
}

/// On the CPU path too, the fused trajectories (one grouped convolution per step) equal M + 1
/// separate samplers with weight copies.
#[test]
fn cpu_trajectories_match_naive() {
    let g = checks::demo_generator(&Device::flex());
    block_on(checks::trajectories_match_naive(&g));
}

/// A batch of generations equals the same generations made one at a time, for every
/// placement of the weight samples.
#[test]
fn batched_images_equal_single() {
    use genuq::uncertainty::Perturb;
    let g = checks::demo_generator(&gpu());
    let (classes, seeds) = ([0, 5, 9], [1, 2, 3]);
    for perturb in Perturb::ALL {
        let images = |b: std::ops::Range<usize>| {
            let t = g.trajectories(&classes[b.clone()], &seeds[b], 5, 11, 2, perturb);
            checks::floats_sync(t.unwrap().images)
        };
        let all = images(0..3);
        for b in 0..3 {
            let one = images(b..b + 1);
            let d = checks::max_abs_diff(&all[b * 5 * PIXELS..(b + 1) * 5 * PIXELS], &one);
            assert!(d < 1e-5, "{perturb:?}, generation {b}: max |diff| = {d:e}");
        }
    }
}

/// 1,000 generations in a row: the live GPU allocations stay flat and it does not slow down
/// (median of the last hundred under 3x that of the first hundred: a ratio in one run, generous
/// for a noisy machine).
#[test]
fn thousand_generations_hold_memory_flat() {
    let device = gpu();
    let g = checks::demo_generator(&device);
    let req = |seed| genuq::uncertainty::Request {
        seed,
        samples: 2,
        ..checks::SNEAKER_42
    };
    let mut allocs = Vec::new();
    let mut times = Vec::new();
    for i in 0..1000u32 {
        let t = std::time::Instant::now();
        block_on(g.generate(&req(i))).unwrap();
        times.push(t.elapsed().as_secs_f64());
        if i % 100 == 99 {
            allocs.push(
                device
                    .memory_pool_usage()
                    .expect("wgpu reports its pools")
                    .number_allocs,
            );
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (first, last) = (median(&times[..100]), median(&times[900..]));
    eprintln!(
        "live allocations every 100 generations: {allocs:?}; median ms first/last 100: {:.1}/{:.1}",
        first * 1e3,
        last * 1e3
    );
    // The pools may settle by an allocation or two after the first hundred; a leak of even one
    // allocation per hundred generations would add 8 over the last 800.
    let growth = allocs[1..].iter().max().unwrap() - allocs[1];
    assert!(growth < 8, "live allocations grow: {allocs:?}");
    assert!(
        last < 3.0 * first,
        "slowdown: {first:.4} s -> {last:.4} s per generation"
    );
}

mod fuzz {
    //! The loaders under truncated, bit-flipped, wrong-shape and garbage input: always a clear
    //! error (or, for flipped tensor bytes that still parse, a model the manifest then rejects),
    //! never a panic.

    use std::collections::HashMap;

    use burn::tensor::Device;
    use genuq::manifest::STUDENT;
    use genuq::model::UNetConfig;
    use genuq::uncertainty::Generator;
    use proptest::prelude::*;

    fn student() -> Vec<u8> {
        super::checks::demo_files().1[STUDENT].clone()
    }

    fn from_files(name: &str, bytes: Vec<u8>) -> Result<Generator, genuq::Error> {
        let (manifest, mut files) = super::checks::demo_files();
        files.insert(name.to_string(), bytes);
        Generator::from_files(&manifest, &files, &Device::flex())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn truncated_weights_are_errors(keep in 0usize..1000, tail in any::<bool>()) {
            let bytes = student();
            // anywhere in the header, or anywhere in the data
            let len = if tail { bytes.len() * keep / 1000 } else { keep.min(bytes.len() - 1) };
            let cut = bytes[..len].to_vec();
            prop_assert!(genuq::store::load(UNetConfig::new().init(&Device::flex()), cut.clone(), "student").is_err());
            let err = from_files(STUDENT, cut).unwrap_err().to_string();
            prop_assert!(err.contains("truncated"), "{}", err);
        }

        #[test]
        fn flipped_bits_never_panic_and_fail_the_manifest(at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let mut bytes = student();
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
            // the raw loader may accept a flipped float, but must not panic
            let _ = genuq::store::load(UNetConfig::new().init(&Device::flex()), bytes.clone(), "student");
            let err = from_files(STUDENT, bytes).unwrap_err().to_string();
            prop_assert!(err.contains("sha256"), "{}", err);
        }

        #[test]
        fn flipped_header_bytes_never_panic(at in 0usize..2000, byte in any::<u8>()) {
            let mut bytes = student();
            let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize + 8;
            bytes[at % header] = byte;
            let _ = genuq::store::load(UNetConfig::new().init(&Device::flex()), bytes, "student");
        }

        /// Text that is not JSON is an error naming the file, from every parser of a model file.
        #[test]
        fn garbage_json_is_an_error(text in ".{0,200}") {
            prop_assume!(serde_json::from_str::<serde_json::Value>(&text).is_err());
            for err in parse_all(&text) {
                prop_assert!(err.is_some(), "{:?} was accepted", text);
            }
        }
    }

    /// Each parser's error for `text` (`None`: it was accepted), checking that it names its file.
    fn parse_all(text: &str) -> Vec<Option<String>> {
        let layout = genuq::posterior::head::Layout { channels: 16 };
        let errors = [
            genuq::manifest::Manifest::parse(text)
                .err()
                .map(|e| ("manifest.json", e)),
            genuq::posterior::Posterior::parse(text, layout)
                .err()
                .map(|e| ("posterior.json", e)),
            genuq::uncertainty::ReferenceTable::parse(text)
                .err()
                .map(|e| ("reference_u.json", e)),
        ];
        errors
            .into_iter()
            .map(|e| {
                e.map(|(file, e)| {
                    let e = e.to_string();
                    assert!(e.contains(file), "{e} does not name {file}");
                    e
                })
            })
            .collect()
    }

    /// JSON of the wrong shape is an error too, for every parser.
    #[test]
    fn wrong_json_is_an_error() {
        for text in [
            "{}",
            "[]",
            "null",
            "3",
            "{\"files\": 3}",
            "{\"weight_std\": [1.0]}",
            "{\"quantiles\": []}",
        ] {
            for err in parse_all(text) {
                assert!(err.is_some(), "{text} was accepted");
            }
        }
    }

    /// Weights of another architecture (wrong shapes) and of another model are named errors.
    #[test]
    fn wrong_shapes_are_errors() {
        let small = UNetConfig::new()
            .with_channels([8, 16, 32])
            .init(&Device::flex());
        let bytes = genuq::store::save(&small).unwrap();
        let err = genuq::store::load(UNetConfig::new().init(&Device::flex()), bytes, "student")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("student") && err.to_lowercase().contains("shape"),
            "{err}"
        );
        let clip = super::checks::demo_files().1["clip_image.safetensors"].clone();
        let err = genuq::store::load(UNetConfig::new().init(&Device::flex()), clip, "student")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing tensors") || err.contains("unexpected"),
            "{err}"
        );
        let files: HashMap<String, Vec<u8>> = HashMap::new();
        let (manifest, _) = super::checks::demo_files();
        let err = Generator::from_files(&manifest, &files, &Device::flex()).unwrap_err();
        assert!(err.to_string().contains("was not loaded"), "{err}");
    }
}

/// The trainers also run on the wgpu adapter (`--backend wgpu`): two teacher steps on lavapipe.
/// (Here, not in train.rs: the wgpu runtime wants one owner per process, `genuq::gpu`.)
#[test]
fn teacher_trains_on_wgpu() {
    use genuq::train::{self, Backend, RunDirs};
    let dir = std::env::temp_dir().join(format!("genuq-wgpu-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = train::TrainConfig {
        steps: 2,
        batch: 8,
        seed: 1,
        limit: Some(64),
        backend: Backend::Wgpu,
        ..train::teacher::config()
    };
    let dirs = RunDirs {
        runs: dir.join("runs"),
        out: dir.join("models"),
        checkpoint_minutes: 0.0,
    };
    gpu();
    train::teacher::train(&config, &dirs).unwrap();
    let text = std::fs::read_to_string(dir.join("runs/teacher/state.json")).unwrap();
    let state: train::RunState = serde_json::from_str(&text).unwrap();
    assert_eq!(state.losses.len(), 2);
    assert!(state.losses.iter().all(|(_, l)| l.is_finite()));
}

/// The teacher control's perturbed Heun sampler (every trajectory of a batch in one trunk
/// pass, each block of rows with its own weight sample) equals the paper's way: the plain
/// guided Heun sampler on a copy of the network whose last layer holds weight sample m
/// (m = 0: the MAP), for each generation and each m.
#[test]
fn teacher_images_match_heun_with_materialised_weights() {
    use burn::module::Param;
    use burn::tensor::{Int, Tensor};
    use genuq::diffusion::flow::sample_heun;
    use genuq::eval::teacher::Teacher;
    use genuq::posterior::Posterior;
    let device = Device::flex();
    let g = checks::demo_generator(&device);
    let (_, files) = checks::demo_files();
    let text = std::str::from_utf8(&files[genuq::manifest::POSTERIOR]).unwrap();
    let posterior = Posterior::parse(text, g.head.layout).unwrap();
    let (steps, guidance, samples, seed) = (2, 1.5, 3, 11);
    let teacher = Teacher::new(g.student.clone(), posterior, steps, guidance).unwrap();
    let classes = [3usize, 7];
    let z = Tensor::cat(vec![g.noise(5).unwrap(), g.noise(6).unwrap()], 0);
    let fused = checks::floats_sync(teacher.images(z.clone(), &classes, samples, seed));
    let class = Tensor::<1, Int>::from_ints([3, 7], &device);
    for m in 0..samples {
        let (w, b) = teacher.head.sample(m, seed);
        let mut copy = g.student.clone();
        copy.conv_out.weight = Param::from_tensor(w);
        copy.conv_out.bias = Some(Param::from_tensor(b));
        let naive = sample_heun(&copy, z.clone(), class.clone(), steps, guidance).clamp(-1.0, 1.0);
        let naive = checks::floats_sync(naive);
        for (i, one) in naive.chunks(PIXELS).enumerate() {
            let at = (i * samples + m) * PIXELS;
            let d = checks::max_abs_diff(&fused[at..at + PIXELS], one);
            assert!(
                d < 1e-4,
                "generation {i}, weight sample {m}: max |diff| {d:e}"
            );
        }
    }
    let spread = checks::max_abs_diff(&fused[..PIXELS], &fused[PIXELS..2 * PIXELS]);
    assert!(
        spread > 1e-4,
        "the weight samples move the image ({spread:e})"
    );
}
