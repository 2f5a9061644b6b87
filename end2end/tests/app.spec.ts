import { test, expect, type Page, type FrameLocator } from '@playwright/test';
import { openHost, frame, interactive, freshInstance } from './host';

// Every test goes through /dev, the page that plays the Wix host: it frames /widget and
// /dashboard with freshly signed instances for two demo sites (A and B).

/** Holds every wasm download (the frames' preloads included) until `release()` is called. */
async function holdWasm(page: Page) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  await page.route('**/pkg/*.wasm', async (route) => {
    held += 1;
    await released;
    await route.continue();
  });
  return { release, held: () => held };
}

async function submitFeedback(widget: FrameLocator, message: string, opts: { email?: string; rating?: string } = {}) {
  await interactive(widget);
  await widget.locator('#fb-message').fill(message);
  if (opts.email) await widget.locator('#fb-email').fill(opts.email);
  if (opts.rating) await widget.locator('#fb-rating').selectOption(opts.rating);
  const send = widget.getByTestId('send');
  await expect(send).toBeEnabled();
  await send.click();
  await expect(widget.getByTestId('confirmation')).toContainText('Thank you');
}

function item(dashboard: FrameLocator, message: string) {
  return dashboard.getByTestId('feedback-item').filter({ hasText: message });
}

test('a visitor leaves feedback; the owner sees, resolves and deletes it', async ({ page }) => {
  const message = `Lovely shop, slow checkout ${Date.now()}`;
  await openHost(page);
  await submitFeedback(frame(page, 'site-a-widget-visitor'), message, { email: 'visitor@example.com', rating: '4' });

  // A fresh host page gives the dashboard a fresh load.
  await openHost(page);
  const dashboard = frame(page, 'site-a-dashboard-owner');
  const row = item(dashboard, message);
  await expect(row).toBeVisible();
  await expect(row).toContainText('visitor');
  await expect(row).toContainText('visitor@example.com');
  await expect(row).toHaveAttribute('data-status', 'open');
  const openBefore = Number(await dashboard.getByTestId('count-open').textContent());
  expect(openBefore).toBeGreaterThanOrEqual(1);

  await interactive(dashboard);
  await row.getByTestId('resolve').click();
  // The open list no longer shows it; the resolved list does.
  await expect(item(dashboard, message)).toHaveCount(0);
  await expect(dashboard.getByTestId('count-open')).toHaveText(String(openBefore - 1));
  await dashboard.getByTestId('filter-resolved').click();
  const resolved = item(dashboard, message);
  await expect(resolved).toHaveAttribute('data-status', 'resolved');

  await resolved.getByTestId('delete').click();
  await expect(item(dashboard, message)).toHaveCount(0);
  await dashboard.getByTestId('filter-all').click();
  await expect(dashboard.getByTestId('filter-all')).toHaveAttribute('aria-pressed', 'true');
  await expect(dashboard.getByTestId('loading')).toHaveCount(0);
  await expect(item(dashboard, message)).toHaveCount(0);
});

test('a member can leave feedback and the owner sees who wrote it', async ({ page }) => {
  const message = `Member note ${Date.now()}`;
  await openHost(page);
  await submitFeedback(frame(page, 'site-a-widget-member'), message);
  await openHost(page);
  await expect(item(frame(page, 'site-a-dashboard-owner'), message)).toContainText('member');
});

test("site B's dashboard never shows site A's feedback", async ({ page }) => {
  const forA = `Only for site A ${Date.now()}`;
  const forB = `Only for site B ${Date.now()}`;
  await openHost(page);
  await submitFeedback(frame(page, 'site-a-widget-visitor'), forA);
  await submitFeedback(frame(page, 'site-b-widget-visitor'), forB);

  await openHost(page);
  const a = frame(page, 'site-a-dashboard-owner');
  const b = frame(page, 'site-b-dashboard-owner');
  await interactive(b);
  await b.getByTestId('filter-all').click();
  await expect(item(b, forB)).toBeVisible();
  await expect(item(a, forA)).toBeVisible();
  await expect(b.getByTestId('loading')).toHaveCount(0);
  await expect(item(b, forA)).toHaveCount(0);
  await expect(item(a, forB)).toHaveCount(0);
});

test('a tampered instance gets the human message, not a broken page', async ({ page }) => {
  await openHost(page);
  const tampered = frame(page, 'site-a-dashboard-tampered');
  await expect(tampered.getByTestId('notice')).toContainText('Open this app from your Wix dashboard');
  await expect(tampered.getByTestId('feedback-item')).toHaveCount(0);
  await expect(tampered.getByTestId('counts')).toHaveCount(0);
});

