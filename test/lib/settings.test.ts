import { describe, expect, it } from 'vitest';
import { readSettings, SettingsError } from '../../lib/config/settings';

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
