// <genuq-widget>: one generation with its uncertainty, embeddable in any page.
//
//   <script type="module" src="https://…/genuq/genuq-widget.js"></script>
//   <genuq-widget class="sneaker" seed="42" samples="8" steps="4" src="https://…/genuq/models/"></genuq-widget>
//
// `class` names the garment (a name or 0-9); only its first word counts, so further words can
// still be CSS classes.
// Nothing loads until the widget is visible or clicked. However many widgets a page holds, they
// share one wasm module, one WebGPU device and one copy of the models (generations are queued).
// `steps` (1, 2 or 4) and `perturb` (all, first, last) default to the sampler the evaluation
// picked (`defaults()` of the wasm API).
// Events: `progress` ({file, loaded, total, cached}), `result` (the Generation), `error` (Error).
// Styling: --genuq-size (image side), --genuq-fg, --genuq-bg, --genuq-accent, --genuq-error,
// --genuq-font, --genuq-radius.

const here = new URL(".", import.meta.url);
let generation = 0; // bumped by reset(): a fresh wasm instance after a crash or a lost device
const shared = new Map(); // src -> {promise, listeners}

/** Checks what genuq needs before downloading anything; throws an Error with a clear message. */
export async function checkWebGPU() {
  if (!("gpu" in navigator)) {
    throw Object.assign(new Error("This browser has no WebGPU (navigator.gpu is missing). genuq needs a recent Chrome or Edge, Safari 26, or Firefox 141+ (or Nightly) with WebGPU on."), { name: "GenuqNoWebGPU" });
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    throw Object.assign(new Error("WebGPU is there but offers no adapter (it may be disabled, or blocked for this GPU)."), { name: "GenuqNoWebGPU" });
  }
  return adapter;
}

async function wasm() {
  const url = new URL(`pkg/genuq.js${generation ? `?retry=${generation}` : ""}`, here);
  const mod = await import(url.href);
  await mod.default({ module_or_path: new URL("pkg/genuq_bg.wasm", here) });
  return mod;
}

/**
 * The page's shared models from `src` (a folder with manifest.json), loaded once.
 * `onProgress` gets every progress event of that load, also when it already started.
 */
