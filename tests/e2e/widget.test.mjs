// End-to-end: <genuq-widget> in a documentation-style page (web/embed.html).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, outDir, serve, shoot, watchErrors, canvasStats } from "./harness.mjs";

const LONG = { timeout: 300_000 };
let server, browser;

before(async () => {
  server = await serve();
  browser = await launch({ webgpu: true });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test("auto widgets: one model load, results when visible; the manual one waits; events bubble out of the shadow root", async () => {
  // 80 px tall: a lazy widget loads within 200 px of the viewport, and the first is ~330 px down
  const context = await browser.newContext({ viewport: { width: 900, height: 80 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const fetched = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  const progress = [];
  await page.exposeFunction("reportProgress", (p) => progress.push(p));
  await page.addInitScript(() => {
    window.events = [];
    for (const type of ["progress", "load", "result", "error"]) {
      document.addEventListener(type, (e) => {
        if (e.target.localName === "genuq-widget") window.events.push({ type, id: e.target.id, composed: e.composed, total: e.detail?.totalProgress });
      });
    }
  });
  await page.goto(`${server.url}/embed.html`);
  await page.waitForTimeout(1500);
  assert.deepEqual(fetched.filter((p) => p.includes("/models/") || p.endsWith(".wasm")), [], "posters load nothing while out of view");
  await page.evaluate(() => document.querySelectorAll("genuq-widget").forEach((w) => w.addEventListener("progress", (e) => window.reportProgress(e.detail))));

  await page.setViewportSize({ width: 900, height: 2400 });
  const auto = ["first", "second"];
  await page.waitForFunction((ids) => ids.every((id) => document.getElementById(id).dataset.u), auto, LONG);
  const model = fetched.filter((p) => p.endsWith("student.safetensors"));
  assert.equal(model.length, 1, `one download of the model for two widgets (${fetched.join(", ")})`);
  const totals = progress.map((p) => p.totalProgress);
  assert.ok(progress.some((p) => p.stage === "wasm") && progress.some((p) => p.stage === "models"), "progress over the wasm and the models");
  assert.deepEqual(totals, [...totals].sort((a, b) => a - b), "totalProgress only grows");
  assert.equal(totals.at(-1), 1);
  const us = await page.$$eval("genuq-widget[id=first], genuq-widget[id=second]", (ws) => ws.map((w) => Number(w.dataset.u)));
  assert.notEqual(us[0], us[1], "two different generations");
  // events reach the document from inside the shadow root
  const events = await page.evaluate(() => window.events);
  for (const type of ["progress", "load", "result"]) {
    assert.ok(events.some((e) => e.type === type && e.id === "first" && e.composed), `${type} bubbles out (composed)`);
  }
  // the manual widget (class="note" label="bag") has not generated, even though visible
  assert.equal(await page.evaluate(() => document.getElementById("third").dataset.u), undefined);
  assert.ok(!events.some((e) => e.id === "third"));
  await page.evaluate(() => document.getElementById("third").reveal());
  await page.waitForFunction(() => document.getElementById("third").dataset.u, null, LONG);
  const third = await page.evaluate(() => {
    const w = document.getElementById("third");
    return { cls: w.className, label: w.label, text: w.shadowRoot.querySelector(".what").textContent, ticks: w.shadowRoot.querySelectorAll(".ticks span").length };
  });
  assert.deepEqual([third.cls, third.label], ["note", "bag"], "class stays the page's, label names the garment");
  assert.match(third.text, /of bag generations/);
  assert.equal(third.ticks, 3, "a colour bar with three ticks");
  // attributes are mirrored as properties, both ways
  const mirrored = await page.evaluate(() => {
    const w = document.getElementById("first");
    w.seed = 9;
    return [w.getAttribute("seed"), typeof w.seed, w.alt, document.getElementById("third").revealMode, typeof w.reveal];
  });
  assert.deepEqual(mirrored, ["9", "number", "A generated pair of trousers and its uncertainty", "manual", "function"]);
  await page.waitForFunction((u) => document.getElementById("first").dataset.u !== String(u), us[0], LONG);
  for (const id of ["first", "second"]) {
    const stats = await canvasStats(page, `#${id}`, ".image");
    assert.ok(stats.std > 10, `${id}: a non-blank image`);
  }
  await shoot(page, "widget");
  assert.deepEqual(errors, []);

  // a second visit takes the verified models from the Cache API
  fetched.length = 0;
  await page.reload();
  await page.waitForFunction((ids) => ids.every((id) => document.getElementById(id).dataset.u), auto, LONG);
  assert.deepEqual(fetched.filter((p) => p.endsWith(".safetensors")), [], "models come from the cache");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a widget with a bad attribute shows the error, not a blank box", async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/embed.html`);
  await page.evaluate(() => {
    const w = document.createElement("genuq-widget");
    w.id = "bad";
    w.setAttribute("label", "spaceship");
    w.setAttribute("loading", "eager");
    document.body.prepend(w);
  });
  await page.waitForFunction(() => !document.getElementById("bad").shadowRoot.querySelector(".error").hidden, null, LONG);
  const text = await page.evaluate(() => document.getElementById("bad").shadowRoot.querySelector(".error span").textContent);
  assert.match(text, /class: invalid value: string "spaceship", expected a class index 0\.\.=9 or one of t-shirt, .*ankle-boot/);
  await page.close();
});

/** Put at the top of genuq-worker.js: a page without WebCrypto (plain http away from localhost),
 * where the wasm hashes the model files itself. */
const NO_WEBCRYPTO = `Object.defineProperty(Crypto.prototype, "subtle", { get: () => undefined });\n`;

/** The demo in a fresh context (an empty Cache API): `webcrypto` false hides crypto.subtle from
 * the worker, `corrupt` (a model file's name) has a byte of that file flipped; resolves with the
 * page in "ready" or "error". */
async function checkedLoad({ webcrypto, corrupt }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (!webcrypto) {
    await page.route("**/genuq-worker.js", async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, body: NO_WEBCRYPTO + (await response.text()) });
    });
  }
  if (corrupt) {
    await page.route(`**/models/${corrupt}`, async (route) => {
      const resp = await route.fetch();
      const body = await resp.body();
      body[body.length >> 1] ^= 0xff;
      await route.fulfill({ response: resp, body });
    });
  }
  await page.goto(`${server.url}/?compute=cpu`);
  await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, LONG);
  return { context, page };
}

test("a corrupt model file is rejected with a clear message, hashed by WebCrypto or, without it, in wasm, also one loaded after the first generation began", async () => {
  for (const webcrypto of [true, false]) {
    const { context, page } = await checkedLoad({ webcrypto, corrupt: "student.safetensors" });
    assert.match(await page.textContent("#status"), /could not load its models: .*student\.safetensors: sha256 \w+ does not match the manifest/, `webcrypto: ${webcrypto}`);
    await context.close();
  }
  // a file the first generation waits for after the load (the reference table): that
  // generation fails with the same words
  const later = await checkedLoad({ webcrypto: true, corrupt: "reference_u.json" });
  assert.match(await later.page.textContent("#status"), /could not load its models: .*reference_u\.json: sha256 \w+ does not match the manifest/);
  await later.context.close();
  const { context, page } = await checkedLoad({ webcrypto: false });
  assert.equal(await page.evaluate(() => document.body.dataset.state), "ready", await page.textContent("#status"));
  await context.close();
});

test("without WebGPU a widget runs on the CPU and says so; with compute=\"webgpu\" it shows its label's generation made ahead of time", async () => {
  const plain = await launch({ webgpu: false });
  try {
    const page = await plain.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/embed.html`);
    await page.evaluate(() => document.getElementById("third").reveal());
    await page.waitForFunction(() => document.getElementById("third").dataset.u, null, LONG);
    const cpu = await page.evaluate(() => {
      const w = document.getElementById("third");
      const note = w.shadowRoot.querySelector(".compute");
      return { compute: w.dataset.compute, note: `${note.textContent} (${note.title})`, what: w.shadowRoot.querySelector(".what").textContent };
    });
    assert.equal(cpu.compute, "cpu");
    assert.match(cpu.note, /^running on the CPU \(running on the CPU: this browser (has|offers) no WebGPU/);
    assert.match(cpu.what, /of bag generations/);
    const stats = await canvasStats(page, "#third", ".image");
    assert.ok(stats.std > 10, "a non-blank image");
    assert.deepEqual(errors, []);

    await page.evaluate(() => {
      const w = document.createElement("genuq-widget");
      Object.assign(w, { id: "gpu-only" });
      for (const [k, v] of [["label", "bag"], ["compute", "webgpu"], ["loading", "eager"]]) w.setAttribute(k, v);
      document.body.prepend(w);
    });
    await page.waitForFunction(() => !document.getElementById("gpu-only").shadowRoot.querySelector(".fallback").hidden, null, LONG);
    const shown = await page.evaluate(() => {
      const box = document.getElementById("gpu-only").shadowRoot.querySelector(".fallback");
      return { note: box.querySelector(".note").textContent, src: box.querySelector("img").getAttribute("src"), what: box.querySelector(".what").textContent };
    });
    assert.match(shown.note, /no WebGPU/);
    assert.match(shown.src, /prerendered\/bag\.png$/);
    assert.match(shown.what, /bag/);
  } finally {
    await plain.close();
  }
});

test("before a reveal: the poster (its label's pre-rendered generation), a live region present and empty; `hidden` hides; an author's aria-label stays", async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/embed.html`);
  await page.locator("#third").scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.getElementById("third").shadowRoot.querySelector(".poster img").complete);
  const before = await page.evaluate(() => {
    const w = document.getElementById("third"); // reveal="manual" label="bag"
    const img = w.shadowRoot.querySelector(".poster img");
    const live = w.shadowRoot.querySelector("[aria-live]");
    return {
      src: img.getAttribute("src"), width: img.naturalWidth, shown: img.checkVisibility(),
      live: { present: !!live, hidden: live?.hidden || getComputedStyle(live).display === "none", text: live?.textContent },
      label: w.getAttribute("aria-label"),
    };
  });
  assert.match(before.src, /prerendered\/bag\.png$/);
  assert.ok(before.width > 0 && before.shown, "the poster image loaded and shows");
  assert.deepEqual(before.live, { present: true, hidden: false, text: "" }, "the live region is there before the first result");
  assert.equal(before.label, "a generated bag with its uncertainty heatmap");

  const after = await page.evaluate(async () => {
    const w = document.getElementById("third");
    const out = {};
    w.poster = "";
    out.noPoster = w.shadowRoot.querySelector(".poster img").hidden;
    w.poster = "prerendered/coat.png";
    out.ownPoster = w.shadowRoot.querySelector(".poster img").getAttribute("src");
    w.hidden = true;
    out.hiddenBox = [w.getBoundingClientRect().height, getComputedStyle(w).display];
    w.hidden = false;
    // the author's aria-label wins over alt and label, then and later
    const a = document.createElement("genuq-widget");
    a.setAttribute("aria-label", "the author's name");
    a.setAttribute("alt", "an alt text");
    a.setAttribute("reveal", "manual");
    document.body.append(a);
    a.setAttribute("alt", "another alt text");
    a.setAttribute("label", "coat");
    out.author = a.getAttribute("aria-label");
    // without one, alt names it and follows it
    const b = document.createElement("genuq-widget");
    b.setAttribute("reveal", "manual");
    b.setAttribute("alt", "first alt");
    document.body.append(b);
    b.setAttribute("alt", "second alt");
    out.alt = b.getAttribute("aria-label");
    return out;
  });
  assert.equal(after.noPoster, true, 'poster="" shows no image');
  assert.equal(after.ownPoster, "prerendered/coat.png");
  assert.deepEqual(after.hiddenBox, [0, "none"], "hidden hides it");
  assert.equal(after.author, "the author's name");
  assert.equal(after.alt, "second alt");
  assert.deepEqual(errors, []);
  await page.close();
});

