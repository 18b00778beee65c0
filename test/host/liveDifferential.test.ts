/**
 * Live orchestrations (extended sessions) must be invisible: whatever the host records with them
 * must be what a full replay of the whole history records. Checked three ways:
 *   - every orchestration the suite runs (the test apps' and this app's) is run with
 *     LIFECOCKPIT_LIVE_VERIFY: each episode a live orchestration answers is also replayed in full,
 *     and the library's actions, custom status, output and failure must be the same;
 *   - a fixture orchestration touching most episode kinds records the same history, custom status
 *     and output with live orchestrations off, on, and on with every other episode evicted;
 *   - after a restart or an eviction the host falls back to a full replay and completes identically.
 *
 * The nested run uses the built `dist/` for its child hosts (run `npm run build` first; `npm test` does).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type RunningHost } from '../../host/host';
import type { HistoryEvent } from '../../host/durable/history';
import type { VerifiedEpisode } from '../../host/durable/liveVerify';

const APP = 'test/host/fixtures/live';
const FINAL = ['Completed', 'Failed', 'Terminated'];

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-live-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

type Mode = 'full replay' | 'live' | 'live, every other episode evicted';

// One app per process (as one Functions worker): the modes take turns on one host.
let host: RunningHost;
beforeAll(async () => {
  host = await startHost({ appDir: APP, port: 0, quiet: true, virtualTime: 'auto', dataDir: tempDir() });
});
afterAll(async () => host?.close());

/** Switches the host's live orchestrations to `mode`; returns a function that restores them. */
function useMode(mode: Mode): () => void {
  const live = host.engine.liveSessions;
  live.configure({ enabled: mode !== 'full replay', maxCount: 1000 });
  const put = live.put;
  if (mode === 'live, every other episode evicted') {
    let n = 0;
    live.put = (id, session) => {
      if (n++ % 2 === 0) put.call(live, id, session);
    };
  }
  return () => {
    live.put = put;
    live.configure({ enabled: true, maxCount: 1000 });
  };
}

function liveStats(): { hits: number; misses: number; evictions: number } {
  return { ...host.engine.liveSessions.stats };
}

