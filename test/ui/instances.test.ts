/**
 * The dashboard's instances and instance pages in a real browser: the key from the address, the
 * filters, live refresh and its pause, and a failed Dataverse change whose compensations show on
 * the saga timeline; a missing key asks for one, a wrong key says so.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { apiOf, type Api } from '../api/client';
import type { Step as StepStatus } from '../../ui/types';
import {
  errorsOf,
  launchBrowser,
  notFoundOf,
  openDashboard,
  overflowing,
  poll,
  screenshot,
  wrappedBadges,
} from './support';

interface Step {
  name: string;
  state: string;
  error?: { message: string };
  compensation?: { state: string };
}

let app: AppUnderTest;
let api: Api;
let browser: Browser;
const ids = {
  completed: 'ui-change-ok',
  failed: 'ui-change-failed',
  config: 'ui-config-1',
  long: 'ui-change-long',
};

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
    // Operation by operation: the first two are applied, then compensated, as the timeline shows.
    atomic: false,
    operations: [
      { op: 'create', table: 'contacts', data: { firstname: 'Temp', lastname: 'Record' } },
      { op: 'update', table: 'contacts', id: a, data: { lastname: 'Changed' } },
      { op: 'update', table: 'contacts', id: b, data: { lastname: 'Boom' } },
    ],
  });
  expect((await api.waitFor(ids.failed)).json.runtimeStatus).toBe('Failed');

  await start('configChange', ids.config, { value: { reminderHour: 9 } });
  expect((await api.waitFor(ids.config)).json.runtimeStatus).toBe('Completed');

  // Eight new contacts: 18 steps (the plan, a snapshot and a create each, then the rollback point).
  await start('dataverseChange', ids.long, {
    description: 'eight new contacts',
    atomic: false,
    operations: Array.from({ length: 8 }, (_, i) => ({
      op: 'create',
      table: 'contacts',
      data: { firstname: `Member${i + 1}`, lastname: 'Long' },
    })),
  });
  expect((await api.waitFor(ids.long)).json.runtimeStatus).toBe('Completed');
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

/** How many times `text` occurs in the page's visible text. */
async function occurrences(page: Page, text: string): Promise<number> {
  const shown = await page.locator('main').innerText();
  return shown.split(text).length - 1;
}

/** The distinct rows the timeline's step cards sit on (their top edges). */
const stepRows = (page: Page): Promise<number> =>
  page
    .getByTestId('timeline-step')
    .evaluateAll((els) => new Set(els.map((e) => Math.round(e.getBoundingClientRect().top))).size);

/** The timeline fits the page: nothing scrolls sideways, no card is wider than its box. */
async function expectTimelineFits(page: Page): Promise<void> {
  expect(await overflowing(page, '.tl-grid, .timeline, .tl-step, .tl-comp')).toEqual([]);
  expect(await page.evaluate('document.documentElement.scrollWidth <= innerWidth')).toBe(true);
  // Text cut to one line keeps the whole of it as its tooltip.
  const clipped = await page
    .locator('.tl-clip')
    .evaluateAll((els) => els.map((e) => [e.getAttribute('title'), e.textContent]));
  for (const [title, text] of clipped) expect(title).toBe(text);
  expect(await wrappedBadges(page)).toEqual([]);
}

