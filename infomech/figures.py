"""Shared plotting helpers of the book's chapters (matplotlib; each returns the figure or axes).

Importing this module applies the book's figure style (:data:`BOOK_STYLE`): fonts large enough to
stay >= 8 pt when a figure up to :data:`MAX_WIDTH_IN` inches wide is shown in the text column, a
white background (figures read as white cards in dark mode too) and no clipped labels.
:func:`min_display_font_pt` measures the smallest text of a figure at its displayed size; the
book's browser test asserts it for every figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Widest figure (inches) that the text column shows without shrinking 10 pt tick labels below 8 pt.
MAX_WIDTH_IN = 8.5
#: Width of the book's text column in CSS pixels at a 1280 px window (measured in the browser).
COLUMN_PX = 680
#: Smallest font size (pt) a figure may show in the text column; :func:`infomech.publish.save_figure`
#: refuses a figure below it and the book's browser test checks it again at the displayed size.
MIN_FONT_PT = 8.0
#: Symbols of the DCT bases as the prose writes them (mathtext).
SYMBOLS = {"dc": r"$\Sigma$", "gx": r"$\nabla_x$", "gy": r"$\nabla_y$"}

BOOK_STYLE = {
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10,
    "figure.titlesize": 12,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "figure.constrained_layout.use": False,
    "mathtext.fontset": "dejavusans",
    # SVG element ids are hashes salted with a random UUID unless a salt is set: a fixed one makes
    # the downloadable SVGs byte-identical from build to build
    "svg.hashsalt": "infomech",
}


def book_style() -> None:
    """Apply :data:`BOOK_STYLE` to matplotlib's rcParams (done on import of this module)."""
    import matplotlib

    matplotlib.rcParams.update(BOOK_STYLE)


book_style()


def display_scale(fig, column_px: float = COLUMN_PX) -> float:
    """Factor by which the book shows ``fig`` relative to 96 px per inch (<= 1: shrunk to fit)."""
    width_px = float(fig.get_figwidth()) * 96.0
    return min(1.0, column_px / width_px)


def min_font_pt(fig, *, draw: bool = True) -> float:
    """Smallest font size (pt) among the figure's visible texts, as drawn (not scaled for display).

    Draws the figure's canvas first (that materialises the tick labels); ``draw=False`` skips the
    draw for a figure whose tick labels are already materialised (drawn, or measured with
    ``fig.get_tightbbox``). Tick labels, axis labels, titles, legends, annotations and colour-bar
    labels all count. Returns ``inf`` for a figure without text.
    """
    from matplotlib.text import Text

    if draw:
        fig.canvas.draw()  # materialise tick labels
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()
             and (t.axes is None or t.axes.get_visible())]
    return float(min(sizes)) if sizes else float("inf")


def min_display_font_pt(fig, column_px: float = COLUMN_PX) -> float:
    """Smallest font size (pt) among the figure's visible texts, at the size the book shows it:
    :func:`min_font_pt` times :func:`display_scale`."""
    return min_font_pt(fig) * display_scale(fig, column_px)


def text_colour_on(rgba) -> str:
    """``"black"`` or ``"white"``, whichever contrasts more with the colour ``rgba`` (WCAG luminance)."""
    r, g, b = (float(c) for c in rgba[:3])

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    # contrast ratio against black (lum + .05)/.05 vs white 1.05/(lum + .05)
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def annotate_heatmap(ax, values: np.ndarray, image, *, fmt: str = "{:.2f}", fontsize: float = 10) -> None:
    """Write ``values`` on the cells of ``image`` (an ``AxesImage``) in black or white, whichever
    contrasts more with the cell's colour."""
    vals = np.asarray(values, dtype=float)
    for (r, c), v in np.ndenumerate(vals):
        colour = text_colour_on(image.cmap(image.norm(v)))
        ax.text(c, r, fmt.format(round(float(v), 6) + 0.0), ha="center", va="center",
                fontsize=fontsize, color=colour)


