// The rendering the demo and <genuq-widget> share: a generation's canvases (image, heatmap,
// colour bar) with their accessible names, and its scores in words (English unless a table of
// genuq-strings.js is given). No state, no DOM at import; genuq-widget.js re-exports all of it.

import { STRINGS, garmentWords } from "./genuq-strings.js";

/** The note beside a generation made on the CPU path ("" on WebGPU), with the reason. */
export function computeNote(adapter) {
  return adapter.compute === "cpu" ? `running on the CPU: ${adapter.reason}` : "";
}

/** How to get WebGPU, for the line shown where it is missing. */
export const GET_WEBGPU = "WebGPU is in Chrome and Edge 113+ (on Linux: chrome://flags/#enable-unsafe-webgpu), Safari 26 and Firefox 141+ on Windows.";

/** Draws a 32x32 RGBA array into a canvas. */
export function paint(canvas, rgba, width = 32, height = 32) {
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
}

/** Paints generation `g` into `el` ({image, heatmap, bar, ticks: canvases; u: a text node}) with
 * its accessible names and u: the one rendering the demo and the widget share. */
export function renderGeneration(el, g, colorBar, strings = STRINGS.en) {
  paint(el.image, g.image);
  paint(el.heatmap, g.heatmap);
  drawColorBar(el.bar, el.ticks, colorBar, g.heatmapScale, strings);
  const number = (x, digits) => x.toLocaleString(strings.locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  el.image.setAttribute("aria-label", strings.imageName(garmentWords(strings, g.class), g.seed));
  el.heatmap.setAttribute("aria-label", strings.heatmapName(g.samples + 1, number(greyLevels(g.maxStd), 1)));
  el.u.textContent = `u = ${number(g.u, 2)}`;
}

/** `x` in [0, 1] as a percentage in the words of `strings`. */
const pct = (x, strings = STRINGS.en) => strings.percent(Math.round(100 * x));

/** "more uncertain than 73% of sandal generations" (or the raw score when there is no reference):
 * where u ranks, in neutral words (u alone does not tell a bad generation, docs/evaluation.md),
 * in the words of `strings` (English unless given). */
export function describe(g, strings = STRINGS.en) {
  if (g.percentile == null) return `u = ${g.u.toFixed(2)}`;
  return strings.uncertain(strings.percent(Math.round(g.percentile)), garmentWords(strings, g.class).of);
}

/** The score the evaluation ships beside u, in words ("" when it is u itself or missing). */
export function describeShipped(g, strings = STRINGS.en) {
  const c = g.classSpace, s = g.shipped;
  if (s?.score === "realism") {
    if (s.percentile == null) return `realism ${s.value.toFixed(2)}`;
    return strings.further(strings.percent(Math.round(s.percentile)), garmentWords(strings, g.class).of);
  }
  if (!s || !c) return "";
  switch (s.score) {
    case "clip_margin": return `CLIP sees ${pct(c.probability)} ${g.class}`;
    case "class_predictive": return `CLIP sees ${pct(c.predictive)} ${g.class} across the ${g.samples + 1} images`;
    case "class_bald": return `the weight samples disagree on the class by ${c.bald.toFixed(3)} nats`;
    case "class_entropy": return `class entropy ${c.entropy.toFixed(2)} nats`;
    default: return "";
  }
}

/** What the page says where nothing is flagged: the labels by eye back no flag
 * (docs/evaluation.md, "By eye"): no score set broken generations apart often enough. */
export const NO_FLAG = "not flagged: no score sets broken generations apart reliably (labels by eye)";

/** The one flag rule, decided in the wasm (the evaluation's threshold on the shipped score):
 * the flag's text with the precision measured behind it, or "" when not flagged. */
export function flagText(g, strings = STRINGS.en) {
  const f = g.shipped?.flag;
  return f ? strings.flagged(pct(f.precision, strings)) : "";
}

/** Half the grey range: a copy of the crate's data::GREY_HALF (held to it by tests/architecture.rs),
 * for captions of pre-rendered generations too. */
const GREY_HALF = 127.5;

/** The heatmap's scale in grey levels (0-255): its top colour's standard deviation. */
export function greyLevels(std) {
  return std * GREY_HALF;
}

/** A colour bar (`bar`, the RGBA strip from colorBar()) with ticks 0, half and the top (`scale`),
 * numbers and name in the words of `strings`. */
export function drawColorBar(canvas, ticks, bar, scale, strings = STRINGS.en) {
  paint(canvas, bar, bar.length / 4, 1);
  const top = greyLevels(scale);
  const fmt = (v) => v.toLocaleString(strings.locale, { maximumFractionDigits: v >= 10 ? 0 : 1, minimumFractionDigits: v >= 10 ? 0 : 1 });
  ticks.replaceChildren(...[0, top / 2, top].map((v) => Object.assign(document.createElement("span"), { textContent: fmt(v) })));
  canvas.setAttribute("aria-label", strings.colourScale(fmt(top)));
}
