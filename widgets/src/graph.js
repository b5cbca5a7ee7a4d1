// Pure graph logic of the GraphView (no DOM): normalising the JSON document from
// torchlite.graph, phase filtering, scope collapsing, colouring and the conversion to DOT.
// Tested with node's test runner (widgets/test/graph.test.js).

export const PHASES = ["forward", "backward", "both"];
export const COLOR_MODES = ["family", "device", "grad"];
export const COLLAPSE_ABOVE = 150;   // as torchlite/viz/_data.py: larger graphs open by levels

// Op families for colouring; the first family whose pattern matches the op name wins.
const FAMILIES = [
  ["leaf", /^(leaf|param|parameter|buffer|input|tensor|constant|grad)$/],
  ["linalg", /matmul|^mm$|bmm|addmm|linear|conv|einsum|baddbmm|^dot$|^mv$|outer|attention/],
  ["reduce", new RegExp("^(sum|mean|max|min|amax|amin|prod|std|var|norm|logsumexp|argmax|" +
    "argmin|cum|logcumsumexp|nansum|nanmean|median|nanmedian|mode|sort|topk|kthvalue|trace)")],
  ["activation", /relu|gelu|silu|sigmoid|tanh|softmax|softplus|elu|mish|hardswish|dropout/],
  ["loss", /loss|cross_entropy|nll|mse|bce/],
  ["norm", /batch_?norm|layer_?norm|group_?norm|instance_?norm|rms_?norm|normaffine|embedding/],
  ["shape", new RegExp("view|reshape|transpose|permute|expand|squeeze|unsqueeze|cat|stack|" +
    "split|chunk|^t$|flatten|contiguous|narrow|index|select|slice|gather|scatter|pad|repeat|" +
    "clone|copy|to$|unbind|masked|take|put|rot90|flip|roll|alias|unfold|im2col|col2im|diag|" +
    "tril|triu|movedim")],
  ["arith", new RegExp("^(add|sub|mul|div|neg|pow|rsub|true_divide|floor_divide|remainder|" +
    "fmod|abs|sqrt|rsqrt|exp|log|sin|cos|square|reciprocal|clamp|where|maximum|minimum|lerp|" +
    "addcmul|addcdiv)")],
];
export const FAMILY_COLORS = {
  leaf: "#e8eaf6", linalg: "#ffcc80", reduce: "#b3e5fc", activation: "#c5e1a5",
  loss: "#f48fb1", norm: "#ce93d8", shape: "#eeeeee", arith: "#fff59d", other: "#ffffff",
};
// Colour by device: the CPU always light blue, CUDA devices greens by index (cuda:0 the same
// green in every graph), any other device type from its own palette.
export const CPU_COLOR = "#bbdefb";
export const CUDA_COLORS = ["#a5d6a7", "#80cbc4", "#dce775", "#4db6ac"];
const OTHER_DEVICE_COLORS = ["#ffe0b2", "#d1c4e9", "#f8bbd0", "#ffccbc"];
export const SCOPE_COLOR = "#e0e0e0";   // a folded scope box (and one spanning several devices)
export const ERROR_COLOR = "#ef5350";

/** The op name without autograd's "Backward0" suffix ("MulBackward0" -> "Mul"). */
export const shortOp = (op) => String(op).replace(/Backward\d*$/, "") || String(op);

export function opFamily(node) {
  const kind = node.kind ?? "op";
  const name = (kind === "op" ? shortOp(node.op ?? "") : kind).toLowerCase();
  for (const [family, re] of FAMILIES) if (re.test(name)) return family;
  return "other";
}

const first = (...xs) => xs.find((x) => x !== undefined && x !== null);
const asList = (x) => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);

