// Time to interactive and bytes on the wire for a framed page, in headless Debian Chromium
// driven by playwright-core from end2end/node_modules (no browser download).
//
// TTI = navigation start (performance.timeOrigin) until the `--ready` selector exists. The
// default is the dashboard's total count, i.e. the wasm has hydrated the page and the summary
// call made after hydration has answered; the widget uses `body[data-hydrated="true"]`.
//
// The page itself notices the selector (a MutationObserver added before any of its scripts) and
// tells the harness with one console message. Playwright's `waitForFunction` is not used: it
// evaluates Playwright's injected script in the page (~20 ms on the main thread, measured in a
// Chromium trace) and polls on every animation frame, both in the middle of the load it times.
//
// usage: node bench/tti.mjs <url> [runs] [--ready SELECTOR] [--network KBIT_S:RTT_MS] [--warm]
//   --network  Chromium's network emulation (DevTools protocol): download and upload capped at
//              KBIT_S kbit/s, RTT_MS added to every round trip. Default: none (loopback).
//   --warm     measure a reload with the HTTP cache the first (unmeasured) load filled;
//              default: every measured load starts from an empty cache (a fresh context).
// Prints one JSON line: {"runs":[...],"median_ms":...,"median_wire_bytes":...,"network_requests":{...}}
import { createRequire } from 'node:module';

const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
};
const warm = args.includes('--warm') && args.splice(args.indexOf('--warm'), 1).length > 0;
const ready = flag('--ready') ?? '[data-testid="counts"] [data-testid="count-total"]';
const network = flag('--network');
const [url, runsArg] = args;
const runs = Number(runsArg ?? 7);
if (!url || !Number.isInteger(runs) || runs < 1) {
  console.error('usage: node bench/tti.mjs <url> [runs] [--ready SELECTOR] [--network KBIT_S:RTT_MS] [--warm]');
  process.exit(2);
}
let conditions = null;
if (network) {
  const [kbits, rtt] = network.split(':').map(Number);
  const bytesPerSecond = (kbits * 1000) / 8;
  conditions = { offline: false, latency: rtt, downloadThroughput: bytesPerSecond, uploadThroughput: bytesPerSecond };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

const READY_MESSAGE = '__tti_ready';
const marker = ([selector, message]) => {
  const check = () => {
    if (window.__tti === undefined && document.querySelector(selector)) {
      window.__tti = performance.now();
      console.debug(message);
      return true;
    }
    return false;
  };
  new MutationObserver((_, obs) => check() && obs.disconnect()).observe(document, {
    childList: true,
    subtree: true,
    attributes: true,
  });
};

/** One navigation: TTI, bytes on the wire, and which requests went to the network, by type. */
async function load(page, cdp) {
  let wire = 0;
  const fetched = {};
  const types = new Map();
  const cached = new Set();
  const onCached = (e) => cached.add(e.requestId);
  const onResponse = (e) => {
    const r = e.response;
    if (!r.fromDiskCache && !r.fromPrefetchCache && !r.fromServiceWorker) types.set(e.requestId, e.type);
  };
  const onFinished = (e) => {
    wire += e.encodedDataLength;
    const type = !cached.has(e.requestId) && types.get(e.requestId);
    if (type) fetched[type] = (fetched[type] ?? 0) + 1;
  };
  cdp.on('Network.requestServedFromCache', onCached);
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.loadingFinished', onFinished);
  const readyMessage = page.waitForEvent('console', { predicate: (m) => m.text() === READY_MESSAGE, timeout: 60_000 });
  await page.goto(url, { waitUntil: 'commit' });
  await readyMessage;
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { tti_ms: window.__tti, dom_content_loaded_ms: nav.domContentLoadedEventEnd, load_ms: nav.loadEventEnd };
  });
  // Requests still in flight at TTI (none expected) are not waited for.
  cdp.off('Network.requestServedFromCache', onCached);
  cdp.off('Network.responseReceived', onResponse);
  cdp.off('Network.loadingFinished', onFinished);
  return { ...timing, wire_bytes: wire, fetched };
}

const results = [];
try {
  // One unrecorded warm-up (server caches, Chromium's own start-up), then `runs` measured loads,
  // each in a fresh context (an empty HTTP cache). With --warm, each context loads the page
  // once unmeasured, then the measured load reuses what that load cached.
  for (let i = 0; i <= runs; i++) {
    const context = await browser.newContext();
    await context.addInitScript(marker, [ready, READY_MESSAGE]);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    if (conditions) await cdp.send('Network.emulateNetworkConditions', conditions);
    if (warm) await load(page, cdp);
    const measured = await load(page, cdp);
    if (i > 0) results.push(measured);
    await context.close();
  }
} finally {
  await browser.close();
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
console.log(
  JSON.stringify({
    network: network ?? 'loopback',
    cache: warm ? 'warm' : 'cold',
    runs: results.map((r) => Math.round(r.tti_ms)),
    median_ms: median(results.map((r) => r.tti_ms)),
    median_dom_content_loaded_ms: median(results.map((r) => r.dom_content_loaded_ms)),
    median_load_ms: median(results.map((r) => r.load_ms)),
    median_wire_bytes: median(results.map((r) => r.wire_bytes)),
    // Requests of the last measured load that went to the network, by type (Document, Fetch, …).
    network_requests: results[results.length - 1].fetched,
  }),
);
