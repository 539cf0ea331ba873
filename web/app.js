// The demo page. All numbers come from the wasm API, computed in Web Workers (through the
// widgets' shared loader, genuq-load.js, and its pool); this file only lays them out.
import { GET_WEBGPU, NO_FLAG, computeNote, describe, describeShipped, drawColorBar, flagText, greyLevels, paint, renderGeneration } from "./genuq-render.js";
import { isFatal, loadGenuq, prerendered, resetGenuq } from "./genuq-load.js";

const $ = (id) => document.getElementById(id);
/** Where the models run: ?compute=auto (the default), webgpu or cpu. */
const asked = new URLSearchParams(location.search).get("compute");
const compute = ["webgpu", "cpu"].includes(asked) ? asked : "auto";
let model = null;
let colorBar = null;
let batchResults = [];

function setState(state) {
  document.body.dataset.state = state;
}

function fatal(e) {
  const lost = isFatal(e);
  if (lost) resetGenuq();
  $("loading").hidden = false;
  // what is on screen stays (a stopped worker loses no finished generation), out of reach
  // until Retry
  $("app").hidden = !model;
  $("app").inert = lost;
  $("progress").hidden = true;
  $("status").textContent = e?.name === "GenuqModelError"
    ? `genuq could not load its models: ${e.message}. Retry downloads them again.`
    : lost
      ? `genuq stopped: ${e?.message ?? e}. Retry starts it again on a fresh device.`
      : `genuq could not start: ${e?.message ?? e}`;
  $("status").className = "error";
  $("fatal").hidden = false;
  if (lost) model = null;
  if (e?.name === "GenuqNoWebGPU") {
    $("status").textContent = `${e.message} ${GET_WEBGPU}`;
    showPrerendered();
  }
  setState("error");
}

/** With ?compute=webgpu and no WebGPU: one generation per class, rendered ahead of time by `genuq prerender`. */
async function showPrerendered() {
  const all = await prerendered().catch(() => []);
  $("gallery").replaceChildren(...all.map((g) => {
    const cell = document.createElement("figure");
    cell.className = "cell";
    const img = Object.assign(document.createElement("img"), { src: g.image, alt: `a ${g.class} generated ahead of time`, className: "px" });
    const heat = Object.assign(document.createElement("img"), { src: g.heatmap, alt: `its uncertainty heatmap, up to ${greyLevels(g.maxStd).toFixed(1)} grey levels`, className: "px" });
    const caption = document.createElement("figcaption");
    const shipped = describeShipped(g);
    caption.textContent = `${g.class}: ${shipped ? `${shipped}; ` : ""}${describe(g)}`;
    cell.append(img, heat, caption);
    return cell;
  }));
  $("prerendered").hidden = all.length === 0;
}

function showError(e) {
  if (isFatal(e)) return fatal(e);
  $("error").textContent = e?.message ?? String(e);
  $("error").hidden = false;
  setState("input-error");
}

function randomSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** The form as a request; the wasm API checks every field and says what is wrong. */
function request() {
  const seed = $("seed").value.trim();
  return {
    class: Number($("class").value),
    seed: seed === "" ? undefined : Number(seed),
    samples: Number($("samples").value),
    steps: Number($("steps").value),
    perturb: $("perturb").value,
    withSamples: $("show-samples").checked,
  };
}

