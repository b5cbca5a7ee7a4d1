// anywidget front end of torchlite.viz.BackpropStepper: the graph laid out by Graphviz (the
// GraphView's toDot, WebAssembly layout in the browser) with the current node highlighted and
// the edges already traversed labelled with their gradients, prev/next/play/reset buttons and a
// panel with the chain-rule numbers of the current step. The `step` trait is synced to Python.
import css from "./style.css";
import stepperCss from "./stepper.css";
import { getViz, h, injectStyle } from "./dom.js";
import { normalize, toDot } from "./graph.js";
import { edgeLabels, labelDot, panel } from "./stepper_format.js";

const PLAY_MS = 900;

function render({ model, el }) {
  injectStyle(el.ownerDocument, "tlv-style", css);
  injectStyle(el.ownerDocument, "tlv-stepper-style", stepperCss);
  let timer = null, generation = 0;
  const steps = () => model.get("steps"), leaves = () => model.get("leaves");
  const setStep = (k) => {
    const n = Math.max(0, Math.min(steps().length, k));
    if (n === model.get("step")) return update();
    model.set("step", n);
    model.save_changes();
    update();
  };
  const stop = () => { clearInterval(timer); timer = null; playBtn.textContent = "play"; };
  const btn = (cls, text, fn) => h("button", { class: `tlv-${cls}`, type: "button",
    onclick: fn }, text);
  const playBtn = btn("play", "play", () => {
    if (timer) return stop();
    if (model.get("step") >= steps().length) setStep(0);
    playBtn.textContent = "pause";
    timer = setInterval(() => {
      if (model.get("step") >= steps().length) return stop();
      setStep(model.get("step") + 1);
    }, PLAY_MS);
  });
  const counter = h("span", { class: "tlv-count" });
  const toolbar = h("div", { class: "tlv-toolbar" },
    btn("reset", "reset", () => { stop(); setStep(0); }),
    btn("prev", "\u25c0 prev", () => { stop(); setStep(model.get("step") - 1); }),
    btn("next", "next \u25b6", () => { stop(); setStep(model.get("step") + 1); }),
    playBtn, counter);
  const canvas = h("div", { class: "tlv-canvas tlv-stepper-canvas" },
    h("div", { class: "tlv-loading" }, "laying out the graph\u2026"));
  const side = h("div", { class: "tlv-stepper-panel" });
  el.classList.add("tlv-root", "tlv-stepper");
  el.replaceChildren(toolbar, h("div", { class: "tlv-body" }, canvas, side));

  async function draw(k) {
    const gen = ++generation;
    const g = normalize(model.get("graph"));
    const view = toDot(g, { phase: "both" });
    const dot = labelDot(view.dot, view.names, edgeLabels(steps(), k));
    const viz = await getViz();
    if (gen !== generation) return;
    let svg;
    try {
      svg = viz.renderSVGElement(dot);
    } catch (err) {
      canvas.replaceChildren(h("pre", { class: "tlv-error" }, `Graphviz error: ${err}`));
      return;
    }
    svg.classList.add("tlv-svg");
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    const current = k > 0 ? steps()[k - 1].node : null;
    const done = new Set(steps().slice(0, k).map((s) => s.node));
    const got = k > 0 ? steps()[k - 1].leaf_grads : {};
    for (const node of svg.querySelectorAll("g.node")) {
      const ref = view.names.get(node.id);
      if (!ref || ref.type !== "node") continue;
      node.dataset.node = ref.id;
      node.classList.toggle("tlv-current", ref.id === current);
      node.classList.toggle("tlv-done", done.has(ref.id) && ref.id !== current);
      node.classList.toggle("tlv-has-grad", ref.id in got);
    }
    canvas.replaceChildren(svg);
    el.dataset.rendered = String(k);
  }

  function update() {
    const k = model.get("step");
    const p = panel(steps(), leaves(), k);
    counter.textContent = `${k} / ${steps().length}`;
    const table = (rows, cls, head = null) => h("table", { class: cls },
      ...(head ? [h("tr", {}, ...head.map((t) => h("th", {}, t)))] : []),
      ...rows.map(([name, ...texts]) => h("tr", { "data-key": name }, h("th", {}, name),
        ...texts.map((t, j) => h("td", { class: texts.length > 1 ? ["tlv-value", "tlv-grad"][j]
          : "" }, t)))));
    side.replaceChildren(h("div", { class: "tlv-stepper-title" }, p.title),
      table(p.rows, "tlv-chain"),
      h("div", { class: "tlv-section-title" }, "leaves"),
      table(p.leaves, "tlv-leaf-grads", ["", "value", ".grad so far"]));
    side.dataset.step = String(k);
    draw(k);
  }

  const listeners = ["step", "steps", "graph"].map((key) => [`change:${key}`, update]);
  for (const [ev, fn] of listeners) model.on(ev, fn);
  update();
  return () => {
    stop();
    for (const [ev, fn] of listeners) model.off(ev, fn);
  };
}

export default { render };
