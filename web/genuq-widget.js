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
// `manual`: only on a click or `widget.reveal()`, nothing downloaded before) and `compute`
// (`auto`: WebGPU on a hardware adapter, else the CPU, the default; `webgpu`: WebGPU or the
// pictures rendered ahead of time; `cpu`). `class` stays the page's.
// Every widget of a page shares one wasm module, one device and one copy of the models per
// `src` and `compute` (generations are queued).
// Events (they bubble and cross the shadow root): `progress` ({stage, loaded, total,
// totalProgress} with totalProgress 0..1 over the wasm, the models and the first generation: "shaders", with `compute`),
// `load` (ready to generate), `result` (the Generation), `error` (an Error).
// Parts: poster, image, heatmap, colorbar, score, progress, error; slot `poster` for your own.
// Styling: --genuq-size (image side), --genuq-fg, --genuq-bg, --genuq-accent, --genuq-error,
// --genuq-font, --genuq-radius.

const here = new URL(".", import.meta.url);
let generation = 0; // bumped by reset(): a fresh wasm instance after a crash or a lost device
const shared = new Map(); // src -> {promise, listeners}

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

/** The wasm bytes, streamed with progress. */
async function wasmBytes(onProgress) {
  const url = new URL(`pkg/genuq_bg.wasm${generation ? `?retry=${generation}` : ""}`, here);
  const resp = await fetch(url);
  if (!resp.ok) throw Object.assign(new Error(`downloading ${url} failed: HTTP ${resp.status}`), { name: "GenuqModelError" });
  const size = Number(resp.headers.get("content-length")) || 0;
  const reader = resp.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress({ stage: "wasm", file: "genuq_bg.wasm", loaded, total: size, totalProgress: total("wasm", loaded, size) });
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

async function wasm(onProgress) {
  const mod = await import(new URL(`pkg/genuq.js${generation ? `?retry=${generation}` : ""}`, here).href);
  await mod.default({ module_or_path: await wasmBytes(onProgress) });
  return mod;
}

/**
 * The page's shared models from `src` (a folder with manifest.json) on `compute` ("auto",
 * "webgpu" or "cpu"), loaded once. `onProgress` gets every progress event of that load
 * ({stage, loaded, total, totalProgress}; the last stage, "shaders", also says `compute`),
 * also when it already started.
 */
export function loadGenuq(src = new URL("models/", here).href, onProgress, compute = "auto") {
  const url = new URL(src, document.baseURI).href;
  const key = `${compute} ${url}`;
  let entry = shared.get(key);
  if (!entry) {
    const listeners = new Set();
    const tell = (p) => listeners.forEach((f) => f(p));
    const promise = (async () => {
      if (compute === "webgpu") await checkWebGPU();
      const mod = await wasm(tell);
      const model = await mod.Genuq.load(url, { compute, onProgress: (p) =>
        tell({ stage: "models", ...p, totalProgress: total("models", p.loaded, p.total) }) });
      tell({ stage: "shaders", compute: model.adapter.compute, loaded: 0, total: 1, totalProgress: total("shaders", 0, 1) });
      return { model, classNames: mod.classNames(), defaults: mod.defaults(), colorBar: mod.colorBar(128) };
    })();
    entry = { promise, listeners };
    shared.set(key, entry);
    promise.catch(() => shared.delete(key)); // a failed load can be retried
  }
  if (onProgress) entry.listeners.add(onProgress);
  return entry.promise;
}

/** Forgets every loaded model and the wasm instance: the next load starts afresh. */
export function resetGenuq() {
  shared.clear();
  generation += 1;
}

/** The note beside a generation made on the CPU path ("" on WebGPU), with the reason. */
export function computeNote(adapter) {
  return adapter.compute === "cpu" ? `running on the CPU: ${adapter.reason}` : "";
}

/** How to get WebGPU, for the line shown where it is missing. */
export const GET_WEBGPU = "WebGPU is in Chrome and Edge 113+ (on Linux: chrome://flags/#enable-unsafe-webgpu), Safari 26 and Firefox 141+ on Windows.";

/** The generations rendered ahead of time (`genuq prerender`), for `compute: "webgpu"` without it. */
export async function prerendered() {
  const base = new URL("prerendered/", here);
  const resp = await fetch(new URL("index.json", base));
  if (!resp.ok) return [];
  const { generations } = await resp.json();
  return generations.map((g) => ({ ...g, image: new URL(g.image, base).href, heatmap: new URL(g.heatmap, base).href }));
}

/** A wasm trap (panic) or a device error (lost, or unusable): the instance needs a reset. */
export function isFatal(e) {
  return e instanceof WebAssembly.RuntimeError || e?.name === "GenuqDeviceLostError" || e?.name === "GenuqDeviceError";
}

/** Draws a 32x32 RGBA array into a canvas. */
export function paint(canvas, rgba, width = 32, height = 32) {
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
}

/** "more uncertain than 73% of sandal generations" (or the raw score when there is no reference). */
export function describe(g) {
  return g.percentile == null ? `u = ${g.u.toFixed(2)}` : `more uncertain than ${Math.round(g.percentile)}% of ${g.class} generations`;
}

/** The heatmap's scale in grey levels (0-255): its top colour's standard deviation. */
export function greyLevels(std) {
  return std * 127.5;
}

/** A colour bar (`bar`, the RGBA strip from colorBar()) with ticks 0, half and the top (`scale`). */
export function drawColorBar(canvas, ticks, bar, scale) {
  paint(canvas, bar, bar.length / 4, 1);
  const top = greyLevels(scale);
  const fmt = (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1));
  ticks.replaceChildren(...[0, top / 2, top].map((v) => Object.assign(document.createElement("span"), { textContent: fmt(v) })));
  canvas.setAttribute("aria-label", `colour scale: standard deviation from 0 to ${fmt(top)} grey levels`);
}

