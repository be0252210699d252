import { createMemorySource } from '../../slide/formats/memory-source';
import { generateHeNuclei } from '../../synthetic/he-nuclei';
import { RGB_CHANNELS } from '../../slide/formats/tiff-source';

/**
 * For the tests: the project's synthetic H&E (0.5 µm/px) as a slide source,
 * with its nucleus centres as point annotations. The generator centres pixel
 * (i, j) on (i, j); detections and annotations use pixel centres at +0.5.
 */
export function syntheticHeSlide(seed: number, size: number) {
  const image = generateHeNuclei({ width: size, height: size, seed });
  const source = createMemorySource(
    { data: image.rgb, width: size, height: size, channels: 3, dtype: 'uint8' },
    {
      name: `synthetic-he-${seed}`,
      format: 'synthetic',
      channels: RGB_CHANNELS,
      rgb: true,
      mppX: 0.5,
      mppY: 0.5,
      properties: {},
    },
  );
  const x = Float64Array.from({ length: image.centres.length / 2 }, (_, i) => image.centres[2 * i] + 0.5);
  const y = Float64Array.from({ length: image.centres.length / 2 }, (_, i) => image.centres[2 * i + 1] + 0.5);
  return { source, points: { x, y } };
}
