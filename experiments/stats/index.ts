/** Benchmark statistics with rliable's definitions. Pure functions: no files, no clocks. */
export * from './basic.js';
export * from './aggregates.js';
export * from './bootstrap.js';
export * from './estimates.js';
export * from './curves.js';
