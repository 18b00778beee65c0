/**
 * The system clock's promise: a callback scheduled for `at` runs once Date.now() has reached `at`,
 * never before. Node's timers often fire a millisecond early by Date.now(); a durable timer woken
 * that early found its message not yet visible and was never woken again.
 */
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../host/clock';

describe('SystemClock.schedule', () => {
  it('never runs a callback before Date.now() reaches its time', async () => {
    const clock = new SystemClock();
    const early: number[] = [];
    const fired = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const at = Date.now() + 1 + (i % 30);
        return new Promise<number>((resolve) =>
          clock.schedule(at, () => {
            const now = Date.now();
            if (now < at) early.push(at - now);
            resolve(now);
          }),
        );
      }),
    );
    expect(fired).toHaveLength(300);
    expect(early, 'callbacks that ran before their time (ms early)').toEqual([]);
  });

  it('runs a callback for a time already past, after the caller has returned', async () => {
    const clock = new SystemClock();
    const order: string[] = [];
    const done = new Promise<void>((resolve) =>
      clock.schedule(Date.now() - 5, () => {
        order.push('fired');
        resolve();
      }),
    );
    order.push('returned');
    await done;
    expect(order).toEqual(['returned', 'fired']);
  });

  it('cancels a pending callback', async () => {
    const clock = new SystemClock();
    let fired = false;
    const cancel = clock.schedule(Date.now() + 20, () => (fired = true));
    cancel();
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toBe(false);
  });
});
