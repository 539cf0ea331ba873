// Shared by the e2e tests: serve dist/ under /genuq/, launch Debian's chromium headless.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
// playwright-core lives in the tools cache (dev.sh sets NODE_PATH), or in a local node_modules.
const { chromium } = require(require.resolve("playwright-core", {
  paths: [process.cwd(), ...(process.env.NODE_PATH ?? "").split(path.delimiter).filter(Boolean)],
}));

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, "../..");
export const outDir = path.join(root, "test-output");

/** Serves `dist` (the built site unless told otherwise) under /genuq/ on localhost; with `gzip`,
 * compressed without a Content-Length, as GitHub Pages and CDNs send it; with `hold` (a file
 * name), that file's requests wait for `${url}/__release` (serve.py; `${url}/__arrivals` says
 * when each request reached the server). */
export async function serve(dist = process.env.GENUQ_DIST ?? path.join(root, "dist"), { gzip = false, hold = null } = {}) {
  const port = 18000 + Math.floor(Math.random() * 2000);
  const args = [path.join(here, "serve.py"), dist, String(port), ...(gzip ? ["--gzip"] : []), ...(hold ? ["--hold", hold] : [])];
  const proc = spawn("python3", args, { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    proc.stdout.once("data", resolve);
    proc.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/genuq`, kill: () => proc.kill() };
}

export async function launch({ webgpu }) {
  const args = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run"];
  if (webgpu) args.push("--enable-unsafe-webgpu");
  // CHROME_ARGS: more flags, for experiments (e.g. "--js-flags=--no-liftoff": docs/benchmarks.md)
  if (process.env.CHROME_ARGS) args.push(...process.env.CHROME_ARGS.split(" "));
  return chromium.launch({ executablePath: process.env.CHROME ?? "/usr/bin/chromium", headless: true, args });
}

/** Chrome's network emulation on `page` (and the workers it starts): `latency` ms of round trip,
 * `bps` bytes per second down (a fifth of it up). */
export async function emulateNetwork(page, { latency, bps }) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency, downloadThroughput: bps, uploadThroughput: bps / 5 });
}

/** A screenshot into test-output/; with `docs` and GENUQ_UPDATE_DOCS=1 also into docs/ (the README's pictures). */
export async function shoot(page, name, { fullPage = true, docs = false } = {}) {
  mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage });
  if (docs && process.env.GENUQ_UPDATE_DOCS === "1") await page.screenshot({ path: path.join(root, "docs", `${name}.png`), fullPage });
}

/** Console errors and uncaught exceptions of `page`, collected as they happen. */
export function watchErrors(page) {
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** Size, grey-level spread and number of distinct colours of a canvas (optionally in a shadow root). */
export async function canvasStats(page, selector, inShadow) {
  return page.evaluate(([selector, inShadow]) => {
    let c = document.querySelector(selector);
    if (inShadow) c = c.shadowRoot.querySelector(inShadow);
    const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
    const grey = [];
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4) {
      grey.push((data[i] + data[i + 1] + data[i + 2]) / 3);
      colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    }
    const mean = grey.reduce((a, b) => a + b, 0) / grey.length;
    const std = Math.sqrt(grey.reduce((a, b) => a + (b - mean) ** 2, 0) / grey.length);
    return { width: c.width, height: c.height, std, colours: colours.size };
  }, [selector, inShadow]);
}
