// The GraphView's DOM: toolbar, Graphviz SVG (laid out in the browser by @viz-js/viz, WebAssembly
// embedded in the bundle), pan/zoom/fit, tooltip, inspector. Shared by the anywidget front end
// (widget.js) and the standalone HTML export (standalone.js).
import css from "./style.css";
import { getViz, h, injectStyle } from "./dom.js";
import { COLOR_MODES, PHASES, allScopes, expandBox, legend, matches, normalize, toDot }
  from "./graph.js";
import { extent, linePath, toBox } from "./chart.js";
import { formatNumber, historyRows, inspectorSections, tooltipText } from "./format.js";

const MAX_ZOOM = 1.5; // CSS pixels per SVG point when fitting a small graph
const COLOR_LABELS = { family: "op family", device: "device", grad: "gradient magnitude" };

/**
 * Mounts a graph view in `el`. `state` holds {graph, phase, color_by, collapsed, selected};
 * `onChange(key, value)` is called when the user changes one of them (the widget syncs it).
 * `requestHistory(id)`, when given, asks for a node's history over training steps, which
 * arrives through `setHistory(id, history)`. Returns {set(key, value), setHistory, destroy()}.
 */
export function createView(el, state, onChange, requestHistory = null) {
  injectStyle(el.ownerDocument, "tlv-style", css);
  const s = { phase: "both", color_by: "family", collapsed: [], selected: "", ...state };
  let g = normalize(s.graph), current = null, search = "", generation = 0;
  const histories = new Map();   // node id -> history (null: asked, not arrived yet)

  const phaseButtons = PHASES.map((p) => h("button", {
    class: "tlv-phase", dataset: { phase: p }, type: "button",
    onclick: () => change("phase", p) }, p));
  const colorSelect = h("select", { class: "tlv-color", title: "colour nodes by",
    onchange: () => change("color_by", colorSelect.value) },
  ...COLOR_MODES.map((m) => h("option", { value: m }, COLOR_LABELS[m])));
  const searchBox = h("input", { class: "tlv-search", type: "search", placeholder: "search ops…",
    oninput: () => { search = searchBox.value; highlight(); },
    onkeydown: (ev) => { if (ev.key === "Enter") selectFirstMatch(); } });
  const count = h("span", { class: "tlv-count" });
  const button = (cls, text, title, fn) => h("button", { class: cls, type: "button", title,
    onclick: fn }, text);
  const toolbar = h("div", { class: "tlv-toolbar" },
    h("span", { class: "tlv-segment" }, ...phaseButtons), h("label", {}, "colour ", colorSelect),
    searchBox, button("tlv-fit", "fit", "fit the graph in view", () => fit()),
    button("tlv-zoom-in", "+", "zoom in", () => zoomBy(0.8)),
    button("tlv-zoom-out", "\u2212", "zoom out", () => zoomBy(1.25)),
    button("tlv-collapse-all", "collapse all", "collapse every module scope",
      () => change("collapsed", allScopes(g).filter((p) => !p.includes(".")))),
    button("tlv-expand-all", "expand all", "expand every module scope",
      () => change("collapsed", [])), count);
  const banner = h("div", { class: "tlv-banner" });
  const legendBox = h("div", { class: "tlv-legend" });
  const canvas = h("div", { class: "tlv-canvas" }, h("div", { class: "tlv-loading" },
    "laying out the graph…"));
  const inspector = h("div", { class: "tlv-inspector", hidden: "" });
  const tooltip = h("div", { class: "tlv-tooltip", hidden: "" });
  el.classList.add("tlv-root");
  el.replaceChildren(toolbar, banner, legendBox,
    h("div", { class: "tlv-body" }, canvas, inspector), tooltip);

  function change(key, value) {
    s[key] = value;
    onChange?.(key, value);
    apply(key);
  }

  function apply(key) {
    if (key === "selected") { highlight(); renderInspector(); return; }
    if (key === "graph") {
      g = normalize(s.graph);
      histories.clear();
    }
    draw(key === "graph" || key === "phase" || key === "collapsed");
  }

  // ---- drawing ---------------------------------------------------------------------------
  async function draw(relayout) {
    const gen = ++generation;
    for (const b of phaseButtons) {
      b.setAttribute("aria-pressed", String(b.dataset.phase === s.phase));
    }
    colorSelect.value = s.color_by;
    const view = toDot(g, { phase: s.phase, collapsed: new Set(s.collapsed), colorBy: s.color_by });
    const viz = await getViz();
    if (gen !== generation) return;
    let svg;
    try {
      svg = viz.renderSVGElement(view.dot);
    } catch (err) {
      canvas.replaceChildren(h("pre", { class: "tlv-error" }, `Graphviz error: ${err}`));
      return;
    }
    const keep = current && !relayout ? current.vb : null;
    current = { svg, view, base: parseViewBox(svg), vb: null };
    svg.classList.add("tlv-svg");
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    for (const t of svg.querySelectorAll("title")) t.remove();  // our tooltip replaces them
    wireNodes(svg, view);
    canvas.replaceChildren(svg);
    if (keep) setViewBox(keep);
    else fit();
    const n = g.nodes.length;
    count.textContent = `${view.visibleCount} shown / ${n} nodes`;
    renderLegend();
    renderBanner(view.origin);
    highlight();
    renderInspector();
    el.dataset.rendered = String(Number(el.dataset.rendered ?? 0) + 1);
  }

  function wireNodes(svg, view) {
    for (const node of svg.querySelectorAll("g.node")) {
      const ref = view.names.get(node.id);
      if (!ref) continue;
      if (ref.type === "node") node.dataset.node = ref.id;
      else node.dataset.scope = ref.path;
      node.addEventListener("click", (ev) => {
        if (dragged) return;
        ev.stopPropagation();
        if (ref.type === "node") change("selected", ref.id);
        else change("collapsed", expandBox(g, s.collapsed, ref.paths));
      });
      node.addEventListener("mousemove", (ev) => showTooltip(ev, ref));
      node.addEventListener("mouseleave", () => { tooltip.hidden = true; });
    }
    for (const cluster of svg.querySelectorAll("g.cluster")) {
      const path = view.clusters.get(cluster.id);
      cluster.dataset.scope = path;
      const label = cluster.querySelector("text");
      if (!label) continue;
      label.classList.add("tlv-cluster-label");
      label.addEventListener("click", (ev) => {
        if (dragged) return;
        ev.stopPropagation();
        change("collapsed", [...new Set([...s.collapsed, path])]);
      });
    }
  }

  function showTooltip(ev, ref) {
    if (ref.type === "node") tooltip.textContent = tooltipText(g.byId.get(ref.id));
    else {
      const what = ref.paths.length > 1 ? `${ref.paths.length} repeated blocks ${ref.paths[0]}` +
        ` \u2026 ${ref.paths.at(-1)}` : `scope ${ref.path}`;
      const open = ref.paths.length > 1 ? "click to expand the first" : "click to expand";
      tooltip.textContent = `${what}\n${ref.ops} ops (${open})`;
    }
    tooltip.hidden = false;
    const box = el.getBoundingClientRect();
    tooltip.style.left = `${ev.clientX - box.left + 14}px`;
    tooltip.style.top = `${ev.clientY - box.top + 14}px`;
  }

  function highlight() {
    if (!current) return;
    let hits = 0;
    for (const node of current.svg.querySelectorAll("g.node")) {
      const n = node.dataset.node !== undefined ? g.byId.get(node.dataset.node) : null;
      const hit = Boolean(search.trim()) && n !== null && matches(n, search);
      hits += hit;
      node.classList.toggle("tlv-match", hit);
      node.classList.toggle("tlv-dim", Boolean(search.trim()) && !hit);
      node.classList.toggle("tlv-selected", n !== null && n.id === s.selected);
    }
    searchBox.classList.toggle("tlv-nohit", Boolean(search.trim()) && hits === 0);
  }

  function selectFirstMatch() {
    const n = g.nodes.find((x) => matches(x, search));
    if (n) change("selected", n.id);
  }

  function renderLegend() {
    legendBox.replaceChildren(...legend(g, s.color_by).map(([name, color]) =>
      h("span", { class: "tlv-legend-item" },
        h("span", { class: "tlv-swatch", style: `background:${color}` }), name)));
  }

  function renderBanner(origin) {
    const items = [];
    if (origin) {
      const n = g.byId.get(origin);
      items.push(h("div", { class: "tlv-nan", onclick: () => change("selected", origin) },
        `NaN/Inf first appears at ${n.op}${n.scope ? ` in ${n.scope}` : ""} (node ${n.id})`));
    }
    for (const n of g.nodes.filter((x) => x.status === "error")) {
      items.push(h("div", { class: "tlv-failed", onclick: () => change("selected", n.id) },
        `${n.op} raised${n.error ? `: ${n.error}` : ""}`));
    }
    banner.replaceChildren(...items);
    banner.hidden = !items.length;
  }

  function renderInspector() {
    const n = s.selected ? g.byId.get(s.selected) : null;
    inspector.hidden = !n;
    if (!n) return inspector.replaceChildren();
    const close = button("tlv-close", "\u00d7", "close", () => change("selected", ""));
    const sections = inspectorSections(n).map((sec) => h("div", { class: "tlv-section" },
      h("div", { class: "tlv-section-title" }, sec.title),
      h("table", {}, ...sec.rows.map(([k, v]) => h("tr", { dataset: { key: k } },
        h("th", {}, k), h("td", {}, v)))),
      sec.hist ? histogramSvg(sec.hist) : null));
    if (requestHistory) {
      if (!histories.has(n.id)) {
        histories.set(n.id, null);
        requestHistory(n.id);
      }
      sections.push(historySection(histories.get(n.id)));
    }
    inspector.replaceChildren(h("div", { class: "tlv-inspector-title" },
      `${n.op} `, h("span", { class: "tlv-id" }, `#${n.id}`), close), ...sections);
  }

  // ---- pan / zoom / fit on the SVG viewBox ------------------------------------------------
  function setViewBox(vb) {
    current.vb = vb;
    current.svg.setAttribute("viewBox", vb.join(" "));
  }
  /** The whole graph in view, magnified at most MAX_ZOOM times (small graphs stay small). */
  function fit() {
    if (!current) return;
    const [x, y, w, hgt] = current.base;
    const r = canvas.getBoundingClientRect();
    const scale = Math.max(w / r.width, hgt / r.height, 1 / MAX_ZOOM);
    if (!r.width || !r.height) return setViewBox(current.base);
    const cw = r.width * scale, ch = r.height * scale;
    setViewBox([x + w / 2 - cw / 2, y + hgt / 2 - ch / 2, cw, ch]);
  }
  function zoomBy(f, cx, cy) {
    if (!current) return;
    const [x, y, w, hgt] = current.vb;
    const px = cx ?? x + w / 2, py = cy ?? y + hgt / 2;
    setViewBox([px - (px - x) * f, py - (py - y) * f, w * f, hgt * f]);
  }
  function toSvgPoint(ev) {
    const r = current.svg.getBoundingClientRect();
    const [x, y, w, hgt] = current.vb;
    const scale = Math.max(w / r.width, hgt / r.height);
    const ox = x + w / 2 - (r.width * scale) / 2, oy = y + hgt / 2 - (r.height * scale) / 2;
    return [ox + (ev.clientX - r.left) * scale, oy + (ev.clientY - r.top) * scale, scale];
  }
  let drag = null, dragged = false;
  const onWheel = (ev) => {
    if (!current) return;
    ev.preventDefault();
    const [px, py] = toSvgPoint(ev);
    zoomBy(ev.deltaY > 0 ? 1.15 : 1 / 1.15, px, py);
  };
  const onDown = (ev) => {
    if (!current || ev.button !== 0) return;
    drag = { x: ev.clientX, y: ev.clientY, vb: current.vb, scale: toSvgPoint(ev)[2] };
    dragged = false;
  };
  const onMove = (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) dragged = true;
    if (dragged) {
      const [x, y, w, hgt] = drag.vb;
      setViewBox([x - dx * drag.scale, y - dy * drag.scale, w, hgt]);
    }
  };
  const onUp = () => { drag = null; setTimeout(() => { dragged = false; }, 0); };
  canvas.addEventListener("wheel", onWheel, { passive: false });
  canvas.addEventListener("mousedown", onDown);
  window.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);

  draw(true);
  return {
    set(key, value) { s[key] = value; apply(key); },
    setHistory(id, history) {
      histories.set(String(id), history ?? { steps: [] });
      if (String(id) === s.selected) renderInspector();
    },
    destroy() {
      window.removeEventListener("mousemove", onMove);
      window.removeEventListener("mouseup", onUp);
    },
  };
}