/** Normalise a graph document into {nodes, edges, byId, order}; tolerant of field spellings. */
export function normalize(doc) {
  const nodes = asList(doc?.nodes).map((n, i) => {
    const outMeta = asList(n.outputs).filter((o) => o && typeof o === "object" && "shape" in o);
    const pick = (key, singular) => first(n[key],
      n[singular] !== undefined ? [n[singular]] : undefined,
      outMeta.length ? outMeta.map((o) => o[singular]) : undefined) ?? [];
    return {
      ...n,
      id: String(first(n.id, i)),
      op: String(first(n.op, n.name, n.kind, "op")),
      kind: first(n.kind, "op"),
      label: first(n.label, ""),
      phase: first(n.phase, "forward"),
      scope: first(n.scope, ""),
      shapes: pick("shapes", "shape"),
      dtypes: pick("dtypes", "dtype"),
      devices: pick("devices", "device"),
      stats: nodeStats(n),
      grad_stats: first(n.grad_stats, outMeta[0]?.grad_stats),
      status: first(n.status, "ok"),
      index: i,
    };
  });
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges = asList(doc?.edges)
    .map((e) => ({ ...e, src: String(first(e.src, e.source, e.from)),
      dst: String(first(e.dst, e.target, e.to)) }))
    .filter((e) => byId.has(e.src) && byId.has(e.dst));
  return { nodes, edges, byId, meta: doc?.meta ?? {} };
}

/** Value stats of a node: its own `stats` or those of its first output. */
function nodeStats(n) {
  return first(n.stats, asList(n.outputs).find((o) => o?.stats)?.stats);
}

/** NaN plus Inf entries counted in a stats object (0 without stats). */
export const nonfiniteCount = (stats) => (stats
  ? Number(first(stats.nan, stats.nan_count, 0)) + Number(first(stats.inf, stats.inf_count, 0))
  : 0);

/** The NaN/Inf origin: the first node (in execution order) whose output has NaN/Inf while none
 * of its inputs has; falls back to the first non-finite node. Returns its id or null. */
export function nanOrigin(g) {
  const bad = g.nodes.filter((n) => nonfiniteCount(n.stats) > 0);
  if (!bad.length) return null;
  const preds = predecessors(g);
  const clean = bad.find((n) => (preds.get(n.id) ?? []).every(
    (p) => nonfiniteCount(g.byId.get(p).stats) === 0));
  return (clean ?? bad[0]).id;
}

function predecessors(g) {
  const preds = new Map();
  for (const e of g.edges) pushTo(preds, e.dst, e.src);
  return preds;
}

/** Appends `value` to the list at `key` of a Map of lists (in place: linear in the total). */
function pushTo(map, key, value) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Scope path prefixes: "a.b.c" -> ["a", "a.b", "a.b.c"]. */
export function scopePrefixes(scope) {
  if (!scope) return [];
  const parts = scope.split(".");
  return parts.map((_, i) => parts.slice(0, i + 1).join("."));
}

/** Every scope that contains nodes (with its ancestors), sorted. */
export function allScopes(g) {
  const set = new Set();
  for (const n of g.nodes) for (const p of scopePrefixes(n.scope)) set.add(p);
  return [...set].sort();
}

/** The outermost collapsed scope that contains a node's scope, or null. */
export function collapsedOwner(scope, collapsed) {
  for (const p of scopePrefixes(scope)) if (collapsed.has(p)) return p;
  return null;
}

export function visibleNodes(g, phase) {
  return phase === "both" || !phase ? g.nodes : g.nodes.filter((n) => n.phase === phase);
}

/** Gradient magnitude of a node (its gradient's norm, or its largest absolute value). */
export function gradMagnitude(node) {
  const s = node.grad_stats;
  if (!s) return null;
  const v = first(s.norm, s.abs_mean, s.absmax,
    s.max !== undefined ? Math.max(Math.abs(s.min ?? 0), Math.abs(s.max)) : undefined);
  return v === undefined ? null : Number(v);
}

/** Maps a magnitude to a white-to-red colour on a log scale between lo and hi. */
export function magnitudeColor(m, lo, hi) {
  if (m === null || !Number.isFinite(m)) return m === null ? "#f5f5f5" : ERROR_COLOR;
  const l = (x) => Math.log10(Math.max(x, 1e-30));
  const t = hi > lo ? Math.min(1, Math.max(0, (l(m) - l(lo)) / (l(hi) - l(lo)))) : 1;
  const c = (a, b) => Math.round(a + (b - a) * t).toString(16).padStart(2, "0");
  return `#${c(0xe3, 0xd3)}${c(0xf2, 0x2f)}${c(0xfd, 0x2f)}`;
}

