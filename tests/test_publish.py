"""infomech.publish: glued values with ledger records, figures embedded with provenance, tables."""

import base64
import json

import matplotlib

matplotlib.use("Agg")  # a test process has no inline backend; save_figure must not need one
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from infomech import figures  # noqa: E402, F401  (the book's style first, as in a chapter: save_figure
from infomech import publish as pub  # noqa: E402   imports it, and a figure made before would differ)


@pytest.fixture()
def outputs(monkeypatch):
    """The display outputs publish/save_figure emit, as a notebook would record them."""
    shown: list[tuple[dict, dict]] = []
    monkeypatch.setattr(pub, "_LEDGERS", {})
    monkeypatch.setattr(pub, "_display", lambda data, metadata: shown.append((data, metadata)))
    return shown


def test_publish_returns_nothing_and_records_in_the_output(outputs):
    assert pub.publish("demo-x", 0.123456, chapter="demo", digits=3, rule="<= 0.2",
                       params={"steps": np.int64(10)}) is None
    data, meta = outputs[-1]
    assert data == {pub.GLUE_PREFIX + "text/plain": "0.123"}
    assert meta["scrapbook"] == {"name": "demo-x", "mime_prefix": pub.GLUE_PREFIX}
    rec = meta["infomech"]["claim"]
    assert rec["value"] == 0.123 and rec["rule"] == "<= 0.2" and rec["params"] == {"steps": 10}
    assert rec["chapter"] == "demo" and rec["code"] == "book/demo.ipynb"
    json.dumps(meta)  # the record must survive the notebook's JSON


def test_strings_are_glued_as_text_and_markdown(outputs):
    pub.publish("demo-verdict", r"holds for $\beta^2 \le 1$", chapter="demo")
    data, _ = outputs[-1]
    assert data[pub.GLUE_PREFIX + "text/plain"] == r"holds for $\beta^2 \le 1$"  # no quotes
    assert data[pub.GLUE_PREFIX + "text/markdown"] == r"holds for $\beta^2 \le 1$"


def test_published_floats_are_stable_to_round_off(outputs):
    def value(name, v, **kw):
        pub.publish(name, v, chapter="t", **kw)
        return pub._LEDGERS["t"][name]["value"]

    assert value("t-noise-a", 1.6653345369377348e-16) == 0.0
    assert value("t-noise-b", 2.220446049250313e-16) == 0.0
    assert str(value("t-negzero", -0.0)) == "0.0"
    assert value("t-list", [0.1 + 0.2, -1e-17]) == [0.3, 0.0]
    assert value("t-digits", 0.123456, digits=3) == 0.123
    assert value("t-int", 7) == 7


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), [1.0, float("nan")], object()])
def test_a_bad_value_raises_and_leaves_the_ledger_alone(outputs, bad):
    pub.publish("t-good", 1.0, chapter="t")
    with pytest.raises((ValueError, TypeError)):
        pub.publish("t-bad", bad, chapter="t")
    assert list(pub._LEDGERS["t"]) == ["t-good"]
    pub.publish("t-after", 2.0, chapter="t")  # later publications still work
    assert list(pub._LEDGERS["t"]) == ["t-good", "t-after"]


@pytest.mark.parametrize("name", ["", "a b", "x/../y", None])
def test_bad_names_are_refused(outputs, name):
    with pytest.raises(ValueError, match="name"):
        pub.publish(name, 1.0, chapter="t")


def test_save_figure_embeds_a_2x_png_svg_and_provenance(outputs, tmp_path):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    assert pub.save_figure(fig, "demo-fig", chapter="demo", params={"steps": 10}, caption="c",
                           outdir=tmp_path) is None
    data, meta = outputs[-1]
    png = base64.b64decode(data[pub.GLUE_PREFIX + "image/png"])
    width, _ = pub._png_size(png)
    assert width >= 4 * pub.FIGURE_DPI * 0.8  # rendered at 200 dpi: sharp on 2x screens
    assert meta["image/png"]["width"] == round(width * 96 / pub.FIGURE_DPI)  # shown at half size
    assert "Figure size" not in data[pub.GLUE_PREFIX + "text/plain"]
    prov = meta["infomech"]["figure"]
    assert prov["params"] == {"steps": 10} and prov["chapter"] == "demo" and prov["figure"] == "demo-fig"
    assert prov["min_font_pt_raw"] >= 8 and prov["width_in"] == 4.0
    assert meta["infomech"]["svg"].lstrip().startswith("<?xml")
    assert (tmp_path / "demo-fig.png").read_bytes() == png
    assert json.loads((tmp_path / "demo-fig.json").read_text())["figure"] == "demo-fig"
    assert not plt.fignum_exists(fig.number)  # closed after saving (close=True)


def _svg_of_an_image_figure(outputs) -> str:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.imshow(np.arange(16.0).reshape(4, 4))      # images and clip paths get hashed ids
    pub.save_figure(fig, "svg-fig", chapter="demo", params={})
    return outputs[-1][1]["infomech"]["svg"]


