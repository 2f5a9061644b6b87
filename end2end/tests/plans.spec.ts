import { test, expect } from '@playwright/test';
import { openHost, frame, interactive, freshInstance } from './host';
import { readFile } from 'node:fs/promises';

// Plans, the CSV export and the free plan's monthly limit, through /dev (the Wix host stand-in),
// whose plan panel sends signed billing webhooks. The e2e server runs with the defaults:
// FREE_MONTHLY_SUBMISSIONS=50, any non-empty plan id is premium.

const DEV_APP_ID = '00000000-0000-4000-8000-00000000de00';
const SITE_A = '6f0e2a52-0d6c-4c7b-9a51-00000000000a';

test('a free site shows its plan and opens Wix upgrade page in a new tab, not in the iframe', async ({ page }) => {
  await openHost(page);
  const dashboard = frame(page, 'site-a-dashboard-owner');
  await expect(dashboard.getByTestId('plan-name')).toHaveText('Free');
  await expect(dashboard.getByTestId('plan-usage')).toContainText('of 50 this month');
  await expect(dashboard.getByTestId('export-csv')).toHaveCount(0);
  const upgrade = dashboard.getByTestId('upgrade');
  const url = `https://www.wix.com/apps/upgrade/${DEV_APP_ID}?appInstanceId=${SITE_A}`;
  await expect(upgrade).toHaveAttribute('href', url);
  await expect(upgrade).toHaveAttribute('target', '_blank');
  await expect(upgrade).toHaveAttribute('rel', 'noopener');

  // Wix is not reachable from the test machine: answer the upgrade page locally.
  await page.context().route('https://www.wix.com/**', (route) => route.fulfill({ body: 'Wix upgrade page' }));
  await interactive(dashboard);
  const popup = page.waitForEvent('popup');
  await upgrade.click();
  const tab = await popup;
  expect(tab.url()).toBe(url);
  await tab.close();
  // The dashboard frame stayed where it was.
  await expect(dashboard.getByTestId('plan-name')).toHaveText('Free');
});

test('a premium site downloads its feedback as CSV', async ({ page }) => {
  const message = `=CSV check, "quoted" ${Date.now()}`;
  await openHost(page);
  await page.locator('#site-b-premium').click();
  await expect(page.getByTestId('webhook-result')).toContainText('applied');
  await expect(page.locator('#site-b-plan')).toContainText('premium');

  const widget = frame(page, 'site-b-widget-visitor');
  await interactive(widget);
  await widget.locator('#fb-message').fill(message);
  await widget.getByTestId('send').click();
  await expect(widget.getByTestId('confirmation')).toContainText('Thank you');

  await openHost(page);
  const dashboard = frame(page, 'site-b-dashboard-owner');
  await expect(dashboard.getByTestId('plan-name')).toHaveText('Premium');
  await expect(dashboard.getByTestId('upgrade')).toHaveCount(0);
  await interactive(dashboard);
  const download = page.waitForEvent('download');
  await dashboard.getByTestId('export-csv').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('feedback.csv');
  const csv = await readFile((await file.path())!, 'utf8');
  expect(csv.startsWith('id,created_at,status,author_kind,rating,email,comp_id,message\r\n')).toBeTruthy();
  // Quoted (comma, quotes) and defused (leading '=').
  expect(csv).toContain(`"'${message.replaceAll('"', '""')}"`);

  // Back to free: the export is gone, the upgrade link is back.
  await openHost(page);
  await page.locator('#site-b-free').click();
  await expect(page.locator('#site-b-plan')).toContainText('free plan');
  await expect(frame(page, 'site-b-dashboard-owner').getByTestId('upgrade')).toBeVisible();
});

test('a free site past its monthly limit: the widget tells the visitor kindly', async ({ page, request }) => {
  const owner = await freshInstance(request, 'site-a-dashboard-owner');
  const summary = await (await request.post('/api/site/summary', { headers: { authorization: owner }, data: {} })).json();
  const limit: number = summary.plan.monthly_limit;
  expect(limit).toBe(50);
  // Fill the month's allowance; a visitor may send two at once (SUBMIT_BURST).
  for (let sent = summary.plan.month_submissions; sent < limit; ) {
    const visitor = await freshInstance(request, 'site-a-widget-visitor');
    for (let pair = 0; pair < 2 && sent < limit; pair += 1, sent += 1) {
      const res = await request.post('/api/feedback/submit', {
        headers: { authorization: visitor },
        data: { message: `filler #${sent}` },
      });
      expect(res.status(), await res.text()).toBe(200);
    }
  }

  await openHost(page);
  const widget = frame(page, 'site-a-widget-visitor');
  await interactive(widget);
  await widget.locator('#fb-message').fill('One more thing');
  await widget.getByTestId('send').click();
  await expect(widget.getByTestId('limit-reached')).toContainText("isn't taking new feedback right now");
  await expect(widget.getByTestId('form-error')).toHaveCount(0);
  await expect(widget.getByTestId('confirmation')).toHaveCount(0);

  await expect(frame(page, 'site-a-dashboard-owner').getByTestId('plan-usage')).toHaveText('50 of 50 this month');
});

test('a privacy request exports, then erases (after confirming) one email\'s feedback', async ({ page }) => {
  const email = `privacy-${Date.now()}@example.com`;
  await openHost(page);
  const widget = frame(page, 'site-b-widget-visitor');
  await interactive(widget);
  await widget.locator('#fb-message').fill('Please forget me');
  await widget.locator('#fb-email').fill(email);
  await widget.getByTestId('send').click();
  await expect(widget.getByTestId('confirmation')).toContainText('Thank you');

  await openHost(page);
  const dashboard = frame(page, 'site-b-dashboard-owner');
  await interactive(dashboard);
  await expect(dashboard.getByTestId('feedback-item').filter({ hasText: 'Please forget me' })).toHaveCount(1);
  await dashboard.getByTestId('privacy-open').click();
  await dashboard.locator('#privacy-email').fill(email.toUpperCase());
  await dashboard.getByTestId('privacy-export').click();
  await expect(dashboard.getByTestId('privacy-result')).toContainText('Please forget me');
  await expect(dashboard.getByTestId('privacy-result')).toContainText(email);

  await dashboard.getByTestId('privacy-erase').click();
  await expect(dashboard.getByTestId('privacy-confirm')).toBeVisible();
  await dashboard.getByTestId('privacy-confirm-erase').click();
  await expect(dashboard.getByTestId('privacy-result')).toHaveText('Erased 1 item(s).');
  await expect(dashboard.getByTestId('privacy-confirm')).toBeHidden();
  await expect(dashboard.getByTestId('feedback-item').filter({ hasText: 'Please forget me' })).toHaveCount(0);
});
