// <genuq-widget>: one generation with its uncertainty, embeddable in any page.
//
//   <script type="module" src="https://<user>.github.io/genuq/genuq-widget.js"></script>
//   <genuq-widget label="sneaker" seed="42" alt="A generated sneaker and where it is uncertain"></genuq-widget>
//
// Attributes (each mirrored as a JS property; `reveal` as `revealMode`, since `reveal()` is the
// method): `label` (the garment: a class name or 0-9),
// `seed`, `samples` (M), `steps` (1, 2 or 4) and `perturb` (all, first, last; both default to
// the sampler the evaluation picked), `src` (the models folder), `alt` (the accessible name),
// `loading` (`lazy`: when near the viewport, the default; `eager`: at once) and `reveal`
// (`auto`: generate when loaded; `interaction`: on a click, fetching early on hover or focus;
// `manual`: only on a click or `widget.reveal()`, nothing but the poster downloaded before) and `compute`
// (`auto`: WebGPU on a hardware adapter, else the CPU, the default; `webgpu`: WebGPU or the
// pictures rendered ahead of time; `cpu`). `class` stays the page's. Its words follow the closest
// `lang` (genuq-strings.js: English, German); the `strings` property overrides any of them.
// Every widget of a page (and the demo) shares one pool of Web Workers per `src` and `compute`
// (genuq-pool.js): the models load and run there, never on the page's main thread; on the CPU
// path a batch spreads over up to min(hardwareConcurrency, 4) workers. "auto" fetches the
// CPU-only wasm first (pkg/genuq_cpu_bg.wasm) and the WebGPU one only for a hardware adapter.
// Events (they bubble and cross the shadow root): `progress` ({stage, loaded, total,
// totalProgress} with totalProgress 0..1 over the wasm, the models and the first generation: "shaders", with `compute`),
// `load` (ready to generate), `result` (the Generation), `error` (an Error).
// Parts: poster, image, heatmap, colorbar, score (an aria-live region from the start), compute,
// progress, error, fallback; slot `poster` for your own. `hidden` hides it; its row wraps.
// Styling: --genuq-size (image side), --genuq-fg, --genuq-bg, --genuq-accent, --genuq-error,
// --genuq-font, --genuq-radius; dark defaults under prefers-color-scheme: dark.
// `poster` (an image URL) is shown until the generation: by default the generation of its label
// rendered ahead of time (`poster=""`: none).
//
// Where the files come from. The two wasm modules, their JS glue, the worker and the pre-rendered posters are referenced
// with `new URL("./...", import.meta.url)` literals: served as files they sit next to this module,
// and bundlers (Vite, Rollup, webpack 5, Parcel) see the literals and emit the files into their
// build. The models are fetched by name from a folder (`models/manifest.json` lists them), which
// no bundler copies: by default `models/` next to this module; `setBasePath(url)` (the folder
// holding a copy of the package's `models/`) or a widget's `src` (the models folder) point
// elsewhere. Importing this module touches no DOM (server-side rendering imports it in Node);
// the element is defined only where `customElements` exists.

import { Pool, clearCache as clearPoolCache, maxWorkers, stopWorkers } from "./genuq-pool.js";
import { CLASSES, STRINGS, garmentWords, normaliseLabel, sentence, stringsFor } from "./genuq-strings.js";
import { GET_WEBGPU, computeNote, describe, describeShipped, flagText, greyLevels, renderGeneration } from "./genuq-render.js";

export { STRINGS, normaliseLabel };
export * from "./genuq-render.js";

/** The module's own URL, through a variable: bundlers rewrite only literal `new URL("…", import.meta.url)`. */
const MODULE_URL = import.meta.url;
/** setBasePath()'s folder, or null: next to this module. */
let basePath = null;
let generation = 0; // bumped by reset(): a fresh wasm instance after a crash or a lost device
const shared = new Map(); // src -> {promise, listeners}

export { CLASSES };