test("dark mode: the widget's defaults follow prefers-color-scheme; reduced motion: no animation", async () => {
  const backgrounds = {};
  for (const colorScheme of ["light", "dark"]) {
    const context = await browser.newContext({ colorScheme });
    const page = await context.newPage();
    await page.goto(`${server.url}/embed.html`);
    backgrounds[colorScheme] = await page.evaluate(() => {
      const w = document.getElementById("third"); // no custom properties of the page's own
      return [getComputedStyle(w).backgroundColor, getComputedStyle(w).color];
    });
    await context.close();
  }
  assert.notEqual(backgrounds.dark[0], backgrounds.light[0], "another background");
  const luminance = (rgb) => rgb.match(/\d+/g).slice(0, 3).reduce((a, b) => a + Number(b), 0);
  assert.ok(luminance(backgrounds.dark[0]) < luminance(backgrounds.light[0]), `a darker background in dark mode (${backgrounds.dark[0]})`);
  assert.ok(luminance(backgrounds.dark[1]) > luminance(backgrounds.dark[0]), "light text on it");

  const animations = {};
  for (const reducedMotion of ["no-preference", "reduce"]) {
    const context = await browser.newContext({ reducedMotion });
    const page = await context.newPage();
    await page.goto(`${server.url}/embed.html`);
    animations[reducedMotion] = await page.evaluate(() => {
      const root = document.getElementById("third").shadowRoot;
      return [getComputedStyle(root.querySelector("figure")).animationName, getComputedStyle(root.querySelector(".poster")).transitionDuration];
    });
    await context.close();
  }
  assert.deepEqual(animations, { "no-preference": ["genuq-in", "0.15s"], reduce: ["none", "0s"] });
});

