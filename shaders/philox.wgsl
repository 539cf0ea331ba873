// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11) and Box-Muller.
//
// A library, not a kernel: launchers prepend it to the shaders that draw noise
// (rng.wgsl, perturbed_head.wgsl). Every draw is a pure function of
// (seed, stream, index), so lavapipe, SwiftShader and the CPU twin in
// crate/src/kernels/rng.rs produce the same bits.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// Full 32x32 -> 64-bit product as (hi, lo); WGSL has no 64-bit integers.
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xFFFFu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xFFFFu;
    let b_hi = b >> 16u;
    let ll = a_lo * b_lo;
    let lh = a_lo * b_hi;
    let hl = a_hi * b_lo;
    let hh = a_hi * b_hi;
    let mid = (ll >> 16u) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
    let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
    return vec2<u32>(hi, a * b);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    for (var round = 0u; round < 10u; round = round + 1u) {
        if (round > 0u) {
            k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
        }
        let p0 = mulhilo(PHILOX_M0, c.x);
        let p1 = mulhilo(PHILOX_M1, c.z);
        c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    }
    return c;
}

// The four raw words of block `index / 4` of stream `stream`.
fn philox_block(seed: u32, stream: u32, block: u32) -> vec4<u32> {
    return philox4x32_10(vec4<u32>(block, stream, 0u, 0u), vec2<u32>(seed, 0u));
}

// Two standard normals from two words. u1 in (0, 1], angle in [-pi, pi): WGSL only
// bounds cos/sin error on [-pi, pi].
fn box_muller(a: u32, b: u32) -> vec2<f32> {
    let u1 = (f32(a >> 8u) + 1.0) * 5.9604645e-8;
    let angle = (f32(b >> 8u) * 5.9604645e-8 * 2.0 - 1.0) * 3.14159265358979;
    let r = sqrt(-2.0 * log(u1));
    return vec2<f32>(r * cos(angle), r * sin(angle));
}

// The four normals of one Philox block.
fn gaussian4(seed: u32, stream: u32, block: u32) -> vec4<f32> {
    let w = philox_block(seed, stream, block);
    return vec4<f32>(box_muller(w.x, w.y), box_muller(w.z, w.w));
}

// The `index`-th standard normal of stream `stream`.
fn gaussian(seed: u32, stream: u32, index: u32) -> f32 {
    return gaussian4(seed, stream, index >> 2u)[index & 3u];
}