/** The device a node computes on: its first output's, else its first input's ("cpu" if none). */
export function nodeDevice(n) {
  return n.devices[0] ?? asList(n.inputs).find((r) => r?.device)?.device ?? "cpu";
}

/** The devices of a graph, CPU first, then CUDA devices by index, then the others by name. */
function graphDevices(g) {
  const rank = (d) => (d === "cpu" ? [0, 0] : /^cuda(:\d+)?$/.test(d)
    ? [1, Number(d.split(":")[1] ?? 0)] : [2, 0]);
  return [...new Set(g.nodes.map(nodeDevice))].sort((a, b) => {
    const [ra, ia] = rank(a), [rb, ib] = rank(b);
    return ra - rb || ia - ib || a.localeCompare(b);
  });
}

/** The colour of a device; `others` lists the graph's devices that are neither CPU nor CUDA. */
export function deviceColor(device, others = []) {
  if (device === "cpu") return CPU_COLOR;
  const cuda = /^cuda(?::(\d+))?$/.exec(device);
  if (cuda) return CUDA_COLORS[Number(cuda[1] ?? 0) % CUDA_COLORS.length];
  return OTHER_DEVICE_COLORS[Math.max(0, others.indexOf(device)) % OTHER_DEVICE_COLORS.length];
}

function colorer(g, mode) {
  if (mode === "device") {
    const others = graphDevices(g).filter((d) => d !== "cpu" && !d.startsWith("cuda"));
    return (n) => deviceColor(nodeDevice(n), others);
  }
  if (mode === "grad") {
    const ms = g.nodes.map(gradMagnitude).filter((m) => m !== null && Number.isFinite(m) && m > 0);
    const lo = Math.min(...ms), hi = Math.max(...ms);
    return (n) => magnitudeColor(gradMagnitude(n), lo, hi);
  }
  return (n) => FAMILY_COLORS[opFamily(n)];
}

/** Legend entries [label, colour] for a colour mode. By device: each device of the graph, and
 * the plain box colour when the ops of some scope ran on several devices (its folded box is not
 * coloured; a box whose ops share one device takes that device's colour). */
export function legend(g, mode) {
  if (mode === "device") {
    const devices = graphDevices(g);
    const others = devices.filter((d) => d !== "cpu" && !d.startsWith("cuda"));
    const entries = devices.map((d) => [d, deviceColor(d, others)]);
    const spans = new Map();
    for (const n of g.nodes.filter((x) => x.kind === "op")) {
      for (const p of scopePrefixes(n.scope)) {
        if (!spans.has(p)) spans.set(p, new Set());
        spans.get(p).add(nodeDevice(n));
      }
    }
    if ([...spans.values()].some((set) => set.size > 1)) {
      entries.push(["scope on several devices", SCOPE_COLOR]);
    }
    return entries;
  }
  if (mode === "grad") return [["small |grad|", "#e3f2fd"], ["large |grad|", "#d32f2f"],
    ["no grad", "#f5f5f5"]];
  const fams = new Set(g.nodes.map(opFamily));
  return Object.entries(FAMILY_COLORS).filter(([f]) => fams.has(f));
}

export const dotString = (s) => `"${String(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"')
  .replace(/\n/g, "\\n")}"`;

