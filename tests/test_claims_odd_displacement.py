"""The odd-displacement claim: computed verdict words and headline numbers, within justified tolerances.

All runs are deterministic float64 computations; tolerances are set so that a change of kernels,
rules or protocol fails the test, while round-off (1e-13 here) cannot.
"""

import numpy as np
import pytest

from infomech.claims import odd_displacement as claim
from infomech.claims.base import APPROXIMATE, EXACT, FAILS, HOLDS, MIXED


def test_verdict_is_mixed_and_decided_by_the_first_moment(result):
    v = claim.verdict(result)
    assert v.claim == "odd" and v.word == MIXED
    # at beta^2 = 1 the gradient moves at c and B(2,1) not at all: the spread is 1 c
    assert v.value == pytest.approx(1.0, abs=0.01)
    c = claim.checks(result)
    failed = [k for k, ok in c.items() if not ok]
    assert failed == ["bipolar runs do not drift", "speed is a function of beta^2"]


def test_row_words(result):
    w = claim.row_words(result)
    assert w["moves"] == HOLDS and w["law-drift"] == EXACT
    assert w["steer-nonneg"] == EXACT and w["steer-relu"] == APPROXIMATE
    assert w["bipolar-single-nonneg"] == EXACT and w["bipolar-disc"] == FAILS
    assert w["beta2-alone"] == FAILS and w["gamma-better"] == HOLDS
    assert w["laplacian-centre"] == EXACT and w["laplacian-rw"] == EXACT
    assert w["speed-le-c"] == FAILS and w["no-act"] == HOLDS and w["abs"] == HOLDS


def test_headline_numbers(result):
    assert result["n_positive"] == result["n_odd_runs"] == 24
    assert result["rest_max"] < 1e-12
    assert result["patterns"]["disc r=19"]["v"][:, 0].max() == pytest.approx(1.532, abs=0.005)
    pure = result["steer"][1.0]
    assert np.abs(pure["err"]).max() == pytest.approx(3.42, abs=0.05)
    # the worst angle is unique once folded by the square's symmetry, with a margin far above round-off
    assert pure["worst"]["angle"] == 30.0 and pure["worst"]["margin"] > 0.1 and pure["worst"]["n_tied"] == 8
    assert result["bipolar"]["disc r=19"]["osc"]["ratio"].max() == pytest.approx(0.418, abs=0.01)
    assert result["shed"]["relu"]["front"] == pytest.approx(1.0, abs=1e-9)
    assert abs(result["shed"]["none"]["centre"]) < 1e-9


def test_first_moment_and_laplacian(result):
    rl = result["moment"]["relu"]
    assert np.all(rl["B(2,1)"]["gamma2"] < 1e-20) and np.all(rl["B(1,2)"]["gamma2"] < 1e-20)
    nonneg = result["moment_nonneg"]["B(2,1)"]
    assert rl["B(2,1)"]["speed"][nonneg].max() < 1e-12  # zero first moment: exactly no drift while k >= 0
    assert 0.05 < rl["B(2,1)"]["speed"].max() < 0.15  # ReLU lets it creep, far below c
    sc = result["moment_scores"]["relu"]
    assert sc["rms_gamma"] < 0.5 * sc["rms_beta"]
    assert result["laplacian_rw_err"] < 1e-9  # Delta + ReLU on a pixel: sigma^2 = t/2
    assert result["laplacian_centre_max"] < 1e-9
