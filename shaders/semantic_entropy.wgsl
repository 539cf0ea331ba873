// The paper's generative uncertainty from the S = M + 1 CLIP embeddings of each generation:
//   u[b] = 0.5 * sum_d log(v_d + 1e-3) + 0.5 * D * (log(2 pi) + 1)
// with v_d the population variance of dimension d across the S embeddings (divided by S, as the
// paper's code: mean(e^2) - mean(e)^2 clipped at 0; two passes here, so never below 0), the
// embeddings not normalised;
// the floor 1e-3 comes in as {{ floor }} (VARIANCE_FLOOR in semantic_entropy.rs).
// One workgroup per b; thread d handles dimension d (D <= 256), then a tree reduction.
// Dispatch: (B, 1, 1). Includes variance.wgsl (mean_and_variance over emb).

@group(0) @binding(0) var<storage, read_write> emb: array<f32>;  // [B, S, D]
@group(0) @binding(1) var<storage, read_write> u: array<f32>;    // [B]
@group(0) @binding(2) var<storage, read_write> info: array<u32>; // [S, D]

var<workgroup> partial: array<f32, {{ workgroup }}>;

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) d: u32) {
    let samples = info[0];
    let dims = info[1];
    let b = group.x;
    var term = 0.0;
    if (d < dims) {
        let v = mean_and_variance(b * samples * dims + d, dims, samples).y;
        term = log(v + {{ floor }});
    }
    partial[d] = term;
    workgroupBarrier();
    for (var stride = {{ workgroup }}u / 2u; stride > 0u; stride = stride / 2u) {
        if (d < stride) {
            partial[d] = partial[d] + partial[d + stride];
        }
        workgroupBarrier();
    }
    if (d == 0u) {
        u[b] = 0.5 * partial[0] + 0.5 * f32(dims) * (log(2.0 * 3.14159265358979) + 1.0);
    }
}
