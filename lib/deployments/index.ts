/** Deployments: the manifest and its validation, the records store, and what a failed deployment saga amounts to. */
export * from './manifest';
export * from './store';
export * from './failure';