let assetUrls = null;
/** The files a bundler can emit, each as a literal `new URL("./…", import.meta.url)` (kept literal on purpose). */
function assets() {
  assetUrls ??= {
    glue: new URL("./pkg/genuq.js", import.meta.url),
    wasm: new URL("./pkg/genuq_bg.wasm", import.meta.url),
    glueCpu: new URL("./pkg/genuq_cpu.js", import.meta.url),
    wasmCpu: new URL("./pkg/genuq_cpu_bg.wasm", import.meta.url),
    prerendered: new URL("./prerendered/index.json", import.meta.url),
    files: {
      "t-shirt.png": new URL("./prerendered/t-shirt.png", import.meta.url),
      "t-shirt-heatmap.png": new URL("./prerendered/t-shirt-heatmap.png", import.meta.url),
      "trouser.png": new URL("./prerendered/trouser.png", import.meta.url),
      "trouser-heatmap.png": new URL("./prerendered/trouser-heatmap.png", import.meta.url),
      "pullover.png": new URL("./prerendered/pullover.png", import.meta.url),
      "pullover-heatmap.png": new URL("./prerendered/pullover-heatmap.png", import.meta.url),
      "dress.png": new URL("./prerendered/dress.png", import.meta.url),
      "dress-heatmap.png": new URL("./prerendered/dress-heatmap.png", import.meta.url),
      "coat.png": new URL("./prerendered/coat.png", import.meta.url),
      "coat-heatmap.png": new URL("./prerendered/coat-heatmap.png", import.meta.url),
      "sandal.png": new URL("./prerendered/sandal.png", import.meta.url),
      "sandal-heatmap.png": new URL("./prerendered/sandal-heatmap.png", import.meta.url),
      "shirt.png": new URL("./prerendered/shirt.png", import.meta.url),
      "shirt-heatmap.png": new URL("./prerendered/shirt-heatmap.png", import.meta.url),
      "sneaker.png": new URL("./prerendered/sneaker.png", import.meta.url),
      "sneaker-heatmap.png": new URL("./prerendered/sneaker-heatmap.png", import.meta.url),
      "bag.png": new URL("./prerendered/bag.png", import.meta.url),
      "bag-heatmap.png": new URL("./prerendered/bag-heatmap.png", import.meta.url),
      "ankle-boot.png": new URL("./prerendered/ankle-boot.png", import.meta.url),
      "ankle-boot-heatmap.png": new URL("./prerendered/ankle-boot-heatmap.png", import.meta.url),
    },
  };
  return assetUrls;
}

/** `url` with `?retry=N` after a reset, so the browser fetches (and instantiates) it afresh. */
function fresh(url) {
  if (!generation || url.protocol === "data:") return url.href;
  const u = new URL(url);
  u.searchParams.set("retry", String(generation));
  return u.href;
}

/**
 * Where the package's `models/` folder is, when not next to this module (a bundled site copies
 * `node_modules/genuq/models` into its public folder; or a hosted copy of the package, e.g. a
 * CDN). Relative URLs resolve against the page. `null` goes back to the default. Widgets with a
 * `src` attribute use that instead.
 */
export function setBasePath(url) {
  if (url == null) {
    basePath = null;
    return;
  }
  const href = new URL(String(url), globalThis.document?.baseURI ?? MODULE_URL).href;
  basePath = href.endsWith("/") ? href : `${href}/`;
}

/** The folder setBasePath() set, or the one this module sits in. */
export function getBasePath() {
  return basePath ?? new URL("./", MODULE_URL).href;
}

/** The default models folder: `models/` under getBasePath(). */
export function modelsUrl() {
  return new URL("models/", getBasePath()).href;
}

/** The URL of `label`'s generation rendered ahead of time (a class name or 0-9), or null. */
export function prerenderedPoster(label) {
  const name = normaliseLabel(label);
  return assets().files[`${name}.png`]?.href ?? null;
}

/** Whether a bundler moved this module away from its `pkg/` (the glue got a bundler's name). */
function bundled() {
  return !assets().glue.pathname.endsWith("/genuq.js");
}

