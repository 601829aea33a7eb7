export * from './catch-up-lag';
export * from './kappa-replay';
export * from './serving-view';