function parseViewBox(svg) {
  const vb = (svg.getAttribute("viewBox") ?? "").split(/[\s,]+/).map(Number);
  return vb.length === 4 && vb.every(Number.isFinite) ? vb : [0, 0, 100, 100];
}

/** The inspector's "history" section: per statistic, a sparkline over the recorded steps and the
 * latest value; `history` null while it is on its way. */
function historySection(history) {
  const title = (text) => h("div", { class: "tlv-section-title" }, text);
  if (!history) {
    return h("div", { class: "tlv-section tlv-history" }, title("history"), "loading\u2026");
  }
  const { steps } = history, rows = historyRows(history);
  if (!steps.length || !rows.length) {
    return h("div", { class: "tlv-section tlv-history", dataset: { steps: "0" } },
      title("history"), "not recorded for this node (forward nodes of recorded steps only)");
  }
  const span = steps.length > 1 ? `steps ${steps[0]}–${steps.at(-1)}` : `step ${steps[0]}`;
  return h("div", { class: "tlv-section tlv-history", dataset: { steps: String(steps.length) } },
    title(`history: ${steps.length} recorded ${span}`),
    h("table", {}, ...rows.map((r) => h("tr", { dataset: { key: r.key } }, h("th", {}, r.key),
      h("td", { class: "tlv-spark-cell" }, sparkline(steps, r.values)), h("td", {}, r.last)))));
}

