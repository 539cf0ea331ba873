// Fills `out` with standard normals (or, for tests, the raw Philox words):
// out[i] = gaussian(seed, stream, i). One invocation per Philox block of four.
// Prepended by philox.wgsl.

@group(0) @binding(0) var<storage, read_write> out: array<{{ elem }}>;
@group(0) @binding(1) var<storage, read_write> info: array<u32>; // [len, seed, sub, family]

@compute @workgroup_size({{ workgroup }}, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let len = info[0];
    let block = gid.x;
    let first = block * 4u;
    if (first >= len) {
        return;
    }
    let values = {{ draw }}(info[1], vec2<u32>(info[2], info[3]), block);
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
        if (first + lane < len) {
            out[first + lane] = values[lane];
        }
    }
}
