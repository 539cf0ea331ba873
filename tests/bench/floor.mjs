// The first result's floor on this machine: a page that does only what every first result must
// do before any generation — start a module worker, compile the CPU-only module
// (`WebAssembly.compileStreaming`) and fetch the files a generation starts with (the served
// manifest's `first_files`), in parallel — in headless Chromium on a fresh profile, RUNS times
// (default 7), from the same localhost server as tests/bench/first_result.mjs. Prints each run,
// in ms since navigation: the page parsed, the worker's script running, the module compiled,
// the files in; then the medians. No instantiation, no model build, no generation, no drawing:
// the demo's first result cannot come sooner than this plus its first generation.
// Usage: GENUQ_DIST=dist node tests/bench/floor.mjs
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { serve } from "../e2e/harness.mjs";
import { freshProfiles, line, medians } from "./fresh.mjs";

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>floor</title>
<script type="module">
const worker = new Worker(new URL("worker.js", import.meta.url), { type: "module" });
worker.onmessage = (e) => { window.floor = { ...e.data, done: performance.now() }; document.body.dataset.state = "ready"; };
</script></head><body></body></html>`;

const WORKER = (files) => `const at = () => performance.timeOrigin + performance.now();
const up = at();
const files = Promise.all(${JSON.stringify(files)}.map((n) => fetch("models/" + n).then((r) => r.arrayBuffer())));
const module = WebAssembly.compileStreaming(fetch("pkg/genuq_cpu_bg.wasm")).then(at);
Promise.all([module, files.then(at)]).then(([compiled, filesIn]) => postMessage({ up, compiled, filesIn }));`;

/** A site of the floor page beside the dist's CPU-only module and first files. */
function site(dist) {
  const dir = mkdtempSync(path.join(tmpdir(), "genuq-floor-"));
  const files = JSON.parse(readFileSync(path.join(dist, "models", "manifest.json"), "utf8")).first_files;
  if (!Array.isArray(files)) throw new Error(`${dist}/models/manifest.json has no first_files: build the site with ./dev.sh`);
  mkdirSync(path.join(dir, "pkg"));
  mkdirSync(path.join(dir, "models"));
  copyFileSync(path.join(dist, "pkg", "genuq_cpu_bg.wasm"), path.join(dir, "pkg", "genuq_cpu_bg.wasm"));
  for (const name of files) copyFileSync(path.join(dist, "models", name), path.join(dir, "models", name));
  writeFileSync(path.join(dir, "index.html"), PAGE);
  writeFileSync(path.join(dir, "worker.js"), WORKER(files));
  return dir;
}

const dir = site(process.env.GENUQ_DIST ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../dist"));
const server = await serve(dir);
let rows;
try {
  rows = await freshProfiles(Number(process.env.RUNS ?? 7), async (browser, i) => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/index.html`);
    await page.waitForFunction(() => document.body.dataset.state === "ready", null, { timeout: 60_000 });
    const t = await page.evaluate(() => ({ parsed: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd, origin: performance.timeOrigin, ...window.floor }));
    const row = { "page parsed": t.parsed, "worker up": t.up - t.origin, "module compiled": t.compiled - t.origin, "files in": t.filesIn - t.origin, "page told": t.done };
    console.log(`run ${i + 1}: ${line(row)}`);
    return row;
  });
} finally {
  server.kill();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`medians (ms since navigation): ${line(medians(rows))}`);
process.exit(0);