def test_the_svg_is_the_same_every_time(outputs, monkeypatch):
    first = _svg_of_an_image_figure(outputs)
    assert "clip-path=" in first and first == _svg_of_an_image_figure(outputs)
    monkeypatch.setitem(plt.rcParams, "svg.hashsalt", None)    # matplotlib's default: random ids
    assert _svg_of_an_image_figure(outputs) != _svg_of_an_image_figure(outputs)


def _titled_figure(*, tight: bool):
    fig, axes = plt.subplots(1, 2, figsize=(4, 3))
    for ax in axes:
        ax.plot([0, 1], [0, 1])
        ax.set_title(r"a title, $\beta^2$")
        ax.set_xlabel("step t")
    if tight:
        fig.tight_layout()  # runs the engine once and leaves a placeholder engine behind
    return fig


@pytest.mark.parametrize("tight", [False, True])
def test_save_figure_crops_exactly_like_matplotlib(outputs, tight):
    fig = _titled_figure(tight=tight)
    ours = pub.render_figure(fig, "png", box=pub.tight_box(fig))
    theirs = pub.render_figure(fig, "png")  # matplotlib's own bbox_inches="tight"
    assert pub._png_size(ours) == pub._png_size(theirs)
    assert ours == theirs  # the same crop and the same pixels, byte for byte
    plt.close(fig)


def test_a_tight_layout_figure_is_drawn_once_per_format(outputs, monkeypatch):
    fig = _titled_figure(tight=True)
    engine = fig.get_layout_engine()
    draws = []
    real_draw = type(fig).draw
    monkeypatch.setattr(type(fig), "draw", lambda self, renderer: (draws.append(1),
                                                                   real_draw(self, renderer))[1])
    pub.save_figure(fig, "one-draw", chapter="demo", params={}, close=False)
    assert len(draws) == 2  # PNG and SVG; savefig's preliminary layout draws are skipped
    assert fig.get_layout_engine() is engine  # the placeholder is put back
    plt.close(fig)


def test_a_live_layout_engine_is_left_to_matplotlib(outputs):
    fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title")
    assert not pub._layout_is_fixed(fig)
    ours = pub.render_figure(fig, "png", box=pub.tight_box(fig))
    assert ours == pub.render_figure(fig, "png")  # the box is ignored: the engine re-runs
    plt.close(fig)


def test_save_figure_is_deterministic(outputs):
    def once():
        pub.save_figure(_titled_figure(tight=True), "det-fig", chapter="demo", params={"n": 1})
        data, meta = outputs[-1]
        return data[pub.GLUE_PREFIX + "image/png"], meta["infomech"]["svg"]

    assert once() == once()


def test_save_figure_refuses_illegible_figures(outputs):
    wide, ax = plt.subplots(figsize=(15, 3))  # 10 pt ticks shrink to ~4.7 pt in the column
    ax.plot([0, 1], [0, 1])
    with pytest.raises(ValueError, match="smallest text 4.7 pt"):
        pub.save_figure(wide, "too-wide", chapter="demo", params={})
    plt.close(wide)


def test_save_figure_rejects_bad_names(outputs):
    fig = plt.figure()
    with pytest.raises(ValueError, match="name"):
        pub.save_figure(fig, "bad name/..", chapter="demo", params={})
    plt.close(fig)


def test_show_table_is_html_with_a_text_twin():
    t = pub.table([{"n": 3, "slope": 1.0234}, {"n": 5, "slope": 0.5}], formats={"slope": ".3f"})
    html = t._repr_html_()
    assert "<table" in html and "<th>slope</th>" in html and "<td>1.023</td>" in html
    assert repr(t).splitlines()[0].split() == ["n", "slope"]
    with pytest.raises(ValueError, match="columns"):
        pub.table([[1, 2]])
    with pytest.raises(ValueError, match="cells"):
        pub.table([[1, 2, 3]], columns=["a", "b"])


def test_fmt_bound_states_round_off_as_a_bound():
    assert pub.fmt_bound(0.0) == "< 1e-12 (machine precision)"
    assert pub.fmt_bound(4.4e-16) == "< 1e-12 (machine precision)"
    assert pub.fmt_bound(3.21e-5) == "3.2e-5"
    assert pub.fmt_bound(0.0183) == "0.018"
    assert "0.0e+00" not in pub.fmt_bound(0.0)