test('a visitor instance opening the dashboard gets no data', async ({ page }) => {
  const message = `Not for visitors ${Date.now()}`;
  await openHost(page);
  await submitFeedback(frame(page, 'site-a-widget-visitor'), message);
  await openHost(page);
  const visitorDashboard = frame(page, 'site-a-dashboard-visitor');
  await expect(visitorDashboard.getByTestId('notice')).toContainText('Only the site owner');
  await expect(visitorDashboard.getByTestId('feedback-item')).toHaveCount(0);
  await expect(visitorDashboard.locator('body')).not.toContainText(message);
});

test('pages opened without an instance explain what to do', async ({ page }) => {
  for (const path of ['/dashboard', '/widget']) {
    await page.goto(path);
    await expect(page.getByTestId('notice')).toContainText('Open this app from your Wix dashboard');
  }
});

test('the widget validates before sending and reports server-side rejections', async ({ page }) => {
  await openHost(page);
  const widget = frame(page, 'site-a-widget-visitor');
  await interactive(widget);
  await expect(widget.getByTestId('send')).toBeDisabled();
  await widget.locator('#fb-message').fill('hello');
  await widget.locator('#fb-email').fill('not-an-email');
  await widget.getByTestId('send').click();
  await expect(widget.getByTestId('form-error')).toContainText('email');
});

test('a widget holding a Wix access token (not an instance) submits; the email becomes a Wix contact', async ({ page, request }) => {
  const message = `Via access token ${Date.now()}`;
  const email = `token-${Date.now()}@example.com`;
  await openHost(page);
  const widget = frame(page, 'site-a-widget-token');
  await expect(page.locator('#site-a-widget-token')).toHaveAttribute('src', /accessToken=/);
  await submitFeedback(widget, message, { email });

  await openHost(page);
  const dashboard = frame(page, 'site-a-dashboard-owner');
  const row = item(dashboard, message);
  await expect(row).toContainText('visitor');
  // The in-process fake Wix gives the demo site a name, and the outbox syncs the contact.
  await expect(dashboard.getByTestId('site-name')).toContainText('Demo site');
  await expect(async () => {
    await openHost(page);
    await expect(item(frame(page, 'site-a-dashboard-owner'), message).getByTestId('contact-state')).toHaveText('contact synced', { timeout: 2_000 });
  }).toPass({ timeout: 20_000 });

  const contacts = await request.get('/_wix/_fake/contacts?instance_id=6f0e2a52-0d6c-4c7b-9a51-00000000000a');
  expect(contacts.ok()).toBeTruthy();
  const body = await contacts.json();
  expect(body.contacts.filter((c: { email: string }) => c.email === email)).toHaveLength(1);
});

test('the /dev lifecycle panel uninstalls and reinstalls a site through signed webhooks', async ({ page }) => {
  const message = `Before uninstall ${Date.now()}`;
  await openHost(page);
  await submitFeedback(frame(page, 'site-b-widget-visitor'), message);

  await page.locator('#site-b-uninstall').click();
  await expect(page.locator('#site-b-status')).toContainText('removed');
  const removed = frame(page, 'site-b-dashboard-owner');
  await expect(removed.getByTestId('notice')).toContainText('This app was removed from the site');
  await expect(removed.getByTestId('feedback-item')).toHaveCount(0);

  // Reinstalled before the retention ran out: the data is still there.
  await page.locator('#site-b-install').click();
  await expect(page.locator('#site-b-status')).toHaveText('active');
  const back = frame(page, 'site-b-dashboard-owner');
  await expect(item(back, message)).toBeVisible();
});

