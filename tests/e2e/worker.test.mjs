// End-to-end: the computation lives in Web Workers (web/genuq-pool.js, web/genuq-worker.js), on
// the CPU path in headless Chromium without WebGPU: the CPU-only module is what "auto" loads,
// the main thread stays free during a batch, the pool gives one worker's numbers, a stopped
// worker loses nothing finished, progress moves on a host that compresses, and the model files
// a generation starts with download beside the wasm.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, serve, watchErrors } from "./harness.mjs";

const LONG = { timeout: 600_000 };
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: false });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

/** The demo at `query`, ready, with the long tasks of its main thread recorded and the URLs it fetched. */
async function demo(query = "") {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  const fetched = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  await page.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: "longtask", buffered: true });
  });
  await page.goto(`${server.url}/${query}`);
  await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, LONG);
  assert.equal(await page.evaluate(() => document.body.dataset.state), "ready", await page.textContent("#status"));
  return { page, errors, fetched };
}

test("auto without WebGPU loads the CPU-only module, in a worker, and never the WebGPU one", async () => {
  const { page, errors, fetched } = await demo();
  assert.ok(fetched.some((p) => p.endsWith("/pkg/genuq_cpu_bg.wasm")), "the CPU module is fetched");
  assert.ok(!fetched.some((p) => p.endsWith("/pkg/genuq_bg.wasm")), "the WebGPU module is not");
  assert.ok(page.workers().length >= 1, "a worker runs the models");
  assert.deepEqual(errors, []);
  await page.close();
});

