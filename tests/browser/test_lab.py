"""Browser test of the propagation lab (``book/_static/lab/lab.js``) in the built book.

Drives the panel of ``book/lab.html`` in headless Chromium (Debian's ``/usr/bin/chromium`` through
Playwright, launched as ``test_site.py`` does) and checks:

* **agreement**: for settings covering every kernel family, the sizes 2, 3 and 5, the four
  activations, typed kernels and the three patterns, the panel's centre of mass after 10 and 50
  steps equals the library's (:func:`infomech.lab.lab_settings_reference`, the same kernel and image
  through :func:`infomech.propagation.propagate`) to ``1e-9`` relative (floor 1 px); the family
  kernels equal the library's to ``1e-14``; the live point of the speed-law plot lies on the curve
  measured at build time;
* **speed**: steps per second of step + render for a 3x3 kernel on the 201x201 image (played and
  raw), at least 30; the numbers are printed and written to ``_build/screenshots/lab-speed.json``;
* keyboard operation, labelled controls, a 390 px wide screen, dark mode, loading from
  ``file://``, the panels of the two chapters, no console errors and no request leaving localhost;
* with ``INFOMECH_SCREENSHOTS=1``, screenshots ``_build/screenshots/lab-*.png`` (light/dark,
  1280/390 px, several states).

Collected only with ``INFOMECH_SITE_TESTS=1`` (``make test``); the site directory is
``INFOMECH_SITE_DIR`` (default ``_build/html``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from site_env import LOCAL_HOSTS, SHOTS, SITE, screenshots_wanted

from infomech import lab

LAB_PAGE = "book/lab.html"
CHAPTER_PANELS = {"book/odd-displacement.html": "odd-displacement", "book/speed-law.html": "speed-law"}
RTOL = 1e-9
MIN_STEPS_PER_SECOND = 30.0
#: Play speed (steps/s) of the shared lab page: the panel's fastest, so a 50-step run takes ~0.4 s.
SHARED_RATE = 120


@dataclass(frozen=True)
class Setting:
    family: str
    size: int
    activation: str
    pattern: str
    beta2: float = 0.5
    theta: float = 0.0
    seed: int = 1
    kernel: str = ""
    rescale: bool = True

    @property
    def name(self) -> str:
        extra = {"steered": f"-th{self.theta:g}", "random": f"-seed{self.seed}", "user": ""}.get(
            self.family, f"-b{self.beta2:g}")
        return (f"{self.family}{self.size}{extra}-{self.activation}-{self.pattern}"
                + ("" if self.rescale else "-norescale"))


SETTINGS = [
    Setting("dct", 3, "relu", "delta", beta2=0.5),
    Setting("dct", 2, "relu", "delta", beta2=0.3),
    Setting("dct", 5, "none", "delta", beta2=0.8),
    Setting("translation", 3, "abs", "disc", beta2=0.6),
    Setting("translation", 5, "leaky", "delta", beta2=0.4),
    Setting("steered", 3, "relu", "disc", beta2=1.0, theta=30),
    Setting("steered", 2, "abs", "delta", beta2=0.5, theta=-60),
    Setting("random", 3, "relu", "natural", seed=7),
    Setting("random", 5, "none", "disc", seed=3),
    Setting("user", 3, "relu", "natural", kernel="0 0 0\n1 0.5 0\n0 0.2 0.1"),
    Setting("user", 2, "leaky", "delta", kernel="1, -0.5; 0.25 0.1"),
    Setting("dct", 3, "relu", "disc", beta2=0.6, rescale=False),
]


#: A fresh panel's settings (``lab.js``'s defaults; :meth:`Tab.show_defaults` checks the panel's
#: settings against those of the shared page when it was fresh).
DEFAULTS = Setting("dct", 3, "relu", "delta", beta2=0.5)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def lab_page_built() -> None:
    if not (SITE / LAB_PAGE).is_file():
        pytest.fail(f"no lab page {SITE / LAB_PAGE}: run `make book`")


class Tab:
    """A page of the built book with its console errors and requests that left localhost."""

    def __init__(self, pages, url: str, width: int = 1280, height: int = 3000, scheme: str = "light"):
        self.pages = pages  # the conftest's reused tabs
        self.errors: list[str] = []
        self.outside: list[str] = []

        def route(route) -> None:
            url_ = route.request.url
            if url_.startswith(("data:", "blob:", "file:")) or urlsplit(url_).hostname in LOCAL_HOSTS:
                route.continue_()
            else:
                self.outside.append(url_)
                route.abort()

        on = {"console": lambda m: self.errors.append(m.text) if m.type == "error" else None,
              "pageerror": lambda exc: self.errors.append(f"page error: {exc}"),
              "response": lambda r: self.errors.append(f"{r.url} (HTTP {r.status})")
              if r.status >= 400 else None}
        self.page, _ = pages.open(url, width=width, height=height, scheme=scheme, route=route, on=on)
        self.page.wait_for_function("window.InfomechLab && InfomechLab.panels.length > 0", timeout=30_000)
        self.panel = self.page.locator(".infomech-lab").first
        self.fresh = self.snapshot()["settings"]  # the settings of the panel as loaded

    def control(self, label: str):
        return self.panel.get_by_label(label, exact=True)

    def button(self, name: str):
        return self.panel.get_by_role("button", name=name, exact=True)

    def snapshot(self) -> dict:
        return self.page.evaluate("InfomechLab.panels[0].snapshot()")

    def wait_ready(self) -> None:
        self.page.wait_for_function("!InfomechLab.panels[0].snapshot().loading", timeout=30_000)

    def set_number(self, label: str, value: float) -> None:
        box = self.control(label)
        box.fill(f"{value:g}")
        box.press("Tab")  # commit: the change event

    def run_to(self, steps: int) -> dict:
        """Set the number of steps, reset and play until the run stops there."""
        self.set_number("Steps (1 to 200)", steps)
        self.button("Reset").click()
        self.wait_ready()
        self.button("Play").click()
        self.page.wait_for_function(
            f"(() => {{ const s = InfomechLab.panels[0].snapshot(); "
            f"return s.t >= {steps} && !InfomechLab.panels[0].playing; }})()", timeout=60_000)
        return self.snapshot()

    def apply(self, s: Setting) -> None:
        """Set the panel's controls to a setting, through the DOM as a reader would."""
        family, size = self.control("Kernel family"), self.control("Kernel size")
        if family.locator(f'option[value="{s.family}"]').is_disabled():
            size.select_option(str(s.size))   # e.g. translation needs an odd size: size first
        family.select_option(s.family)
        size.select_option(str(s.size))
        if s.family in ("dct", "translation", "steered"):
            self.set_number("β² (odd energy share)", s.beta2)
        if s.family == "steered":
            self.set_number("θ (degrees, from +x towards +y)", s.theta)
        if s.family == "random":
            self.set_number("Random seed", s.seed)
        if s.family == "user":
            self.control("Kernel (rows on lines)").fill(s.kernel)
            self.button("Apply kernel").click()
        self.control("Activation").select_option(s.activation)
        self.control("Pattern").select_option(s.pattern)
        rescale = self.control("rescale x ← x / std(x) before each step")
        if rescale.is_checked() != s.rescale:
            rescale.click()
        self.wait_ready()

    def show_defaults(self) -> None:
        """Set the controls a test may have changed back to a fresh panel's (DCT-beta 3x3, beta^2
        0.5, ReLU, single pixel, rescaled, 50 steps at 60 steps/s) and reset to t = 0."""
        self.apply(DEFAULTS)
        self.set_number("Steps (1 to 200)", 50)
        self.control("Play speed").select_option("60")
        self.button("Reset").click()
        self.wait_ready()
        snap = self.snapshot()
        # theta and the seed only act on their own families (hidden controls)
        differ = {k: (v, self.fresh[k]) for k, v in snap["settings"].items()
                  if k not in ("theta", "seed") and v != self.fresh.get(k)}
        assert snap["t"] == 0 and not differ, f"not a fresh panel's settings: {differ}"

    def shot(self, name: str) -> Path | None:
        """The panel as ``_build/screenshots/lab-<name>.png`` when screenshots are asked for."""
        if not screenshots_wanted():
            return None
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"lab-{name}.png"
        self.panel.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.pages.release(self.page)

    def check_clean(self) -> None:
        assert not self.outside, f"requests left localhost: {self.outside}"
        assert not self.errors, "console errors: " + "; ".join(self.errors)


