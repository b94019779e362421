// `make bench`: a signed-in user's first visit to a dashboard in Debian's Chromium, cold cache,
// CPU throttled 4× through the DevTools protocol. Prints, for each dashboard visited, the median time
// from navigation to hydrated (the app sets body[data-hydrated=true] once the wasm has taken over
// the server-rendered page), to first contentful paint and to the load event, and the bytes
// transferred by type (as they crossed the wire: compressed where the server compressed them).
//
// Usage: node end2end/bench/first-visit.mjs <base-url> [runs]   (the server must already be up,
// with the demo tenant). Each run uses a fresh browser context: no HTTP cache, no compiled wasm.
import { chromium } from "playwright-core";

const base = process.argv[2] || "http://127.0.0.1:3199";
const runs = Number(process.argv[3] || 5);
const dashboards = ["executive", "operations"];
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

const browser = await chromium.launch({
  executablePath,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});

// Sign in once, as a person does, and keep only the session cookie for the measured visits.
const login = await browser.newContext({ baseURL: base });
const lp = await login.newPage();
await lp.goto("/login");
await lp.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
await lp.getByLabel("Email").fill("viewer@acme.example");
await lp.getByLabel("Password").fill("narrate-demo");
await lp.getByRole("button", { name: "Sign in" }).click();
await lp.waitForURL((u) => !u.pathname.startsWith("/login"));
const storageState = await login.storageState();
await login.close();

let failures = 0;
for (const key of dashboards) {
  const samples = { hydrated: [], fcp: [], load: [], bytes: [] };
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.newContext({ baseURL: base, storageState, viewport: { width: 1440, height: 900 } });
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    const types = new Map();
    const byType = {};
    cdp.on("Network.responseReceived", (e) => types.set(e.requestId, kindOf(e.response.mimeType, e.response.url)));
    cdp.on("Network.loadingFinished", (e) => {
      const t = types.get(e.requestId) || "other";
      byType[t] = (byType[t] || 0) + e.encodedDataLength;
    });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const t0 = Date.now();
    await page.goto(`/dashboards/${key}`, { waitUntil: "commit" });
    await page.locator("body[data-hydrated=true]").waitFor({ state: "attached", timeout: 60_000 });
    const hydratedMs = Date.now() - t0;
    await page.waitForLoadState("load");
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const fcp = performance.getEntriesByName("first-contentful-paint")[0];
      return { load: nav ? nav.loadEventEnd : 0, fcp: fcp ? fcp.startTime : 0 };
    });
    if (errors.length) {
      failures++;
      console.error(`page errors on ${key}: ${errors.join("; ")}`);
    }
    samples.hydrated.push(hydratedMs);
    samples.fcp.push(timing.fcp);
    samples.load.push(timing.load);
    samples.bytes.push(byType);
    await ctx.close();
  }
  const last = samples.bytes[samples.bytes.length - 1];
  const total = Object.values(last).reduce((a, b) => a + b, 0);
  const parts = Object.entries(last)
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${kib(n)}`)
    .join(", ");
  console.log(
    `first visit /dashboards/${key} (cold cache, CPU 4× slower, ${runs} runs): hydrated median ${median(samples.hydrated)} ms ` +
      `(min ${Math.min(...samples.hydrated)}, max ${Math.max(...samples.hydrated)}), first contentful paint ${median(samples.fcp).toFixed(0)} ms, ` +
      `load ${median(samples.load).toFixed(0)} ms`,
  );
  console.log(`  transferred ${kib(total)}: ${parts}`);
}
await browser.close();
process.exit(failures ? 1 : 0);

function kindOf(mime, url) {
  if (mime.includes("wasm") || url.endsWith(".wasm")) return "wasm";
  if (mime.includes("javascript")) return "js";
  if (mime.includes("css")) return "css";
  if (mime.includes("html")) return "html";
  if (mime.includes("json")) return "json";
  if (mime.startsWith("image/") || mime.includes("font")) return "image/font";
  return "other";
}
