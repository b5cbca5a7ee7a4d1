// Unit tests of the graph-to-DOT conversion, collapsing and colouring (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  CPU_COLOR, CUDA_COLORS, SCOPE_COLOR, allScopes, collapsedOwner, deviceColor, expandBox,
  gradMagnitude, legend, magnitudeColor, matches, nanOrigin, nodeDevice, normalize, opFamily,
  scopePrefixes, shortOp, toDot, visibleNodes,
} from "../src/graph.js";

const doc = JSON.parse(readFileSync(new URL("./sample_graph.json", import.meta.url)));
const g = normalize(doc);

test("normalize reads ids, shapes, dtypes, devices and stats from the schema's outputs", () => {
  assert.equal(g.nodes.length, 8);
  const mul = g.byId.get("2");
  assert.deepEqual(mul.shapes, [[3]]);
  assert.deepEqual(mul.dtypes, ["float32"]);
  assert.deepEqual(mul.devices, ["cpu"]);
  assert.equal(mul.stats.mean, 2.0);
  assert.equal(g.byId.get("0").grad_stats.max, 3.0);
  assert.equal(g.edges.length, 7);
  assert.deepEqual([g.edges[0].src, g.edges[0].dst], ["0", "2"]);
});

test("op families and short names", () => {
  assert.equal(shortOp("MulBackward0"), "Mul");
  assert.equal(shortOp("leaf"), "leaf");
  const fam = (op, kind = "op") => opFamily({ op, kind });
  assert.equal(fam("MulBackward0"), "arith");
  assert.equal(fam("AddmmBackward0"), "linalg");
  assert.equal(fam("SumBackward0"), "reduce");
  assert.equal(fam("ReluBackward0"), "activation");
  assert.equal(fam("TBackward0"), "shape");
  assert.equal(fam("leaf", "param"), "leaf");
  for (const kind of ["buffer", "constant", "grad"]) assert.equal(fam("leaf", kind), "leaf", kind);
  assert.equal(fam("Mystery"), "other");
  // PyTorch's node names (no underscores) land in their families
  const families = {
    NativeLayerNormBackward0: "norm", NativeBatchNormBackward0: "norm", EmbeddingBackward0: "norm",
    NllLossBackward0: "loss", MseLossBackward0: "loss", ConvolutionBackward0: "linalg",
    ScaledDotProductFlashAttentionForCpuBackward0: "linalg", UnbindBackward0: "shape",
    MaskedFillBackward0: "shape", IndexSelectBackward0: "shape", AliasBackward0: "shape",
    SortBackward0: "reduce", TopkBackward0: "reduce", CumsumBackward0: "reduce",
    MaxBackward1: "reduce",
  };
  for (const [op, family] of Object.entries(families)) assert.equal(fam(op), family, op);
});

test("scopes: prefixes, all scopes and the collapsed owner", () => {
  assert.deepEqual(scopePrefixes("a.b.c"), ["a", "a.b", "a.b.c"]);
  assert.deepEqual(scopePrefixes(""), []);
  assert.deepEqual(allScopes(g), ["model", "model.fc", "model.head"]);
  assert.equal(collapsedOwner("model.fc", new Set(["model", "model.fc"])), "model");
  assert.equal(collapsedOwner("model.fc", new Set(["model.head"])), null);
});

