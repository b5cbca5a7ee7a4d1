// Unit tests of the line-chart geometry (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { extent, linePath, toBox } from "../src/chart.js";

const box = { x: [0, 10], y: [0, 1], left: 10, top: 5, width: 100, height: 50 };

test("linePath scales into the box with y growing upwards", () => {
  assert.equal(linePath([0, 5, 10], [0, 1, 0.5], box), "M10,55L60,5L110,30");
  assert.equal(linePath([], [], box), "");
  assert.equal(linePath([1 / 3], [1 / 3], box), "M13.33,38.33");
});

test("linePath breaks the line at non-finite values", () => {
  assert.equal(linePath([0, 2, 4, 6, 8], [0, NaN, 1, Infinity, 0], box),
    "M10,55M50,5M90,55");
  assert.equal(linePath([0, 2, 4], [0, 1, NaN], box), "M10,55L30,5");
});

test("extent ignores non-finite values and widens flat ranges", () => {
  assert.deepEqual(extent([3, NaN, -1, Infinity]), [-1, 3]);
  assert.deepEqual(extent([2, 2]), [1, 3]);
  assert.deepEqual(extent([0]), [-0.5, 0.5]);
  assert.deepEqual(extent([NaN]), [0, 1]);
});

test("toBox places a point as linePath does", () => {
  assert.deepEqual(toBox(5, 1, box), [60, 5]);
  assert.deepEqual(toBox(0, 0, box), [10, 55]);
});
