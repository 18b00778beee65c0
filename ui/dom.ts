/** Small helpers to build DOM nodes without a framework. */

export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined | ((event: Event) => void);
export type Attrs = Record<string, AttrValue>;

/**
 * Styles go through the CSSOM: the shell's Content-Security-Policy forbids inline style attributes,
 * which covers setAttribute('style') but not element.style.
 */
function setStyle(el: HTMLElement | SVGElement, declarations: string): void {
  for (const declaration of declarations.split(';')) {
    const colon = declaration.indexOf(':');
    if (colon > 0)
      el.style.setProperty(declaration.slice(0, colon).trim(), declaration.slice(colon + 1).trim());
  }
}

function apply(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === 'style') setStyle(el as HTMLElement, String(value));
    else el.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** An HTML element; attributes named `on…` with a function become event listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, like h(). */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** Replaces everything inside `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A status word as a coloured badge (the colour comes from the CSS class of the word). */
export function badge(text: string | undefined, testId?: string): HTMLElement {
  const word = text ?? 'unknown';
  return h('span', { class: `badge badge-${word.toLowerCase()}`, 'data-testid': testId }, word);
}

/** A message for the user; `role=alert` for errors so screen readers announce it. */
export function notice(kind: 'error' | 'info' | 'success', text: string, testId?: string): HTMLElement {
  return h(
    'p',
    { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': testId },
    text,
  );
}

export function pre(value: unknown, testId?: string): HTMLElement {
  const text = value === undefined ? '(none)' : JSON.stringify(value, null, 2);
  return h('pre', { class: 'json', 'data-testid': testId }, text);
}