function show(g) {
  renderGeneration({ image: $("image"), heatmap: $("heatmap"), bar: $("colorbar"), ticks: $("ticks"), u: $("u") }, g, colorBar);
  $("legend").textContent = `${g.steps} step${g.steps > 1 ? "s" : ""}, weight samples at ${g.steps === 1 ? "the" : { all: "every", first: "the first", last: "the last" }[g.perturb]} step`;
  // the shipped score leads (the labels by eye back it best), u's own rank under it
  $("percentile").textContent = describeShipped(g) || describe(g);
  $("shipped").textContent = describeShipped(g) ? describe(g) : "";
  $("verdict").textContent = flagText(g) ? `⚠ ${flagText(g)}` : NO_FLAG;
  $("verdict").className = flagText(g) ? "flag" : "";
  const t = g.timings;
  $("timings").innerHTML = [
    ["trunk + perturbed heads", t.headsMs], ...(model?.adapter.compute === "cpu" ? [["CLIP", t.clipMs], ["readback", t.readbackMs]]
      : [["CLIP (enqueue)", t.clipMs], ["GPU wait + readback", t.readbackMs]]),
    ["total", t.totalMs], ["waiting (queue, model files)", t.queuedMs],
  ].map(([k, v]) => `<tr><td>${k}</td><td>${v.toFixed(1)} ms</td></tr>`).join("");
  const row = $("samples-row");
  row.replaceChildren(...g.perturbed.map((rgba, i) => {
    const c = document.createElement("canvas");
    c.className = "px";
    c.title = `weight sample ${i + 1}`;
    paint(c, rgba);
    return c;
  }));
  row.hidden = g.perturbed.length === 0;
  $("result").hidden = false;
  $("result").dataset.u = String(g.u);
  $("result").dataset.steps = String(g.steps);
  $("result").dataset.perturb = g.perturb;
}

async function generate() {
  $("error").hidden = true;
  $("generate").disabled = true;
  try {
    const g = await model.generate(request());
    const back = performance.now();
    show(g);
    setState("ready");
    // for tests/bench: when the first result was on screen, and where its last stage went
    if (window.genuqFirstResultMs === undefined) {
      window.genuqFirstResultMs = performance.now();
      window.genuqFirstResultSplit = { workerMs: g.timings.totalMs, waitMs: g.timings.queuedMs, drawMs: window.genuqFirstResultMs - back };
    }
  } catch (e) {
    showError(e);
  } finally {
    $("generate").disabled = false;
  }
}

/** Sets aside the generations the evaluation's flag marks, and says how precise that flag was. */
function applyFlags() {
  const n = batchResults.length;
  let aside = 0;
  let precision = null;
  document.querySelectorAll("#batch .cell").forEach((cell, rank) => {
    const g = batchResults[rank];
    const out = flagText(g) !== "";
    if (out) precision = g.shipped.flag.precision;
    cell.classList.toggle("aside", out);
    cell.querySelector(".verdict").textContent = out ? "set aside" : "kept";
    cell.setAttribute("aria-label", `${g.class}, seed ${g.seed}: ${describeShipped(g) ? `${describeShipped(g)}; ` : ""}${describe(g)}, ${out ? "set aside" : "kept"}`);
    aside += out;
  });
  if (!n) return;
  $("batch-status").textContent = aside
    ? `${n - aside} kept, ${aside} set aside: in our evaluation, ${Math.round(100 * precision)}% of generations scored like these were the wrong garment`
    : `${n} kept, none set aside (${NO_FLAG.replace("not flagged: ", "")})`;
}

