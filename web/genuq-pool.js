// The page's side of the genuq workers: a pool that loads the models in one worker and, on the
// CPU path, spreads generations over up to `min(navigator.hardwareConcurrency, 4)` workers,
// each with its own wasm instance. The page fetches the manifest and compiles the wasm module
// while it downloads, meanwhile the first worker starts (a thread and a script: tens of ms);
// the workers instantiate that one compiled module. The extra workers start only when
// generations queue up; they get the verified model files from the first one (nothing is
// fetched twice). The same request gives the same numbers in any worker (same seeds, same
// Philox streams). Importing this module starts nothing.

/** A pool's most workers on the CPU path (WebGPU has one device: one worker). */
export function maxWorkers() {
  return Math.max(1, Math.min(globalThis.navigator?.hardwareConcurrency ?? 1, 4));
}

/** An Error with the name the worker gave it (structured clone keeps only standard names). */
function revive({ name, message }) {
  if (name === "RuntimeError") return new WebAssembly.RuntimeError(message);
  return Object.assign(new Error(message), { name });
}

/** The error of a job whose worker died or was stopped. */
function workerGone(why) {
  return Object.assign(new Error(`the genuq worker stopped (${why}); finished generations are kept. Retry starts a new one.`), { name: "GenuqWorkerError" });
}

/** A failed download, as the wasm's loader names it. */
function downloadError(url, why) {
  return Object.assign(new Error(`downloading ${url} failed: ${why}`), { name: "GenuqModelError" });
}

/**
 * The wasm module at `url`, compiled while it downloads (`compileStreaming`). `progress` gets
 * {stage: "wasm", file, loaded, total} as bytes arrive; `size` (a promise: the manifest's
 * size, since compressing hosts send no usable Content-Length) sizes it.
 */
async function compileModule(url, size, progress) {
  const resp = await fetch(url);
  if (!resp.ok) throw downloadError(url, `HTTP ${resp.status}`);
  const file = new URL(url).pathname.split("/").pop();
  let loaded = 0;
  const counted = resp.body.pipeThrough(new TransformStream({
    async transform(chunk, out) {
      loaded += chunk.length;
      progress({ stage: "wasm", file, loaded, total: (await size) || Number(resp.headers.get("content-length")) || 0 });
      out.enqueue(chunk);
    },
  }));
  return WebAssembly.compileStreaming(new Response(counted, { headers: { "content-type": "application/wasm" } }));
}

/** The manifest of the models folder `src`: its bytes (handed to the wasm's loader) and JSON. */
async function fetchManifest(src) {
  const url = new URL("manifest.json", src).href;
  const resp = await fetch(url, { cache: "no-cache" });
  if (!resp.ok) throw downloadError(url, `HTTP ${resp.status}`);
  const bytes = new Uint8Array(await resp.arrayBuffer());
  return { bytes, json: JSON.parse(new TextDecoder().decode(bytes)) };
}

/** The file name of a module's URL. */
function fileName(url) {
  return new URL(url).pathname.split("/").pop();
}

/**
 * The worker script's URL, made apart from `new Worker(...)` on purpose: bundlers then emit the
 * file as it is (it imports nothing statically) instead of bundling it as a worker entry, which
 * webpack 5 (Docusaurus) wraps in a runtime the worker does not get ("__webpack_require__ is
 * not defined"; tests/e2e/bundlers.test.mjs).
 */
function workerUrl() {
  return new URL("./genuq-worker.js", import.meta.url);
}

let nextId = 0;
const pools = new Set(); // live pools, for stopWorkers()

/** One worker and its jobs in flight (at most one generation at a time). */
class PoolWorker {
  constructor(onDeath) {
    this.jobs = new Map(); // id -> {resolve, reject, progress}
    this.busy = false;
    this.worker = new Worker(workerUrl(), { type: "module" });
    this.worker.onmessage = ({ data }) => {
      const job = this.jobs.get(data.id);
      if (!job) return;
      if (data.progress) return job.progress?.(data.progress);
      this.jobs.delete(data.id);
      if (data.error) job.reject(revive(data.error));
      else job.resolve(data.ok);
    };
    const die = (why) => {
      this.stop(why);
      onDeath(this);
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      die(e.message || "an error in the worker");
    };
    this.worker.onmessageerror = () => die("a message could not be read");
  }

  /** Sends `msg` and resolves with the worker's answer. */
  call(msg, progress) {
    const id = ++nextId;
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(workerGone("it had stopped"));
      this.jobs.set(id, { resolve, reject, progress });
      this.worker.postMessage({ ...msg, id });
    });
  }

  /** Terminates the worker: every job in flight fails with GenuqWorkerError. */
  stop(why) {
    this.worker.terminate();
    this.dead = true;
    for (const job of this.jobs.values()) job.reject(workerGone(why));
    this.jobs.clear();
  }
}

/**
 * The models at `src` on `compute`, in workers. `modules`: {cpu, full}, each {glue, wasm} URLs
 * (the CPU-only module and the WebGPU one). `workers`: the most workers (default maxWorkers();
 * WebGPU always uses one). `onProgress` gets {stage, file, loaded, total}.
 */
export class Pool {
  constructor({ src, compute, modules, workers = maxWorkers() }) {
    Object.assign(this, { src, compute, modules, limit: workers });
    this.workers = [];
    this.queue = []; // {request, resolve, reject}
    this.lead = null; // what the first worker loaded: {adapter, ..., which, module}
    pools.add(this);
  }