const template = document.createElement("template");
template.innerHTML = `
<style>
  :host { display: inline-block; font-family: var(--genuq-font, system-ui, sans-serif); color: var(--genuq-fg, #1d1d1f);
    background: var(--genuq-bg, #fbfbfa); border: 1px solid color-mix(in srgb, var(--genuq-fg, #1d1d1f) 15%, transparent);
    border-radius: var(--genuq-radius, 8px); padding: 0.6rem; --size: var(--genuq-size, 128px); }
  .row { display: flex; gap: 0.5rem; align-items: flex-start; }
  figure { margin: 0; text-align: center; font-size: 0.75rem; }
  canvas.px, img.px { width: var(--size); height: var(--size); image-rendering: pixelated; border-radius: 4px; background: #000; display: block; }
  .note { font-size: 0.8rem; max-width: 24rem; margin: 0 0 0.4rem; }
  .poster { display: grid; place-items: center; background: color-mix(in srgb, var(--genuq-accent, #5b3cc4) 12%, transparent);
    color: var(--genuq-accent, #5b3cc4); border: 0; cursor: pointer; font: inherit; font-size: 0.85rem; border-radius: 4px;
    width: calc(2 * var(--size) + 0.5rem); height: var(--size); }
  .bar { width: var(--size); height: 8px; display: block; margin-top: 3px; image-rendering: auto; border-radius: 2px; }
  .ticks { display: flex; justify-content: space-between; width: var(--size); font-size: 0.65rem; font-variant-numeric: tabular-nums; }
  .score { min-width: 9rem; font-size: 0.85rem; line-height: 1.4; }
  .u { font-size: 1.4rem; font-weight: 600; font-variant-numeric: tabular-nums; }
  .flag { color: var(--genuq-error, #b3261e); font-weight: 600; }
  .ok, .compute { color: color-mix(in srgb, var(--genuq-fg, #1d1d1f) 60%, transparent); }
  .compute { font-size: 0.7rem; max-width: 12rem; }
  progress { width: 100%; accent-color: var(--genuq-accent, #5b3cc4); }
  .error { color: var(--genuq-error, #b3261e); max-width: 22rem; font-size: 0.85rem; }
  button.retry { margin-top: 0.3rem; }
  [hidden] { display: none !important; }
</style>
<div class="row">
  <slot name="poster"><button class="poster" part="poster"></button></slot>
  <figure hidden><canvas class="image px" part="image" role="img"></canvas><figcaption>image</figcaption></figure>
  <figure hidden><canvas class="heatmap px" part="heatmap" role="img"></canvas>
    <canvas class="bar" part="colorbar" role="img"></canvas><div class="ticks"></div>
    <figcaption>uncertainty (std, grey levels)</figcaption></figure>
  <div class="score" hidden part="score" aria-live="polite"><div class="u"></div><div class="what"></div><div class="verdict"></div><div class="compute" part="compute"></div></div>
</div>
<progress hidden max="1" value="0" part="progress" aria-label="loading genuq"></progress>
<div class="error" role="alert" hidden part="error"><span></span><br><button class="retry">Retry</button></div>
<div class="fallback" hidden part="fallback"><p class="note"></p><div class="row">
  <figure><img class="px" alt=""><figcaption>image</figcaption></figure>
  <figure><img class="px heat" alt=""><figcaption>uncertainty</figcaption></figure>
  <div class="score"><div class="u"></div><div class="what"></div></div></div></div>
`;

