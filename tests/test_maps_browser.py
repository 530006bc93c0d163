"""The offline map seen by a person: a real headless Chromium with the network blocked.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them).  Without them the
tests are skipped locally; with ``SPOKEHUB_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail
instead, so CI never passes by skipping.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time

import numpy as np
import pytest

from optimizer import load_instance, solve
from optimizer.report.maps import CLASS, MapOptions, write_map

from .helpers import DEMO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
REQUIRE = os.environ.get("SPOKEHUB_REQUIRE_BROWSER") == "1"

pytestmark = pytest.mark.browser
if not (CHROMIUM and CHROMEDRIVER):
    if REQUIRE:
        raise RuntimeError("SPOKEHUB_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed")
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason="Debian chromium + chromium-driver not installed")]


@pytest.fixture(scope="module")
def demo_map(tmp_path_factory):
    inst = load_instance(DEMO)
    sol = solve(inst, mip_rel_gap=0)
    path = tmp_path_factory.mktemp("map") / "demo.html"
    write_map(inst, sol, path, MapOptions(offline=True))
    return inst, sol, path


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,900", "--allow-file-access-from-files"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]})
    yield driver
    driver.quit()


COUNT_JS = """
const counts = {};
for (const v of Object.values(window)) {
  if (!(v instanceof L.Layer)) continue;
  let cls = (v.options && v.options.className) || '';
  if (v instanceof L.Marker && v.options.icon) cls = v.options.icon.options.className || cls;
  if (!cls) continue;
  const kind = (v instanceof L.Polyline && !(v instanceof L.Polygon)) ? 'line'
             : (v instanceof L.Marker) ? 'marker' : (v instanceof L.CircleMarker) ? 'circle' : 'other';
  const key = cls + '|' + kind;
  counts[key] = (counts[key] || 0) + 1;
}
return counts;
"""


def _load(browser, path):
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(path.as_uri())
    for _ in range(100):
        if browser.execute_script("return typeof L !== 'undefined' && document.readyState === 'complete'"):
            break
        time.sleep(0.05)
    time.sleep(0.5)


def test_offline_map_opens_with_no_network(browser, demo_map):
    inst, sol, path = demo_map
    _load(browser, path)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    urls = []
    for entry in browser.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    assert urls, "no request seen at all: the performance log is not working"
    assert [u for u in urls if not u.startswith(("file://", "data:"))] == []


def test_layers_match_the_solution(browser, demo_map):
    """Leaflet's own layer objects (not DOM nodes: the canvas renderer draws lines without any)."""
    inst, sol, path = demo_map
    _load(browser, path)
    counts = browser.execute_script(COUNT_JS)
    sites, flows = sol.sites, sol.flows
    rs = flows[flows["echelon"] == "region_spoke"]
    sh = flows[flows["echelon"] == "spoke_hub"]
    assert len(rs.groupby(["origin", "destination"])) <= MapOptions().max_pack_lines  # no aggregation here
    expected = {
        f"{CLASS['spoke']}|marker": int((sites["open"] & (sites["kind"] == "spoke")).sum()),
        f"{CLASS['hub']}|marker": int((sites["open"] & (sites["kind"] == "hub")).sum()),
        f"{CLASS['closed']}|circle": int((~sites["open"]).sum()),
        f"{CLASS['pack']}|line": len(rs.groupby(["origin", "destination"])),
        f"{CLASS['black_mass']}|line": len(sh.groupby(["origin", "destination"])),
        f"{CLASS['merchant']}|circle": flows.loc[flows["echelon"] == "spoke_merchant", "origin"].nunique(),
        f"{CLASS['point']}|circle": len(inst.regions),
    }
    assert counts == expected
    assert all(v > 0 for v in expected.values())


def _screenshot(browser) -> np.ndarray:
    from PIL import Image

    png = browser.find_element("css selector", ".folium-map").screenshot_as_png
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_screenshot_is_rich_and_reacts_to_layer_toggles(browser, demo_map, tmp_path):
    inst, sol, path = demo_map
    _load(browser, path)
    before = _screenshot(browser)
    colours = {tuple(c) for c in before.reshape(-1, 3)[::7]}
    assert len(colours) >= 30, len(colours)
    from PIL import Image

    # SPOKEHUB_SCREENSHOT_DIR keeps the screenshot (maps/screenshots/ holds the committed one)
    shots = os.environ.get("SPOKEHUB_SCREENSHOT_DIR")
    Image.fromarray(before).save((tmp_path if not shots else __import__("pathlib").Path(shots)) / "demo-map-browser.png")
    for label in ("Flows: packs region -> spoke", "Flows: black mass spoke -> hub"):
        box = browser.find_element("xpath", f"//label[contains(., '{label}')]//input")
        box.click()
    time.sleep(0.5)
    after = _screenshot(browser)
    changed = np.any(before != after, axis=2).mean()
    assert changed > 0.002, changed
    greens = lambda img: np.sum((img[..., 1] > 130) & (img[..., 0] < 90) & (img[..., 2] < 110))  # noqa: E731
    assert greens(after) < greens(before) / 3  # the green pack lines are gone


OPEN_ALL_JS = """
let opened = 0;
for (const v of Object.values(window)) {
  if (!(v instanceof L.Layer)) continue;
  const layers = (v.getLayers ? v.getLayers() : [v]);
  for (const l of layers) {
    if (l.getTooltip && l.getTooltip()) { l.openTooltip(); opened++; }
    if (l.getPopup && l.getPopup()) { l.openPopup(); opened++; }
  }
}
return opened;
"""


def test_no_script_from_the_data_runs(browser, tmp_path):
    """Markup in every name (instance, regions, sites, outlines, currency): after loading each
    HTML output and opening every tooltip and popup, no payload has run and the page has no
    script error (a backtick or ${...} breaking Folium's template strings would show as one)."""
    from .test_security import hostile_maps

    for what, path in hostile_maps(tmp_path).items():
        _load(browser, path)
        opened = browser.execute_script(OPEN_ALL_JS)
        time.sleep(0.3)
        assert opened > 10, (what, opened)
        assert browser.execute_script("return typeof window.__pwned") == "undefined", what
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], (what, errors)
        assert "onerror" in browser.page_source or what == "robustness"  # the names are on the page, as text
