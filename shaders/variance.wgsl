// Included by moments.wgsl and semantic_entropy.wgsl (the launcher appends it, with {{ values }}
// the name of the shader's storage buffer of values): the mean and the population variance
// (divided by S, the paper's definition) of the S values {{ values }}[base + s * stride],
// s = 0 .. S - 1, in two passes (f32, so never below 0, unlike mean(x^2) - mean(x)^2).
fn mean_and_variance(base: u32, stride: u32, samples: u32) -> vec2<f32> {
    var sum = 0.0;
    for (var s = 0u; s < samples; s = s + 1u) {
        sum = sum + {{ values }}[base + s * stride];
    }
    let m = sum / f32(samples);
    var sq = 0.0;
    for (var s = 0u; s < samples; s = s + 1u) {
        let d = {{ values }}[base + s * stride] - m;
        sq = sq + d * d;
    }
    return vec2<f32>(m, sq / f32(samples));
}
