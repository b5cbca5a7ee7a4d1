// Pure logic of the BackpropStepper (no DOM): value text, the chain-rule panel's rows, the
// gradient labels of the edges traversed so far. Tested in widgets/test/stepper.test.js.
import { formatNumber } from "./format.js";
import { formatShape } from "./graph.js";

/** A value {shape, values?, summary?} as text: the number, nested lists, or a summary. */
export function formatValue(v) {
  if (v === null || v === undefined) return "–";
  if (v.values !== undefined) return nested(v.values);
  const s = v.summary ?? {};
  return `${formatShape(v.shape)} min ${formatNumber(s.min)} mean ${formatNumber(s.mean)} ` +
    `max ${formatNumber(s.max)}`;
}

const nested = (x) => (Array.isArray(x) ? `[${x.map(nested).join(", ")}]` : formatNumber(x));

/** A short edge label: the value for scalars and up to 4 elements, else ‖g‖ with the shape. */
export function edgeText(v) {
  if (v.values !== undefined && (!Array.isArray(v.values) || v.values.flat(Infinity).length <= 4)) {
    return formatValue(v);
  }
  const norm = v.summary?.norm ?? Math.hypot(...[v.values].flat(Infinity).map(Number));
  return `${formatShape(v.shape)} \u2016g\u2016=${formatNumber(norm)}`;
}

/**
 * The panel of step `k` (1-based; 0 = before the first step): {title, rows: [[name, text]],
 * leaves: [[name, value text, gradient text]]}. Rows: the incoming gradient, the backward rule,
 * one row per gradient sent to an input.
 */
export function panel(steps, leaves, k) {
  const total = steps.length;
  const st = k > 0 ? steps[k - 1] : null;
  const got = st?.leaf_grads ?? {};
  const leafRows = leaves.map((l) => [l.name, formatValue(l.value),
    got[l.id] ? formatValue(got[l.id]) : "0 (not yet)"]);
  if (!st) {
    return { title: `step 0 / ${total}: press next to start at the output (grad = 1)`,
      rows: [], leaves: leafRows };
  }
  const rows = [["node", `${st.op} (${st.label}) #${st.node}`]];
  st.grad_in.forEach((g, j) => {
    if (g) rows.push([st.grad_in.length > 1 ? `grad in [${j}]` : "grad in", formatValue(g)]);
  });
  rows.push(["rule", st.rule || "(no rule text)"]);
  for (const g of st.grad_out) {
    rows.push([`grad \u2192 ${g.name ?? `#${g.to}`}`, formatValue(g)]);
  }
  return { title: `step ${k} / ${total}: ${st.op}`, rows, leaves: leafRows };
}

/** Edge labels after step k: Map("src>dst" -> text), src the input node, dst the op node. */
export function edgeLabels(steps, k) {
  const labels = new Map();
  for (const st of steps.slice(0, k)) {
    for (const g of st.grad_out) labels.set(`${g.to}>${st.node}`, edgeText(g));
  }
  return labels;
}

/**
 * Adds gradient labels to the edges of a DOT text made by graph.js's toDot: `names` maps DOT
 * names to {type, id}; `labels` is edgeLabels()'s map. Labelled edges are drawn red.
 */
export function labelDot(dot, names, labels) {
  const idOf = new Map([...names].filter(([, r]) => r.type === "node").map(([n, r]) => [n, r.id]));
  return dot.replace(/^(\s*)(\w+) -> (\w+)( \[[^\]]*\])?;$/gm, (line, sp, a, b, attrs) => {
    const text = labels.get(`${idOf.get(a)}>${idOf.get(b)}`);
    if (text === undefined) return line;
    const extra = `label=" ${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}", ` +
      'fontcolor="#c62828", color="#c62828", fontsize=9, penwidth=1.6';
    const inner = attrs ? `${attrs.slice(2, -1)}, ${extra}` : extra;
    return `${sp}${a} -> ${b} [${inner}];`;
  });
}
