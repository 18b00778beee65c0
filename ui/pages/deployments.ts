/** Deployments: each manifest's state, and approve/reject for those awaiting a person's decision. */
import { ApiError, get, post, seg } from '../api.js';
import { badge, fill, h, notice } from '../dom.js';
import { relative, time } from '../format.js';
import { live } from '../live.js';
import type { Deployment } from '../types.js';

function decision(d: Deployment, refresh: () => Promise<void>, out: HTMLElement): HTMLElement | string {
  if (d.state !== 'awaiting-approval') {
    const a = d.approval;
    return a?.decision ? `${a.decision}${a.by ? ` by ${a.by}` : ''}${a.reason ? `: ${a.reason}` : ''}` : '—';
  }
  const comment = h('input', {
    type: 'text',
    id: `comment-${d.id}`,
    'aria-label': `Comment on ${d.version}`,
    placeholder: 'comment (optional)',
    'data-testid': 'decision-comment',
  });
  const decide = (event: 'approve' | 'reject') => async () => {
    try {
      await post(`deployments/${seg(d.id)}/${event}`, {
        by: 'dashboard',
        ...(comment.value.trim() ? { comment: comment.value.trim() } : {}),
      });
      fill(
        out,
        notice(
          'success',
          `${event === 'approve' ? 'Approved' : 'Rejected'} ${d.version}.`,
          'decision-result',
        ),
      );
      await refresh();
    } catch (err) {
      const e = err as ApiError;
      fill(out, notice('error', `${e.code}: ${e.message}`, 'decision-result'));
    }
  };
  return h(
    'div',
    { class: 'decision' },
    a11yDeadline(d),
    comment,
    h('button', { type: 'button', 'data-testid': 'approve', onclick: decide('approve') }, 'Approve'),
    h(
      'button',
      { type: 'button', class: 'danger', 'data-testid': 'reject', onclick: decide('reject') },
      'Reject',
    ),
  );
}

function a11yDeadline(d: Deployment): HTMLElement | null {
  return d.approval?.deadline
    ? h('span', { class: 'muted', title: d.approval.deadline }, `decide ${relative(d.approval.deadline)}`)
    : null;
}

export function deploymentsPage(main: HTMLElement): () => void {
  const body = h('tbody', { 'data-testid': 'deployments' });
  const out = h('div', { 'aria-live': 'polite' });
  const message = h('div');

  // Rows are kept while their deployment is unchanged, so a comment being typed survives a refresh.
  const rows = new Map<string, { signature: string; row: HTMLElement }>();
  function rowOf(d: Deployment): HTMLElement {
    const signature = JSON.stringify(d);
    const kept = rows.get(d.id);
    if (kept?.signature === signature) return kept.row;
    const row = h(
      'tr',
      { 'data-testid': 'deployment-row', 'data-deployment-id': d.id, 'data-state': d.state },
      h('td', {}, h('a', { href: `#/instances/${encodeURIComponent(d.id)}` }, d.version)),
      h('td', {}, d.description ?? ''),
      h(
        'td',
        {},
        badge(d.state, 'deployment-state'),
        d.runtimeStatus && d.runtimeStatus !== 'Running' ? ` (${d.runtimeStatus})` : '',
      ),
      h('td', {}, time(d.requestedAt)),
      h('td', {}, time(d.updatedAt)),
      h('td', {}, String(d.rollbackPoints.length)),
      h('td', {}, d.error ? `${d.error.code}: ${d.error.message}` : ''),
      h(
        'td',
        {},
        decision(d, () => watcher.now(), out),
      ),
    );
    rows.set(d.id, { signature, row });
    return row;
  }

  async function refresh(): Promise<void> {
    try {
      const { deployments } = await get<{ deployments: Deployment[] }>('deployments');
      fill(message);
      const sorted = [...deployments].sort((a, b) => (a.requestedAt < b.requestedAt ? 1 : -1));
      fill(
        body,
        sorted.length
          ? sorted.map(rowOf)
          : h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No deployments yet.')),
      );
    } catch (err) {
      fill(message, notice('error', (err as Error).message));
      throw err;
    }
  }
  const watcher = live(refresh);

  fill(
    main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Deployments'), watcher.element),
    message,
    out,
    h(
      'table',
      { class: 'grid' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          [
            'Version',
            'Description',
            'State',
            'Requested',
            'Updated',
            'Rollback points',
            'Error',
            'Approval',
          ].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      body,
    ),
  );
  return watcher.stop;
}
