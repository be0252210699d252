/**
 * `synth-cish`: writes the procedural CISH slide (src/synthetic) as a tiled,
 * pyramidal BigTIFF so the app and `analyze` can open it like a scan.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { SyntheticCishSlide } from '../synthetic/cish-slide';
import { CliError, OptionReader, atPath, describeFsError, messageOf, parseCommandArgs } from './args';
import { ProgressReporter } from './progress';
import { writeTiledTiff } from './tiff-writer';
import type { CliIO } from './io';

export const SYNTH_USAGE = `Usage: tilescope synth-cish --out FILE.tif [options]

Writes a synthetic CISH slide with known expression bands (src/synthetic/cish-slide.ts)
as a tiled pyramidal BigTIFF (RGB, Deflate, 0.5 µm/px by default).

Options:
  --out FILE        output TIFF (required)
  --width N         level-0 width in px (default 24000)
  --height N        level-0 height in px (default 16000)
  --levels N        ordinal expression levels, 0 = no signal (default 5)
  --seed S          seed of the slide (default 1)
  --mpp N           µm per pixel (default 0.5)
  --tile N          TIFF tile side, multiple of 16 (default 512)
  --compression C   deflate (default) or none
  --quiet           no progress lines
  -h, --help        show this help`;

const OPTIONS = {
  out: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  levels: { type: 'string' },
  seed: { type: 'string' },
  mpp: { type: 'string' },
  tile: { type: 'string' },
  compression: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runSynth(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS, SYNTH_USAGE);
  const o = new OptionReader(values, SYNTH_USAGE);
  if (o.flag('help')) {
    io.stdout(SYNTH_USAGE + '\n');
    return 0;
  }
  const out = o.required('out');
  const width = o.number('width', 24000, { min: 64, max: 1_000_000, integer: true });
  const height = o.number('height', 16000, { min: 64, max: 1_000_000, integer: true });
  const levels = o.number('levels', 5, { min: 2, max: 64, integer: true });
  const seed = o.number('seed', 1, { integer: true });
  const mpp = o.number('mpp', 0.5, { min: 0, exclusiveMin: true });
  const tileSize = o.number('tile', 512, { min: 16, max: 4096, integer: true });
  if (tileSize % 16 !== 0) throw new CliError(out, `--tile must be a multiple of 16, got ${tileSize}`);
  const compression = o.choice('compression', ['deflate', 'none'] as const, 'deflate');
  const progress = new ProgressReporter(io.stderr, { quiet: o.flag('quiet') });

  const slide = new SyntheticCishSlide({ width, height, levels, seed, mpp, name: path.basename(out) });
  const pyramid = slide.metadata.levels.map((info, level) => ({
    width: info.width,
    height: info.height,
    read: async (x: number, y: number, w: number, h: number) =>
      (await slide.readRegion({ level, x, y, width: w, height: h })).data as Uint8Array,
  }));
  await atPath(out, () => mkdir(path.dirname(path.resolve(out)), { recursive: true }));
  progress.begin('synth-cish', `${width} × ${height} px, ${pyramid.length} pyramid levels, ${compression}`);
  try {
    await writeTiledTiff(out, pyramid, {
      tileSize,
      compression,
      mpp,
      software: 'tilescope synth-cish',
      description: `tilescope synthetic CISH slide; seed=${seed}; levels=${levels}; bands=${slide.bandLevels.join(',')}`,
      onProgress: (done, total) => progress.update(done, total, `${done}/${total} tiles`),
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CliError(out, code ? describeFsError(err) : messageOf(err));
  }
  progress.end();
  io.stdout(`${out}: ${width} × ${height} px, ${pyramid.length} levels, expression bands left→right ${slide.bandLevels.join(',')}\n`);
  return 0;
}
