"""Browser test and offline link check of the built book (``_build/html``): what a reader sees.

* every page is served on 127.0.0.1 and loaded in headless Chromium (Debian's ``/usr/bin/chromium``
  driven by Playwright) at 1280 px and 390 px, light and dark; every request that would leave
  localhost is blocked and fails the test; no console errors; maths typeset by the bundled MathJax;
* the reader audit (:data:`AUDIT`, run on every page): every numbered figure holds an image that
  loaded with non-blank pixels, its smallest text is >= 8 pt at the displayed size (from the
  figure's provenance), no Python repr (``<Figure size``, ``<matplotlib``, ``<torch.``, ``at 0x``),
  no stray single-value output box (an ``execute_result`` repr), no block wider than the text
  column at 1280 px (code input cells may scroll), no horizontal page scroll at 390 px, figures
  not dimmed in dark mode, no page whose text ends with a colon (a sentence announcing a removed
  cell); each chapter shows as many figures as the Figures page lists for it;
* a negative control: a chapter page with a text-only figure, a stray output box, an overflowing
  block and a closing sentence ending with a colon must fail the same audit, and a block 640 px
  wide must make it fail at 390 px after the resize (every audit also checks the width it ran at);
* every local ``href``/``src`` points to a file that exists and every ``#anchor`` exists;
* with ``INFOMECH_SCREENSHOTS=1`` (``make screenshots``; off in ``make test``, where the ~70
  full-page shots were a third of the browser tests' time), screenshots of every page at both
  widths in both themes go to ``_build/screenshots/`` (JPEG, cut
  at :data:`SHOT_MAX_HEIGHT`; the generated reference pages at :data:`REFERENCE_SHOT_HEIGHT`). Each
  page is loaded once, at 1280 x 900 px (in a tab reused from test to test:
  ``conftest.Pages``), and audited and screenshotted in the four views of
  :func:`views` in turn: the theme switched in place through ``prefers-color-scheme``, the width
  through the viewport (a page taller than the cut is shot from the viewport grown to the cut,
  then restored). The first theme alternates from page to page, so both themes are audited on a
  fresh load across the site.

Run by ``make test`` (``INFOMECH_SITE_TESTS=1 pytest tests/browser``).
"""

from __future__ import annotations

import functools
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from site_env import LOCAL_HOSTS, ROOT, SCREENSHOTS_ENV, SHOTS, SITE, screenshots_wanted

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


