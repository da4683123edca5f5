"""Claim specifications and verdicts computed from measurements by stated rules.

A verdict word is never typed by a chapter: it is returned by a rule function such as
:func:`grade`, which compares a *decisive number* (the measurement that settles the claim) with
stated tolerances. The :class:`Verdict` keeps the number, the rule and a one-sentence summary, so a
reader (and the intro's table) sees what was measured and why it earned its word.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The measured quantity equals the claimed one to within the stated round-off tolerance.
EXACT = "exact"
#: The claim describes the measurement only to within a stated, larger tolerance.
APPROXIMATE = "approximate"
#: The measurement contradicts the claim beyond the stated tolerance (with a counter-example).
FAILS = "fails"
#: A qualitative claim (a sign, a direction, an ordering) that every stated test confirmed.
HOLDS = "holds"
#: Some stated sub-claims hold and others fail; the detail says which.
MIXED = "mixed"

WORDS = (EXACT, APPROXIMATE, FAILS, HOLDS, MIXED)


@dataclass(frozen=True)
class ClaimSpec:
    """What a chapter claims and the parameters of the experiment that tests it.

    Parameters
    ----------
    id : str
        Short identifier (``"speed"``, ``"even"``, ...); glue keys are ``verdict-<id>...``.
    chapter : str
        Chapter slug (``book/<chapter>.ipynb``).
    statement : str
        The claim as the paper states it (one sentence).
    params : mapping
        The experiment's parameters; figure provenance and ledger entries take them from here.
    """

    id: str
    chapter: str
    statement: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id or not all(ch.isalnum() or ch in "-_" for ch in self.id):
            raise ValueError(f"ClaimSpec.id must be letters, digits, '-' or '_': {self.id!r}")
        if not self.chapter:
            raise ValueError("ClaimSpec.chapter must not be empty")


@dataclass(frozen=True)
class Verdict:
    """A computed verdict on one claim.

    Parameters
    ----------
    claim : str
        The claim's id (``ClaimSpec.id``).
    word : str
        One of :data:`WORDS`, produced by a rule function.
    decisive : str
        What the decisive number measures (in words, with its unit).
    value : float or str
        The decisive number (a float, or a human bound such as ``"< 1e-12"``).
    rule : str
        The stated rule that maps the decisive number to the word.
    detail : str
        One sentence with the measurements behind the verdict (may contain MyST maths).
    """

    claim: str
    word: str
    decisive: str
    value: float | str
    rule: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.word not in WORDS:
            raise ValueError(f"Verdict.word must be one of {WORDS}, got {self.word!r}")
        if isinstance(self.value, float) and not math.isfinite(self.value):
            raise ValueError(f"Verdict.value must be finite, got {self.value!r}")

    def sentence(self) -> str:
        """``"<Word>: <detail>"``, the readable one-line verdict."""
        head = self.word.capitalize()
        return f"{head}: {self.detail}" if self.detail else head


def grade(value: float, *, exact_tol: float, approx_tol: float) -> str:
    """Verdict word for an error ``value`` (>= 0) against two tolerances.

    Returns :data:`EXACT` when ``value <= exact_tol``, :data:`APPROXIMATE` when
    ``value <= approx_tol``, :data:`FAILS` otherwise. Requires ``0 <= exact_tol <= approx_tol``.
    A NaN error is refused (it would silently read as "fails").
    """
    value = float(value)
    if math.isnan(value):
        raise ValueError("grade: the error is NaN; measure it before grading")
    if value < 0:
        raise ValueError(f"grade: the error must be >= 0, got {value}")
    if not 0 <= exact_tol <= approx_tol:
        raise ValueError(f"grade: need 0 <= exact_tol <= approx_tol, got {exact_tol}, {approx_tol}")
    if value <= exact_tol:
        return EXACT
    if value <= approx_tol:
        return APPROXIMATE
    return FAILS


def grade_rule(exact_tol: float, approx_tol: float, what: str = "error") -> str:
    """The text of :func:`grade`'s rule for these tolerances."""
    return (f"exact if {what} <= {exact_tol:g}; approximate if <= {approx_tol:g}; fails otherwise")


def all_hold(checks: Mapping[str, bool]) -> str:
    """:data:`HOLDS` when every named check is true, :data:`FAILS` when none is, else :data:`MIXED`."""
    if not checks:
        raise ValueError("all_hold: no checks given")
    n = sum(bool(v) for v in checks.values())
    if n == len(checks):
        return HOLDS
    return FAILS if n == 0 else MIXED
