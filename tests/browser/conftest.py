"""The site tests need a built book (``make book``) and Debian's Chromium.

They are collected only when ``INFOMECH_SITE_TESTS=1`` (``make test`` sets it after building the
book), so a plain ``pytest tests/`` unit run does not depend on them. One HTTP server on
127.0.0.1 and one headless Chromium serve every browser test of the session.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

if os.environ.get("INFOMECH_SITE_TESTS", "") != "1":
    collect_ignore_glob = ["test_*.py"]
else:
    from site_env import CHROMIUM, CHROMIUM_ARGS, SITE, screenshots_wanted

    def pytest_configure(config) -> None:
        """A bad ``INFOMECH_SCREENSHOTS`` stops the session with one line, before any test runs
        (each screenshot would otherwise fail its own test with the same error)."""
        try:
            screenshots_wanted()
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None

    class _QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    @pytest.fixture(scope="session")
    def server():
        """Base URL of the built site served on 127.0.0.1 (a free port)."""
        if not (SITE / "index.html").is_file():
            pytest.fail(f"no built book in {SITE}: run `make book`")
        handler = functools.partial(_QuietHandler, directory=str(SITE))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
        httpd.shutdown()
        httpd.server_close()

    @pytest.fixture(scope="session")
    def browser():
        """Headless Debian Chromium driven by Playwright."""
        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium (make test does it as root)")
        sync_api = pytest.importorskip("playwright.sync_api")
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
