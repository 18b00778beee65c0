/**
 * Rollback points: the list with expiry and the dependency graph; and one point, whose rollback is
 * always planned (a dry run) and shown before the Execute button appears.
 */
import { ApiError, get, post, seg } from '../api.js';
import { badge, fill, h, notice, type Child } from '../dom.js';
import { relative, time } from '../format.js';
import { dependencyGraph } from '../graph.js';
import { instanceLink, pointLink } from '../links.js';
import { live } from '../live.js';
import { recordRef } from '../records.js';
import type {
  FieldConflict,
  LookupNames,
  Resource,
  RollbackPlan,
  RollbackPoint,
  RollbackPointListed,
  UndoAction,
} from '../types.js';

const STATUSES = ['active', 'rolling-back', 'rolled-back', 'rollback-failed', 'expired'];
let statusFilter = '';

function resourceView(r: Resource): Child {
  return r.kind === 'dataverse' ? recordRef(r) : `configuration “${r.name}” v${r.versionAfter}`;
}

function expiry(p: Pick<RollbackPoint, 'expiresAt'>): HTMLElement {
  const past = Date.parse(p.expiresAt) <= Date.now();
  return h(
    'span',
    { class: past ? 'expired' : '', title: p.expiresAt },
    `${time(p.expiresAt)} (${relative(p.expiresAt)})`,
  );
}

function row(p: RollbackPointListed): HTMLElement {
  return h(
    'tr',
    { 'data-testid': 'point-row', 'data-point-id': p.id, 'data-status': p.status },
    h('td', { class: 'point-cell' }, pointLink(p.id, 'point-link')),
    h('td', {}, p.description),
    h('td', {}, p.origin),
    h('td', {}, badge(p.status)),
    h('td', {}, time(p.createdAt)),
    h('td', {}, expiry(p)),
    h('td', {}, String(p.resources.length)),
    h('td', {}, p.dependsOn?.length ? p.dependsOn.map((d, i) => [i ? ', ' : '', pointLink(d)]) : '—'),
  );
}

export function rollbackPointsPage(main: HTMLElement): () => void {
  const status = h(
    'select',
    {
      id: 'point-status',
      'data-testid': 'point-status-filter',
      onchange: () => {
        statusFilter = status.value;
        void watcher.now();
      },
    },
    h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s, selected: s === statusFilter }, s)),
  );
  const graph = h('div', { class: 'graph-box' });
  const body = h('tbody', { 'data-testid': 'points' });
  const message = h('div');

  async function refresh(): Promise<void> {
    try {
      const { points } = await get<{ points: RollbackPointListed[] }>(
        `rollback-points${statusFilter ? `?status=${seg(statusFilter)}` : ''}`,
      );
      fill(message);
      fill(
        graph,
        points.length
          ? dependencyGraph(points, (id) => (location.hash = `#/rollback-points/${encodeURIComponent(id)}`))
          : h('p', { class: 'muted' }, 'No rollback points.'),
      );
      // Newest first in the table; the API lists oldest first (the graph's order).
      fill(body, [...points].reverse().map(row));
    } catch (err) {
      fill(message, notice('error', (err as Error).message));
      throw err;
    }
  }
  const watcher = live(refresh);

  fill(
    main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Rollback points'), watcher.element),
    h(
      'div',
      { class: 'filters' },
      h('div', { class: 'field' }, h('label', { for: 'point-status' }, 'Status'), status),
    ),
    message,
    h('h2', {}, 'Dependencies'),
    h(
      'p',
      { class: 'muted' },
      'An arrow from one point to another: the later point changed the same records, so the earlier one can only be rolled back together with it (cascade).',
    ),
    graph,
    h('h2', {}, 'All points'),
    h(
      'div',
      { class: 'table-box' },
      h(
        'table',
        { class: 'grid' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Point', 'Description', 'Origin', 'Status', 'Created', 'Expires', 'Records', 'Depends on'].map(
              (t) => h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        body,
      ),
    ),
  );
  return watcher.stop;
}

