import { describe, expect, it } from 'vitest';
import { buildTileCsv, buildTileGeoJson, clusterColours, clusterRanks, ordinalPalette, rampColours, tileColours, type TileTable } from './exports';

// A 3×1 lattice of 10-px tiles; tiles 0 and 2 are kept.
function table(): TileTable {
  return {
    x: Float64Array.from([0, 10, 20]),
    y: Float64Array.from([5, 5, 5]),
    width: Float64Array.from([10, 10, 10]),
    height: Float64Array.from([12, 12, 12]),
    ids: Uint32Array.from([0, 2]),
    latents: Float32Array.from([0.5, -1.25, 3, 4]),
    dim: 2,
    labels: Int32Array.from([1, 0]),
    memberships: Float32Array.from([0.25, 0.75, 0.875, 0.125]),
    k: 2,
  };
}

describe('CSV export', () => {
  it('writes the header and one row per kept tile with its lattice geometry', () => {
    const lines = buildTileCsv(table()).trimEnd().split('\n');
    expect(lines[0]).toBe('tile_id,x,y,width,height,latent_0,latent_1,cluster,membership_0,membership_1');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe('0,0,5,10,12,0.5,-1.25,1,0.25,0.75');
    expect(lines[2]).toBe('2,20,5,10,12,3,4,0,0.875,0.125');
  });

  it('rejects columns of the wrong length', () => {
    expect(() => buildTileCsv({ ...table(), latents: new Float32Array(3) })).toThrow(/latents/);
  });
});

describe('GeoJSON export', () => {
  it('makes closed level-0 polygons classified by rank with QuPath colours', () => {
    const colours = Uint8Array.from([10, 20, 30, 200, 100, 0]);
    const ranks = Int32Array.from([1, 0]);
    const fc = buildTileGeoJson(table(), colours, ranks);
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features).toHaveLength(2);
    const [first, second] = fc.features;
    expect(first.geometry.coordinates).toEqual([[[0, 5], [10, 5], [10, 17], [0, 17], [0, 5]]]);
    expect(first.properties.classification).toEqual({ name: 'Expression 1', color: [200, 100, 0] });
    expect(first.properties.cluster).toBe(1);
    expect(first.properties.membership).toEqual([0.25, 0.75]);
    expect(second.properties.classification).toEqual({ name: 'Expression 2', color: [10, 20, 30] });
    expect(second.geometry.coordinates[0][2]).toEqual([30, 17]);
  });
});

describe('ordinal colours', () => {
  it('ranks clusters along the main axis of the codes', () => {
    // Codes spread along (1, 1); centres at t = 2, -1, 0.5 along that line.
    const latents = new Float32Array(40);
    for (let i = 0; i < 20; i++) {
      const t = i / 4 - 2;
      latents[2 * i] = t;
      latents[2 * i + 1] = t + (i % 2 ? 0.01 : -0.01);
    }
    const centres = Float64Array.from([2, 2, -1, -1, 0.5, 0.5]);
    expect(Array.from(clusterRanks(latents, 2, centres, 3))).toEqual([2, 0, 1]);
    // Flipping every code keeps the axis sign rule: the largest loading stays positive.
    const flipped = latents.map((v) => -v);
    const flippedCentres = centres.map((v) => -v);
    expect(Array.from(clusterRanks(flipped, 2, flippedCentres, 3))).toEqual([0, 2, 1]);
  });

  it('samples the palette from light to dark and maps clusters by rank', () => {
    const palette = ordinalPalette(4);
    const luma = (j: number) => 0.3 * palette[3 * j] + 0.59 * palette[3 * j + 1] + 0.11 * palette[3 * j + 2];
    for (let j = 1; j < 4; j++) expect(luma(j)).toBeLessThan(luma(j - 1));
    const colours = clusterColours(Int32Array.from([3, 0, 1, 2]));
    expect(Array.from(colours.subarray(0, 3))).toEqual(Array.from(palette.subarray(9, 12)));
    expect(Array.from(colours.subarray(3, 6))).toEqual(Array.from(palette.subarray(0, 3)));
  });

  it('fades tiles by membership when asked', () => {
    const colours = Uint8Array.from([255, 0, 0, 0, 0, 255]);
    const rgba = tileColours(Int32Array.from([1, 0]), colours, {
      memberships: Float32Array.from([0.5, 0.5, 1, 0]),
      k: 2,
      membershipAlpha: true,
    });
    expect(Array.from(rgba)).toEqual([0, 0, 255, 0, 255, 0, 0, 255]);
    expect(tileColours(Int32Array.from([1]), colours)[3]).toBe(255);
  });
});

describe('ramp colours', () => {
  it('maps lo → first palette colour and hi → last, clamps outside, greys non-finite values', () => {
    const palette = ordinalPalette(2);
    const out = rampColours([0, 10, -5, 20, NaN, 5], 0, 10);
    expect(Array.from(out.subarray(0, 4))).toEqual([...palette.subarray(0, 3), 255]);
    expect(Array.from(out.subarray(4, 8))).toEqual([...palette.subarray(3, 6), 255]);
    expect(Array.from(out.subarray(8, 12))).toEqual(Array.from(out.subarray(0, 4)));
    expect(Array.from(out.subarray(12, 16))).toEqual(Array.from(out.subarray(4, 8)));
    expect(Array.from(out.subarray(16, 20))).toEqual([128, 128, 128, 255]);
    // The middle of the range is the middle of the palette.
    expect(Array.from(out.subarray(20, 24))).toEqual([...ordinalPalette(3).subarray(3, 6), 255]);
  });
});
