/**
 * Tissue mask of seed 000 (SPEC §1 "Tissue mask"): at 1/20 of full scale,
 * Gaussian blur σ = 10, triangle threshold, fill holes, then morphological
 * reconstruction of the mask from its erosion by a large disk (≈300 px at
 * full scale), which drops detached low-intensity artefacts while keeping the
 * full extent of every piece of tissue big enough to survive the erosion.
 * The last step of the seed (resizing the mask to full scale with Lanczos) is
 * `resizeMask` in ./resize.
 */
import { toGray, type GrayMethod } from './color';
import { gaussianBlur } from './gaussian';
import { checkImage, countForeground, type FloatImage, type Image, type InterleavedImage, type Mask } from './image';
import { binaryErosion, fillHoles, reconstructBinary } from './morphology';
import { downscaleMean, resizeArea } from './resize';
import { histogram, triangleDetails } from './threshold';

/**
 * Which side of the threshold is tissue. 'dark': brightfield (tissue absorbs,
 * glass is bright). 'bright': fluorescence (tissue emits on a dark
 * background). 'auto': the histogram peak (most common value) is background.
 */
export type TissuePolarity = 'dark' | 'bright' | 'auto';

export interface TissueMaskParams {
  /** Gaussian sigma in mask pixels. Default 10 (the seed's value at 1/20 scale). */
  sigma?: number;
  /** Erosion disk radius in mask pixels for the reconstruction seed. Default 15 (300 px / 20). */
  erosionRadius?: number;
  polarity?: TissuePolarity;
  /** Histogram bins for the triangle threshold of the blurred (float) image. Default 256. */
  nbins?: number;
  /**
   * When the erosion removes everything (tissue thinner than the disk), keep
   * the filled mask instead of returning an empty one. Default true; false
   * reproduces the plain pipeline.
   */
  keepIfSeedEmpty?: boolean;
}

export interface TissueMaskResult {
  /** Final mask, 1 = tissue, at the size of the input. */
  mask: Mask;
  blurred: FloatImage;
  /** Triangle threshold on the blurred image (same scale as the input). */
  threshold: number;
  /** Polarity actually used ('auto' resolved). */
  polarity: 'dark' | 'bright';
  thresholded: Mask;
  filled: Mask;
  /** Erosion of `filled`: the reconstruction seed. */
  seed: Mask;
  /** True when the seed was empty and `keepIfSeedEmpty` kept `filled`. */
  seedWasEmpty: boolean;
}

/**
 * The seed's mask pipeline on a grey image already at mask scale (any value
 * scale; the seed uses 0..255). Tissue is `blurred <= threshold` for 'dark'
 * and `blurred > threshold` for 'bright' (skimage's convention that values
 * above the threshold are the foreground class).
 */
export function tissueMask(gray: Image, params: TissueMaskParams = {}): TissueMaskResult {
  checkImage(gray);
  const sigma = params.sigma ?? 10;
  const radius = params.erosionRadius ?? 15;
  const blurred = gaussianBlur(gray, sigma);
  const { threshold, peakAbove } = triangleDetails(histogram(blurred, params.nbins ?? 256));
  const polarity = params.polarity === undefined || params.polarity === 'auto' ? (peakAbove ? 'dark' : 'bright') : params.polarity;
  const n = gray.width * gray.height;
  const above = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const isAbove = blurred.data[i] > threshold;
    above[i] = (polarity === 'bright') === isAbove ? 1 : 0;
  }
  const thresholded: Mask = { data: above, width: gray.width, height: gray.height };
  const filled = fillHoles(thresholded);
  const seed = binaryErosion(filled, radius);
  const seedWasEmpty = countForeground(seed) === 0 && (params.keepIfSeedEmpty ?? true);
  const mask = seedWasEmpty ? { ...filled, data: filled.data.slice() } : reconstructBinary(seed, filled);
  return { mask, blurred, threshold, polarity, thresholded, filled, seed, seedWasEmpty };
}

export interface TissueMaskPipelineOptions extends TissueMaskParams {
  /** Further reduction applied to the given image. Default: 20 / levelDownsample (at least 1). */
  downscale?: number;
  /** Level-0 pixels per pixel of the given image (a pyramid level's downsample). Default 1. */
  levelDownsample?: number;
  /** How colour becomes grey. Default 'luminance' (skimage rgb2gray). */
  grayMethod?: GrayMethod | number;
  /** Erosion radius in level-0 pixels, used when erosionRadius is not given. Default 300. */
  erosionRadiusLevel0?: number;
  /** Gaussian sigma in level-0 pixels, used when sigma is not given. Default 200 (σ = 10 at 1/20). */
  sigmaLevel0?: number;
}

export interface TissueMaskPipelineResult extends TissueMaskResult {
  /** The grey image at mask scale fed to tissueMask. */
  small: FloatImage;
  /** Level-0 pixels per mask pixel (levelDownsample · downscale), per axis. */
  maskDownsampleX: number;
  maskDownsampleY: number;
  erosionRadius: number;
  sigma: number;
}

/**
 * Grey conversion, reduction to mask scale and tissueMask, from a pyramid
 * level (grey or interleaved RGB(A)). An integer `downscale` uses block means
 * (edge blocks average the pixels they hold); a fractional one resizes by
 * area to round(size / downscale). Sigma and erosion radius default to the
 * seed's values expressed in level-0 pixels (200 and 300) divided by
 * levelDownsample·downscale: σ = 10 and r = 15 at the seed's 1/20 scale.
 */
export function tissueMaskPipeline(
  source: Image | InterleavedImage,
  options: TissueMaskPipelineOptions = {},
): TissueMaskPipelineResult {
  const levelDownsample = options.levelDownsample ?? 1;
  const downscale = options.downscale ?? Math.max(1, 20 / levelDownsample);
  if (!(downscale >= 1)) throw new RangeError('downscale must be >= 1');
  const gray =
    'channels' in source && source.channels !== 1
      ? toGray(source, options.grayMethod ?? 'luminance')
      : { data: source.data, width: source.width, height: source.height };
  let small: FloatImage;
  if (Number.isInteger(downscale)) {
    small = downscaleMean(gray, downscale);
  } else {
    const w = Math.max(1, Math.round(gray.width / downscale));
    const h = Math.max(1, Math.round(gray.height / downscale));
    small = resizeArea(gray, w, h);
  }
  const maskDownsampleX = (levelDownsample * gray.width) / small.width;
  const maskDownsampleY = (levelDownsample * gray.height) / small.height;
  const nominal = levelDownsample * downscale;
  const erosionRadius = options.erosionRadius ?? Math.round((options.erosionRadiusLevel0 ?? 300) / nominal);
  const sigma = options.sigma ?? (options.sigmaLevel0 ?? 200) / nominal;
  const result = tissueMask(small, { ...options, sigma, erosionRadius });
  return { ...result, small, maskDownsampleX, maskDownsampleY, erosionRadius, sigma };
}
