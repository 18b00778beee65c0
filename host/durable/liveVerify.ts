/**
 * Checking live orchestrations against full replays. With `LIFECOCKPIT_LIVE_VERIFY=<file>` in the
 * environment, every episode answered by a live orchestration is also replayed in full and the two
 * results compared; one JSON line per episode goes to the file, and on a mismatch the engine uses
 * the full replay's result. The differential test runs the test suite's orchestrations this way.
 */
import fs from 'node:fs';
import { signature } from './actions';
import type { EpisodeResult } from './episode';

export interface VerifiedEpisode {
  instanceId: string;
  name: string;
  match: boolean;
  live?: unknown;
  full?: unknown;
}

/**
 * What an episode result means to the host: the actions (those reported in earlier episodes by
 * their signature, which is all the host reads of them: a full replay encodes them again, with any
 * later changes user code made to objects it passed as inputs), status, output, custom status, failure.
 */
function comparable(r: EpisodeResult, reported: number): unknown {
  if (!r.ok)
    return { ok: false, message: r.message, failureDetails: r.failureDetails, customStatus: r.customStatus };
  const s = r.state;
  return {
    ok: true,
    isDone: s.isDone,
    actions: (s.actions ?? []).map((list) => [
      ...list.slice(0, reported).map(signature),
      ...list.slice(reported),
    ]),
    output: s.output,
    customStatus: s.customStatus,
    error: s.error,
    failureDetails: s.failureDetails,
    schemaVersion: s.schemaVersion,
  };
}

export class LiveVerifier {
  constructor(private readonly file: string) {}

  static fromEnvironment(): LiveVerifier | undefined {
    const file = process.env.LIFECOCKPIT_LIVE_VERIFY;
    return file ? new LiveVerifier(file) : undefined;
  }

  /** Records the comparison; true when the live result is the full replay's. */
  /** `reported`: how many actions earlier episodes reported (the host's recorded ones). */
  check(
    instanceId: string,
    name: string,
    reported: number,
    live: EpisodeResult,
    full: EpisodeResult,
  ): boolean {
    const a = JSON.stringify(comparable(live, reported));
    const b = JSON.stringify(comparable(full, reported));
    const match = a === b;
    const line: VerifiedEpisode = match
      ? { instanceId, name, match }
      : { instanceId, name, match, live: JSON.parse(a) as unknown, full: JSON.parse(b) as unknown };
    fs.appendFileSync(this.file, JSON.stringify(line) + '\n');
    return match;
  }
}
