/**
 * Ground-truth point annotations (nucleus centres) from CSV or GeoJSON
 * files, as level-0 pixel coordinates in columnar arrays.
 *
 * Coordinates are returned exactly as the file states them. QuPath (and the
 * viewer and detectPoints here) use continuous pixel coordinates, in which
 * pixel (c, r) covers [c, c+1) × [r, r+1) and its centre is (c + 0.5, r + 0.5);
 * tools that write integer pixel indices are half a pixel off that, which is
 * negligible next to the 6 px matching radius.
 *
 * CSV (parsePointsCsv)
 * - Separator: a tab if the first data line has one, otherwise a comma.
 * - Header: optional. When the first line's first two fields are numbers
 *   there is no header and the columns are x, y. Otherwise the first line is
 *   a header that must name an `x` and a `y` column (any case, any position).
 * - Extra columns are ignored; fields may be double-quoted ("" inside quotes
 *   is a quote; quoted fields cannot span lines).
 * - Blank lines and lines starting with # are skipped.
 * - Values are decimal numbers (1, -2.5, 3e2); anything else is an error.
 *
 * GeoJSON (parsePointsGeoJson)
 * - A FeatureCollection, a single Feature, a bare array of Features (older
 *   QuPath exports) or a bare geometry.
 * - Point → one point; MultiPoint → one point per position (QuPath's point
 *   annotations); Polygon → its area centroid (holes subtracted); MultiPolygon
 *   → one point, the area centroid of all its parts (one object in several
 *   pieces); GeometryCollection → the points of each member. A zero-area
 *   outline falls back to the mean of its vertices.
 * - QuPath cell objects carry a `nucleusGeometry` beside `geometry` (the
 *   cell outline); the nucleus is used when present.
 * - Features with a null geometry are skipped (GeoJSON allows unlocated
 *   features). Lines (LineString, MultiLineString) are errors, as are
 *   malformed coordinates.
 *
 * Errors are PointAnnotationError, whose message names the file (when
 * `source` is given), the line (CSV) or feature (GeoJSON, counted from 0,
 * with its id when it has one) and the reason.
 */

export interface PointAnnotations {
  x: Float64Array;
  y: Float64Array;
}

export interface PointAnnotationOptions {
  /** File name, used in error messages and to choose the format. */
  source?: string;
}

export class PointAnnotationError extends Error {
  readonly source?: string;
  /** 1-based line of a CSV file, or of the JSON syntax error. */
  readonly line?: number;
  /** 0-based index of the GeoJSON feature. */
  readonly feature?: number;

  constructor(reason: string, where: { source?: string; line?: number; feature?: number; featureLabel?: string }) {
    const place = [
      where.source,
      where.line !== undefined ? `line ${where.line}` : undefined,
      where.featureLabel,
    ].filter((part) => part !== undefined);
    super(place.length > 0 ? `${place.join(', ')}: ${reason}` : reason);
    this.name = 'PointAnnotationError';
    this.source = where.source;
    this.line = where.line;
    this.feature = where.feature;
  }
}

/**
 * Reads a CSV or GeoJSON annotation file. The format comes from `format`,
 * else from the extension of `source` (.json/.geojson vs .csv/.tsv/.txt),
 * else from the text (JSON starts with { or [).
 */
