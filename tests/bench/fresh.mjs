// Shared by the browser benchmarks: visits in fresh Chromium profiles, one after another, and
// their medians.
import { launch } from "../e2e/harness.mjs";

/** `visit(browser, i)` in `runs` fresh profiles, one after another (each browser closed after
 * its visit); what the visits returned, in order. */
export async function freshProfiles(runs, visit) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const browser = await launch({ webgpu: true });
    try {
      out.push(await visit(browser, i));
    } finally {
      await browser.close();
    }
  }
  return out;
}

/** The median of `xs` (of an even count, the upper middle one). */
export function median(xs) {
  return xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** Each key's median over `rows` (objects of ms with the same keys), as one such object. */
export function medians(rows) {
  return Object.fromEntries(Object.keys(rows[0]).map((k) => [k, median(rows.map((r) => r[k]))]));
}

/** `row` (an object of ms) as one line: "stage 12, other 34". */
export function line(row) {
  return Object.entries(row).map(([k, v]) => `${k} ${Math.round(v)}`).join(", ");
}
