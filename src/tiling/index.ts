/** Tile lattices over slides, tissue fractions, regions of interest and lasso selection. */
export * from './polygon';
export * from './tile-grid';
