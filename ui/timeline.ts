/**
 * The saga drawn as a timeline: its steps in the order they ran, each with the compensation that
 * undid it drawn beneath it in another colour (compensations run from the last completed step to
 * the first). Steps flow into further rows rather than scrolling sideways, and the only numbers
 * shown are the ones in the step names (`update contacts #3`: operation #3 of the change). A
 * saga's failure is told once, above the steps, never again on the failing step's card.
 */
import { badge, h } from './dom.js';
import { clock, duration, time } from './format.js';
import { pointLink } from './links.js';
import type { SagaStatus, Step } from './types.js';

export interface TimelineContext {
  phase?: SagaStatus['phase'];
  failure?: SagaStatus['failure'];
  /** The code the instance's failure leads with (SAGA_COMPENSATED, …). */
  failureCode?: string;
  /** The rollback point that keeps a completed saga's compensations. */
  rollbackPoint?: string;
  /** Its status, when known: once it is no longer active, its undo is no longer "available". */
  rollbackPointStatus?: string;
}

function times(startedAt: string | undefined, completedAt: string | undefined): string {
  if (!startedAt) return 'not started';
  const took = duration(startedAt, completedAt);
  return completedAt
    ? `${clock(startedAt)} → ${clock(completedAt)}${took ? ` (${took})` : ''}`
    : `${clock(startedAt)} → …`;
}

/** A service name as people write it: dataverse → Dataverse. */
function service(name: string): string {
  return name ? name[0].toUpperCase() + name.slice(1) : 'the service';
}

/** `waiting for Dataverse (retry 3, next at 10:42:10)`, the last error as its tooltip. */
function waitingLine(waiting: NonNullable<Step['waiting']>): HTMLElement {
  return h(
    'div',
    { class: 'tl-waiting', 'data-testid': 'timeline-waiting', title: waiting.error },
    `waiting for ${service(waiting.service)} (retry ${waiting.attempt}, next at ${clock(waiting.nextAttemptAt)})`,
  );
}

/** One line of small text that is cut with an ellipsis when narrow; the whole text is its tooltip. */
const meta = (text: string): HTMLElement => h('div', { class: 'tl-meta tl-clip', title: text }, text);

/** A compensation that ran, runs, or would run if the saga failed now: drawn as its own card. */
const drawnAsCard = (step: Step): boolean =>
  step.compensation !== undefined && step.compensation.state !== 'available';

/** On a completed saga's step: its undo is kept, not run (the notice above says where). */
function availableUndo(ctx: TimelineContext): HTMLElement {
  return h(
    'div',
    {
      class: 'tl-available',
      'data-testid': 'timeline-undo-available',
      title: ctx.rollbackPoint ? `through rollback point ${ctx.rollbackPoint}` : undefined,
    },
    '↩ undo ',
    // Once its point is rolled back (or expired), the undo is no longer there to take.
    badge(
      ctx.rollbackPointStatus && ctx.rollbackPointStatus !== 'active' ? ctx.rollbackPointStatus : 'available',
    ),
  );
}

/** Where a completed saga's compensations are: all of them in one rollback point. */
function availableNotice(steps: Step[], ctx: TimelineContext): HTMLElement | null {
  const count = steps.filter((s) => s.compensation?.state === 'available').length;
  if (!count) return null;
  const whose = count === 1 ? 'its step' : `its ${count} steps`;
  const status = ctx.rollbackPointStatus;
  if (ctx.rollbackPoint && status && status !== 'active')
    return h(
      'p',
      { class: 'notice notice-info', 'data-testid': 'saga-available' },
      `↩ The compensation${count === 1 ? '' : 's'} of ${whose} ${count === 1 ? 'is' : 'are'} kept by rollback point `,
      pointLink(ctx.rollbackPoint, 'saga-available-point'),
      status === 'rolled-back' ? ', which was rolled back: the change is undone.' : `, which is ${status}.`,
    );
  return h(
    'p',
    { class: 'notice notice-info', 'data-testid': 'saga-available' },
    `↩ The compensation${count === 1 ? '' : 's'} of ${whose} ${count === 1 ? 'is' : 'are'} available through rollback point `,
    ctx.rollbackPoint ? pointLink(ctx.rollbackPoint, 'saga-available-point') : '(not recorded)',
    ctx.rollbackPoint ? ': roll back there to undo the change.' : '.',
  );
}

