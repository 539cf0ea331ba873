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
  assert.equal(manifest.exports["./widget"], "./genuq-widget.js");
  for (const f of ["pkg/genuq.js", "pkg/genuq.d.ts", "pkg/genuq_bg.wasm", "genuq-widget.js", "models/manifest.json", "models/student.safetensors"]) {
    assert.ok(existsSync(path.join(pkg, f)), `${f} is in the package`);
  }
  assert.ok(!existsSync(path.join(pkg, "models", "teacher.safetensors")), "only the models the browser loads");
  assert.match(readFileSync(path.join(pkg, "pkg", "genuq.d.ts"), "utf8"), /export interface GenerateRequest/);
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
