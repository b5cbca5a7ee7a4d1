// Bundles the front end into torchlite/viz/static/ (not committed): the anywidget ES module and
// the classic script inlined by save_html. @viz-js/viz embeds its WebAssembly: no runtime fetch.
import { build } from "esbuild";

const common = { bundle: true, minify: true, platform: "browser", target: "es2020",
  loader: { ".css": "text" }, logLevel: "info" };
await build({ ...common, entryPoints: ["src/widget.js"], format: "esm",
  outfile: "../torchlite/viz/static/graph_view.js" });
await build({ ...common, entryPoints: ["src/standalone.js"], format: "iife",
  outfile: "../torchlite/viz/static/graph_view_standalone.js" });
await build({ ...common, entryPoints: ["src/stepper.js"], format: "esm",
  outfile: "../torchlite/viz/static/stepper.js" });
await build({ ...common, entryPoints: ["src/dashboard.js"], format: "esm",
  outfile: "../torchlite/viz/static/dashboard.js" });
// the docs' static pages: every view, mounted from traits saved in the page (no widget manager)
await build({ ...common, entryPoints: ["src/static_views.js"], format: "iife",
  outfile: "../torchlite/viz/static/static_views.js" });
