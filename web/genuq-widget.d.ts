// Types of `genuq/widget` (genuq-widget.js): the <genuq-widget> custom element and the helpers
// the demo page shares with it. The API's own types (Genuq, Generation, AdapterInfo, ...) are in
// pkg/genuq.d.ts (`genuq`).
import type { AdapterInfo, Defaults, GenerateRequest, Generation, GenerationRecord } from "./pkg/genuq.js";

/** A `progress` event's detail. `totalProgress` goes 0..1 over the wasm, the models and the first generation. */
export interface GenuqProgress {
  stage: "wasm" | "models" | "shaders";
  /** The file being downloaded (wasm and models stages). */
  file?: string;
  loaded: number;
  total: number;
  /** Models only: whether the file came from the Cache API. */
  cached?: boolean;
  /** The "shaders" stage: where the models run. */
  compute?: "webgpu" | "cpu";
  totalProgress: number;
}

/** The models in the page's Web Workers (genuq-pool.js): a generation runs in the next free worker. */
export interface PooledGenuq {
  adapter: AdapterInfo;
  generate(request: GenerateRequest): Promise<Generation>;
  /** The browser benchmark (Genuq.bench) in the first worker. */
  bench(repeats: number): Promise<unknown>;
  /** The pool itself (its `workers`), for inspection. */
  pool: { workers: unknown[] };
}

/** What loadGenuq() resolves to: the page's shared models and what the widget draws with. */
export interface LoadedGenuq {
  model: PooledGenuq;
  classNames: string[];
  defaults: Defaults;
  /** The heatmap's colours as a 128x1 RGBA strip. */
  colorBar: Uint8ClampedArray;
}

/** A generation rendered ahead of time (`genuq prerender`): the record a live generation
 * carries (generated from the Rust type, pkg/genuq.d.ts), its spread, and its PNGs' URLs. */
export type PrerenderedGeneration = GenerationRecord & Pick<Generation, "maxStd"> & {
  image: string;
  heatmap: string;
};

export type GenuqLabel =
  | "t-shirt" | "trouser" | "pullover" | "dress" | "coat" | "sandal" | "shirt" | "sneaker" | "bag" | "ankle-boot"
  | "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9";

/** A garment's words in one language: `a` as the object of "Generate ___", `one` alone, `of` as
 * in "of N% of ___ generations". */
export interface GarmentWords {
  a: string;
  one: string;
  of: string;
}

/** The widget's words in one language (genuq-strings.js). */
export interface GenuqStrings {
  garments: Record<string, GarmentWords>;
  locale: string;
  generate(garment: GarmentWords): string;
  name(garment: GarmentWords): string;
  image: string;
  imageName(garment: GarmentWords, seed: number): string;
  heatmapName(images: number, greyLevels: string): string;
  colourScale(top: string): string;
  uncertainty: string;
  uncertaintyTitle: string;
  loading: string;
  retry: string;
  cpu: string;
  percent(p: number): string;
  further(percent: string, of: string): string;
  uncertain(percent: string, of: string): string;
  flagged(percent: string): string;
}

/** The shipped languages' words ("en", "de"). */
export const STRINGS: Record<"en" | "de", GenuqStrings>;
/** A label as typed ("  Ankle-Boot ", "ankle boot", "9") -> its class name, or the trimmed text
 * when it names no class. */
export function normaliseLabel(label: string | number): string;

/** The events a widget sends (they bubble and cross the shadow root). */
export interface GenuqWidgetEventMap {
  progress: CustomEvent<GenuqProgress>;
  load: CustomEvent<{ adapter: AdapterInfo }>;
  result: CustomEvent<Generation>;
  error: CustomEvent<Error>;
}

/**
 * `<genuq-widget>`: one generation with its uncertainty heatmap and score. Every attribute is
 * mirrored as a property (`reveal` as `revealMode`); a property set to null removes its attribute.
 */
