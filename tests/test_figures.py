"""infomech.figures: the book style keeps text legible, annotations contrast, helpers draw."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from infomech import figures as F  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_book_style_is_applied_on_import():
    assert matplotlib.rcParams["font.size"] >= 10 and matplotlib.rcParams["xtick.labelsize"] >= 10
    assert matplotlib.rcParams["savefig.facecolor"] == "white"


def test_min_display_font_accounts_for_shrinking():
    fig, ax = plt.subplots(figsize=(F.MAX_WIDTH_IN, 3))
    ax.plot([0, 1], [0, 1])
    assert F.min_display_font_pt(fig) >= 8  # the book style at the widest allowed figure
    wide, ax2 = plt.subplots(figsize=(15, 3))
    ax2.plot([0, 1])
    assert F.min_display_font_pt(wide) < 8  # negative control: a 15-inch figure is shrunk below 8 pt
    ax.set_title("tiny", fontsize=5)
    assert F.min_display_font_pt(fig) == pytest.approx(5 * F.display_scale(fig))


@pytest.mark.parametrize(("rgba", "colour"), [
    ((0, 0, 0, 1), "white"), ((1, 1, 1, 1), "black"),
    ((0.02, 0.19, 0.38, 1), "white"), ((0.99, 0.86, 0.78, 1), "black"),
])
def test_text_colour_contrasts(rgba, colour):
    assert F.text_colour_on(rgba) == colour


def test_show_kernels_annotates_with_contrast():
    k = np.array([[[1.0, -1.0, 0.0], [0.5, 0.0, -0.5], [0.0, 1.0, -1.0]]])
    fig = F.show_kernels(k, [r"$\nabla_x$"])
    texts = [t for t in fig.axes[0].texts]
    assert len(texts) == 9
    strong = [t for t in texts if t.get_text() in ("1.00", "-1.00")]
    assert {t.get_color() for t in strong} == {"white"}  # dark cells get white labels
    assert F.min_display_font_pt(fig) >= 8


def test_panels_draw():
    fig, axes = plt.subplots(2, 3, figsize=(8, 5))
    F.energy_quadrant(axes[0, 0])
    F.speed_law_axes(axes[0, 1])
    assert axes[0, 1].get_ylabel() == r"$(v/c)^2$"
    t = np.arange(5)
    F.trajectory_panel(axes[0, 2], t, np.c_[t, 2 * t], ["a", "b"], ylabel="x", exact=np.c_[t, 2 * t])
    F.loglog_panel(axes[1, 0], np.array([1, 2, 4, 8]), {"s": np.sqrt([1, 2, 4, 8])})
    assert "slope 0.50" in axes[1, 0].get_legend_handles_labels()[1][0]
    F.hist_pdf_panel(axes[1, 1], np.random.default_rng(0).uniform(size=200), lambda x: np.ones_like(x),
                     title="u")
    grid = F.evolution_grid(np.random.default_rng(1).normal(size=(2, 2, 9, 9)), ["a", "b"], ["t=1", "t=2"],
                            signed=[True, False], crop=3)
    assert len(grid.axes) == 4


def _png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def test_gallery_panels_look_like_plain_tickless_axes(monkeypatch):
    """show_kernels and evolution_grid hide the (tick-less) axes and pin the titles where matplotlib
    would put them, so that layout and drawing skip them: the pixels must not change."""
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis

    def draw_both():
        rng = np.random.default_rng(0)
        kernels = F.show_kernels(rng.normal(size=(5, 3, 3)), ["a", r"$\nabla_x$", "b\nc", "d", "e"],
                                 ncols=3, suptitle="kernels")
        grid = F.evolution_grid(rng.normal(size=(2, 3, 9, 9)), ["row a", "row b"], ["t=1", "t=2", "t=3"],
                                signed=[True, False], suptitle="grid")
        return _png(kernels), _png(grid)

    fast = draw_both()
    # the same figures without the shortcuts: axes left visible, titles placed by matplotlib
    set_title = Axes.set_title
    monkeypatch.setattr(Axis, "set_visible", lambda self, b: None)
    monkeypatch.setattr(Axes, "set_title", lambda self, label, y=None, **kw: set_title(self, label, **kw))
    assert draw_both() == fast
