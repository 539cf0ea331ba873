// The page's side of the genuq workers: a pool that loads the models in one worker and, on the
// CPU path, spreads generations over up to `min(navigator.hardwareConcurrency, 4)` workers,
// each with its own wasm instance. The extra workers start only when generations queue up;
// they get the compiled wasm and the verified model files from the first one (nothing is
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

/**
 * The worker script's URL, made apart from `new Worker(...)` on purpose: bundlers then emit the
 * file as it is (it imports nothing statically) instead of bundling it as a worker entry, which
 * webpack 5 (Docusaurus) wraps in a runtime the worker does not get ("__webpack_require__ is
 * not defined"; tests/e2e/bundlers.test.mjs). Vite inlines such a file as a data: URL when it is
 * under 4 KB (build.assetsInlineLimit), and a worker from a data: URL has an opaque origin that
 * cannot import the glue: the worker script is over that (a 3.3 KB one failed the Vite e2e).
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
    this.lead = null; // what the first worker loaded: {adapter, module, files, ...}
    pools.add(this);
  }

  /** Starts the first worker and loads the models there; resolves with {adapter, classNames, defaults, colorBar}. */
  async start(onProgress) {
    const w = this.spawn();
    const info = await w.call({ op: "load", src: this.src, compute: this.compute, modules: this.modules }, onProgress);
    w.ready = true;
    this.lead = info;
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
      const which = this.lead.which;
      const modules = { ...this.modules, [which]: { ...this.modules[which], module: this.lead.module } };
      await w.call({ op: "load", src: this.src, compute: "cpu", modules, files: this.files });
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
 * `modules` is loaded there). Loaded models stay in memory; the next load downloads them again.
 * Resolves true when there was a cache to delete.
 */
export async function clearCache(modules) {
  const ready = [...pools].flatMap((p) => p.workers).find((w) => w.ready && !w.dead);
  const w = ready ?? new PoolWorker(() => {});
  try {
    return await w.call({ op: "clearCache", modules });
  } finally {
    if (!ready) w.stop("its cache was cleared");
  }
}

/** Terminates every genuq worker of the page (their generations fail with GenuqWorkerError,
 * finished ones are kept); the next load starts afresh. */
export function stopWorkers(why = "stopped by the page") {
  for (const pool of [...pools]) pool.stop(why);
}
