/** Opens a slide file lazily (fs.openAsBlob): only the bytes that reads touch are loaded. */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { openSlide } from '../slide/open';
import { slideFingerprint } from '../slide/fingerprint';
import { SlideError, type SlideSource } from '../slide/types';
import { CliError, describeFsError, messageOf } from './args';

export async function openSlideFile(file: string): Promise<SlideSource> {
  let blob: Blob;
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    blob = await openAsBlob(file);
  } catch (err) {
    throw new CliError(file, describeFsError(err));
  }
  try {
    return await openSlide(blob, file);
  } catch (err) {
    if (err instanceof SlideError) throw new CliError(file, err.reason);
    throw new CliError(file, messageOf(err));
  }
}

/** The slide's fingerprint (slide/fingerprint.ts), as the app computes it: saved models carry it. */
export async function slideFileFingerprint(file: string): Promise<string> {
  return slideFingerprint(await openAsBlob(file));
}
