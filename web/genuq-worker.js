// The genuq worker: one wasm instance that loads the models and generates, off the page's main
// thread (genuq-pool.js starts it; the page only renders). A module worker, so WebGPU is here
// as on a page (`navigator.gpu`).
//
// Messages in: {id, op: "load", ...} (see load()), {id, op: "probe", glue, module},
// {id, op: "generate", request}, {id, op: "bench", repeats}, {id, op: "files"},
// {id, op: "clearCache", glue, module?}. Out: {id, progress} while loading, then {id, ok} or
// {id, error: {name, message}} (the Error's name crosses as a field: structured clone keeps
// only the standard names). The page compiles the wasm (a WebAssembly.Module crosses to a
// worker without a copy or a second compilation); the worker instantiates it.
//
// Why not gloo's worker module: it runs Rust closures in a worker spawned from Rust, which
// would put the pool in the wasm that the pool has to fetch first; this file is plain JS the
// page starts at once, and the wasm arrives inside it.

let genuq = null; // the loaded Genuq
let mod = null; // the wasm-bindgen glue in use

/** The wasm-bindgen glue at `glue`, on the compiled `module` (the page compiled it). */
async function instantiate(glue, module) {
  mod = await import(/* @vite-ignore */ /* webpackIgnore: true */ glue);
  await mod.default({ module_or_path: module });
}

/**
 * Loads the models. `msg`: {src (the models folder), compute ("auto", "webgpu", "cpu"), glue
 * and module (the wasm the page compiled for that path), files (manifest.json's bytes, and
 * another worker's model files where there are)}.
 */
async function load(msg, progress) {
  await instantiate(msg.glue, msg.module);
  genuq = await mod.Genuq.load(msg.src, {
    compute: msg.compute,
    files: msg.files,
    onProgress: (p) => progress({ stage: "models", ...p }),
  });
  return {
    adapter: genuq.adapter,
    classNames: mod.classNames(),
    defaults: mod.defaults(),
    colorBar: mod.colorBar(128),
  };
}

async function run(msg, progress) {
  switch (msg.op) {
    case "load": return load(msg, progress);
    case "probe":
      // "auto": is a hardware WebGPU adapter here? (the CPU-only module answers)
      await instantiate(msg.glue, msg.module);
      return (await mod.probeCompute()).webgpu;
    case "generate": return genuq.generate(msg.request);
    case "bench": return genuq.bench(msg.repeats);
    case "files": return genuq.modelFiles();
    case "clearCache":
      // the model cache's name is the wasm loader's: the CPU-only module is enough to clear it
      if (!mod) await instantiate(msg.glue, msg.module);
      return mod.clearCache();
    default: throw new Error(`genuq worker: unknown op ${msg.op}`);
  }
}

self.onmessage = async ({ data }) => {
  const progress = (p) => self.postMessage({ id: data.id, progress: p });
  try {
    self.postMessage({ id: data.id, ok: await run(data, progress) });
  } catch (e) {
    const name = e instanceof WebAssembly.RuntimeError ? "RuntimeError" : (e?.name ?? "Error");
    self.postMessage({ id: data.id, error: { name, message: String(e?.message ?? e) } });
  }
};
