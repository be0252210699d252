/** Text formats the slide-info panel shows (and the e2e tests read). */
import type { SlideMetadata } from '../../slide/types';

export function formatSize(width: number, height: number): string {
  return `${Math.round(width)} × ${Math.round(height)} px`;
}

export function formatLevels(count: number): string {
  return count === 1 ? '1 level' : `${count} levels`;
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
