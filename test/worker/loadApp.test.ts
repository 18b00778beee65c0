import { describe, expect, it } from 'vitest';
import { WorkerCore } from '../../host/worker/coreApi';
import { expandBraces, globFiles } from '../../host/worker/glob';
import { invokeFunction } from '../../host/worker/invoke';
import { loadApp } from '../../host/worker/loadApp';

interface HookLog {
  appStart: number;
  pre: string[];
  post: { name: string; seen: boolean; error?: string }[];
  logs: string[];
}

describe('package.json main globs', () => {
  it('expands braces and matches files only', () => {
    expect(expandBraces('dist/{a,b}/*.js')).toEqual(['dist/a/*.js', 'dist/b/*.js']);
    expect(
      globFiles('test/apps/hooks', 'dist/{functions,extra}/*.js').map((f) =>
        f.replace(/.*apps\/hooks\//, ''),
      ),
    ).toEqual(['dist/functions/a.js', 'dist/functions/b.js']);
    expect(globFiles('test/apps/hooks', 'dist/**/b.js')).toHaveLength(1);
  });
});

describe('the worker shim', () => {
  it('loads every entry file, captures registrations and runs the app hooks', async () => {
    const core = new WorkerCore();
    const app = await loadApp('test/apps/hooks', core);
    expect(app.entryFiles).toHaveLength(2);
    expect([...core.functions.keys()].sort()).toEqual(['second', 'wrapped']);
    expect(core.programmingModel.name).toBe('@azure/functions');
    const log = (globalThis as { __hooksFixture?: HookLog }).__hooksFixture as HookLog;
    expect(log.appStart).toBe(1);
    expect(core.appHookData.startedBy).toBe('appStart');

    const fn = core.functions.get('wrapped');
    if (!fn) throw new Error('wrapped not registered');
    const result = await invokeFunction(core, fn, {
      inputData: [
        {
          name: Object.keys(fn.metadata.bindings).find((k) =>
            /trigger/i.test(String(fn.metadata.bindings[k].type)),
          ) as string,
          data: {
            http: { method: 'GET', url: 'http://localhost/api/wrapped', headers: {}, query: {}, params: {} },
          },
        },
      ],
    });
    const http = result.returnValue?.http as { statusCode: string; body: { bytes: Uint8Array } };
    expect(http.statusCode).toBe('200');
    expect(JSON.parse(Buffer.from(http.body.bytes).toString())).toEqual({ wrapped: 1 });
    expect(log.pre).toEqual(['wrapped']);
    expect(log.post).toEqual([{ name: 'wrapped', seen: true, error: undefined }]);
    expect(log.logs).toContain('inside wrapped');
  });

  it('rejects duplicate function names and unknown hooks, as the worker does', () => {
    const core = new WorkerCore();
    core.registerFunction({ name: 'x', bindings: {} }, () => undefined);
    expect(() => core.registerFunction({ name: 'x', bindings: {} }, () => undefined)).toThrow(
      /already been registered/,
    );
    expect(() => core.registerHook('onSomething', () => undefined)).toThrow(RangeError);
  });

  it('reports a main that matches nothing with a clear error', async () => {
    await expect(loadApp('test/apps/does-not-exist')).rejects.toThrow(/No package.json/);
  });
});
