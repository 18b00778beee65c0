/** Instances: every orchestration instance, newest first, filtered and refreshed live. */
import { get } from '../api.js';
import { badge, fill, h, notice } from '../dom.js';
import { localInputToIso, time } from '../format.js';
import { live } from '../live.js';
import type { InstanceSummary } from '../types.js';

const STATUSES = ['Running', 'Pending', 'Completed', 'Failed', 'Terminated', 'Suspended', 'Canceled'];
const NAMES = ['dataverseChange', 'rollback', 'createRollbackPoint', 'configChange', 'deployment'];

/** The filters survive a visit to an instance and back. */
const filters = { status: '', name: '', from: '', to: '' };
const PAGE_SIZE = 50;

function query(): string {
  const q = new URLSearchParams({ top: String(PAGE_SIZE) });
  if (filters.status) q.set('status', filters.status);
  if (filters.name.trim()) q.set('name', filters.name.trim());
  const from = localInputToIso(filters.from);
  const to = localInputToIso(filters.to);
  if (from) q.set('createdFrom', from);
  if (to) q.set('createdTo', to);
  return q.toString();
}

function row(i: InstanceSummary): HTMLElement {
  return h(
    'tr',
    { 'data-testid': 'instance-row', 'data-instance-id': i.instanceId, 'data-status': i.runtimeStatus },
    h('td', {}, h('a', { href: `#/instances/${encodeURIComponent(i.instanceId)}` }, i.instanceId)),
    h('td', {}, i.name),
    h('td', {}, badge(i.runtimeStatus)),
    h('td', {}, i.phase ? badge(i.phase) : '—'),
    h('td', {}, time(i.createdTime)),
    h('td', {}, time(i.lastUpdatedTime)),
  );
}

export function instancesPage(main: HTMLElement): () => void {
  const field = (label: string, control: HTMLElement): HTMLElement =>
    h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
  const status = h(
    'select',
    { id: 'filter-status', 'data-testid': 'filter-status' },
    h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s, selected: filters.status === s }, s)),
  );
  const name = h('input', {
    id: 'filter-name',
    type: 'text',
    list: 'orchestration-names',
    value: filters.name,
    placeholder: 'any',
    'data-testid': 'filter-name',
  });
  const from = h('input', {
    id: 'filter-from',
    type: 'datetime-local',
    step: 1,
    value: filters.from,
    'data-testid': 'filter-from',
  });
  const to = h('input', {
    id: 'filter-to',
    type: 'datetime-local',
    step: 1,
    value: filters.to,
    'data-testid': 'filter-to',
  });
  const body = h('tbody', { 'data-testid': 'instances' });
  const message = h('div', { 'aria-live': 'polite' });
  const more = h('p', { class: 'muted', 'data-testid': 'more-note' });

  let generation = 0;
  async function refresh(): Promise<void> {
    const mine = ++generation;
    try {
      const page = await get<{ instances: InstanceSummary[]; continuationToken?: string }>(
        `instances?${query()}`,
      );
      if (mine !== generation) return; // a newer filter's answer wins
      fill(message);
      fill(
        body,
        page.instances.length
          ? page.instances.map(row)
          : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No instances match these filters.')),
      );
      more.textContent = page.continuationToken
        ? `Showing the newest ${PAGE_SIZE}; narrow the filters to see older ones.`
        : '';
    } catch (err) {
      if (mine === generation) fill(message, notice('error', (err as Error).message, 'instances-error'));
      throw err;
    }
  }
  const watcher = live(refresh);
  function apply(): void {
    Object.assign(filters, { status: status.value, name: name.value, from: from.value, to: to.value });
    void watcher.now();
  }

  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter instances',
      'data-testid': 'instance-filters',
      onsubmit: (e: Event) => {
        e.preventDefault();
        apply();
      },
      onchange: apply,
    },
    field('Status', status),
    field('Orchestration', name),
    h(
      'datalist',
      { id: 'orchestration-names' },
      NAMES.map((n) => h('option', { value: n })),
    ),
    field('Created from', from),
    field('Created to', to),
    h('button', { type: 'submit', 'data-testid': 'filter-apply' }, 'Apply'),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'data-testid': 'filter-clear',
        onclick: () => {
          Object.assign(filters, { status: '', name: '', from: '', to: '' });
          status.value = name.value = from.value = to.value = '';
          void watcher.now();
        },
      },
      'Clear filters',
    ),
  );

  fill(
    main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Instances'), watcher.element),
    form,
    message,
    h(
      'table',
      { class: 'grid' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Instance', 'Orchestration', 'Status', 'Saga phase', 'Created', 'Last updated'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      body,
    ),
    more,
  );
  return watcher.stop;
}
