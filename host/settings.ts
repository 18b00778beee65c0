/**
 * Reads an app's host.json and local.settings.json into the few values the local host needs,
 * with the Functions host's defaults. Never writes either file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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

function readJson(file: string): unknown {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

export function readLocalSettings(appDir: string): LocalSettings {
  return (readJson(path.join(appDir, 'local.settings.json')) as LocalSettings | undefined) ?? {};
}

export function readHostConfig(appDir: string): HostConfig {
  const json = (readJson(path.join(appDir, 'host.json')) ?? {}) as {
    functionTimeout?: string;
    extensions?: {
      http?: { routePrefix?: string };
      durableTask?: {
        hubName?: string;
        maxConcurrentActivityFunctions?: number;
        maxConcurrentOrchestratorFunctions?: number;
      };
    };
  };
  const durable = json.extensions?.durableTask ?? {};
  const cores = os.cpus().length || 1;
  return {
    routePrefix: (json.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, ''),
    hubName: durable.hubName ?? 'TestHubName',
    // The extension's defaults are 10 x processor count for both.
    maxConcurrentActivityFunctions: durable.maxConcurrentActivityFunctions ?? 10 * cores,
    maxConcurrentOrchestratorFunctions: durable.maxConcurrentOrchestratorFunctions ?? 10 * cores,
    functionTimeoutMs: parseTimeSpan(json.functionTimeout),
  };
}

/** .NET TimeSpan text ("[d.]hh:mm:ss[.fff]") in ms; "-1" or absent means no limit. */
export function parseTimeSpan(text: string | undefined): number | undefined {
  if (text === undefined || text === '-1') return undefined;
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(text.trim());
  if (!m) throw new Error(`host.json functionTimeout '${text}' is not a TimeSpan like 00:05:00.`);
  const [, days, h, min, sec, frac] = m;
  const ms = ((Number(days ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(sec) * 1000;
  return ms + (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0);
}
