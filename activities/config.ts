/** Activities of the configuration change saga: read, write a new version, move the pointer. */
import { defineActivity } from '../lib/saga';
import { services } from '../lib/config/services';

export type AppConfig = Record<string, unknown>;

export const readConfig = defineActivity<void, { version: number; value: AppConfig; latest: number } | null>(
  'config_read',
  async () => {
    const config = services().config;
    const current = await config.current();
    // After a rollback the pointer is behind the newest version: new versions number from the newest.
    const latest = (await config.versions()).at(-1) ?? 0;
    return current ? { version: current.version, value: current.value, latest } : null;
  },
);

export const writeConfigVersion = defineActivity<
  { value: AppConfig; version: number; instanceId: string; at: string },
  number
>('config_write', ({ value, version, instanceId, at }) =>
  services().config.write(value, at, instanceId, version),
);

export const activateConfigVersion = defineActivity<
  { version: number; expected?: number; instanceId: string; at: string },
  { version: number }
>('config_activate', async ({ version, expected, instanceId, at }) => {
  const pointer = await services().config.activate(version, at, instanceId, expected);
  return { version: pointer.version };
});