@pytest.fixture()
def tab(pages, server):
    t = Tab(pages, f"{server}/{LAB_PAGE}")
    yield t
    t.close()


@pytest.fixture(scope="module")
def _one_lab_page(pages, server):
    t = Tab(pages, f"{server}/{LAB_PAGE}")
    yield t
    t.close()


@pytest.fixture()
def shared_tab(_one_lab_page):
    """One lab page for the agreement, labelling and keyboard tests (a load costs ~2 CPU-s even in
    a reused tab): each test sets every control it depends on and checks the panel's settings and
    kernel, so a leftover state fails, not hides. Played at :data:`SHARED_RATE` steps/s (the results do not depend on
    the rate; :func:`test_speed_3x3_on_201x201` measures the default rate on a page of its own)."""
    _one_lab_page.errors.clear()
    _one_lab_page.outside.clear()
    _one_lab_page.control("Play speed").select_option(str(SHARED_RATE))
    return _one_lab_page


# ---------------------------------------------------------------- agreement with the library


def _close(js: float, ref: float) -> bool:
    return abs(js - ref) <= RTOL * max(abs(ref), 1.0)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_centre_of_mass_agrees_with_library(shared_tab, setting: Setting) -> None:
    tab = shared_tab
    tab.apply(setting)
    snap = tab.run_to(50)
    assert snap["error"] is None, snap["error"]
    assert snap["settings"]["family"] == setting.family and snap["n"] == setting.size
    assert snap["settings"]["activation"] == setting.activation
    assert snap["settings"]["pattern"] == setting.pattern
    assert snap["settings"]["rescale"] is setting.rescale
    n = setting.size
    kernel = np.array(snap["kernel"], dtype=float).reshape(n, n)
    if setting.family in ("dct", "translation", "steered"):
        expected = lab.lab_kernel(setting.family, n, setting.beta2, math.radians(setting.theta))
        np.testing.assert_allclose(kernel, expected, rtol=0, atol=1e-14)
    if setting.family == "user":
        typed = [[float(v) for v in row.replace(",", " ").split()]
                 for row in setting.kernel.replace(";", "\n").splitlines() if row.strip()]
        np.testing.assert_array_equal(kernel, np.array(typed))
    ref = lab.lab_settings_reference(kernel, setting.pattern, setting.activation,
                                     rescale=setting.rescale, times=(10, 50))
    report = []
    for t in (10, 50):
        js = (snap["track"]["x"][t], snap["track"]["y"][t])
        report.append(f"t={t}: js {js} lib {ref[t]}")
        assert all(math.isfinite(v) for v in js), report[-1]
        assert _close(js[0], ref[t][0]) and _close(js[1], ref[t][1]), \
            f"{setting.name}: centre of mass differs from the library: " + "; ".join(report)
    dom = tab.panel.locator("output.iml-readout")
    assert dom.get_attribute("data-t") == "50"
    assert float(dom.get_attribute("data-mux")) == snap["track"]["x"][50]
    dev = max(abs(snap["track"][c][t] - ref[t][i]) / max(abs(ref[t][i]), 1.0)
              for t in (10, 50) for i, c in enumerate("xy"))
    print(f"{setting.name}: " + "; ".join(report) + f"; max rel. deviation {dev:.1e}")
    tab.check_clean()


