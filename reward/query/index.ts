export * from './query.js';
export * from './select.js';
export { uniformQueries } from './uniform.js';
export { disagreementQueries, disagreementScores } from './disagreement.js';
export { entropyQueries, entropyScores } from './entropy.js';
export { kCenterQueries, greedyKCenter, pairObsFeatures, kCenterAmong, distanceToLabelled } from './k-center.js';
export { kCenterDisagreementQueries } from './k-center-disagreement.js';
export { kCenterEntropyQueries } from './k-center-entropy.js';