/** The attributes mirrored as properties (name -> how to read one). */
const ATTRIBUTES = {
  label: String, seed: Number, samples: Number, steps: Number, perturb: String, src: String, alt: String,
  loading: String, reveal: String, compute: String,
};
/** The property of an attribute whose name is taken by a method: `reveal` is `widget.reveal()`. */
const PROPERTY = { reveal: "revealMode" };

export class GenuqWidget extends HTMLElement {
  static observedAttributes = Object.keys(ATTRIBUTES);

  constructor() {
    super();
    this.attachShadow({ mode: "open" }).append(template.content.cloneNode(true));
    const $ = (s) => this.shadowRoot.querySelector(s);
    this.ui = { poster: $(".poster"), slot: $("slot[name=poster]"), figures: this.shadowRoot.querySelectorAll("figure"),
      image: $(".image"), heatmap: $(".heatmap"), bar: $(".bar"), ticks: $(".ticks"), score: $(".score"), u: $(".u"),
      what: $(".what"), verdict: $(".verdict"), compute: $(".compute"), progress: $("progress"), error: $(".error"), message: $(".error span") };
    // a click on the poster (ours or a slotted one) reveals, whatever `reveal` says
    this.ui.slot.addEventListener("click", () => this.reveal());
    $(".retry").addEventListener("click", () => this.run());
    this.started = false;
    for (const [name, read] of Object.entries(ATTRIBUTES)) {
      Object.defineProperty(this, PROPERTY[name] ?? name, {
        get: () => (this.hasAttribute(name) ? read(this.getAttribute(name)) : null),
        set: (v) => (v == null ? this.removeAttribute(name) : this.setAttribute(name, String(v))),
      });
    }
  }

  connectedCallback() {
    this.ui.poster.textContent = `Generate a ${this.garment()} with its uncertainty`;
    this.setAttribute("role", "figure");
    this.setAttribute("aria-label", this.alt ?? `a generated ${this.garment()} with its uncertainty heatmap`);
    const reveal = this.reveal_mode();
    if (reveal === "interaction") {
      // warm up (download) on intent, generate on a click
      const warm = () => loadGenuq(this.src ?? undefined, undefined, this.computeMode()).catch(() => {});
      this.addEventListener("pointerenter", warm, { once: true });
      this.addEventListener("focusin", warm, { once: true });
    }
    if (reveal !== "auto") return;
    if (this.getAttribute("loading") === "eager") {
      this.run();
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
    if (name === "alt") this.setAttribute("aria-label", this.alt ?? "");
    if (this.started && !["alt", "loading", "reveal"].includes(name)) this.run();
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

  /** The garment: `label` (a sneaker when there is none). */
  garment() {
    return (this.getAttribute("label") ?? "").trim() || "sneaker";
  }

  /** The request the attributes describe, `defaults` elsewhere. */
  request(defaults) {
    const num = (name, fallback) => {
      const v = this.getAttribute(name);
      return v == null || v.trim() === "" ? fallback : Number(v);
    };
    const cls = this.garment();
    return {
      class: /^\d+$/.test(cls) ? Number(cls) : cls, seed: num("seed", 0), samples: num("samples", defaults.samples),
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
      box.querySelector(".what").textContent = describe(g);
    }
    box.querySelector(".row").hidden = !g;
    this.ui.slot.hidden = true;
    box.hidden = false;
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
      paint(ui.image, g.image);
      paint(ui.heatmap, g.heatmap);
      drawColorBar(ui.bar, ui.ticks, colorBar, g.heatmapScale);
      ui.image.setAttribute("aria-label", `a generated ${g.class} (seed ${g.seed})`);
      ui.heatmap.setAttribute("aria-label", `where the ${g.samples + 1} images differ: up to ${greyLevels(g.maxStd).toFixed(1)} grey levels`);
      ui.u.textContent = `u = ${g.u.toFixed(2)}`;
      ui.what.textContent = g.percentile == null ? "" : describe(g);
      const flagged = g.percentile != null && g.percentile >= 90;
      ui.verdict.textContent = flagged ? "flagged: likely a bad generation" : "";
      ui.verdict.className = `verdict ${flagged ? "flag" : "ok"}`;
      // short under the score; the reason on hover (the demo page shows it in full)
      ui.compute.textContent = model.adapter.compute === "cpu" ? "running on the CPU" : "";
      ui.compute.title = computeNote(model.adapter);
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
        ui.message.textContent = e?.message ?? String(e);
        ui.error.hidden = false;
      }
      ui.poster.disabled = false;
      this.emit("error", e);
    } finally {
      ui.progress.hidden = true;
    }
  }
}

if (!customElements.get("genuq-widget")) customElements.define("genuq-widget", GenuqWidget);