export function formatShape(shape) {
  if (shape === undefined || shape === null) return "?";
  if (!Array.isArray(shape)) return String(shape);
  return `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
}

/** Does a node match the search text (op, label, id, scope or shape)? */
export function matches(node, query) {
  const q = query.trim().toLowerCase();
  if (!q) return false;
  return [node.op, node.label, node.id, node.scope, node.shapes.map(formatShape).join(" ")]
    .some((s) => String(s).toLowerCase().includes(q));
}

/**
 * The DOT text of the current view and the maps from DOT names back to the graph.
 * opts: {phase, collapsed (Set of scope paths), colorBy}.
 * Returns {dot, names: Map(dotName -> {type: "node"|"scope", id|path}), clusters:
 * Map(clusterName -> path), visibleCount, origin}.
 */
export function toDot(g, opts = {}) {
  const collapsed = opts.collapsed ?? new Set();
  const shown = visibleNodes(g, opts.phase);
  const color = colorer(g, opts.colorBy ?? "family");
  const origin = nanOrigin(g);
  const names = new Map(), clusters = new Map(), dotName = new Map();
  const tree = { children: new Map(), items: [] };   // scope tree of what is drawn
  const place = (scope, item) => {
    let t = tree;
    for (const p of scopePrefixes(scope)) {
      if (!t.children.has(p)) t.children.set(p, { children: new Map(), items: [] });
      t = t.children.get(p);
    }
    t.items.push(item);
  };
  const ownerOf = new Map();   // scope -> its collapsed owner (few scopes, many nodes)
  for (const n of shown) {
    if (!ownerOf.has(n.scope)) ownerOf.set(n.scope, collapsedOwner(n.scope, collapsed));
  }
  const owners = new Map(shown.map((n) => [n.id, ownerOf.get(n.scope)]));
  absorbLeaves(g, shown, owners);
  const folded = foldRepeats(shown, owners);
  const scopeNodes = new Map();   // box path -> {name, paths, ref, error, nan, fills}
  for (const n of shown) {
    const owner = owners.get(n.id);
    if (owner) {
      const paths = folded.get(owner) ?? [owner];
      if (!scopeNodes.has(paths[0])) {
        const name = `S${scopeNodes.size}`;
        const ref = { type: "scope", path: paths[0], paths, ops: 0 };   // ops: inside, in all
        names.set(name, ref);
        scopeNodes.set(paths[0], { name, paths, ref, error: false, nan: false, fills: new Set() });
        place(owner.split(".").slice(0, -1).join("."), name);
      }
      const box = scopeNodes.get(paths[0]);
      box.ref.ops += n.kind === "op";
      box.error ||= n.status === "error";
      box.nan ||= n.id === origin;
      if (n.kind === "op") box.fills.add(color(n));
      dotName.set(n.id, box.name);
    } else {
      const name = `N${n.index}`;
      names.set(name, { type: "node", id: n.id });
      dotName.set(n.id, name);
      place(n.scope, name);
    }
  }
  const lines = ["digraph G {", "  rankdir=TB; nodesep=0.25; ranksep=0.35;",
    '  node [fontname="Helvetica", fontsize=10, style="filled,rounded", shape=box, ' +
    'height=0.3, penwidth=1];', '  edge [color="#78909c", arrowsize=0.6];'];
  for (const n of shown) {
    const name = dotName.get(n.id);
    if (!name.startsWith("N")) continue;
    lines.push(`  ${name} [${nodeAttrs(n, color(n), n.id === origin).join(", ")}];`);
  }
  for (const [path, s] of scopeNodes) {
    const parts = path.split("."), k = s.paths.length;
    const label = k > 1
      ? `${parts.at(-2) ?? ""} \u00d7${k}\n[${s.ref.ops / k} ops each] +`
      : `${parts.at(-1)}\n[${s.ref.ops} op${s.ref.ops === 1 ? "" : "s"}] +`;
    // coloured by device when all its nodes share one; other modes keep the plain box colour
    const fill = opts.colorBy === "device" && s.fills.size === 1 ? [...s.fills][0] : SCOPE_COLOR;
    const attrs = [`label=${dotString(label)}`, "shape=box3d", 'style="filled"',
      `fillcolor="${s.error ? ERROR_COLOR : fill}"`, `id=${dotString(s.name)}`];
    if (s.nan) attrs.push('color="#d50000"', "penwidth=3");
    lines.push(`  ${s.name} [${attrs.join(", ")}];`);
  }
  const emit = (t, depth) => {
    for (const [path, sub] of t.children) {
      const cname = `cluster_${clusters.size}`;
      clusters.set(cname, path);
      lines.push(`${pad(depth)}subgraph ${cname} {`,
        `${pad(depth + 1)}label=${dotString(`${path.split(".").pop()} \u2212`)}; ` +
        `tooltip=${dotString(path)}; id=${dotString(cname)}; ` +
        'style="rounded,dashed"; color="#90a4ae"; fontname="Helvetica"; fontsize=10; ' +
        'fontcolor="#37474f";');
      emit(sub, depth + 1);
      lines.push(`${pad(depth)}}`);
    }
    if (depth > 1) lines.push(...t.items.map((it) => `${pad(depth)}${it};`));
  };
  emit(tree, 1);
  const seen = new Set();
  for (const e of g.edges) {
    const a = dotName.get(e.src), b = dotName.get(e.dst);
    if (!a || !b || a === b || seen.has(`${a}>${b}`)) continue;
    seen.add(`${a}>${b}`);
    // saved for backward: dotted (as the DOT export); no gradient flows: dashed
    const style = e.kind === "saved" ? "dotted" : e.requires_grad === false ? "dashed" : "";
    const attrs = style ? ` [style="${style}"]` : "";
    lines.push(`  ${a} -> ${b}${attrs};`);
  }
  lines.push("}");
  return { dot: lines.join("\n"), names, clusters, visibleCount: names.size, origin };
}

/**
 * The collapsed scopes after the user opens a box: a box of repeated blocks opens its first
 * block only (the others stay folded), and a scope holding more than `limit` nodes opens one
 * level: its child scopes start collapsed, so a large graph never lays out at once.
 */
export function expandBox(g, collapsed, paths, limit = COLLAPSE_ABOVE) {
  const path = paths[0], depth = path.split(".").length;
  const next = collapsed.filter((p) => p !== path);
  const inside = g.nodes.filter((n) => n.scope === path || n.scope.startsWith(`${path}.`));
  if (inside.length > limit) {
    const children = new Set(inside.filter((n) => scopePrefixes(n.scope).length > depth)
      .map((n) => scopePrefixes(n.scope)[depth]));
    next.push(...[...children].filter((c) => !next.includes(c)));
  }
  return next;
}

/** Leaves (inputs, constants, parameters) outside every collapsed scope whose consumers all sit
 * in one collapsed scope are drawn inside that scope's box; updates `owners` (id -> path). */
function absorbLeaves(g, shown, owners) {
  const consumers = new Map();
  for (const e of g.edges) {
    if (owners.has(e.dst)) {
      pushTo(consumers, e.src, owners.get(e.dst));
    }
  }
  for (const n of shown) {
    if (n.kind === "op" || owners.get(n.id)) continue;
    const into = new Set(consumers.get(n.id) ?? []);
    if (into.size === 1 && !into.has(null)) owners.set(n.id, [...into][0]);
  }
}

/**
 * Repeated blocks: collapsed sibling scopes named by an index ("blocks.0", "blocks.1", ...)
 * that ran the same ops fold into one box. Returns Map(path -> the sorted paths folded with it).
 */
export function foldRepeats(nodes, owners) {
  const ops = new Map();
  for (const n of nodes) {
    const o = owners.get(n.id);
    if (o && n.kind === "op") pushTo(ops, o, shortOp(n.op));
  }
  const groups = new Map();
  for (const [path, list] of ops) {
    const parts = path.split(".");
    if (parts.length < 2 || !/^\d+$/.test(parts.at(-1))) continue;
    const key = `${parts.slice(0, -1).join(".")}|${list.sort().join(",")}`;
    pushTo(groups, key, path);
  }
  const folded = new Map();
  const index = (p) => Number(p.split(".").at(-1));
  for (const paths of groups.values()) {
    if (paths.length < 2) continue;
    paths.sort((a, b) => index(a) - index(b));
    for (const p of paths) folded.set(p, paths);
  }
  return folded;
}

const pad = (d) => "  ".repeat(d);

function nodeAttrs(n, fill, isOrigin) {
  const leaf = n.kind !== "op";
  const shape = formatShape(n.shapes[0]);
  const title = leaf ? (n.label || n.op) : shortOp(n.op);
  const label = `${title}\n${shape}`;
  const attrs = [`label=${dotString(label)}`, `id=${dotString(`N${n.index}`)}`,
    `fillcolor="${n.status === "error" ? ERROR_COLOR : fill}"`];
  if (leaf) attrs.push("shape=ellipse", 'style="filled"');
  if (n.phase === "backward") attrs.push('fontcolor="#4a148c"');
  if (n.status === "error") attrs.push("shape=octagon", 'style="filled,bold"', 'color="#b71c1c"',
    "penwidth=2.5");
  if (isOrigin) attrs.push('color="#d50000"', "penwidth=3", 'peripheries=2');
  else if (nonfiniteCount(n.stats) > 0) attrs.push('color="#ff6d00"', "penwidth=2");
  return attrs;
}
