// The browser half of `./dev.sh bench`: the demo (dist/) in headless Chromium, on WebGPU
// (SwiftShader here) and on the CPU path, in one run. For each: page load -> first result on a
// fresh profile, then Genuq.bench() in the page (the same Rust code as `genuq bench`); stored as
// the "browser" and "browser_cpu" entries of reports/bench.json. On the CPU path also: the
// first result's median over FIRST_RUNS (default 5) more fresh profiles and the bytes fetched
// before it (page and workers), the same median on an emulated network (NETWORK: 40 ms round
// trip, 5 MB/s down, the server gzipping as GitHub Pages does), the CPU-only module's size, and
// a batch of 64 with one worker and with the pool.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { emulateNetwork, launch, serve } from "../e2e/harness.mjs";
import { freshProfiles, median } from "./fresh.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const dist = process.env.GENUQ_DIST ?? path.join(root, "dist");
const out = path.join(root, "reports", "bench.json");
const repeats = Number(process.env.REPEATS ?? 5);

/** A batch of 64 at 4 steps, weight samples at the first (28 trunk passes each) with one worker, then with the pool (warmed up
 * first, so its workers are loaded); the main thread's long tasks (> 50 ms) during the pool's. */
async function batches(page) {
  return page.evaluate(async () => {
    const m = await import("./genuq-widget.js");
    const requests = Array.from({ length: 64 }, (_, i) => ({ class: i % 10, seed: 1000 + i, steps: 4, perturb: "first" }));
    const run = async (loaded) => {
      await Promise.all(requests.slice(0, 8).map((r) => loaded.model.generate(r))); // warm-up
      const t = performance.now();
      await Promise.all(requests.map((r) => loaded.model.generate(r)));
      return performance.now() - t;
    };
    const one = await run(await m.loadGenuq(undefined, undefined, "cpu", 1));
    const pool = await m.loadGenuq(undefined, undefined, "cpu");
    const tasks = [];
    const observer = new PerformanceObserver((l) => tasks.push(...l.getEntries()));
    observer.observe({ type: "longtask" });
    const many = await run(pool);
    observer.disconnect();
    return { one, many, workers: pool.model.pool.workers.length, longTasks: tasks.length };
  });
}

/** The emulated network of the first result's second measurement: round trip, bytes per second. */
const NETWORK = { latency: 40, bps: 5e6 };

/** The demo's first result on the CPU path in `runs` fresh profiles from `site` (a server; with
 * `network`, emulated): the median and each run's ms, and the bytes fetched before it in the
 * first run, by kind (the page and workers fetch nothing else until then). */
async function firstResults(runs, site = server, network = null) {
  let bytes = null;
  const ms = await freshProfiles(runs, async (browser, i) => {
    const page = await browser.newPage();
    if (network) await emulateNetwork(page, network);
    const sizes = [];
    page.on("requestfinished", (r) => sizes.push(r.sizes().then((s) => [new URL(r.url()).pathname, s.responseBodySize])));
    await page.goto(`${site.url}/?compute=cpu`);
    await page.waitForFunction(() => document.body.dataset.state === "ready", null, { timeout: 120_000 });
    if (i === 0) {
      bytes = { wasm: 0, models: 0, page: 0 };
      for (const [file, n] of await Promise.all(sizes)) {
        bytes[file.endsWith(".wasm") ? "wasm" : file.includes("/models/") ? "models" : "page"] += n;
      }
    }
    return page.evaluate(() => window.genuqFirstResultMs);
  });
  return { median: median(ms), ms, bytes: { ...bytes, total: bytes.wasm + bytes.models + bytes.page } };
}

