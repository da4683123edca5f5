"""Where the built book, Chromium and the screenshots are, for the browser tests of ``tests/browser``.

Shared by ``test_site.py`` and ``test_lab.py``; the fixtures that use it are in ``conftest.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("INFOMECH_SITE_DIR", ROOT / "_build" / "html"))
SHOTS = Path(os.environ.get("INFOMECH_SCREENSHOT_DIR", ROOT / "_build" / "screenshots"))
CHROMIUM = os.environ.get("INFOMECH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-default-apps", "--disable-extensions",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
