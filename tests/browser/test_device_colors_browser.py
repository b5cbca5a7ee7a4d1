"""Colour by device in a real browser: a recorded training step of a model on "cuda:0" fed from a
CPU tensor, exported with save_html and opened from file://. CUDA nodes are filled with one
colour, the CPU input with another, folded scopes take their ops' device colour, and the legend
names both devices with the colours the nodes are drawn in.

The recording runs on the CPU (no GPU here) and its tensors are then placed on cuda:0 as a real
GPU run records them: the input leaf stays on the CPU, its copy ``x.to(...)`` and everything
after it are on cuda:0. The document is checked against the graph schema."""
from playwright.sync_api import expect

import torchlite
from tests.browser.lab import report
from tests.viz.frontend import ensure_bundle
from torchlite.graph import record, schema
from torchlite.viz import save_html

CUDA = "cuda:0"


def _recorded_on_two_devices():
    """A recorded forward/backward step; every tensor but the CPU input lives on cuda:0."""
    torchlite.manual_seed(0)
    model = torchlite.nn.Sequential(torchlite.nn.Linear(4, 8), torchlite.nn.ReLU(),
                                    torchlite.nn.Linear(8, 2))
    x = torchlite.randn(3, 4)
    with record(values="stats", model=model) as g:
        model(x.to("cpu", copy=True)).sum().backward()
    doc = g.to_dict()
    cpu_input = doc["nodes"][0]["outputs"][0]["tensor"]
    for node in doc["nodes"]:
        for ref in node["inputs"] + node["outputs"] + node.get("saved", []):
            if "tensor" in ref and ref["tensor"] != cpu_input:
                ref["device"] = CUDA
        if node["op"] == "ToCopyBackward0":
            node["params"]["device"] = "device(type='cuda', index=0)"
    schema.validate(doc)
    return doc


def _hex(rgb):
    """'rgb(165, 214, 167)' -> '#a5d6a7'."""
    parts = rgb[rgb.index("(") + 1:rgb.index(")")].split(",")
    return "#" + "".join(f"{int(p):02x}" for p in parts[:3])


NODE_FILLS = """root => Object.fromEntries([...root.querySelectorAll('g.node')].map(g => [
  g.dataset.node ?? g.dataset.scope,
  [...g.querySelectorAll('polygon, path, ellipse')].map(s => s.getAttribute('fill'))
    .find(f => f && f.startsWith('#'))]))"""


def test_cuda_nodes_get_the_cuda_colour_and_the_legend_names_both_devices(page, tmp_path):
    ensure_bundle()
    doc = _recorded_on_two_devices()
    devices = {str(n["id"]): n["outputs"][0]["device"] for n in doc["nodes"]}
    assert set(devices.values()) == {"cpu", CUDA}
    page.goto(save_html(doc, tmp_path / "devices.html").as_uri())
    root = page.locator(".tlv-root")
    expect(root.locator("svg g.node")).to_have_count(len(doc["nodes"]), timeout=30_000)
    try:
        _check_device_colours(page, root, devices, tmp_path)
    except Exception:
        report(page, tmp_path / "failure.png")
        raise
    assert page.external_requests == []


def _check_device_colours(page, root, devices, tmp_path):
    root.locator("select.tlv-color").select_option("device")
    legend = root.locator(".tlv-legend .tlv-legend-item")
    expect(legend).to_have_text(["cpu", CUDA])
    fills = root.evaluate(NODE_FILLS)
    by_device = {d: {fills[n] for n, dev in devices.items() if dev == d} for d in ("cpu", CUDA)}
    assert len(by_device["cpu"]) == 1 and len(by_device[CUDA]) == 1, by_device
    assert by_device["cpu"] != by_device[CUDA]
    swatches = {legend.nth(i).inner_text(): _hex(legend.nth(i).locator(".tlv-swatch").evaluate(
        "s => getComputedStyle(s).backgroundColor")) for i in range(2)}
    assert swatches == {d: next(iter(by_device[d])) for d in ("cpu", CUDA)}
    page.screenshot(path=str(tmp_path / "by_device.png"))

    # the tooltip of a CUDA node names its device
    cuda_node = next(n for n, d in devices.items() if d == CUDA)
    root.locator(f"g.node[data-node='{cuda_node}']").hover()
    expect(root.locator(".tlv-tooltip")).to_contain_text(f"device {CUDA}")

    # a folded scope of CUDA ops is drawn in the CUDA colour
    root.locator("g.cluster[data-scope='model.2'] text.tlv-cluster-label").click()
    box = root.locator("g.node[data-scope='model.2']")
    expect(box).to_have_count(1)
    assert root.evaluate(NODE_FILLS)["model.2"] == swatches[CUDA]

    # colour by op family again: the legend lists families, the devices are gone
    root.locator("select.tlv-color").select_option("family")
    expect(legend.filter(has_text=CUDA)).to_have_count(0)
    assert len(set(root.evaluate(NODE_FILLS).values())) > 2

