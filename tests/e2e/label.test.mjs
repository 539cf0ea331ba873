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

test("label.html: click and keys label cells, the export is the marks file", async () => {
  const server = await serve();
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/label.html`);
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
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.kill();
  }
});
