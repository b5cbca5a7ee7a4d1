// Unit tests of the dashboard's sampling, colours, formatting and messages (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { applyMessage, emptyState, fmt, heatColor, rowsOf, sampleIndices }
  from "../src/dashboard.js";

test("sampleIndices keeps the ends and at most max points", () => {
  assert.deepEqual(sampleIndices(3, 10), [0, 1, 2]);
  const idx = sampleIndices(1001, 11);
  assert.equal(idx.length, 11);
  assert.deepEqual([idx[0], idx[5], idx[10]], [0, 500, 1000]);
});

test("number formatting and heat colours", () => {
  assert.equal(fmt(0.123456), "0.1235");
  assert.equal(fmt(1e-7), "1.00e-7");
  assert.equal(fmt(NaN), "nan");
  assert.equal(fmt(null), "–");
  assert.equal(fmt("inf"), "inf");
  assert.equal(heatColor(1e-3, -3, 1), "rgb(26,26,64)");
  assert.equal(heatColor(10, -3, 1), "rgb(253,231,37)");
  assert.equal(heatColor(Infinity, -3, 1), "#d81b60");
  assert.equal(heatColor(NaN, -3, 1), "#bdbdbd");
});

const f64 = (...v) => new DataView(new Float64Array(v).buffer);

test("messages append rows; a gap asks for a full sync", () => {
  const state = emptyState();
  const part = (start) => ({ kind: "series", name: "loss", start, width: 2 });
  const none = (start) => ({ start, items: [] });
  assert.ok(applyMessage(state, { event: "append", parts: [part(0)], alerts: none(0) },
    [f64(0, 1.5, 1, NaN)]));
  assert.deepEqual(state.series.get("loss"), [[0, 1.5], [1, NaN]]);
  assert.equal(applyMessage(state, { event: "append", parts: [part(5)], alerts: none(0) },
    [f64(5, 1)]), false);
  assert.equal(state.series.get("loss").length, 2);
  const full = { event: "full", parts: [part(0), { kind: "layers", start: 0, width: 3 }],
    alerts: { start: 0, items: [{ step: 1, kind: "nonfinite", name: "loss", value: "nan" }] } };
  assert.ok(applyMessage(state, full, [f64(0, 1, 1, 2, 2, 3), f64(0, 0.5, 0.01)]));
  assert.deepEqual(state.series.get("loss"), [[0, 1], [1, 2], [2, 3]]);
  assert.deepEqual(state.layers, [[0, 0.5, 0.01]]);
  assert.equal(state.alerts.length, 1);
});

test("rowsOf copies unaligned DataViews", () => {
  const bytes = new Uint8Array(8 * 2 + 4);
  new DataView(bytes.buffer).setFloat64(4, 7, true);
  new DataView(bytes.buffer).setFloat64(12, 8, true);
  assert.deepEqual(rowsOf(new DataView(bytes.buffer, 4, 16), 2), [[7, 8]]);
});