test("toDot draws every node, clusters for scopes and each edge once", () => {
  const v = toDot(g, {});
  assert.equal(v.visibleCount, 8);
  assert.equal((v.dot.match(/^\s+N\d+ \[/gm) ?? []).length, 8);
  assert.deepEqual([...v.clusters.values()], ["model", "model.fc", "model.head"]);
  assert.equal((v.dot.match(/->/g) ?? []).length, 7);
  assert.match(v.dot, /N1 -> N2 \[style="dashed"\]/);  // no gradient flows from x
  assert.match(v.dot, /label="Mul\\n\(3,\)"/);
  assert.match(v.dot, /label="fc\.weight\\n\(3,\)".*shape=ellipse/);
  const saved = normalize({ nodes: g.nodes, edges: [{ src: 1, dst: 2, kind: "saved" }] });
  assert.match(toDot(saved, {}).dot, /N1 -> N2 \[style="dotted"\]/);  // read by backward
});

test("collapsing a scope folds its nodes into one box and reroutes edges", () => {
  const v = toDot(g, { collapsed: new Set(["model.head"]) });
  assert.equal(v.visibleCount, 6);
  const box = [...v.names].find(([, r]) => r.type === "scope");
  assert.deepEqual(box[1], { type: "scope", path: "model.head", paths: ["model.head"], ops: 3 });
  assert.match(v.dot, new RegExp(`${box[0]} \\[label="head\\\\n\\[3 ops\\] \\+"`));
  assert.match(v.dot, new RegExp(`N2 -> ${box[0]};`));
  assert.ok(!v.dot.includes(`${box[0]} -> ${box[0]}`));  // no self loop inside the box
  assert.match(v.dot, /fillcolor="#ef5350"/);             // the failing op's box is red
  assert.deepEqual([...v.clusters.values()], ["model", "model.fc"]);
  const all = toDot(g, { collapsed: new Set(["model"]) });
  assert.equal(all.visibleCount, 3);     // x, the backward op and the box (fc.weight inside it)
  assert.match(all.dot, /S0 \[label="model\\n\[5 ops\] \+"/);
  assert.ok(!all.dot.includes("N0 "));
});

test("phase filter", () => {
  assert.equal(visibleNodes(g, "forward").length, 7);
  assert.equal(visibleNodes(g, "backward").length, 1);
  assert.equal(visibleNodes(g, "both").length, 8);
  const v = toDot(g, { phase: "backward" });
  assert.equal(v.visibleCount, 1);
  assert.equal((v.dot.match(/->/g) ?? []).length, 0);
});

test("NaN origin is the first non-finite node whose inputs are finite", () => {
  assert.equal(nanOrigin(g), "5");
  const v = toDot(g, {});
  assert.match(v.dot, /N5 \[[^\]]*peripheries=2/);
  assert.match(v.dot, /N6 \[[^\]]*color="#ff6d00"/);
  assert.equal(nanOrigin(normalize({ nodes: [{ id: 1 }], edges: [] })), null);
});

test("failing op is an octagon", () => {
  assert.match(toDot(g, {}).dot, /N7 \[[^\]]*shape=octagon/);
});

test("colour by device and by gradient magnitude", () => {
  const twoDevices = normalize({ nodes: [
    { id: 1, op: "add", outputs: [{ tensor: "a", shape: [1], dtype: "float32", device: "cpu" }] },
    { id: 2, op: "add", outputs: [{ tensor: "b", shape: [1], dtype: "float32",
      device: "cuda:0" }] }], edges: [] });
  const dot = toDot(twoDevices, { colorBy: "device" }).dot;
  const fills = [...dot.matchAll(/fillcolor="(#\w+)"/g)].map((m) => m[1]);
  assert.equal(new Set(fills).size, 2);
  assert.deepEqual(legend(twoDevices, "device").map(([d]) => d), ["cpu", "cuda:0"]);
  assert.equal(gradMagnitude(g.byId.get("0")), 3);
  assert.equal(gradMagnitude(g.byId.get("1")), null);
  assert.equal(magnitudeColor(null, 1, 2), "#f5f5f5");
  assert.equal(magnitudeColor(1, 1, 100), "#e3f2fd");
  assert.equal(magnitudeColor(100, 1, 100), "#d32f2f");
  assert.match(toDot(g, { colorBy: "grad" }).dot, /N0 \[[^\]]*fillcolor="#d32f2f"/);
});

/** A graph document with one op per [device, scope] pair (a leaf input on the first device). */
function devicesDoc(placements) {
  const ref = (t, device) => ({ tensor: t, shape: [2], dtype: "float32", device,
    requires_grad: false });
  const nodes = [{ id: 0, kind: "leaf", op: "leaf", label: "input", phase: "forward", scope: "",
    inputs: [], outputs: [ref("t0", placements[0][0])] }];
  placements.forEach(([device, scope], i) => nodes.push({ id: i + 1, kind: "op", op: "relu",
    phase: "forward", scope, inputs: [ref(`t${i}`, device)], outputs: [ref(`t${i + 1}`, device)] }));
  const edges = nodes.slice(1).map((n, i) => ({ src: i, dst: n.id, tensor: `t${i}` }));
  return normalize({ nodes, edges });
}

const fillOf = (dot, name) => new RegExp(`^\\s+${name} \\[.*?fillcolor="(#\\w+)"`, "m")
  .exec(dot)[1];

test("colour by device: the CPU, each CUDA device and other devices keep their own colours", () => {
  assert.equal(deviceColor("cpu"), CPU_COLOR);
  assert.equal(deviceColor("cuda"), CUDA_COLORS[0]);
  assert.equal(deviceColor("cuda:0"), CUDA_COLORS[0]);
  assert.equal(deviceColor("cuda:1"), CUDA_COLORS[1]);
  assert.equal(new Set([CPU_COLOR, ...CUDA_COLORS, deviceColor("mps", ["mps"])]).size,
    2 + CUDA_COLORS.length);
  // a graph all on cuda:0 draws it in the CUDA colour, never the CPU's
  const gpuOnly = devicesDoc([["cuda:0", ""], ["cuda:0", ""]]);
  const dot = toDot(gpuOnly, { colorBy: "device" }).dot;
  for (const name of ["N0", "N1", "N2"]) assert.equal(fillOf(dot, name), CUDA_COLORS[0], name);
  assert.deepEqual(legend(gpuOnly, "device"), [["cuda:0", CUDA_COLORS[0]]]);
  // legend: CPU first, CUDA devices by index (cuda:10 after cuda:2), then the others
  const mixed = devicesDoc([["cuda:10", ""], ["mps", ""], ["cuda:2", ""], ["cpu", ""]]);
  assert.deepEqual(legend(mixed, "device").map(([d]) => d), ["cpu", "cuda:2", "cuda:10", "mps"]);
});

test("a node without outputs (a failing op) takes its input's device", () => {
  const failing = normalize({ nodes: [{ id: 0, op: "mm", status: "error", outputs: [],
    inputs: [{ tensor: "a", shape: [2], dtype: "float32", device: "cuda:1" }] }], edges: [] });
  assert.equal(nodeDevice(failing.nodes[0]), "cuda:1");
  assert.equal(nodeDevice(normalize({ nodes: [{ id: 0, op: "x" }], edges: [] }).nodes[0]), "cpu");
});

test("folded scopes take their ops' device colour, or the plain box colour when mixed", () => {
  const g2 = devicesDoc([["cpu", "model.a"], ["cuda:0", "model.b"], ["cuda:0", "model.b"]]);
  const folded = toDot(g2, { colorBy: "device", collapsed: new Set(["model.a", "model.b"]) });
  const box = (path) => [...folded.names].find(([, r]) => r.type === "scope" && r.path === path)[0];
  assert.equal(fillOf(folded.dot, box("model.a")), CPU_COLOR);
  assert.equal(fillOf(folded.dot, box("model.b")), CUDA_COLORS[0]);
  const whole = toDot(g2, { colorBy: "device", collapsed: new Set(["model"]) });
  assert.equal(fillOf(whole.dot, "S0"), SCOPE_COLOR);
  assert.deepEqual(legend(g2, "device"), [["cpu", CPU_COLOR], ["cuda:0", CUDA_COLORS[0]],
    ["scope on several devices", SCOPE_COLOR]]);
  // other colour modes keep folded boxes plain
  assert.equal(fillOf(toDot(g2, { collapsed: new Set(["model.b"]) }).dot, "S0"), SCOPE_COLOR);
});

test("search matches op, label, scope and shape", () => {
  const mul = g.byId.get("2");
  assert.ok(matches(mul, "mul"));
  assert.ok(matches(mul, "a * b"));
  assert.ok(matches(mul, "model.fc"));
  assert.ok(matches(mul, "(3,)"));
  assert.ok(!matches(mul, "conv"));
  assert.ok(!matches(mul, "  "));
});

test("labels with quotes and backslashes are escaped for DOT", () => {
  const odd = normalize({ nodes: [{ id: 1, kind: "leaf", op: "leaf", label: 'say "hi"\\' }],
    edges: [] });
  assert.match(toDot(odd).dot, /label="say \\"hi\\"\\\\\\n\?"/);
});

test("repeated blocks fold into one box until expanded", () => {
  const nodes = [{ id: 0, kind: "leaf", op: "leaf", scope: "" }];
  const edges = [];
  for (let b = 0; b < 3; b++) {
    for (const [k, op] of ["MmBackward0", "ReluBackward0"].entries()) {
      const id = nodes.length;
      nodes.push({ id, op, scope: `model.blocks.${b}` });
      edges.push({ src: id - 1, dst: id });
    }
  }
  nodes.push({ id: nodes.length, op: "AddBackward0", scope: "model.blocks.3" });  // different
  edges.push({ src: nodes.length - 2, dst: nodes.length - 1 });
  const g = normalize({ nodes, edges });
  const all = new Set(["model.blocks.0", "model.blocks.1", "model.blocks.2", "model.blocks.3"]);
  const v = toDot(g, { collapsed: all });
  const boxes = [...v.names.values()].filter((r) => r.type === "scope");
  assert.deepEqual(boxes.map((r) => r.paths),
    [["model.blocks.0", "model.blocks.1", "model.blocks.2"], ["model.blocks.3"]]);
  assert.equal(v.visibleCount, 2);       // "blocks x3" (with the leaf it reads) and block 3
  assert.match(v.dot, /label="blocks \u00d73\\n\[2 ops each\] \+"/);
  assert.match(v.dot, /S0 -> S1;/);
  const open = toDot(g, { collapsed: new Set(["model.blocks.3"]) });
  assert.equal(open.visibleCount, 8);
});

/** A graph of `blocks` identical blocks "m.0", "m.1", ... of `ops` ops each, chained. */
function blocksGraph(blocks, ops) {
  const nodes = [], edges = [];
  for (let b = 0; b < blocks; b++) {
    for (let k = 0; k < ops; k++) {
      const id = nodes.length;
      nodes.push({ id, kind: "op", op: k % 2 ? "ReluBackward0" : "AddmmBackward0",
        scope: `m.${b}.layer`, phase: "forward" });
      if (id) edges.push({ src: id - 1, dst: id });
    }
  }
  return normalize({ nodes, edges });
}

test("expandBox opens a large scope one level and a fold of repeated blocks by its first", () => {
  const big = blocksGraph(30, 10);                 // 300 nodes > COLLAPSE_ABOVE
  let collapsed = expandBox(big, ["m"], ["m"]);
  assert.equal(collapsed.length, 30);
  assert.ok(collapsed.includes("m.0") && collapsed.includes("m.29") && !collapsed.includes("m"));
  const view = toDot(big, { collapsed: new Set(collapsed) });
  const fold = [...view.names.values()].find((r) => r.type === "scope");
  assert.equal(fold.paths.length, 30);             // drawn as one box "×30"
  assert.equal(view.visibleCount, 1);
  collapsed = expandBox(big, collapsed, fold.paths);   // opens m.0 only, fully (10 nodes)
  assert.deepEqual(collapsed, Array.from({ length: 29 }, (_, i) => `m.${i + 1}`));
  assert.equal(toDot(big, { collapsed: new Set(collapsed) }).visibleCount, 10 + 1);
  const small = blocksGraph(3, 10);                // 30 nodes: opens completely
  assert.deepEqual(expandBox(small, ["m"], ["m"]), []);
});
