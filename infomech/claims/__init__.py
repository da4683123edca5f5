"""Claims layer: one module per chapter wires a claim's spec to measurements and a computed verdict.

Each chapter module (``infomech.claims.<chapter>``) exposes

- ``SPEC``: a :class:`~infomech.claims.base.ClaimSpec` (what is claimed and with which parameters),
- ``run(spec=SPEC) -> dict``: the measured quantities (plain floats and arrays),
- ``verdict(result) -> Verdict``: the verdict, computed by a stated rule.

The experiments themselves live in the concept modules (``diffusion``, ``speedlaw``, ``spectrum``,
...); a claim module only connects them. :mod:`infomech.claims.base` holds the shared vocabulary.
"""

from .base import APPROXIMATE, EXACT, FAILS, HOLDS, MIXED, WORDS, ClaimSpec, Verdict, grade

__all__ = ["APPROXIMATE", "EXACT", "FAILS", "HOLDS", "MIXED", "WORDS", "ClaimSpec", "Verdict", "grade"]
