// The genuq worker: one wasm instance that loads the models and generates, off the page's main
// thread (genuq-pool.js starts it; the page only renders). A module worker, so WebGPU is here
// as on a page (`navigator.gpu`).
//
// Messages in: {id, op: "load", ...} (see load()), {id, op: "generate", request},
// {id, op: "bench", repeats}, {id, op: "files"}, {id, op: "clearCache", modules}. Out: {id, progress} while loading, then
// {id, ok} or {id, error: {name, message}} (the Error's name crosses as a field: structured
// clone keeps only the standard names).
//
// Why not gloo's worker module: it runs Rust closures in a worker spawned from Rust, which
// would put the pool in the wasm that the pool has to fetch first; this file is plain JS the
// page starts at once, and the wasm arrives inside it.

let genuq = null; // the loaded Genuq
let mod = null; // the wasm-bindgen glue in use

/** The response at `url`, its body counted against `size` (a promise: the manifest's size,
 * since compressing hosts send no usable Content-Length) as `progress` events while it streams
 * on. */
async function download(url, size, progress) {
  const resp = await fetch(url);
  if (!resp.ok) throw Object.assign(new Error(`downloading ${url} failed: HTTP ${resp.status}`), { name: "GenuqModelError" });
  const file = new URL(url).pathname.split("/").pop();
  let loaded = 0;
  const counted = resp.body.pipeThrough(new TransformStream({
    async transform(chunk, out) {
      loaded += chunk.length;
      progress({ stage: "wasm", file, loaded, total: (await size) || Number(resp.headers.get("content-length")) || 0 });
      out.enqueue(chunk);
    },
  }));
  return new Response(counted, { headers: { "content-type": "application/wasm" } });
}

/** The manifest of the models folder `src` (its bytes too, handed to the wasm's loader). */
async function manifest(src) {
  const url = new URL("manifest.json", src).href;
  const resp = await fetch(url, { cache: "no-cache" });
  if (!resp.ok) throw Object.assign(new Error(`downloading ${url} failed: HTTP ${resp.status}`), { name: "GenuqModelError" });
  const bytes = new Uint8Array(await resp.arrayBuffer());
  return { bytes, json: JSON.parse(new TextDecoder().decode(bytes)) };
}

/** Requests for the model files `names` in the folder `src` (the manifest's `first_files`: what
 * a generation starts with) that no cache of this origin holds (a second visit asks for none),
 * made now, while the module downloads; the wasm's loader awaits them (`Genuq.load`'s
 * `requests`) and checks the bytes as its own downloads. (Any cache: the loader's own bucket
 * is the wasm's to name. A file some other cache holds only loses its head start.) Each body
 * is read on as it arrives, whoever reads it later: a body nobody reads would stall once the
 * browser's buffer is full. */
async function ask(src, names) {
  const listed = Array.isArray(names) ? names.filter((n) => typeof n === "string") : [];
  const urls = listed.map((name) => new URL(name, src).href);
  const held = await Promise.all(urls.map((url) => self.caches?.match(url).catch(() => null)));
  const eager = () => new TransformStream(undefined, undefined, { highWaterMark: Infinity });
  return Object.fromEntries(listed.flatMap((name, i) => {
    if (held[i]) return [];
    const asked = fetch(urls[i], { cache: "no-cache" }).then((r) => new Response(r.body?.pipeThrough(eager()) ?? null, r));
    asked.catch(() => {}); // a failed request fails the load that awaits it
    return [[name, asked]];
  }));
}

/** One of the two modules (`which`: "cpu" or "full") instantiated; its compiled wasm. The
 * module compiles while it downloads (`compileStreaming`), and the glue loads meanwhile;
 * `sizes` (a promise of the manifest's `wasm` sizes) only sizes the progress. */
async function instantiate(which, msg, sizes, progress) {
  const { glue, wasm, module } = msg.modules[which];
  const name = new URL(wasm).pathname.split("/").pop();
  const compiling = module ?? WebAssembly.compileStreaming(download(wasm, sizes.then((s) => s[name]?.bytes), progress));
  mod = await import(/* @vite-ignore */ /* webpackIgnore: true */ glue);
  const compiled = await compiling;
  await mod.default({ module_or_path: compiled });
  return compiled;
}

/**
 * Loads the wasm and the models. `msg`: {src (the models folder), compute ("auto", "webgpu",
 * "cpu"), modules: {cpu: {glue, wasm, module?}, full: {...}}, files? (another worker's model
 * files)}. "auto" starts the CPU-only module and asks it whether a hardware WebGPU adapter is
 * here; only then is the WebGPU module fetched. The files a generation starts with download
 * beside the module (unless `files` has them).
 */
async function load(msg, progress) {
  const src = msg.src.endsWith("/") ? msg.src : `${msg.src}/`; // a folder, as the wasm's loader takes it
  // the manifest and the module at once: the module's name does not depend on it
  const listing = manifest(src);
  listing.catch(() => {}); // its error is thrown below, once the module is in
  const sizes = listing.then(({ json }) => json.wasm ?? {}, () => ({}));
  const requests = msg.files ? {} : listing.then(({ json }) => ask(src, json.first_files)).catch(() => ({}));
  let which = msg.compute === "webgpu" ? "full" : "cpu";
  let compiled = await instantiate(which, msg, sizes, progress);
  const { bytes, json } = await listing;
  // a manifest that lists the built modules and not the WebGPU one (./dev.sh demo while it
  // builds): the CPU path
  const full = new URL(msg.modules.full.wasm).pathname.split("/").pop();
  const listed = !json.wasm || full in json.wasm;
  if (msg.compute === "auto" && listed && (await mod.probeCompute()).webgpu) {
    which = "full";
    compiled = await instantiate(which, msg, sizes, progress);
  }
  const files = { "manifest.json": bytes, ...(msg.files ?? {}) };
  genuq = await mod.Genuq.load(src, {
    compute: msg.compute,
    files,
    requests: await requests,
    onProgress: (p) => progress({ stage: "models", ...p }),
  });
  return {
    adapter: genuq.adapter,
    classNames: mod.classNames(),
    defaults: mod.defaults(),
    colorBar: mod.colorBar(128),
    which,
    module: compiled,
  };
}

async function run(msg, progress) {
  switch (msg.op) {
    case "load": return load(msg, progress);
    case "generate": return genuq.generate(msg.request);
    case "bench": return genuq.bench(msg.repeats);
    case "files": return genuq.modelFiles();
    case "clearCache":
      // the model cache's name is the wasm loader's: the CPU-only module is enough to clear it
      if (!mod) await instantiate("cpu", msg, Promise.resolve({}), () => {});
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
