// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11) and Box-Muller.
//
// A library, not a kernel: launchers prepend it to the shaders that draw noise
// (rng.wgsl, perturbed_head.wgsl). Every draw is a pure function of
// (seed, stream, index), so lavapipe, SwiftShader and the CPU twin in
// crate/src/rng.rs produce the same bits. A stream is the counter's words (sub, family),
// given by the launcher from rng.rs's registry (`Stream::words`).

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

// The four raw words of block `block` of stream `stream` = (sub, family).
fn philox_block(seed: u32, stream: vec2<u32>, block: u32) -> vec4<u32> {
    return philox4x32_10(vec4<u32>(block, stream.x, stream.y, 0u), vec2<u32>(seed, 0u));
}

// ln(x) for x in (0, 1], to ~1e-7 on every adapter: WGSL lets log() be off by 3 ULP or
// 2^-21, and SwiftShader's is, so the RNG computes its own from the float's bits.
fn precise_log(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    var e = f32(i32((bits >> 23u) & 0xFFu) - 126);
    var f = bitcast<f32>((bits & 0x007FFFFFu) | 0x3F000000u); // x = f * 2^e, f in [0.5, 1)
    if (f < 0.70710678) {
        f = f * 2.0;
        e = e - 1.0;
    }
    let s = (f - 1.0) / (f + 1.0); // |s| < 0.172
    let s2 = s * s;
    let ln_f = s * (2.0 + s2 * (0.6666666667 + s2 * (0.4 + s2 * (0.2857142857 + s2 * 0.2222222222))));
    return ln_f + e * 0.693145752 + e * 1.42860677e-6; // ln 2, split so e * hi is exact
}

// (sin x, cos x) for x in [-pi, pi], to ~1e-7 on every adapter (WGSL only promises 2^-11):
// reduce by multiples of pi/2 (split in two so q * hi is exact), then Taylor on [-pi/4, pi/4].
fn precise_sincos(x: f32) -> vec2<f32> {
    let q = round(x * 0.63661977236);
    let r = (x - q * 1.5703125) - q * 4.83826794897e-4;
    let r2 = r * r;
    let s = r * (1.0 + r2 * (-0.16666666667 + r2 * (0.0083333333333 + r2 * (-0.000198412698 + r2 * 2.7557319e-6))));
    let c = 1.0 + r2 * (-0.5 + r2 * (0.041666666667 + r2 * (-0.0013888888889 + r2 * (2.4801587e-5 - r2 * 2.7557319e-7))));
    switch (i32(q) & 3) {
        case 0: { return vec2<f32>(s, c); }
        case 1: { return vec2<f32>(c, -s); }
        case 2: { return vec2<f32>(-s, -c); }
        default: { return vec2<f32>(-c, s); }
    }
}

// Two standard normals from two words: u1 in (0, 1] (exact in f32), angle in [-pi, pi).
fn box_muller(a: u32, b: u32) -> vec2<f32> {
    let u1 = (f32(a >> 8u) + 1.0) * 5.9604645e-8;
    let angle = (f32(b >> 8u) * 5.9604645e-8 * 2.0 - 1.0) * 3.14159265358979;
    let r = sqrt(-2.0 * precise_log(u1));
    let sc = precise_sincos(angle);
    return vec2<f32>(r * sc.y, r * sc.x);
}

// The four normals of one Philox block.
fn gaussian4(seed: u32, stream: vec2<u32>, block: u32) -> vec4<f32> {
    let w = philox_block(seed, stream, block);
    return vec4<f32>(box_muller(w.x, w.y), box_muller(w.z, w.w));
}

// The `index`-th standard normal of stream `stream`.
fn gaussian(seed: u32, stream: vec2<u32>, index: u32) -> f32 {
    return gaussian4(seed, stream, index >> 2u)[index & 3u];
}