export function parsePointAnnotations(
  text: string,
  options: PointAnnotationOptions & { format?: 'csv' | 'geojson' } = {},
): PointAnnotations {
  let format = options.format;
  if (!format && options.source) {
    const extension = /\.([a-z]+)$/i.exec(options.source)?.[1]?.toLowerCase();
    if (extension === 'json' || extension === 'geojson') format = 'geojson';
    else if (extension === 'csv' || extension === 'tsv' || extension === 'txt') format = 'csv';
  }
  if (!format) format = /^\uFEFF?\s*[[{]/.test(text) ? 'geojson' : 'csv';
  return format === 'geojson' ? parsePointsGeoJson(text, options) : parsePointsCsv(text, options);
}

/* ------------------------------------------------------------------------ */
/* CSV                                                                      */
/* ------------------------------------------------------------------------ */

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parsePointsCsv(text: string, options: PointAnnotationOptions = {}): PointAnnotations {
  const source = options.source;
  const fail = (line: number, reason: string): never => {
    throw new PointAnnotationError(reason, { source, line });
  };
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const xs: number[] = [];
  const ys: number[] = [];
  let separator: string | null = null;
  let xColumn = 0;
  let yColumn = 1;
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index];
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const first = separator === null;
    if (first) separator = line.includes('\t') ? '\t' : ',';
    const fields = splitFields(line, separator!, (reason) => fail(lineNumber, reason));
    if (first && !(DECIMAL.test(fields[0]) && DECIMAL.test(fields[1] ?? ''))) {
      // A header: find the x and y columns by name.
      const names = fields.map((name) => name.toLowerCase());
      xColumn = names.indexOf('x');
      yColumn = names.indexOf('y');
      if (xColumn < 0 || yColumn < 0) {
        const hint = fields.length === 1 && line.includes(';') ? ' (separate fields with commas or tabs, not semicolons)' : '';
        fail(
          lineNumber,
          `expected a header naming columns 'x' and 'y', or two numbers, but found ${fields.map((f) => `'${f}'`).join(', ')}${hint}`,
        );
      }
      continue;
    }
    const needed = Math.max(xColumn, yColumn) + 1;
    if (fields.length < needed) {
      fail(lineNumber, `has ${fields.length} field${fields.length === 1 ? '' : 's'}, but the x and y columns need ${needed}`);
    }
    xs.push(parseCoordinate(fields[xColumn], 'x', (reason) => fail(lineNumber, reason)));
    ys.push(parseCoordinate(fields[yColumn], 'y', (reason) => fail(lineNumber, reason)));
  }
  return { x: Float64Array.from(xs), y: Float64Array.from(ys) };
}

function parseCoordinate(field: string, axis: string, fail: (reason: string) => never): number {
  if (field === '') fail(`${axis} is empty`);
  if (!DECIMAL.test(field)) fail(`${axis} value '${field}' is not a number`);
  const value = Number(field);
  if (!Number.isFinite(value)) fail(`${axis} value '${field}' is out of range`);
  return value;
}

/** Splits one line into trimmed fields, honouring double quotes. */
function splitFields(line: string, separator: string, fail: (reason: string) => never): string[] {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    // Skip blanks before a field (but not the separator itself).
    while (at < line.length && line[at] !== separator && (line[at] === ' ' || line[at] === '\t')) at++;
    let value: string;
    if (line[at] === '"') {
      let closing = at + 1;
      let content = '';
      for (;;) {
        const quote = line.indexOf('"', closing);
        if (quote < 0) fail('has an unterminated quoted field');
        content += line.slice(closing, quote);
        if (line[quote + 1] === '"') {
          content += '"';
          closing = quote + 2;
        } else {
          closing = quote + 1;
          break;
        }
      }
      const next = line.indexOf(separator, closing);
      const rest = line.slice(closing, next < 0 ? line.length : next);
      if (rest.trim() !== '') fail(`has text after a closing quote: '${rest.trim()}'`);
      value = content.trim();
      at = next < 0 ? line.length + 1 : next + 1;
    } else {
      const next = line.indexOf(separator, at);
      value = line.slice(at, next < 0 ? line.length : next).trim();
      at = next < 0 ? line.length + 1 : next + 1;
    }
    fields.push(value);
    if (at > line.length) return fields;
  }
}

