/**
 * The pieces of blc's output that need no app: tables, the change lines of `--wait` in a log, and
 * the in-place redraw on a terminal (against a tiny server that plays an instance's progress).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApiClient, BlcError } from '../../cli/apiClient';
import { fields, table } from '../../cli/output';
import { changes, failureOf, watch, type InstanceView } from '../../cli/watch';
import type { StepState } from '../../lib/contracts/responses';

function view(runtimeStatus: string, phase: string, steps: [string, StepState][], extra = {}): InstanceView {
  return {
    instanceId: 'i-1',
    name: 'dataverseChange',
    runtimeStatus,
    createdTime: '2026-11-26T10:00:00.000Z',
    lastUpdatedTime: '2026-11-26T10:00:01.000Z',
    phase,
    input: null,
    output: null,
    customStatus: null,
    steps: steps.map(([name, state]) => ({
      name,
      activity: name,
      state,
      pivot: false,
      compensable: true,
      startedAt: '2026-11-26T10:00:00.000Z',
    })),
    ...extra,
  };
}

describe('table and fields', () => {
  it('aligns columns under upper-case headers and shows missing values as -', () => {
    const text = table(
      [
        { id: 'a', n: 1 },
        { id: 'longer', n: undefined },
      ],
      [
        { header: 'id', value: (r) => r.id },
        { header: 'n', value: (r) => r.n },
      ],
    );
    expect(text.split('\n')).toEqual(['ID      N', 'a       1', 'longer  -']);
    expect(table([], [{ header: 'x', value: () => 1 }])).toBe('(none)');
    expect(
      fields([
        ['status', 'ok'],
        ['skipped', undefined],
        ['input', { a: 1 }],
      ]),
    ).toBe('status: ok\ninput:  {"a":1}');
  });
});

describe('--wait progress', () => {
  it('prints one line per change of status, phase or step', () => {
    const first = view('Running', 'running', [['plan', 'running']]);
    const second = view('Running', 'running', [
      ['plan', 'completed'],
      ['apply', 'running'],
    ]);
    expect(changes(undefined, first)).toEqual(['status Running', 'phase running', 'step plan: running']);
    expect(changes(first, second)).toEqual(['step plan: completed', 'step apply: running']);
    expect(changes(second, second)).toEqual([]);
  });

  it('turns a failed or terminated instance into an exit-1 error with its code', () => {
    const failed = failureOf(
      view('Failed', 'compensated', [], {
        failure: { code: 'DATAVERSE_CONFLICT', message: 'changed meanwhile' },
      }),
    );
    expect(failed).toBeInstanceOf(BlcError);
    expect(failed).toMatchObject({ exitCode: 1, code: 'DATAVERSE_CONFLICT' });
    expect(failureOf(view('Terminated', 'running', [], { output: 'stop' }))).toMatchObject({
      code: 'TERMINATED',
      message: "dataverseChange 'i-1' was terminated: stop",
    });
    expect(failureOf(view('Completed', 'completed', []))).toBeUndefined();
  });

  it('redraws the steps in place on a terminal until the instance finishes', async () => {
    const answers = [
      view('Running', 'running', [['plan', 'running']]),
      view('Completed', 'completed', [
        ['plan', 'completed'],
        ['apply', 'completed'],
      ]),
    ];
    let calls = 0;
    const server = http.createServer((req, res) => {
      expect(req.headers['x-functions-key']).toBe('k');
      const body = answers[Math.min(calls++, answers.length - 1)];
      res.writeHead(body.runtimeStatus === 'Completed' ? 200 : 202, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      let written = '';
      const out = { isTTY: true, write: (s: string) => (written += s) } as unknown as NodeJS.WriteStream;
      const client = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
        key: 'k',
      });
      const final = await watch(client, 'i-1', { out, intervalMs: 1 });
      expect(final.runtimeStatus).toBe('Completed');
      expect(written).toBe(
        'dataverseChange i-1: Running (phase running)\n  plan  running\n' +
          '\x1b[2A\x1b[0J' +
          'dataverseChange i-1: Completed (phase completed)\n  plan   completed\n  apply  completed\n',
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('stops waiting after the timeout with WAIT_TIMEOUT, exit 1', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify(view('Running', 'running', [['plan', 'running']])));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      await expect(watch(client, 'i-1', { quiet: true, intervalMs: 5, timeoutMs: 50 })).rejects.toMatchObject(
        {
          exitCode: 1,
          code: 'WAIT_TIMEOUT',
        },
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