/** Shares of the first load's progress: the wasm, the models, shader compilation. */
const STAGES = { wasm: [0, 0.8], models: [0.8, 0.97], shaders: [0.97, 1] };

/** totalProgress 0..1 of a stage's progress. */
function total(stage, loaded, size) {
  const [a, b] = STAGES[stage];
  return a + (b - a) * (size ? Math.min(loaded / size, 1) : 0);
}

/** For `compute: "webgpu"`: checks for an adapter before downloading anything; throws an Error
 * named GenuqNoWebGPU with a clear message. (With "auto" there is no such error: the CPU runs.) */
export async function checkWebGPU() {
  if (!("gpu" in navigator)) {
    throw Object.assign(new Error("This browser has no WebGPU (navigator.gpu is missing). genuq needs a recent Chrome or Edge, Safari 26, or Firefox 141+ (or Nightly) with WebGPU on."), { name: "GenuqNoWebGPU" });
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    throw Object.assign(new Error("This browser offers no WebGPU adapter (WebGPU may be disabled, or blocked for this GPU)."), { name: "GenuqNoWebGPU" });
  }
  return adapter;
}

/** The two wasm modules for the workers: the CPU path alone, and WebGPU with the CPU path. */
function modules() {
  const a = assets();
  return { cpu: { glue: fresh(a.glueCpu), wasm: fresh(a.wasmCpu) }, full: { glue: fresh(a.glue), wasm: fresh(a.wasm) } };
}

/**
 * The page's shared models from `src` (a folder with manifest.json) on `compute` ("auto",
 * "webgpu" or "cpu"), loaded once, in Web Workers (genuq-pool.js: the main thread only
 * renders; on the CPU path a batch spreads over up to `workers` of them, default
 * min(hardwareConcurrency, 4)). `onProgress` gets every progress event of that load ({stage,
 * loaded, total, totalProgress}; the last stage, "shaders", also says `compute`), also when it
 * already started. Resolves with {model (generate(request), bench(repeats), adapter), classNames,
 * defaults, colorBar}.
 */
export function loadGenuq(src = modelsUrl(), onProgress, compute = "auto", workers = maxWorkers()) {
  const url = new URL(src, document.baseURI).href;
  const key = `${compute} ${workers} ${url}`;
  let entry = shared.get(key);
  if (!entry) {
    const listeners = new Set();
    const tell = (p) => listeners.forEach((f) => f(p));
    const promise = (async () => {
      if (compute === "webgpu") await checkWebGPU();
      const pool = new Pool({ src: url, compute, modules: modules(), workers });
      const info = await pool.start((p) => tell({ ...p, totalProgress: total(p.stage, p.loaded, p.total) }));
      tell({ stage: "shaders", compute: info.adapter.compute, loaded: 0, total: 1, totalProgress: total("shaders", 0, 1) });
      const model = { adapter: info.adapter, generate: (r) => pool.generate(r), bench: (n) => pool.bench(n), pool };
      return { model, classNames: info.classNames, defaults: info.defaults, colorBar: info.colorBar };
    })();
    entry = { promise, listeners };
    shared.set(key, entry);
    promise.catch(() => shared.delete(key)); // a failed load can be retried
  }
  if (onProgress) entry.listeners.add(onProgress);
  return entry.promise;
}

/** Stops every worker and forgets every loaded model: the next load starts afresh. */
export function resetGenuq() {
  stopWorkers("reset");
  shared.clear();
  generation += 1;
}

export { stopWorkers };

/**
 * Deletes the model files genuq keeps in the browser's cache (Cache API), e.g. for a "forget
 * downloaded models" button; models already loaded stay in memory, the next visit downloads
 * them again. Resolves true when there was a cache to delete.
 */
export function clearCache() {
  return clearPoolCache(modules());
}

/** The generations rendered ahead of time (`genuq prerender`), for `compute: "webgpu"` without it. */
export async function prerendered() {
  const { prerendered: index, files } = assets();
  const resp = await fetch(index);
  if (!resp.ok) return [];
  const { generations } = await resp.json();
  const url = (name) => files[name]?.href ?? (index.protocol === "data:" ? name : new URL(name, index).href);
  return generations.map((g) => ({ ...g, image: url(g.image), heatmap: url(g.heatmap) }));
}

