/** Dataverse webhook deliveries: the event a delivery carries, and the flow it starts. */
export * from './event';
export * from './routes';
