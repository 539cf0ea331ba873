// Per-pixel mean and population variance across the S images of each batch entry (two passes,
// f32), the paper's variance (divided by S = M + 1, as its code's mean(x^2) - mean(x)^2):
//   mean[b, n] = sum_s x[b, s, n] / S,  var[b, n] = sum_s (x[b, s, n] - mean)^2 / S
// One invocation per (b, n). Dispatch: (ceil(B * N / 256), 1, 1). Includes variance.wgsl
// (mean_and_variance over x).

@group(0) @binding(0) var<storage, read_write> x: array<f32>;     // [B, S, N]
@group(0) @binding(1) var<storage, read_write> mean: array<f32>;  // [B, N]
@group(0) @binding(2) var<storage, read_write> var_: array<f32>;  // [B, N]
@group(0) @binding(3) var<storage, read_write> info: array<u32>;  // [B, S, N]

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let batch = info[0];
    let samples = info[1];
    let n = info[2];
    let i = gid.x;
    if (i >= batch * n) {
        return;
    }
    let b = i / n;
    let k = i % n;
    let moments = mean_and_variance(b * samples * n + k, n, samples);
    mean[i] = moments.x;
    var_[i] = moments.y;
}
