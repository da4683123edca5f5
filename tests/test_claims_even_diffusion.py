"""The even-diffusion claim: verdict words and headline numbers (tolerances justified inline)."""

import numpy as np
import pytest

from infomech.claims import even_diffusion as claim
from infomech.claims.base import APPROXIMATE, FAILS, HOLDS, MIXED


def test_chapter_verdict_is_mixed_for_the_stated_reasons(result):
    v = claim.verdict(result)
    assert v.word == MIXED
    c = claim.checks(result)
    assert list(c.values()) == [True, True, False, False]
    # the decisive drift (7.94 px for the saddle on the photograph) is a first-step jump of a
    # float64 run: stable to far better than the 0.05 px allowed here
    assert v.value == pytest.approx(7.94, abs=0.05)
    assert "|" not in v.sentence()  # glued into Markdown tables


def test_exact_law_numbers(result):
    # round-off of float64 runs of 20 steps is ~1e-14; 1e-9 is the chapter's stated bound
    assert result["nonneg_drift_max"] < 1e-9
    assert result["square_iso_err"] < 1e-9
    assert result["point_iso_min"] == pytest.approx(0.0, abs=1e-9)  # bar and diagonal
    assert result["kurtosis_law_err"] < 1e-9
    assert claim.rate_law_error(result) < 1e-9


def test_shape_verdict_and_fading(result):
    v = claim.shape_verdict(result)
    assert v.word == APPROXIMATE
    # the kurtosis gap of independent steps fades exactly as 1/t
    np.testing.assert_allclose(result["fade_gap"], -1.0, atol=1e-6)
    # DC and binomial contours: ~1/t (fitted over t = 10..40; lattice effects allow +-0.1)
    np.testing.assert_allclose(result["fade_contour"][:2], -1.0, atol=0.1)
    g1 = result["shape"]["kurtosis_law"][0]
    np.testing.assert_allclose(g1[0], [-1.5, -0.75], atol=1e-12)  # DC: box step, axis vs diagonal


def test_cause_verdict(result):
    v = claim.cause_verdict(result)
    assert v.word == HOLDS
    c = result["cause"]
    assert np.nanmax(c["none_signed"]) < 1e-9 and np.nanmax(c["relu_signed_step"]) < 1e-9
    assert c["none_abs"].max() > 5.0  # px: the absolute-value-weighted centre does move


def test_rest_verdict(result):
    v = claim.rest_verdict(result)
    assert v.word == FAILS
    # pure rest energy (beta^2 = 0): rates 1 (2x2), 2/3 (3x3), 1/2 (5x5, translation) in c^2 units
    rate0 = [r["rate"][0] for r in result["rates"].values()]
    np.testing.assert_allclose(rate0, [1.0, 2 / 3, 0.5, 0.5], atol=1e-9)
    assert v.value == pytest.approx(0.5, abs=1e-6)
