// End-to-end: the npm tarball in the sites the widget is made for, set up as the README's recipes
// say, built by their bundlers and served as built: a VitePress site (its build pre-renders every
// page in Node, so importing genuq/widget there must not touch the DOM), a Docusaurus site
// (webpack 5; it pre-renders too, with the widget's module as a client module) and a plain Vite
// app.
// Each must make a real generation in headless Chromium with no console error.
//
// The bundlers are installed from the npm registry once, at pinned versions, into
// $GENUQ_CACHE/e2e-bundlers/ (default ~/.cache/genuq); later runs only install the new tarball.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { launch, serve, shoot, watchErrors, canvasStats } from "./harness.mjs";

const LONG = { timeout: 600_000 };
const dist = process.env.GENUQ_DIST ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../dist");
const cache = process.env.GENUQ_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"), "genuq");
/** What each site installs besides genuq (exact versions: a new release cannot break the test). */
const TOOLS = {
  vitepress: ["vitepress@1.6.4", "vue@3.5.13"],
  vite: ["vite@8.4.0"],
  docusaurus: ["@docusaurus/core@3.10.2", "@docusaurus/preset-classic@3.10.2", "@mdx-js/react@3.1.1", "react@19.2.0", "react-dom@19.2.0"],
};
/** The widget of both sites: the CPU path (no GPU needed, and quick), generating at once. */
const WIDGET = `<genuq-widget id="w" label="coat" seed="5" samples="4" compute="cpu" loading="eager"></genuq-widget>`;

let tarball, browser;
const servers = [];

function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } }).toString();
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed:\n${e.stdout}\n${e.stderr}`);
  }
}

/** The sites whose package.json has no `"type"` (as Docusaurus's own templates): its server
 * bundle needs `require.resolveWeak`, which `"type": "module"` breaks, and `"commonjs"` makes
 * webpack refuse `import` in src/. */
const UNTYPED = ["docusaurus"];

/** A project folder in the cache with `name`'s tools installed (once), and the tarball (every time). */
function project(name) {
  const dir = path.join(cache, "e2e-bundlers", name);
  const marker = path.join(dir, ".installed");
  const type = UNTYPED.includes(name) ? undefined : "module";
  const want = `${TOOLS[name].join(" ")} (${type})`;
  if (!existsSync(marker) || readFileSync(marker, "utf8") !== want) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: `genuq-e2e-${name}`, private: true, type }));
    run("npm", ["install", "--no-audit", "--no-fund", "--save-exact", ...TOOLS[name]], dir);
    writeFileSync(marker, want);
  }
  run("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir);
  return dir;
}

/** The README's step for a bundled site: the models (which no bundler copies) into the public folder. */
function copyModels(dir, publicDir) {
  cpSync(path.join(dir, "node_modules", "genuq", "models"), path.join(publicDir, "genuq", "models"), { recursive: true });
}

/** Serves `built` under /genuq/, opens it and waits for the widget's `result`; returns what it saw. */
async function generate(built, name) {
  const server = await serve(built);
  servers.push(server);
  browser ??= await launch({ webgpu: false });
  const page = await browser.newPage();
  const errors = watchErrors(page);
  page.on("response", (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));
  await page.addInitScript(() => {
    window.results = [];
    window.failures = [];
    document.addEventListener("result", (e) => window.results.push({ u: e.detail.u, cls: e.detail.class }));
    document.addEventListener("error", (e) => e.target.localName === "genuq-widget" && window.failures.push(String(e.detail?.message ?? e.detail)));
  });
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => window.results.length || window.failures.length, null, LONG);
  const seen = await page.evaluate(() => ({ results: window.results, failures: window.failures, compute: document.getElementById("w").dataset.compute }));
  const stats = seen.results.length ? await canvasStats(page, "#w", ".image") : null;
  await shoot(page, `bundler-${name}`);
  await page.close();
  return { ...seen, stats, errors };
}

function assertGenerated(seen) {
  assert.deepEqual(seen.failures, [], "the widget reports no error");
  assert.equal(seen.results.length, 1, "one result event");
  assert.equal(seen.results[0].cls, "coat");
  assert.ok(Number.isFinite(seen.results[0].u), "a real u");
  assert.equal(seen.compute, "cpu");
  assert.ok(seen.stats.std > 10, "a non-blank image");
  assert.deepEqual(seen.errors, [], "no console errors");
}

/** The files of `dir` (recursively), relative to it. */
function files(dir) {
  return readdirSync(dir, { recursive: true }).map(String);
}

before(() => {
  const work = mkdtempSync(path.join(tmpdir(), "genuq-bundlers-"));
  const [info] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], dist));
  tarball = path.join(work, info.filename);
});

after(async () => {
  await browser?.close();
  servers.forEach((s) => s.kill());
});

test("VitePress (pre-rendered in Node) from the npm tarball: the widget renders, loads and generates", LONG, async () => {
  const dir = project("vitepress");
  const docs = path.join(dir, "docs");
  rmSync(docs, { recursive: true, force: true });
  mkdirSync(path.join(docs, ".vitepress", "theme"), { recursive: true });
  // the README's VitePress recipe
  copyModels(dir, path.join(docs, "public"));
  writeFileSync(path.join(docs, ".vitepress", "config.mjs"), `export default {
  title: "genuq in VitePress",
  base: "/genuq/",
  head: [["link", { rel: "icon", href: "data:," }]],
  vue: { template: { compilerOptions: { isCustomElement: (tag) => tag === "genuq-widget" } } },
};
`);
  writeFileSync(path.join(docs, ".vitepress", "theme", "index.mjs"), `import DefaultTheme from "vitepress/theme";
