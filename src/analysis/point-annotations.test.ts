import { describe, expect, it } from 'vitest';
import {
  PointAnnotationError,
  parsePointAnnotations,
  parsePointsCsv,
  parsePointsGeoJson,
  type PointAnnotations,
} from './point-annotations';

function pairs(points: PointAnnotations): [number, number][] {
  return Array.from(points.x, (x, i) => [x, points.y[i]]);
}

/** The PointAnnotationError thrown by `run`. */
function errorOf(run: () => unknown): PointAnnotationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PointAnnotationError);
    return error as PointAnnotationError;
  }
  throw new Error('expected an error');
}

describe('parsePointsCsv', () => {
  it('reads headerless and headed files, commas or tabs, extra columns, CRLF, blanks and comments', () => {
    expect(pairs(parsePointsCsv('10,20\n30.5,-4e1\n'))).toEqual([
      [10, 20],
      [30.5, -40],
    ]);
    expect(pairs(parsePointsCsv('\uFEFFx,y\r\n1,2\r\n\r\n3,4'))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    // Columns found by name, in any order and case; the rest ignored.
    expect(pairs(parsePointsCsv('# exported\nid\tClass\tY\tX\n7\tTumor, grade 2\t5\t6\n8\tStroma\t7.5\t8.25\n'))).toEqual([
      [6, 5],
      [8.25, 7.5],
    ]);
    expect(pairs(parsePointsCsv('name,x,y,score\n"cell, big",1,2,0.9\n"say ""hi""", 3 , 4 ,\n'))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parsePointsCsv('x,y\n').x.length).toBe(0);
    expect(parsePointsCsv('').x.length).toBe(0);
  });

  it('names the line and the reason when something is wrong', () => {
    const bad = errorOf(() => parsePointsCsv('x,y\n1,2\n\n3,abc\n', { source: 'cells.csv' }));
    expect(bad.message).toBe("cells.csv, line 4: y value 'abc' is not a number");
    expect(bad.line).toBe(4);
    expect(errorOf(() => parsePointsCsv('1,2\n3\n')).message).toBe('line 2: has 1 field, but the x and y columns need 2');
    expect(errorOf(() => parsePointsCsv('a,b,x\n1,2,3\n')).message).toMatch(/^line 1: expected a header naming columns 'x' and 'y'.*'a', 'b', 'x'/);
    expect(errorOf(() => parsePointsCsv('1;2\n')).message).toMatch(/not semicolons/);
    expect(errorOf(() => parsePointsCsv('x,y\n,3\n')).message).toBe('line 2: x is empty');
    expect(errorOf(() => parsePointsCsv('x,y\n0x10,3\n')).message).toBe("line 2: x value '0x10' is not a number");
    expect(errorOf(() => parsePointsCsv('x,y\n1e999,3\n')).message).toBe("line 2: x value '1e999' is out of range");
    expect(errorOf(() => parsePointsCsv('x,y\n"1,2\n')).message).toBe('line 2: has an unterminated quoted field');
    expect(errorOf(() => parsePointsCsv('x,y\n"1"2,3\n')).message).toBe("line 2: has text after a closing quote: '2'");
  });
});

describe('parsePointsGeoJson', () => {
  const square = [
    [10, 10],
    [20, 10],
    [20, 20],
    [10, 20],
    [10, 10],
  ];

  it('reads Points, MultiPoints and polygon centroids from a FeatureCollection', () => {
    const collection = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', geometry: { type: 'Point', coordinates: [1.5, 2.5] }, properties: {} },
        { type: 'Feature', geometry: { type: 'MultiPoint', coordinates: [[3, 4], [5, 6, 0]] }, properties: { objectType: 'annotation' } },
        { type: 'Feature', geometry: { type: 'Polygon', coordinates: [square] } },
        { type: 'Feature', geometry: null, properties: { note: 'unlocated, skipped' } },
      ],
    };
    expect(pairs(parsePointsGeoJson(JSON.stringify(collection)))).toEqual([
      [1.5, 2.5],
      [3, 4],
      [5, 6],
      [15, 15],
    ]);
  });

  it('takes area centroids: L-shapes, holes, either winding, open rings, far from the origin, MultiPolygons', () => {
    const centroid = (geometry: object) => pairs(parsePointsGeoJson(geometry))[0];
    // L-shape of a 2×1 and a 1×1 box: area 3, centroid ((1·2 + 0.5·1)/3, (0.5·2 + 1.5·1)/3).
    const lShape = [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]];
    const [lx, ly] = centroid({ type: 'Polygon', coordinates: [lShape] });
    expect(lx).toBeCloseTo(2.5 / 3, 12);
    expect(ly).toBeCloseTo(2.5 / 3, 12);
    // Clockwise ring, same result.
    expect(centroid({ type: 'Polygon', coordinates: [[...lShape].reverse()] })[0]).toBeCloseTo(2.5 / 3, 12);
    // 10×10 square with a 5×5 hole in one corner: (150·... ) computed by hand:
    // square area 100 at (15,15), hole area 25 at (17.5,17.5) → (1500 − 437.5)/75.
    const hole = [[15, 15], [20, 15], [20, 20], [15, 20], [15, 15]];
    const [hx, hy] = centroid({ type: 'Polygon', coordinates: [square, hole] });
    expect(hx).toBeCloseTo((1500 - 437.5) / 75, 10);
    expect(hy).toBeCloseTo((1500 - 437.5) / 75, 10);
    // Far from the origin (whole-slide coordinates), small nucleus outline.
    const far = square.map(([x, y]) => [x + 98_765.25, y + 54_321.5]);
    const [fx, fy] = centroid({ type: 'Polygon', coordinates: [far] });
    expect(fx).toBeCloseTo(98_780.25, 9);
    expect(fy).toBeCloseTo(54_336.5, 9);
    // Two squares of areas 100 and 4: one point, area-weighted.
    const small = [[0, 0], [2, 0], [2, 2], [0, 2]];
    const [mx] = centroid({ type: 'MultiPolygon', coordinates: [[square], [small]] });
    expect(mx).toBeCloseTo((100 * 15 + 4 * 1) / 104, 12);
    // Zero area (all vertices on a line): mean of the vertices.
    expect(centroid({ type: 'Polygon', coordinates: [[[0, 0], [3, 0], [6, 0], [0, 0]]] })).toEqual([3, 0]);
  });

  it('reads QuPath exports: bare feature arrays, cells by their nucleus, MultiPoint point annotations', () => {
    const qupath = [
      {
        type: 'Feature',
        id: 'a1b2',
        geometry: { type: 'Polygon', coordinates: [[[0, 0], [40, 0], [40, 40], [0, 40], [0, 0]]] },
        nucleusGeometry: { type: 'Polygon', coordinates: [square] },
        properties: { objectType: 'cell' },
      },
      { type: 'Feature', geometry: { type: 'MultiPoint', coordinates: [[100.5, 200.5]] }, properties: { objectType: 'annotation' } },
    ];
    expect(pairs(parsePointsGeoJson(JSON.stringify(qupath, null, 2)))).toEqual([
      [15, 15],
      [100.5, 200.5],
    ]);
    expect(pairs(parsePointsGeoJson({ type: 'Feature', geometry: { type: 'Point', coordinates: [1, 2] } }))).toEqual([[1, 2]]);
    expect(
      pairs(
        parsePointsGeoJson({
          type: 'GeometryCollection',
          geometries: [
            { type: 'Point', coordinates: [1, 2] },
            { type: 'Polygon', coordinates: [square] },
          ],
        }),
      ),
    ).toEqual([
      [1, 2],
      [15, 15],
    ]);
  });

  it('names the feature and the reason when something is wrong', () => {
    const collection = (geometry: unknown, extra: object = {}) =>
      JSON.stringify({
        type: 'FeatureCollection',
        features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [0, 0] } }, { type: 'Feature', geometry, ...extra }],
      });
    const line = errorOf(() =>
      parsePointsGeoJson(collection({ type: 'LineString', coordinates: [[0, 0], [1, 1]] }, { id: 7 }), { source: 'gt.geojson' }),
    );
    expect(line.message).toBe('gt.geojson, feature 1 (id 7): is a LineString, which is neither a point nor an outline');
    expect(line.feature).toBe(1);
    expect(errorOf(() => parsePointsGeoJson(collection({ type: 'Point', coordinates: [1, 'a'] }))).message).toBe(
      'feature 1: Point coordinates is not [x, y] with finite numbers: [1,"a"]',
    );
    expect(errorOf(() => parsePointsGeoJson(collection({ type: 'Polygon', coordinates: [[[0, 0], [1, 1], [0, 0]]] }))).message).toBe(
      'feature 1: Polygon ring 0 has 2 distinct positions, an outline needs at least 3',
    );
    expect(
      errorOf(() => parsePointsGeoJson(collection({ type: 'MultiPolygon', coordinates: [[square], [[square[0], [1, null], [2, 2]]]] }))).message,
    ).toBe('feature 1: MultiPolygon part 1 ring 0 position 1 is not [x, y] with finite numbers: [1,null]');
    expect(errorOf(() => parsePointsGeoJson(collection({ type: 'Circle', coordinates: [0, 0] }))).message).toBe(
      "feature 1: has an unknown geometry type 'Circle'",
    );
    expect(errorOf(() => parsePointsGeoJson(collection(undefined))).message).toBe("feature 1: has no 'geometry'");
    expect(errorOf(() => parsePointsGeoJson('{"type":"FeatureCollection"}')).message).toBe("FeatureCollection has no 'features' array");
    expect(errorOf(() => parsePointsGeoJson('{"a": 1}')).message).toMatch(/expected a GeoJSON FeatureCollection/);
    // A JSON syntax error on line 3.
    const broken = errorOf(() => parsePointsGeoJson('{\n  "type": "FeatureCollection",\n  "features": [,]\n}', { source: 'x.json' }));
    expect(broken.message).toMatch(/^x\.json, line 3: not valid JSON/);
    expect(broken.line).toBe(3);
    // Other kinds of syntax errors, located by line.
    const lineOf = (text: string) => errorOf(() => parsePointsGeoJson(text)).line;
    expect(lineOf('{"type": "Point",\n "coordinates": [1, 2]\n\n')).toBe(4); // unclosed object
    expect(lineOf('[\n{"a": tru}\n]')).toBe(2);
    expect(lineOf('[\n"tab\tinside"]')).toBe(2);
    expect(lineOf('{"x": 1}\n\nextra')).toBe(3);
    expect(lineOf('{"x": 01}')).toBe(1);
  });
});

describe('parsePointAnnotations', () => {
  it('chooses the format from the option, the file name or the text', () => {
    const json = '{"type":"Point","coordinates":[1,2]}';
    expect(pairs(parsePointAnnotations(json))).toEqual([[1, 2]]);
    expect(pairs(parsePointAnnotations('  [ ]'))).toEqual([]);
    expect(pairs(parsePointAnnotations('3,4', { source: 'points.csv' }))).toEqual([[3, 4]]);
    expect(pairs(parsePointAnnotations('x\ty\n5\t6', { source: 'points.TSV' }))).toEqual([[5, 6]]);
    expect(pairs(parsePointAnnotations(json, { source: 'gt.geojson' }))).toEqual([[1, 2]]);
    expect(() => parsePointAnnotations(json, { format: 'csv' })).toThrow(PointAnnotationError);
  });
});
