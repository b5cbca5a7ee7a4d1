// anywidget front end of torchlite.viz.GraphView: the synced traits drive a shared view.
import { createView } from "./view.js";

const TRAITS = ["graph", "phase", "color_by", "collapsed", "selected"];

function render({ model, el }) {
  const state = Object.fromEntries(TRAITS.map((k) => [k, model.get(k)]));
  const requestHistory = model.get("has_history")
    ? (id) => model.send({ event: "history", node: id }) : null;
  const view = createView(el, state, (key, value) => {
    model.set(key, value);
    model.save_changes();
    if (key === "selected" && value) model.send({ event: "select", node: value });
  }, requestHistory);
  const onMessage = (content) => {
    if (content?.event === "history") view.setHistory(content.node, content.history);
  };
  const listeners = [...TRAITS.map((k) => [`change:${k}`, () => view.set(k, model.get(k))]),
    ["msg:custom", onMessage]];
  for (const [ev, fn] of listeners) model.on(ev, fn);
  return () => {
    for (const [ev, fn] of listeners) model.off(ev, fn);
    view.destroy();
  };
}

export default { render };