function stepCard(step: Step, ctx: TimelineContext): HTMLElement {
  const failing = step.name === ctx.failure?.step;
  const waitsHere = step.waiting && step.compensation?.state !== 'running';
  return h(
    'div',
    {
      class: `tl-step state-${step.state}${failing || step.state === 'failed' ? ' tl-failing' : ''}`,
      'data-testid': 'timeline-step',
      'data-step': step.name,
      'data-state': step.state,
    },
    h('div', { class: 'tl-title' }, step.name),
    h(
      'div',
      { class: 'tl-badges' },
      badge(step.state),
      step.pivot ? h('span', { class: 'tag' }, 'pivot') : null,
    ),
    meta(step.activity),
    h(
      'div',
      { class: 'tl-meta', title: `${time(step.startedAt)} – ${time(step.completedAt)}` },
      times(step.startedAt, step.completedAt),
    ),
    waitsHere && step.waiting ? waitingLine(step.waiting) : null,
    // The failing step's error is in the saga's failure notice above the timeline.
    step.error && !failing
      ? h('div', { class: 'tl-error', 'data-testid': 'timeline-step-error' }, step.error.message)
      : null,
    failing ? h('div', { class: 'tl-error', title: step.error?.message }, 'failed here (error above)') : null,
    step.compensation?.state === 'available' ? availableUndo(ctx) : null,
    !step.compensable && !step.compensation && step.state !== 'failed'
      ? h('div', { class: 'tl-meta' }, 'no compensation')
      : null,
  );
}

function compensationCard(step: Step, order: number | undefined): HTMLElement {
  const c = step.compensation!;
  return h(
    'div',
    {
      class: `tl-comp comp-${c.state}`,
      'data-testid': 'timeline-compensation',
      'data-step': step.name,
      'data-state': c.state,
      'data-order': order,
      'aria-label': `Compensation of “${step.name}”: ${c.state}`,
    },
    h('div', { class: 'tl-back', 'aria-hidden': 'true' }, '↩ undo'),
    h('div', { class: 'tl-title' }, `undoes “${step.name}”`),
    h('div', { class: 'tl-badges' }, badge(c.state)),
    meta(c.activity),
    h('div', { class: 'tl-meta' }, times(c.startedAt, c.completedAt)),
    c.state === 'running' && step.waiting ? waitingLine(step.waiting) : null,
    c.error ? h('div', { class: 'tl-error' }, c.error.message) : null,
  );
}

function failureNotice(ctx: TimelineContext, steps: Step[]): HTMLElement | null {
  if (!ctx.failure) return null;
  // A saga that fails before anything needed undoing (a plan refused) says so, not "undone".
  const undid = steps.some((s) => s.state === 'compensated');
  const after =
    ctx.phase === 'compensating'
      ? ' The steps before it are being undone, newest first.'
      : ctx.phase === 'compensation-failed'
        ? ' Undoing the steps before it failed: see the compensations below.'
        : ctx.phase === 'compensated'
          ? undid
            ? ' The steps before it were undone, newest first.'
            : ' Nothing before it needed undoing.'
          : '';
  return h(
    'p',
    { class: 'notice notice-error', role: 'alert', 'data-testid': 'saga-failure' },
    ctx.failureCode ? h('strong', {}, `${ctx.failureCode}: `) : null,
    `Failed at step “${ctx.failure.step}”: ${ctx.failure.error.message}`,
    after,
  );
}

export function timeline(steps: Step[], ctx: TimelineContext = {}): HTMLElement {
  // Run order of the compensations that ran (or run): the latest step's first.
  const ran = steps.filter((s) => s.compensation && !['pending', 'available'].includes(s.compensation.state));
  const order = new Map(ran.reverse().map((s, i) => [s, i + 1]));
  const anyCompensation = steps.some(drawnAsCard);
  return h(
    'section',
    { class: 'timeline', 'aria-label': 'Saga timeline', 'data-testid': 'saga-timeline' },
    failureNotice(ctx, steps),
    availableNotice(steps, ctx),
    h(
      'ol',
      { class: 'tl-grid', 'data-testid': 'timeline-grid' },
      steps.map((step) =>
        h(
          'li',
          { class: 'tl-col' },
          stepCard(step, ctx),
          drawnAsCard(step) ? compensationCard(step, order.get(step)) : null,
        ),
      ),
    ),
    h(
      'p',
      { class: 'legend' },
      h('span', { class: 'legend-step' }, 'steps, in order'),
      anyCompensation ? h('span', { class: 'legend-comp' }, 'compensations, run backwards') : null,
    ),
  );
}
