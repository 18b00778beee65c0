/**
 * `blc invoke <function> [--input TEXT]`: runs a timer-, queue- or blob-triggered function now
 * through the host's admin API (`POST /admin/functions/{name}`, master key), as one would with
 * `func start` or on Azure. Under `--virtual-time` this is how a timer trigger runs at all.
 */
import { BlcError } from '../apiClient';
import { COMMON_HELP, parse, positionals, str } from '../args';
import { json, print } from '../output';
import type { Command } from './types';

const HELP = `Usage: blc invoke <function> [--input TEXT]

Runs a non-HTTP function now (a timer trigger as its schedule would; a queue or blob trigger with
TEXT as the message or blob path), through POST /admin/functions/<function>. The host answers at
once (202); the function's outcome is in the host's log.

  --input TEXT  What the trigger receives (default: nothing)

The admin API takes the master key: --key, else $BLC_MASTER_KEY, else (for an app on this
machine) the local host's own master key.

${COMMON_HELP}`;

async function invokeRun(argv: string[]): Promise<number> {
  const p = parse(argv, { input: { type: 'string' } });
  if (p.help) {
    print(HELP);
    return 0;
  }
  const [name] = positionals(p, ['function'], 'blc invoke <function> [--input TEXT]');
  const input = str(p, 'input');
  try {
    await p.adminClient().request('POST', `admin/functions/${encodeURIComponent(name)}`, {
      hostRoute: true,
      body: input === undefined ? {} : { input },
    });
  } catch (err) {
    if (err instanceof BlcError && err.status === 401)
      throw new BlcError(
        1,
        err.code,
        `${err.message} Give the master key with --key or BLC_MASTER_KEY (a function key is not enough).`,
        401,
      );
    throw err;
  }
  print(
    p.json ? json({ function: name, accepted: true }) : `Invoked ${name}; its outcome is in the host's log.`,
  );
  return 0;
}

export const invokeCommand: Command = {
  summary: 'Run a timer-, queue- or blob-triggered function now (admin API, master key)',
  run: invokeRun,
};
