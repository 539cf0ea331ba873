//! Checks of whole generations from the committed demo models, on either compute path: shared
//! by `native.rs` and `web.rs` like the kernel checks in `mod.rs`.

use burn::tensor::Device;
use genuq::data::PIXELS;

use super::{assert_close, floats, max_abs_diff};

/// The committed demo models, as bytes (what the browser downloads), and their manifest.
pub fn demo_files() -> (
    genuq::manifest::Manifest,
    std::collections::HashMap<String, Vec<u8>>,
) {
    use genuq::manifest::{
        CLASS_TEXT, CLIP_IMAGE, ENCODER, POSTERIOR, REAL_CODES, REFERENCE, STUDENT,
    };
    let manifest =
        genuq::manifest::Manifest::parse(include_str!("../../models/manifest.json")).unwrap();
    let files = [
        (
            STUDENT,
            include_bytes!("../../models/student.safetensors").to_vec(),
        ),
        (
            CLIP_IMAGE,
            include_bytes!("../../models/clip_image.safetensors").to_vec(),
        ),
        (
            POSTERIOR,
            include_bytes!("../../models/posterior.json").to_vec(),
        ),
        (
            REFERENCE,
            include_bytes!("../../models/reference_u.json").to_vec(),
        ),
        (
            CLASS_TEXT,
            include_bytes!("../../models/class_text.json").to_vec(),
        ),
        (
            ENCODER,
            include_bytes!("../../models/encoder.safetensors").to_vec(),
        ),
        (
            REAL_CODES,
            include_bytes!("../../models/real_codes.safetensors").to_vec(),
        ),
    ];
    (
        manifest,
        files.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    )
}

pub fn demo_generator(device: &Device) -> genuq::uncertainty::Generator {
    let (manifest, files) = demo_files();
    genuq::uncertainty::Generator::from_files(&manifest, &files, device).unwrap()
}

pub const SNEAKER_42: genuq::uncertainty::Request = genuq::uncertainty::Request {
    class: 7,
    seed: 42,
    samples: 8,
    steps: 1,
    perturb: genuq::uncertainty::Perturb::All,
};

/// One real generation: bit-identical when repeated; u equals the f64 formula on the returned
/// embeddings; the heatmap's variance equals the f64 moments of the returned images; bad
/// requests are errors.
pub async fn generation_is_consistent(
    g: &genuq::uncertainty::Generator,
) -> genuq::uncertainty::Generation {
    use genuq::uncertainty::Request;
    let a = g.generate(&SNEAKER_42).await.unwrap();
    let b = g.generate(&SNEAKER_42).await.unwrap();
    assert!(
        a.image == b.image && a.samples == b.samples,
        "same request, same images"
    );
    assert_eq!(a.u.to_bits(), b.u.to_bits(), "same request, same u");
    let s = SNEAKER_42.samples + 1;
    let d = a.embeddings.len() / s;
    let u = super::entropy_f64(&a.embeddings, s, d);
    assert!((a.u as f64 - u).abs() < 1e-3, "u {} vs f64 {u}", a.u);
    let images: Vec<f32> = a.image.iter().chain(&a.samples).copied().collect();
    let (_, var) = super::moments_f64(&images, [1, s, PIXELS]);
    assert_close(&a.variance, &var, 1e-6, "heatmap variance");
    assert!(a.heatmap.len() == 4096 && a.image.iter().all(|v| (-1.0..=1.0).contains(v)));
    let spread = var.iter().cloned().fold(0.0, f64::max);
    assert!(
        spread > 1e-5,
        "the weight samples move the image (max var {spread:e})"
    );
    class_space_is_consistent(g, &a, s, d);
    realism_is_consistent(g, &a).await;
    let other = g
        .generate(&Request {
            seed: 43,
            ..SNEAKER_42
        })
        .await
        .unwrap();
    assert!(other.u != a.u && other.image != a.image);
    for bad in [
        Request {
            class: 10,
            ..SNEAKER_42
        },
        Request {
            samples: 0,
            ..SNEAKER_42
        },
        Request {
            samples: 33,
            ..SNEAKER_42
        },
        Request {
            steps: 3,
            ..SNEAKER_42
        },
    ] {
        let err = g.generate(&bad).await.unwrap_err();
        assert!(
            matches!(err, genuq::Error::InvalidInput(_)),
            "{bad:?}: {err}"
        );
    }
    a
}

