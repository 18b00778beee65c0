/**
 * One instance: its status, the saga timeline, history, input, output and custom status, and the
 * actions a person may take while it runs (terminate with a reason, raise an event).
 */
import { ApiError, get, post, seg } from '../api.js';
import { badge, fill, h, notice, pre } from '../dom.js';
import { time } from '../format.js';
import { instanceLink, pointLink } from '../links.js';
import { live } from '../live.js';
import { timeline } from '../timeline.js';
import { FINAL_STATUSES, type InstanceView, type RollbackPoint, type SagaStatus } from '../types.js';

type PointState = NonNullable<InstanceView['rollbackPoint']>;

type Tab = 'history' | 'input' | 'output' | 'custom-status';
const TABS: { id: Tab; label: string }[] = [
  { id: 'history', label: 'History' },
  { id: 'input', label: 'Input' },
  { id: 'output', label: 'Output' },
  { id: 'custom-status', label: 'Custom status' },
];

/** History events carry their detail in varying fields; show the common ones, the rest as JSON. */
function historyTable(events: Record<string, unknown>[]): HTMLElement {
  const shown = ['EventType', 'Timestamp', 'FunctionName', 'Name', 'EventId', 'TaskScheduledId'];
  return h(
    'table',
    { class: 'grid compact', 'data-testid': 'history-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['#', 'Time', 'Event', 'Name', 'Details'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      events.map((e, i) => {
        const rest = Object.fromEntries(Object.entries(e).filter(([k]) => !shown.includes(k)));
        const detail = Object.keys(rest).length ? JSON.stringify(rest) : '';
        return h(
          'tr',
          { 'data-testid': 'history-row', 'data-event-type': String(e.EventType ?? '') },
          h('td', {}, String(i + 1)),
          h('td', {}, time(e.Timestamp as string | undefined)),
          h('td', {}, String(e.EventType ?? '')),
          h('td', {}, String(e.FunctionName ?? e.Name ?? '')),
          h(
            'td',
            { class: 'detail', title: detail },
            detail.length > 160 ? `${detail.slice(0, 160)}…` : detail,
          ),
        );
      }),
    ),
  );
}

function tabs(view: InstanceView, selected: Tab, select: (t: Tab) => void): HTMLElement {
  const panel = (id: Tab): HTMLElement => {
    switch (id) {
      case 'history':
        return view.history?.length ? historyTable(view.history) : h('p', { class: 'muted' }, 'No history.');
      case 'input':
        return pre(view.input, 'instance-input');
      case 'output':
        return pre(view.output, 'instance-output');
      case 'custom-status':
        return pre(view.customStatus, 'instance-custom-status');
    }
  };
  return h(
    'section',
    { class: 'tabs' },
    h(
      'div',
      { role: 'tablist', 'aria-label': 'Instance details' },
      TABS.map((t) =>
        h(
          'button',
          {
            type: 'button',
            role: 'tab',
            id: `tab-${t.id}`,
            'aria-selected': String(t.id === selected),
            'aria-controls': `panel-${t.id}`,
            'data-testid': `tab-${t.id}`,
            onclick: () => select(t.id),
          },
          t.label,
        ),
      ),
    ),
    h(
      'div',
      { role: 'tabpanel', id: `panel-${selected}`, 'aria-labelledby': `tab-${selected}` },
      panel(selected),
    ),
  );
}

