export * from './dense.js';
export * from './init.js';
export * from './mlp.js';
export * from './optim.js';
