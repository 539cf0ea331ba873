// End-to-end: <genuq-widget> in a documentation-style page (web/embed.html).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, serve, shoot, watchErrors, canvasStats } from "./harness.mjs";

const LONG = { timeout: 300_000 };
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: true });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test("two widgets, one model load, two results; nothing loads before they are visible", async () => {
  const context = await browser.newContext({ viewport: { width: 900, height: 160 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const fetched = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  const progress = [];
  await page.exposeFunction("reportProgress", (p) => progress.push(p));
  await page.goto(`${server.url}/embed.html`);
  await page.waitForTimeout(1500);
  assert.deepEqual(fetched.filter((p) => p.includes("/models/")), [], "posters load nothing while out of view");
  await page.evaluate(() => document.querySelectorAll("genuq-widget").forEach((w) => w.addEventListener("progress", (e) => window.reportProgress(e.detail))));

  await page.setViewportSize({ width: 900, height: 1600 });
  await page.waitForFunction(() => [...document.querySelectorAll("genuq-widget")].every((w) => w.dataset.u), null, LONG);
  const model = fetched.filter((p) => p.endsWith("student.safetensors"));
  assert.equal(model.length, 1, `one download of the model for two widgets (${fetched.join(", ")})`);
  assert.ok(progress.length > 0 && progress.at(-1).loaded === progress.at(-1).total, "progress events up to the total");
  const us = await page.$$eval("genuq-widget", (ws) => ws.map((w) => Number(w.dataset.u)));
  assert.notEqual(us[0], us[1], "two different generations");
  for (const id of ["first", "second"]) {
    const stats = await canvasStats(page, `#${id}`, ".image");
    assert.ok(stats.std > 10, `${id}: a non-blank image`);
  }
  await shoot(page, "widget");
  assert.deepEqual(errors, []);

  // a second visit takes the verified models from the Cache API
  fetched.length = 0;
  await page.reload();
  await page.waitForFunction(() => [...document.querySelectorAll("genuq-widget")].every((w) => w.dataset.u), null, LONG);
  assert.deepEqual(fetched.filter((p) => p.endsWith(".safetensors")), [], "models come from the cache");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a widget with a bad attribute shows the error, not a blank box", async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/embed.html`);
  await page.evaluate(() => {
    const w = document.createElement("genuq-widget");
    w.id = "bad";
    w.setAttribute("class", "spaceship");
    document.body.prepend(w);
  });
  await page.waitForFunction(() => !document.getElementById("bad").shadowRoot.querySelector(".error").hidden, null, LONG);
  const text = await page.evaluate(() => document.getElementById("bad").shadowRoot.querySelector(".error span").textContent);
  assert.match(text, /class "spaceship" is not one of/);
  await page.close();
});

test("a corrupt model file is rejected with a clear message", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route("**/models/student.safetensors", async (route) => {
    const resp = await route.fetch();
    const body = await resp.body();
    body[body.length >> 1] ^= 0xff;
    await route.fulfill({ response: resp, body });
  });
  await page.goto(`${server.url}/`); // a fresh context: an empty Cache API
  await page.waitForFunction(() => document.body.dataset.state === "error", null, LONG);
  assert.match(await page.textContent("#status"), /student\.safetensors: sha256 \w+ does not match the manifest/);
  await context.close();
});
