"""The theory chapter's checks: each verdict word and its decisive number (tolerances inline)."""

import numpy as np
import pytest

from infomech.claims import theory as claim
from infomech.claims.base import EXACT, FAILS, MIXED


def test_verdict_words(result):
    words = {k: v.word for k, v in claim.checks(result).items()}
    assert words == {"theory-convention": EXACT, "theory-energy": EXACT, "theory-splits": MIXED,
                     "theory-parity": EXACT, "theory-law": EXACT, "theory-law-signed": FAILS}
    assert claim.verdict(result).claim == "theory-law"


def test_headline_numbers(result):
    assert result["shift_dx"] == pytest.approx(1.0, abs=1e-12)
    # float64 round-off over 12 steps is ~1e-13; the stated bound is 1e-9
    assert result["law_centre_err"] < 1e-9 and result["law_cov_err"] < 1e-9
    assert result["signed_linear_err"] < 1e-9
    assert result["law_n_runs"] == 1600
    # signed DCT-beta under ReLU misses the law by pixels (10.84 px at beta^2 = 0.9): the science
    np.testing.assert_allclose(result["signed_relu_err"], [0.48, 10.84], atol=0.01)
    # beta^2 of the examples: exact algebraic values (saddle 0 vs 1, translation 1/3 vs 1/2)
    np.testing.assert_allclose(result["beta2_point"][:3], [0.5, 1 / 3, 0.0], atol=1e-12)
    np.testing.assert_allclose(result["beta2_square"][:3], [0.5, 0.5, 1.0], atol=1e-12)
    # Beta-law means 4/9 and 2/3; 400 samples have a standard error of ~0.01
    assert result["null_b2"]["point"] == pytest.approx(4 / 9)
    assert result["random_b2"]["point"] == pytest.approx(4 / 9, abs=0.03)
    assert result["random_b2"]["square"] == pytest.approx(2 / 3, abs=0.03)


def test_parity_split_equals_point_reflection():
    k = np.random.default_rng(0).normal(size=(20, 4, 4))
    pe, po = claim.dct_parity_split(k)
    np.testing.assert_allclose(pe, (k + k[:, ::-1, ::-1]) / 2, atol=1e-12)
    np.testing.assert_allclose(pe + po, k, atol=1e-12)