test("a batch of 64 at 4 steps runs in the workers: the main thread stays free", async () => {
  const { page, errors } = await demo();
  await page.selectOption("#steps", "4");
  const start = await page.evaluate(() => performance.now());
  await page.click("#batch64");
  await page.waitForFunction(() => document.body.dataset.state === "batch-done", null, LONG);
  const end = await page.evaluate(() => performance.now());
  assert.equal(await page.$$eval("#batch .cell", (c) => c.length), 64);
  const tasks = await page.evaluate(([a, b]) => window.longTasks.filter((t) => t.start >= a && t.start <= b), [start, end]);
  const blocked = tasks.reduce((s, t) => s + t.duration, 0);
  console.log(`batch of 64 at 4 steps: ${(end - start).toFixed(0)} ms, ${page.workers().length} workers; main-thread long tasks: ${tasks.length} (${blocked.toFixed(0)} ms)`);
  // on the main thread the batch was one long task per generation (all of its time); here the
  // page only paints: far below a quarter of the batch's time, whatever this machine's speed
  assert.ok(blocked < 0.25 * (end - start), `long tasks took ${blocked.toFixed(0)} of ${(end - start).toFixed(0)} ms`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the pool gives exactly the numbers one worker gives (same seeds, same streams)", async () => {
  const { page } = await demo();
  const out = await page.evaluate(async () => {
    const m = await import("./genuq-widget.js");
    const one = await m.loadGenuq(undefined, undefined, "cpu", 1);
    const pool = await m.loadGenuq(undefined, undefined, "cpu", 4);
    const requests = Array.from({ length: 8 }, (_, i) => ({ class: i, seed: 100 + i, samples: 4, steps: 2 }));
    const pick = (g) => ({ u: g.u, image: Array.from(g.image).join(), heatmap: Array.from(g.heatmap).join(), shipped: g.shipped?.value ?? null });
    const a = (await Promise.all(requests.map((r) => one.model.generate(r)))).map(pick);
    const b = (await Promise.all(requests.map((r) => pool.model.generate(r)))).map(pick);
    return { a, b, workers: [one.model.pool.workers.length, pool.model.pool.workers.length], cores: navigator.hardwareConcurrency };
  });
  assert.equal(out.workers[0], 1);
  if (out.cores > 1) assert.ok(out.workers[1] > 1, `the pool grew to ${out.workers[1]} workers on ${out.cores} cores`);
  assert.deepEqual(out.b, out.a);
  await page.close();
});

test("the CPU-only module computes what the full module computes on the CPU path", async () => {
  const { page } = await demo();
  const out = await page.evaluate(async () => {
    const run = async (name) => {
      const glue = await import(`./pkg/${name}.js`);
      await glue.default({ module_or_path: `./pkg/${name}_bg.wasm` });
      const g = await glue.Genuq.load("models/", { compute: "cpu" });
      const r = await g.generate({ class: "bag", seed: 7, samples: 8, steps: 4, perturb: "first" });
      const webgpu = await glue.Genuq.load("models/", { compute: "webgpu" }).then(() => null, (e) => [e.name, e.message]);
      return { u: r.u, image: Array.from(r.image).join(), heatmap: Array.from(r.heatmap).join(), probability: r.classSpace.probability, webgpu };
    };
    return { cpu: await run("genuq_cpu"), full: await run("genuq") };
  });
  assert.equal(out.cpu.u, out.full.u);
  assert.equal(out.cpu.image, out.full.image);
  assert.equal(out.cpu.heatmap, out.full.heatmap);
  assert.equal(out.cpu.probability, out.full.probability);
  assert.equal(out.cpu.webgpu[0], "GenuqDeviceError");
  assert.match(out.cpu.webgpu[1], /CPU path alone/);
  await page.close();
});

test("a worker stopped mid-batch: a clear error, the finished generations stay, Retry works", async () => {
  const { page } = await demo();
  await page.click("#batch64");
  await page.waitForFunction(() => Number(document.getElementById("batch-status").textContent.split(" / ")[0]) >= 4, null, LONG);
  await page.evaluate(() => import("./genuq-widget.js").then((m) => m.stopWorkers()));
  await page.waitForFunction(() => document.body.dataset.state === "error", null, LONG);
  assert.match(await page.textContent("#status"), /genuq stopped: the genuq worker stopped/);
  const kept = await page.$$eval("#batch .cell", (c) => c.length);
  assert.ok(kept >= 4 && kept < 64, `${kept} finished generations are still shown`);
  assert.match(await page.textContent("#batch-status"), new RegExp(`^${kept} of 64 finished`));
  await page.click("#retry");
  await page.waitForFunction(() => document.body.dataset.state === "ready", null, LONG);
  assert.ok(page.workers().length >= 1);
  assert.match(await page.textContent("#percentile"), /further from real garments than/);
  await page.close();
});

test("progress moves where the host compresses and sends no Content-Length (sizes from the manifest)", async () => {
  const gz = await serve(undefined, { gzip: true });
  const page = await browser.newPage();
  try {
    await page.goto(`${gz.url}/embed.html`);
    const events = await page.evaluate(async () => {
      const m = await import("./genuq-widget.js");
      const seen = [];
      // (the folder named without its trailing slash: the worker takes it as a folder too)
      await m.loadGenuq("models", (p) => seen.push({ stage: p.stage, loaded: p.loaded, total: p.total, t: p.totalProgress }), "cpu", 1);
      return seen;
    });
    const wasm = events.filter((e) => e.stage === "wasm");
    assert.ok(wasm.length > 0 && wasm.every((e) => e.total > 0), "the wasm's size is known");
    assert.ok(wasm.at(-1).t > 0.75, `the bar reaches ${wasm.at(-1).t} after the wasm`);
    const models = events.filter((e) => e.stage === "models");
    assert.ok(models.at(-1).t > 0.95, "and near the end after the models");
    for (let i = 1; i < events.length; i++) assert.ok(events[i].t >= events[i - 1].t, "it never goes back");
  } finally {
    await page.close();
    gz.kill();
  }
});

test("the page is ready to generate before the files the first generation needs last, and that generation waits for them", async () => {
  // the server holds the reference table back and says when its request arrived
  const holding = await serve(undefined, { hold: "reference_u.json" });
  const page = await browser.newPage();
  try {
    const errors = watchErrors(page);
    await page.goto(`${holding.url}/?compute=cpu`);
    // the load resolves (the "shaders" stage: the first generation began) without the reference table
    await page.waitForFunction(() => window.genuqStageMs?.shaders, null, { timeout: 120_000 });
    const resolved = await page.evaluate(() => performance.timeOrigin + window.genuqStageMs.shaders);
    const arrivals = await (await fetch(`${holding.url}/__arrivals`)).json();
    const asked = arrivals.find(([p]) => p.endsWith("/models/reference_u.json"))?.[1];
    assert.ok(asked !== undefined && asked < resolved, `the reference table was asked for before the load resolved (${asked && (asked - resolved).toFixed(1)} ms)`);
    await new Promise((r) => setTimeout(r, 1500));
    assert.notEqual(await page.evaluate(() => document.body.dataset.state), "ready", "no result without the reference table");
    await fetch(`${holding.url}/__release`);
    await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, LONG);
    assert.equal(await page.evaluate(() => document.body.dataset.state), "ready", await page.textContent("#status"));
    // the percentiles come from the table that came last
    assert.match(await page.textContent("#percentile"), /further from real garments than \d+% of \S+ generations/);
    const wait = await page.evaluate(() => window.genuqFirstResultSplit.waitMs);
    assert.ok(wait > 500, `the first generation waited ${wait} ms for the table`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    holding.kill();
  }
});

test("the files a generation starts with download beside the wasm (the manifest's first_files), each model file once", async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  const fetched = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname.split("/").pop()));
  // the module is held back until the student is asked for (at most 15 s): on a build that asks
  // for the model files once the module runs, the student comes after the wait
  let seen;
  const student = new Promise((r) => (seen = r));
  page.on("request", (r) => r.url().endsWith("/models/student.safetensors") && seen(true));
  let early = false;
  await page.route("**/pkg/genuq_cpu_bg.wasm", async (route) => {
    early = await Promise.race([student, new Promise((r) => setTimeout(() => r(false), 15_000))]);
    await route.continue();
  });
  await page.goto(`${server.url}/?compute=cpu`);
  await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, LONG);
  assert.equal(await page.evaluate(() => document.body.dataset.state), "ready", await page.textContent("#status"));
  assert.ok(early, "the student was asked for before the wasm arrived");
  const [manifest, first] = await page.evaluate(async () => {
    const glue = await import("./pkg/genuq_cpu.js");
    await glue.default({ module_or_path: "./pkg/genuq_cpu_bg.wasm" });
    return [await (await fetch("models/manifest.json")).json(), glue.firstFiles()];
  });
  assert.deepEqual(manifest.first_files, first, "the served manifest lists what the module names");
  for (const name of manifest.files.map((f) => f.name).filter((n) => fetched.includes(n))) {
    assert.equal(fetched.filter((n) => n === name).length, 1, `${name} is fetched once`);
  }
  assert.ok(manifest.first_files.every((n) => fetched.includes(n)), "each first file is fetched");
  assert.deepEqual(errors, []);
  await page.close();
});

