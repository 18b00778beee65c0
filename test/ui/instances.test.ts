/**
 * The dashboard's instances and instance pages in a real browser: the key from the address, the
 * filters, live refresh and its pause, and a failed Dataverse change whose compensations show on
 * the saga timeline; a missing key asks for one, a wrong key says so.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { apiOf, type Api } from '../api/client';
import { errorsOf, launchBrowser, openDashboard, poll, screenshot } from './support';

interface Step {
  name: string;
  state: string;
  error?: { message: string };
  compensation?: { state: string };
}

let app: AppUnderTest;
let api: Api;
let browser: Browser;
const ids = { completed: 'ui-change-ok', failed: 'ui-change-failed', config: 'ui-config-1' };

async function start(name: string, id: string, input: unknown): Promise<void> {
  const res = await api.call('POST', `orchestrators/${name}/${id}`, { body: input });
  expect(res.status).toBe(202);
}

beforeAll(async () => {
  app = await startAppWithDataverse({ graph: true });
  api = apiOf(app);
  browser = await launchBrowser();
  const contact = async (n: string): Promise<string> =>
    String((await app.dataverse.create('contacts', { firstname: n, lastname: 'Ui' })).id);
  const a = await contact('Ann');
  const b = await contact('Bob');

  await start('dataverseChange', ids.completed, {
    description: 'a new job title',
    operations: [{ op: 'update', table: 'contacts', id: a, data: { jobtitle: 'Client' } }],
  });
  expect((await api.waitFor(ids.completed)).json.runtimeStatus).toBe('Completed');

  // The third operation's write fails on the server: the first two are compensated.
  app.sim.faults.add({ method: 'PATCH', path: `contacts\\(${b}\\)`, kind: 'status', status: 500, count: 1 });
  await start('dataverseChange', ids.failed, {
    description: 'three changes, the last one fails',
    operations: [
      { op: 'create', table: 'contacts', data: { firstname: 'Temp', lastname: 'Record' } },
      { op: 'update', table: 'contacts', id: a, data: { lastname: 'Changed' } },
      { op: 'update', table: 'contacts', id: b, data: { lastname: 'Boom' } },
    ],
  });
  expect((await api.waitFor(ids.failed)).json.runtimeStatus).toBe('Failed');

  await start('configChange', ids.config, { value: { reminderHour: 9 } });
  expect((await api.waitFor(ids.config)).json.runtimeStatus).toBe('Completed');
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const rowIds = (page: Page): Promise<string[]> =>
  page
    .locator('[data-testid=instance-row]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-instance-id') ?? ''));

describe('the instances page', () => {
  it('takes the key from ?code=, removes it from the address, and lists the instances', async () => {
    const page = await openDashboard(browser, app);
    await poll(() => rowIds(page)).toEqual(expect.arrayContaining(Object.values(ids)));
    expect(page.url()).not.toContain('code=');
    expect(page.url()).not.toContain(api.key);
    const failedRow = page.locator(`[data-testid=instance-row][data-instance-id=${ids.failed}]`);
    await poll(() => failedRow.getAttribute('data-status')).toBe('Failed');
    await poll(() => failedRow.textContent()).toContain('compensated');
    await screenshot(page, 'instances');
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('filters by status, orchestration and creation time', async () => {
    const page = await openDashboard(browser, app);
    await poll(() => rowIds(page)).toContain(ids.completed);

    await page.getByLabel('Status', { exact: true }).selectOption('Failed');
    await poll(() => rowIds(page)).not.toContain(ids.completed);
    expect(await rowIds(page)).toContain(ids.failed);
    const statuses = await page
      .locator('[data-testid=instance-row]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
    expect(new Set(statuses)).toEqual(new Set(['Failed']));
    await screenshot(page, 'instances-filtered-failed');

    await page.getByTestId('filter-clear').click();
    await page.getByLabel('Orchestration').fill('configChange');
    await page.getByTestId('filter-apply').click();
    await poll(() => rowIds(page)).toEqual([ids.config]);

    // A day after the newest of them (the host's clock may run ahead of this one's): all of them
    // were created before it, none after it.
    const created = await Promise.all(
      Object.values(ids).map(async (id) =>
        Date.parse(String((await api.call('GET', `instances/${id}`)).json.createdTime)),
      ),
    );
    const later = new Date(Math.max(...created) + 86_400_000);
    const local = new Date(later.getTime() - later.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    await page.getByTestId('filter-clear').click();
    await page.getByLabel('Created to').fill(local);
    await page.getByTestId('filter-apply').click();
    await poll(() => rowIds(page)).toEqual(expect.arrayContaining(Object.values(ids)));
    await page.getByLabel('Created to').fill('');
    await page.getByLabel('Created from').fill(local);
    await page.getByTestId('filter-apply').click();
    await poll(async () => (await rowIds(page)).filter((id) => Object.values(ids).includes(id))).toEqual([]);
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('refreshes live, and not while paused', async () => {
    const page = await openDashboard(browser, app);
    await poll(() => rowIds(page)).toContain(ids.completed);
    await poll(() => page.getByTestId('live-indicator').getAttribute('data-state')).toBe('on');

    await start('configChange', 'ui-live-1', { patch: { reminderHour: 10 } });
    await poll(() => rowIds(page)).toContain('ui-live-1');

    await page.getByTestId('live-toggle').click();
    expect(await page.getByTestId('live-toggle').getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('live-indicator').getAttribute('data-state')).toBe('paused');
    await start('configChange', 'ui-live-2', { patch: { reminderHour: 11 } });
    await api.waitFor('ui-live-2');
    // Two refresh periods pass without it: paused means paused.
    await page.waitForTimeout(4_500);
    expect(await rowIds(page)).not.toContain('ui-live-2');

    await page.getByTestId('live-toggle').click();
    await poll(() => rowIds(page)).toContain('ui-live-2');
    await page.context().close();
  });
});

describe('a failed saga', () => {
  it('shows the failing step and each compensation on the timeline', async () => {
    // What the saga published (its custom status) is what the timeline must show.
    const view = (await api.call('GET', `instances/${ids.failed}`)).json.customStatus as { steps: Step[] };
    const failing = view.steps.filter((s) => s.state === 'failed');
    const compensated = view.steps.filter((s) => s.compensation?.state === 'completed');
    expect(failing).toHaveLength(1);
    expect(compensated.length).toBeGreaterThanOrEqual(2);

    const page = await openDashboard(browser, app);
    await page.locator(`a[href="#/instances/${ids.failed}"]`).click();
    await poll(() => page.getByTestId('instance-status').textContent()).toBe('Failed');
    expect(await page.getByTestId('saga-phase').textContent()).toBe('compensated');

    const steps = page.getByTestId('timeline-step');
    expect(await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-step')))).toEqual(
      view.steps.map((s) => s.name),
    );
    const failedCard = page.locator(`[data-testid=timeline-step][data-step="${failing[0].name}"]`);
    expect(await failedCard.getAttribute('data-state')).toBe('failed');
    expect(await failedCard.textContent()).toContain(failing[0].error?.message.slice(0, 40));

    const compensations = page.getByTestId('timeline-compensation');
    const shown = await compensations.evaluateAll((els) =>
      els.map((e) => [e.getAttribute('data-step'), e.getAttribute('data-state')]),
    );
    // Undone newest first, each marked as done.
    expect(shown).toEqual(compensated.reverse().map((s) => [s.name, 'completed']));
    for (const s of compensated)
      expect(
        await page.locator(`[data-testid=timeline-step][data-step="${s.name}"]`).getAttribute('data-state'),
      ).toBe('compensated');
    expect(await page.getByTestId('saga-failure').textContent()).toContain(failing[0].name);
    await screenshot(page, 'instance-failed-saga');

    // History, input and output are one click away.
    expect(await page.locator('[data-testid=history-row]').first().getAttribute('data-event-type')).toBe(
      'ExecutionStarted',
    );
    await page.getByTestId('tab-input').click();
    expect(await page.getByTestId('instance-input').textContent()).toContain('Boom');
    await page.getByTestId('tab-output').click();
    expect(await page.getByTestId('instance-output').textContent()).toContain('SAGA_COMPENSATED');
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });
});

describe('the dashboard on the app', () => {
  it('is served without a key, and only its own files', async () => {
    const shell = await fetch(`${app.host.url}/api/dashboard`);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await shell.text()).toContain('<base href="/api/dashboard/" data-dashboard-base>');
    const script = await fetch(`${app.host.url}/api/dashboard/pages/instance.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    for (const escape of ['%2e%2e/%2e%2e/package.json', '..%2F..%2Fhost.json', '%2e%2e%5c%2e%2e%5chost.json'])
      expect((await fetch(`${app.host.url}/api/dashboard/${escape}`)).status, escape).toBe(404);
  });
});

describe('the function key', () => {
  it('is asked for when the address has none', async () => {
    const page = await openDashboard(browser, app, { key: null });
    await page.getByTestId('key-form').waitFor();
    expect(await page.getByTestId('instance-row').count()).toBe(0);
    await screenshot(page, 'key-form');
    await page.getByLabel('Function key').fill(api.key);
    await page.getByTestId('key-submit').click();
    await poll(() => rowIds(page)).toContain(ids.completed);
    await page.context().close();
  });

  it('says clearly when the API refuses it', async () => {
    const page = await openDashboard(browser, app, { key: 'not-the-key' });
    await page.getByTestId('key-error').waitFor();
    expect(await page.getByTestId('key-error').textContent()).toContain('401');
    expect(await page.getByTestId('key-error').textContent()).toContain('refused');
    await screenshot(page, 'key-refused');
    await page.context().close();
  });
});
