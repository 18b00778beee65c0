/**
 * The Node arguments the local host's process runs with: `blc up` starts `blc serve` with them, the
 * container image's command carries them, and the bench re-runs itself with them, so that what is
 * measured is what runs.
 *
 * A young generation of 2 x 32 MB instead of Node 20's 2 x 16 MB. Under a steady load each
 * orchestration step allocates some 46 KB that is dead by the end of its episode; with the default
 * size scavenges come often enough to catch much of it still alive and promote it, and the old space
 * then needs a full mark-compact (13-23 ms, with everything waiting) about once a second. Those
 * pauses, not the engine's work, made the p99 step delay under paced load. The price is up to 32 MB
 * more memory and fewer, somewhat longer scavenges.
 *
 * V8 reads the size when the process starts (setting it later has no effect), so it has to be an
 * argument. On Azure the app's code runs in the Functions Node worker, whose arguments come from the
 * app setting `languageWorkers__node__arguments`.
 */
export const HOST_NODE_ARGUMENTS: readonly string[] = ['--max-semi-space-size=32'];

/** The host's arguments this process was not started with (in its arguments or NODE_OPTIONS). */
export function missingHostArguments(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map((a) => a.split('=')[0]));
  return HOST_NODE_ARGUMENTS.filter((a) => !given.has(a.split('=')[0]));
}
