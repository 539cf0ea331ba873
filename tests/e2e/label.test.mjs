// label.html: a person labels a set's sheets blind (no score anywhere) by click and by key, and
// exports the marks file `genuq label import` reads. The sheets here are two small ones made of
// the pre-rendered generations (real 32x32 PNGs), given through the page's file input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { launch, serve, shoot, watchErrors } from "./harness.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const png = (name) => readFileSync(path.join(root, "web/prerendered", `${name}.png`)).toString("base64");

const CELLS = {
  set: "e2e",
  steps: 2,
  perturb: "last",
  sheets: [
    { name: "e2e-sandal-1", class: "sandal", cells: [1, 2, 3, 4].map((cell) => ({ cell, seed: 10 + cell, image_png: png(cell === 3 ? "sneaker" : "sandal") })) },
    { name: "e2e-shirt-1", class: "shirt", cells: [1, 2].map((cell) => ({ cell, seed: 20 + cell, image_png: png("shirt") })) },
  ],
};

/** Runs `body(page)` on label.html served from the build, then checks the page logged no error. */
async function onLabelPage(body) {
  const server = await serve();
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/label.html`);
    await body(page);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.kill();
  }
}

test("label.html: click and keys label cells, the export is the marks file", async () => {
  await onLabelPage(async (page) => {
    await page.setInputFiles("#file", { name: "cells.json", mimeType: "application/json", buffer: Buffer.from("{\"nope\": 1}") });
    await page.waitForSelector("#error:not([hidden])");
    assert.match(await page.textContent("#error"), /not a cells\.json/);

    await page.setInputFiles("#file", { name: "cells.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(CELLS)) });
    await page.waitForSelector("#cells .cell");
    assert.equal(await page.textContent("#title"), "e2e-sandal-1: asked for sandal");
    assert.equal(await page.locator("#cells .cell").count(), 4);
    const body = await page.textContent("body");
    assert.doesNotMatch(body, /\bu\s*=|percentile|score of/i, "no score on the page");

    await page.click('#cells .cell[data-cell="2"]'); // fine -> malformed
    await page.focus('#cells .cell[data-cell="3"]');
    await page.keyboard.press("o");
    await page.selectOption("#garment", "sneaker");
    await page.focus('#cells .cell[data-cell="4"]');
    await page.keyboard.press("m");
    await page.keyboard.press("f"); // changed its mind: fine again
    await page.click("#next");
    await page.click('#cells .cell[data-cell="1"]');
    await page.click('#cells .cell[data-cell="1"]');
    await page.click('#cells .cell[data-cell="1"]'); // malformed -> other -> ambiguous
    await page.selectOption("#garment", "sandal");
    await shoot(page, "label");

    await page.click("#export"); // no labeller yet
    assert.match(await page.textContent("#error"), /labeller/);
    await page.fill("#labeller", "e2e");
    await page.selectOption("#pass", "second");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
    const marks = JSON.parse(readFileSync(await download.path(), "utf8"));
    assert.deepEqual(marks, {
      labeller: "e2e",
      pass: "second",
      sheets: {
        "e2e-sandal-1": { malformed: [2], other: { 3: "sneaker" }, ambiguous: {} },
        "e2e-shirt-1": { malformed: [], other: {}, ambiguous: { 1: "sandal" } },
      },
    });
  });
});

test("label.html regions task: a drag draws a box in image pixels, n says all over, the export is the boxes file", async () => {
  await onLabelPage(async (page) => {
    await page.selectOption("#task", "regions");
    await page.setInputFiles("#file", { name: "cells.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(CELLS)) });
    await page.waitForSelector("#cells.regions .cell canvas");
    // drag on cell 1 from image pixel (8.5, 4.5) to (19.5, 22.5): the canvas is 256 px for 32
    const box = await page.locator('#cells .cell[data-cell="1"] canvas').boundingBox();
    const px = (x, y) => [box.x + (x * box.width) / 32, box.y + (y * box.height) / 32];
    await page.mouse.move(...px(19.5, 22.5));
    await page.mouse.down();
    await page.mouse.move(...px(8.5, 4.5), { steps: 4 });
    await page.mouse.up();
    assert.equal(await page.textContent('#cells .cell[data-cell="1"] .tag'), "1: [8, 4, 20, 23]");
    for (const cell of [2, 3, 4]) {
      await page.focus(`#cells .cell[data-cell="${cell}"]`);
      await page.keyboard.press("n");
    }
    assert.ok(await page.locator("#garment-row").isHidden(), "no garment picker for boxes");
    await shoot(page, "label-regions");
    await page.fill("#labeller", "e2e");
    await page.click("#export"); // the second sheet is not marked yet
    assert.match(await page.textContent("#error"), /e2e-shirt-1 cell 1: drag a box/);
    await page.click("#next");
    for (const cell of [1, 2]) {
      await page.focus(`#cells .cell[data-cell="${cell}"]`);
      await page.keyboard.press("n");
    }
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
    const boxes = JSON.parse(readFileSync(await download.path(), "utf8"));
    assert.deepEqual(boxes, {
      labeller: "e2e",
      sheets: {
        "e2e-sandal-1": { 1: [8, 4, 20, 23], 2: null, 3: null, 4: null },
        "e2e-shirt-1": { 1: null, 2: null },
      },
    });
  });
});
