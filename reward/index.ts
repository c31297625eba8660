export * from './segments.js';
export * from './preference-dataset.js';
export * from './reward-model.js';
export * from './surf.js';
export * from './label-source.js';
export * from './feedback.js';
export * from './teachers/index.js';
export * from './query/index.js';