import { setBasePath } from "genuq/widget";

setBasePath(import.meta.env.BASE_URL + "genuq/");

export default DefaultTheme;
`);
  writeFileSync(path.join(docs, "index.md"), `# A generation and its uncertainty

${WIDGET}
`);
  run("npx", ["vitepress", "build", "docs"], dir);
  const built = path.join(docs, ".vitepress", "dist");
  assert.match(readFileSync(path.join(built, "index.html"), "utf8"), /<genuq-widget id="w" label="coat"/, "the page was pre-rendered with the widget");
  assert.ok(files(built).some((f) => /^assets\/.*\.wasm$/.test(f)), "the bundler emitted the wasm");
  assertGenerated(await generate(built, "vitepress"));
});

test("Docusaurus (webpack 5, pre-rendered in Node) from the npm tarball: the widget renders, loads and generates", LONG, async () => {
  const dir = project("docusaurus");
  // webpack's persistent cache (node_modules/.cache) would keep the previous tarball's modules
  for (const d of ["src", "static", "build", ".docusaurus", "node_modules/.cache"]) rmSync(path.join(dir, d), { recursive: true, force: true });
  mkdirSync(path.join(dir, "src", "pages"), { recursive: true });
  // the README's Docusaurus recipe
  copyModels(dir, path.join(dir, "static"));
  writeFileSync(path.join(dir, "docusaurus.config.js"), `export default {
  title: "genuq in Docusaurus",
  url: "http://127.0.0.1",
  baseUrl: "/genuq/",
  favicon: "data:,",
  presets: [["classic", { docs: false, blog: false }]],
  clientModules: ["./src/genuq.js"],
};
`);
  writeFileSync(path.join(dir, "src", "genuq.js"), `import siteConfig from "@generated/docusaurus.config";
import { setBasePath } from "genuq/widget";

setBasePath(siteConfig.baseUrl + "genuq/");
`);
  writeFileSync(path.join(dir, "src", "pages", "index.mdx"), `# A generation and its uncertainty

${WIDGET}
`);
  run("npx", ["docusaurus", "build"], dir);
  const built = path.join(dir, "build");
  assert.match(readFileSync(path.join(built, "index.html"), "utf8"), /<genuq-widget id="w" label="coat"/, "the page was pre-rendered with the widget");
  assert.ok(files(built).some((f) => /\.wasm$/.test(f)), "the bundler emitted the wasm");
  assertGenerated(await generate(built, "docusaurus"));
});

test("a plain Vite app from the npm tarball: the widget loads and generates", LONG, async () => {
  const dir = project("vite");
  const app = path.join(dir, "app");
  rmSync(app, { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  // the README's recipe for a bundled site
  copyModels(dir, path.join(app, "public"));
  writeFileSync(path.join(app, "main.js"), `import { setBasePath } from "genuq/widget";

setBasePath(import.meta.env.BASE_URL + "genuq/");
`);
  writeFileSync(path.join(app, "index.html"), `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>genuq in Vite</title><link rel="icon" href="data:,">
<script type="module" src="./main.js"></script></head>
<body>
${WIDGET}
</body>
</html>
`);
  run("npx", ["vite", "build", "app", "--base", "/genuq/", "--logLevel", "warn"], dir);
  const built = path.join(app, "dist");
  assert.ok(files(built).some((f) => /^assets\/.*\.wasm$/.test(f)), "the bundler emitted the wasm");
  assertGenerated(await generate(built, "vite"));
});
