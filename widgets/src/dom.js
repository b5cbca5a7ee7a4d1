// DOM helpers shared by the widgets' front ends (GraphView, BackpropStepper).
import { instance } from "@viz-js/viz";

let vizPromise; // one Graphviz WebAssembly instance per page, shared by every view
export const getViz = () => (vizPromise ??= instance());

/** Adds a <style id=`id`> holding `css` to the document's head, once per document. */
export function injectStyle(doc, id, css) {
  if (doc.getElementById(id)) return;
  const style = doc.createElement("style");
  style.id = id;
  style.textContent = css;
  doc.head.append(style);
}

/** An element: `class`, `on<event>` listeners, `dataset` and attributes from `props`; null and
 * undefined children are skipped. */
export function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}
