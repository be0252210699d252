export * from './defaults';
export * from './model';
export * from './losses';
export * from './preprocess';