test("on a 360 px wide phone the widget wraps: nothing overflows sideways (screenshot test-output/widget-narrow.png; GENUQ_UPDATE_DOCS=1: docs/ too)", async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, deviceScaleFactor: 2 });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/embed.html`);
  await page.evaluate(() => {
    document.getElementById("first").scrollIntoView();
    document.getElementById("third").reveal();
  });
  await page.waitForFunction(() => ["first", "third"].every((id) => document.getElementById(id).dataset.u), null, LONG);
  const overflow = await page.evaluate(() => {
    const out = { page: [document.documentElement.scrollWidth, document.documentElement.clientWidth] };
    for (const w of document.querySelectorAll("genuq-widget")) {
      const row = w.shadowRoot.querySelector(".row");
      out[w.id] = { right: Math.ceil(w.getBoundingClientRect().right), row: [row.scrollWidth, row.clientWidth], box: [w.scrollWidth, w.clientWidth] };
    }
    return out;
  });
  assert.ok(overflow.page[0] <= overflow.page[1], `the page does not scroll sideways (${overflow.page})`);
  for (const id of ["first", "second", "third"]) {
    const o = overflow[id];
    assert.ok(o.right <= 360, `${id} ends inside the screen (${o.right})`);
    assert.ok(o.row[0] <= o.row[1] && o.box[0] <= o.box[1], `${id}: no overflow (${JSON.stringify(o)})`);
  }
  await page.evaluate(() => document.getElementById("first").scrollIntoView({ block: "center" }));
  await page.waitForTimeout(400); // the figures' fade-in
  await shoot(page, "widget-narrow", { fullPage: false, docs: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test("the widget's words follow the closest lang: a German page, an English widget in it, a label as typed, overrides by `strings` (test-output/widget-de.png)", async () => {
  const plain = await launch({ webgpu: false });
  try {
    const page = await plain.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/embed.html`);
    const before = await page.evaluate(async () => {
      const { STRINGS, CLASSES } = await import("./genuq-widget.js");
      document.documentElement.lang = "de-AT";
      const add = (id, attrs) => {
        const w = document.createElement("genuq-widget");
        w.id = id;
        for (const [k, v] of Object.entries({ reveal: "manual", compute: "cpu", ...attrs })) w.setAttribute(k, v);
        document.body.prepend(w);
        return w;
      };
      const de = add("de", { label: "  Ankle-Boot ", seed: "3" });
      const en = add("en", { label: "ankle boot", lang: "en" });
      const poster = (w) => w.shadowRoot.querySelector(".poster span").textContent;
      const out = { de: poster(de), deName: de.getAttribute("aria-label"), en: poster(en), enName: en.getAttribute("aria-label") };
      en.strings = { generate: (g) => `Make ${g.a}!` };
      out.overridden = poster(en);
      en.removeAttribute("lang"); // now the page's: German, the override kept
      out.inherited = poster(en);
      out.retry = de.shadowRoot.querySelector(".retry").textContent;
      // every shipped language names every garment and has every text
      const keys = (o) => Object.keys(o).sort().join();
      out.complete = Object.values(STRINGS).every((s) => keys(s) === keys(STRINGS.en) && CLASSES.every((c) => s.garments[c]?.a && s.garments[c]?.one && s.garments[c]?.of));
      return out;
    });
    assert.equal(before.de, "Eine Stiefelette mit Unsicherheit erzeugen");
    assert.equal(before.deName, "erzeugt: Stiefelette, mit Unsicherheitskarte");
    assert.equal(before.en, "Generate an ankle boot with its uncertainty");
    assert.equal(before.enName, "a generated ankle boot with its uncertainty heatmap");
    assert.equal(before.overridden, "Make an ankle boot!");
    assert.equal(before.inherited, "Make eine Stiefelette!");
    assert.equal(before.retry, "Erneut versuchen");
    assert.ok(before.complete, "en and de have the same entries and every garment");

    await page.evaluate(() => document.getElementById("de").reveal());
    await page.waitForFunction(() => document.getElementById("de").dataset.u, null, LONG);
    const after = await page.evaluate(() => {
      const root = document.getElementById("de").shadowRoot;
      const text = (s) => root.querySelector(s).textContent;
      return { what: text(".what"), u: text(".u"), compute: text(".compute"), caption: text(".heatmap-caption"), image: root.querySelector(".image").getAttribute("aria-label"), ticks: [...root.querySelectorAll(".ticks span")].map((t) => t.textContent) };
    });
    // the request was the label normalised: an ankle boot; the words German
    assert.match(after.what, /^weiter von echten Kleidungsstücken entfernt als \d+ % der erzeugten Stiefeletten; unsicherer als \d+ % der erzeugten Stiefeletten$/, after.what);
    assert.match(after.u, /^u = -?[\d.]+,\d\d$/, "a German decimal comma");
    assert.equal(after.compute, "läuft auf der CPU");
    assert.equal(after.caption, "Unsicherheit (Std.-Abw., Graustufen)");
    assert.equal(after.image, "erzeugt: Stiefelette (Seed 3)");
    assert.ok(after.ticks.length === 3 && after.ticks.every((t) => /^\d+(,\d)?$/.test(t)), `German colour-bar ticks: ${after.ticks}`);
    await page.locator("#de").screenshot({ path: `${outDir}/widget-de.png` });
    assert.deepEqual(errors, []);
  } finally {
    await plain.close();
  }
});
