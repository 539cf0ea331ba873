// genuq-load.js: where the package's files are and the page's one load of the models, shared by
// every <genuq-widget> and the demo (genuq-widget.js re-exports its public functions).
//
// Where the files come from. The two wasm modules, their JS glue, the worker and the pre-rendered posters are referenced
// with `new URL("./...", import.meta.url)` literals: served as files they sit next to this module,
// and bundlers (Vite, Rollup, webpack 5, Parcel) see the literals and emit the files into their
// build. The models are fetched by name from a folder (`models/manifest.json` lists them), which
// no bundler copies: by default `models/` next to this module; `setBasePath(url)` (the folder
// holding a copy of the package's `models/`) or a widget's `src` (the models folder) point
// elsewhere. Importing this module touches no DOM (server-side rendering imports it in Node);
// the element is defined only where `customElements` exists.

import { Pool, clearCache as clearPoolCache, maxWorkers, stopWorkers } from "./genuq-pool.js";
import { normaliseLabel } from "./genuq-strings.js";

/** The module's own URL, through a variable: bundlers rewrite only literal `new URL("…", import.meta.url)`. */
const MODULE_URL = import.meta.url;
/** setBasePath()'s folder, or null: next to this module. */
let basePath = null;
let generation = 0; // bumped by reset(): a fresh wasm instance after a crash or a lost device
const shared = new Map(); // src -> {promise, listeners}

let assetUrls = null;
/** The files a bundler can emit, each as a literal `new URL("./…", import.meta.url)` (kept literal on purpose). */
function assets() {
  assetUrls ??= {
    glue: new URL("./pkg/genuq.js", import.meta.url),
    wasm: new URL("./pkg/genuq_bg.wasm", import.meta.url),
    glueCpu: new URL("./pkg/genuq_cpu.js", import.meta.url),
    wasmCpu: new URL("./pkg/genuq_cpu_bg.wasm", import.meta.url),
    prerendered: new URL("./prerendered/index.json", import.meta.url),
    files: {
      "t-shirt.png": new URL("./prerendered/t-shirt.png", import.meta.url),
      "t-shirt-heatmap.png": new URL("./prerendered/t-shirt-heatmap.png", import.meta.url),
      "trouser.png": new URL("./prerendered/trouser.png", import.meta.url),
      "trouser-heatmap.png": new URL("./prerendered/trouser-heatmap.png", import.meta.url),
      "pullover.png": new URL("./prerendered/pullover.png", import.meta.url),
      "pullover-heatmap.png": new URL("./prerendered/pullover-heatmap.png", import.meta.url),
      "dress.png": new URL("./prerendered/dress.png", import.meta.url),
      "dress-heatmap.png": new URL("./prerendered/dress-heatmap.png", import.meta.url),
      "coat.png": new URL("./prerendered/coat.png", import.meta.url),
      "coat-heatmap.png": new URL("./prerendered/coat-heatmap.png", import.meta.url),
      "sandal.png": new URL("./prerendered/sandal.png", import.meta.url),
      "sandal-heatmap.png": new URL("./prerendered/sandal-heatmap.png", import.meta.url),
      "shirt.png": new URL("./prerendered/shirt.png", import.meta.url),
      "shirt-heatmap.png": new URL("./prerendered/shirt-heatmap.png", import.meta.url),
      "sneaker.png": new URL("./prerendered/sneaker.png", import.meta.url),
      "sneaker-heatmap.png": new URL("./prerendered/sneaker-heatmap.png", import.meta.url),
      "bag.png": new URL("./prerendered/bag.png", import.meta.url),
      "bag-heatmap.png": new URL("./prerendered/bag-heatmap.png", import.meta.url),
      "ankle-boot.png": new URL("./prerendered/ankle-boot.png", import.meta.url),
      "ankle-boot-heatmap.png": new URL("./prerendered/ankle-boot-heatmap.png", import.meta.url),
    },
  };
  return assetUrls;
}

/** `url` with `?retry=N` after a reset, so the browser fetches (and instantiates) it afresh. */
function fresh(url) {
  if (!generation || url.protocol === "data:") return url.href;
  const u = new URL(url);
  u.searchParams.set("retry", String(generation));
  return u.href;
}

/**
 * Where the package's `models/` folder is, when not next to this module (a bundled site copies
 * `node_modules/genuq/models` into its public folder; or a hosted copy of the package, e.g. a
 * CDN). Relative URLs resolve against the page. `null` goes back to the default. Widgets with a
 * `src` attribute use that instead.
 */
export function setBasePath(url) {
  if (url == null) {
    basePath = null;
    return;
  }
  const href = new URL(String(url), globalThis.document?.baseURI ?? MODULE_URL).href;
  basePath = href.endsWith("/") ? href : `${href}/`;
}

/** The folder setBasePath() set, or the one this module sits in. */
export function getBasePath() {
  return basePath ?? new URL("./", MODULE_URL).href;
}

/** The default models folder: `models/` under getBasePath(). */
export function modelsUrl() {
  return new URL("models/", getBasePath()).href;
}