  /**
   * Starts the first worker and loads the models there; resolves with {adapter, classNames,
   * defaults, colorBar}. "auto" starts on the CPU-only module and asks it whether a hardware
   * WebGPU adapter is here; only then is the WebGPU module fetched.
   */
  async start(onProgress) {
    const w = this.spawn();
    const listing = fetchManifest(this.src);
    listing.catch(() => {}); // its error is thrown below, once the module is in
    const sizes = listing.then(({ json }) => json.wasm ?? {}, () => ({}));
    const compile = (which) => {
      const url = this.modules[which].wasm;
      return compileModule(url, sizes.then((s) => s[fileName(url)]?.bytes), onProgress);
    };
    let which = this.compute === "webgpu" ? "full" : "cpu";
    let module = await compile(which);
    const { bytes, json } = await listing;
    // a manifest that lists the built modules and not the WebGPU one (./dev.sh demo while it
    // builds): the CPU path
    const listed = !json.wasm || fileName(this.modules.full.wasm) in json.wasm;
    if (this.compute === "auto" && listed && (await w.call({ op: "probe", glue: this.modules.cpu.glue, module }))) {
      which = "full";
      module = await compile(which);
    }
    const msg = { op: "load", src: this.src, compute: this.compute, glue: this.modules[which].glue, module };
    const info = await w.call({ ...msg, files: { "manifest.json": bytes } }, onProgress);
    w.ready = true;
    this.lead = { ...info, which, module };
    if (info.adapter.compute !== "cpu") this.limit = 1;
    this.pump();
    return info;
  }

  spawn() {
    const w = new PoolWorker((dead) => this.forget(dead));
    this.workers.push(w);
    return w;
  }

  forget(w) {
    this.workers = this.workers.filter((x) => x !== w);
    if (this.workers.length === 0) this.stop("no worker left");
  }

  /** A worker beyond the first, loaded from the first one's wasm and files. A worker that
   * cannot load is stopped and the reason kept (`growError`) and logged: the pool goes on with
   * the workers it has. */
  async grow() {
    this.growing = true;
    let w = null;
    try {
      this.files ??= await this.workers.find((x) => x.ready).call({ op: "files" });
      w = this.spawn();
      const { which, module } = this.lead;
      await w.call({ op: "load", src: this.src, compute: "cpu", glue: this.modules[which].glue, module, files: this.files });
      w.ready = !w.dead;
    } catch (e) {
      if (w && !w.ready) {
        w.stop("it could not load");
        this.workers = this.workers.filter((x) => x !== w);
        this.limit = this.workers.length; // no more tries: the next would fail the same way
      }
      this.growError = e;
      console.warn(`genuq: another worker could not start (${e?.name ?? "Error"}: ${e?.message ?? e}); the pool goes on with ${this.workers.length}`);
    } finally {
      this.growing = false;
      this.pump();
    }
  }

  /** One generation (a GenerateRequest): queued, run by the next free worker. */
  generate(request) {
    return new Promise((resolve, reject) => {
      if (this.stopped) return reject(workerGone("the page stopped it"));
      this.queue.push({ request, resolve, reject, at: performance.now() });
      this.pump();
    });
  }

  /** Hands queued generations to free workers; grows the pool while they queue up. */
  pump() {
    for (const w of this.workers) {
      if (!w.ready || w.busy || w.dead || this.queue.length === 0) continue;
      const job = this.queue.shift();
      const waited = performance.now() - job.at;
      w.busy = true;
      w.call({ op: "generate", request: job.request })
        .then((g) => {
          g.timings.queuedMs += waited; // in the pool's queue, then in the worker's
          job.resolve(g);
        }, job.reject)
        .finally(() => {
          w.busy = false;
          this.pump();
        });
    }
    if (this.queue.length > 0 && this.lead && !this.growing && this.workers.length < this.limit) this.grow();
  }

  /** The browser benchmark (Genuq.bench) in the first worker. */
  bench(repeats) {
    const w = this.workers.find((x) => x.ready);
    return w ? w.call({ op: "bench", repeats }) : Promise.reject(workerGone("no worker left"));
  }

  /** Rejects every queued generation with `error`. */
  fail(error) {
    for (const job of this.queue.splice(0)) job.reject(error);
  }

  /** Terminates every worker: generations in flight and queued fail with GenuqWorkerError. */
  stop(why = "stopped") {
    this.stopped = true;
    pools.delete(this);
    for (const w of this.workers.splice(0)) w.stop(why);
    this.fail(workerGone(why));
  }
}

/**
 * Deletes genuq's cached model files (the browser's Cache API) through a ready worker of any
 * live pool, else through a worker started for it and stopped after (the CPU-only module of
 * `modules` is loaded there: the cache's name is the wasm loader's). Loaded models stay in
 * memory; the next load downloads them again. Resolves true when there was a cache to delete.
 */
export async function clearCache(modules) {
  const ready = [...pools].flatMap((p) => p.workers).find((w) => w.ready && !w.dead);
  const w = ready ?? new PoolWorker(() => {});
  try {
    const module = ready ? null : await compileModule(modules.cpu.wasm, Promise.resolve(0), () => {});
    return await w.call({ op: "clearCache", glue: modules.cpu.glue, module });
  } finally {
    if (!ready) w.stop("its cache was cleared");
  }
}

/** Terminates every genuq worker of the page (their generations fail with GenuqWorkerError,
 * finished ones are kept); the next load starts afresh. */
export function stopWorkers(why = "stopped by the page") {
  for (const pool of [...pools]) pool.stop(why);
}
