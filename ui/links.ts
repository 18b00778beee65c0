/**
 * Links to a rollback point and to an instance, as every page writes them. Ids are shown in full:
 * the points of one deployment share a long prefix (`rp-deploy-2026-…:config`, `…:dataverse`), so
 * a shortened id would read the same for all of them.
 */
import { h } from './dom.js';

export const pointHref = (id: string): string => `#/rollback-points/${encodeURIComponent(id)}`;

export const pointLink = (id: string, testId?: string): HTMLElement =>
  h('a', { href: pointHref(id), class: 'point-id', title: id, 'data-testid': testId }, id);

export const instanceLink = (id: string, testId?: string): HTMLElement =>
  h('a', { href: `#/instances/${encodeURIComponent(id)}`, 'data-testid': testId }, id);