@pytest.mark.parametrize("family,size", [("dct", 3), ("dct", 2), ("translation", 3), ("dct", 5)])
def test_live_point_lies_on_the_build_time_curve(shared_tab, family: str, size: int) -> None:
    """At t = 10 the panel's (v/c)^2 is the library's measured curve at the same beta^2."""
    tab = shared_tab
    beta2 = 0.5
    tab.apply(Setting(family, size, "relu", "delta", beta2=beta2))
    snap = tab.run_to(10)
    curves = tab.page.evaluate("window.INFOMECH_LAB_CURVES")
    curve = next(c for c in curves["curves"] if c["family"] == family and c["n"] == size
                 and c["activation"] == "relu" and c["t"] == 10)
    i = curve["beta2"].index(beta2)
    v = math.hypot(snap["track"]["x"][10] - snap["track"]["x"][0],
                   snap["track"]["y"][10] - snap["track"]["y"][0]) / 10
    vc2 = (v / curve["c"]) ** 2
    assert abs(vc2 - curve["v_over_c_sq"][i]) <= 1e-9, (vc2, curve["v_over_c_sq"][i])
    assert tab.panel.locator("svg.iml-plot circle.iml-point:not(.iml-legend)").count() == 1
    assert tab.panel.locator("svg.iml-plot polyline.iml-curve").count() == 2  # t = 10 and 50
    tab.check_clean()