#: The reader audit, run in the page; returns lists of problems by kind.
AUDIT = r"""
async ({checkOverflow}) => {
  for (const img of document.images) { img.loading = 'eager'; }
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
      new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  const hasMath = document.querySelector('.math, div.math, span.math') !== null;
  if (hasMath) {
    for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
      await new Promise(r => setTimeout(r, 50));
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  }
  const out = {hasMath, mathjax: typeof window.MathJax === 'object' && !!window.MathJax.version,
               typeset: document.querySelectorAll('mjx-container').length,
               mathErrors: document.querySelectorAll('mjx-merror').length,
               badImages: [], figures: [], figureProblems: [], fonts: [], repr: [], stray: [],
               overflow: [], dimmed: [], dangling: [], pageScroll: 0};
  out.badImages = Array.from(document.images)
      .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src);
  const blank = (img) => {
    const w = Math.min(img.naturalWidth, 160), h = Math.max(1, Math.round(img.naturalHeight * w / img.naturalWidth));
    const c = document.createElement('canvas'); c.width = w; c.height = h;
    const g = c.getContext('2d'); g.drawImage(img, 0, 0, w, h);
    const d = g.getImageData(0, 0, w, h).data; let lo = 255, hi = 0;
    for (let i = 0; i < d.length; i += 4) { const v = (d[i] + d[i+1] + d[i+2]) / 3; lo = Math.min(lo, v); hi = Math.max(hi, v); }
    return hi - lo < 16;
  };
  const article = document.querySelector('main article, .bd-article') || document.body;
  for (const fig of article.querySelectorAll('figure')) {
    const num = fig.querySelector('.caption-number');
    if (!num) continue;
    const label = num.textContent.trim() + ' ' + (fig.id || '');
    out.figures.push(fig.id || label);
    const img = fig.querySelector('img');
    if (!img) { out.figureProblems.push(label + ': no image'); continue; }
    if (!(img.complete && img.naturalWidth > 0)) { out.figureProblems.push(label + ': image did not load'); continue; }
    if (blank(img)) out.figureProblems.push(label + ': blank image');
    if (getComputedStyle(img).filter !== 'none') out.dimmed.push(label + ': filter ' + getComputedStyle(img).filter);
    if (fig.id) {
      try {
        const base = document.querySelector('link[rel=stylesheet][href*="_static/"]').href.split('_static/')[0];
        const prov = await (await fetch(base + '_static/figures/' + fig.id + '.json')).json();
        const shown = prov.min_font_pt_raw * img.clientWidth / (prov.width_in * 96);
        if (window.innerWidth >= 1000 && shown < 7.95)
          out.fonts.push(`${label}: smallest text ${shown.toFixed(1)} pt at ${img.clientWidth} px`);
      } catch (e) { out.fonts.push(label + ': no provenance JSON (' + e + ')'); }
    }
  }
  const text = article.innerText;
  // a page whose text ends with a colon announces something it does not show (a removed cell)
  if (/:\s*$/.test(text.trim())) out.dangling.push(text.trim().slice(-100));
  for (const pat of [/<Figure size/, /<matplotlib/, /<torch\./, /\bat 0x[0-9a-f]{6,}/]) {
    const m = text.match(pat); if (m) out.repr.push(m[0]);
  }
  for (const o of article.querySelectorAll('.cell_output .output.text_plain, .cell_output .output.text_html.execute_result')) {
    out.stray.push(o.innerText.trim().slice(0, 80));
  }
  if (checkOverflow) {
    const right = article.getBoundingClientRect().right;
    const blocks = article.querySelectorAll('.cell_output > *, figure, table, mjx-container[display="true"], div.highlight, pre, .infomech-table');
    for (const el of blocks) {
      if (el.closest('.cell_input')) continue;            // code input cells scroll on purpose
      const code = el.closest('div[class*="highlight-"]');
      if (code && !code.classList.contains('output')) continue;  // so do code blocks in the prose
      if (el.offsetParent === null) continue;               // hidden (collapsed) content
      const box = el.getBoundingClientRect();
      // results tables and display maths may scroll inside their own box (deliberately), as long
      // as the box stays in the column; outputs, figures and prose blocks may not scroll at all
      const ownScroller = el.matches('.infomech-table, mjx-container[display="true"]');
      if (!ownScroller && el.closest('.infomech-table, mjx-container')) continue;
      const scrolls = !ownScroller && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible';
      if (box.right > right + 1 || scrolls)
        out.overflow.push(`${el.tagName.toLowerCase()}.${el.className}`.slice(0, 60) + ` (${Math.round(el.scrollWidth)} > ${Math.round(el.clientWidth)} px)`);
    }
  }
  out.pageScroll = document.documentElement.scrollWidth - window.innerWidth;
  out.width = window.innerWidth;
  out.theme = document.documentElement.dataset.theme || '';
  return out;
}
"""

#: The widths every page is audited at, in order; the page is loaded at the first (one load a page).
WIDTHS = (1280, 390)
THEMES = ("light", "dark")
#: Screenshots are JPEG (quality 85) and stop at this height in CSS px (chapters are < 27,000 px).
SHOT_MAX_HEIGHT = 30_000
#: Generated reference pages (the API page is ~117,000 px tall, its 30,000 px screenshot at 1280 px
#: alone took ~17 s) are screenshotted to this height only; the audit still covers the whole page.
REFERENCE_PAGES = ("book/api.html", "genindex.html")
REFERENCE_SHOT_HEIGHT = 8_000


def screenshot(tab, name: str, max_height: int = SHOT_MAX_HEIGHT) -> Path | None:
    """Full-page JPEG of ``tab`` as ``_build/screenshots/<name>.jpg``, cut at ``max_height`` px;
    ``None`` (nothing written) unless screenshots are asked for (:func:`site_env.screenshots_wanted`).

    A page taller than ``max_height`` is captured from the viewport, grown to ``max_height`` once
    (:func:`fit_viewport`): Playwright's ``full_page`` capture resizes the view to the whole
    document even when the shot is cut (119,000 px on the API page, ~5 s a shot). Other pages are
    captured with ``full_page``, which sizes the view to the page for the shot and back. Fails if
    the image would not cover the page up to the cut.
    """
    if not screenshots_wanted():
        return None
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.jpg"
    if tab.evaluate("document.documentElement.scrollHeight") > max_height:
        viewport = dict(tab.viewport_size)
        height = fit_viewport(tab, max_height)
        assert height == max_height, f"{name}: viewport {height} px, the shot is cut at {max_height}"
        tab.screenshot(path=str(path), type="jpeg", quality=85, caret="initial")
        tab.set_viewport_size(viewport)  # back to width x 900 px for what follows
    else:
        tab.screenshot(path=str(path), full_page=True, type="jpeg", quality=85, caret="initial")
    return path


