/**
 * Long-lived browser services of the app, created on first use: the decoder
 * pool. Kept out of the store so the store stays plain data.
 */
import { DecoderPool } from '../workers/decoder-pool';
import { appStore } from '../store';

let pool: DecoderPool | undefined;

export function getDecoderPool(): DecoderPool {
  pool ??= new DecoderPool({
    onCrash: (message) => appStore.getState().pushAlert(message, { level: 'warning' }),
    disposeImage: (bitmap) => bitmap.close(),
  });
  return pool;
}