/** Terminate (with a reason) and raise event (name and JSON data), while the instance runs. */
function actions(id: string, refresh: () => Promise<void>, result: HTMLElement): HTMLElement {
  const report = async (work: () => Promise<string>): Promise<void> => {
    fill(result);
    try {
      fill(result, notice('success', await work()));
      await refresh();
    } catch (err) {
      const e = err as ApiError;
      fill(result, notice('error', e.code ? `${e.code}: ${e.message}` : e.message));
    }
  };

  const reason = h('input', { id: 'terminate-reason', type: 'text', 'data-testid': 'terminate-reason' });
  const terminate = h(
    'form',
    {
      class: 'card action',
      'aria-label': 'Terminate',
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (!confirmTerminate.checked) return;
        void report(async () => {
          await post(`instances/${seg(id)}/terminate`, { reason: reason.value });
          return 'Terminate requested.';
        });
      },
    },
    h('h3', {}, 'Terminate'),
    h('label', { for: 'terminate-reason' }, 'Reason'),
    reason,
    h(
      'label',
      { class: 'check' },
      h('input', {
        type: 'checkbox',
        id: 'terminate-confirm',
        'data-testid': 'terminate-confirm',
        required: true,
      }),
      ' I understand a terminated instance does not compensate.',
    ),
    h('button', { type: 'submit', class: 'danger', 'data-testid': 'terminate' }, 'Terminate instance'),
  );
  const confirmTerminate = terminate.querySelector('#terminate-confirm') as HTMLInputElement;

  const eventName = h('input', {
    id: 'event-name',
    type: 'text',
    required: true,
    pattern: '[A-Za-z0-9_.:\\-]{1,100}',
    'data-testid': 'event-name',
  });
  const eventData = h(
    'textarea',
    { id: 'event-data', rows: 3, spellcheck: 'false', 'data-testid': 'event-data' },
    '{}',
  );
  const raise = h(
    'form',
    {
      class: 'card action',
      'aria-label': 'Raise event',
      onsubmit: (e: Event) => {
        e.preventDefault();
        let data: unknown;
        try {
          data = eventData.value.trim() ? JSON.parse(eventData.value) : null;
        } catch {
          fill(result, notice('error', 'The event data is not valid JSON.'));
          return;
        }
        void report(async () => {
          await post(`instances/${seg(id)}/events/${seg(eventName.value)}`, data);
          return `Event “${eventName.value}” raised.`;
        });
      },
    },
    h('h3', {}, 'Raise event'),
    h('label', { for: 'event-name' }, 'Event name'),
    eventName,
    h('label', { for: 'event-data' }, 'Data (JSON)'),
    eventData,
    h('button', { type: 'submit', 'data-testid': 'raise-event' }, 'Raise event'),
  );
  return h('section', { class: 'actions', 'aria-label': 'Actions' }, terminate, raise);
}

/** The saga's published status (the custom status), when the instance is a saga. */
function sagaOf(view: InstanceView): SagaStatus | undefined {
  const s = view.customStatus as Partial<SagaStatus> | null;
  return s && typeof s === 'object' && s.kind === 'saga' && Array.isArray(s.steps)
    ? (s as SagaStatus)
    : undefined;
}

/** The rollback point a saga says it recorded (a completed change publishes its id). */
function pointIdOf(saga: SagaStatus | undefined): string | undefined {
  const id = saga?.details?.rollbackPointId;
  return typeof id === 'string' && id ? id : undefined;
}

/**
 * The instance's rollback point as the API answers it (InstanceView.rollbackPoint); from an API
 * that does not answer it yet, read from the point itself. `null`: the point is no longer stored.
 */