def test_js_constants_kernels_and_splits_match_library(shared_tab) -> None:
    """Pure functions and constants of ``lab.js``: independent of the panel's state, so on the shared
    page (one lab page load less)."""
    tab = shared_tab
    from infomech.decomposition import beta2 as lib_beta2
    from infomech.decomposition import even_odd, sym_anti

    js = tab.page.evaluate("""() => { const L = InfomechLab, b = [0, 0.13, 0.5, 0.77, 1];
      const out = {size: L.LAB_SIZE, slope: L.LEAKY_SLOPE, fam: {}, rnd: {}};
      for (const n of [2, 3, 5]) {
        out.fam['dct' + n] = b.map(v => Array.from(L.dctBeta(v, n)));
        out.fam['steered' + n] = b.map(v => Array.from(L.steeredBeta(v, 0.7, n)));
        if (n > 2) out.fam['translation' + n] = b.map(v => Array.from(L.translationBeta(v, n)));
        const k = L.randomKernel(n, 11 + n), [e, o] = L.evenOdd(k, n), [sy, an] = L.symAnti(k, n);
        out.rnd[n] = {k: Array.from(k), e: Array.from(e), o: Array.from(o), s: Array.from(sy),
                      a: Array.from(an), point: L.beta2(k, n, 'point'), square: L.beta2(k, n, 'square')};
      }
      return out; }""")
    assert js["size"] == lab.LAB_SIZE and js["slope"] == lab.LEAKY_SLOPE
    curves = tab.page.evaluate("window.INFOMECH_LAB_CURVES")
    assert curves["leaky_slope"] == lab.LEAKY_SLOPE
    grid = [0, 0.13, 0.5, 0.77, 1]
    for name, ks in js["fam"].items():
        family, n = name.rstrip("0123456789"), int(name[-1])
        for b, k in zip(grid, ks, strict=True):
            np.testing.assert_allclose(np.reshape(k, (n, n)), lab.lab_kernel(family, n, b, 0.7),
                                       rtol=0, atol=1e-14, err_msg=f"{name} beta2={b}")
    for n, r in js["rnd"].items():
        n = int(n)
        k = np.reshape(r["k"], (n, n))
        for (a, b), lib in (((r["e"], r["o"]), even_odd(k)), ((r["s"], r["a"]), sym_anti(k))):
            np.testing.assert_allclose(np.reshape(a, (n, n)), lib[0], atol=1e-14)
            np.testing.assert_allclose(np.reshape(b, (n, n)), lib[1], atol=1e-14)
        assert r["point"] == pytest.approx(float(lib_beta2(k, "point")), abs=1e-14)
        assert r["square"] == pytest.approx(float(lib_beta2(k, "square")), abs=1e-14)
    tab.check_clean()


# ---------------------------------------------------------------- speed


def test_speed_3x3_on_201x201(tab) -> None:
    tab.apply(Setting("dct", 3, "relu", "delta", beta2=0.5))
    tab.control("View").select_option("full")
    played = tab.run_to(200)["lastPlay"]
    raw = tab.page.evaluate("InfomechLab.benchmark(InfomechLab.panels[0], 200)")
    tab.apply(Setting("dct", 3, "relu", "natural", beta2=0.5))  # full 201x201 window from step 1
    raw_full = tab.page.evaluate("InfomechLab.benchmark(InfomechLab.panels[0], 200)")
    compute_full = tab.page.evaluate("InfomechLab.benchmark(InfomechLab.panels[0], 200, false)")
    result = {"kernel": "3x3 DCT-beta", "image": "201x201", "play_rate_setting": 60,
              "played_steps_per_second": played["stepsPerSecond"],
              "raw_steps_per_second_delta": raw["stepsPerSecond"],
              "raw_steps_per_second_full_window": raw_full["stepsPerSecond"],
              "compute_only_steps_per_second_full_window": compute_full["stepsPerSecond"],
              "final_window_delta": raw["window"], "final_window_full": raw_full["window"]}
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "lab-speed.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print("lab speed (step + render):", json.dumps(result))
    assert played["steps"] == 200
    assert played["stepsPerSecond"] >= MIN_STEPS_PER_SECOND, result
    assert raw["stepsPerSecond"] >= MIN_STEPS_PER_SECOND, result
    assert raw_full["stepsPerSecond"] >= MIN_STEPS_PER_SECOND, result
    tab.check_clean()