export class GenuqWidget extends HTMLElement {
  static readonly observedAttributes: string[];
  /** The garment: a class name or 0-9 (default "sneaker"). */
  label: GenuqLabel | string | null;
  /** The initial noise's seed, 0..=4294967295 (default 0). */
  seed: number | null;
  /** M, weight samples besides the MAP, 1..=32. */
  samples: number | null;
  /** The student's Euler steps: 1, 2 or 4. */
  steps: number | null;
  /** Where the weight samples act. */
  perturb: "all" | "first" | "last" | string | null;
  /** The models folder (with manifest.json); default: setBasePath()'s folder + "models/". */
  src: string | null;
  /** The accessible name (an `aria-label` set by the author wins). */
  alt: string | null;
  /** "lazy" (when near the viewport, the default) or "eager". */
  loading: "lazy" | "eager" | string | null;
  /** The `reveal` attribute: "auto" (default), "interaction" or "manual". */
  revealMode: "auto" | "interaction" | "manual" | string | null;
  /** "auto" (default), "webgpu" or "cpu". */
  compute: "auto" | "webgpu" | "cpu" | string | null;
  /** The image shown until the generation; default the pre-rendered generation of `label`, "" for none. */
  poster: string | null;
  /** Overrides of the widget's words (any entry of STRINGS' tables); the language is the closest
   * `lang` (the element's, else the document's): English and German ship. */
  strings: Partial<GenuqStrings> | null;
  /** Generates now (the way to start one with reveal="manual"). */
  reveal(): Promise<void>;
  addEventListener<K extends keyof GenuqWidgetEventMap>(type: K, listener: (this: GenuqWidget, ev: GenuqWidgetEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof GenuqWidgetEventMap>(type: K, listener: (this: GenuqWidget, ev: GenuqWidgetEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

/**
 * The folder that holds a copy of the package's `models/` (e.g. "/genuq/" after copying
 * node_modules/genuq/models into a site's public folder, or a CDN copy of the package); relative
 * URLs resolve against the page; null: next to genuq-widget.js (the default). Call it before
 * widgets start (in the module that imports this one).
 */
export function setBasePath(url: string | URL | null): void;
/** setBasePath()'s folder, or the one genuq-widget.js sits in. */
export function getBasePath(): string;
/** The default models folder: getBasePath() + "models/". */
export function modelsUrl(): string;
/** The URL of a label's pre-rendered generation (the default poster), or null for an unknown label. */
export function prerenderedPoster(label: string | number): string | null;

/** The page's shared models from `src` on `compute`, loaded once per (src, compute, workers) in
 * Web Workers; on the CPU path a batch spreads over up to `workers` of them (default
 * min(navigator.hardwareConcurrency, 4)). */
export function loadGenuq(src?: string, onProgress?: (p: GenuqProgress) => void, compute?: "auto" | "webgpu" | "cpu", workers?: number): Promise<LoadedGenuq>;
/** Stops every worker and forgets every loaded model: the next load starts afresh. */
export function resetGenuq(): void;
/** Deletes the model files genuq keeps in the browser's cache (Cache API); loaded models stay in
 * memory, the next visit downloads them again. True when there was a cache to delete. */
export function clearCache(): Promise<boolean>;
/** Terminates every genuq worker of the page: their generations in flight fail with an Error
 * named GenuqWorkerError; finished ones are kept. */
export function stopWorkers(why?: string): void;
/** For compute "webgpu": an adapter, or an Error named GenuqNoWebGPU. */
export function checkWebGPU(): Promise<unknown>;
/** The note beside a generation made on the CPU path ("" on WebGPU). */
export function computeNote(adapter: AdapterInfo): string;
/** How to get WebGPU, for the line shown where it is missing. */
export const GET_WEBGPU: string;
/** The ten garments, in label order (the crate's data::CLASS_NAMES). */
export const CLASSES: readonly string[];
/** What the page says where nothing is flagged: the labels by eye back no flag. */
export const NO_FLAG: string;
/** The generations rendered ahead of time, one per class. */
export function prerendered(): Promise<PrerenderedGeneration[]>;
/** A wasm trap, a device error or a stopped worker (GenuqWorkerError): needs resetGenuq(). */
export function isFatal(e: unknown): boolean;
/** Draws a width x height RGBA array into a canvas. */
export function paint(canvas: HTMLCanvasElement, rgba: ArrayLike<number>, width?: number, height?: number): void;
/** The score in words (the class percentile, or u without a reference); English unless `strings` is given. */
export function describe(g: Pick<Generation, "u" | "percentile" | "class">, strings?: GenuqStrings): string;
/** A standard deviation in [-1, 1] pixel units as grey levels (0-255). */
export function greyLevels(std: number): number;
/** The shipped score in words ("further from real garments than 56% of sneaker generations"; "" when missing). */
export function describeShipped(g: Pick<Generation, "classSpace" | "shipped" | "class" | "samples">, strings?: GenuqStrings): string;
/** The flag's text with its measured precision, or "" when not flagged. */
export function flagText(g: Pick<Generation, "shipped">, strings?: GenuqStrings): string;
/** Paints a generation into the demo's or the widget's canvases, with accessible names and u. */
export function renderGeneration(
  el: { image: HTMLCanvasElement; heatmap: HTMLCanvasElement; bar: HTMLCanvasElement; ticks: HTMLElement; u: HTMLElement },
  g: Generation, colorBar: Uint8ClampedArray, strings?: GenuqStrings): void;
/** A colour bar with ticks 0, half and the top of the scale. */
export function drawColorBar(canvas: HTMLCanvasElement, ticks: HTMLElement, bar: Uint8ClampedArray, scale: number, strings?: GenuqStrings): void;

declare global {
  interface HTMLElementTagNameMap {
    "genuq-widget": GenuqWidget;
  }
}
