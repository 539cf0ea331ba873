//! Native tests on the wgpu device (lavapipe here), against CPU references.
#![cfg(not(target_arch = "wasm32"))]

mod checks;

use burn::tensor::Device;
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

#[test]
fn fused_head_matches_materialised_weights() {
    block_on(checks::fused_head_matches_materialised_weights(&gpu()));
}

#[test]
fn sampled_variance_converges_to_exact() {
    block_on(checks::sampled_variance_converges_to_exact(&gpu()));
}