export function loadGenuq(src = new URL("models/", here).href, onProgress) {
  const key = new URL(src, document.baseURI).href;
  let entry = shared.get(key);
  if (!entry) {
    const listeners = new Set();
    const promise = (async () => {
      await checkWebGPU();
      const mod = await wasm();
      const model = await mod.Genuq.load(key, (p) => listeners.forEach((f) => f(p)));
      return { model, classNames: mod.classNames(), defaults: mod.defaults() };
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

/** A wasm trap (panic) or a device error (lost, or unusable): the instance needs a reset. */
export function isFatal(e) {
  return e instanceof WebAssembly.RuntimeError || e?.name === "GenuqDeviceLostError" || e?.name === "GenuqDeviceError";
}

/** Draws a 32x32 RGBA array into a canvas. */
export function paint(canvas, rgba) {
  canvas.width = 32;
  canvas.height = 32;
  canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(rgba), 32, 32), 0, 0);
}

/** "more uncertain than 73% of sandal generations" (or the raw score when there is no reference). */
export function describe(g) {
  return g.percentile == null ? `u = ${g.u.toFixed(2)}` : `more uncertain than ${Math.round(g.percentile)}% of ${g.class} generations`;
}

const template = document.createElement("template");
template.innerHTML = `
<style>
  :host { display: inline-block; font-family: var(--genuq-font, system-ui, sans-serif); color: var(--genuq-fg, #1d1d1f);
    background: var(--genuq-bg, #fbfbfa); border: 1px solid color-mix(in srgb, var(--genuq-fg, #1d1d1f) 15%, transparent);
    border-radius: var(--genuq-radius, 8px); padding: 0.6rem; --size: var(--genuq-size, 128px); }
  .row { display: flex; gap: 0.5rem; align-items: flex-start; }
  figure { margin: 0; text-align: center; font-size: 0.75rem; }
  canvas, .poster { width: var(--size); height: var(--size); image-rendering: pixelated; border-radius: 4px; background: #000; display: block; }
  .poster { display: grid; place-items: center; background: color-mix(in srgb, var(--genuq-accent, #5b3cc4) 12%, transparent);
    color: var(--genuq-accent, #5b3cc4); border: 0; cursor: pointer; font: inherit; font-size: 0.85rem; width: calc(2 * var(--size) + 0.5rem); }
  .score { min-width: 9rem; font-size: 0.85rem; line-height: 1.4; }
  .u { font-size: 1.4rem; font-weight: 600; font-variant-numeric: tabular-nums; }
  .flag { color: var(--genuq-error, #b3261e); font-weight: 600; }
  .ok { color: color-mix(in srgb, var(--genuq-fg, #1d1d1f) 60%, transparent); }
  progress { width: 100%; accent-color: var(--genuq-accent, #5b3cc4); }
  .error { color: var(--genuq-error, #b3261e); max-width: 22rem; font-size: 0.85rem; }
  button.retry { margin-top: 0.3rem; }
  [hidden] { display: none !important; }
</style>
<div class="row">
  <button class="poster" part="poster"></button>
  <figure hidden><canvas class="image" part="image"></canvas><figcaption>image</figcaption></figure>
  <figure hidden><canvas class="heatmap" part="heatmap"></canvas><figcaption>uncertainty</figcaption></figure>
  <div class="score" hidden part="score"><div class="u"></div><div class="what"></div><div class="verdict"></div></div>
</div>
<progress hidden max="1" value="0"></progress>
<div class="error" role="alert" hidden><span></span><br><button class="retry">Retry</button></div>
`;

export class GenuqWidget extends HTMLElement {
  static observedAttributes = ["class", "seed", "samples", "steps", "perturb", "src"];

  constructor() {
    super();
    this.attachShadow({ mode: "open" }).append(template.content.cloneNode(true));
    const $ = (s) => this.shadowRoot.querySelector(s);
    this.ui = { poster: $(".poster"), figures: this.shadowRoot.querySelectorAll("figure"), image: $(".image"),
      heatmap: $(".heatmap"), score: $(".score"), u: $(".u"), what: $(".what"), verdict: $(".verdict"),
      progress: $("progress"), error: $(".error"), message: $(".error span") };
    this.ui.poster.addEventListener("click", () => this.run());
    $(".retry").addEventListener("click", () => this.run());
    this.started = false;
  }

  connectedCallback() {
    this.ui.poster.textContent = `Generate a ${this.garment()} with its uncertainty`;
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.run();
    });
    this.observer.observe(this);
  }

  disconnectedCallback() {
    this.observer?.disconnect();
  }

  attributeChangedCallback() {
    if (this.started) this.run();
  }

  /** The garment: the first word of `class` (further words stay ordinary CSS classes). */
  garment() {
    return (this.getAttribute("class") ?? "").trim().split(/\s+/)[0] || "sneaker";
  }

  /** The request the attributes describe (numbers where they look like numbers), `defaults` elsewhere. */
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

  async run() {
    this.started = true;
    this.observer?.disconnect();
    const ui = this.ui;
    ui.error.hidden = true;
    ui.poster.disabled = true;
    ui.progress.hidden = false;
    try {
      const onProgress = (p) => {
        ui.progress.value = p.total ? p.loaded / p.total : 0;
        this.dispatchEvent(new CustomEvent("progress", { detail: p }));
      };
      const src = this.getAttribute("src") ?? undefined;
      const { model, defaults } = await loadGenuq(src, onProgress);
      ui.progress.removeAttribute("value"); // indeterminate while the GPU works
      const g = await model.generate(this.request(defaults));
      paint(ui.image, g.image);
      paint(ui.heatmap, g.heatmap);
      ui.u.textContent = `u = ${g.u.toFixed(2)}`;
      ui.what.textContent = g.percentile == null ? "" : describe(g);
      const flagged = g.percentile != null && g.percentile >= 90;
      ui.verdict.textContent = flagged ? "⚠ flagged: likely a bad generation" : "";
      ui.verdict.className = `verdict ${flagged ? "flag" : "ok"}`;
      ui.poster.hidden = true;
      ui.figures.forEach((f) => (f.hidden = false));
      ui.score.hidden = false;
      this.dataset.u = String(g.u);
      this.dispatchEvent(new CustomEvent("result", { detail: g }));
    } catch (e) {
      if (isFatal(e)) resetGenuq();
      ui.message.textContent = e?.message ?? String(e);
      ui.error.hidden = false;
      ui.poster.disabled = false;
      this.dispatchEvent(new CustomEvent("error", { detail: e }));
    } finally {
      ui.progress.hidden = true;
    }
  }
}

if (!customElements.get("genuq-widget")) customElements.define("genuq-widget", GenuqWidget);
