/** Text formats the slide-info panel shows (and the e2e tests read). */
import type { SlideMetadata } from '../../slide/types';

export function formatSize(width: number, height: number): string {
  return `${Math.round(width)} × ${Math.round(height)} px`;
}

export function formatLevels(count: number): string {
  return count === 1 ? '1 level' : `${count} levels`;
}

/** Levels stored in the file, plus how many the app generated for viewing, e.g. "1 level (+2 generated)". */
export function formatLevelCount(levels: SlideMetadata['levels']): string {
  const generated = levels.filter((level) => level.generated).length;
  const text = formatLevels(levels.length - generated);
  return generated > 0 ? `${text} (+${generated} generated)` : text;
}

export function formatMpp(mpp: number | undefined): string {
  return mpp !== undefined && Number.isFinite(mpp) && mpp > 0 ? `${mpp.toFixed(3)} µm/px` : 'µm/px unknown';
}

export function formatObjective(power: number | undefined): string | null {
  return power !== undefined && Number.isFinite(power) && power > 0 ? `${Number(power.toPrecision(4))}×` : null;
}

export function formatChannels(metadata: Pick<SlideMetadata, 'channels' | 'rgb' | 'dtype'>): string {
  if (metadata.rgb) return `RGB, ${metadata.dtype}`;
  const n = metadata.channels.length;
  return `${n} channel${n === 1 ? '' : 's'}, ${metadata.dtype}`;
}
