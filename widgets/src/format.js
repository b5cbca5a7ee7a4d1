// Text shown by the inspector and the tooltip (pure; tested in widgets/test/format.test.js).
import { formatShape, gradMagnitude, nonfiniteCount } from "./graph.js";

/** A number in at most 4 significant digits; integers as they are; NaN/Inf spelled out. */
export function formatNumber(x) {
  if (x === null || x === undefined) return "–";
  const v = Number(x);
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(4)));
}

const listText = (xs, fmt = String) => (xs.length ? xs.map(fmt).join(", ") : "?");

/** One line for the hover tooltip: op, shape, dtype and device. */
export function tooltipText(node) {
  const parts = [`${node.op}${node.label && node.label !== node.op ? `: ${node.label}` : ""}`,
    `shape ${listText(node.shapes, formatShape)}`, `dtype ${listText(node.dtypes)}`,
    `device ${listText(node.devices)}`];
  if (node.status === "error") parts.push(`error: ${node.error ?? "failed"}`);
  if (nonfiniteCount(node.stats) > 0) parts.push("non-finite values");
  return parts.join("\n");
}

/** An input slot: "(2, 3) float32" for a tensor reference, the value for a scalar operand. */
export function operandText(ref) {
  if (ref && typeof ref === "object" && "scalar" in ref) return `scalar ${ref.scalar}`;
  if (ref && typeof ref === "object") return `${formatShape(ref.shape)} ${ref.dtype ?? ""}`.trim();
  return String(ref);
}

/** Rows [name, text] of a stats object (min, max, mean, std, nan/inf counts). */
export function statsRows(stats) {
  if (!stats) return [];
  const rows = [];
  for (const k of ["min", "max", "mean", "std", "norm"]) {
    if (stats[k] !== undefined) rows.push([k, formatNumber(stats[k])]);
  }
  const nan = stats.nan ?? stats.nan_count, inf = stats.inf ?? stats.inf_count;
  if (nan !== undefined || inf !== undefined) {
    rows.push(["nan / inf", `${formatNumber(nan ?? 0)} / ${formatNumber(inf ?? 0)}`]);
  }
  return rows;
}

/** Histogram {counts, edges} of a stats object, or null. */
export function histogram(stats) {
  const h = stats?.hist ?? stats?.histogram;
  if (!h) return null;
  const counts = Array.isArray(h) ? h : h.counts;
  return counts?.length ? { counts, edges: h.edges ?? h.bins ?? null } : null;
}

/** A source location as "file:line" (accepts a string or {file, line, function}). */
export function sourceText(src) {
  if (!src) return null;
  if (typeof src === "string") return src;
  const where = [src.file ?? src.filename, src.line ?? src.lineno].filter((x) => x != null);
  const code = src.code ?? src.text;
  return `${where.join(":")}${src.function ? ` in ${src.function}` : ""}${code ? `\n${code}` : ""}`;
}

/** The inspector's sections: [{title, rows: [[name, text]], hist}] for one node. */
export function inspectorSections(node) {
  const tensor = [["shape", listText(node.shapes, formatShape)], ["dtype", listText(node.dtypes)],
    ["device", listText(node.devices)]];
  const inputs = (node.inputs ?? []).map(operandText);
  if (inputs.length) tensor.push(["inputs", inputs.join("\n")]);
  const op = [["op", node.op], ["kind", node.kind], ["phase", node.phase]];
  if (node.label) op.push(["label", node.label]);
  if (node.backward_rule) op.push(["backward rule", node.backward_rule]);
  if (node.scope) op.push(["scope", node.scope]);
  const src = sourceText(node.source ?? node.source_line ?? node.location);
  if (src) op.push(["source", src]);
  if (node.status === "error") op.push(["error", node.error ?? "this op raised"]);
  const sections = [{ title: "op", rows: op }, { title: "tensor", rows: tensor }];
  const values = statsRows(node.stats);
  if (values.length) sections.push({ title: "value", rows: values, hist: histogram(node.stats) });
  const grads = statsRows(node.grad_stats);
  if (grads.length) {
    const m = gradMagnitude(node);
    if (m !== null && node.grad_stats.norm === undefined) {
      grads.push(["|grad| max", formatNumber(m)]);
    }
    sections.push({ title: "gradient", rows: grads, hist: histogram(node.grad_stats) });
  }
  return sections;
}

// The history table: [part, stat] of NodeHistory.series() in the order shown.
const HISTORY_ROWS = [["value", "mean"], ["value", "std"], ["value", "min"], ["value", "max"],
  ["grad", "norm"], ["grad", "mean"], ["grad", "std"], ["value", "nonfinite"],
  ["grad", "nonfinite"]];

/** Rows {key ("grad norm"), values (NaN where unknown), last (text of the latest value)} of a
 * node's history over the recorded steps; series without any value, and NaN/Inf counts that
 * stay 0, are left out. */
export function historyRows(history) {
  if (!history) return [];
  const rows = [];
  for (const [part, stat] of HISTORY_ROWS) {
    const values = (history[part]?.[stat] ?? []).map((v) => (v === null ? NaN : Number(v)));
    if (!values.some(Number.isFinite)) continue;
    if (stat === "nonfinite" && !values.some((v) => v > 0)) continue;
    rows.push({ key: `${part} ${stat}`, values, last: formatNumber(values.at(-1)) });
  }
  return rows;
}
