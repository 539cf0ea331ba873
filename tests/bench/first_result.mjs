// Where the first result's time goes on the CPU path: the demo (dist/) in headless Chromium on a
// fresh profile, RUNS times (default 5); for each, the page's clock (ms since navigation) when
// the page was parsed, when the wasm download began (the worker is up), when the models began,
// when the first generation began (the models it starts with loaded), and the first result; and
// of the first generation's stage, the generation's own time in the worker, its wait there for
// the model files it needs last, and the page's drawing of it.
// Prints each run and the medians of the stages' durations. Usage: GENUQ_DIST=dist node
// tests/bench/first_result.mjs
// (COMPUTE=webgpu: the WebGPU module on the browser's adapter, SwiftShader here). A network
// instead of localhost: LATENCY=40 BPS=5e6 (Chrome's network emulation: ms of round trip and
// bytes per second down; the workers' requests too) and GZIP=1 (the server compresses, as
// GitHub Pages does). TRACE=FILE: the first run also writes a Chrome trace (every thread: the
// page, the worker, the compile threads; open it in ui.perfetto.dev) to FILE.
import { writeFileSync } from "node:fs";
import { emulateNetwork, serve } from "../e2e/harness.mjs";
import { freshProfiles, line, medians } from "./fresh.mjs";

const TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "v8.wasm", "v8.execute", "blink", "loading", "toplevel"];

const runs = Number(process.env.RUNS ?? 5);
const compute = process.env.COMPUTE ?? "cpu";
const server = await serve(undefined, { gzip: process.env.GZIP === "1" });
let rows;
try {
  rows = await freshProfiles(runs, async (browser, i) => {
    const page = await browser.newPage();
    if (process.env.LATENCY) await emulateNetwork(page, { latency: Number(process.env.LATENCY), bps: Number(process.env.BPS ?? 5e6) });
    const tracing = process.env.TRACE && i === 0;
    if (tracing) await browser.startTracing(page, { categories: TRACE_CATEGORIES });
    await page.goto(`${server.url}/?compute=${compute}`);
    await page.waitForFunction(() => document.body.dataset.state === "ready", null, { timeout: 120_000 });
    if (tracing) writeFileSync(process.env.TRACE, await browser.stopTracing());
    const t = await page.evaluate(() => ({
      parsed: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
      ...window.genuqStageMs,
      result: window.genuqFirstResultMs,
      ...window.genuqFirstResultSplit,
    }));
    const row = {
      "page and worker start": t.wasm,
      "wasm fetch + compile": t.models - t.wasm,
      "models fetch + check + load": t.shaders - t.models,
      "first generation": t.result - t.shaders,
      "of it in the worker": t.workerMs,
      "of it waiting for files": t.waitMs,
      "of it drawing": t.drawMs,
      "first result": t.result,
    };
    console.log(`run ${i + 1}: ${line(row)} (page parsed at ${Math.round(t.parsed)})`);
    return row;
  });
} finally {
  server.kill();
}
console.log(`medians (ms): ${line(medians(rows))}`);
process.exit(0);
