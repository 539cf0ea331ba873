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
  // Browsers hide the adapter's name from wgpu; ask for the description they do give.
  const browserAdapter = await navigator.gpu.requestAdapter();
  if (!browserAdapter) {
    fail("WebGPU is there but offers no adapter (is it disabled, or blocked for this GPU?).");
    return;
  }
  await init();
  const info = await adapterInfo();
  const b = browserAdapter.info ?? {};
  info.browser = { vendor: b.vendor, architecture: b.architecture, device: b.device, description: b.description };
  adapter.textContent = JSON.stringify(info, null, 2);
  const name = b.description || [b.vendor, b.architecture].filter(Boolean).join(" ") || "unnamed adapter";
  status.textContent = `WebGPU adapter: ${name} (${info.backend}, ${info.device_type})`;
  document.body.dataset.state = "ready";
}

main().catch((e) => fail(`genuq could not start: ${e?.message ?? e}`));
