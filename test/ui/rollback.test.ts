/**
 * Rollback points in the dashboard, in a real browser: the list with expiry, the dependency graph
 * (a later change of the same record depends on the earlier one), and a rollback that is planned
 * and shown before it can be executed; the executed rollback completes and Dataverse is as before.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RollbackPointStore, type RollbackPoint } from '../../lib/rollback';
import { JsonBlobs } from '../../lib/storage/jsonBlobs';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { apiOf, type Api } from '../api/client';
import { errorsOf, launchBrowser, openDashboard, poll, screenshot, wrappedBadges } from './support';

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
    await screenshot(page, 'rollback-points-dependencies');
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
    await screenshot(page, 'rollback-plan-cascade');

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

/** The app's own store of rollback points, to arrange a point as a change would have left it. */
function pointStore(): RollbackPointStore {
  const blobs = BlobServiceClient.fromConnectionString(String(process.env.AZURE_STORAGE_CONNECTION_STRING));
  return new RollbackPointStore(
    new JsonBlobs(blobs.getContainerClient(String(process.env.LIFECOCKPIT_ROLLBACK_CONTAINER))),
  );
}

const texts = (page: Page, selector: string): Promise<string[]> =>
  page.locator(selector).evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));

describe('records and points as people read them', () => {
  const version = '2026.04.12-spring-release';
  let deploymentPoints: string[] = [];
  let account = '';
  let contact = '';
  const named = 'rp-lindqvist-physio-onboarding';

  beforeAll(async () => {
    // A deployment leaves two points whose ids differ only at their end (…:config, …:dataverse).
    const z = String((await app.dataverse.create('contacts', { firstname: 'Zora', lastname: 'Ui' })).id);
    const res = await api.call('POST', 'deployments', {
      body: {
        version,
        description: 'Spring release',
        config: { value: { reminderHour: 8 } },
        dataverse: {
          operations: [{ op: 'update', table: 'contacts', id: z, data: { jobtitle: 'Deployed' } }],
        },
      },
    });
    expect(res.status).toBe(202);
    expect((await api.waitFor(`deploy-${version}`)).json.runtimeStatus).toBe('Completed');
    deploymentPoints = (await api.call('GET', `deployments/deploy-${version}`)).json
      .rollbackPoints as string[];
    expect(deploymentPoints).toHaveLength(2);

    // A point naming its records as a change that read their metadata records them: the table's
    // logical name and the record's primary name; one record without names.
    account = String(
      (await app.dataverse.create('accounts', { name: 'Lindqvist Physio', telephone1: '+31 30 555 2001' }))
        .id,
    );
    contact = String(
      (await app.dataverse.create('contacts', { firstname: 'Emma', lastname: 'Visser', jobtitle: 'Manager' }))
        .id,
    );
    const now = Date.now();
    const point: RollbackPoint = {
      id: named,
      origin: 'manual',
      description: 'Lindqvist Physio becomes a client organisation',
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 30 * 86_400_000).toISOString(),
      status: 'active',
      resources: [
        { kind: 'dataverse', table: 'accounts', id: account, entity: 'account', name: 'Lindqvist Physio' },
        { kind: 'dataverse', table: 'contacts', id: contact },
      ],
      plan: [
        {
          kind: 'dataverse-restore-fields',
          table: 'accounts',
          id: account,
          entity: 'account',
          name: 'Lindqvist Physio',
          fields: { telephone1: null },
        },
        {
          kind: 'dataverse-restore-fields',
          table: 'contacts',
          id: contact,
          fields: { jobtitle: 'Assistant', 'parentcustomerid_account@odata.bind': `/accounts(${account})` },
          lookupNames: { [`/accounts(${account})`]: { entity: 'account', name: 'Lindqvist Physio' } },
        },
      ],
      snapshots: [],
    };
    await pointStore().create(point);
  }, 60_000);

  it('names a record, and the record a lookup points at, by table and primary name, with its GUID as tooltip, in the point and its plan', async () => {
    const page = await openDashboard(browser, app, { hash: `#/rollback-points/${named}` });
    await poll(() => page.getByTestId('point-status').textContent()).toBe('active');
    const accountName = `account "Lindqvist Physio" (${account.slice(0, 8)}…)`;

    const records = page.locator('[data-testid=record]');
    // The resources, then the undo actions; the contact's lookup names the account it points at.
    expect(await texts(page, '[data-testid=record]')).toEqual([
      accountName,
      `contacts ${contact}`,
      accountName,
      `contacts ${contact}`,
      accountName,
    ]);
    expect(await records.evaluateAll((els) => els.map((e) => e.getAttribute('title')))).toEqual([
      account,
      contact,
      account,
      contact,
      account,
    ]);
    expect(await page.locator('main').innerText()).toContain(`Restore ${accountName}: telephone1 = null`);

    await page.getByTestId('plan-rollback').click();
    await page.getByTestId('rollback-plan').waitFor();
    const plan = page.getByTestId('rollback-plan');
    expect(await texts(page, '[data-testid=plan-action]')).toEqual([
      `Restore ${accountName}: telephone1 = null`,
      `Restore contacts ${contact}: jobtitle = "Assistant", parentcustomerid_account = ${accountName}`,
    ]);
    expect(await plan.locator('[data-testid=record]').first().getAttribute('title')).toBe(account);
    expect(await page.getByTestId('execute-rollback').count()).toBe(1);
    await screenshot(page, 'rollback-plan');
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('offers a point whose rollback failed to be rolled back again, and the retry finishes it', async () => {
    const z = String(
      (await app.dataverse.create('contacts', { firstname: 'Zora', lastname: 'Ui', jobtitle: 'Original' }))
        .id,
    );
    const pointId = await change(z, 'Changed', 'change of Zora');
    // Every write to Zora is refused while the fault lasts: the rollback fails.
    app.sim.faults.add({
      method: 'PATCH',
      path: `contacts\\(${z}\\)`,
      kind: 'status',
      status: 400,
      count: 1000,
    });
    const first = await api.call('POST', `rollback-points/${pointId}/execute`);
    expect((await api.waitFor(String(first.json.id))).json.runtimeStatus).toBe('Failed');
    expect(await pointStatus(pointId)).toBe('rollback-failed');
    app.sim.faults.clear();

    const page = await openDashboard(browser, app, { hash: `#/rollback-points/${pointId}` });
    await poll(() => page.getByTestId('point-status').textContent()).toBe('rollback-failed');
    await page.getByTestId('retry-hint').waitFor();
    await page.getByTestId('plan-rollback').click();
    await page.getByTestId('execute-rollback').click();
    const link = page.getByTestId('rollback-instance-link');
    await link.waitFor();
    expect((await api.waitFor(String(await link.textContent()))).json.runtimeStatus).toBe('Completed');
    expect(await jobtitle(z)).toBe('Original');
    expect(await pointStatus(pointId)).toBe('rolled-back');
    await page.close();
  });

  it('lists every point by its whole id, the same ids in the graph, each status on one line', async () => {
    const page = await openDashboard(browser, app, { hash: '#/rollback-points' });
    await poll(() => texts(page, '[data-testid=point-link]')).toEqual(
      expect.arrayContaining(deploymentPoints),
    );
    const shown = await texts(page, '[data-testid=point-link]');
    const ids = await page
      .getByTestId('point-row')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-point-id')));
    expect(shown).toEqual(ids);
    expect(new Set(shown).size).toBe(shown.length);
    // The graph's labels may be shortened, but never into two that read the same.
    const labels = await texts(page, '[data-testid=graph-node-id]');
    expect(labels).toHaveLength(shown.length);
    expect(new Set(labels).size).toBe(labels.length);
    for (const id of deploymentPoints)
      expect(labels.some((l) => l.endsWith(`${id.slice(-10)} · active`))).toBe(true);

    expect(await wrappedBadges(page)).toEqual([]);
    await screenshot(page, 'rollback-points');
    // A narrow window squeezes the table: the statuses still read as one word each.
    await page.setViewportSize({ width: 760, height: 900 });
    expect(await wrappedBadges(page)).toEqual([]);
    // And the page does not scroll sideways (the graph and the table may, inside their own boxes).
    await screenshot(page, 'rollback-points-narrow');
    expect(await page.evaluate('document.documentElement.scrollWidth - innerWidth')).toBeLessThanOrEqual(0);
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });
});