/** One compute path of the demo on a fresh profile: first result, then Genuq.bench() in the page. */
async function measure(compute) {
  const browser = await launch({ webgpu: true });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?compute=${compute}`);
    await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, { timeout: 600_000 });
    if ((await page.evaluate(() => document.body.dataset.state)) !== "ready") {
      throw new Error(`the demo did not start on ${compute}: ${await page.textContent("#status")}`);
    }
    const firstResultMs = await page.evaluate(() => window.genuqFirstResultMs);
    const report = await page.evaluate((r) => window.genuqModel().bench(r), repeats);
    const info = await page.evaluate(() => window.genuqModel().adapter);
    const adapter = compute === "cpu"
      ? `CPU path in headless Chromium: ${info.name}, ${info.driver}`
      : `WebGPU in headless Chromium: ${await page.evaluate(async () => {
        const a = await navigator.gpu.requestAdapter();
        const i = a.info ?? {};
        return [i.vendor, i.architecture, i.description].filter(Boolean).join(" ") || "unnamed";
      })}`;
    const what = compute === "cpu" ? "no shaders, one generation on the CPU" : "shader compilation, one generation";
    const cpu = compute === "cpu" ? await batches(page) : null;
    const first = compute === "cpu" ? await firstResults(Number(process.env.FIRST_RUNS ?? 5)) : null;
    const network = compute === "cpu" ? await firstResults(Number(process.env.FIRST_RUNS ?? 5), gzipServer, NETWORK) : null;
    return {
      ...report,
      adapter,
      wasm_bytes: wasm.length,
      wasm_gzip_bytes: gzipSync(wasm, { level: 9 }).length,
      ...(cpu && {
        wasm_cpu_bytes: wasmCpu.length,
        wasm_cpu_gzip_bytes: gzipSync(wasmCpu, { level: 9 }).length,
        batch64_ms: cpu.one,
        batch64_pool_ms: cpu.many,
        batch_workers: cpu.workers,
        batch_speedup: cpu.one / cpu.many,
        main_thread_long_tasks: cpu.longTasks,
        batch_note: "64 generations at 4 steps, weight samples at the first (M = 8; the heaviest default this demo had), after a warm-up of 8: one worker, then the pool of min(hardwareConcurrency, 4) workers; long tasks (> 50 ms) on the main thread during the pool's batch",
      }),
      first_result_ms: first?.median ?? firstResultMs,
      ...(first && { first_result_runs_ms: first.ms, bytes_before_first_result: first.bytes }),
      ...(network && {
        first_result_network_ms: network.median,
        first_result_network_runs_ms: network.ms,
        first_result_network_note: `the first result as above over Chrome's network emulation (${NETWORK.latency} ms round trip, ${NETWORK.bps / 1e6} MB/s down, the workers' requests too) from a server that gzips every file, as GitHub Pages does; ${network.bytes.total} bytes on the wire before it`,
      }),
      first_result_note: `browser: navigation start to the first result on screen, fresh profile (download from localhost, uncompressed, ${what})${first ? `; the median of ${first.ms.length} fresh profiles, and the response bytes fetched before it in the first` : ""}`,
    };
  } finally {
    await browser.close();
  }
}

const wasm = readFileSync(path.join(dist, "pkg", "genuq_bg.wasm"));
const wasmCpu = readFileSync(path.join(dist, "pkg", "genuq_cpu_bg.wasm"));
const server = await serve();
const gzipServer = await serve(undefined, { gzip: true });
try {
  const browser = await measure("webgpu");
  const browserCpu = await measure("cpu");
  const ratios = {
    uncertainty_ms: browserCpu.uncertainty_ms / browser.uncertainty_ms,
    plain_ms: browserCpu.plain_ms / browser.plain_ms,
    first_result_ms: browserCpu.first_result_ms / browser.first_result_ms,
  };
  mkdirSync(path.dirname(out), { recursive: true });
  const all = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : {};
  all.browser = browser;
  all.browser_cpu = { ...browserCpu, over_webgpu: ratios };
  writeFileSync(out, JSON.stringify(all, null, 2) + "\n");
  console.log(JSON.stringify({ browser, browser_cpu: all.browser_cpu }, null, 2));
  console.log(`wrote ${out}`);
} finally {
  server.kill();
  gzipServer.kill();
}