def test_verdict_is_published_under_five_keys(outputs):
    from infomech.claims.base import Verdict, grade, grade_rule

    word = grade(0.05, exact_tol=1e-9, approx_tol=0.2)
    v = Verdict("demo", word, "max error", 0.05, grade_rule(1e-9, 0.2), "within 0.05")
    pub.publish_verdict(v, chapter="demo")
    assert pub._LEDGERS["demo"]["verdict-demo-word"]["value"] == "approximate"
    assert pub._LEDGERS["demo"]["verdict-demo"]["value"] == "Approximate: within 0.05"
    assert pub._LEDGERS["demo"]["verdict-demo-value"]["value"] == "0.05"
    assert set(pub._LEDGERS["demo"]) == {f"verdict-demo{s}" for s in ("", "-word", "-value", "-rule",
                                                                     "-decisive")}


def test_progress_is_quiet_when_asked(monkeypatch):
    monkeypatch.setenv("INFOMECH_QUIET", "1")
    assert not pub.progress_enabled()
    assert list(pub.progress(range(3), desc="x")) == [0, 1, 2]


def test_rounded_is_numpy_aware_and_has_no_negative_zero():
    assert pub.rounded(0.12345) == 0.123 and isinstance(pub.rounded(0.12345), float)
    assert pub.rounded(np.float32(2.0004), 2) == 2.0
    assert str(pub.rounded(-1e-9)) == "0.0"
    arr = pub.rounded([-0.0001, 1.23456, -2.5])
    assert isinstance(arr, np.ndarray)
    assert str(arr) == str(np.array([0.0, 1.235, -2.5]))
    assert "-0." not in str(pub.rounded(np.array([-1e-12, -4e-4])))
    import torch

    assert pub.rounded(torch.tensor([1.23456])).tolist() == [1.235]


def test_typeset_writes_the_house_notation_as_the_book_shows_it():
    assert pub.typeset("max |(v/c)^2 - beta^2| <= 1e-06; rho >= 0.9") == "max |(v/c)² - β²| ≤ 1e-06; ρ ≥ 0.9"
    assert pub.typeset("0.5 +- 0.02 over sqrt(L); within 5 deg; sigma_k^2, E[g^2], c^2") == \
        "0.5 ± 0.02 over √L; within 5°; σ_k², E[g²], c²"
    # names, identifiers, maths and code stay as they are
    text = r"DCT-beta and translation-beta kernels, beta2, $\sqrt{\beta^2}$ and `beta^2 <= 1`"
    assert pub.typeset(text) == text


def test_published_verdict_texts_are_typeset(outputs):
    from infomech.claims.base import Verdict

    v = Verdict("demo", "approximate", "largest |(v/c)^2 - beta^2|", 0.05,
                "exact if max |(v/c)^2 - beta^2| <= 1e-09", "within 0.05 of beta^2")
    pub.publish_verdict(v, chapter="t")
    texts = {meta["infomech"]["claim"]["name"]: meta["infomech"]["claim"]["value"] for _, meta in outputs
             if "claim" in meta.get("infomech", {})}
    assert texts["verdict-demo-rule"] == "exact if max |(v/c)² - β²| ≤ 1e-09"
    assert texts["verdict-demo-decisive"] == "largest |(v/c)² - β²|"
    assert "β²" in texts["verdict-demo"] and "beta" not in texts["verdict-demo"]


def test_check_mode_lays_out_and_checks_fonts_but_renders_nothing(outputs, monkeypatch, tmp_path):
    """INFOMECH_FIGURES=check (the nbval runs): same glue name and text, provenance and font check,
    no PNG or SVG; a script that asks for files (outdir) still gets them rendered."""
    import matplotlib.backends.backend_agg as agg

    drawn = []
    real_draw = agg.FigureCanvasAgg.draw
    monkeypatch.setattr(agg.FigureCanvasAgg, "draw", lambda self: drawn.append(1) or real_draw(self))
    monkeypatch.setenv(pub.FIGURES_ENV, "check")
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    pub.save_figure(fig, "demo-fig", chapter="demo", params={"steps": 10})
    data, meta = outputs[-1]
    assert data == {pub.GLUE_PREFIX + "text/plain": "Figure demo-fig"}  # what nbval compares
    assert meta["scrapbook"]["name"] == "demo-fig" and meta["infomech"]["rendered"] is False
    assert meta["infomech"]["figure"]["min_font_pt_raw"] >= 8 and "svg" not in meta["infomech"]
    assert drawn == [] and not plt.fignum_exists(fig.number)
    wide, ax = plt.subplots(figsize=(15, 3))  # the font check still runs
    ax.plot([0, 1], [0, 1])
    with pytest.raises(ValueError, match="smallest text 4.7 pt"):
        pub.save_figure(wide, "too-wide", chapter="demo", params={})
    plt.close(wide)
    fig, ax = plt.subplots(figsize=(4, 3))
    pub.save_figure(fig, "demo-file", chapter="demo", params={}, outdir=tmp_path)
    assert (tmp_path / "demo-file.svg").is_file() and drawn
    monkeypatch.setenv(pub.FIGURES_ENV, "fast")
    with pytest.raises(ValueError, match="INFOMECH_FIGURES must be one of render, check, not 'fast'"):
        pub.figure_mode()
