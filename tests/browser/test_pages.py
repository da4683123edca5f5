"""The browser tests' reused tabs (``conftest.Pages``): a tab handed to the next test keeps
nothing of the last one (storage, also what its unload handlers wrote; size; colour scheme;
handlers). Each tab has a window of its own: with all tabs in one context,
``test_lab.py::test_keyboard_operation`` failed (keys reached a background tab's panel)."""

from __future__ import annotations


def _cont(route) -> None:
    route.continue_()


def test_a_reused_tab_starts_clean(pages, server) -> None:
    first: list[str] = []
    tab, _ = pages.open(f"{server}/book/intro.html", width=1280, height=900, scheme="dark",
                        route=_cont, on={"console": lambda m: first.append(m.text)})
    tab.evaluate("localStorage.setItem('probe', '1'); sessionStorage.setItem('probe', '1');"
                 "addEventListener('pagehide', () => sessionStorage.setItem('unload', '1'))")
    pages.release(tab)
    second: list[str] = []
    again, _ = pages.open(f"{server}/book/intro.html", width=390, height=700, scheme="light",
                          route=_cont, on={"console": lambda m: second.append(m.text)})
    try:
        assert again is tab, "the free tab was not reused"
        # the probes, and what the last page wrote as it was left, are gone
        assert again.evaluate("[localStorage.getItem('probe'), sessionStorage.getItem('probe'),"
                              " sessionStorage.getItem('unload')]") == [None, None, None]
        assert again.evaluate("[innerWidth, innerHeight, matchMedia('(prefers-color-scheme: dark)')"
                              ".matches, document.hasFocus()]") == [390, 700, False, True]
        with again.expect_console_message(lambda m: m.text == "probe for the second test"):
            again.evaluate("console.log('probe for the second test')")
        assert "probe for the second test" in second and "probe for the second test" not in first
    finally:
        pages.release(again)