/** A wasm trap (panic) or a device error (lost, or unusable): the instance needs a reset. */
export function isFatal(e) {
  return e instanceof WebAssembly.RuntimeError || ["GenuqDeviceLostError", "GenuqDeviceError", "GenuqWorkerError"].includes(e?.name);
}

const TEMPLATE = `
<style>
  :host { display: inline-block; box-sizing: border-box; max-width: 100%; vertical-align: top;
    --_fg: var(--genuq-fg, #1d1d1f); --_bg: var(--genuq-bg, #fbfbfa); --_accent: var(--genuq-accent, #5b3cc4); --_error: var(--genuq-error, #b3261e);
    font-family: var(--genuq-font, system-ui, sans-serif); color: var(--_fg); background: var(--_bg);
    border: 1px solid color-mix(in srgb, var(--_fg) 15%, transparent);
    border-radius: var(--genuq-radius, 8px); padding: 0.6rem; --size: var(--genuq-size, 128px); }
  :host([hidden]) { display: none; }
  @media (prefers-color-scheme: dark) {
    :host { --_fg: var(--genuq-fg, #e6e4ee); --_bg: var(--genuq-bg, #1c1b22); --_accent: var(--genuq-accent, #b9a7ff); --_error: var(--genuq-error, #ffb4ab); }
  }
  .row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: flex-start; }
  figure { margin: 0; text-align: center; font-size: 0.75rem; animation: genuq-in 0.3s ease-out; }
  figcaption { max-width: var(--size); margin-inline: auto; }
  @keyframes genuq-in { from { opacity: 0; } }
  canvas.px, img.px { width: var(--size); height: var(--size); image-rendering: pixelated; border-radius: 4px; background: #000; display: block; }
  .note { font-size: 0.8rem; max-width: min(24rem, 100%); margin: 0 0 0.4rem; overflow-wrap: anywhere; }
  .poster { display: flex; align-items: center; gap: 0.5rem; padding: 0; text-align: center;
    background: color-mix(in srgb, var(--_accent) 12%, transparent); transition: background-color 0.15s;
    color: var(--_accent); border: 0; cursor: pointer; font: inherit; font-size: 0.85rem; border-radius: 4px;
    width: calc(2 * var(--size) + 0.5rem); max-width: 100%; min-height: var(--size); }
  .poster:hover, .poster:focus-visible { background: color-mix(in srgb, var(--_accent) 22%, transparent); }
  .poster img { flex: none; }
  .poster span { flex: 1; padding: 0 0.5rem; }
  .bar { width: var(--size); height: 8px; display: block; margin-top: 3px; image-rendering: auto; border-radius: 2px; }
  .ticks { display: flex; justify-content: space-between; width: var(--size); font-size: 0.65rem; font-variant-numeric: tabular-nums; }
  .score { min-width: 9rem; max-width: 100%; font-size: 0.85rem; line-height: 1.4; }
  :host(:not([data-u])) .row > .score { min-width: 0; }
  .what { font-size: 1.05rem; font-weight: 600; }
  .u { font-size: 0.8rem; opacity: 0.8; font-variant-numeric: tabular-nums; }
  .flag { color: var(--_error); font-weight: 600; }
  .ok, .compute { color: color-mix(in srgb, var(--_fg) 60%, transparent); }
  .compute { font-size: 0.7rem; max-width: 12rem; }
  progress { width: 100%; accent-color: var(--_accent); }
  .error { color: var(--_error); max-width: min(22rem, 100%); font-size: 0.85rem; overflow-wrap: anywhere; }
  button.retry { margin-top: 0.3rem; }
  [hidden] { display: none !important; }
  @media (prefers-reduced-motion: reduce) {
    *, *::before, *::after { animation: none !important; transition: none !important; }
  }
</style>
<div class="row">
  <slot name="poster"><button class="poster" part="poster"><img class="px" alt="" loading="lazy" hidden><span></span></button></slot>
  <figure hidden><canvas class="image px" part="image" role="img"></canvas><figcaption class="image-caption"></figcaption></figure>
  <figure hidden><canvas class="heatmap px" part="heatmap" role="img"></canvas>
    <canvas class="bar" part="colorbar" role="img"></canvas><div class="ticks"></div>
    <figcaption class="heatmap-caption"></figcaption></figure>
  <div class="score" part="score" aria-live="polite"><div class="what"></div><div class="u"></div><div class="verdict"></div><div class="compute" part="compute"></div></div>
</div>
<progress hidden max="1" value="0" part="progress"></progress>
<div class="error" role="alert" hidden part="error"><span></span><br><button class="retry"></button></div>
<div class="fallback" hidden part="fallback"><p class="note"></p><div class="row">
  <figure><img class="px" alt=""><figcaption>image</figcaption></figure>
  <figure><img class="px heat" alt=""><figcaption>uncertainty</figcaption></figure>
  <div class="score"><div class="what"></div><div class="u"></div></div></div></div>
`;