/* ------------------------------------------------------------------------ */
/* GeoJSON                                                                  */
/* ------------------------------------------------------------------------ */

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Accepts the file's text or an already parsed object. */
export function parsePointsGeoJson(input: string | Json, options: PointAnnotationOptions = {}): PointAnnotations {
  const source = options.source;
  let root: Json = input;
  if (typeof input === 'string') {
    const text = input.replace(/^\uFEFF/, '');
    try {
      root = JSON.parse(text);
    } catch (error) {
      // Engines word (and place) syntax errors differently: locate it here.
      const offset = jsonSyntaxErrorOffset(text);
      const line = text.slice(0, offset).split(/\r\n|\n|\r/).length;
      throw new PointAnnotationError(`not valid JSON (${(error as Error).message})`, { source, line });
    }
  }

  const xs: number[] = [];
  const ys: number[] = [];
  const out = { xs, ys };
  if (Array.isArray(root)) {
    root.forEach((feature, index) => readFeature(feature, index, source, out));
  } else if (isObject(root) && root.type === 'FeatureCollection') {
    if (!Array.isArray(root.features)) {
      throw new PointAnnotationError("FeatureCollection has no 'features' array", { source });
    }
    root.features.forEach((feature, index) => readFeature(feature, index, source, out));
  } else if (isObject(root) && root.type === 'Feature') {
    readFeature(root, 0, source, out);
  } else if (isObject(root) && typeof root.type === 'string') {
    readGeometry(root, out, (reason) => {
      throw new PointAnnotationError(reason, { source });
    });
  } else {
    throw new PointAnnotationError('expected a GeoJSON FeatureCollection, Feature, array of Features or geometry', {
      source,
    });
  }
  return { x: Float64Array.from(xs), y: Float64Array.from(ys) };
}

interface PointSink {
  xs: number[];
  ys: number[];
}

function readFeature(feature: Json, index: number, source: string | undefined, out: PointSink): void {
  const id = isObject(feature) && (typeof feature.id === 'string' || typeof feature.id === 'number') ? feature.id : undefined;
  const featureLabel = `feature ${index}${id !== undefined ? ` (id ${JSON.stringify(id)})` : ''}`;
  const fail = (reason: string): never => {
    throw new PointAnnotationError(reason, { source, feature: index, featureLabel });
  };
  if (!isObject(feature)) fail('is not an object');
  const object = feature as Record<string, Json>;
  if (object.type !== undefined && object.type !== 'Feature') fail(`has type '${String(object.type)}', expected 'Feature'`);
  // QuPath cells: the nucleus outline, not the cell's.
  const geometry = isObject(object.nucleusGeometry) ? object.nucleusGeometry : object.geometry;
  if (geometry === null) return;
  if (geometry === undefined) fail("has no 'geometry'");
  readGeometry(geometry, out, fail);
}

function readGeometry(geometry: Json, out: PointSink, fail: (reason: string) => never): void {
  if (!isObject(geometry)) return fail('has a geometry that is not an object');
  const type = geometry.type;
  const coordinates = geometry.coordinates;
  switch (type) {
    case 'Point': {
      const [x, y] = position(coordinates, 'Point coordinates', fail);
      out.xs.push(x);
      out.ys.push(y);
      return;
    }
    case 'MultiPoint': {
      list(coordinates, 'MultiPoint coordinates', fail).forEach((p, i) => {
        const [x, y] = position(p, `MultiPoint position ${i}`, fail);
        out.xs.push(x);
        out.ys.push(y);
      });
      return;
    }
    case 'Polygon':
    case 'MultiPolygon': {
      const polygons = type === 'Polygon' ? [coordinates] : list(coordinates, 'MultiPolygon coordinates', fail);
      const [x, y] = polygonsCentroid(polygons, type, fail);
      out.xs.push(x);
      out.ys.push(y);
      return;
    }
    case 'GeometryCollection':
      list(geometry.geometries, "GeometryCollection 'geometries'", fail).forEach((member) => readGeometry(member, out, fail));
      return;
    case 'LineString':
    case 'MultiLineString':
      return fail(`is a ${type}, which is neither a point nor an outline`);
    default:
      return fail(`has an unknown geometry type '${String(type)}'`);
  }
}

function list(value: Json, what: string, fail: (reason: string) => never): Json[] {
  if (!Array.isArray(value)) fail(`${what} is not an array`);
  return value as Json[];
}

function position(value: Json, what: string, fail: (reason: string) => never): [number, number] {
  if (!Array.isArray(value) || value.length < 2 || !Number.isFinite(value[0]) || !Number.isFinite(value[1])) {
    return fail(`${what} is not [x, y] with finite numbers: ${JSON.stringify(value)?.slice(0, 60)}`);
  }
  return [value[0] as number, value[1] as number];
}