async function batch(n) {
  const buttons = [$("batch16"), $("batch64")];
  buttons.forEach((b) => (b.disabled = true));
  $("error").hidden = true;
  const choice = $("batch-class").value;
  const samples = Number($("samples").value);
  let done = 0;
  $("batch-status").textContent = `0 / ${n}`;
  try {
    const jobs = Array.from({ length: n }, () => {
      const cls = choice === "random" ? Math.floor(Math.random() * 10) : Number(choice);
      const sampler = { steps: Number($("steps").value), perturb: $("perturb").value };
      const heatmapScale = $("same-scale").checked ? "reference" : "own";
      return model.generate({ class: cls, seed: randomSeed(), samples, ...sampler, heatmapScale }).then((g) => {
        $("batch-status").textContent = `${++done} / ${n}`;
        return g;
      });
    });
    const settled = await Promise.allSettled(jobs);
    const all = settled.filter((r) => r.status === "fulfilled").map((r) => r.value);
    const failed = settled.find((r) => r.status === "rejected");
    // by the shipped score (the flag's threshold is on its value, across classes), least
    // trustworthy last; by u where the models have no shipped score
    const rank = all.every((g) => g.shipped) ? (g) => g.shipped.value : (g) => g.u;
    batchResults = all.sort((a, b) => rank(a) - rank(b));
    $("batch").replaceChildren(...batchResults.map((g) => {
      const cell = document.createElement("div");
      cell.className = "cell";
      cell.tabIndex = 0;
      cell.setAttribute("role", "group");
      cell.dataset.u = String(g.u);
      cell.dataset.rank = String(rank(g));
      cell.title = `${g.class}, seed ${g.seed}: ${describe(g)}`;
      const img = document.createElement("canvas");
      const heat = document.createElement("canvas");
      img.className = heat.className = "px";
      img.setAttribute("role", "img");
      heat.setAttribute("role", "img");
      img.setAttribute("aria-label", `${g.class}, seed ${g.seed}`);
      heat.setAttribute("aria-label", `its uncertainty, up to ${greyLevels(g.maxStd).toFixed(1)} grey levels`);
      paint(img, g.image);
      paint(heat, g.heatmap);
      const label = document.createElement("div");
      label.textContent = `u ${g.u.toFixed(1)}${g.classSpace ? ` · CLIP ${Math.round(100 * g.classSpace.probability)}%` : ""}`;
      const verdict = document.createElement("div");
      verdict.className = "verdict";
      cell.append(img, heat, label, verdict);
      return cell;
    }));
    applyFlags();
    const shared = $("same-scale").checked && batchResults.length > 0;
    $("batch-scale").hidden = !shared;
    if (shared) drawColorBar($("batch-colorbar"), $("batch-ticks"), colorBar, batchResults[0].heatmapScale);
    if (failed) {
      $("batch-status").textContent = `${all.length} of ${n} finished (shown); the rest failed`;
      return showError(failed.reason);
    }
    setState("batch-done");
  } catch (e) {
    showError(e);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

async function start() {
  setState("loading");
  $("fatal").hidden = true;
  $("app").inert = false;
  $("status").className = "";
  $("progress").hidden = false;
  $("status").textContent = "Loading the wasm module…";
  try {
    const mb = (b) => (b / 1e6).toFixed(2);
    const loaded = await loadGenuq(undefined, (p) => {
      (window.genuqStageMs ??= {})[p.stage] ??= performance.now(); // when each stage began, for tests/bench
      $("progress").value = p.totalProgress;
      $("status").textContent = {
        wasm: () => `Loading the wasm module (${mb(p.loaded)} of ${mb(p.total)} MB)`,
        models: () => `Loading models: ${p.file} (${mb(p.loaded)} of ${mb(p.total)} MB${p.cached ? ", from the browser cache" : ""})`,
        shaders: () => (p.compute === "cpu" ? "The first generation, on the CPU…" : "Compiling the GPU shaders (the first generation)…"),
      }[p.stage]();
    }, compute);
    model = loaded.model;
    colorBar = loaded.colorBar;
    for (const id of ["class", "batch-class"]) {
      const select = $(id);
      select.querySelectorAll("option:not([value=random])").forEach((o) => o.remove());
      loaded.classNames.forEach((name, i) => select.add(new Option(name, String(i), false, name === "sneaker" && id === "class")));
    }
    const { steps, perturb, supportedSteps, samples, maxSamples } = loaded.defaults;
    window.genuqDefaults = loaded.defaults; // for the tests
    Object.assign($("samples"), { value: String(samples), max: String(maxSamples) });
    $("steps").replaceChildren(...supportedSteps.map((s) => new Option(String(s), String(s), false, s === steps)));
    $("perturb").value = perturb;
    $("adapter").textContent = JSON.stringify(model.adapter, null, 2);
    $("compute-note").textContent = computeNote(model.adapter);
    $("compute-note").hidden = model.adapter.compute !== "cpu";
    document.body.dataset.compute = model.adapter.compute;
    $("loading").hidden = true;
    $("app").hidden = false;
    await generate();
  } catch (e) {
    fatal(e);
  }
}

$("controls").addEventListener("submit", (e) => {
  e.preventDefault();
  generate();
});
$("random").addEventListener("click", () => {
  $("seed").value = String(randomSeed());
  generate();
});
$("batch16").addEventListener("click", () => batch(16));
$("batch64").addEventListener("click", () => batch(64));
$("retry").addEventListener("click", start);
window.genuqModel = () => model; // for the benchmark harness
start();
