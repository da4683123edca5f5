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
from urllib.parse import urlsplit

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

    @pytest.fixture(scope="session")
    def pages(browser):
        """The session's :class:`Pages`: browser tabs reused from test to test."""
        pool = Pages(browser)
        yield pool
        pool.close()


#: The empty document a released tab loads on the site's origin to clear the origin's storage.
RESET_PATH = "__infomech_reset_storage__"
RESET_HTML = "<!doctype html><title>reset</title>"


class Pages:
    """Browser tabs reused from test to test: a tab of a fresh browser context cost ~1.8 CPU-s
    more per load than a live tab navigating (Chromium starts a renderer process and a JavaScript
    engine for every new tab): a fifth to a third of the browser tests' CPU time, as measured.

    Each tab has a browser context (a window) of its own, so a tab held by one test is never a
    background tab of another (focus, timers and animation frames as for a single tab).
    :meth:`open` hands out a free tab (or a new one) at the asked width, height and colour scheme,
    with the caller's request filter (``route``) and event handlers, and loads ``url``: a new
    document every time. :meth:`release` takes the handlers off, clears the site's local and
    session storage (the theme's and the lab's settings) and leaves the tab on ``about:blank``.
    The site sets no cookies. Playwright turns the HTTP cache off for routed contexts, so each
    test sees every request its page makes.
    """

    EVENTS = ("console", "pageerror", "requestfailed", "response")

    def __init__(self, browser) -> None:
        self.browser = browser
        self.free: list = []
        self.held: dict = {}  # tab -> (route, {event: handler})

    def _route(self, page, route) -> None:
        held = self.held.get(page)
        if held is None:  # a tab between two tests: nothing may load in it
            route.abort()
        else:
            held[0](route)

    def _dispatch(self, page, event: str, arg) -> None:
        held = self.held.get(page)
        if held is not None and event in held[1]:
            held[1][event](arg)

    def open(self, url: str, *, width: int, height: int, scheme: str, route, on: dict | None = None):
        """A tab at ``width`` x ``height`` px in ``scheme`` (``light``/``dark``) that has loaded
        ``url``; returns ``(tab, response)``. ``route(route)`` decides on every request; ``on`` maps
        :data:`EVENTS` to handlers."""
        if self.free:
            page = self.free.pop()
        else:
            context = self.browser.new_context()
            page = context.new_page()
            context.route("**/*", functools.partial(self._route, page))
            for event in self.EVENTS:
                page.on(event, functools.partial(self._dispatch, page, event))
        page.set_viewport_size({"width": width, "height": height})
        page.emulate_media(color_scheme=scheme)
        self.held[page] = (route, dict(on or {}))
        try:
            response = page.goto(url, wait_until="load", timeout=60_000)
        except Exception:
            self.release(page)
            raise
        return page, response

    def release(self, page) -> None:
        """Give ``page`` back: its handlers off, the site's storage cleared, ``about:blank``.

        The storage of an ``http`` origin is cleared after the page is left (its unload handlers
        write to it: the theme keeps the sidebar's scroll position), from an empty document of the
        same origin; a ``file:`` page's storage just before it is left."""
        self.held.pop(page, None)
        if page.is_closed():
            return
        parts = urlsplit(page.url)
        try:
            if parts.scheme == "file":  # no empty document to load there: cleared before leaving
                page.evaluate("() => { try { localStorage.clear(); sessionStorage.clear(); } catch (e) {} }")
            page.goto("about:blank")
            if parts.scheme in ("http", "https"):
                self.held[page] = (lambda route: route.fulfill(body=RESET_HTML, content_type="text/html"), {})
                page.goto(f"{parts.scheme}://{parts.netloc}/{RESET_PATH}")
                page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
                self.held.pop(page)
                page.goto("about:blank")
        except Exception:  # a tab that cannot be reset is not reused
            self.held.pop(page, None)
            page.context.close()
            return
        self.free.append(page)

    def close(self) -> None:
        for page in [*self.free, *self.held]:
            page.context.close()
        self.free.clear()
        self.held.clear()
