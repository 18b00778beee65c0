/**
 * Reads an app's host.json and local.settings.json into the few values the local host needs,
 * with the Functions host's defaults, and refuses (HostStartupError HOST_CONFIG_INVALID, one line
 * naming the file and the key) a value the host would hang or misbehave on. Never writes either file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonFields } from './settingsFields';
import { HostStartupError, reason, systemCode } from './startupError';

export interface LocalSettings {
  Values?: Record<string, string>;
  Host?: { LocalHttpPort?: number };
  Keys?: Record<string, string>;
}

export interface HostConfig {
  routePrefix: string;
  hubName: string;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
  /** host.json functionTimeout in ms; undefined when unlimited ("-1"). */
  functionTimeoutMs?: number;
}

/** A settings file's JSON; undefined when there is no such file (the defaults then apply). */
export function readSettingsFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (systemCode(err) === 'ENOENT') return undefined;
    throw new HostStartupError('HOST_CONFIG_INVALID', file, `${file} cannot be read: ${reason(err)}`, {
      cause: err,
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HostStartupError('HOST_CONFIG_INVALID', file, `${file} is not valid JSON: ${reason(err)}`, {
      cause: err,
    });
  }
}

export function readLocalSettings(appDir: string): LocalSettings {
  const file = path.join(appDir, 'local.settings.json');
  const json = JsonFields.of(file, readSettingsFile(file));
  const settings: LocalSettings = {};
  if (json.raw('Values') !== undefined)
    settings.Values = appSettings(json.section('Values', { secret: true }));
  if (json.raw('Host') !== undefined) {
    const port = json.section('Host').wholeNumber('LocalHttpPort', 0, 65_535);
    settings.Host = port === undefined ? {} : { LocalHttpPort: port };
  }
  if (json.raw('Keys') !== undefined) settings.Keys = hostKeys(json.section('Keys', { secret: true }));
  return settings;
}

/**
 * Values become environment variables, so each is text. Numbers and booleans are written as text
 * (`func` reads them that way too); null is taken as "not set" rather than the text "null"; an
 * object or array has no text form and is refused.
 */
function appSettings(values: JsonFields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of values.keys()) {
    const value = values.raw(name);
    if (value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      throw values.invalid(name, 'a string, number or boolean');
    out[name] = String(value);
  }
  return out;
}

/**
 * An empty key is refused rather than skipped: the line says a key was meant to be set, and
 * silently generating another (or storing the empty one in keys.json) would leave every caller
 * that uses the configured value locked out without a word.
 */
function hostKeys(keys: JsonFields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of keys.keys())
    out[name] = keys.string(name, {
      nonEmpty: true,
      allowed: 'a non-empty string (remove the line to have the host generate this key)',
    }) as string;
  return out;
}

/** Azure Storage's task hub rule, or an app setting reference (%Name%), which is kept as written. */
const HUB_NAME = /^(?:[A-Za-z][A-Za-z0-9]{2,44}|%[^%]+%)$/;

export function readHostConfig(appDir: string): HostConfig {
  const file = path.join(appDir, 'host.json');
  const json = JsonFields.of(file, readSettingsFile(file));
  const http = json.section('extensions').section('http');
  const durable = json.section('extensions').section('durableTask');
  const cores = os.cpus().length || 1;
  return {
    routePrefix: (http.string('routePrefix') ?? 'api').replace(/^\/+|\/+$/g, ''),
    hubName:
      durable.string('hubName', {
        pattern: HUB_NAME,
        allowed: '3 to 45 letters and digits starting with a letter (e.g. "MyAppHub")',
      }) ?? 'TestHubName',
    // The extension's defaults are 10 x processor count for both. Zero would take work and never run it.
    maxConcurrentActivityFunctions: durable.wholeNumber('maxConcurrentActivityFunctions', 1) ?? 10 * cores,
    maxConcurrentOrchestratorFunctions:
      durable.wholeNumber('maxConcurrentOrchestratorFunctions', 1) ?? 10 * cores,
    functionTimeoutMs: functionTimeout(json),
  };
}

function functionTimeout(json: JsonFields): number | undefined {
  const allowed = 'a TimeSpan longer than zero like "00:05:00", or "-1" for no limit';
  const text = json.string('functionTimeout', { allowed });
  if (text === undefined || text === '-1') return undefined;
  const ms = parseTimeSpan(text);
  if (ms === undefined || ms <= 0) throw json.invalid('functionTimeout', allowed);
  return ms;
}

/** .NET TimeSpan text ("[d.]hh:mm:ss[.fff]") in ms; undefined when the text is not one. */
export function parseTimeSpan(text: string): number | undefined {
  const m = /^(?:(\d+)\.)?(\d{1,2}):([0-5]\d):([0-5]\d)(?:\.(\d{1,7}))?$/.exec(text.trim());
  if (!m) return undefined;
  const [, days, h, min, sec, frac] = m;
  const ms = ((Number(days ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(sec) * 1000;
  return ms + (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0);
}