/** The URL of `label`'s generation rendered ahead of time (a class name or 0-9), or null. */
export function prerenderedPoster(label) {
  const name = normaliseLabel(label);
  return assets().files[`${name}.png`]?.href ?? null;
}

/** Whether a bundler moved this module away from its `pkg/` (the glue got a bundler's name). */
export function bundled() {
  return !assets().glue.pathname.endsWith("/genuq.js");
}

/** Shares of the first load's progress: the wasm, the models, shader compilation. */
const STAGES = { wasm: [0, 0.8], models: [0.8, 0.97], shaders: [0.97, 1] };

/** totalProgress 0..1 of a stage's progress. */
function total(stage, loaded, size) {
  const [a, b] = STAGES[stage];
  return a + (b - a) * (size ? Math.min(loaded / size, 1) : 0);
}

/** For `compute: "webgpu"`: checks for an adapter before downloading anything; throws an Error
 * named GenuqNoWebGPU with a clear message. (With "auto" there is no such error: the CPU runs.) */
export async function checkWebGPU() {
  if (!("gpu" in navigator)) {
    throw Object.assign(new Error("This browser has no WebGPU (navigator.gpu is missing). genuq needs a recent Chrome or Edge, Safari 26, or Firefox 141+ (or Nightly) with WebGPU on."), { name: "GenuqNoWebGPU" });
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    throw Object.assign(new Error("This browser offers no WebGPU adapter (WebGPU may be disabled, or blocked for this GPU)."), { name: "GenuqNoWebGPU" });
  }
  return adapter;
}

/** The two wasm modules for the workers: the CPU path alone, and WebGPU with the CPU path. */
function modules() {
  const a = assets();
  return { cpu: { glue: fresh(a.glueCpu), wasm: fresh(a.wasmCpu) }, full: { glue: fresh(a.glue), wasm: fresh(a.wasm) } };
}

/**
 * The page's shared models from `src` (a folder with manifest.json) on `compute` ("auto",
 * "webgpu" or "cpu"), loaded once, in Web Workers (genuq-pool.js: the main thread only
 * renders; on the CPU path a batch spreads over up to `workers` of them, default
 * min(hardwareConcurrency, 4)). `onProgress` gets every progress event of that load ({stage,
 * loaded, total, totalProgress}; the last stage, "shaders", also says `compute`), also when it
 * already started. Resolves with {model (generate(request), bench(repeats), adapter), classNames,
 * defaults, colorBar}.
 */
export function loadGenuq(src = modelsUrl(), onProgress, compute = "auto", workers = maxWorkers()) {
  const url = new URL(src, document.baseURI).href;
  const key = `${compute} ${workers} ${url}`;
  let entry = shared.get(key);
  if (!entry) {
    const listeners = new Set();
    const tell = (p) => listeners.forEach((f) => f(p));
    const promise = (async () => {
      if (compute === "webgpu") await checkWebGPU();
      const pool = new Pool({ src: url, compute, modules: modules(), workers });
      const info = await pool.start((p) => tell({ ...p, totalProgress: total(p.stage, p.loaded, p.total) }));
      tell({ stage: "shaders", compute: info.adapter.compute, loaded: 0, total: 1, totalProgress: total("shaders", 0, 1) });
      const model = { adapter: info.adapter, generate: (r) => pool.generate(r), bench: (n) => pool.bench(n), pool };
      return { model, classNames: info.classNames, defaults: info.defaults, colorBar: info.colorBar };
    })();
    entry = { promise, listeners };
    shared.set(key, entry);
    promise.catch(() => shared.delete(key)); // a failed load can be retried
  }
  if (onProgress) entry.listeners.add(onProgress);
  return entry.promise;
}

/** Stops every worker and forgets every loaded model: the next load starts afresh. */
export function resetGenuq() {
  stopWorkers("reset");
  shared.clear();
  generation += 1;
}

export { stopWorkers };

/**
 * Deletes the model files genuq keeps in the browser's cache (Cache API), e.g. for a "forget
 * downloaded models" button; models already loaded stay in memory, the next visit downloads
 * them again. Resolves true when there was a cache to delete.
 */
export function clearCache() {
  return clearPoolCache(modules());
}

/** The generations rendered ahead of time (`genuq prerender`), for `compute: "webgpu"` without it. */
export async function prerendered() {
  const { prerendered: index, files } = assets();
  const resp = await fetch(index);
  if (!resp.ok) return [];
  const { generations } = await resp.json();
  const url = (name) => files[name]?.href ?? (index.protocol === "data:" ? name : new URL(name, index).href);
  return generations.map((g) => ({ ...g, image: url(g.image), heatmap: url(g.heatmap) }));
}

/** A wasm trap (panic), a device error (lost, or unusable) or a bad model file (one of those a
 * first generation waits for can fail it after the load): the instance needs a reset. */
export function isFatal(e) {
  return e instanceof WebAssembly.RuntimeError || ["GenuqDeviceLostError", "GenuqDeviceError", "GenuqWorkerError", "GenuqModelError"].includes(e?.name);
}

/** Whether setBasePath() pointed the models elsewhere. */
export function basePathSet() {
  return basePath != null;
}
