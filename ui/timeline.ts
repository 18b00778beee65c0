/**
 * The saga drawn as a timeline: its steps left to right in the order they ran, and under each step
 * the compensation that undid it, drawn in another colour and pointing back (compensations run
 * from the last completed step to the first).
 */
import { badge, h } from './dom.js';
import { clock, duration, time } from './format.js';
import type { Step } from './types.js';

function times(startedAt: string | undefined, completedAt: string | undefined): string {
  if (!startedAt) return 'not started';
  const took = duration(startedAt, completedAt);
  return completedAt
    ? `${clock(startedAt)} → ${clock(completedAt)}${took ? ` (${took})` : ''}`
    : `${clock(startedAt)} → …`;
}

function stepCard(step: Step, index: number, failedStep: string | undefined): HTMLElement {
  const failed = step.state === 'failed' || step.name === failedStep;
  return h(
    'li',
    {
      class: `tl-step state-${step.state}${failed ? ' tl-failing' : ''}`,
      style: `grid-column: ${index + 1}; grid-row: 1`,
      'data-testid': 'timeline-step',
      'data-step': step.name,
      'data-state': step.state,
    },
    h('div', { class: 'tl-index', 'aria-hidden': 'true' }, String(index + 1)),
    h('div', { class: 'tl-title' }, step.name),
    h('div', {}, badge(step.state), step.pivot ? h('span', { class: 'tag' }, 'pivot') : null),
    h('div', { class: 'tl-meta' }, step.activity),
    h(
      'div',
      { class: 'tl-meta', title: `${time(step.startedAt)} – ${time(step.completedAt)}` },
      times(step.startedAt, step.completedAt),
    ),
    step.error
      ? h('div', { class: 'tl-error', 'data-testid': 'timeline-step-error' }, step.error.message)
      : null,
    !step.compensable && step.state !== 'failed' ? h('div', { class: 'tl-meta' }, 'no compensation') : null,
  );
}

function compensationCard(step: Step, index: number, order: number): HTMLElement {
  const c = step.compensation!;
  return h(
    'li',
    {
      class: `tl-comp comp-${c.state}`,
      style: `grid-column: ${index + 1}; grid-row: 2`,
      'data-testid': 'timeline-compensation',
      'data-step': step.name,
      'data-state': c.state,
      'aria-label': `Compensation ${order} undoes ${step.name}: ${c.state}`,
    },
    h('div', { class: 'tl-back', 'aria-hidden': 'true' }, `↩ undo ${order}`),
    h('div', { class: 'tl-title' }, `undoes “${step.name}”`),
    h('div', {}, badge(c.state)),
    h('div', { class: 'tl-meta' }, c.activity),
    h('div', { class: 'tl-meta' }, times(c.startedAt, c.completedAt)),
    c.error ? h('div', { class: 'tl-error' }, c.error.message) : null,
  );
}

export function timeline(steps: Step[], failure?: { step: string; error: { message: string } }): HTMLElement {
  // Undo order: the compensation of the latest step runs first.
  const compensated = steps
    .map((step, index) => ({ step, index }))
    .filter(({ step }) => step.compensation)
    .reverse();
  return h(
    'section',
    { class: 'timeline', 'aria-label': 'Saga timeline', 'data-testid': 'saga-timeline' },
    failure
      ? h(
          'p',
          { class: 'notice notice-error', 'data-testid': 'saga-failure' },
          `Failed at step “${failure.step}”${compensated.length ? '; the steps before it were compensated, newest first' : ''}.`,
        )
      : null,
    h(
      'div',
      { class: 'tl-scroll' },
      h(
        'ol',
        {
          class: 'tl-grid',
          style: `grid-template-columns: repeat(${Math.max(steps.length, 1)}, minmax(11rem, 1fr))`,
        },
        steps.map((s, i) => stepCard(s, i, failure?.step)),
        compensated.map(({ step, index }, order) => compensationCard(step, index, order + 1)),
      ),
    ),
    h(
      'p',
      { class: 'legend' },
      h('span', { class: 'legend-step' }, 'steps, in order'),
      compensated.length ? h('span', { class: 'legend-comp' }, 'compensations, run backwards') : null,
    ),
  );
}
