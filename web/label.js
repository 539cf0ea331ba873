// label.html: blind labelling of a set's sheets (cells.json from `genuq label sheets`), written
// out as the marks file `genuq label import` reads (docs/labels.md). No score is ever loaded.
// The regions task takes a set's region sheets (regions/cells.json from `genuq label regions`):
// a box dragged on each malformed generation where it is broken, or `n` for "all over", written
// out as the boxes file `genuq label import-regions` reads.
import { CLASSES } from "./genuq-widget.js";

const LABELS = ["fine", "malformed", "other", "ambiguous"];
const KEYS = { f: "fine", m: "malformed", o: "other", a: "ambiguous" };
const $ = (id) => document.getElementById(id);

const state = { cells: null, page: 0, marks: new Map(), focus: null, task: "labels" };
/** Side of the images, and how much larger the regions task draws them. */
const SIDE = 32, ZOOM = 8;

const keyOf = (sheet, cell) => `${sheet}#${cell}`;

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

/** Checks that `data` is a set's cells.json; throws an Error saying what is wrong. */
function checkCells(data) {
  const sheets = data?.sheets;
  if (!Array.isArray(sheets) || !sheets.length || typeof data.set !== "string")
    throw new Error("not a cells.json: it needs a set and a list of sheets");
  for (const s of sheets) {
    if (typeof s.name !== "string" || typeof s.class !== "string" || !Array.isArray(s.cells))
      throw new Error(`not a cells.json: a sheet needs a name, a class and cells`);
  }
  return data;
}

function load(data) {
  state.cells = checkCells(data);
  state.task = $("task").value;
  state.page = 0;
  state.marks.clear();
  $("garment").replaceChildren(new Option("choose…", ""), ...CLASSES.map((g) => new Option(g, g)));
  $("sheet").hidden = false;
  render();
}

function render() {
  const sheet = state.cells.sheets[state.page];
  $("title").textContent = `${sheet.name}: asked for ${sheet.class}`;
  $("where").textContent = `sheet ${state.page + 1} of ${state.cells.sheets.length}`;
  const make = state.task === "regions" ? regionCell : cellButton;
  $("cells").className = state.task;
  $("garment-row").hidden = state.task === "regions";
  $("cells").replaceChildren(...sheet.cells.map((c) => make(sheet, c)));
}

/** The regions task's cell: the image at 8x with a grid every 4 pixels; a drag draws the box. */
function regionCell(sheet, c) {
  const wrap = document.createElement("div");
  wrap.className = "cell";
  wrap.tabIndex = 0;
  wrap.dataset.cell = c.cell;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = SIDE * ZOOM;
  canvas.setAttribute("aria-label", `generation ${c.cell}: drag a box where it is broken`);
  const tag = document.createElement("div");
  tag.className = "tag";
  wrap.append(canvas, tag);
  const img = new Image();
  img.onload = () => drawRegion(canvas, img, state.marks.get(keyOf(sheet.name, c.cell)));
  img.src = `data:image/png;base64,${c.image_png}`;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) / r.width * SIDE, (e.clientY - r.top) / r.height * SIDE];
  };
  let start = null;
  canvas.addEventListener("pointerdown", (e) => { start = at(e); canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointerup", (e) => {
    if (!start) return;
    const end = at(e);
    const clamp = (v) => Math.min(SIDE, Math.max(0, v));
    const [x0, x1] = [Math.floor(clamp(Math.min(start[0], end[0]))), Math.ceil(clamp(Math.max(start[0], end[0])))];
    const [y0, y1] = [Math.floor(clamp(Math.min(start[1], end[1]))), Math.ceil(clamp(Math.max(start[1], end[1])))];
    start = null;
    if (x1 > x0 && y1 > y0) setRegion(wrap, sheet.name, c.cell, img, [x0, y0, x1, y1]);
  });
  wrap.addEventListener("keydown", (e) => {
    if (e.key === "n") setRegion(wrap, sheet.name, c.cell, img, null);
  });
  paintRegion(wrap, sheet.name, c.cell);
  return wrap;
}

function setRegion(wrap, sheet, cell, img, region) {
  state.marks.set(keyOf(sheet, cell), { region });
  drawRegion(wrap.querySelector("canvas"), img, state.marks.get(keyOf(sheet, cell)));
  paintRegion(wrap, sheet, cell);
}

function paintRegion(wrap, sheet, cell) {
  const m = state.marks.get(keyOf(sheet, cell));
  wrap.dataset.label = m ? "malformed" : "fine";
  const what = !m ? "" : m.region ? `: [${m.region.join(", ")}]` : ": all over";
  wrap.querySelector(".tag").textContent = `${cell}${what}`;
}

