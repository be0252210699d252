export * from './architecture';
export * from './model';
export * from './losses';
export * from './dec';
