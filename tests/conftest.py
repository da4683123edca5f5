import os

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=30, deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="module")
def result(request: pytest.FixtureRequest) -> dict:
    """The claim's measurement, run once per test module: ``claim.run()`` of the module's ``claim``.

    Every ``tests/test_claims_<chapter>.py`` imports its chapter as ``claim``; a module that needs
    other arguments (e.g. a fast configuration) defines its own ``result`` fixture.
    """
    return request.module.claim.run()


@pytest.fixture(scope="session", autouse=True)
def _figures_are_rendered():
    """The unit tests see figures rendered, even in one session with nbval (``pytest tests book
    --nbval-lax``), for which ``book/conftest.py`` sets ``INFOMECH_FIGURES=check``."""
    from infomech.publish import FIGURES_ENV

    saved = os.environ.pop(FIGURES_ENV, None)
    yield
    if saved is not None:
        os.environ[FIGURES_ENV] = saved
