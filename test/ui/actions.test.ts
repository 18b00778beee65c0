/**
 * The dashboard's actions in a real browser, on deployments that wait for approval (the virtual
 * clock stands still, so they wait until a test acts): approve and reject on the deployments page,
 * terminate and raise an event on an instance's page. Each effect is checked through the API.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { apiOf, type Api } from '../api/client';
import { errorsOf, eventually, launchBrowser, openDashboard, poll, screenshot } from './support';

let app: AppUnderTest;
let api: Api;
let browser: Browser;

beforeAll(async () => {
  app = await startAppWithDataverse({ graph: true, virtualTime: 'manual' });
  api = apiOf(app);
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

let versions = 0;
/** Submits a deployment that needs approval and waits until it does. */
async function awaitingApproval(label: string): Promise<string> {
  const version = `${label}-${Date.now()}-${++versions}`;
  const res = await api.call('POST', 'deployments', {
    body: {
      version,
      description: `Reminder hour for ${label}`,
      requireApproval: true,
      config: { value: { reminderHour: 7 + versions } },
    },
  });
  expect(res.status).toBe(202);
  const id = `deploy-${version}`;
  const record = await eventually(
    async () => (await api.call('GET', `deployments/${id}`)).json,
    (r) => r.state === 'awaiting-approval',
  );
  expect(record.approval).toMatchObject({ deadline: expect.any(String) });
  return id;
}

const deploymentState = async (id: string): Promise<unknown> =>
  (await api.call('GET', `deployments/${id}`)).json.state;

function row(page: Page, id: string) {
  return page.locator(`[data-testid=deployment-row][data-deployment-id="${id}"]`);
}

describe('deployments awaiting approval', () => {
  it('are approved from the deployments page, and the deployment completes', async () => {
    const id = await awaitingApproval('approve');
    const page = await openDashboard(browser, app, { hash: '#/deployments' });
    await poll(() => row(page, id).getAttribute('data-state')).toBe('awaiting-approval');
    await row(page, id).getByTestId('decision-comment').fill('looks right');
    await screenshot(page, 'deployments-awaiting-approval');
    await row(page, id).getByTestId('approve').click();

    const done = await api.waitFor(id);
    expect(done.json.runtimeStatus).toBe('Completed');
    expect((await api.call('GET', `deployments/${id}`)).json).toMatchObject({
      state: 'succeeded',
      approval: { decision: 'approved', by: 'dashboard', reason: 'looks right' },
    });
    await poll(() => row(page, id).getAttribute('data-state')).toBe('succeeded');
    expect(await row(page, id).getByTestId('approve').count()).toBe(0);
    await screenshot(page, 'deployments-approved');
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('are rejected from the deployments page', async () => {
    const id = await awaitingApproval('reject');
    const page = await openDashboard(browser, app, { hash: '#/deployments' });
    await row(page, id).getByTestId('reject').click();
    await eventually(
      () => deploymentState(id),
      (s) => s === 'rejected',
    );
    await poll(() => row(page, id).getAttribute('data-state')).toBe('rejected');
    await page.context().close();
  });
});

describe('actions on an instance page', () => {
  it('terminates a running instance with a reason', async () => {
    const id = await awaitingApproval('terminate');
    const page = await openDashboard(browser, app, { hash: `#/instances/${id}` });
    await poll(() => page.getByTestId('instance-status').textContent()).toBe('Running');
    await page.getByLabel('Reason').fill('superseded by a newer release');
    await screenshot(page, 'instance-running-actions');
    // Without the confirmation the form does not go: the browser holds it back and says why.
    await page.getByTestId('terminate').click();
    expect(
      await page
        .getByTestId('terminate-confirm')
        .evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing),
    ).toBe(true);
    expect(await page.getByTestId('action-result').textContent()).toBe('');
    expect((await api.call('GET', `instances/${id}`)).json.runtimeStatus).toBe('Running');

    await page.getByTestId('terminate-confirm').check();
    await page.getByTestId('terminate').click();
    const done = await api.waitFor(id);
    expect(done.json.runtimeStatus).toBe('Terminated');
    expect(JSON.stringify(done.json.output)).toContain('superseded by a newer release');
    await poll(() => page.getByTestId('instance-status').textContent()).toBe('Terminated');
    expect(await page.getByTestId('action-result').textContent()).toContain('Terminate requested');
    expect(await page.getByTestId('terminate').count()).toBe(0);
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('raises an event with JSON data: approving by event completes the deployment', async () => {
    const id = await awaitingApproval('event');
    const page = await openDashboard(browser, app, { hash: `#/instances/${id}` });
    await poll(() => page.getByTestId('instance-status').textContent()).toBe('Running');
    await page.getByLabel('Event name').fill('approve');
    await page.getByLabel('Data (JSON)').fill('{"by": "event-raiser", "comment": "via the dashboard"}');
    await page.getByTestId('raise-event').click();

    const done = await api.waitFor(id);
    expect(done.json.runtimeStatus).toBe('Completed');
    expect(done.json.output).toMatchObject({
      state: 'succeeded',
      approval: { decision: 'approved', by: 'event-raiser', reason: 'via the dashboard' },
    });
    await poll(() => page.getByTestId('instance-status').textContent()).toBe('Completed');
    await page.getByTestId('tab-output').click();
    expect(await page.getByTestId('instance-output').textContent()).toContain('event-raiser');
    await screenshot(page, 'instance-after-event');
    await page.context().close();
  });

  it('says what went wrong when the data is not JSON', async () => {
    const id = await awaitingApproval('badjson');
    const page = await openDashboard(browser, app, { hash: `#/instances/${id}` });
    await page.getByLabel('Event name').fill('approve');
    await page.getByLabel('Data (JSON)').fill('{not json');
    await page.getByTestId('raise-event').click();
    expect(await page.getByTestId('action-result').textContent()).toContain('not valid JSON');
    expect(await deploymentState(id)).toBe('awaiting-approval');
    await page.context().close();
  });
});
