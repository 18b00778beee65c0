/**
 * The host's body limits and public name, from the app's settings (local.settings.json Values, or the
 * environment). App routes default to the app's own `API_MAX_BODY_BYTES` (1 MiB when unset); the
 * durable webhooks and rpc endpoint have their own, larger limit, since orchestration inputs and
 * event payloads travel through them.
 */
import { HostStartupError } from '../startupError';
import { isLoopbackName, parseHostHeader } from './hostHeader';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_DURABLE_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface HttpLimits {
  maxBodyBytes: number;
  durableMaxBodyBytes: number;
  /** WEBSITE_HOSTNAME when it names something other than this machine (a proxy's public name). */
  publicHostName: string | undefined;
}

/** `settingsFile` is named in errors: the value came from its Values, or from the environment. */
function refuse(settingsFile: string, name: string, raw: string, allowed: string): never {
  throw new HostStartupError(
    'HOST_CONFIG_INVALID',
    settingsFile,
    `${settingsFile}: Values.${name} (or the environment variable) is ${JSON.stringify(raw)}; it must be ${allowed}.`,
  );
}

function byteLimit(env: NodeJS.ProcessEnv, name: string, fallback: number, settingsFile: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1)
    refuse(settingsFile, name, raw, 'a whole number of bytes above 0');
  return value;
}

export function readHttpLimits(env: NodeJS.ProcessEnv, settingsFile: string): HttpLimits {
  const website = env.WEBSITE_HOSTNAME?.trim();
  const parsed = website ? parseHostHeader(website) : undefined;
  if (website && !parsed)
    refuse(settingsFile, 'WEBSITE_HOSTNAME', website, 'a host name, with an optional :port');
  return {
    maxBodyBytes: byteLimit(env, 'API_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, settingsFile),
    durableMaxBodyBytes: byteLimit(
      env,
      'LIFECOCKPIT_DURABLE_MAX_BODY_BYTES',
      DEFAULT_DURABLE_MAX_BODY_BYTES,
      settingsFile,
    ),
    publicHostName: parsed && !isLoopbackName(parsed.name) ? website : undefined,
  };
}
