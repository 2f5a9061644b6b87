// Helpers shared by the browser tests: /dev plays the Wix host, framing /widget, /dashboard and
// /settings with freshly signed instances for two demo sites (A and B).
import { expect, type APIRequestContext, type Page, type FrameLocator } from '@playwright/test';

// `waitUntil: 'domcontentloaded'` when the wasm is held back: the frames preload it, so the
// host page's load event waits for it.
export async function openHost(page: Page, waitUntil: 'load' | 'domcontentloaded' = 'load') {
  await page.goto('/dev', { waitUntil });
  await expect(page.locator('#site-a-dashboard-owner')).toBeVisible();
}

export function frame(page: Page, id: string): FrameLocator {
  return page.frameLocator(`#${id}`);
}

/** Waits until the wasm has hydrated the framed page: `<body data-hydrated="true">`. */
export async function interactive(framed: FrameLocator) {
  await expect(framed.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** A freshly signed instance for one of /dev's frames (a new visitor on every call). */
export async function freshInstance(request: APIRequestContext, frameId: string): Promise<string> {
  const html = await (await request.get('/dev')).text();
  const src = html.match(new RegExp(`id="${frameId}"[^>]*\\ssrc="([^"]+)"`))?.[1];
  expect(src, `no #${frameId} on /dev`).toBeTruthy();
  const instance = new URL(src!.replaceAll('&amp;', '&'), 'http://host').searchParams.get('instance');
  expect(instance).toBeTruthy();
  return instance!;
}
