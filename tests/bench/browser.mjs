// The browser half of `./dev.sh bench`: the demo (dist/) in headless Chromium on WebGPU.
// Measures page load -> first result on a fresh profile, then runs Genuq.bench() in the page
// (the same Rust code as `genuq bench`), and stores it as the "browser" entry of reports/bench.json.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { launch, serve } from "../e2e/harness.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const dist = process.env.GENUQ_DIST ?? path.join(root, "dist");
const out = path.join(root, "reports", "bench.json");
const repeats = Number(process.env.REPEATS ?? 5);

const server = await serve();
const browser = await launch({ webgpu: true });
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, { timeout: 600_000 });
  if ((await page.evaluate(() => document.body.dataset.state)) !== "ready") {
    throw new Error(`the demo did not start: ${await page.textContent("#status")}`);
  }
  const firstResultMs = await page.evaluate(() => window.genuqFirstResultMs);
  const report = await page.evaluate((r) => window.genuqModel().bench(r), repeats);
  const adapter = await page.evaluate(async () => {
    const a = await navigator.gpu.requestAdapter();
    const i = a.info ?? {};
    return [i.vendor, i.architecture, i.description].filter(Boolean).join(" ") || "unnamed";
  });
  const wasm = readFileSync(path.join(dist, "pkg", "genuq_bg.wasm"));
  const manifest = JSON.parse(readFileSync(path.join(dist, "models", "manifest.json"), "utf8"));
  const demoFiles = ["student.safetensors", "clip_image.safetensors", "posterior.json", "reference_u.json"];
  const entry = {
    ...report,
    adapter: `WebGPU in headless Chromium: ${adapter}`,
    wasm_bytes: wasm.length,
    wasm_gzip_bytes: gzipSync(wasm, { level: 9 }).length,
    weights_bytes: manifest.files.filter((f) => demoFiles.includes(f.name)).reduce((a, f) => a + f.bytes, 0),
    first_result_ms: firstResultMs,
    first_result_note: "browser: navigation start to the first result on screen, fresh profile (download from localhost, shader compilation, one generation)",
  };
  mkdirSync(path.dirname(out), { recursive: true });
  const all = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : {};
  all.browser = entry;
  writeFileSync(out, JSON.stringify(all, null, 2) + "\n");
  console.log(JSON.stringify(entry, null, 2));
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  server.kill();
}
