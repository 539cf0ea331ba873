// The demo page. All numbers come from the wasm API; this file only lays them out.
import init, { adapterInfo } from "./pkg/genuq.js";

const status = document.getElementById("status");
const adapter = document.getElementById("adapter");

function fail(message) {
  status.textContent = message;
  status.className = "error";
  document.body.dataset.state = "error";
}

async function main() {
  if (!("gpu" in navigator)) {
    fail("This browser has no WebGPU (navigator.gpu is missing). Try a recent Chrome or Edge, or Firefox Nightly.");
    return;
  }
  await init();
  const info = await adapterInfo();
  adapter.textContent = JSON.stringify(info, null, 2);
  status.textContent = `WebGPU adapter: ${info.name} (${info.backend})`;
  document.body.dataset.state = "ready";
}

main().catch((e) => fail(`genuq could not start: ${e?.message ?? e}`));
