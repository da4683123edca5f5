"""Where the built book, Chromium and the screenshots are, for the browser tests of ``tests/browser``.

Shared by ``test_site.py`` and ``test_lab.py``; the fixtures that use it are in ``conftest.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("INFOMECH_SITE_DIR", ROOT / "_build" / "html"))
SHOTS = Path(os.environ.get("INFOMECH_SCREENSHOT_DIR", ROOT / "_build" / "screenshots"))
#: Set to 1 (``make screenshots``, or ``make test SCREENSHOTS=1``) to write screenshots to
#: :data:`SHOTS`. Off by default: the audits are the tests, and the ~70 full-page shots are about a
#: third of the browser tests' time and CPU (measured: 58 s and ~77 CPU-s of 190 s and 284 CPU-s).
SCREENSHOTS_ENV = "INFOMECH_SCREENSHOTS"
CHROMIUM = os.environ.get("INFOMECH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-default-apps", "--disable-extensions",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def screenshots_wanted() -> bool:
    """Whether the browser tests write screenshots (``$INFOMECH_SCREENSHOTS`` is ``1``)."""
    raw = os.environ.get(SCREENSHOTS_ENV, "").strip()
    if raw not in ("", "0", "1"):
        raise ValueError(f"{SCREENSHOTS_ENV} must be 0 or 1, not {raw!r}")
    return raw == "1"
