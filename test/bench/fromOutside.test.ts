/**
 * The from-outside bench scenario at tiny scale: its client process (the built dist/bench/loadgen.js)
 * starts orchestrations over HTTP, waits through the instance list and counts the outcomes the host
 * really has. Only counts are asserted; how fast is the bench's business.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type RunningHost } from '../../host/host';
import type { LoadgenReport } from '../../bench/loadgen';
import { runChild } from '../../bench/scenarios/childProcess';
import { benchFromOutside } from '../../bench/scenarios/fromOutside';

const ROOT = path.resolve(__dirname, '..', '..');
const LOADGEN = path.join(ROOT, 'dist', 'bench', 'loadgen.js');

let host: RunningHost;
beforeAll(async () => {
  host = await startHost({ appDir: path.join(ROOT, 'bench', 'app'), port: 0, memory: true, quiet: true });
});
afterAll(async () => host?.close());

function loadgen(args: string[], key = host.systemKey): Promise<LoadgenReport> {
  return runChild<LoadgenReport>(LOADGEN, [`--url=${host.url}`, ...args], [], { BENCH_SYSTEM_KEY: key });
}

describe('the from-outside bench scenario', () => {
  it('starts 20 orchestrations from another process and sees every one completed', async () => {
    const run = await benchFromOutside(host, 'tiny-', 20, { steps: 3, inFlight: 5, loadgenScript: LOADGEN });
    expect(run).toMatchObject({
      orchestrations: 20,
      started: 20,
      errors: 0,
      transportErrors: 0,
      completed: 20,
      notCompleted: 0,
      stepsEach: 3,
    });
    expect(host.engine.store.countInstances({ instanceIdPrefix: 'tiny-', statuses: ['Completed'] })).toBe(20);
    expect(run.startLatencyMs.p50).toBeGreaterThan(0);
    expect(run.polls).toBeGreaterThan(0);
  });

  it('counts every instance across the list pages the continuation tokens lead to', async () => {
    const run = await loadgen(['--count=20', '--in-flight=4', '--prefix=paged-', '--page-size=7']);
    expect(run).toMatchObject({ started: 20, completed: 20, notCompleted: 0, listPages: 3 });
  });

  it('reports refused starts as errors by status, and nothing completed', async () => {
    const run = await loadgen([
      '--count=6',
      '--in-flight=3',
      '--prefix=refused-',
      '--name=noSuchOrchestrator',
    ]);
    expect(run).toMatchObject({ started: 0, errors: 6, errorStatuses: { 400: 6 }, completed: 0 });
  });
});