describe('a failed saga', () => {
  it('shows the failing step, its error once, and each compensation on the timeline', async () => {
    // What the saga published (its custom status) is what the timeline must show.
    const instance = (await api.call('GET', `instances/${ids.failed}`)).json;
    const view = instance.customStatus as {
      steps: Step[];
      failure: { step: string; error: { message: string } };
    };
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

    // The failure is told once: with its code and step, above the timeline; not again in a second
    // notice, nor on the failing step's card.
    const message = view.failure.error.message;
    expect(await occurrences(page, message)).toBe(1);
    const failure = String(await page.getByTestId('saga-failure').textContent());
    expect(failure).toContain(`SAGA_COMPENSATED: Failed at step “${failing[0].name}”: ${message}`);
    expect(await page.getByTestId('instance-failure').count()).toBe(0);
    expect(await failedCard.getAttribute('class')).toContain('tl-failing');

    // Undone newest first, each marked as done.
    const shown = await page.getByTestId('timeline-compensation').evaluateAll((els) =>
      els
        .map((e) => [
          Number(e.getAttribute('data-order')),
          e.getAttribute('data-step'),
          e.getAttribute('data-state'),
        ])
        .sort((x, y) => Number(x[0]) - Number(y[0]))
        .map(([, step, state]) => [step, state]),
    );
    expect(shown).toEqual([...compensated].reverse().map((s) => [s.name, 'completed']));
    for (const s of compensated)
      expect(
        await page.locator(`[data-testid=timeline-step][data-step="${s.name}"]`).getAttribute('data-state'),
      ).toBe('compensated');

    // One numbering: the operation numbers in the step names (`update contacts #3`), no other.
    expect(await page.locator('.tl-index').count()).toBe(0);
    expect(await page.getByTestId('saga-timeline').innerText()).not.toMatch(/undo \d/);
    await expectTimelineFits(page);
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

describe('a completed saga', () => {
  const point = `rp-${ids.completed}`;

  it('shows its compensations as available through its rollback point, and the point it left', async () => {
    const page = await openDashboard(browser, app, { hash: `#/instances/${ids.completed}` });
    await poll(() => page.getByTestId('instance-status').textContent()).toBe('Completed');
    await poll(() => page.getByTestId('instance-point-link').count()).toBe(1);

    // Nothing was undone, and nothing waits to be: the undo is kept by the rollback point.
    expect(await page.getByTestId('timeline-compensation').count()).toBe(0);
    expect(await page.getByTestId('saga-timeline').innerText()).not.toContain('pending');
    const available = page.getByTestId('timeline-undo-available');
    expect(await available.count()).toBe(1);
    expect((await available.innerText()).replace(/\s+/g, ' ')).toBe('↩ undo available');
    expect(await available.getAttribute('title')).toBe(`through rollback point ${point}`);
    expect((await page.getByTestId('saga-available').innerText()).replace(/\s+/g, ' ')).toBe(
      `↩ The compensation of its step is available through rollback point ${point}: roll back there to undo the change.`,
    );
    expect(await page.getByTestId('saga-available-point').getAttribute('href')).toBe(
      `#/rollback-points/${point}`,
    );

    expect(await page.getByTestId('instance-point-link').textContent()).toBe(point);
    expect(await page.getByTestId('instance-point-status').textContent()).toBe('active');
    expect(await page.getByTestId('instance-rollback').textContent()).toBe('no');
    await expectTimelineFits(page);
    await screenshot(page, 'instance-completed-saga');

    // Rolled back: the page says when and by which instance, and links to it.
    // force: the failed saga's compensation rewrote the same contact since (its etag changed).
    const started = await api.call('POST', `rollback-points/${point}/execute`, { body: { force: true } });
    expect(started.status).toBe(202);
    const rollbackId = String(started.json.id);
    const done = await api.waitFor(rollbackId);
    expect(done.json.runtimeStatus, JSON.stringify(done.json.output)).toBe('Completed');
    await page.reload();
    await poll(() => page.getByTestId('instance-point-status').textContent()).toBe('rolled-back');
    const rolledBack = String(await page.getByTestId('instance-rollback').textContent());
    expect(rolledBack).toMatch(/^yes, .+ by /);
    expect(rolledBack).toContain(rollbackId);
    expect((await page.getByTestId('saga-available').innerText()).replace(/\s+/g, ' ')).toBe(
      `↩ The compensation of its step is kept by rollback point ${point}, which was rolled back: the change is undone.`,
    );
    expect((await available.innerText()).replace(/\s+/g, ' ')).toBe('↩ undo rolled-back');
    await screenshot(page, 'instance-completed-rolled-back');
    await page.getByTestId('instance-rollback-link').click();
    await poll(() => page.getByTestId('instance-id').textContent()).toBe(rollbackId);
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });
});

describe('a long saga', () => {
  it('flows into further rows instead of scrolling sideways', async () => {
    const page = await openDashboard(browser, app, { hash: `#/instances/${ids.long}` });
    await poll(() => page.getByTestId('instance-status').textContent()).toBe('Completed');
    expect(await page.getByTestId('timeline-step').count()).toBe(18);
    expect(await stepRows(page)).toBeGreaterThanOrEqual(3);
    await expectTimelineFits(page);
    await screenshot(page, 'instance-long-saga');
    await page.context().close();
  });
});

describe('the timeline', () => {
  /** Draws steps with the dashboard's own timeline module, on a page of the dashboard. */
  async function draw(page: Page, steps: StepStatus[]): Promise<void> {
    await page.evaluate(`(async () => {
      const { timeline } = await import(new URL('timeline.js', document.baseURI).href);
      document.getElementById('main').replaceChildren(timeline(${JSON.stringify(steps)}));
    })()`);
  }

  it('says nothing needed undoing when a saga is refused after a step that undoes nothing', async () => {
    const page = await openDashboard(browser, app, { hash: '#/nothing-here' });
    await page.waitForLoadState('load');
    const steps = [
      {
        name: 'plan 2 operations',
        activity: 'dataverseChange_planBatched',
        state: 'completed',
        pivot: false,
        compensable: false,
        startedAt: '2026-04-12T08:42:10.000Z',
        completedAt: '2026-04-12T08:42:10.100Z',
      },
    ];
    const ctx = {
      phase: 'compensated',
      failureCode: 'PLAN_INVALID',
      failure: {
        step: '(orchestrator)',
        error: { message: 'This change would fail, so nothing was written.' },
      },
    };
    await page.evaluate(`(async () => {
      const { timeline } = await import(new URL('timeline.js', document.baseURI).href);
      document.getElementById('main').replaceChildren(timeline(${JSON.stringify(steps)}, ${JSON.stringify(ctx)}));
    })()`);
    expect(await page.getByTestId('saga-failure').textContent()).toBe(
      'PLAN_INVALID: Failed at step “(orchestrator)”: This change would fail, so nothing was written. Nothing before it needed undoing.',
    );
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('shows a step waiting out an outage, and a compensation waiting out one', async () => {
    const page = await openDashboard(browser, app, { hash: '#/nothing-here' });
    await page.waitForLoadState('load');
    // 10:42:10 local time, whatever the zone the browser runs in.
    const next = String(await page.evaluate('new Date(2026, 3, 12, 10, 42, 10).toISOString()'));
    const base = { activity: 'dataverseChange_apply', pivot: false, compensable: true, startedAt: next };
    const waiting = {
      service: 'dataverse',
      attempt: 3,
      nextAttemptAt: next,
      error: '503 Service Unavailable',
    };
    await draw(page, [
      { ...base, name: 'update contacts #1', state: 'completed', completedAt: next },
      { ...base, name: 'update contacts #2', state: 'running', waiting },
    ]);
    const line = page.getByTestId('timeline-waiting');
    expect(await line.textContent()).toBe('waiting for Dataverse (retry 3, next at 10:42:10)');
    expect(await line.getAttribute('title')).toBe('503 Service Unavailable');
    expect(
      await page
        .locator('[data-testid=timeline-step][data-step="update contacts #2"] [data-testid=timeline-waiting]')
        .count(),
    ).toBe(1);

    await draw(page, [
      {
        ...base,
        name: 'update contacts #1',
        state: 'compensating',
        completedAt: next,
        compensation: { activity: 'undo_action', state: 'running', startedAt: next },
        waiting: { ...waiting, attempt: 7 },
      },
      { ...base, name: 'update contacts #2', state: 'failed', error: { message: 'boom' } },
    ]);
    const compWaiting = page.locator('[data-testid=timeline-compensation] [data-testid=timeline-waiting]');
    expect(await compWaiting.textContent()).toBe('waiting for Dataverse (retry 7, next at 10:42:10)');
    expect(await page.locator('[data-testid=timeline-step] [data-testid=timeline-waiting]').count()).toBe(0);
    await page.context().close();
  });

  it('keeps long names inside their cards: wrapped, or cut with the whole name as tooltip', async () => {
    const page = await openDashboard(browser, app, { hash: '#/nothing-here' });
    await page.waitForLoadState('load');
    const long = 'dataverseChange_applyAnOperationWithAVeryLongActivityNameThatHasNoSpacesAnywhere';
    await draw(
      page,
      Array.from({ length: 9 }, (_, i) => ({
        name: `update someverylongtablenamewithoutanybreaks_${'x'.repeat(30)} #${i + 1}`,
        activity: long,
        state: 'compensation-failed' as const,
        pivot: false,
        compensable: true,
        startedAt: new Date().toISOString(),
        compensation: { activity: long, state: 'failed' as const, error: { message: 'y'.repeat(200) } },
      })),
    );
    expect(await stepRows(page)).toBeGreaterThanOrEqual(2);
    await expectTimelineFits(page);
    await page.context().close();
  });
});

describe('the dashboard in the browser', () => {
  it('asks for nothing that is not there: the favicon is served', async () => {
    const page = await openDashboard(browser, app);
    await poll(() => rowIds(page)).toContain(ids.completed);
    // Resolved against the page's <base>, as the browser does.
    const icon = String(await page.evaluate("document.querySelector('link[rel=icon]').href"));
    const res = await page.request.get(icon);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toBe('image/svg+xml');
    await page.waitForLoadState('networkidle');
    expect(notFoundOf(page)).toEqual([]);
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