def show_kernels(kernels: np.ndarray, titles: Sequence[str], *, ncols: int | None = None,
                 annotate: bool = True, size: float = 1.9, suptitle: str | None = None):
    """Draw kernels ``(K, n, n)`` side by side with a diverging colour map centred on 0.

    Each panel is scaled to its own max ``|k|`` (red positive, blue negative) and, when
    ``annotate``, shows its values rounded to 2 decimals. Returns the figure.
    """
    import matplotlib.pyplot as plt

    ks = np.asarray(kernels, dtype=float)
    if ks.ndim == 2:
        ks = ks[None]
    K = ks.shape[0]
    ncols = ncols or min(K, max(1, int(MAX_WIDTH_IN // size)))
    nrows = int(np.ceil(K / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax in axes.ravel()[K:]:
        ax.axis("off")
    for ax, k, title in zip(axes.ravel(), ks, titles, strict=False):
        vmax = max(float(np.abs(k).max()), 1e-12)
        im = ax.imshow(k, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        if annotate and k.shape[-1] <= 5:
            annotate_heatmap(ax, k, im, fontsize=10 if k.shape[-1] <= 3 else 8.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.xaxis.set_visible(False)  # no ticks and no labels: nothing of the axes to lay out
        ax.yaxis.set_visible(False)
        ax.set_title(title, y=1.0)  # where matplotlib puts it (no ticks on top), without the search
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def evolution_grid(images: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str], *,
                   signed: bool | Sequence[bool] = False, crop: int | None = None, size: float = 1.5,
                   suptitle: str | None = None):
    """Image panels ``(R, C, H, W)`` of an evolution: rows (e.g. kernel or activation), columns (e.g. t).

    Each panel is normalised by its own max ``|x|``: grey scale for non-negative states, a diverging
    map for signed ones (``signed`` per row or for all). ``crop`` keeps the central
    ``(2*crop+1)^2`` pixels. Returns the figure.
    """
    import matplotlib.pyplot as plt

    imgs = np.asarray(images, dtype=float)
    R, C, H, W = imgs.shape
    if crop is not None:
        cy, cx = H // 2, W // 2
        imgs = imgs[..., max(0, cy - crop):cy + crop + 1, max(0, cx - crop):cx + crop + 1]
    signs = [signed] * R if isinstance(signed, bool) else list(signed)
    fig, axes = plt.subplots(R, C, figsize=(size * C + 0.8, size * R + 0.3), squeeze=False)
    for i in range(R):
        for j in range(C):
            ax = axes[i, j]
            im = imgs[i, j]
            m = max(float(np.abs(im).max()), 1e-300)
            if signs[i]:
                ax.imshow(im / m, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
            else:
                ax.imshow(np.abs(im) / m, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.xaxis.set_visible(False)
            ax.yaxis.set_visible(j == 0)  # only the first column has a label (the row's)
            if i == 0:
                ax.set_title(col_labels[j], y=1.0)  # as placed by matplotlib (no ticks on top)
            if j == 0:
                ax.set_ylabel(row_labels[i])
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def legend_below(fig, handles: Sequence, labels: Sequence[str], *, ncol: int, bottom: float = 0.14,
                 **kwargs):
    """Lay ``fig`` out above a band of height ``bottom`` (figure fraction) and put one frameless
    legend of ``handles``/``labels`` in ``ncol`` columns, centred in that band. Returns the legend."""
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False, **kwargs)


def energy_quadrant(ax, *, label: bool = True):
    r"""Draw the energy quarter circle :math:`(mc^2/E)^2 + (pc/E)^2 = 1` on ``ax``.

    x axis: :math:`\lVert k_e\rVert/\lVert k\rVert = mc^2/E`; y axis:
    :math:`\lVert k_o\rVert/\lVert k\rVert = pc/E = v/c`. Returns ``ax``.
    """
    th = np.linspace(0, np.pi / 2, 200)
    ax.plot(np.cos(th), np.sin(th), color="0.6", lw=1, zorder=0)
    ax.set_xlim(-0.03, 1.08)
    ax.set_ylim(-0.03, 1.08)
    ax.set_aspect("equal")
    if label:
        ax.set_xlabel(r"$\|k_e\|/\|k\| = mc^2/E$")
        ax.set_ylabel(r"$\|k_o\|/\|k\| = pc/E = v/c$")
    return ax


def speed_law_axes(ax, *, xlabel: str = r"$\beta^2 = \|k_o\|^2/\|k\|^2$", ymax: float = 1.1,
                   identity: bool = True):
    r"""Axes of a speed-law plot, :math:`(v/c)^2` against :math:`\beta^2`, with the paper's ``y = x``.

    Draws the dashed identity line (the authors' "theoretical (Lorentz)" line) and the saturation
    level :math:`v = c`; returns ``ax``.
    """
    if identity:
        ax.plot([0, 1], [0, 1], color="k", ls="--", lw=1, label="$y = x$ (paper)")
    ax.axhline(1.0, color="0.6", lw=0.8, ls=":")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, ymax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(r"$(v/c)^2$")
    return ax


def trajectory_panel(ax, t: np.ndarray, y: np.ndarray, labels: Sequence[str], *, ylabel: str,
                     exact: np.ndarray | None = None, cmap: str = "viridis"):
    """Curves ``y`` ``(T+1, K)`` against ``t`` coloured by index, with optional exact lines ``(T+1, K)``.

    Exact predictions (where finite) are drawn as thin black dashed lines under the measurements.
    Returns ``ax``.
    """
    import matplotlib.pyplot as plt

    y = np.asarray(y, dtype=float)
    colours = plt.get_cmap(cmap)(np.linspace(0, 0.9, y.shape[1]))
    if exact is not None:
        ex = np.asarray(exact, dtype=float)
        for j in range(ex.shape[1]):
            if np.isfinite(ex[:, j]).all():
                ax.plot(t, ex[:, j], color="k", lw=0.8, ls="--", zorder=3)
    for j in range(y.shape[1]):
        ax.plot(t, y[:, j], color=colours[j], lw=1.6, label=labels[j])
    ax.set_xlabel("step t")
    ax.set_ylabel(ylabel)
    return ax


def loglog_panel(ax, x: np.ndarray, curves: dict[str, np.ndarray], *, ref_slope: float = 0.5,
                 xlabel: str = "depth L", ylabel: str = r"$\sigma$", markers: str = "os^vDx"):
    r"""Log-log curves ``y(x)`` with their fitted slope in the legend and a reference power law.

    The reference :math:`y \propto x^{s}` (``ref_slope``, dotted) passes through the first curve's
    first point. Returns ``ax``.
    """
    x = np.asarray(x, dtype=float)
    first = None
    for (name, y), mk in zip(curves.items(), markers * 4, strict=False):
        y = np.asarray(y, dtype=float)
        first = y if first is None else first
        slope = np.polyfit(np.log(x), np.log(y), 1)[0]
        ax.loglog(x, y, marker=mk, ms=4, lw=1.2, label=f"{name} (slope {slope:.2f})")
    if first is not None:
        ax.loglog(x, first[0] * (x / x[0]) ** ref_slope, color="k", ls=":", lw=1,
                  label=rf"$\propto L^{{{ref_slope:g}}}$")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def hist_pdf_panel(ax, samples: np.ndarray, pdf, *, bins: int = 60, label: str = "samples",
                   pdf_label: str = "law", title: str | None = None):
    """Density histogram of ``samples`` on [0, 1] with the curve ``pdf(x)`` on top. Returns ``ax``."""
    ax.hist(np.asarray(samples, dtype=float), bins=bins, range=(0, 1), density=True, color="0.75",
            label=label)
    x = np.linspace(0.0005, 0.9995, 400)
    ax.plot(x, pdf(x), color="C3", lw=1.4, label=pdf_label)
    ax.set_xlim(0, 1)
    if title:
        ax.set_title(title)
    return ax