function sparkline(xs, ys) {
  const W = 110, H = 22, ns = "http://www.w3.org/2000/svg";
  const box = { x: extent(xs), y: extent(ys), left: 2, top: 2, width: W - 4, height: H - 4 };
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "tlv-spark");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", linePath(xs, ys, box));
  path.dataset.points = String(ys.filter(Number.isFinite).length);
  svg.append(path);
  const last = ys.findLastIndex(Number.isFinite);
  if (last >= 0) {   // the latest point, visible even when it is the only one
    const [x, y] = toBox(xs[last], ys[last], box);
    const dot = document.createElementNS(ns, "circle");
    Object.entries({ cx: x, cy: y, r: 1.8 }).forEach(([k, v]) => dot.setAttribute(k, v));
    svg.append(dot);
  }
  return svg;
}

function histogramSvg({ counts, edges }) {
  const W = 240, H = 48, max = Math.max(...counts, 1), bw = W / counts.length;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H + 12}`);
  svg.setAttribute("class", "tlv-hist");
  counts.forEach((c, i) => {
    const r = document.createElementNS(ns, "rect");
    const bh = (c / max) * H;
    Object.entries({ x: i * bw + 0.5, y: H - bh, width: Math.max(bw - 1, 0.5), height: bh })
      .forEach(([k, v]) => r.setAttribute(k, v));
    svg.append(r);
  });
  if (edges?.length) {
    for (const [x, v, anchor] of [[0, edges[0], "start"], [W, edges.at(-1), "end"]]) {
      const t = document.createElementNS(ns, "text");
      t.setAttribute("x", x);
      t.setAttribute("y", H + 10);
      t.setAttribute("text-anchor", anchor);
      t.textContent = formatNumber(v);
      svg.append(t);
    }
  }
  return svg;
}