/**
 * `jobtitle = "Manager"`; a lookup the point named as the record it points at, with its GUID as the
 * tooltip (a restore writes the binding the point recorded, `/accounts(<id>)`, which is how
 * lookupNames keys it).
 */
function fieldsView(fields: Record<string, unknown>, names: LookupNames = {}): Child[] {
  return Object.entries(fields).flatMap(([k, v], i): Child[] => {
    const named = typeof v === 'string' ? names[v] : undefined;
    const id = named && /\(([^)]+)\)$/.exec(String(v))?.[1];
    const field: Child[] =
      named && id
        ? [`${k.replace(/@odata\.bind$/, '')} = `, recordRef({ table: named.entity, id, ...named })]
        : [`${k} = ${JSON.stringify(v)}`];
    return i === 0 ? field : [', ', ...field];
  });
}

function actionView(a: UndoAction): Child[] {
  switch (a.kind) {
    case 'dataverse-delete':
      return ['Delete ', recordRef(a), ' (it was created by the change)'];
    case 'dataverse-restore-fields':
      return ['Restore ', recordRef(a), ': ', ...fieldsView(a.fields, a.lookupNames)];
    case 'dataverse-recreate':
      return ['Create ', recordRef(a), ' again (it was deleted by the change)'];
    case 'dataverse-restore-record':
      return ['Put ', recordRef(a), ' back as it was'];
    case 'config-activate':
      return [`Activate configuration “${a.name}” version ${a.version}`];
    default:
      return [JSON.stringify(a)];
  }
}

function conflictView(c: FieldConflict): Child[] {
  const fields = Object.keys(c.fields ?? {});
  return [
    recordRef(c),
    c.deleted ? ' (deleted since)' : fields.length ? ` (${fields.join(', ')} edited since)` : '',
  ];
}

function planView(plan: RollbackPlan): HTMLElement {
  return h(
    'div',
    { class: 'card', 'data-testid': 'rollback-plan' },
    h('h3', {}, `Plan: ${plan.steps.length} point${plan.steps.length === 1 ? '' : 's'}, newest first`),
    h(
      'ol',
      {},
      plan.steps.map((s) =>
        h(
          'li',
          { 'data-testid': 'plan-step', 'data-point-id': s.pointId },
          h('strong', {}, s.description || s.pointId),
          ' ',
          h('span', { class: 'muted point-id' }, `(${s.pointId})`),
          h(
            'ul',
            {},
            s.plan.map((a) => h('li', { 'data-testid': 'plan-action' }, actionView(a))),
          ),
        ),
      ),
    ),
    plan.conflicts.length
      ? h(
          'div',
          { class: 'notice notice-info', role: 'status', 'data-testid': 'plan-conflicts' },
          'Edited since the change (force overrides): ',
          plan.conflicts.map((c, i) => [i ? '; ' : '', conflictView(c)]),
        )
      : null,
  );
}