def fit_viewport(tab, max_height: int) -> int:
    """Grow the viewport of ``tab`` to the document's height, at most ``max_height`` px; the height
    set. Repeated while the document grows with the viewport (``vh``-sized blocks)."""
    width, height = tab.viewport_size["width"], tab.viewport_size["height"]
    for _ in range(4):
        wanted = min(tab.evaluate("document.documentElement.scrollHeight"), max_height)
        if wanted <= height:
            break
        height = wanted
        tab.set_viewport_size({"width": width, "height": height})
    return height


def _figure_counts() -> dict[str, int]:
    """Figures listed per chapter on the Figures page: {'book/<chapter>.html': n}."""
    page = SITE / "book" / "figures.html"
    if not page.is_file():
        return {}
    text = page.read_text(encoding="utf-8")
    counts: dict[str, int] = {}
    for chunk in text.split('<section class="infomech-figure-chapter" id="chapter-')[1:]:
        slug = chunk.split('"', 1)[0]
        counts[f"book/{slug}.html"] = chunk.count('<section class="infomech-figure" ')
    return counts


def _open(pages, server: str, page: str, width: int, theme: str, *, html: str | None = None):
    """``page`` of the site loaded in a tab of ``pages`` (the conftest's reused tabs) at ``width`` x
    900 px in ``theme``; ``html`` replaces the page's own HTML. Returns ``(tab, problems)``; give
    the tab back with ``pages.release(tab)``."""
    problems: dict[str, list[str]] = {"outside": [], "failed": [], "errors": []}

    def route(route) -> None:
        host = urlsplit(route.request.url).hostname
        if html is not None and route.request.url.endswith(page):
            route.fulfill(body=html, content_type="text/html; charset=utf-8")
        elif route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            problems["outside"].append(route.request.url)
            route.abort()

    on = {
        "console": lambda msg: problems["errors"].append(f"console: {msg.text}")
        if msg.type == "error" else None,
        "pageerror": lambda exc: problems["errors"].append(f"page error: {exc}"),
        "requestfailed": lambda req: problems["failed"].append(f"{req.url} ({req.failure})")
        if urlsplit(req.url).hostname in LOCAL_HOSTS else None,
        "response": lambda resp: problems["failed"].append(f"{resp.url} (HTTP {resp.status})")
        if resp.status >= 400 else None,
    }
    tab, response = pages.open(f"{server}/{page}", width=width, height=900, scheme=theme, route=route,
                               on=on)
    if response is None or not response.ok:
        pages.release(tab)
        raise AssertionError(f"{page}: HTTP {response and response.status}")
    return tab, problems


def _reader_problems(state: dict, width: int, theme: str) -> list[str]:
    out = []
    for kind in ("figureProblems", "fonts", "repr", "stray", "overflow", "dimmed", "dangling"):
        out += [f"{kind}: {p}" for p in state[kind]]
    if width <= 400 and state["pageScroll"] > 1:
        out.append(f"pageScroll: the page scrolls sideways by {state['pageScroll']} px at {width} px")
    if theme == "dark" and state["theme"] != "dark":
        out.append(f"theme: dark mode requested, page shows {state['theme']!r}")
    return out


def _is_redirect(page: str) -> bool:
    head = (SITE / page).read_text(encoding="utf-8", errors="replace")[:2000].lower()
    return 'http-equiv="refresh"' in head


def views(first_theme: str) -> list[tuple[int, str]]:
    """The four (width, theme) views of a page in the order they are shown on its one load.

    The page is loaded at the first width in ``first_theme``; each step then changes one thing in
    place, the theme or the width: ``light, dark`` at 1280 px, then ``dark, light`` at 390 px
    (for ``first_theme="light"``), two theme switches and one resize for four views.
    """
    second = THEMES[1 - THEMES.index(first_theme)]
    return [(WIDTHS[0], first_theme), (WIDTHS[0], second), (WIDTHS[1], second), (WIDTHS[1], first_theme)]


