// anywidget front end of torchlite.viz.TrainingDashboard: hand-drawn SVG line charts of the loss
// and metrics, a heat strip of per-parameter gradient norms over time, a parameter table and an
// alerts list. Points arrive as float64 buffers holding only the new rows ("append"); a render
// asks Python for the whole history ("sync"), and so does a gap in the received rows.

import { extent, linePath } from "./chart.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 320, H = 150, PAD = { l: 48, r: 8, t: 8, b: 20 };
const STRIP_COLS = 120;
const MAX_DRAWN = 1500;

/** Indices of at most `max` points spread evenly over n (always keeping the last). */
export function sampleIndices(n, max) {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const step = (n - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => Math.round(i * step));
}

/** A short number: 4 significant digits, exponent form when tiny or huge. */
export function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") return v;
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** Heat colour of log10(v) within [lo, hi] (dark blue -> teal -> yellow); magenta if not finite,
 * grey when missing (no gradient). */
export function heatColor(v, lo, hi) {
  if (Number.isNaN(v)) return "#bdbdbd";
  if (!Number.isFinite(v)) return "#d81b60";
  if (v <= 0) return "#1a1a40";
  const t = Math.min(1, Math.max(0, (Math.log10(v) - lo) / ((hi - lo) || 1)));
  const stops = [[26, 26, 64], [33, 145, 140], [253, 231, 37]];
  const k = t < 0.5 ? 0 : 1, u = t < 0.5 ? t * 2 : t * 2 - 1;
  const c = stops[k].map((a, j) => Math.round(a + (stops[k + 1][j] - a) * u));
  return `rgb(${c.join(",")})`;
}

/** The empty client-side history. */
export function emptyState() {
  return { series: new Map(), layers: [], acts: [], alerts: [] };
}

/** Rows of `width` numbers from a float64 buffer (a DataView, ArrayBuffer or Float64Array). */
export function rowsOf(buffer, width) {
  let arr = buffer;
  if (!(arr instanceof Float64Array)) {
    const bytes = buffer.buffer ? buffer.buffer.slice(buffer.byteOffset,
      buffer.byteOffset + buffer.byteLength) : buffer;
    arr = new Float64Array(bytes);   // copied: DataViews may be unaligned
  }
  const rows = [];
  for (let i = 0; i + width <= arr.length; i += width) {
    rows.push(Array.from(arr.subarray(i, i + width)));
  }
  return rows;
}

/** Apply a "full" or "append" message to `state`; returns false when an append does not start
 * where the state ends (a gap: the caller asks for a full sync). */
export function applyMessage(state, content, buffers) {
  if (content.event === "full") Object.assign(state, emptyState());
  const target = (p) => {
    if (p.kind === "series") {
      if (!state.series.has(p.name)) state.series.set(p.name, []);
      return state.series.get(p.name);
    }
    return state[p.kind];
  };
  const ok = content.parts.every((p) => target(p).length === p.start) &&
    state.alerts.length === content.alerts.start;
  if (!ok) return false;
  content.parts.forEach((p, i) => target(p).push(...rowsOf(buffers[i], p.width)));
  state.alerts.push(...content.alerts.items);
  return true;
}

const CSS = `
.tld-root{font:12px/1.35 system-ui,sans-serif;color:#222;display:flex;flex-direction:column;gap:8px}
.tld-header{font-weight:600}
.tld-charts{display:flex;flex-wrap:wrap;gap:8px}
.tld-chart{margin:0;border:1px solid #ddd;border-radius:4px;padding:4px}
.tld-chart figcaption{font-weight:600;margin-bottom:2px}
.tld-line{fill:none;stroke:#1565c0;stroke-width:1.5}
.tld-axis{fill:none;stroke:#999;stroke-width:1}
.tld-tick{fill:#666;font-size:10px}
.tld-table{border-collapse:collapse}
.tld-table td,.tld-table th{padding:1px 8px;text-align:right;border-bottom:1px solid #eee}
.tld-table td:first-child,.tld-table th:first-child{text-align:left;font-family:monospace}
.tld-table .tld-strip-cell{text-align:left;vertical-align:top}
.tld-alerts{margin:0;padding-left:18px;max-height:160px;overflow:auto}
.tld-alert{color:#b71c1c}
.tld-none{color:#777}
`;