let template = null;
/** The shadow root's content, made on first use (not at import: no DOM in Node). */
function shadowTemplate() {
  if (!template) {
    template = document.createElement("template");
    template.innerHTML = TEMPLATE;
  }
  return template;
}

/** The attributes mirrored as properties (name -> how to read one). */
const ATTRIBUTES = {
  label: String, seed: Number, samples: Number, steps: Number, perturb: String, src: String, alt: String,
  loading: String, reveal: String, compute: String, poster: String,
};
/** The property of an attribute whose name is taken by a method: `reveal` is `widget.reveal()`. */
const PROPERTY = { reveal: "revealMode" };

/** HTMLElement where there is one; in Node (server-side rendering) a stand-in, so importing works. */
const Element = globalThis.HTMLElement ?? class {};

export class GenuqWidget extends Element {
  // `lang` too (HTMLElement's own property): the words follow it
  static observedAttributes = [...Object.keys(ATTRIBUTES), "lang"];

  constructor() {
    super();
    this.attachShadow({ mode: "open" }).append(shadowTemplate().content.cloneNode(true));
    const $ = (s) => this.shadowRoot.querySelector(s);
    this.ui = { poster: $(".poster"), posterImage: $(".poster img"), posterText: $(".poster span"), slot: $("slot[name=poster]"), figures: this.shadowRoot.querySelectorAll("figure"),
      image: $(".image"), heatmap: $(".heatmap"), bar: $(".bar"), ticks: $(".ticks"), score: $(".score"), u: $(".u"),
      what: $(".what"), verdict: $(".verdict"), compute: $(".compute"), progress: $("progress"), error: $(".error"), message: $(".error span"),
      retry: $(".retry"), imageCaption: $(".image-caption"), heatmapCaption: $(".heatmap-caption") };
    // a click on the poster (ours or a slotted one) reveals, whatever `reveal` says
    this.ui.slot.addEventListener("click", () => this.reveal());
    this.ui.retry.addEventListener("click", () => this.run());
    // a poster that does not load leaves the button's text
    this.ui.posterImage.addEventListener("error", () => (this.ui.posterImage.hidden = true));
    this.started = false;
    for (const [name, read] of Object.entries(ATTRIBUTES)) {
      Object.defineProperty(this, PROPERTY[name] ?? name, {
        get: () => (this.hasAttribute(name) ? read(this.getAttribute(name)) : null),
        set: (v) => (v == null ? this.removeAttribute(name) : this.setAttribute(name, String(v))),
      });
    }
  }

  /** Overrides of the widget's words (any entry of genuq-strings.js's tables, e.g. `{retry:
   * "Try again"}` or `{garments: {bag: {a: "a handbag", of: "handbag"}}}`); null: none. */
  get strings() {
    return this.ownStrings ?? null;
  }

  set strings(overrides) {
    this.ownStrings = overrides ?? undefined;
    this.localise();
  }

