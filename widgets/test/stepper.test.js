// Unit tests of the BackpropStepper's panel, value formatting and edge labels (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { normalize, toDot } from "../src/graph.js";
import { edgeLabels, edgeText, formatValue, labelDot, panel } from "../src/stepper_format.js";

const v = (values, shape = []) => ({ shape, values });
// micrograd's example: a=2, b=-3, c=10, e=a*b, d=e+c, f=-2, L=d*f (ids as torchlite.graph.trace)
const leaves = [{ id: "0", name: "a", value: v(2) }, { id: "1", name: "b", value: v(-3) },
  { id: "3", name: "c", value: v(10) }, { id: "5", name: "f", value: v(-2) }];
const steps = [
  { node: "6", op: "MulBackward0", label: "a * b", rule: "grad_a = grad * b; grad_b = grad * a",
    grad_in: [v(1)],
    grad_out: [{ to: "4", name: "Add #4", ...v(-2) }, { to: "5", name: "f", ...v(4) }],
    leaf_grads: { 5: v(4) } },
  { node: "4", op: "AddBackward0", label: "a + alpha * b",
    rule: "grad_a = grad; grad_b = alpha * grad",
    grad_in: [v(-2)], grad_out: [{ to: "2", name: "Mul #2", ...v(-2) },
      { to: "3", name: "c", ...v(-2) }],
    leaf_grads: { 5: v(4), 3: v(-2) } },
];

test("values: scalars, small tensors in full, large ones summarized", () => {
  assert.equal(formatValue(v(-2)), "-2");
  assert.equal(formatValue(v(0.123456)), "0.1235");
  assert.equal(formatValue(v([[1, 2.5], [3, "nan"]], [2, 2])), "[[1, 2.5], [3, nan]]");
  assert.equal(formatValue({ shape: [10, 10], summary: { min: -1, mean: 0.25, max: 2 } }),
    "(10, 10) min -1 mean 0.25 max 2");
  assert.equal(formatValue(null), "–");
  assert.equal(edgeText(v([1, 2], [2])), "[1, 2]");
  assert.equal(edgeText(v([3, 4, 0, 0, 0], [5])), "(5,) \u2016g\u2016=5");
  assert.equal(edgeText({ shape: [4, 5], summary: { norm: 2 } }), "(4, 5) \u2016g\u2016=2");
});

test("panel before the first step lists the leaves without gradients", () => {
  const p = panel(steps, leaves, 0);
  assert.match(p.title, /^step 0 \/ 2/);
  assert.deepEqual(p.rows, []);
  assert.deepEqual(p.leaves.map(([n]) => n), ["a", "b", "c", "f"]);
  assert.deepEqual(p.leaves.map(([, value]) => value), ["2", "-3", "10", "-2"]);
  assert.ok(p.leaves.every(([, , t]) => t === "0 (not yet)"));
});

test("panel rows show the chain rule numbers of the current step", () => {
  const p = panel(steps, leaves, 2);
  assert.equal(p.title, "step 2 / 2: AddBackward0");
  assert.deepEqual(p.rows, [["node", "AddBackward0 (a + alpha * b) #4"], ["grad in", "-2"],
    ["rule", "grad_a = grad; grad_b = alpha * grad"], ["grad \u2192 Mul #2", "-2"],
    ["grad \u2192 c", "-2"]]);
  assert.deepEqual(Object.fromEntries(panel(steps, leaves, 1).rows).rule,
    "grad_a = grad * b; grad_b = grad * a");
  assert.deepEqual(p.leaves, [["a", "2", "0 (not yet)"], ["b", "-3", "0 (not yet)"],
    ["c", "10", "-2"], ["f", "-2", "4"]]);
});

test("edges traversed so far carry their gradients in the DOT text", () => {
  assert.equal(edgeLabels(steps, 0).size, 0);
  const labels = edgeLabels(steps, 1);
  assert.deepEqual([...labels], [["4>6", "-2"], ["5>6", "4"]]);
  const g = normalize({ nodes: [
    { id: 0, kind: "leaf", op: "leaf" }, { id: 1, kind: "leaf", op: "leaf" },
    { id: 2, op: "MulBackward0" }, { id: 3, kind: "leaf", op: "leaf" },
    { id: 4, op: "AddBackward0" }, { id: 5, kind: "leaf", op: "leaf" },
    { id: 6, op: "MulBackward0" }],
  edges: [[0, 2], [1, 2], [2, 4], [3, 4], [4, 6], [5, 6]].map(([src, dst]) => ({ src, dst })) });
  const view = toDot(g);
  const dot = labelDot(view.dot, view.names, labels);
  assert.match(dot, /N4 -> N6 \[label=" -2", fontcolor="#c62828"/);
  assert.match(dot, /N5 -> N6 \[label=" 4",/);
  assert.match(dot, /N2 -> N4;/);
  assert.equal((dot.match(/label=" /g) ?? []).length, 2);
});
