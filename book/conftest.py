"""nbval settings for the chapters (``pytest --nbval-lax book/``).

Cells marked ``# NBVAL_CHECK_OUTPUT`` are compared with their committed outputs: printed numbers
and the values glued by :func:`infomech.publish.publish`. Figures are not compared byte for byte
(their pixels depend on the matplotlib backend and fonts), so glued images are skipped, as nbval
already skips plain ``image/png``.
"""

SKIPPED_MIME = (
    "application/papermill.record/image/png",
    "application/papermill.record/image/svg+xml",
    "application/papermill.record/text/html",
    "image/svg+xml",
)


def pytest_collection_modifyitems(session, config, items):
    seen = set()
    for item in items:
        nbfile = getattr(item, "parent", None)
        if nbfile is None or id(nbfile) in seen or not hasattr(nbfile, "skip_compare"):
            continue
        seen.add(id(nbfile))
        nbfile.skip_compare = tuple(nbfile.skip_compare) + SKIPPED_MIME


# ------------------------------------------------------------------ warm kernels for nbval
# ``--nbval-kernel-name infomech-warm`` (what `make nbval` passes) runs each chapter in a kernel
# forked from a process that already imported torch, scipy, matplotlib and scikit-learn
# (book/_ext/warm_kernel.py): ~6 s less per chapter, same outputs. The server lives for this
# pytest session and shares its environment (it refuses any kernel whose environment differs,
# which then starts cold).
_WARM: dict = {}


def pytest_configure(config):
    import os

    # nbval compares numbers, not pixels: the chapters' figures are laid out and their fonts
    # checked, but not rendered (infomech.publish.FIGURES_ENV; the book build renders them all).
    # Set here, before the warm-kernel server starts, so that it and every kernel share it.
    from infomech.publish import FIGURES_ENV

    os.environ.setdefault(FIGURES_ENV, "check")
    if getattr(config.option, "nbval_kernel_name", None) != "infomech-warm":
        return
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))
    import warm_kernel

    _WARM.update(module=warm_kernel, server=warm_kernel.start_server())


def pytest_unconfigure(config):
    if not _WARM:
        return
    counts = _WARM["module"].stop_server(_WARM.pop("server"))
    _WARM.clear()
    why = "".join(f"; {w}" for w in counts["why"])
    print(f"\nnbval kernels: {counts['warm']} warm, {counts['refused']} cold{why}")