test("Genuq.load({requests}): the caller's request stands in for the loader's own; a bad one fails as a download does; a wrong type is a GenuqInputError", async () => {
  const page = await browser.newPage();
  const fetched = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname.split("/").pop()));
  await page.goto(`${server.url}/style.css`); // a page of this origin that loads no models itself
  const out = await page.evaluate(async () => {
    const glue = await import("./pkg/genuq_cpu.js");
    await glue.default({ module_or_path: "./pkg/genuq_cpu_bg.wasm" });
    const load = async (options) => {
      await glue.clearCache(); // a cached file would leave the request unused
      return glue.Genuq.load("models/", { compute: "cpu", ...options }).then(() => "loaded", (e) => [e.name, e.message]);
    };
    const student = (body, init) => Promise.resolve(new Response(body, init));
    return {
      own: await load({ requests: { "student.safetensors": fetch("models/student.safetensors", { cache: "no-cache" }) } }),
      corrupt: await load({ requests: { "student.safetensors": student("not a model") } }),
      missing: await load({ requests: { "student.safetensors": student("", { status: 404, statusText: "Not Found" }) } }),
      failed: await load({ requests: { "student.safetensors": Promise.reject(new TypeError("Failed to fetch")) } }),
      notResponse: await load({ requests: { "student.safetensors": Promise.resolve("bytes") } }),
      read: await load({ requests: { "student.safetensors": student("x").then(async (r) => (await r.text(), r)) } }),
      notPromise: await load({ requests: { "student.safetensors": 5 } }),
      notBytes: await load({ files: { "student.safetensors": 5 } }),
    };
  });
  assert.equal(out.own, "loaded");
  assert.equal(fetched.filter((n) => n === "student.safetensors").length, 1, "the student is fetched once, by the page");
  assert.equal(out.corrupt[0], "GenuqModelError");
  assert.match(out.corrupt[1], /student\.safetensors: 11 bytes, the manifest says \d+/);
  assert.equal(out.missing[0], "GenuqModelError");
  assert.match(out.missing[1], /downloading \S+student\.safetensors failed: HTTP 404/);
  assert.deepEqual(out.failed, ["GenuqModelError", "model: downloading models/student.safetensors failed: Failed to fetch"]);
  assert.deepEqual(out.notResponse, ["GenuqModelError", "model: downloading models/student.safetensors failed: the request gave no Response"]);
  assert.deepEqual(out.read, ["GenuqModelError", "model: downloading models/student.safetensors failed: its Response was read already"]);
  assert.deepEqual(out.notPromise, ["GenuqInputError", "invalid input: load options: requests: student.safetensors is not a Promise"]);
  assert.deepEqual(out.notBytes, ["GenuqInputError", "invalid input: load options: files: student.safetensors is not a Uint8Array"]);
  await page.close();
});
