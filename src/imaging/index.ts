/**
 * Pure image-processing functions over typed arrays (no DOM): they run in
 * workers, in Node and in tests. See ./image for the pixel conventions.
 */
export * from './image';
export * from './color';
export * from './gaussian';
export * from './threshold';
export * from './morphology';
export * from './resize';
export * from './median';
export * from './clahe';
export * from './tissueMask';
export * from './stain';
