"""infomech.claims.base: verdict words come from rules, never from typing."""

import pytest

from infomech.claims.base import (
    APPROXIMATE,
    EXACT,
    FAILS,
    HOLDS,
    MIXED,
    ClaimSpec,
    Verdict,
    all_hold,
    grade,
    grade_rule,
)


@pytest.mark.parametrize(("err", "word"), [(0.0, EXACT), (1e-10, EXACT), (0.05, APPROXIMATE),
                                           (0.2, APPROXIMATE),
                                           (0.21, FAILS)])
def test_grade(err, word):
    assert grade(err, exact_tol=1e-9, approx_tol=0.2) == word


@pytest.mark.parametrize("bad", [float("nan"), -1.0])
def test_grade_refuses_nan_and_negative(bad):
    with pytest.raises(ValueError):
        grade(bad, exact_tol=1e-9, approx_tol=0.2)


def test_grade_refuses_inverted_tolerances():
    with pytest.raises(ValueError, match="exact_tol"):
        grade(0.1, exact_tol=0.3, approx_tol=0.2)


def test_rule_text_names_the_tolerances():
    assert grade_rule(1e-9, 0.2, "max |err|") == ("exact if max |err| <= 1e-09; approximate if <= 0.2; "
                                                  "fails otherwise")


def test_all_hold():
    assert all_hold({"a": True, "b": True}) == HOLDS
    assert all_hold({"a": True, "b": False}) == MIXED
    assert all_hold({"a": False}) == FAILS
    with pytest.raises(ValueError):
        all_hold({})


def test_verdict_validates_word_and_value():
    with pytest.raises(ValueError, match="word"):
        Verdict("x", "holds-ish", "d", 1.0, "r")
    with pytest.raises(ValueError, match="finite"):
        Verdict("x", HOLDS, "d", float("nan"), "r")
    assert Verdict("x", FAILS, "d", 1.0, "r", "too far").sentence() == "Fails: too far"


def test_spec_ids_are_glue_safe():
    with pytest.raises(ValueError, match="id"):
        ClaimSpec("a b", "chapter", "statement")
    assert ClaimSpec("speed", "speed-law", "s", {"steps": 10}).params["steps"] == 10
