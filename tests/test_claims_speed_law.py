"""The speed-law claim: computed verdict words and headline numbers, within justified tolerances.

Every quantity is a deterministic float64 computation; the tolerances below are chosen to fail when
the science changes (a different kernel, rule or protocol), not when a last bit flips.
"""

import math

import numpy as np
import pytest

from infomech.claims import speed_law as claim
from infomech.claims.base import APPROXIMATE, EXACT, FAILS, MIXED


def test_verdict_is_mixed_with_the_3x3_relu_deviation(result):
    v = claim.verdict(result)
    assert v.claim == "speed" and v.word == MIXED
    # 0.103 in the committed book; +-0.005 is 50x the last published digit and far below the
    # 0.2 approximate tolerance, so only a change of protocol or kernels moves it out
    assert v.value == pytest.approx(0.103, abs=0.005)
    assert "approximate in 1 of 12 settings (dct3-relu)" in v.detail


def test_row_words(result):
    w = claim.row_words(result)
    assert w["fit-dct3-relu"] == APPROXIMATE
    assert all(w[f"fit-{k}"] == FAILS for k in result["fit"] if k != "dct3-relu")
    assert {w[f"law-{k}"] for k in result["law"]} == {EXACT}
    assert w["form-dct3"] == APPROXIMATE and w["form-dct2"] == FAILS
    assert w["placement"] == EXACT and w["row-dct3"] == EXACT and w["row-translation3"] == APPROXIMATE
    assert w["circle-dct2"] == FAILS


def test_exact_law_numbers(result):
    e = result["law"]
    assert e["dct3"]["kappa"] == pytest.approx(2 / 3, abs=1e-9)  # closed form
    assert e["dct2"]["kappa"] == pytest.approx(1, abs=1e-9)
    assert e["dct3"]["limit"] == pytest.approx(0.4, abs=1e-9)
    # 2/3 * 0.4/0.6 - 0.4 = 2/45, at the end of the range
    assert e["dct3"]["form_dev"] == pytest.approx(2 / 45, abs=1e-6)
    assert result["law_worst"] < 1e-12  # measured = exact to round-off, every activation
    assert max(x["act_gap"] for x in e.values()) < 1e-12


def test_steady_band_is_tie_robust(result):
    s = result["steady"]
    for k in ("dct3", "dct5"):
        b = s[k]["band"]
        # every grid value is far from the band's level: the band cannot flip with round-off
        assert b.margin > 1e-6
        assert 0.45 <= b.lo <= 0.55 and b.hi >= 0.95
    for k in ("dct2", "translation3"):  # the gap is pure round-off there: no band
        assert math.isnan(s[k]["band"].lo)
    assert s["dct3"]["gap"].max() == pytest.approx(0.057, abs=0.005)


def test_long_time_limit_and_reduction(result):
    lim = result["limits"]
    assert result["limits"]["reduction_err"] < 1e-9  # 1-D reduction reproduces the 2-D runs
    # the 5x5 pure gradient: last estimate 0.9512 at T = 16000, geometric tail 6e-4
    assert 0.950 < lim["dct5-b100"].estimates[-1] < lim["dct5-b100"].limit < 0.953
    np.testing.assert_allclose(lim["dct5-b100"].front, 1.0, atol=1e-12)  # the front moves at exactly c
    assert np.all(np.diff(lim["dct5-b100"].estimates) > 0)
    assert 0.989 < lim["dct3-b90"].limit < 0.992


def test_direction_and_circle(result):
    d = result["direction"][50]
    small = d["beta2"] <= 0.2
    assert np.ptp(d["speed"][:, small], axis=0).max() < 1e-12  # isotropic where k >= 0
    i45 = list(d["theta_deg"]).index(45)
    assert 1.15 < d["v_over_c"][i45, -1] < math.sqrt(2)  # beyond c, below the diagonal light cone
    assert d["angle_err"][[0, i45, -1]].max() < 1e-9  # exact on the axes and the diagonal
    assert result["circle"]["dct2"][-1, -1] > 1.1  # mass shedding: centre faster than c
    assert max(result["placement"].values()) < 1e-12