/**
 * Area centroid of one or more polygons (each an outer ring then holes),
 * with holes subtracted; rings may wind either way and need not repeat their
 * first position. Zero total area → mean of the outer rings' vertices.
 */
function polygonsCentroid(polygons: Json[], type: string, fail: (reason: string) => never): [number, number] {
  let area = 0;
  let momentX = 0;
  let momentY = 0;
  let vertexSumX = 0;
  let vertexSumY = 0;
  let vertexCount = 0;
  let originX = NaN;
  let originY = NaN;
  polygons.forEach((polygon, p) => {
    const label = type === 'Polygon' ? 'Polygon' : `MultiPolygon part ${p}`;
    const rings = list(polygon, `${label} coordinates`, fail);
    if (rings.length === 0) fail(`${label} has no rings`);
    rings.forEach((ringValue, r) => {
      const ring = list(ringValue, `${label} ring ${r}`, fail).map((v, i) => position(v, `${label} ring ${r} position ${i}`, fail));
      const closed = ring.length > 1 && ring[0][0] === ring[ring.length - 1][0] && ring[0][1] === ring[ring.length - 1][1];
      const n = closed ? ring.length - 1 : ring.length;
      if (n < 3) fail(`${label} ring ${r} has ${n} distinct position${n === 1 ? '' : 's'}, an outline needs at least 3`);
      // Work relative to the first vertex seen: slide coordinates are large and
      // the shoelace sums would otherwise cancel digits.
      if (Number.isNaN(originX)) [originX, originY] = ring[0];
      let ringArea = 0;
      let ringX = 0;
      let ringY = 0;
      for (let i = 0; i < n; i++) {
        const ax = ring[i][0] - originX;
        const ay = ring[i][1] - originY;
        const bx = ring[(i + 1) % n][0] - originX;
        const by = ring[(i + 1) % n][1] - originY;
        const cross = ax * by - bx * ay;
        ringArea += cross;
        ringX += (ax + bx) * cross;
        ringY += (ay + by) * cross;
        if (r === 0) {
          vertexSumX += ax;
          vertexSumY += ay;
          vertexCount++;
        }
      }
      // Outer rings add, holes subtract, whatever their winding.
      const sign = (r === 0 ? 1 : -1) * (ringArea < 0 ? -1 : 1);
      area += (sign * ringArea) / 2;
      momentX += (sign * ringX) / 6;
      momentY += (sign * ringY) / 6;
    });
  });
  if (polygons.length === 0) fail(`${type} has no polygons`);
  if (Math.abs(area) > 0) return [originX + momentX / area, originY + momentY / area];
  return [originX + vertexSumX / vertexCount, originY + vertexSumY / vertexCount];
}

/**
 * Offset of the first JSON syntax error in `text` (only called after
 * JSON.parse failed): a plain recursive-descent scan of the grammar.
 */
function jsonSyntaxErrorOffset(text: string): number {
  let at = 0;
  class Stop extends Error {}
  const stop = (): never => {
    throw new Stop();
  };
  const blank = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  };
  const expect = (char: string) => (text[at] === char ? at++ : stop());
  const string = () => {
    expect('"');
    for (;;) {
      const c = text[at];
      if (c === undefined || c < ' ') stop();
      at++;
      if (c === '"') return;
      if (c === '\\') {
        if (text[at] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) stop();
          at += 5;
        } else if ('"\\/bfnrt'.includes(text[at] ?? 'x')) at++;
        else stop();
      }
    }
  };
  const value = (): void => {
    blank();
    const c = text[at];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      at++;
      blank();
      if (text[at] === close) {
        at++;
        return;
      }
      for (;;) {
        if (c === '{') {
          blank();
          string();
          blank();
          expect(':');
        }
        value();
        blank();
        if (text[at] === ',') at++;
        else return void expect(close);
      }
    }
    if (c === '"') return string();
    const literal = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(at, at + 400));
    if (!literal) stop();
    at += literal![0].length;
  };
  try {
    value();
    blank();
    if (at < text.length) stop();
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
  }
  return at;
}