test('what a visitor types before the page is interactive survives hydration and is sent', async ({ page }) => {
  const message = `Typed before the wasm arrived ${Date.now()}`;
  const email = `early-${Date.now()}@example.com`;
  const wasm = await holdWasm(page);
  await openHost(page, 'domcontentloaded');
  const widget = frame(page, 'site-a-widget-visitor');
  const send = widget.getByTestId('send');
  await expect(send).toHaveText('Loading…');
  await expect(send).toBeDisabled();
  await expect(send).toHaveAttribute('aria-busy', 'true');

  await widget.locator('#fb-message').fill(message);
  await widget.locator('#fb-email').fill(email);
  await widget.locator('#fb-rating').selectOption('5');
  // All of it went into the server-rendered form: the wasm was asked for and is still held.
  await expect.poll(wasm.held).toBeGreaterThan(0);
  await expect(widget.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
  await expect(send).toHaveText('Loading…');

  wasm.release();
  await interactive(widget);
  await expect(widget.locator('#fb-message')).toHaveValue(message);
  await expect(widget.locator('#fb-email')).toHaveValue(email);
  await expect(widget.locator('#fb-rating')).toHaveValue('5');
  // 2000: MESSAGE_MAX_CHARS (src/model.rs).
  await expect(widget.locator('.hint')).toHaveText(`${2000 - message.length} characters left`);
  await expect(send).toHaveText('Send feedback');
  await expect(send).toHaveAttribute('aria-busy', 'false');
  await send.click();
  await expect(widget.getByTestId('confirmation')).toContainText('Thank you');

  // What was sent is what was typed.
  await openHost(page);
  const row = item(frame(page, 'site-a-dashboard-owner'), message);
  await expect(row).toContainText(email);
  await expect(row.locator('.stars')).toHaveText('★★★★★');
});

test('dashboard filters wait, visibly, until the page is interactive', async ({ page }) => {
  const wasm = await holdWasm(page);
  await openHost(page, 'domcontentloaded');
  const dashboard = frame(page, 'site-a-dashboard-owner');
  const all = dashboard.getByTestId('filter-all');
  await expect(all).toBeDisabled();
  await expect(dashboard.getByRole('group', { name: 'Show' })).toHaveAttribute('aria-busy', 'true');
  await expect.poll(wasm.held).toBeGreaterThan(0);
  // A click now waits for the button to be enabled, then works.
  const clicked = all.click();

  wasm.release();
  await clicked;
  await expect(all).toHaveAttribute('aria-pressed', 'true');
  await expect(dashboard.getByRole('group', { name: 'Show' })).toHaveAttribute('aria-busy', 'false');
});

test('the dashboard asks for its counts and first page before its wasm arrives, and only once', async ({ page, request }) => {
  const instance = await freshInstance(request, 'site-a-dashboard-owner');
  const wasm = await holdWasm(page);
  const calls: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/api/')) calls.push(path);
  });
  await page.goto(`/dashboard?instance=${encodeURIComponent(instance)}`, { waitUntil: 'domcontentloaded' });
  // Both leave while the wasm is held back (the page's early requests).
  await expect.poll(() => [...calls].sort()).toEqual(['/api/feedback/list', '/api/site/summary']);
  await expect.poll(wasm.held).toBeGreaterThan(0);

  wasm.release();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('count-total')).toBeVisible();
  await expect(page.getByTestId('loading')).toHaveCount(0);
  // The wasm took their answers instead of asking again.
  expect([...calls].sort()).toEqual(['/api/feedback/list', '/api/site/summary']);

  // Anything after that is asked as usual.
  await page.getByTestId('filter-all').click();
  await expect(page.getByTestId('filter-all')).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(() => calls.filter((c) => c === '/api/feedback/list').length).toBe(2);
});

test('the owner pages through more feedback than one page holds', async ({ page, request }) => {
  const stamp = `Paged ${Date.now()}`;
  // 21 rows: one page holds 20 (LIST_DEFAULT_LIMIT, src/model.rs). A visitor may send two at
  // once (SUBMIT_BURST), so every pair comes from a fresh /dev visitor.
  for (let sent = 0; sent < 21; ) {
    const instance = await freshInstance(request, 'site-b-widget-visitor');
    for (let pair = 0; pair < 2 && sent < 21; pair += 1, sent += 1) {
      const res = await request.post('/api/feedback/submit', {
        headers: { authorization: instance },
        data: { message: `${stamp} #${sent}` },
      });
      expect(res.status(), await res.text()).toBe(200);
    }
  }

  await openHost(page);
  const dashboard = frame(page, 'site-b-dashboard-owner');
  const rows = dashboard.getByTestId('feedback-item').filter({ hasText: stamp });
  await expect(rows).toHaveCount(20);
  await expect(rows.first()).toContainText(`${stamp} #20`);
  await interactive(dashboard);
  await dashboard.getByTestId('load-more').click();
  await expect(rows).toHaveCount(21);
  await expect(rows.last()).toContainText(`${stamp} #0`);
  await expect(dashboard.getByTestId('loading')).toHaveCount(0);
  // Nothing more to load on site B's open list (only this test writes to it).
  await expect(dashboard.getByTestId('load-more')).toBeHidden();

  // Another filter and back: the first page again, not the pages loaded before.
  await dashboard.getByTestId('filter-all').click();
  await expect(dashboard.getByTestId('filter-all')).toHaveAttribute('aria-pressed', 'true');
  await dashboard.getByTestId('filter-open').click();
  await expect(dashboard.getByTestId('filter-open')).toHaveAttribute('aria-pressed', 'true');
  await expect(dashboard.getByTestId('loading')).toHaveCount(0);
  await expect(rows).toHaveCount(20);
  await expect(dashboard.getByTestId('load-more')).toBeVisible();
});