/** Plan, then execute: Execute appears only for the options the shown plan was made with. */
function rollbackForm(point: RollbackPoint, reload: () => void): HTMLElement {
  const cascade = h('input', { type: 'checkbox', id: 'opt-cascade', 'data-testid': 'opt-cascade' });
  const force = h('input', { type: 'checkbox', id: 'opt-force', 'data-testid': 'opt-force' });
  const out = h('div', { 'aria-live': 'polite' });
  const options = (): { cascade?: boolean; force?: boolean } => ({
    ...(cascade.checked ? { cascade: true } : {}),
    ...(force.checked ? { force: true } : {}),
  });
  const problem = (err: unknown): HTMLElement => {
    const e = err as ApiError;
    return notice('error', e.code ? `${e.code}: ${e.message}` : e.message, 'plan-error');
  };

  async function execute(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const started = await post<{ id: string }>(`rollback-points/${seg(point.id)}/execute`, options());
      fill(
        out,
        h(
          'p',
          { class: 'notice notice-success', role: 'status', 'data-testid': 'rollback-started' },
          'Rollback started: ',
          instanceLink(started.body.id, 'rollback-instance-link'),
        ),
      );
      reload();
    } catch (err) {
      button.disabled = false;
      out.append(problem(err));
    }
  }

  async function plan(): Promise<void> {
    fill(out, h('p', { class: 'muted' }, 'Planning (a dry run, nothing changes)…'));
    try {
      // A plan is a read: the answer is the plan itself, with no instance behind it.
      const answer = await post<RollbackPlan>(`rollback-points/${seg(point.id)}/plan`, options());
      const button = h(
        'button',
        { type: 'button', class: 'danger', 'data-testid': 'execute-rollback' },
        `Execute this rollback (${answer.body.steps.length} point${answer.body.steps.length === 1 ? '' : 's'})`,
      );
      button.addEventListener('click', () => void execute(button));
      fill(out, planView(answer.body), button);
    } catch (err) {
      fill(out, problem(err));
    }
  }

  // A plan belongs to the options it was made with: changing them takes Execute away.
  const invalidate = (): void => fill(out);
  cascade.addEventListener('change', invalidate);
  force.addEventListener('change', invalidate);

  const retrying = point.status === 'rollback-failed';
  return h(
    'section',
    { class: 'card', 'aria-label': 'Roll back' },
    h('h2', {}, retrying ? 'Retry the rollback' : 'Roll back'),
    retrying
      ? h(
          'p',
          { class: 'muted', 'data-testid': 'retry-hint' },
          'The last rollback of this point failed. Once its cause is fixed, plan and execute it again: ' +
            'what the failed run already undid is not undone twice.',
        )
      : null,
    h(
      'label',
      { class: 'check' },
      cascade,
      ' Cascade: also roll back later points that changed the same records',
    ),
    h('label', { class: 'check' }, force, ' Force: overwrite edits made to the records since the change'),
    h(
      'button',
      { type: 'button', 'data-testid': 'plan-rollback', onclick: () => void plan() },
      'Show rollback plan',
    ),
    out,
  );
}

export function rollbackPointPage(main: HTMLElement, id: string): void {
  const facts = h('div');
  const form = h('div');
  const message = h('div');

  async function load(withForm: boolean): Promise<void> {
    try {
      const p = await get<RollbackPoint>(`rollback-points/${seg(id)}`);
      fill(
        facts,
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Status'),
          h('dd', {}, badge(p.status, 'point-status')),
          h('dt', {}, 'Description'),
          h('dd', {}, p.description),
          h('dt', {}, 'Origin'),
          h('dd', {}, p.sagaInstanceId ? ['saga ', instanceLink(p.sagaInstanceId)] : p.origin),
          h('dt', {}, 'Created'),
          h('dd', {}, time(p.createdAt)),
          h('dt', {}, 'Expires'),
          h('dd', {}, expiry(p)),
          p.rollback
            ? [
                h('dt', {}, 'Rollback'),
                h(
                  'dd',
                  {},
                  instanceLink(p.rollback.instanceId),
                  p.rollback.error ? ` — ${p.rollback.error}` : '',
                ),
              ]
            : null,
        ),
        h('h2', {}, 'Records'),
        h(
          'ul',
          {},
          p.resources.map((r) => h('li', {}, resourceView(r))),
        ),
        h('h2', {}, 'Stored undo actions'),
        h(
          'ol',
          {},
          (p.plan ?? []).map((a) => h('li', {}, actionView(a))),
        ),
      );
      if (withForm)
        fill(
          form,
          p.status === 'active' || p.status === 'rollback-failed'
            ? rollbackForm(p, () => void load(false))
            : notice(
                'info',
                `This point is ${p.status}; only active points (or ones whose rollback failed) can be rolled back.`,
              ),
        );
    } catch (err) {
      fill(message, notice('error', (err as Error).message));
    }
  }

  fill(
    main,
    h('p', {}, h('a', { href: '#/rollback-points' }, '← All rollback points')),
    h('h1', { 'data-testid': 'point-id' }, id),
    message,
    facts,
    form,
  );
  void load(true);
}
