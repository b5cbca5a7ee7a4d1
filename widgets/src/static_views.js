// Entry of the docs' static pages: mounts every torchlite view saved in the page (a
// <div class="torchlite-static-view" data-view="graph|stepper|dashboard"> holding a JSON script
// with the widget's traits) by running the widget's own render() against an in-memory model.
// No widget manager, no kernel, no CDN: the page works offline, and the user can still pan,
// zoom, inspect and step (changes stay in the page).
import graph from "./widget.js";
import stepper from "./stepper.js";
import dashboard from "./dashboard.js";

const VIEWS = { graph, stepper, dashboard };

function fromBase64(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return bytes.buffer;
}

/**
 * The part of an anywidget model a render() uses, over the saved `state`: get/set/save_changes,
 * change and custom-message events. A view asking for its history ({event: "sync"}) receives
 * `state._sync` ({content, buffers: [base64]}), the message Python would have sent.
 */
export function memoryModel(state) {
  const listeners = new Map();
  const emit = (event, ...args) => (listeners.get(event) || []).forEach((fn) => fn(...args));
  return {
    get: (key) => state[key],
    set(key, value) {
      state[key] = value;
      emit(`change:${key}`);
    },
    save_changes() {},
    on: (event, fn) => listeners.set(event, [...(listeners.get(event) || []), fn]),
    off: (event, fn) => listeners.set(event, (listeners.get(event) || []).filter((f) => f !== fn)),
    send(content) {
      const reply = state._sync;
      if (content && content.event === "sync" && reply) {
        setTimeout(() => emit("msg:custom", reply.content, reply.buffers.map(fromBase64)));
      }
    },
  };
}

/** Mounts every saved view of `doc` that is not mounted yet. */
export function mountAll(doc) {
  for (const host of doc.querySelectorAll(".torchlite-static-view:not([data-mounted])")) {
    host.dataset.mounted = "true";
    const saved = JSON.parse(host.querySelector("script[type='application/json']").textContent);
    const el = doc.createElement("div");
    host.append(el);
    VIEWS[saved.view].render({ model: memoryModel(saved.state), el });
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => mountAll(document));
} else {
  mountAll(document);
}
