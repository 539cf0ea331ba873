// label.html: blind labelling of a set's sheets (cells.json from `genuq label sheets`), written
// out as the marks file `genuq label import` reads (docs/labels.md). No score is ever loaded.
import { CLASSES } from "./genuq-widget.js";

const LABELS = ["fine", "malformed", "other", "ambiguous"];
const KEYS = { f: "fine", m: "malformed", o: "other", a: "ambiguous" };
const $ = (id) => document.getElementById(id);

const state = { cells: null, page: 0, marks: new Map(), focus: null };

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
  $("cells").replaceChildren(...sheet.cells.map((c) => cellButton(sheet, c)));
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

/** The marks file: every sheet seen, the cells that are not fine. */
export function marksFile() {
  const labeller = $("labeller").value.trim();
  if (!labeller) throw new Error("say who labelled (the labeller field)");
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

function exportMarks() {
  try {
    const blob = new Blob([JSON.stringify(marksFile(), null, 1) + "\n"], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `marks-${state.cells.set}-${$("labeller").value.trim()}.json`;
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

// ?cells=URL loads a set served beside the page
const url = new URLSearchParams(location.search).get("cells");
if (url) {
  fetch(url)
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${url}: HTTP ${r.status}`))))
    .then(load)
    .catch((e) => showError(`could not read the sheets: ${e.message}`));
}
