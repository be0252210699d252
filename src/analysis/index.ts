/** Pure analysis functions over columnar typed arrays (no DOM; runs in workers, tests and Node). */
export * from './points';
export * from '../util/random';
export * from './fcm';
export * from './kmeans';
export * from './hungarian';
export * from './metrics';
export * from './pca';
