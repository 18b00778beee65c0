import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHost } from '../../host/host';
import { EngineError, validateInstanceId } from '../../host/durable/engine';
import { startPatternsHost, webhook } from '../support/durable';

let host: RunningHost;
beforeAll(async () => {
  host = await startPatternsHost();
});
afterAll(async () => host?.close());

/** Ids that look like another id in a listing: reordered, or with characters nobody sees. */
const SPOOFING: Record<string, string> = {
  'right-to-left override': 'invoice\u202Efdp.exe',
  'left-to-right embedding': 'a\u202Ab',
  'first strong isolate': 'a\u2068b',
  'zero-width space': 'order\u200B1',
  'zero-width non-joiner': 'order\u200C1',
  'right-to-left mark': 'order\u200F1',
  BOM: '\uFEFForder1',
  'line separator': 'order\u20281',
  'paragraph separator': 'order\u20291',
  'C1 control': 'order\u00851',
  'soft hyphen': 'or\u00ADder1',
};

describe('instance ids on the durable engine', () => {
  it('validateInstanceId refuses bidi controls, zero-width and other format or control characters', () => {
    for (const [what, id] of Object.entries(SPOOFING)) {
      expect(() => validateInstanceId(id), what).toThrow(EngineError);
      expect(() => validateInstanceId(id), what).toThrow(/not allowed/);
    }
    for (const id of ['order-1', 'Müller:2026', 'a.b_c~d', '日本-1'])
      expect(() => validateInstanceId(id), id).not.toThrow();
  });

  it('the management API answers 400 for such an id and creates nothing', async () => {
    for (const [what, id] of Object.entries(SPOOFING)) {
      const res = await fetch(webhook(host, `orchestrators/chaining/${encodeURIComponent(id)}`), {
        method: 'POST',
      });
      expect(res.status, what).toBe(400);
      const status = await fetch(webhook(host, `instances/${encodeURIComponent(id)}`));
      expect(status.status, what).toBe(404);
    }
  });
});