  /** The words of the closest `lang` (this element's, else an ancestor's, else the document's),
   * with the `strings` overrides. */
  words() {
    const lang = this.closest?.("[lang]")?.getAttribute("lang") ?? globalThis.document?.documentElement.lang;
    return stringsFor(lang, this.ownStrings);
  }

  /** Every text the widget shows in its words (again after `lang` or `strings` change). */
  localise() {
    const w = this.words();
    this.ui.imageCaption.textContent = w.image;
    this.ui.heatmapCaption.textContent = w.uncertainty;
    this.ui.heatmapCaption.title = w.uncertaintyTitle;
    this.ui.progress.setAttribute("aria-label", w.loading);
    this.ui.retry.textContent = w.retry;
    this.showPoster();
    this.updateName();
    if (this.result) this.describeResult(this.result);
  }

  connectedCallback() {
    this.setAttribute("role", "figure");
    this.localise();
    const reveal = this.reveal_mode();
    if (reveal === "interaction") {
      // warm up (download) on intent, generate on a click
      const warm = () => loadGenuq(this.src ?? undefined, undefined, this.computeMode()).catch(() => {});
      this.addEventListener("pointerenter", warm, { once: true });
      this.addEventListener("focusin", warm, { once: true });
    }
    if (reveal !== "auto") return;
    if (this.getAttribute("loading") === "eager") {
      // after the importing module's own code, so a setBasePath() there comes first
      queueMicrotask(() => this.run());
      return;
    }
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.run();
    }, { rootMargin: "200px" });
    this.observer.observe(this);
  }

  disconnectedCallback() {
    this.observer?.disconnect();
  }

  attributeChangedCallback(name) {
    if (name === "lang") return this.localise();
    if (name === "alt" || name === "label") this.updateName();
    if (name === "poster" || name === "label") this.showPoster();
    if (this.started && !["alt", "loading", "reveal", "poster"].includes(name)) this.run();
  }

  /** The accessible name: `alt`, else a description of the label; an `aria-label` the author set stays. */
  updateName() {
    const own = this.ownLabel;
    if (this.hasAttribute("aria-label") && this.getAttribute("aria-label") !== own) return;
    this.ownLabel = this.alt ?? this.words().name(garmentWords(this.words(), this.garment()));
    this.setAttribute("aria-label", this.ownLabel);
  }

  /** The poster's image (`poster`, else the pre-rendered generation of the label; `poster=""`: none) and text. */
  showPoster() {
    const { posterImage: img, posterText: text } = this.ui;
    text.textContent = sentence(this.words().generate(garmentWords(this.words(), this.garment())));
    const url = this.hasAttribute("poster") ? this.getAttribute("poster").trim() : prerenderedPoster(this.garment());
    if (!url) {
      img.hidden = true;
      img.removeAttribute("src");
      return;
    }
    img.hidden = false;
    if (img.getAttribute("src") !== url) img.src = url;
  }

  /** The `compute` attribute: "webgpu", "cpu" or (anything else) "auto". */
  computeMode() {
    const c = this.getAttribute("compute");
    return ["webgpu", "cpu"].includes(c) ? c : "auto";
  }

  reveal_mode() {
    const r = this.getAttribute("reveal");
    return ["interaction", "manual"].includes(r) ? r : "auto";
  }

  /** Generates now (the only way with reveal="manual", besides a click on the poster). */
  reveal() {
    return this.run();
  }

  /** The garment: `label` normalised ("  Ankle-Boot " -> "ankle-boot"; a sneaker when there is none). */
  garment() {
    return normaliseLabel(this.getAttribute("label") ?? "") || "sneaker";
  }

  /** The request the attributes describe, `defaults` elsewhere. */
  request(defaults) {
    const num = (name, fallback) => {
      const v = this.getAttribute(name);
      return v == null || v.trim() === "" ? fallback : Number(v);
    };
    const typed = (this.getAttribute("label") ?? "").trim();
    return {
      class: /^\d+$/.test(typed) ? Number(typed) : this.garment(), seed: num("seed", 0), samples: num("samples", defaults.samples),
      steps: num("steps", defaults.steps), perturb: this.getAttribute("perturb") ?? defaults.perturb,
    };
  }

  /** With compute="webgpu" and no WebGPU: the generation of this label rendered ahead of time, and why. */
  async fallback(e) {
    const all = await prerendered().catch(() => []);
    const g = all.find((x) => x.class === this.garment()) ?? all[0];
    const box = this.shadowRoot.querySelector(".fallback");
    box.querySelector(".note").textContent = `${e.message} ${GET_WEBGPU}${g ? ` Meanwhile, a ${g.class} generated ahead of time (seed ${g.seed}):` : ""}`;
    if (g) {
      const [img, heat] = box.querySelectorAll("img");
      img.src = g.image;
      img.alt = `a ${g.class} generated ahead of time`;
      heat.src = g.heatmap;
      heat.alt = `its uncertainty heatmap, up to ${greyLevels(g.maxStd).toFixed(1)} grey levels`;
      box.querySelector(".u").textContent = `u = ${g.u.toFixed(2)}`;
      box.querySelector(".what").textContent = describe(g, this.words());
    }
    box.querySelector(".row").hidden = !g;
    this.ui.slot.hidden = true;
    box.hidden = false;
  }

  /** After a failed model download in a bundled site with neither `src` nor setBasePath(): what to do. */
  modelsHint(e) {
    if (e?.name !== "GenuqModelError" || this.src != null || basePath != null || !bundled()) return "";
    return " (A bundler moved genuq-widget.js away from the package's models/: copy node_modules/genuq/models into your site's public folder and call setBasePath(), or set src; see the genuq README.)";
  }

  /** The result drawn, in words: the shipped score and u's rank, the flag, the compute path (short; the
   * reason on hover, the demo page shows it in full). */
  describeResult({ g, adapter, colorBar }) {
    const w = this.words(), ui = this.ui;
    renderGeneration(ui, g, colorBar, w);
    ui.what.textContent = [describeShipped(g, w), g.percentile == null ? "" : describe(g, w)].filter(Boolean).join("; ");
    ui.verdict.textContent = flagText(g, w);
    ui.verdict.className = `verdict ${flagText(g, w) ? "flag" : "ok"}`;
    ui.compute.textContent = adapter.compute === "cpu" ? w.cpu : "";
    ui.compute.title = computeNote(adapter);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  async run() {
    this.started = true;
    this.observer?.disconnect();
    const ui = this.ui;
    ui.error.hidden = true;
    ui.poster.disabled = true;
    ui.progress.hidden = false;
    try {
      const onProgress = (p) => {
        ui.progress.value = p.totalProgress;
        this.emit("progress", p);
      };
      const loaded = await loadGenuq(this.src ?? undefined, onProgress, this.computeMode());
      const { model, defaults, colorBar } = loaded;
      this.emit("load", { adapter: model.adapter });
      ui.progress.removeAttribute("value"); // indeterminate while the GPU works
      const g = await model.generate(this.request(defaults));
      onProgress({ stage: "shaders", loaded: 1, total: 1, totalProgress: 1 });
      this.result = { g, adapter: model.adapter, colorBar };
      this.describeResult(this.result);
      this.dataset.compute = model.adapter.compute;
      ui.slot.hidden = true;
      ui.figures.forEach((f) => (f.hidden = false));
      ui.score.hidden = false;
      this.dataset.u = String(g.u);
      this.emit("result", g);
    } catch (e) {
      if (isFatal(e)) resetGenuq();
      if (e?.name === "GenuqNoWebGPU") await this.fallback(e);
      else {
        ui.message.textContent = (e?.message ?? String(e)) + this.modelsHint(e);
        ui.error.hidden = false;
      }
      ui.poster.disabled = false;
      this.emit("error", e);
    } finally {
      ui.progress.hidden = true;
    }
  }
}

if (typeof customElements !== "undefined" && !customElements.get("genuq-widget")) customElements.define("genuq-widget", GenuqWidget);