async function rollbackPointOf(
  view: InstanceView,
  saga: SagaStatus | undefined,
): Promise<PointState | null | undefined> {
  if (view.rollbackPoint) return view.rollbackPoint;
  const id = pointIdOf(saga);
  if (!id) return undefined;
  try {
    const p = await get<RollbackPoint>(`rollback-points/${seg(id)}`);
    return { id: p.id, status: p.status, rollback: p.rollback };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** The point's link and status, and whether, when and by which instance it was rolled back. */
function pointFacts(point: PointState | null, id: string | undefined): HTMLElement[] {
  if (point === null)
    return [
      h('dt', {}, 'Rollback point'),
      h('dd', { 'data-testid': 'instance-point' }, id ?? '', ' (no longer stored)'),
    ];
  const r = point.rollback;
  return [
    h('dt', {}, 'Rollback point'),
    h(
      'dd',
      { 'data-testid': 'instance-point' },
      pointLink(point.id, 'instance-point-link'),
      ' ',
      badge(point.status, 'instance-point-status'),
    ),
    h('dt', {}, 'Rolled back'),
    h(
      'dd',
      { 'data-testid': 'instance-rollback' },
      r
        ? [
            point.status === 'rolled-back'
              ? `yes, ${time(r.finishedAt ?? r.startedAt)}`
              : `${point.status}, started ${time(r.startedAt)}`,
            ' by ',
            instanceLink(r.instanceId, 'instance-rollback-link'),
            r.error ? ` — ${r.error}` : '',
          ]
        : 'no',
    ),
  ];
}

export function instancePage(main: HTMLElement, id: string): () => void {
  let selected: Tab = 'history';
  let last: InstanceView | undefined;
  const head = h('div');
  const saga = h('div');
  const details = h('div');
  const message = h('div');
  let actionsShown = false;
  const actionsSlot = h('div');
  // Outside the actions, which go away once the instance has finished (the answer should stay).
  const actionResult = h('div', { 'aria-live': 'polite', 'data-testid': 'action-result' });

  function drawDetails(): void {
    if (last)
      fill(
        details,
        tabs(last, selected, (t) => {
          selected = t;
          drawDetails();
        }),
      );
  }

  async function refresh(): Promise<void | 'done'> {
    let view: InstanceView;
    try {
      view = await get<InstanceView>(`instances/${seg(id)}?history=true`);
    } catch (err) {
      fill(message, notice('error', (err as Error).message, 'instance-error'));
      throw err;
    }
    fill(message);
    last = view;
    const status = sagaOf(view);
    const point = await rollbackPointOf(view, status);
    // A saga's failure is told once, with its timeline; other failures here.
    const failureShown = status?.failure ? undefined : view.failure;
    fill(
      head,
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Status'),
        h('dd', {}, badge(view.runtimeStatus, 'instance-status')),
        status ? [h('dt', {}, 'Saga phase'), h('dd', {}, badge(status.phase, 'saga-phase'))] : null,
        h('dt', {}, 'Orchestration'),
        h('dd', {}, view.name),
        h('dt', {}, 'Created'),
        h('dd', {}, time(view.createdTime)),
        h('dt', {}, 'Last updated'),
        h('dd', {}, time(view.lastUpdatedTime)),
        point !== undefined ? pointFacts(point, pointIdOf(status)) : null,
      ),
      failureShown
        ? notice(
            'error',
            `${failureShown.code ? `${failureShown.code}: ` : ''}${failureShown.message}`,
            'instance-failure',
          )
        : null,
    );
    fill(
      saga,
      status
        ? [
            h('h2', {}, `Saga “${status.saga}”`),
            timeline(status.steps, {
              phase: status.phase,
              failure: status.failure,
              failureCode: view.failure?.code,
              rollbackPoint: pointIdOf(status) ?? point?.id,
              rollbackPointStatus: point === null ? 'no longer stored' : point?.status,
            }),
          ]
        : null,
    );
    drawDetails();
    const final = FINAL_STATUSES.includes(view.runtimeStatus);
    if (!final && !actionsShown) {
      fill(
        actionsSlot,
        h('h2', {}, 'Actions'),
        actions(id, () => watcher.now(), actionResult),
      );
      actionsShown = true;
    } else if (final && actionsShown) {
      fill(actionsSlot);
      actionsShown = false;
    }
    return final ? 'done' : undefined;
  }

  const watcher = live(refresh);
  fill(
    main,
    h('p', {}, h('a', { href: '#/instances' }, '← All instances')),
    h('div', { class: 'page-head' }, h('h1', { 'data-testid': 'instance-id' }, id), watcher.element),
    message,
    head,
    actionsSlot,
    actionResult,
    saga,
    h('h2', {}, 'Details'),
    details,
  );
  return watcher.stop;
}
