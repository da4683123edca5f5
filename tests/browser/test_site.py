"""Browser test and offline link check of the built book (``_build/html``).

* every page is served on 127.0.0.1 and loaded in headless Chromium (Debian's ``/usr/bin/chromium``
  driven by Playwright); every request that would leave localhost is recorded, blocked and fails
  the test; every ``<img>`` must have loaded (``naturalWidth > 0``); no console errors; pages with
  maths must have been typeset by the bundled MathJax; each chapter is screenshotted into
  ``_build/screenshots/``;
* every local ``href``/``src`` of every page points to a file that exists, and every ``#anchor``
  into an HTML page exists in it.

Run by ``make test`` (``INFOMECH_SITE_TESTS=1 pytest tests/browser``).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

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

PAGES = sorted(
    rel for rel in (p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html"))
    if not rel.startswith(("_static/", "_sources/", "_images/"))  # theme templates, not pages
) if SITE.is_dir() else []
CHAPTER_PAGES = [p for p in PAGES if p.startswith("book/")]


def test_site_is_built() -> None:
    assert (SITE / "index.html").is_file(), f"no built book in {SITE}: run `make book`"
    assert CHAPTER_PAGES, "the built book has no pages under book/"
    assert (SITE / "claims.json").is_file() and (SITE / "claims.csv").is_file()
    assert (SITE / "_static" / "mathjax" / "tex-chtml.js").is_file(), "MathJax is not bundled"


# ---------------------------------------------------------------- offline link check


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value is None:
                continue
            if key in ("id", "name"):
                self.ids.add(value)
            if key in ("href", "src"):
                self.links.append(value)
            if key == "srcset":
                self.links += [part.strip().split(" ")[0] for part in value.split(",") if part.strip()]


@functools.cache
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def test_offline_links() -> None:
    broken = []
    for page in PAGES:
        src = SITE / page
        for link in _parse(src).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue  # external (http, https, mailto, javascript, data): not part of the site
            if not parts.path:
                if parts.fragment and parts.fragment not in _parse(src).ids:
                    broken.append(f"{page}: #{parts.fragment} (no such anchor)")
                continue
            target = (src.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or SITE.resolve() not in target.parents:
                broken.append(f"{page}: {link} (missing)")
                continue
            if parts.fragment and target.suffix == ".html" and \
                    parts.fragment not in _parse(target).ids:
                broken.append(f"{page}: {link} (no such anchor)")
    assert not broken, "broken local links:\n" + "\n".join(sorted(set(broken)))


# ---------------------------------------------------------------- browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium (make test does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


_WAIT_FOR_RENDER = """
async () => {
  for (const img of document.images) { img.loading = 'eager'; }
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
      new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  const hasMath = document.querySelector('.math, div.math, span.math') !== null;
  if (hasMath) {
    for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
      await new Promise(r => setTimeout(r, 50));
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  }
  return {
    hasMath,
    mathjax: typeof window.MathJax === 'object' && !!window.MathJax.version,
    typeset: document.querySelectorAll('mjx-container').length,
    mathErrors: document.querySelectorAll('mjx-merror').length,
    badImages: Array.from(document.images)
        .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src),
    images: document.images.length,
  };
}
"""


@pytest.mark.parametrize("page", PAGES)
def test_page_in_browser(browser, server, page: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    failed: list[str] = []
    errors: list[str] = []

    def route(route) -> None:
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    tab = context.new_page()
    tab.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error"
           else None)
    tab.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    tab.on("requestfailed", lambda req: failed.append(f"{req.url} ({req.failure})")
           if urlsplit(req.url).hostname in LOCAL_HOSTS else None)
    tab.on("response", lambda resp: failed.append(f"{resp.url} (HTTP {resp.status})")
           if resp.status >= 400 else None)
    try:
        response = tab.goto(f"{server}/{page}", wait_until="load", timeout=60_000)
        assert response is not None and response.ok, f"{page}: HTTP {response and response.status}"
        tab.wait_for_load_state("networkidle", timeout=30_000)
        state = tab.evaluate(_WAIT_FOR_RENDER)
        if page in CHAPTER_PAGES:
            SHOTS.mkdir(parents=True, exist_ok=True)
            shot = SHOTS / (page.removeprefix("book/").removesuffix(".html") + ".png")
            tab.screenshot(path=str(shot), full_page=True)
    finally:
        context.close()
    assert not outside, f"{page}: requests left localhost: {outside}"
    assert not failed, f"{page}: failed requests: {failed}"
    assert not errors, f"{page}: " + "; ".join(errors)
    assert not state["badImages"], f"{page}: images not loaded: {state['badImages']}"
    if state["hasMath"]:
        assert state["mathjax"], f"{page}: MathJax did not load"
        assert state["typeset"] > 0, f"{page}: maths present but not typeset by MathJax"
        assert state["mathErrors"] == 0, f"{page}: MathJax reported {state['mathErrors']} errors"
