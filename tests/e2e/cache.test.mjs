// End-to-end: the browser's cache of model files (the Cache API, kept by the wasm loader). A
// full quota (stubbed: every cache.put in the worker rejects with QuotaExceededError) costs only
// the next visit a download: the demo generates from memory and the console says why; and
// clearCache() (genuq-widget.js) deletes what genuq cached.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, serve, watchErrors } from "./harness.mjs";

const LONG = { timeout: 300_000 };
/** The wasm's Cache API bucket (crate/src/wasm/cache.rs). */
const BUCKET = "genuq-models";
/** Put at the top of genuq-worker.js: the quota is full. */
const FULL = `Cache.prototype.put = () => Promise.reject(new DOMException("the quota is full (stub)", "QuotaExceededError"));\n`;
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: false });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/** The demo on the CPU path in a fresh profile, ready; `full`: the worker's cache refuses every file. */
async function demo({ full = false } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const warnings = [];
  page.on("console", (m) => m.type() === "warning" && warnings.push(m.text()));
  if (full) {
    await page.route("**/genuq-worker.js", async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, body: FULL + (await response.text()) });
    });
  }
  await page.goto(`${server.url}/?compute=cpu`);
  await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, LONG);
  assert.equal(await page.evaluate(() => document.body.dataset.state), "ready", await page.textContent("#status"));
  return { context, page, errors, warnings };
}

/** The URLs in genuq's cache bucket of the page's origin ([] when there is no bucket). */
function cachedUrls(page) {
  return page.evaluate(async (bucket) => {
    if (!(await caches.has(bucket))) return [];
    return (await (await caches.open(bucket)).keys()).map((r) => r.url);
  }, BUCKET);
}

test("a full cache quota: the demo generates from memory, and the console says why", async () => {
  const { context, page, errors, warnings } = await demo({ full: true });
  assert.match(await page.textContent("#percentile"), /of \w[\w -]* generations/);
  assert.deepEqual(await cachedUrls(page), [], "nothing was cached");
  const notes = warnings.filter((w) => /not kept in the browser's cache \(QuotaExceededError/.test(w));
  assert.ok(notes.length >= 1, `a console note per refused file, got: ${JSON.stringify(warnings)}`);
  assert.ok(notes.every((n) => /used from memory/.test(n) && /clearCache\(\)/.test(n)), notes[0]);
  assert.deepEqual(errors, []);
  await context.close();
});

test("clearCache() deletes the cached models; the next load downloads them again", async () => {
  const { context, page, errors } = await demo();
  const urls = await cachedUrls(page);
  assert.ok(urls.some((u) => u.endsWith("/student.safetensors")), `the models are cached: ${urls}`);
  const cleared = await page.evaluate(async () => (await import(new URL("genuq-widget.js", document.baseURI).href)).clearCache());
  assert.equal(cleared, true);
  assert.deepEqual(await cachedUrls(page), []);
  const again = await page.evaluate(async () => (await import(new URL("genuq-widget.js", document.baseURI).href)).clearCache());
  assert.equal(again, false, "nothing left to delete");
  // the next visit fetches the models from the network again (and caches them again)
  const fetched = [];
  page.on("requestfinished", (r) => fetched.push(new URL(r.url()).pathname));
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.state === "ready", null, LONG);
  assert.ok(fetched.some((p) => p.endsWith("/models/student.safetensors")), `fetched again: ${fetched.filter((p) => p.includes("models/"))}`);
  assert.ok((await cachedUrls(page)).some((u) => u.endsWith("/student.safetensors")), "cached again");
  assert.deepEqual(errors, []);
  await context.close();
});
