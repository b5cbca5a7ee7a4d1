// Entry of the self-contained HTML export: reads the graph from an inline JSON script element.
import { createView } from "./view.js";

const data = JSON.parse(document.getElementById("torchlite-graph-data").textContent);
createView(document.getElementById("torchlite-graph"), data, null);