/// The realism score equals an f64 brute force written apart from the crate's search: the
/// mean Euclidean distance of the MAP image's embedding to its 5 nearest real embeddings.
async fn realism_is_consistent(
    g: &genuq::uncertainty::Generator,
    a: &genuq::uncertainty::Generation,
) {
    use burn::tensor::{Tensor, TensorData};
    let r = g
        .realism
        .as_ref()
        .expect("the demo models have the encoder");
    let side = genuq::data::IMAGE_SIZE;
    let image = Tensor::<4>::from_data(
        TensorData::new(a.image.clone(), [1, 1, side, side]),
        &g.nets,
    );
    let code = floats(r.embed(image)).await;
    let (bank, d) = r.bank();
    assert_eq!((d, bank.len() % d, code.len()), (64, 0, 64));
    let mut dist: Vec<f64> = bank
        .chunks(d)
        .map(|row| {
            row.iter()
                .zip(&code)
                .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    dist.sort_by(f64::total_cmp);
    let want = dist[..5].iter().sum::<f64>() / 5.0;
    let got = a.realism.expect("a realism score") as f64;
    assert!(
        (got - want).abs() < 1e-3 * want,
        "realism {got} vs f64 {want}"
    );
    let shipped = a.shipped.expect("the shipped score");
    assert_eq!(shipped.score, genuq::uncertainty::ScoreName::Realism);
    assert_eq!(shipped.value, a.realism.unwrap());
}

/// A generation's class-space scores equal the f64 reference on its returned embeddings, and
/// the demo models' reference table gives it percentiles of u and of the shipped score (a
/// percentile read off the table's own quantiles: between 0 and 100).
fn class_space_is_consistent(
    g: &genuq::uncertainty::Generator,
    a: &genuq::uncertainty::Generation,
    s: usize,
    d: usize,
) {
    let text = g
        .class_text
        .as_ref()
        .expect("the demo models have class_text.json");
    let flat: Vec<f32> = text.embeddings.iter().flatten().copied().collect();
    let want =
        super::class_scores_reference(&a.embeddings, d, &flat, text.scale as f64, SNEAKER_42.class);
    let c = a.class_space.expect("class-space scores");
    let got = [c.bald, c.entropy, c.probability, c.predictive];
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (*g as f64 - w).abs() < 1e-4,
            "class score {k}: {g} vs f64 {w}"
        );
    }
    assert_eq!(a.embeddings.len(), s * d);
    let p = a
        .percentile
        .expect("the reference table covers this generation's sampler");
    assert!((0.0..=100.0).contains(&p), "percentile {p}");
    let shipped = a.shipped.expect("the shipped score");
    let value = a.score(shipped.score).unwrap();
    assert_eq!(shipped.value, value);
    let key = genuq::uncertainty::reference::Key {
        score: shipped.score,
        ..SNEAKER_42.reference_key()
    };
    let q = &g
        .reference
        .nearest(&key)
        .expect("a table of the shipped score")
        .quantiles;
    let below = q.iter().filter(|&&v| v < value).count() as f32 / (q.len() - 1) as f32 * 100.0;
    let pct = shipped.percentile.unwrap();
    assert!(
        (pct - below).abs() <= 100.0 / (q.len() - 1) as f32 + 1e-3,
        "{pct} vs {below}"
    );
}

/// The fused trajectories (one batch through the trunk, the perturbed_head kernel per
/// trajectory) equal the paper's way, M + 1 separate samplers with materialised weight copies,
/// for every step count and placement of the weight samples; with one step every placement is
/// the same sampler.
pub async fn trajectories_match_naive(g: &genuq::uncertainty::Generator) {
    use genuq::uncertainty::Perturb;
    let (class, seed, samples) = (5, 11, 3);
    let mut one_step = Vec::new();
    for steps in genuq::uncertainty::STEPS {
        for perturb in Perturb::ALL {
            let fused = g
                .trajectories(&[class], &[seed], samples, seed, steps, perturb)
                .unwrap();
            let fused = floats(fused.images).await;
            let naive = floats(
                g.naive_images(class, seed, samples, seed, steps, perturb)
                    .unwrap(),
            )
            .await;
            let d = max_abs_diff(&fused, &naive);
            assert!(
                d < 1e-4,
                "{steps} steps, {perturb:?}: fused vs naive max |diff| = {d:e}"
            );
            let spread = max_abs_diff(&fused[..PIXELS], &fused[PIXELS..2 * PIXELS]);
            assert!(
                spread > 1e-4,
                "{steps} steps, {perturb:?}: the samples move the image"
            );
            if steps == 1 {
                one_step.push(fused);
            }
        }
    }
    assert!(
        one_step.windows(2).all(|w| w[0] == w[1]),
        "one step: one sampler"
    );
}

