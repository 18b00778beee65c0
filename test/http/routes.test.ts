import { describe, expect, it } from 'vitest';
import { compileRoute, RouteTable, splitRoutePrefix } from '../../host/http/routes';

const m = (template: string, path: string): Record<string, string> | undefined =>
  compileRoute(template).match(path);

describe('compileRoute: segments', () => {
  it('matches literal segments case-insensitively and nothing else', () => {
    expect(m('orders/list', 'Orders/LIST')).toEqual({});
    expect(m('orders/list', 'orders')).toBeUndefined();
    expect(m('orders/list', 'orders/list/extra')).toBeUndefined();
    expect(m('orders/list', 'orders/other')).toBeUndefined();
  });

  it('tolerates leading and trailing slashes on path and template', () => {
    expect(m('/orders/{id}/', '/orders/5/')).toEqual({ id: '5' });
  });

  it('binds {name} to one non-empty segment', () => {
    expect(m('orders/{id}', 'orders/abc')).toEqual({ id: 'abc' });
    expect(m('orders/{id}', 'orders')).toBeUndefined();
    expect(m('orders/{id}', 'orders//x')).toBeUndefined();
  });

  it('URL-decodes parameter values and literal segments', () => {
    expect(m('people/{name}', 'people/Ada%20Lovelace')).toEqual({ name: 'Ada Lovelace' });
    expect(m('hello world', 'hello%20world')).toEqual({});
    expect(m('people/{name}', 'people/100%')).toEqual({ name: '100%' });
    expect(m('people/{name}', 'people/a%2Fb')).toEqual({ name: 'a/b' });
  });

  it('an optional trailing parameter may be present or absent', () => {
    expect(m('orders/{id?}', 'orders/7')).toEqual({ id: '7' });
    expect(m('orders/{id?}', 'orders')).toEqual({});
    expect(m('items/{a?}/{b?}', 'items/1')).toEqual({ a: '1' });
  });

  it('a default fills in when the segment is absent', () => {
    expect(m('list/{page=1}', 'list')).toEqual({ page: '1' });
    expect(m('list/{page=1}', 'list/3')).toEqual({ page: '3' });
    expect(m('list/{page:int=1}', 'list/x')).toBeUndefined();
  });

  it('a catch-all captures the rest of the path, slashes included', () => {
    expect(m('files/{*rest}', 'files/a/b/c.txt')).toEqual({ rest: 'a/b/c.txt' });
    expect(m('files/{**rest}', 'files/a%20b/c')).toEqual({ rest: 'a b/c' });
    expect(m('files/{*rest}', 'files')).toEqual({});
    expect(m('files/{*rest=index}', 'files')).toEqual({ rest: 'index' });
    expect(m('files/{*rest:minlength(3)}', 'files/ab')).toBeUndefined();
  });

  it('splits segments that mix literals and parameters', () => {
    expect(m('files/{name}.{ext}', 'files/report.pdf')).toEqual({ name: 'report', ext: 'pdf' });
    expect(m('files/{name}.{ext}', 'files/archive.tar.gz')).toEqual({ name: 'archive.tar', ext: 'gz' });
    expect(m('files/{name}.{ext}', 'files/report')).toBeUndefined();
    expect(m('v{version:int}/ping', 'V2/ping')).toEqual({ version: '2' });
    expect(m('v{version:int}/ping', 'vx/ping')).toBeUndefined();
    expect(m('files/{name}.{ext?}', 'files/readme')).toEqual({ name: 'readme' });
    expect(m('files/{name}.{ext?}', 'files/readme.md')).toEqual({ name: 'readme', ext: 'md' });
  });

  it('an empty template matches only the root', () => {
    expect(m('', '')).toEqual({});
    expect(m('', 'x')).toBeUndefined();
  });
});