async function finished(id: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const row = host.engine.store.getInstance(id);
    if (row && FINAL.includes(row.status)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${id} did not finish`);
}

async function idle(): Promise<void> {
  // The engine is idle between episodes too; idle twice in a row with a pause means settled.
  for (let settled = 0; settled < 2;) {
    await host.engine.whenIdle();
    await new Promise((r) => setTimeout(r, 30));
    settled = host.engine.isIdle() ? settled + 1 : 0;
  }
}

/** What the host recorded for an instance, without what legitimately differs between runs. */
function recorded(id: string, runId: string): unknown {
  const row = host.engine.store.getInstance(id);
  const ids = new Map<string, string>();
  const scrub = (text: string): string =>
    text
      .split(runId)
      .join('RUN')
      .replace(/\b[0-9a-f]{32}\b/g, (x) => {
        if (!ids.has(x)) ids.set(x, `id${ids.size}`);
        return ids.get(x) as string;
      })
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'T');
  const history = host.engine.store.history(id).map((e: HistoryEvent) => {
    const rest: Partial<HistoryEvent> = { ...e };
    delete rest.Timestamp;
    return JSON.parse(scrub(JSON.stringify(rest))) as unknown;
  });
  return { status: row?.status, output: row?.output, customStatus: row?.customStatus, history };
}

describe('live orchestrations record what full replays record', () => {
  it('a fixture orchestration: same history, custom status and output in every mode', async () => {
    const results: Record<string, unknown> = {};
    for (const mode of ['full replay', 'live', 'live, every other episode evicted'] as Mode[]) {
      const runId = `tour-${mode.replace(/\W+/g, '-')}`;
      const restore = useMode(mode);
      const before = liveStats();
      try {
        host.engine.startNew('liveTour', runId, JSON.stringify({ steps: 6, waitFor: 'go' }));
        await idle();
        host.engine.raiseEvent(runId, 'go', JSON.stringify('went'));
        await finished(runId);
        await finished(`${runId}-child`);
        results[mode] = { parent: recorded(runId, runId), child: recorded(`${runId}-child`, runId) };
        const hits = liveStats().hits - before.hits;
        if (mode === 'full replay') expect(hits).toBe(0);
        else expect(hits).toBeGreaterThan(mode === 'live' ? 10 : 3);
      } finally {
        restore();
      }
    }
    const reference = results['full replay'] as { parent: { status: string; output: string } };
    expect(reference.parent.status).toBe('Completed');
    expect(JSON.parse(reference.parent.output)).toEqual([
      0,
      2,
      4,
      6,
      8,
      10,
      'went',
      200,
      'caught true',
      41,
      12,
    ]);
    expect(results.live).toEqual(reference);
    expect(results['live, every other episode evicted']).toEqual(reference);
  });

  it('falls back to a full replay after the engine restarts and completes identically', async () => {
    host.engine.startNew('liveWaiter', 'restarted', null);
    await idle();
    expect(host.engine.liveSessions.size).toBeGreaterThan(0);
    // What a restart leaves: the store as committed, nothing in memory.
    await host.engine.stop();
    expect(host.engine.liveSessions.size).toBe(0);
    host.engine.start();
    const before = liveStats();
    host.engine.raiseEvent('restarted', 'go', '5');
    await finished('restarted');
    // The event's episode replays in full (nothing live after the restart); the activity's that
    // follows continues live from that replay.
    expect(liveStats().misses - before.misses).toBe(1);
    expect(liveStats().hits - before.hits).toBe(1);

    const restore = useMode('full replay');
    try {
      host.engine.startNew('liveWaiter', 'reference', null);
      await idle();
      host.engine.raiseEvent('reference', 'go', '5');
      await finished('reference');
    } finally {
      restore();
    }
    expect(host.engine.store.getInstance('reference')?.output).toBe('12');
    expect(recorded('restarted', 'restarted')).toEqual(recorded('reference', 'reference'));
  });

  it('keeps at most the configured number live; evicted ones replay in full and complete', async () => {
    const live = host.engine.liveSessions;
    live.clear();
    live.configure({ maxCount: 2 });
    try {
      const before = liveStats();
      for (let i = 0; i < 5; i++) host.engine.startNew('liveWaiter', `bounded${i}`, null);
      await idle();
      expect(live.size).toBe(2);
      expect(liveStats().evictions - before.evictions).toBeGreaterThanOrEqual(3);
      let kept = 0;
      for (let i = 0; i < 5; i++) {
        const id = `bounded${i}`;
        const wasLive = live.has(id);
        if (wasLive) kept++;
        const step = liveStats();
        host.engine.raiseEvent(id, 'go', String(i));
        await finished(id);
        expect(host.engine.store.getInstance(id)?.output).toBe(String(2 + 2 * i));
        // An evicted instance replays in full once; then (and when it was live) it continues live.
        expect(liveStats().misses - step.misses, id).toBe(wasLive ? 0 : 1);
        expect(liveStats().hits - step.hits, id).toBe(wasLive ? 2 : 1);
      }
      // Each instance taken live again pushes a waiting one out, so fewer than 5 stay live.
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(5);
    } finally {
      live.configure({ maxCount: 1000 });
    }
  });
});

/** Test files whose orchestrations are run with every live episode checked against a full replay. */
const SUITE = [
  'test/host/patterns.test.ts',
  'test/host/lifecycle.test.ts',
  'test/host/humanInteraction.test.ts',
  'test/host/timerWakeups.test.ts',
  'test/saga/saga.test.ts',
  'test/saga/dataverseChange.test.ts',
  'test/deployments/approval.test.ts',
  'test/integrations/dailyReminders.test.ts',
];

/**
 * Orchestrations whose code the test itself changes while an instance runs (to show the host
 * detecting it): a live orchestration does not run its code again, so it cannot notice; in a real
 * deployment new code means a new process, whose first episode of every instance is a full replay.
 */
const CODE_CHANGED_MID_RUN = new Set(['versioned']);

describe('every orchestration of the suite, live and replayed in full', () => {
  it('gives the same actions, custom status, output and failures', async () => {
    const log = path.join(tempDir(), 'verify.jsonl');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...SUITE], {
        env: { ...process.env, LIFECOCKPIT_LIVE_VERIFY: log, FORCE_COLOR: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (c) => {
        if (c !== 0) console.error(out.slice(-5000));
        resolve(c);
      });
    });
    expect(code).toBe(0);
    const episodes = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as VerifiedEpisode);
    const mismatches = episodes.filter((e) => !e.match && !CODE_CHANGED_MID_RUN.has(e.name));
    expect(mismatches).toEqual([]);
    const names = new Set(episodes.map((e) => e.name));
    // Patterns the suite exercises, each answered live at least once.
    for (const name of [
      'chaining',
      'fanOutFanIn',
      'monitor',
      'approval',
      'eternalCounter',
      'counterUser',
      'lockedTransfer',
      'activityRetry',
      'parentWithRetry',
      'httpPoll',
      'sagaFlow',
      'dataverseChange',
    ])
      expect(names, name).toContain(name);
  }, 600_000);
});
