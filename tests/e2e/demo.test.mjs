// End-to-end: the built site (dist/) in headless Chromium with WebGPU, served under /genuq/.
// Run by `./dev.sh test` (node --test); playwright-core drives Debian's chromium, never a download.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, serve, shoot } from "./harness.mjs";

let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: true });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test("the demo loads the wasm and reports its WebGPU adapter", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => document.body.dataset.state, null, { timeout: 120_000 });
  await shoot(page, "demo");
  assert.equal(await page.evaluate(() => document.body.dataset.state), "ready", await page.textContent("#status"));
  const info = JSON.parse(await page.textContent("#adapter"));
  assert.equal(info.backend, "webgpu", "wgpu runs on the browser's WebGPU");
  assert.ok((info.browser.vendor || info.browser.architecture || "").length > 0, "the browser describes its adapter");
  assert.deepEqual(errors, []);
});

test("without WebGPU the page says so instead of going blank", async () => {
  const plain = await launch({ webgpu: false });
  try {
    const page = await plain.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.body.dataset.state, null, { timeout: 120_000 });
    await shoot(page, "no-webgpu");
    assert.equal(await page.evaluate(() => document.body.dataset.state), "error");
    assert.match(await page.textContent("#status"), /WebGPU/);
  } finally {
    await plain.close();
  }
});
