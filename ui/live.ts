/**
 * Live refresh: runs a page's refresh every couple of seconds, shows when it last succeeded, and
 * lets the user pause it (the choice holds across pages for the tab's lifetime).
 */
import { h } from './dom.js';
import { ApiError } from './api.js';

export const REFRESH_MS = 2000;
let paused = false;

export interface Live {
  /** The indicator with its pause toggle, for the page to place. */
  element: HTMLElement;
  /** Refreshes at once (after an action), then keeps the rhythm. */
  now(): Promise<void>;
  stop(): void;
}

/** `refresh` answers 'done' when there is nothing more to watch (a finished instance). */
export function live(refresh: () => Promise<void | 'done'>, intervalMs = REFRESH_MS): Live {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let done = false;
  let running: Promise<void> | undefined;

  const dot = h('span', { class: 'live-dot', 'aria-hidden': 'true' });
  const text = h('span', { class: 'live-text' }, 'Loading…');
  const toggle = h('button', {
    type: 'button',
    class: 'secondary small',
    'data-testid': 'live-toggle',
    'aria-pressed': String(paused),
    onclick: () => {
      paused = !paused;
      show();
      if (!paused) void tick();
    },
  });
  const element = h('div', { class: 'live', 'data-testid': 'live-indicator' }, dot, text, toggle);

  let lastOk: Date | undefined;
  let lastError: string | undefined;
  function show(): void {
    const state = done ? 'done' : paused ? 'paused' : lastError ? 'error' : 'on';
    element.dataset.state = state;
    toggle.textContent = paused ? 'Resume live refresh' : 'Pause live refresh';
    toggle.setAttribute('aria-pressed', String(paused));
    toggle.hidden = done;
    const at = lastOk ? lastOk.toLocaleTimeString(undefined, { hour12: false }) : '—';
    text.textContent =
      state === 'done'
        ? `Finished · loaded ${at}`
        : state === 'paused'
          ? `Paused · last updated ${at}`
          : state === 'error'
            ? `Refresh failed: ${lastError}`
            : `Live · updated ${at}`;
  }

  async function once(): Promise<void> {
    try {
      if ((await refresh()) === 'done') done = true;
      lastOk = new Date();
      lastError = undefined;
    } catch (err) {
      lastError = (err as Error).message;
      if (err instanceof ApiError && err.status === 401) stopped = true;
    }
    show();
  }

  /** `forced`: the user (or an action) asked for fresh data, paused or not. */
  async function tick(forced = false): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped || (paused && !forced)) return;
    running ??= once().finally(() => (running = undefined));
    await running;
    if (!stopped && !paused && !done) timer = setTimeout(() => void tick(), intervalMs);
  }

  show();
  void tick(true);
  return {
    element,
    now: async () => {
      done = false;
      await tick(true);
    },
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