describe('compileRoute: constraints', () => {
  const cases: [string, string[], string[]][] = [
    ['int', ['5', '-12', '2147483647'], ['abc', '1.5', '2147483648', '']],
    ['long', ['9223372036854775807', '-3'], ['9223372036854775808', 'x']],
    ['bool', ['true', 'FALSE'], ['yes', '1']],
    [
      'guid',
      [
        '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
        '3F2504E04F8911D39A0C0305E82C3301',
        '{3f2504e0-4f89-11d3-9a0c-0305e82c3301}',
      ],
      ['3f2504e0-4f89-11d3-9a0c', 'not-a-guid'],
    ],
    ['alpha', ['abc', 'ABC'], ['abc1', 'a-b']],
    ['decimal', ['1.5', '-2', '.5'], ['1e3', 'x']],
    ['double', ['1.5', '1e3', '-2E-2'], ['1e999', 'abc']],
    ['float', ['1.5', '3e38'], ['1e39', 'abc']],
    [
      'datetime',
      ['2024-02-29', '2024-01-31T10:20:30Z', '2024-01-31T10:20:30.5+02:00'],
      ['2023-02-29', '2024-13-01', 'today'],
    ],
    ['minlength(3)', ['abc', 'abcd'], ['ab']],
    ['maxlength(3)', ['abc', 'a'], ['abcd']],
    ['length(3)', ['abc'], ['ab', 'abcd']],
    ['length(2,3)', ['ab', 'abc'], ['a', 'abcd']],
    ['min(10)', ['10', '99'], ['9', 'ten']],
    ['max(10)', ['10', '-1'], ['11']],
    ['range(1,5)', ['1', '5'], ['0', '6', 'x']],
    ['regex(^[a-z]{{2}}\\d+$)', ['ab12', 'AB3'], ['a12', 'ab']],
    ['int:min(1)', ['1', '40'], ['0', 'abc']],
  ];

  it.each(cases)('{v:%s} accepts valid values and rejects others', (constraint, good, bad) => {
    const route = compileRoute(`x/{v:${constraint}}`);
    for (const value of good)
      expect(route.match(`x/${encodeURIComponent(value)}`), value).toEqual({ v: value });
    for (const value of bad) expect(route.match(`x/${encodeURIComponent(value)}`), value).toBeUndefined();
  });

  it('regex constraints may contain slashes, colons and parentheses', () => {
    expect(m('x/{v:regex(^(a|b):c$)}', 'x/a:c')).toEqual({ v: 'a:c' });
    expect(m('x/{*v:regex(^a/b$)}', 'x/a/b')).toEqual({ v: 'a/b' });
    expect(m('x/{v:regex(^(\\d+)?x$):minlength(2)}', 'x/12x')).toEqual({ v: '12x' });
    expect(m('x/{v:regex(^[)]+$)}', 'x/))')).toEqual({ v: '))' });
    expect(m('x/{v:regex(^[)]+$)}', 'x/a')).toBeUndefined();
  });

  it('an optional constrained parameter is checked only when present', () => {
    expect(m('x/{n:int?}', 'x')).toEqual({});
    expect(m('x/{n:int?}', 'x/abc')).toBeUndefined();
  });
});

describe('compileRoute: invalid templates', () => {
  it.each([
    ['orders/{id', /unbalanced '\{'/],
    ['orders/id}', /unbalanced '\}'/],
    ['orders/{id:nope}', /unknown constraint 'nope'/],
    ['orders/{id?}/items', /optional parameter 'id' must be last/],
    ['{*a}/{*b}', /only one catch-all/],
    ['{*a}/b', /catch-all parameter must be the last segment/],
    ['{*a?}', /cannot be marked optional/],
    ['a/{x}/{X}', /appears more than once/],
    ['a//b', /segment 2 is empty/],
    ['{a}{b}', /need literal text between/],
    ['x/{v:int(3)}', /takes no arguments/],
    ['x/{v:range(5,1)}', /greater than maximum/],
    ['x/{v:minlength}', /needs arguments/],
    ['x/{v:regex(*a)}', /invalid pattern/],
    ['x/{v:regex([)}', /missing '\)'/],
    ['x/{v:int=abc}', /does not satisfy/],
    ['x/{}', /has no name/],
    ['a?b', /cannot contain '\?'/],
  ])('%s', (template, message) => {
    expect(() => compileRoute(template)).toThrow(message);
    expect(() => compileRoute(template)).toThrow(`Invalid route template '${template}'`);
  });
});

