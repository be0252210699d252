/** Small SVG line charts for the CISH panel (loss per step/epoch, FPC against K). */

interface LineChartProps {
  /** y values; x is the index unless `xs` is given. */
  ys: ArrayLike<number>;
  xs?: ArrayLike<number>;
  width?: number;
  height?: number;
  label: string;
  testId?: string;
  /** Highlights this x (e.g. the chosen K). */
  markX?: number;
  xLabel?: string;
  yFormat?: (v: number) => string;
}

export function LineChart({ ys, xs, width = 270, height = 90, label, testId, markX, xLabel, yFormat = (v) => v.toPrecision(3) }: LineChartProps) {
  const n = ys.length;
  const pad = { left: 38, right: 6, top: 6, bottom: 16 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(ys[i])) continue;
    yMin = Math.min(yMin, ys[i]);
    yMax = Math.max(yMax, ys[i]);
  }
  if (!(yMax >= yMin)) {
    yMin = 0;
    yMax = 1;
  }
  if (yMax === yMin) {
    yMax += Math.abs(yMax) * 0.05 || 0.5;
    yMin -= Math.abs(yMin) * 0.05 || 0.5;
  }
  const xAt = (i: number) => (xs ? xs[i] : i);
  const x0 = n > 0 ? xAt(0) : 0;
  const x1 = n > 1 ? xAt(n - 1) : x0 + 1;
  const sx = (x: number) => pad.left + ((x - x0) / (x1 - x0 || 1)) * w;
  const sy = (y: number) => pad.top + (1 - (y - yMin) / (yMax - yMin)) * h;
  // Long step series are thinned to ~2 points per pixel.
  const every = Math.max(1, Math.floor(n / (2 * w)));
  let path = '';
  for (let i = 0; i < n; i += every) {
    if (!Number.isFinite(ys[i])) continue;
    path += `${path ? 'L' : 'M'}${sx(xAt(i)).toFixed(1)},${sy(ys[i]).toFixed(1)}`;
  }
  return (
    <svg className="cish-chart" width={width} height={height} role="img" aria-label={label} data-testid={testId} data-points={n}>
      <rect x={pad.left} y={pad.top} width={w} height={h} className="cish-chart-frame" />
      <text x={pad.left - 3} y={pad.top + 8} textAnchor="end">
        {yFormat(yMax)}
      </text>
      <text x={pad.left - 3} y={pad.top + h} textAnchor="end">
        {yFormat(yMin)}
      </text>
      <text x={pad.left} y={height - 3}>
        {xs ? x0 : 1}
      </text>
      <text x={pad.left + w} y={height - 3} textAnchor="end">
        {xs ? x1 : n}
        {xLabel ? ` ${xLabel}` : ''}
      </text>
      {markX !== undefined && n > 0 && <line x1={sx(markX)} x2={sx(markX)} y1={pad.top} y2={pad.top + h} className="cish-chart-mark" />}
      <path d={path} className="cish-chart-line" />
      {xs && Array.from({ length: n }, (_, i) => <circle key={i} cx={sx(xAt(i))} cy={sy(ys[i])} r={2.5} className="cish-chart-dot" />)}
    </svg>
  );
}
