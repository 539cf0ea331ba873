// The browser half of `./dev.sh bench`: the demo (dist/) in headless Chromium, on WebGPU
// (SwiftShader here) and on the CPU path, in one run. For each: page load -> first result on a
// fresh profile, then Genuq.bench() in the page (the same Rust code as `genuq bench`); stored as
// the "browser" and "browser_cpu" entries of reports/bench.json.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { launch, serve } from "../e2e/harness.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const dist = process.env.GENUQ_DIST ?? path.join(root, "dist");
const out = path.join(root, "reports", "bench.json");
const repeats = Number(process.env.REPEATS ?? 5);

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
    return {
      ...report,
      adapter,
      wasm_bytes: wasm.length,
      wasm_gzip_bytes: gzipSync(wasm, { level: 9 }).length,
      weights_bytes: weightsBytes,
      first_result_ms: firstResultMs,
      first_result_note: `browser: navigation start to the first result on screen, fresh profile (download from localhost, ${what})`,
    };
  } finally {
    await browser.close();
  }
}

const wasm = readFileSync(path.join(dist, "pkg", "genuq_bg.wasm"));
const manifest = JSON.parse(readFileSync(path.join(dist, "models", "manifest.json"), "utf8"));
const demoFiles = ["student.safetensors", "clip_image.safetensors", "posterior.json", "reference_u.json"];
const weightsBytes = manifest.files.filter((f) => demoFiles.includes(f.name)).reduce((a, f) => a + f.bytes, 0);
const server = await serve();
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
}
