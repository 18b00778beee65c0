/**
 * Rollback points in the dashboard, in a real browser: the list with expiry, the dependency graph
 * (a later change of the same record depends on the earlier one), and a rollback that is planned
 * and shown before it can be executed; the executed rollback completes and Dataverse is as before.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { apiOf, type Api } from '../api/client';
import { errorsOf, launchBrowser, openDashboard, poll, screenshot } from './support';

let app: AppUnderTest;
let api: Api;
let browser: Browser;
let x: string;
let y: string;
const points: Record<'firstOfX' | 'secondOfX' | 'ofY', string> = { firstOfX: '', secondOfX: '', ofY: '' };

/** Runs a dataverseChange of one contact's job title and returns its rollback point. */
async function change(id: string, jobtitle: string, description: string): Promise<string> {
  const res = await api.call('POST', 'orchestrators/dataverseChange', {
    body: { description, operations: [{ op: 'update', table: 'contacts', id, data: { jobtitle } }] },
  });
  expect(res.status).toBe(202);
  const done = await api.waitFor(String(res.json.id));
  expect(done.json.runtimeStatus).toBe('Completed');
  return String((done.json.output as { rollbackPointId: string }).rollbackPointId);
}

const jobtitle = async (id: string): Promise<unknown> =>
  (await app.dataverse.retrieve('contacts', id)).jobtitle;
const pointStatus = async (id: string): Promise<unknown> =>
  (await api.call('GET', `rollback-points/${id}`)).json.status;

beforeAll(async () => {
  app = await startAppWithDataverse({ graph: true });
  api = apiOf(app);
  browser = await launchBrowser();
  x = String(
    (await app.dataverse.create('contacts', { firstname: 'Xena', lastname: 'Ui', jobtitle: 'Original' })).id,
  );
  y = String(
    (await app.dataverse.create('contacts', { firstname: 'Yuri', lastname: 'Ui', jobtitle: 'Original' })).id,
  );
  points.firstOfX = await change(x, 'First', 'first change of Xena');
  points.secondOfX = await change(x, 'Second', 'second change of Xena');
  points.ofY = await change(y, 'Other', 'change of Yuri');
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('rollback points', () => {
  it('are answered with the earlier points each depends on, whatever the filter', async () => {
    const dependsOn = async (query: string): Promise<Record<string, string[]>> => {
      const res = await api.call('GET', `rollback-points${query}`);
      expect(res.status).toBe(200);
      const listed = res.json.points as { id: string; dependsOn: string[] }[];
      return Object.fromEntries(listed.map((p) => [p.id, p.dependsOn]));
    };
    const expected = {
      [points.firstOfX]: [],
      [points.secondOfX]: [points.firstOfX],
      [points.ofY]: [],
    };
    expect(await dependsOn('')).toEqual(expected);
    expect(await dependsOn(`?resource=dataverse:contacts:${y}`)).toEqual({ [points.ofY]: [] });
    expect(await dependsOn('?status=active')).toEqual(expected);
  });

  it('are listed with their expiry, and the graph draws which point depends on which', async () => {
    const page = await openDashboard(browser, app, { hash: '#/rollback-points' });
    const edges = page.getByTestId('graph-edge');
    await poll(() => page.getByTestId('graph-node').count()).toBe(3);
    expect(
      await edges.evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-from'), e.getAttribute('data-to')]),
      ),
    ).toEqual([[points.secondOfX, points.firstOfX]]);
    const row = page.locator(`[data-testid=point-row][data-point-id="${points.firstOfX}"]`);
    expect(await row.getAttribute('data-status')).toBe('active');
    expect(await row.textContent()).toMatch(/in 30 days/);
    const dependent = page.locator(`[data-testid=point-row][data-point-id="${points.secondOfX}"]`);
    expect(await dependent.locator('a[title]').last().getAttribute('title')).toBe(points.firstOfX);
    await screenshot(page, 'rollback-points');
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('are rolled back only after the plan is shown: refused alone, planned with cascade, then executed', async () => {
    const page = await openDashboard(browser, app, { hash: '#/rollback-points' });
    await page.locator(`[data-testid=graph-node][data-point-id="${points.firstOfX}"]`).click();
    await poll(() => page.getByTestId('point-status').textContent()).toBe('active');
    expect(await page.getByTestId('execute-rollback').count()).toBe(0);

    // Alone, it is refused: a later change touched the same record.
    await page.getByTestId('plan-rollback').click();
    await poll(() => page.getByTestId('plan-error').count()).toBe(1);
    expect(await page.getByTestId('plan-error').textContent()).toContain('ROLLBACK_DEPENDENCY');
    expect(await page.getByTestId('execute-rollback').count()).toBe(0);

    await page.getByTestId('opt-cascade').check();
    await page.getByTestId('plan-rollback').click();
    await page.getByTestId('rollback-plan').waitFor();
    // Newest first: the later change is undone before the earlier one.
    expect(
      await page
        .getByTestId('plan-step')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-point-id'))),
    ).toEqual([points.secondOfX, points.firstOfX]);
    expect(await page.getByTestId('rollback-plan').textContent()).toContain('jobtitle = "First"');
    expect(await page.getByTestId('rollback-plan').textContent()).toContain('jobtitle = "Original"');
    // Planning changed nothing.
    expect(await jobtitle(x)).toBe('Second');
    await screenshot(page, 'rollback-plan');

    // A plan holds for the options it was made with.
    await page.getByTestId('opt-force').check();
    expect(await page.getByTestId('execute-rollback').count()).toBe(0);
    await page.getByTestId('opt-force').uncheck();
    await page.getByTestId('plan-rollback').click();
    await page.getByTestId('execute-rollback').click();

    const link = page.getByTestId('rollback-instance-link');
    await link.waitFor();
    const rollbackId = String(await link.textContent());
    const done = await api.waitFor(rollbackId);
    expect(done.json).toMatchObject({ name: 'rollback', runtimeStatus: 'Completed' });
    expect(await jobtitle(x)).toBe('Original');
    expect(await jobtitle(y)).toBe('Other');
    expect(await pointStatus(points.firstOfX)).toBe('rolled-back');
    expect(await pointStatus(points.secondOfX)).toBe('rolled-back');
    expect(await pointStatus(points.ofY)).toBe('active');

    await link.click();
    await poll(() => page.getByTestId('instance-status').textContent()).toBe('Completed');
    expect(await page.getByTestId('timeline-step').count()).toBeGreaterThan(0);
    expect(
      await page
        .getByTestId('timeline-step')
        .evaluateAll((els) => els.every((e) => e.getAttribute('data-state') === 'completed')),
    ).toBe(true);
    await screenshot(page, 'rollback-instance');
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });
});