/** The image, its grid (every 4 pixels, every 8 stronger) and the box, if any. */
function drawRegion(canvas, img, mark) {
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  for (let k = 0; k <= SIDE; k += 4) {
    ctx.strokeStyle = k % 8 ? "rgba(90,140,255,0.6)" : "rgba(230,60,60,0.7)";
    const p = Math.min(k * ZOOM, canvas.width - 0.5);
    ctx.beginPath(); ctx.moveTo(p, 0); ctx.lineTo(p, canvas.height); ctx.moveTo(0, p); ctx.lineTo(canvas.width, p); ctx.stroke();
  }
  if (mark?.region) {
    const [x0, y0, x1, y1] = mark.region;
    ctx.strokeStyle = "#ffd400";
    ctx.lineWidth = 3;
    ctx.strokeRect(x0 * ZOOM, y0 * ZOOM, (x1 - x0) * ZOOM, (y1 - y0) * ZOOM);
    ctx.lineWidth = 1;
  }
}

function cellButton(sheet, c) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "cell";
  b.dataset.cell = c.cell;
  const img = new Image();
  img.src = `data:image/png;base64,${c.image_png}`;
  img.alt = `generation ${c.cell}`;
  const tag = document.createElement("div");
  tag.className = "tag";
  b.append(img, tag);
  paint(b, sheet.name, c.cell);
  b.addEventListener("click", () => {
    const now = state.marks.get(keyOf(sheet.name, c.cell))?.label ?? "fine";
    setLabel(b, sheet.name, c.cell, LABELS[(LABELS.indexOf(now) + 1) % LABELS.length]);
  });
  b.addEventListener("keydown", (e) => onKey(e, b, sheet.name, c.cell));
  return b;
}

function onKey(e, b, sheet, cell) {
  if (KEYS[e.key]) {
    e.preventDefault();
    setLabel(b, sheet, cell, KEYS[e.key]);
    return;
  }
  const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
  if (step) {
    e.preventDefault();
    const all = [...$("cells").children];
    all[Math.min(all.length - 1, Math.max(0, all.indexOf(b) + step))].focus();
  }
}

function setLabel(b, sheet, cell, label) {
  const key = keyOf(sheet, cell);
  if (label === "fine") state.marks.delete(key);
  else state.marks.set(key, { label, garment: state.marks.get(key)?.garment ?? null });
  state.focus = label === "other" || label === "ambiguous" ? key : null;
  $("garment-for").textContent = state.focus ? `${cell}` : "–";
  $("garment").disabled = !state.focus;
  if (state.focus) $("garment").value = state.marks.get(key).garment ?? "";
  paint(b, sheet, cell);
}

function paint(b, sheet, cell) {
  const m = state.marks.get(keyOf(sheet, cell));
  b.dataset.label = m?.label ?? "fine";
  b.querySelector(".tag").textContent = `${cell}${m ? `: ${m.label}${m.garment ? ` (${m.garment})` : ""}` : ""}`;
}

/** The marks file: every sheet seen, the cells that are not fine; in the regions task, the
 * boxes file (every cell's box or null). */
export function marksFile() {
  const labeller = $("labeller").value.trim();
  if (!labeller) throw new Error("say who labelled (the labeller field)");
  if (state.task === "regions") return regionsFile(labeller);
  const sheets = {};
  for (const s of state.cells.sheets) sheets[s.name] = { malformed: [], other: {}, ambiguous: {} };
  for (const [key, m] of state.marks) {
    const [sheet, cell] = key.split("#");
    if (m.label === "malformed") sheets[sheet].malformed.push(Number(cell));
    else if (!m.garment) throw new Error(`${sheet} cell ${cell}: which garment does it look like?`);
    else sheets[sheet][m.label][cell] = m.garment;
  }
  return { labeller, pass: $("pass").value, sheets };
}

function regionsFile(labeller) {
  const sheets = {};
  for (const s of state.cells.sheets) {
    sheets[s.name] = {};
    for (const c of s.cells) {
      const m = state.marks.get(keyOf(s.name, c.cell));
      if (!m) throw new Error(`${s.name} cell ${c.cell}: drag a box where it is broken, or press n (all over)`);
      sheets[s.name][c.cell] = m.region;
    }
  }
  return { labeller, sheets };
}

function exportMarks() {
  try {
    const blob = new Blob([JSON.stringify(marksFile(), null, 1) + "\n"], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    const kind = state.task === "regions" ? "regions" : "marks";
    a.download = `${kind}-${state.cells.set}-${$("labeller").value.trim()}.json`;
    a.click();
    showError("");
  } catch (e) {
    showError(e.message);
  }
}

$("file").addEventListener("change", async () => {
  try {
    load(JSON.parse(await $("file").files[0].text()));
    showError("");
  } catch (e) {
    showError(`could not read the sheets: ${e.message}`);
  }
});
$("garment").addEventListener("change", () => {
  const m = state.focus && state.marks.get(state.focus);
  if (m) m.garment = $("garment").value || null;
  if (state.focus) render();
});
$("prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); render(); });
$("next").addEventListener("click", () => { state.page = Math.min(state.cells.sheets.length - 1, state.page + 1); render(); });
$("export").addEventListener("click", exportMarks);

// ?cells=URL loads a set served beside the page (&task=regions for region sheets)
const params = new URLSearchParams(location.search);
if (params.get("task") === "regions") $("task").value = "regions";
const url = params.get("cells");
if (url) {
  fetch(url)
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${url}: HTTP ${r.status}`))))
    .then(load)
    .catch((e) => showError(`could not read the sheets: ${e.message}`));
}
