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