@pytest.mark.parametrize("page", PAGES)
def test_page_in_browser(pages, server, page: str) -> None:
    if _is_redirect(page):
        pytest.skip(f"{page} only redirects")
    counts = _figure_counts()
    failures = []
    order = views(THEMES[PAGES.index(page) % 2])
    shot_height = REFERENCE_SHOT_HEIGHT if page in REFERENCE_PAGES else SHOT_MAX_HEIGHT
    tab, problems = _open(pages, server, page, *order[0])
    try:
        shown = order[0]
        for width, theme in order:
            if width != shown[0]:
                _show_width(tab, width)
            if theme != shown[1]:
                _show_theme(tab, theme)
            shown = (width, theme)
            state = tab.evaluate(AUDIT, {"checkOverflow": width >= 1000})
            failures += _view_failures(page, width, theme, state, counts)
            screenshot(tab, f"{page.removesuffix('.html').replace('/', '-')}-{width}-{theme}", shot_height)
    finally:
        pages.release(tab)
    failures += [f"{page}: requests left localhost: {u}" for u in problems["outside"]]
    failures += [f"{page}: failed request {u}" for u in problems["failed"]]
    failures += [f"{page}: {e}" for e in problems["errors"]]
    assert not failures, "\n".join(failures)


def _show_width(tab, width: int, height: int = 900) -> None:
    """Resize the viewport of ``tab`` to ``width`` x ``height`` px in place; returns once the page
    sees the new width and has painted two animation frames at it (the audit's own reads of
    geometry lay the page out at that width in any case)."""
    tab.set_viewport_size({"width": width, "height": height})
    tab.wait_for_function(f"window.innerWidth === {width}", timeout=10_000)
    tab.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    # the theme's sidebars slide to their new place in CSS transitions: a 390 px shot of the lab
    # page once caught both of them mid-slide, over the text
    tab.wait_for_function(f"({RUNNING_TRANSITIONS}).length === 0", timeout=10_000)


#: The CSS transitions still running in the page (what each animates, and on what).
RUNNING_TRANSITIONS = ("document.getAnimations().filter(a => a instanceof CSSTransition && "
                       "a.playState === 'running').map(a => `${a.transitionProperty} on "
                       "${a.effect && a.effect.target ? a.effect.target.className : '?'}`)")


def _show_theme(tab, theme: str) -> None:
    """Switch ``tab`` to ``theme`` in place (``prefers-color-scheme``; the theme follows it)."""
    tab.emulate_media(color_scheme=theme)
    tab.wait_for_function(f"document.documentElement.dataset.theme === '{theme}'", timeout=10_000)


def _view_failures(page: str, width: int, theme: str, state: dict, counts: dict[str, int]) -> list[str]:
    where = f"{page} @ {width}px {theme}"
    failures = [f"{where}: image not loaded {u}" for u in state["badImages"]]
    if state["width"] != width:
        failures.append(f"{where}: audited at {state['width']} px wide, not {width} px")
    if state["hasMath"] and not (state["mathjax"] and state["typeset"] > 0):
        failures.append(f"{where}: maths present but not typeset by the bundled MathJax")
    if state["mathErrors"]:
        failures.append(f"{where}: MathJax reported {state['mathErrors']} errors")
    failures += [f"{where}: {p}" for p in _reader_problems(state, width, theme)]
    if page in counts and width == 1280 and theme == "light" and len(state["figures"]) != counts[page]:
        failures.append(f"{where}: {len(state['figures'])} numbered figures, the Figures page "
                        f"lists {counts[page]}")
    return failures


def test_every_chapter_has_figures_listed() -> None:
    counts = _figure_counts()
    chapters = [p for p in CHAPTER_PAGES if p.removeprefix("book/").removesuffix(".html")
                not in ("intro", "figures", "how-to-cite", "bibliography", "lab", "api", "genindex")]
    missing = [p for p in chapters if p in _chapter_notebook_pages() and counts.get(p, 0) == 0]
    assert not missing, f"chapters without any figure on the Figures page: {missing}"


def _chapter_notebook_pages() -> set[str]:
    return {f"book/{p.stem}.html" for p in (ROOT / "book").glob("*.ipynb")}