describe('RouteTable', () => {
  it('prefers literals over parameters regardless of registration order', () => {
    const table = new RouteTable();
    table.add({ functionName: 'getOrder', template: 'orders/{id}', methods: ['GET'] });
    table.add({ functionName: 'newOrder', template: 'orders/new', methods: ['GET'] });
    expect(table.match('GET', 'orders/new')).toEqual({ functionName: 'newOrder', params: {} });
    expect(table.match('GET', 'orders/5')).toEqual({ functionName: 'getOrder', params: { id: '5' } });
  });

  it('prefers constrained parameters, then plain, then optional, then catch-all', () => {
    const table = new RouteTable();
    table.add({ functionName: 'catchAll', template: 'a/{*rest}', methods: [] });
    table.add({ functionName: 'optional', template: 'a/{x?}', methods: [] });
    table.add({ functionName: 'plain', template: 'a/{x}', methods: [] });
    table.add({ functionName: 'int', template: 'a/{x:int}', methods: [] });
    const hit = (path: string): unknown => {
      const r = table.match('GET', path);
      return 'functionName' in r ? r.functionName : r.error;
    };
    expect(hit('a/5')).toBe('int');
    expect(hit('a/abc')).toBe('plain');
    expect(hit('a')).toBe('optional');
    expect(hit('a/b/c')).toBe('catchAll');
  });

  it('keeps registration order between equally specific routes', () => {
    const table = new RouteTable();
    table.add({ functionName: 'first', template: 'x/{a}', methods: [] });
    table.add({ functionName: 'second', template: 'x/{b}', methods: [] });
    expect(table.match('GET', 'x/1')).toMatchObject({ functionName: 'first' });
  });

  it('compares methods case-insensitively; no methods means all', () => {
    const table = new RouteTable();
    table.add({ functionName: 'create', template: 'orders', methods: ['post'] });
    table.add({ functionName: 'any', template: 'ping', methods: [] });
    expect(table.match('POST', 'orders')).toMatchObject({ functionName: 'create' });
    expect(table.match('delete', 'ping')).toMatchObject({ functionName: 'any' });
  });

  it('reports method-not-allowed with the allowed methods, and not-found otherwise', () => {
    const table = new RouteTable();
    table.add({ functionName: 'read', template: 'orders/{id}', methods: ['get', 'HEAD'] });
    table.add({ functionName: 'update', template: 'orders/{id:int}', methods: ['PUT', 'PATCH'] });
    expect(table.match('DELETE', 'orders/5')).toEqual({
      error: 'method-not-allowed',
      allowed: ['GET', 'HEAD', 'PATCH', 'PUT'],
    });
    expect(table.match('PUT', 'orders/abc')).toEqual({
      error: 'method-not-allowed',
      allowed: ['GET', 'HEAD'],
    });
    expect(table.match('GET', 'customers/5')).toEqual({ error: 'not-found' });
  });

  it('falls through to a less specific route that accepts the method', () => {
    const table = new RouteTable();
    table.add({ functionName: 'newForm', template: 'orders/new', methods: ['GET'] });
    table.add({ functionName: 'update', template: 'orders/{id}', methods: ['POST'] });
    expect(table.match('POST', 'orders/new')).toEqual({ functionName: 'update', params: { id: 'new' } });
  });

  it('rejects an invalid template when it is added', () => {
    expect(() => new RouteTable().add({ functionName: 'f', template: 'a/{b', methods: [] })).toThrow(
      /unbalanced/,
    );
  });
});

describe('splitRoutePrefix', () => {
  it('returns the path after the prefix', () => {
    expect(splitRoutePrefix('/api/orders/5', 'api')).toBe('orders/5');
    expect(splitRoutePrefix('/API/orders', 'api')).toBe('orders');
    expect(splitRoutePrefix('/api', 'api')).toBe('');
    expect(splitRoutePrefix('/api/', '/api/')).toBe('');
    expect(splitRoutePrefix('/v1/api/x', 'v1/api')).toBe('x');
  });

  it('returns undefined outside the prefix, matching whole segments only', () => {
    expect(splitRoutePrefix('/apix/orders', 'api')).toBeUndefined();
    expect(splitRoutePrefix('/other/orders', 'api')).toBeUndefined();
    expect(splitRoutePrefix('/ap', 'api')).toBeUndefined();
  });

  it('an empty prefix puts routes at the root', () => {
    expect(splitRoutePrefix('/orders/5', '')).toBe('orders/5');
    expect(splitRoutePrefix('/', '')).toBe('');
  });
});
