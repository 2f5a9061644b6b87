// Time to interactive of /dashboard in headless Debian Chromium, driven by playwright-core from
// end2end/node_modules (no browser download). TTI = navigation start (performance.timeOrigin)
// until `[data-testid="counts"] [data-testid="count-total"]` exists, i.e. the wasm bundle has
// hydrated the page and the summary call made after hydration has answered.
//
// usage: node bench/tti.mjs <url> [runs]   prints one JSON line: {"runs":[...],"median_ms":...}
import { createRequire } from 'node:module';

const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const url = process.argv[2];
const runs = Number(process.argv[3] ?? 7);
if (!url) {
  console.error('usage: node bench/tti.mjs <url> [runs]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

const marker = () => {
  const selector = '[data-testid="counts"] [data-testid="count-total"]';
  const check = () => {
    if (window.__tti === undefined && document.querySelector(selector)) {
      window.__tti = performance.now();
      return true;
    }
    return false;
  };
  new MutationObserver((_, obs) => check() && obs.disconnect()).observe(document, {
    childList: true,
    subtree: true,
  });
};

const results = [];
try {
  // One unrecorded warm-up (server caches, Chromium's own start-up), then `runs` measured loads,
  // each in a fresh context: empty HTTP cache, so the wasm is fetched and compiled every time.
  for (let i = 0; i <= runs; i++) {
    const context = await browser.newContext();
    await context.addInitScript(marker);
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__tti !== undefined, null, { timeout: 30_000 });
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return {
        tti_ms: window.__tti,
        dom_content_loaded_ms: nav.domContentLoadedEventEnd,
        load_ms: nav.loadEventEnd,
      };
    });
    if (i > 0) results.push(timing);
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
    runs: results.map((r) => Math.round(r.tti_ms)),
    median_ms: median(results.map((r) => r.tti_ms)),
    median_dom_content_loaded_ms: median(results.map((r) => r.dom_content_loaded_ms)),
    median_load_ms: median(results.map((r) => r.load_ms)),
  }),
);
