// Line-chart geometry shared by the dashboard's charts and the GraphView's history sparklines
// (pure; tested in widgets/test/chart.test.js).

/** Finite [min, max] of `values`; a flat or empty range is widened so it can be scaled. */
export function extent(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - (Math.abs(lo) || 1) * 0.5, hi + (Math.abs(hi) || 1) * 0.5];
  return [lo, hi];
}

/** The position [px, py] of the point (x, y) scaled into the box {x: [lo, hi], y: [lo, hi], left,
 * top, width, height} (y grows upwards), rounded to 2 decimals. */
export function toBox(x, y, box) {
  const [x0, x1] = box.x, [y0, y1] = box.y;
  const r = (v) => Math.round(v * 100) / 100;
  return [r(box.left + (x - x0) * (box.width / ((x1 - x0) || 1))),
    r(box.top + box.height - (y - y0) * (box.height / ((y1 - y0) || 1)))];
}

/** The SVG path ("M x,y L x,y ...") of points (xs[i], ys[i]) scaled into the box (`toBox`). A
 * non-finite y breaks the line: the next finite point starts a new segment with M. */
export function linePath(xs, ys, box) {
  let d = "", pen = false;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(ys[i]) || !Number.isFinite(xs[i])) { pen = false; continue; }
    const [px, py] = toBox(xs[i], ys[i], box);
    d += `${pen ? "L" : "M"}${px},${py}`;
    pen = true;
  }
  return d;
}
