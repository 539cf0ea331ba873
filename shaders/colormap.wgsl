// Per-pixel variance -> RGBA8 (packed little-endian in a u32: r | g << 8 | b << 16 | a << 24)
// with viridis, for display: t = clamp(sqrt(var) / scale[b], 0, 1). viridis is the
// degree-6 polynomial fit used by shader authors (max error ~1/255 against matplotlib's table);
// crate/src/kernels/colormap.rs has the same polynomial on the CPU.
// Dispatch: (ceil(B * N / 256), 1, 1).

@group(0) @binding(0) var<storage, read_write> var_: array<f32>;  // [B, N]
@group(0) @binding(1) var<storage, read_write> scale: array<f32>; // [B]
@group(0) @binding(2) var<storage, read_write> rgba: array<u32>;  // [B, N]
@group(0) @binding(3) var<storage, read_write> info: array<u32>;  // [B, N]

fn viridis(t: f32) -> vec3<f32> {
    let c0 = vec3<f32>(0.2777273272234177, 0.005407344544966578, 0.3340998053353061);
    let c1 = vec3<f32>(0.1050930431085774, 1.404613529898575, 1.384590162594685);
    let c2 = vec3<f32>(-0.3308618287255563, 0.214847559468213, 0.09509516302823659);
    let c3 = vec3<f32>(-4.634230498983486, -5.799100973351585, -19.33244095627987);
    let c4 = vec3<f32>(6.228269936347081, 14.17993336680509, 56.69055260068105);
    let c5 = vec3<f32>(4.776384997670288, -13.74514537774601, -65.35303263337234);
    let c6 = vec3<f32>(-5.435455855934631, 4.645852612178535, 26.3124352495832);
    return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let batch = info[0];
    let n = info[1];
    let i = gid.x;
    if (i >= batch * n) {
        return;
    }
    let s = scale[i / n];
    let t = clamp(select(0.0, sqrt(max(var_[i], 0.0)) / s, s > 0.0), 0.0, 1.0);
    let c = clamp(viridis(t), vec3<f32>(0.0), vec3<f32>(1.0));
    let q = vec3<u32>(round(c * 255.0));
    rgba[i] = q.x | (q.y << 8u) | (q.z << 16u) | (255u << 24u);
}
