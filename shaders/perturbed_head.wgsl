// The student's last layer (a 3x3 conv, C -> 1 channel, padding 1) evaluated for the MAP
// weights and M Laplace samples in one dispatch, without M copies of the weights:
//   out[b, s] = conv(h[b'], W + std * eps_s) + (bias + std_bias * eps_s)
// with b' = b when the S samples share the features of generation b (one trajectory that
// branches here), and b' = b * S + s when each sample has its own (trajectory s of generation b,
// per_sample = 1).
// s = 0 is the MAP (eps = 0); for s >= 1, eps_s[p] = gaussian(seed, (s, family), p), drawn on
// the fly from the weight-sample stream (rng.rs: Stream::Weights(s), family GENERATION_FAMILY).
// The parameters are in the layout of posterior/head.rs: weight (c, ky, kx) at c * 9 + ky * 3 + kx,
// the bias last.
// Each workgroup handles 256 pixels of one (image b, sample s): it draws sample s's weights
// once into workgroup memory, then every thread convolves one pixel.
// Dispatch: (ceil(H*W / 256), S, B). Prepended by philox.wgsl.

@group(0) @binding(0) var<storage, read_write> h: array<f32>;      // [B, C, H, W] or [B * S, C, H, W]
@group(0) @binding(1) var<storage, read_write> weight: array<f32>; // [C * 9 + 1], bias last
@group(0) @binding(2) var<storage, read_write> stddev: array<f32>; // [C * 9 + 1]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // [B, S, H, W]
@group(0) @binding(4) var<storage, read_write> info: array<u32>;   // [C, H, W, S, seed, family, per_sample]

const PARAMS: u32 = {{ params }}u;
var<workgroup> w: array<f32, PARAMS>;

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let channels = info[0];
    let height = info[1];
    let width = info[2];
    let samples = info[3];
    let seed = info[4];
    let family = info[5];
    let per_sample = info[6];
    let b = group.z;
    let s = group.y;
    let source = select(b, b * samples + s, per_sample == 1u);
    let on = select(0.0, 1.0, s > 0u);
    for (var block = lid; block * 4u < PARAMS; block = block + {{ workgroup }}u) {
        let eps = gaussian4(seed, vec2<u32>(s, family), block) * on;
        for (var lane = 0u; lane < 4u; lane = lane + 1u) {
            let p = block * 4u + lane;
            if (p < PARAMS) {
                w[p] = weight[p] + stddev[p] * eps[lane];
            }
        }
    }
    workgroupBarrier();
    let pixel = group.x * {{ workgroup }}u + lid;
    if (pixel >= height * width) {
        return;
    }
    let y = i32(pixel / width);
    let x = i32(pixel % width);
    var acc = w[PARAMS - 1u];
    for (var c = 0u; c < channels; c = c + 1u) {
        let plane = (source * channels + c) * height * width;
        for (var ky = 0; ky < 3; ky = ky + 1) {
            let yy = y + ky - 1;
            if (yy < 0 || yy >= i32(height)) {
                continue;
            }
            for (var kx = 0; kx < 3; kx = kx + 1) {
                let xx = x + kx - 1;
                if (xx < 0 || xx >= i32(width)) {
                    continue;
                }
                acc = acc + w[c * 9u + u32(ky * 3 + kx)] * h[plane + u32(yy) * width + u32(xx)];
            }
        }
    }
    out[(b * samples + s) * height * width + pixel] = acc;
}