test('the owner edits a widget in its settings panel (live preview); that widget shows it on its next load', async ({ page }) => {
  const stamp = Date.now();
  const title = `Ideas welcome ${stamp}`;
  const prompt = `Which feature next? ${stamp}`;
  await openHost(page);
  // The /dev frame of the settings panel edits the second widget of site A (compId comp-second).
  await expect(page.locator('#site-a-settings-owner')).toHaveAttribute('src', /^\/settings\?instance=.*compId=comp-second/);
  const panel = frame(page, 'site-a-settings-owner');
  await interactive(panel);
  await expect(panel.getByTestId('settings-save')).toBeEnabled();

  // The preview follows every keystroke.
  await panel.getByTestId('settings-title').fill(title);
  await expect(panel.getByTestId('preview-title')).toHaveText(title);
  await panel.getByTestId('settings-prompt').fill(prompt);
  await expect(panel.getByTestId('preview-prompt')).toHaveAttribute('placeholder', prompt);
  await panel.getByTestId('settings-ask-email').uncheck();
  await expect(panel.getByTestId('preview-email')).toBeHidden();
  await expect(panel.getByTestId('preview-rating')).toBeVisible();

  // A bad colour is named before anything is saved.
  await panel.getByTestId('settings-accent').fill('#12345');
  await panel.getByTestId('settings-save').click();
  await expect(panel.getByTestId('settings-status')).toContainText('accent_color');
  await expect(panel.getByTestId('settings-accent')).toHaveAttribute('aria-invalid', 'true');
  await panel.getByTestId('settings-accent').fill('#AA3300');
  await expect(panel.getByTestId('preview')).toHaveAttribute('style', /--accent:#aa3300/i);
  await panel.getByTestId('settings-save').click();
  await expect(panel.getByTestId('settings-status')).toContainText('Saved');
  await expect(panel.getByTestId('settings-accent')).not.toHaveAttribute('aria-invalid', 'true');
  // Stored as the server answered: the colour in lower case.
  await expect(panel.getByTestId('settings-accent')).toHaveValue('#aa3300');

  // Next load: the second widget shows its settings; the first keeps the defaults.
  await openHost(page);
  const second = frame(page, 'site-a-widget-second');
  await interactive(second);
  await expect(second.getByTestId('widget-title')).toHaveText(title);
  await expect(second.locator('#fb-message')).toHaveAttribute('placeholder', prompt);
  await expect(second.locator('#fb-email')).toBeHidden();
  await expect(second.locator('#fb-rating')).toBeVisible();
  await expect(second.getByTestId('widget')).toHaveAttribute('style', /--accent:#aa3300/);
  const first = frame(page, 'site-a-widget-visitor');
  await interactive(first);
  await expect(first.locator('#fb-email')).toBeVisible();
  await expect(first.getByTestId('widget-title')).toHaveText('Tell us what you think');

  // Each widget's feedback is recorded with its compId; the dashboard filters by widget.
  const fromSecond = `From the second widget ${stamp}`;
  const fromFirst = `From the first widget ${stamp}`;
  await submitFeedback(second, fromSecond);
  await submitFeedback(first, fromFirst);
  await openHost(page);
  const dashboard = frame(page, 'site-a-dashboard-owner');
  await interactive(dashboard);
  await expect(item(dashboard, fromFirst)).toBeVisible();
  await expect(item(dashboard, fromFirst).getByTestId('comp-id')).toHaveText('comp-main');
  await dashboard.getByTestId('filter-widget').fill('comp-second');
  await dashboard.getByTestId('filter-widget').press('Enter');
  await expect(item(dashboard, fromSecond)).toBeVisible();
  await expect(item(dashboard, fromFirst)).toHaveCount(0);
  await dashboard.getByTestId('filter-widget').fill('');
  await dashboard.getByTestId('filter-widget').press('Enter');
  await expect(item(dashboard, fromFirst)).toBeVisible();
});
