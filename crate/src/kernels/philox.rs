//! CPU twin of `shaders/philox.wgsl`: Philox4x32-10 and Box-Muller, word for word.
//!
//! The GPU kernels draw their noise from the WGSL version; this one is the reference the
//! tests compare against, and the source of noise wherever the CPU needs the same numbers.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Philox4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let [mut c0, mut c1, mut c2, mut c3] = counter;
    let [mut k0, mut k1] = key;
    for round in 0..10 {
        if round > 0 {
            k0 = k0.wrapping_add(W0);
            k1 = k1.wrapping_add(W1);
        }
        let p0 = u64::from(M0) * u64::from(c0);
        let p1 = u64::from(M1) * u64::from(c2);
        (c0, c1, c2, c3) = (
            (p1 >> 32) as u32 ^ c1 ^ k0,
            p1 as u32,
            (p0 >> 32) as u32 ^ c3 ^ k1,
            p0 as u32,
        );
    }
    [c0, c1, c2, c3]
}

/// The four raw words of block `block` of stream `stream`.
pub fn philox_block(seed: u32, stream: u32, block: u32) -> [u32; 4] {
    philox4x32_10([block, stream, 0, 0], [seed, 0])
}

/// Two standard normals from two words, in f64 (the reference precision).
pub fn box_muller(a: u32, b: u32) -> [f64; 2] {
    const ULP: f64 = 1.0 / (1u64 << 24) as f64;
    let u1 = ((a >> 8) as f64 + 1.0) * ULP;
    let angle = (((b >> 8) as f64) * ULP * 2.0 - 1.0) * std::f64::consts::PI;
    let r = (-2.0 * u1.ln()).sqrt();
    [r * angle.cos(), r * angle.sin()]
}

/// The `index`-th standard normal of stream `stream`, as the GPU's `gaussian()`.
pub fn gaussian(seed: u32, stream: u32, index: u32) -> f64 {
    let w = philox_block(seed, stream, index >> 2);
    let lane = (index & 3) as usize;
    box_muller(w[lane & 2], w[(lane & 2) + 1])[lane & 1]
}

/// `len` normals of one stream, as `shaders/rng.wgsl` writes them.
pub fn gaussians(seed: u32, stream: u32, len: usize) -> Vec<f64> {
    (0..len as u32).map(|i| gaussian(seed, stream, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer vectors of the Random123 distribution (kat_vectors, philox4x32_10).
    #[test]
    fn random123_known_answers() {
        assert_eq!(
            philox4x32_10([0; 4], [0; 2]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn box_muller_bounds() {
        let [z0, z1] = box_muller(u32::MAX, 0);
        assert!(z0.abs() < 1e-3 && z1.abs() < 1e-3, "u1 = 1 gives r ~ 0");
        let [z0, _] = box_muller(0, 1 << 31);
        assert!(
            (z0 - (2.0 * 24.0 * 2f64.ln()).sqrt()).abs() < 1e-9,
            "largest radius, angle 0"
        );
    }
}
