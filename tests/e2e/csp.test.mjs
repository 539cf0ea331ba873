// End-to-end: the demo and a documentation page with widgets under a strict Content-Security-Policy
// (the README's: no 'unsafe-eval', no inline script), on the CPU path. Every response gets the
// header (pages and worker scripts); a violation is a console error ("Refused to ..."), which
// fails the test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, serve, watchErrors } from "./harness.mjs";

const LONG = { timeout: 300_000 };
/** The policy the README tells a site to allow. */
export const POLICY = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";

/** A page of `browser` whose HTML comes with the policy. */
async function strictPage(browser) {
  const page = await browser.newPage();
  const violations = [];
  await page.route("**/*", async (route) => {
    // on every response: a worker's policy is its script's, not the page's
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), "content-security-policy": POLICY } });
  });
  page.on("console", (m) => /Content Security Policy|Refused to/i.test(m.text()) && violations.push(m.text()));
  return { page, violations, errors: watchErrors(page) };
}

test("under a strict CSP the demo and the widgets generate, with no violation", async () => {
  const server = await serve();
  const browser = await launch({ webgpu: false });
  try {
    const demo = await strictPage(browser);
    await demo.page.goto(`${server.url}/?compute=cpu`);
    await demo.page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, LONG);
    assert.equal(await demo.page.evaluate(() => document.body.dataset.state), "ready", await demo.page.textContent("#status"));
    assert.match(await demo.page.textContent("#percentile"), /of sneaker generations/);

    const docs = await strictPage(browser);
    await docs.page.goto(`${server.url}/embed.html`);
    await docs.page.waitForFunction(() => document.getElementById("first")?.dataset.u, null, LONG);
    for (const p of [demo, docs]) {
      assert.deepEqual(p.violations, []);
      assert.deepEqual(p.errors, []);
    }
  } finally {
    await browser.close();
    server.kill();
  }
});
