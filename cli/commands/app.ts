/**
 * `blc version` (this CLI's version, and the app's when a URL is given through --url or BLC_URL)
 * and `blc auth test` (can the app authenticate to Dataverse and Graph; exit 1 when one fails).
 */
import { BlcError } from '../apiClient';
import { COMMON_HELP, parse, positionals, urlGiven } from '../args';
import { fields, json, print, table } from '../output';
import { version } from '../version';
import type { Command } from './types';

async function versionRun(argv: string[]): Promise<number> {
  const p = parse(argv);
  if (p.help) {
    print(
      `Usage: blc version [--url URL]\n\nPrints this CLI's version; with a URL, also the app's.\n\n${COMMON_HELP}`,
    );
    return 0;
  }
  positionals(p, [], 'blc version');
  if (!urlGiven(p)) {
    print(p.json ? json({ cli: version() }) : version());
    return 0;
  }
  const app = (await p.client().get('version')).body as {
    name?: string;
    version?: string;
    node?: string;
    host?: Record<string, unknown>;
  };
  if (p.json) print(json({ cli: version(), app }));
  else
    print(
      fields([
        ['blc', version()],
        ['app', `${app.name ?? '?'} ${app.version ?? '?'}`],
        ['node', app.node],
        ...Object.entries(app.host ?? {}).map(([k, v]): [string, unknown] => [k, v]),
      ]),
    );
  return 0;
}

interface AuthPart {
  state: string;
  code?: string;
  message?: string;
  [key: string]: unknown;
}

async function authRun(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const p = parse(rest);
  if (action === '--help' || action === '-h' || p.help || action === undefined) {
    print(
      `Usage: blc auth test\n\nAsks the app whether it can authenticate to Dataverse and Microsoft Graph, and as whom.\n\n${COMMON_HELP}`,
    );
    return action === undefined ? 2 : 0;
  }
  if (action !== 'test') throw BlcError.usage(`unknown auth action '${action}'; use: blc auth test`);
  positionals(p, [], 'blc auth test');
  const answer = await p.client().get<Record<string, AuthPart>>('auth/test', { accept: [503] });
  const parts = Object.entries(answer.body);
  if (p.json) print(json(answer.body));
  else
    print(
      table(parts, [
        { header: 'service', value: ([name]) => name },
        { header: 'state', value: ([, part]) => part.state },
        {
          header: 'details',
          value: ([, part]) => {
            const rest = Object.entries(part).filter(([k]) => k !== 'state');
            return part.state === 'ok'
              ? rest.map(([k, v]) => `${k}=${v === null ? '-' : String(v)}`).join(' ')
              : `${part.code ?? ''}: ${part.message ?? ''}`;
          },
        },
      ]),
    );
  const failed = parts.filter(([, part]) => part.state !== 'ok');
  if (failed.length)
    throw new BlcError(
      1,
      'AUTH_FAILED',
      failed.map(([name, part]) => `${name}: ${part.code ?? 'FAILED'}: ${part.message ?? ''}`).join('; '),
    );
  return 0;
}

export const versionCommand: Command = {
  summary: "Print blc's version (and the app's, with --url)",
  run: versionRun,
};
export const authCommand: Command = {
  summary: 'auth test: can the app reach Dataverse and Graph',
  run: authRun,
};
