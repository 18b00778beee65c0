/** Rollback points: their shape, their store, and the dependency rule between them. */
export * from './types';
export * from './store';
export * from './plan';
export * from './recordsGone';
export * from './lookupTargetGone';
