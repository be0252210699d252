export * from './architecture';
export * from './layers';
export * from './model';
export * from './losses';