# ---------------------------------------------------------------- accessibility and layout


_CONTROLS_WITHOUT_NAME = """
root => Array.from(root.querySelectorAll('input, select, textarea, button'))
  .filter(e => !((e.labels && e.labels.length) || e.getAttribute('aria-label') ||
                 e.getAttribute('aria-labelledby') || (e.tagName === 'BUTTON' && e.textContent.trim())))
  .map(e => e.outerHTML.slice(0, 80))
"""


def test_controls_are_labelled(shared_tab) -> None:
    tab = shared_tab
    tab.show_defaults()
    assert tab.panel.evaluate(_CONTROLS_WITHOUT_NAME) == []
    assert tab.panel.get_attribute("role") == "region" and tab.panel.get_attribute("aria-label")
    assert tab.panel.locator("canvas.iml-canvas").get_attribute("aria-label").startswith("State x at t = 0")
    assert tab.panel.locator("[role=status]").count() == 1
    assert "Speed law" in tab.panel.locator("svg.iml-plot title").text_content()
    tab.check_clean()


def test_keyboard_operation(shared_tab) -> None:
    tab = shared_tab
    page = tab.page
    tab.show_defaults()
    slider = tab.panel.get_by_label("β² slider")
    slider.focus()
    page.keyboard.press("ArrowRight")
    snap = tab.snapshot()
    assert snap["settings"]["beta2"] == pytest.approx(0.51)
    assert tab.control("β² (odd energy share)").input_value() == "0.51"
    np.testing.assert_allclose(np.array(snap["kernel"]).reshape(3, 3), lab.lab_kernel("dct", 3, 0.51),
                               atol=1e-14)
    tab.button("Step").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    assert tab.snapshot()["t"] == 2
    tab.button("Play").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("InfomechLab.panels[0].snapshot().t > 3")
    assert tab.button("Pause").count() == 1 and tab.button("Play").count() == 0
    page.keyboard.press("Enter")  # the focused button is now "Pause"
    t_paused = tab.snapshot()["t"]
    page.wait_for_timeout(300)
    assert tab.snapshot()["t"] == t_paused
    tab.button("Reset").focus()
    page.keyboard.press("Enter")
    assert tab.snapshot()["t"] == 0
    # Tab reaches every visible control of the panel, in order
    tab.control("Kernel family").focus()
    seen = []
    for _ in range(40):
        seen.append(page.evaluate("document.activeElement.id || document.activeElement.textContent"))
        page.keyboard.press("Tab")
    visible = tab.panel.evaluate("""root => Array.from(
        root.querySelectorAll('input, select, textarea, button'))
        .filter(e => e.offsetParent !== null).map(e => e.id || e.textContent)""")
    missing = [v for v in visible if v not in seen]
    assert not missing, f"not reachable with Tab: {missing}"
    # a bad typed kernel: one clear line, marked invalid, the run keeps the previous kernel
    tab.control("Kernel family").select_option("user")
    tab.control("Kernel (rows on lines)").fill("1 2\n3 4 5\n6 7 8")
    tab.control("Kernel (rows on lines)").press("Control+Enter")
    status = tab.panel.locator("[role=status]").text_content()
    assert "row 1 has 2 numbers; a 3x3 kernel needs 3" in status, status
    assert tab.control("Kernel (rows on lines)").get_attribute("aria-invalid") == "true"
    tab.shot("user-error-light-1280")
    tab.check_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_layout_theme_and_screenshots(pages, server, scheme: str) -> None:
    """The panel in ``scheme`` on a fresh load at 1280 px, then on the same page narrowed to 390 px
    (the panel's layout is CSS alone: ``lab.js`` reads no window or element size), a different
    setting run at each width."""
    t = Tab(pages, f"{server}/{LAB_PAGE}", width=1280, height=4000, scheme=scheme)
    try:
        theme = t.page.evaluate("document.documentElement.dataset.theme")
        assert theme == scheme, f"pydata theme mode {theme!r} for prefers-color-scheme {scheme}"
        states = {
            ("light", 1280): Setting("dct", 3, "relu", "delta", beta2=0.5),
            ("dark", 1280): Setting("random", 3, "none", "natural", seed=4),
            ("light", 390): Setting("translation", 3, "relu", "disc", beta2=0.75),
            ("dark", 390): Setting("steered", 5, "abs", "delta", beta2=0.8, theta=45),
        }
        for width in (1280, 390):
            if t.page.viewport_size["width"] != width:
                t.page.set_viewport_size({"width": width, "height": 4000})
                t.page.wait_for_function(f"window.innerWidth === {width}", timeout=10_000)
            t.apply(states[(scheme, width)])
            t.run_to(40)
            _check_layout(t, scheme, width)
            t.shot(f"{scheme}-{width}")
        t.check_clean()
    finally:
        t.close()


