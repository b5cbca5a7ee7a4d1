// Unit tests of the inspector's and the tooltip's formatting (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { normalize, formatShape } from "../src/graph.js";
import { formatNumber, histogram, historyRows, inspectorSections, operandText, sourceText,
  statsRows, tooltipText } from "../src/format.js";

const g = normalize(JSON.parse(readFileSync(new URL("./sample_graph.json", import.meta.url))));
const rows = (node, title) => Object.fromEntries(
  inspectorSections(node).find((s) => s.title === title).rows);

test("numbers and shapes", () => {
  assert.equal(formatNumber(3), "3");
  assert.equal(formatNumber(0.81649658), "0.8165");
  assert.equal(formatNumber(1.5e-7), "1.5e-7");
  assert.equal(formatNumber(123456789.5), "1.235e+8");
  assert.equal(formatNumber(null), "–");
  assert.equal(formatNumber(NaN), "nan");
  assert.equal(formatNumber(-Infinity), "-inf");
  assert.equal(formatShape([3]), "(3,)");
  assert.equal(formatShape([2, 3]), "(2, 3)");
  assert.equal(formatShape([]), "()");
});

test("inspector sections of an op with stats", () => {
  const mul = g.byId.get("2");
  const op = rows(mul, "op");
  assert.equal(op.op, "MulBackward0");
  assert.equal(op.label, "a * b");
  assert.equal(op["backward rule"], "grad_a = grad * b; grad_b = grad * a");
  assert.equal(op.scope, "model.fc");
  assert.equal(op.source, "train.py:12 in main\ny = (w * x).sum()");
  const t = rows(mul, "tensor");
  assert.deepEqual([t.shape, t.dtype, t.device], ["(3,)", "float32", "cpu"]);
  assert.equal(t.inputs, "(3,) float32\n(3,) float32");
  const v = rows(mul, "value");
  assert.deepEqual([v.min, v.max, v.mean, v.std, v["nan / inf"]],
    ["1", "3", "2", "0.8165", "0 / 0"]);
  assert.deepEqual(inspectorSections(mul).find((s) => s.title === "value").hist,
    { counts: [1, 2], edges: [1, 2, 3] });
});

test("gradient section and the failing op", () => {
  const w = g.byId.get("0");
  assert.equal(rows(w, "gradient").max, "3");
  const bad = g.byId.get("7");
  assert.equal(rows(bad, "op").error, "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x2)");
  assert.equal(rows(bad, "tensor").inputs, "(3,) float32\n(4, 2) float32");
  assert.match(tooltipText(bad), /error: mat1 and mat2/);
});

test("tooltip shows op, shape, dtype and device", () => {
  assert.equal(tooltipText(g.byId.get("2")),
    "MulBackward0: a * b\nshape (3,)\ndtype float32\ndevice cpu");
  assert.match(tooltipText(g.byId.get("5")), /non-finite values/);
});

test("helpers", () => {
  assert.equal(operandText({ scalar: 2 }), "scalar 2");
  assert.equal(sourceText("f.py:3"), "f.py:3");
  assert.equal(sourceText(null), null);
  assert.deepEqual(statsRows(undefined), []);
  assert.equal(histogram({ hist: null }), null);
});

test("historyRows keeps the series with values, NaN/Inf counts only when not all 0", () => {
  const nul = [null, null, null];
  const history = { steps: [0, 5, 10],
    value: { mean: [1, 2, 3], std: [0.5, null, 0.25], min: nul, max: nul, norm: [1, 1, 1],
      nonfinite: [0, 0, 0] },
    grad: { mean: nul, std: nul, min: nul, max: nul, norm: [3, 2, 1e-9], nonfinite: [0, 2, 0] } };
  const rows = historyRows(history);
  assert.deepEqual(rows.map((r) => r.key), ["value mean", "value std", "grad norm",
    "grad nonfinite"]);
  assert.ok(Number.isNaN(rows[1].values[1]));
  assert.deepEqual(rows.map((r) => r.last), ["3", "0.25", "1e-9", "0"]);
  assert.deepEqual(historyRows(null), []);
});
