import { describe, expect, it } from 'vitest';
import { generateKey, HostKeys, presentedKey } from '../../host/http/keys';

const keys = new HostKeys({
  functionKeys: { default: 'host-function-key' },
  masterKey: 'the-master-key',
  perFunction: { GetOrder: { mine: 'get-order-own-key' } },
});

describe('HostKeys.authorize', () => {
  it('anonymous needs no key', () => {
    expect(keys.authorize('anonymous', 'GetOrder', undefined)).toBe(true);
    expect(keys.authorize('anonymous', 'GetOrder', 'wrong')).toBe(true);
  });

  it('function level accepts a host function key, its own keys, or the master key', () => {
    expect(keys.authorize('function', 'GetOrder', 'host-function-key')).toBe(true);
    expect(keys.authorize('function', 'getorder', 'get-order-own-key')).toBe(true);
    expect(keys.authorize('function', 'GetOrder', 'the-master-key')).toBe(true);
  });

  it("function level refuses another function's own key", () => {
    expect(keys.authorize('function', 'DeleteOrder', 'get-order-own-key')).toBe(false);
  });

  it('admin level accepts only the master key', () => {
    expect(keys.authorize('admin', 'GetOrder', 'the-master-key')).toBe(true);
    expect(keys.authorize('admin', 'GetOrder', 'host-function-key')).toBe(false);
    expect(keys.authorize('admin', 'GetOrder', 'get-order-own-key')).toBe(false);
  });

  it('refuses wrong, missing and empty keys', () => {
    for (const level of ['function', 'admin'] as const) {
      expect(keys.authorize(level, 'GetOrder', 'host-function-kez')).toBe(false);
      expect(keys.authorize(level, 'GetOrder', 'the-master-key-plus')).toBe(false);
      expect(keys.authorize(level, 'GetOrder', undefined)).toBe(false);
      expect(keys.authorize(level, 'GetOrder', '')).toBe(false);
    }
  });

  it('an empty master key never authorizes', () => {
    const noMaster = new HostKeys({ functionKeys: {}, masterKey: '' });
    expect(noMaster.authorize('admin', 'f', '')).toBe(false);
    expect(noMaster.authorize('function', 'f', 'anything')).toBe(false);
  });
});

describe('presentedKey', () => {
  const headers = (values: Record<string, string>): Headers => new Headers(values);

  it('reads the x-functions-key header first, then the code query parameter', () => {
    expect(
      presentedKey(headers({ 'x-functions-key': 'from-header' }), new URLSearchParams('code=from-query')),
    ).toBe('from-header');
    expect(presentedKey(headers({}), new URLSearchParams('code=from-query'))).toBe('from-query');
    expect(presentedKey(headers({ 'X-Functions-Key': 'any-case' }), new URLSearchParams())).toBe('any-case');
  });

  it('is undefined when neither is given', () => {
    expect(presentedKey(headers({}), new URLSearchParams('other=1'))).toBeUndefined();
  });

  it('works with any object that has get(name)', () => {
    const plain = { get: (name: string) => (name === 'x-functions-key' ? 'k' : null) };
    expect(presentedKey(plain, new URLSearchParams())).toBe('k');
  });

  it('a key sent either way authorizes the same', () => {
    const viaQuery = presentedKey(headers({}), new URLSearchParams('code=host-function-key'));
    const viaHeader = presentedKey(
      headers({ 'x-functions-key': 'host-function-key' }),
      new URLSearchParams(),
    );
    expect(keys.authorize('function', 'GetOrder', viaQuery)).toBe(true);
    expect(keys.authorize('function', 'GetOrder', viaHeader)).toBe(true);
  });
});

describe('HostKeys.fromSettings', () => {
  it('reads master and function keys from the Keys section', () => {
    const fromFunction = HostKeys.fromSettings({ Keys: { master: 'm-key', function: 'f-key' } }, false);
    expect(fromFunction.authorize('admin', 'x', 'm-key')).toBe(true);
    expect(fromFunction.authorize('function', 'x', 'f-key')).toBe(true);
    expect(fromFunction.authorize('admin', 'x', 'f-key')).toBe(false);

    const fromDefault = HostKeys.fromSettings({ Keys: { Master: 'm-key', default: 'd-key' } }, true);
    expect(fromDefault.authorize('function', 'x', 'd-key')).toBe(true);
    expect(fromDefault.masterKey).toBe('m-key');
  });

  it('generates long url-safe keys when asked and none are configured', () => {
    const a = HostKeys.fromSettings({}, true);
    const b = HostKeys.fromSettings({ Keys: {} }, true);
    const functionKey = a.functionKeys.default;
    for (const key of [a.masterKey, functionKey]) {
      expect(key.length).toBeGreaterThanOrEqual(40);
      expect(key).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    expect(a.masterKey).not.toBe(functionKey);
    expect(a.masterKey).not.toBe(b.masterKey);
    expect(a.authorize('admin', 'x', a.masterKey)).toBe(true);
    expect(a.authorize('function', 'x', functionKey)).toBe(true);
  });

  it('leaves missing keys absent when not generating, so only anonymous is open', () => {
    const none = HostKeys.fromSettings({}, false);
    expect(none.authorize('anonymous', 'x', undefined)).toBe(true);
    expect(none.authorize('function', 'x', '')).toBe(false);
    expect(none.authorize('admin', 'x', '')).toBe(false);
    expect(none.masterKey).toBe('');
    expect(none.functionKeys).toEqual({});
  });
});

describe('generateKey', () => {
  it('never starts a key with "-", which a command line would take for an option', () => {
    // One base64url key in 64 would start with '-': 2,000 of them include such a key unless prevented.
    const generated = Array.from({ length: 2000 }, () => generateKey());
    expect(generated.every((key) => /^[A-Za-z0-9_][A-Za-z0-9_-]{42}$/.test(key))).toBe(true);
    expect(new Set(generated).size).toBe(2000);
  });
});