def _check_layout(t: Tab, scheme: str, width: int) -> None:
    """The panel fits the screen of ``width`` px and has the colours of ``scheme``."""
    geometry = t.panel.evaluate("""root => ({scroll: root.scrollWidth, client: root.clientWidth,
        right: root.getBoundingClientRect().right, view: window.innerWidth,
        bg: getComputedStyle(root).backgroundColor, fg: getComputedStyle(root).color})""")
    assert geometry["view"] == width, f"the page is {geometry['view']} px wide, not {width} px"
    assert geometry["scroll"] <= geometry["client"] + 1, f"panel overflows horizontally: {geometry}"
    assert geometry["right"] <= geometry["view"] + 1, f"panel wider than the screen: {geometry}"

    def luminance(css: str) -> float:
        r, g, b = (float(v) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    bg, fg = luminance(geometry["bg"]), luminance(geometry["fg"])
    if scheme == "dark":
        assert bg < 0.35 and fg > 0.6, geometry
    else:
        assert bg > 0.8 and fg < 0.4, geometry


# ---------------------------------------------------------------- loading


def test_works_from_file_url(pages) -> None:
    t = Tab(pages, (SITE / LAB_PAGE).resolve().as_uri())
    try:
        assert t.page.evaluate("window.INFOMECH_LAB_CURVES.curves.length") > 0
        t.apply(Setting("dct", 3, "relu", "natural", beta2=0.2))  # loads lab-natural.js on demand
        snap = t.run_to(10)
        kernel = np.array(snap["kernel"]).reshape(3, 3)
        ref = lab.lab_settings_reference(kernel, "natural", "relu", times=(10,))
        assert _close(snap["track"]["x"][10], ref[10][0]) and _close(snap["track"]["y"][10], ref[10][1])
        t.check_clean()
    finally:
        t.close()


def test_lab_files_shipped() -> None:
    static = SITE / "_static" / "lab"
    for name in ("lab.js", "lab.css", "lab-curves.js", "lab-natural.js"):
        assert (static / name).is_file(), f"{name} missing from {static}"
    html = (SITE / LAB_PAGE).read_text(encoding="utf-8")
    assert "_static/lab/lab.js" in html and "_static/lab/lab-curves.js" in html
    # pages without a panel do not load the lab
    assert "_static/lab/lab.js" not in (SITE / "book" / "intro.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("page,preset", sorted(CHAPTER_PANELS.items()))
def test_chapter_panel(pages, server, page: str, preset: str) -> None:
    html = (SITE / page).read_text(encoding="utf-8")
    assert 'class="infomech-lab"' in html, \
        f"{page} has no lab panel: its chapter needs the cell ```{{infomech-lab}}\\n:preset: {preset}\\n```"
    t = Tab(pages, f"{server}/{page}")
    try:
        snap = t.snapshot()
        assert t.panel.get_attribute("data-preset") == preset
        t.button("Step").click()
        assert t.snapshot()["t"] == 1 and snap["error"] is None
        t.button("Play").click()
        t.page.wait_for_function("(() => { const p = InfomechLab.panels[0], s = p.snapshot(); "
                                 "return s.t >= s.settings.steps && !p.playing; })()", timeout=60_000)
        t.shot(f"chapter-{preset}-light-1280")
        t.check_clean()
    finally:
        t.close()
