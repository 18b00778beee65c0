/**
 * Starts a real Azurite blob service for the tests, on a loopback port the OS picks, in memory,
 * the same way `blc up` does. Used by vitest's global setup so every test file shares one instance
 * through AZURE_STORAGE_CONNECTION_STRING.
 */
import path from 'node:path';
import { startLocalAzurite, type LocalAzurite } from '../../cli/up/azurite';

export type RunningAzurite = LocalAzurite;

export async function startAzurite(): Promise<RunningAzurite> {
  return startLocalAzurite({ projectRoot: path.resolve(__dirname, '../..'), port: 0 });
}
