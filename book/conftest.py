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


# ------------------------------------------------------------------ kernels on Unix sockets
# nbval's kernels connect over Unix sockets in a folder of their own, as the book build's do
# (book/_ext/infomech_site.py, kernel_transport): over TCP the manager picks free ports, closes them
# and the kernel binds them later, and another process on the machine can take one in between
# (seen in a busy build: "Address already in use", the kernel died). nbval starts every kernel
# through nbval.kernel.KernelManager (nbval is pinned in requirements/lock.txt), so that name is
# given a subclass that sets the transport; the folders are removed when the session ends.
_SOCKET_DIRS: list = []


def _kernels_on_unix_sockets() -> None:
    import os
    import tempfile

    try:
        import nbval.kernel
    except ImportError:  # pragma: no cover (nbval is a dev dependency)
        return
    base = nbval.kernel.KernelManager
    if getattr(base, "infomech_unix_sockets", False):
        return

    class UnixSocketKernelManager(base):
        infomech_unix_sockets = True

        def __init__(self, **kwargs):
            folder = tempfile.mkdtemp(prefix="infomech-kernel-")
            _SOCKET_DIRS.append(folder)
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", os.path.join(folder, "kernel"))
            super().__init__(**kwargs)

    nbval.kernel.KernelManager = UnixSocketKernelManager


def pytest_configure(config):
    import os

    # nbval compares numbers, not pixels: the chapters' figures are laid out and their fonts
    # checked, but not rendered (infomech.publish.FIGURES_ENV; the book build renders them all).
    # Set here, before the warm-kernel server starts, so that it and every kernel share it.
    from infomech.publish import FIGURES_ENV

    os.environ.setdefault(FIGURES_ENV, "check")
    _kernels_on_unix_sockets()
    if getattr(config.option, "nbval_kernel_name", None) != "infomech-warm":
        return
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))
    import warm_kernel

    _WARM.update(module=warm_kernel, server=warm_kernel.start_server())


def pytest_unconfigure(config):
    import shutil

    while _SOCKET_DIRS:
        shutil.rmtree(_SOCKET_DIRS.pop(), ignore_errors=True)
    if not _WARM:
        return
    counts = _WARM["module"].stop_server(_WARM.pop("server"))
    _WARM.clear()
    why = "".join(f"; {w}" for w in counts["why"])
    print(f"\nnbval kernels: {counts['warm']} warm, {counts['refused']} cold{why}")
