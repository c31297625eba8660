export * from './rng.js';
export * from './spaces.js';
export * from './types.js';
export * from './serialize.js';
