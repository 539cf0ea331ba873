// End-to-end: the npm package. `npm pack` of dist/ (its package.json is web/package.json),
// installed from the tarball into an empty project, and the widget loaded from node_modules in a
// page: it finds its wasm and the packaged models by itself.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { launch, serve, watchErrors, canvasStats } from "./harness.mjs";

const LONG = { timeout: 300_000 };
const dist = process.env.GENUQ_DIST ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../dist");
let app, server, browser;

before(() => {
  const work = mkdtempSync(path.join(tmpdir(), "genuq-npm-"));
  const packed = execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: dist }).toString();
  const [info] = JSON.parse(packed);
  app = path.join(work, "app");
  execFileSync("mkdir", ["-p", app]);
  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", path.join(work, info.filename)], { cwd: app });
  writeFileSync(path.join(app, "index.html"), `<!doctype html><meta charset="utf-8"><title>app</title><link rel="icon" href="data:,">
<script type="module" src="node_modules/genuq/genuq-widget.js"></script>
<genuq-widget id="w" label="coat" seed="5" samples="4" loading="eager"></genuq-widget>`);
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test("npm pack makes a package with the API, its types, the widget and the demo's models", () => {
  const pkg = path.join(app, "node_modules", "genuq");
  const manifest = JSON.parse(readFileSync(path.join(pkg, "package.json"), "utf8"));
  assert.deepEqual(manifest.exports["./widget"], { types: "./genuq-widget.d.ts", default: "./genuq-widget.js" });
  for (const f of ["pkg/genuq.js", "pkg/genuq.d.ts", "pkg/genuq_bg.wasm", "pkg/genuq_cpu.js", "pkg/genuq_cpu_bg.wasm", "genuq-widget.js", "genuq-pool.js", "genuq-worker.js", "models/manifest.json", "models/student.safetensors", "models/clip_image.safetensors", "models/posterior.json", "models/reference_u.json", "models/class_text.json", "models/encoder.safetensors", "models/real_codes.safetensors"]) {
    assert.ok(existsSync(path.join(pkg, f)), `${f} is in the package`);
  }
  assert.ok(!existsSync(path.join(pkg, "models", "teacher.safetensors")), "only the models the browser loads");
  assert.match(readFileSync(path.join(pkg, "pkg", "genuq.d.ts"), "utf8"), /export interface GenerateRequest/);
});

test("npm pack --dry-run: the licenses, a README, the widget's types and its Custom Elements Manifest are in the package", () => {
  const [info] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: dist }).toString());
  const listed = new Set(info.files.map((f) => f.path));
  for (const f of ["LICENSE-MIT", "LICENSE-APACHE", "README.md", "package.json", "genuq-widget.js", "genuq-widget.d.ts", "custom-elements.json", "pkg/genuq.d.ts", "prerendered/sneaker.png"]) {
    assert.ok(listed.has(f), `${f} is listed by npm pack --dry-run`);
  }
  const manifest = JSON.parse(readFileSync(path.join(dist, "package.json"), "utf8"));
  assert.match(manifest.repository.url, /^git\+https:\/\/github\.com\/[^/]+\/genuq\.git$/);
  assert.match(manifest.homepage, /^https:\/\//);
  assert.match(manifest.bugs.url, /\/issues$/);
  assert.equal(manifest.license, "MIT OR Apache-2.0");
  assert.equal(manifest.customElements, "custom-elements.json");
  for (const f of ["LICENSE-MIT", "LICENSE-APACHE", "README.md"]) assert.ok(manifest.files.includes(f), `files names ${f}`);
});

test("importing the widget module in Node (server-side rendering) works, and custom-elements.json describes every attribute", async () => {
  // no HTMLElement, customElements or document here: the import must not need them
  const widget = await import(path.join(dist, "genuq-widget.js"));
  assert.equal(typeof widget.setBasePath, "function");
  const observed = widget.GenuqWidget.observedAttributes;
  assert.ok(observed.includes("poster") && observed.includes("label"));
  const cem = JSON.parse(readFileSync(path.join(dist, "custom-elements.json"), "utf8"));
  assert.equal(cem.schemaVersion, "1.0.0");
  const element = cem.modules.flatMap((m) => m.declarations).find((d) => d.tagName === "genuq-widget");
  assert.ok(element?.customElement, "a custom element declaration for genuq-widget");
  assert.deepEqual(element.attributes.map((a) => a.name).sort(), [...observed].sort(), "every observed attribute, and no other");
  for (const kind of ["events", "slots", "cssParts", "cssProperties"]) assert.ok(element[kind]?.length, `${kind} are described`);
  for (const type of ["progress", "load", "result", "error"]) assert.ok(element.events.some((e) => e.name === type), `the ${type} event`);
  const exported = cem.modules.flatMap((m) => m.exports);
  assert.ok(exported.some((e) => e.kind === "custom-element-definition" && e.name === "genuq-widget"));
  // the parts the manifest names are the shadow root's
  const source = readFileSync(path.join(dist, "genuq-widget.js"), "utf8");
  const parts = [...source.matchAll(/part="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(element.cssParts.map((p) => p.name).sort(), [...new Set(parts)].sort());
});

test("the widget loads from node_modules and makes a generation", async () => {
  server = await serve(app);
  browser = await launch({ webgpu: true });
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/index.html`);
  await page.waitForFunction(() => document.getElementById("w").dataset.u || !document.getElementById("w").shadowRoot.querySelector(".error").hidden, null, LONG);
  const error = await page.evaluate(() => document.getElementById("w").shadowRoot.querySelector(".error span").textContent);
  assert.equal(error, "", "no error");
  const stats = await canvasStats(page, "#w", ".image");
  assert.ok(stats.std > 10, "a non-blank image");
  assert.deepEqual(errors, []);
});