function el(tag, attrs = {}, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function chart(name, rows) {
  const fig = el("figure", { class: "tld-chart", "data-series": name });
  const last = rows.length ? rows[rows.length - 1][1] : null;
  fig.append(el("figcaption", {}, `${name}  ${fmt(last)}`));
  const svg = el("svg:svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H });
  const idx = sampleIndices(rows.length, MAX_DRAWN);
  const xs = idx.map((i) => rows[i][0]), ys = idx.map((i) => rows[i][1]);
  const box = { x: extent(xs), y: extent(ys), left: PAD.l, top: PAD.t,
    width: W - PAD.l - PAD.r, height: H - PAD.t - PAD.b };
  svg.append(el("svg:path", { class: "tld-axis",
    d: `M${PAD.l},${PAD.t}V${H - PAD.b}H${W - PAD.r}` }));
  const ticks = [[box.y[1], PAD.t + 8], [box.y[0], H - PAD.b]];
  for (const [v, y] of ticks) {
    svg.append(el("svg:text", { class: "tld-tick", x: PAD.l - 4, y, "text-anchor": "end" },
      fmt(v)));
  }
  for (const [v, x, a] of [[box.x[0], PAD.l, "start"], [box.x[1], W - PAD.r, "end"]]) {
    svg.append(el("svg:text", { class: "tld-tick", x, y: H - 6, "text-anchor": a },
      rows.length ? fmt(v) : ""));
  }
  svg.append(el("svg:path", { class: "tld-line", "data-series": name,
    "data-points": rows.length, d: linePath(xs, ys, box) }));
  fig.append(svg);
  return fig;
}

function heatStrip(params, layers) {
  const rows = layers.slice(-STRIP_COLS), P = params.length;
  const cell = 6, rowH = 12, left = 0;
  const svg = el("svg:svg", { class: "tld-strip", width: left + Math.max(1, rows.length) * cell,
    height: Math.max(1, P * rowH), "data-columns": rows.length });
  const logs = rows.flatMap((r) => r.slice(1, 1 + P)).filter((v) => v > 0 && Number.isFinite(v))
    .map(Math.log10);
  const [lo, hi] = extent(logs);
  rows.forEach((r, j) => params.forEach((name, i) => {
    const rect = el("svg:rect", { x: left + j * cell, y: i * rowH, width: cell, height: rowH - 1,
      fill: heatColor(r[1 + i], lo, hi) });
    rect.append(el("svg:title", {}, `${name} step ${r[0]}: |grad| ${fmt(r[1 + i])}`));
    svg.append(rect);
  }));
  return svg;
}

function layerTable(params, layers) {
  const table = el("table", { class: "tld-table tld-layers" });
  const head = el("tr");
  for (const h of ["parameter", "|grad|", "update/weight"]) head.append(el("th", {}, h));
  head.append(el("th", { class: "tld-strip-cell" }, "|grad| over time (log colour)"));
  table.append(head);
  const last = layers[layers.length - 1];
  const P = params.length;
  const strip = heatStrip(params, layers);
  params.forEach((name, i) => {
    const tr = el("tr", { "data-param": name });
    tr.append(el("td", {}, name), el("td", {}, fmt(last ? last[1 + i] : null)),
      el("td", {}, fmt(last ? last[1 + P + i] : null)));
    if (i === 0) {
      const td = el("td", { rowspan: P, class: "tld-strip-cell" });
      td.append(strip);
      tr.append(td);
    }
    table.append(tr);
  });
  return table;
}

function actTable(names, acts) {
  const table = el("table", { class: "tld-table tld-acts" });
  const head = el("tr");
  for (const h of ["module output", "mean", "std", "zeros"]) head.append(el("th", {}, h));
  table.append(head);
  const last = acts[acts.length - 1];
  names.forEach((name, i) => {
    const tr = el("tr");
    const v = (k) => (last ? last[1 + 3 * i + k] : null);
    tr.append(el("td", {}, name), el("td", {}, fmt(v(0))), el("td", {}, fmt(v(1))),
      el("td", {}, last ? `${fmt(100 * v(2))}%` : "–"));
    table.append(tr);
  });
  return table;
}

function alertList(alerts) {
  const ul = el("ul", { class: "tld-alerts" });
  if (!alerts.length) ul.append(el("li", { class: "tld-none" }, "no alerts"));
  for (const a of alerts.slice(-200)) {
    ul.append(el("li", { class: "tld-alert", "data-kind": a.kind },
      `step ${a.step}: ${a.kind.replace("_", " ")} ${a.name} (${fmt(a.value)})`));
  }
  return ul;
}

function render({ model, el: host }) {
  const state = emptyState();
  const root = el("div", { class: "tld-root" });
  root.append(el("style", {}, CSS));
  const body = el("div");
  root.append(body);
  host.append(root);
  let frame = 0, syncing = true;   // a full history was asked for at render
  const draw = () => {
    frame = 0;
    const params = model.get("params"), names = model.get("activations");
    const loss = state.series.get("loss");
    const steps = [...state.series.values()].map((r) => (r.length ? r[r.length - 1][0] : 0));
    body.replaceChildren();
    body.append(el("div", { class: "tld-header" },
      `Training dashboard · step ${steps.length ? Math.max(...steps) : "–"} · ` +
      `${state.alerts.length} alert${state.alerts.length === 1 ? "" : "s"}`));
    const charts = el("div", { class: "tld-charts" });
    if (loss) charts.append(chart("loss", loss));
    for (const [name, rows] of state.series) if (name !== "loss") charts.append(chart(name, rows));
    body.append(charts);
    if (params.length) body.append(layerTable(params, state.layers));
    if (names.length) body.append(actTable(names, state.acts));
    body.append(el("div", { class: "tld-header" }, "Alerts"), alertList(state.alerts));
  };
  const schedule = () => { if (!frame) frame = requestAnimationFrame(draw); };
  const onMsg = (content, buffers) => {
    if (!content || (content.event !== "full" && content.event !== "append")) return;
    if (content.event === "full") syncing = false;
    if (applyMessage(state, content, buffers || [])) schedule();
    else if (!syncing) {
      syncing = true;
      model.send({ event: "sync" });
    }
  };
  model.on("msg:custom", onMsg);
  draw();
  model.send({ event: "sync" });
  return () => {
    model.off("msg:custom", onMsg);
    if (frame) cancelAnimationFrame(frame);
  };
}

export default { render };