/// The generation matches the one blessed natively (lavapipe) in `fixtures/generation.json`:
/// the image within `image_tol`, u within `u_tol`.
pub fn matches_native_generation(g: &genuq::uncertainty::Generation, image_tol: f32, u_tol: f64) {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/generation.json")).unwrap();
    let image: Vec<f64> = serde_json::from_value(fixture["image"].clone()).unwrap();
    let d = max_abs_diff(
        &g.image,
        &image.iter().map(|&v| v as f32).collect::<Vec<_>>(),
    );
    assert!(d < image_tol, "image vs native: max |diff| = {d:e}");
    let u = fixture["u"].as_f64().unwrap();
    assert!((g.u as f64 - u).abs() < u_tol, "u {} vs native {u}", g.u);
}

/// The requests the two compute paths are compared on: several classes, seeds, M, step counts
/// and placements of the weight samples.
pub const AGREEMENT: [genuq::uncertainty::Request; 4] = {
    use genuq::uncertainty::{Perturb, Request};
    [
        SNEAKER_42,
        Request {
            class: 0,
            seed: 1,
            samples: 2,
            steps: 2,
            perturb: Perturb::All,
        },
        Request {
            class: 8,
            seed: 123_456,
            samples: 5,
            steps: 4,
            perturb: Perturb::First,
        },
        Request {
            class: 3,
            seed: 4_000_000_000,
            samples: 16,
            steps: 4,
            perturb: Perturb::Last,
        },
    ]
};

/// The CPU path (burn flex and the kernels' Rust twins) gives the WebGPU path's generation:
/// images and embeddings within `one_step` for one step and `per_step * steps` for more (each
/// Euler step adds the two adapters' rounding), u within 1e-4 of its size, the heatmap's colours
/// within one level. Returns, per request, the differences (images, embeddings, relative u).
pub async fn cpu_path_matches_webgpu(
    webgpu: &genuq::uncertainty::Generator,
    cpu: &genuq::uncertainty::Generator,
    one_step: f32,
    per_step: f32,
) -> Vec<[f32; 3]> {
    let mut diffs = Vec::new();
    for req in AGREEMENT {
        let a = webgpu.generate(&req).await.unwrap();
        let b = cpu.generate(&req).await.unwrap();
        let images = |g: &genuq::uncertainty::Generation| -> Vec<f32> {
            g.image.iter().chain(&g.samples).copied().collect()
        };
        let d_images = max_abs_diff(&images(&a), &images(&b));
        let d_emb = max_abs_diff(&a.embeddings, &b.embeddings);
        let d_u = (a.u - b.u).abs() / a.u.abs().max(1.0);
        let d_rgba = a
            .heatmap
            .iter()
            .zip(&b.heatmap)
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap();
        let bound = match req.steps {
            1 => one_step,
            steps => per_step * steps as f32,
        };
        let what = format!(
            "{req:?}: max |diff| images {d_images:e}, embeddings {d_emb:e}, relative u {d_u:e} \
             ({} vs {}), heatmap {d_rgba} levels",
            a.u, b.u
        );
        assert!(
            d_images < bound && d_emb < bound,
            "{what} (bound {bound:e})"
        );
        assert!(d_u < 1e-4 && d_rgba <= 1, "{what}");
        // the same u (within 1e-4 relative) ranks the same within the class's table: the
        // percentiles (interpolated between quantiles) within 2 points
        match (a.percentile, b.percentile) {
            (Some(p), Some(q)) => assert!((p - q).abs() <= 2.0, "{what}: percentiles {p} vs {q}"),
            (p, q) => assert_eq!(
                p.is_some(),
                q.is_some(),
                "{what}: percentiles {p:?} vs {q:?}"
            ),
        }
        diffs.push([d_images, d_emb, d_u]);
    }
    diffs
}
