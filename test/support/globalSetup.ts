/** Starts the services the whole suite shares (Azurite) once, and stops them at the end. */
import { startAzurite, type RunningAzurite } from './azurite';

let azurite: RunningAzurite | undefined;

export async function setup(): Promise<void> {
  azurite = await startAzurite();
  process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
}
