// The TypeScript a user of the npm package compiles against: pkg/genuq.d.ts (wasm-bindgen, with
// the declarations tsify generates from crate/src/wasm/generate_request.rs, request.rs and types.rs) and genuq-widget.d.ts. A small
// program written as a user would is type-checked with tsc --strict: every type the API names
// must be declared, the camelCase names must be there, and the old snake_case ones must be gone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const dist = process.env.GENUQ_DIST ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../dist");

// esnext: wasm-bindgen's classes declare [Symbol.dispose]
const TSC = ["--noEmit", "--strict", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler", "--lib", "esnext,dom"];

const PROGRAM = (dist) => `
import init, { Genuq, adapterInfo, classNames, colorBar, defaults, firstFiles, probeCompute } from "${dist}/pkg/genuq.js";
import type { GenerateRequest, Generation, LoadProgress, ScoreName } from "${dist}/pkg/genuq.js";
import { flagText, prerenderedPoster } from "${dist}/genuq-widget.js";

export async function use(): Promise<number> {
  await init();
  const d = defaults();
  const names: string[] = d.classNames.concat(classNames());
  const steps: number[] = d.supportedSteps;
  const max: number = d.maxSamples;
  const probe = await probeCompute();
  const webgpu: boolean = probe.webgpu;
  const info = await adapterInfo("cpu");
  const kind: string = info.deviceType;
  const first: string[] = firstFiles();
  const requests = Object.fromEntries(first.map((name) => [name, fetch(\`models/\${name}\`)]));
  const genuq = await Genuq.load("models/", { compute: "cpu", requests, onProgress: (p: LoadProgress) => void p.loaded });
  const path: "webgpu" | "cpu" = genuq.adapter.compute;
  const request: GenerateRequest = { class: "sneaker", seed: 42, samples: d.samples, steps: d.steps, perturb: d.perturb, withSamples: true, heatmapScale: "reference" };
  const g: Generation = await genuq.generate(request);
  const image: Uint8ClampedArray = g.image;
  const perturbed: Uint8ClampedArray[] = g.perturbed;
  const ms: number = g.timings.headsMs + g.timings.clipMs + g.timings.readbackMs + g.timings.totalMs + g.timings.queuedMs;
  const bald: number | undefined = g.classSpace?.bald;
  const precision: number | undefined = g.shipped?.flag?.precision;
  const percentile: number | null = g.percentile;
  const bench = await genuq.bench(1);
  const plain: number = bench.plain_ms + bench.per_steps[0].uncertainty_ms + bench.stage_share.clip;
  const files: Record<string, Uint8Array> = await genuq.modelFiles();
  const bar: Uint8ClampedArray = colorBar(64);
  const poster: string | null = prerenderedPoster("sneaker");
  const text: string = flagText(g);
  // the shipped score's name is one spelling, a union: "realism", "u", "clip_margin", ...
  const shipped: ScoreName | undefined = g.shipped?.score;
  const picked: ScoreName = d.score;
  const known: boolean = shipped === "realism" || picked === "u";
  // @ts-expect-error "genuq" was u's second spelling; it is gone
  const old: ScoreName = "genuq";
  // @ts-expect-error the old snake_case timing names are gone
  void g.timings.heads_ms;
  // @ts-expect-error a class is an index or a name
  const bad: GenerateRequest = { class: true, seed: 1 };
  // @ts-expect-error perturb is "all", "first" or "last"
  const where: GenerateRequest = { class: 1, seed: 1, perturb: "middle" };
  return names.length + steps.length + max + Number(webgpu) + kind.length + path.length + image.length + perturbed.length + ms
    + (bald ?? 0) + (precision ?? 0) + (percentile ?? 0) + plain + Object.keys(files).length + bar.length
    + (poster?.length ?? 0) + text.length + Number(bad) + Number(where) + Number(known) + old.length;
}
`;

test("a program using the API type-checks against the package's declarations (tsc --strict)", () => {
  const work = mkdtempSync(path.join(tmpdir(), "genuq-types-"));
  writeFileSync(path.join(work, "use.ts"), PROGRAM(dist));
  const args = [...TSC, path.join(work, "use.ts")];
  try {
    execFileSync("tsc", args, { cwd: work, encoding: "utf8" });
  } catch (e) {
    assert.fail(`tsc found type errors:\n${e.stdout}${e.stderr}`);
  }
});

test("the type check can fail: a misnamed field is an error", () => {
  const work = mkdtempSync(path.join(tmpdir(), "genuq-types-"));
  writeFileSync(path.join(work, "use.ts"), PROGRAM(dist).replace("g.timings.headsMs +", "g.timings.headMs +"));
  const args = [...TSC, path.join(work, "use.ts")];
  assert.throws(() => execFileSync("tsc", args, { cwd: work, encoding: "utf8", stdio: "pipe" }), (e) => /headMs/.test(e.stdout));
});
