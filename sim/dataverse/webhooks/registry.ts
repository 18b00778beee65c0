/**
 * Finds the webhook steps a change triggers, from the registration records clients created through
 * the Web API: enabled sdkmessageprocessingsteps on the change's sdkmessage, whose sdkmessagefilter
 * (if any) names the changed table, whose Update filtering attributes (if any) include a changed
 * column, and whose event handler is a Webhook service endpoint. Read-only: it never writes records.
 */
import type { ChangeEvent } from '../records';
import type { Catalog } from '../schema/catalog';
import { CONTRACT_WEBHOOK, ImageType } from '../schema/systemTables';
import { lookupTypeColumn, quote, type Store, type StoredRow } from '../store';
import type { ImageSpec } from './context';

export interface StepMatch {
  step: StoredRow;
  endpoint: StoredRow;
  images: ImageSpec[];
}

/** Columns the platform sets on every write; they never make an Update step fire on their own. */
const PLATFORM_COLUMNS = new Set(['modifiedon', 'modifiedby', 'versionnumber']);

export class StepRegistry {
  constructor(
    private readonly catalog: Catalog,
    private readonly store: Store,
  ) {}

  private rows(logicalName: string, column: string, value: string): StoredRow[] {
    const table = this.catalog.require(logicalName);
    return this.store.select(table, { sql: `${quote(column)} = ?`, params: [value] }, [], 10_000, 0);
  }

  matching(event: ChangeEvent): StepMatch[] {
    const message = this.rows('sdkmessage', 'name', event.message)[0];
    if (!message) return [];
    const steps = this.rows('sdkmessageprocessingstep', 'sdkmessageid', String(message.sdkmessageid));
    const matches: StepMatch[] = [];
    for (const step of steps) {
      if (step.statecode !== 0) continue;
      if (step[lookupTypeColumn('eventhandler')] !== 'serviceendpoint' || !step.eventhandler) continue;
      if (step.sdkmessagefilterid) {
        const filter = this.store.get(
          this.catalog.require('sdkmessagefilter'),
          String(step.sdkmessagefilterid),
        );
        if (!filter || filter.primaryobjecttypecode !== event.table.logicalName) continue;
      }
      if (
        event.message === 'Update' &&
        typeof step.filteringattributes === 'string' &&
        step.filteringattributes.trim() !== ''
      ) {
        const wanted = step.filteringattributes.split(',').map((s) => s.trim().toLowerCase());
        const changed = Object.keys(event.target).filter((c) => !PLATFORM_COLUMNS.has(c));
        if (!wanted.some((c) => changed.includes(c))) continue;
      }
      const endpoint = this.store.get(this.catalog.require('serviceendpoint'), String(step.eventhandler));
      if (!endpoint || endpoint.contract !== CONTRACT_WEBHOOK) continue;
      matches.push({ step, endpoint, images: this.images(String(step.sdkmessageprocessingstepid)) });
    }
    return matches.sort((a, b) => Number(a.step.rank ?? 0) - Number(b.step.rank ?? 0));
  }

  private images(stepId: string): ImageSpec[] {
    return this.rows('sdkmessageprocessingstepimage', 'sdkmessageprocessingstepid', stepId).map((image) => ({
      alias: String(image.entityalias ?? image.name ?? 'Image'),
      pre: image.imagetype === ImageType.pre || image.imagetype === ImageType.both,
      post: image.imagetype === ImageType.post || image.imagetype === ImageType.both,
      attributes:
        typeof image.attributes === 'string' && image.attributes.trim() !== ''
          ? image.attributes.split(',').map((s) => s.trim().toLowerCase())
          : [],
    }));
  }
}