def test_screenshots_only_when_asked(pages, server, monkeypatch, tmp_path) -> None:
    """No screenshot is written unless ``INFOMECH_SCREENSHOTS=1``; with it, a JPEG of the page."""
    import sys

    monkeypatch.setattr(sys.modules[__name__], "SHOTS", tmp_path)
    tab, _ = _open(pages, server, "book/how-to-cite.html", 390, "light")
    try:
        monkeypatch.delenv(SCREENSHOTS_ENV, raising=False)
        assert screenshot(tab, "off") is None and not any(tmp_path.iterdir())
        monkeypatch.setenv(SCREENSHOTS_ENV, "1")
        path = screenshot(tab, "on")
        assert path == tmp_path / "on.jpg" and path.read_bytes()[:3] == b"\xff\xd8\xff"
        monkeypatch.setenv(SCREENSHOTS_ENV, "yes")
        with pytest.raises(ValueError, match="INFOMECH_SCREENSHOTS must be 0 or 1"):
            screenshot(tab, "bad")
    finally:
        pages.release(tab)


def test_audit_negative_control(pages, server) -> None:
    """A chapter page with a text-only figure, a stray output box, a too-wide block, a closing
    colon and a block wider than a phone must fail; so must an audit not at the width it claims."""
    chapter = next((p for p in sorted(_chapter_notebook_pages()) if (SITE / p).is_file()), None)
    assert chapter, "no chapter page to mutate"
    html = (SITE / chapter).read_text(encoding="utf-8")
    start = html.index("<figure")
    img_start = html.index("<img", start)
    img_end = html.index(">", img_start) + 1
    broken = (html[:img_start] + "<pre>&lt;Figure size 1000x420 with 2 Axes&gt;</pre>" + html[img_end:])
    first_output = broken.index('<div class="cell_output')
    broken = (broken[:first_output]
              + '<div class="cell_output docutils container"><div class="output text_plain highlight-myst-ansi notranslate">'
              '<div class="highlight"><pre><span></span>0.0</pre></div></div></div>'
              + '<div class="cell_output docutils container"><div class="output stream highlight-myst-ansi notranslate">'
              f'<div class="highlight"><pre style="white-space:pre">{"x" * 400}</pre></div></div></div>'
              + broken[first_output:])
    end = broken.index("</article>")
    broken = (broken[:end] + '<p style="width:640px">A block that fits at 1280 px only.</p>'
              "<p>All the values this chapter published, as a check:</p>" + broken[end:])
    fake = chapter.replace(".html", "-negative-control.html")
    tab, _ = _open(pages, server, fake, 1280, "light", html=broken)
    try:
        state = tab.evaluate(AUDIT, {"checkOverflow": True})
        _show_width(tab, 390)  # the narrow views are audited after a resize of the same load
        narrow = tab.evaluate(AUDIT, {"checkOverflow": False})
    finally:
        pages.release(tab)
    assert state["pageScroll"] <= 1, "the 640 px block made the page scroll at 1280 px already"
    assert narrow["width"] == 390 and narrow["pageScroll"] > 1, \
        f"a 640 px block did not make the page scroll sideways at 390 px after the resize: {narrow['pageScroll']}"
    assert any("pageScroll" in p for p in _reader_problems(narrow, 390, "light"))
    assert any("audited at 1280 px wide" in f for f in _view_failures(fake, 390, "light", state, {})), \
        "an audit of the page at 1280 px passed as the 390 px view"
    assert any("no image" in p for p in state["figureProblems"]), state["figureProblems"]
    assert any("Figure size" in p for p in state["repr"]), state["repr"]
    assert "0.0" in state["stray"], state["stray"]
    assert state["overflow"], "a 400-character unwrapped line did not count as overflow"
    assert state["dangling"], "a page ending with a colon did not count as dangling"


@pytest.mark.parametrize("page", ["book/lab.html", "book/intro.html"])
def test_a_resized_view_waits_for_the_sidebars_to_settle(pages, server, page: str) -> None:
    """The audits and screenshots change a page's width in place (:func:`views`); the sidebars then
    move in CSS transitions, and a view is only looked at once they have ended."""
    tab, _ = _open(pages, server, page, 1280, "dark")
    try:
        # the theme's own transitions are short enough to end unseen on a fast machine: slowed
        # here, so that one is certainly running when the width has changed
        tab.add_style_tag(content=".bd-sidebar-primary, .bd-sidebar-secondary "
                                  "{ transition-duration: 1.5s !important; }")
        tab.set_viewport_size({"width": 390, "height": 900})
        tab.wait_for_function("window.innerWidth === 390", timeout=10_000)
        assert tab.evaluate(RUNNING_TRANSITIONS), "no transition to wait for: this test cannot fail"
        _show_width(tab, 390)
        assert tab.evaluate(RUNNING_TRANSITIONS) == []
    finally:
        pages.release(tab)
