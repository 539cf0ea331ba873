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
// Where the files come from, and the load the widgets share: genuq-load.js.

import { CLASSES, STRINGS, garmentWords, normaliseLabel, sentence, stringsFor } from "./genuq-strings.js";
import { GET_WEBGPU, computeNote, describe, describeShipped, flagText, greyLevels, renderGeneration } from "./genuq-render.js";
import { basePathSet, bundled, isFatal, loadGenuq, prerendered, prerenderedPoster, resetGenuq } from "./genuq-load.js";

export { CLASSES, STRINGS, normaliseLabel };
export * from "./genuq-render.js";
export {
  checkWebGPU, clearCache, getBasePath, isFatal, loadGenuq, modelsUrl, prerendered, prerenderedPoster, resetGenuq, setBasePath, stopWorkers,
} from "./genuq-load.js";

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
    if (e?.name !== "GenuqModelError" || this.src != null || basePathSet() || !bundled()) return "";
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
