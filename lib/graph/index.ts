/** The Microsoft Graph client, its typed errors and the message shapes the app sends. */
export * from './client';
export * from './errors';
export * from './types';
