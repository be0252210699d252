// `npm run eval`: the app's Vite/Vitest configuration (module resolution,
// wasm ?url imports, workers) with only the evaluation entry and no time
// limit (a full run takes hours).
import { defineConfig } from 'vite';
import appConfig from '../vite.config';

export default defineConfig({
  ...appConfig,
  test: {
    ...appConfig.test,
    // Replaced, not merged: mergeConfig would append to the app's test list.
    include: ['eval/run.eval.ts'],
    testTimeout: 0,
    hookTimeout: 0,
    // Progress lines reach the terminal as they are written.
    disableConsoleIntercept: true,
    // One worker: the variants run one after the other and time themselves.
    fileParallelism: false,
  },
});
