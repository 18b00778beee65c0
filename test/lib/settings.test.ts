import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSettings, SettingsError, timerSchedule, transientRetryMinutes } from '../../lib/config/settings';

/** A source file without its comments (they may name process.env to say they never read it). */
function codeOf(file: string): string {
  return fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', DATAVERSE_TOKEN: 'sim-token' };

describe('settings', () => {
  it('reads a resolved webhook secret', () => {
    const settings = readSettings({ ...base, DATAVERSE_WEBHOOK_SECRET: 's3cret-value' });
    expect(settings.webhookAuth).toEqual({ kind: 'WebhookKey', name: 'code', value: 's3cret-value' });
  });

  it('refuses a Key Vault reference the platform left unresolved, naming the setting', () => {
    const reference = '@Microsoft.KeyVault(SecretUri=https://kv-lc.vault.azure.net/secrets/webhook-secret/)';
    expect(() => readSettings({ ...base, DATAVERSE_WEBHOOK_SECRET: reference })).toThrow(SettingsError);
    expect(() => readSettings({ ...base, DATAVERSE_WEBHOOK_SECRET: reference })).toThrow(
      /DATAVERSE_WEBHOOK_SECRET is a Key Vault reference the platform could not resolve/,
    );
  });
});

describe('waiting out outages', () => {
  it('reads how long steps wait and how often a call retries, refusing values the app cannot use', () => {
    expect(readSettings(base)).toMatchObject({
      transientRetryMinutes: 15,
      dataverseRetries: 4,
      graphRetries: 3,
    });
    const set = { ...base, TRANSIENT_RETRY_MINUTES: '30', DATAVERSE_RETRIES: '0', GRAPH_RETRIES: '1' };
    expect(readSettings(set)).toMatchObject({
      transientRetryMinutes: 30,
      dataverseRetries: 0,
      graphRetries: 1,
    });
    expect(transientRetryMinutes(set)).toBe(30);
    expect(() => readSettings({ ...base, TRANSIENT_RETRY_MINUTES: '0' })).toThrow(/TRANSIENT_RETRY_MINUTES/);
    // An activity reporting an outage still reports it: the default stands in for an unusable value.
    expect(transientRetryMinutes({ ...base, TRANSIENT_RETRY_MINUTES: 'soon' })).toBe(15);
  });
});

describe('timer schedules', () => {
  it('come from the settings, with their defaults, and the default stands in for settings the app cannot run with', () => {
    expect(
      timerSchedule('rollbackExpirySchedule', { ...base, ROLLBACK_EXPIRY_SCHEDULE: '0 0 4 * * *' }),
    ).toBe('0 0 4 * * *');
    expect(readSettings(base).rollbackExpirySchedule).toBe('0 30 2 * * *');
    expect(timerSchedule('remindersSchedule', { ...base, REMINDERS_SCHEDULE: '0 0 8 * * *' })).toBe(
      '0 0 8 * * *',
    );
    const unusable = { ...base, API_MAX_BODY_BYTES: 'lots', ROLLBACK_EXPIRY_SCHEDULE: '0 0 4 * * *' };
    expect(timerSchedule('rollbackExpirySchedule', unusable)).toBe('0 30 2 * * *');
  });
});

describe('process.env', () => {
  it('is read by lib/config/settings.ts alone among the app folders', () => {
    const root = path.join(__dirname, '..', '..');
    const readers = ['orchestrators', 'activities', 'triggers', 'lib']
      .flatMap((dir) =>
        fs
          .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
          .filter((f) => f.endsWith('.ts'))
          .map((f) => path.join(dir, f)),
      )
      .filter((file) => /process\.env(?!\.\w+\s*=[^=])/.test(codeOf(path.join(root, file))));
    expect(readers).toEqual([path.join('lib', 'config', 'settings.ts')]);
  });
});
