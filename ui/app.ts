/**
 * The dashboard's entry: takes the function key (from `?code=` once, or from the key form), then
 * shows the page the address's hash names. Pages return a function that stops their refresh.
 */
import { forgetKey, onUnauthorized, storeKey, storedKey } from './api.js';
import { fill, h, notice } from './dom.js';
import { deploymentsPage } from './pages/deployments.js';
import { instancePage } from './pages/instance.js';
import { instancesPage } from './pages/instances.js';
import { rollbackPointPage, rollbackPointsPage } from './pages/rollbackPoints.js';

export type Page = (main: HTMLElement, ...params: string[]) => (() => void) | void;

const ROUTES: { pattern: RegExp; page: Page; nav: string }[] = [
  { pattern: /^#\/instances\/(.+)$/, page: instancePage, nav: 'instances' },
  { pattern: /^#\/rollback-points\/(.+)$/, page: rollbackPointPage, nav: 'rollback-points' },
  { pattern: /^#\/rollback-points$/, page: rollbackPointsPage, nav: 'rollback-points' },
  { pattern: /^#\/deployments$/, page: deploymentsPage, nav: 'deployments' },
  { pattern: /^(#\/instances)?$|^#?\/?$/, page: instancesPage, nav: 'instances' },
];

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
let stopPage: (() => void) | void;

/** The key arrives once in the address (`?code=`, as Azure's function URLs carry it); keep it out of there. */
function takeKeyFromAddress(): void {
  const url = new URL(location.href);
  const code = url.searchParams.get('code');
  if (code === null) return;
  if (code) storeKey(code);
  url.searchParams.delete('code');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

function showKeyForm(problem?: string): void {
  stopPage?.();
  stopPage = undefined;
  nav.hidden = true;
  const input = h('input', {
    id: 'key-input',
    type: 'password',
    name: 'key',
    autocomplete: 'off',
    required: true,
    'data-testid': 'key-input',
  });
  const form = h(
    'form',
    {
      class: 'card key-form',
      'data-testid': 'key-form',
      onsubmit: (event: Event) => {
        event.preventDefault();
        if (!input.value.trim()) return;
        storeKey(input.value.trim());
        route();
      },
    },
    h('h1', {}, 'Life Cockpit'),
    h(
      'p',
      {},
      'The dashboard reads the app through its API, which needs a function key. The key stays in this browser tab only.',
    ),
    problem ? notice('error', problem, 'key-error') : null,
    h('label', { for: 'key-input' }, 'Function key'),
    input,
    h('button', { type: 'submit', 'data-testid': 'key-submit' }, 'Open dashboard'),
  );
  fill(main, form);
  input.focus();
}

function route(): void {
  stopPage?.();
  stopPage = undefined;
  if (!storedKey()) return showKeyForm();
  nav.hidden = false;
  const hash = location.hash;
  for (const r of ROUTES) {
    const m = r.pattern.exec(hash);
    if (!m) continue;
    for (const link of nav.querySelectorAll('a'))
      link.setAttribute('aria-current', link.dataset.nav === r.nav ? 'page' : 'false');
    fill(main);
    stopPage = r.page(main, ...m.slice(1).filter(Boolean).map(decodeURIComponent));
    return;
  }
  fill(main, notice('error', `There is no page at ${hash}.`));
}

onUnauthorized((message) => showKeyForm(message));
document.getElementById('change-key')?.addEventListener('click', () => {
  forgetKey();
  showKeyForm();
});
window.addEventListener('hashchange', route);
takeKeyFromAddress();
route();
