"""Checks of the theory chapter: sign convention, the two splits, the energy identity, DCT parity
and the exact drift/diffusion law of non-negative kernels.

The chapter has no verdict in the introduction's table, but each of its statements is checked here
by a stated rule: :func:`checks` returns one verdict per statement, :func:`verdict` the verdict on
the exact law (id ``theory-law``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dct, patterns
from .. import kernels as K
from ..decomposition import beta2, beta2_null_law, energies, even_odd
from ..numbers import fmt_bound
from ..propagation import propagate
from ..transport import law_error
from .base import ClaimSpec, Verdict, all_hold, grade, grade_rule

SPEC = ClaimSpec(
    id="theory-law",
    chapter="theory",
    statement="Without negative weights, a kernel drifts content by its normalised first moment and "
              "diffuses it by its second cumulant, exactly.",
    params={
        "law_sizes": [3, 5],
        "law_kernels": 200,
        "law_seed": 0,
        "law_steps": 12,
        "law_patterns": {"disc": [121, 12], "photo": [48, 30]},
        "law_activations": ["none", "relu"],
        "signed_beta2": [0.6, 0.9],
        "random_count": 400,
        "random_seed": 1,
        "parity_sizes": [2, 3, 4, 5, 6, 7],
        "parity_count": 500,
        "exact_tol": 1e-9,        # float64 round-off over 12 steps (observed ~1e-13)
        "approx_tol": 0.01,       # px: below a hundredth of a pixel the law is still useful
    },
)

#: The example kernels of the splits figure and table.
def examples() -> dict[str, np.ndarray]:
    """The six example kernels of the chapter (point vs square split)."""
    return {
        "DCT-beta 0.5": K.dct_beta(0.5),
        "translation-beta 0.5": K.translation_beta(0.5),
        "saddle (1,1)": dct.basis(1, 1, 3),
        "(0,2)-(2,0)": (dct.basis(0, 2, 3) - dct.basis(2, 0, 3)) / np.sqrt(2),
        "(0,2)": dct.basis(0, 2, 3),
        "random": K.random_kernels(1, 3, seed=0)[0],
    }


def dct_parity_split(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Even and odd parts of kernels ``(..., n, n)`` from their DCT coefficients:
    the inverse DCT of the coefficients with :math:`(-1)^{u+v} = 1` and of those with
    :math:`(-1)^{u+v} = -1`."""
    n = k.shape[-1]
    t = dct.dct2(k)
    return dct.idct2(t * (dct.parity(n) == 1)), dct.idct2(t * (dct.parity(n) == -1))


def run(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """Every measurement of the theory chapter (a few seconds of CPU)."""
    p = spec.params
    shift = propagate(patterns.delta(9), K.shift_kernel(3), 1, activation="none", frames=[0, 1])
    ex = examples()
    ks = np.stack(list(ex.values()))
    rand = K.random_kernels(p["random_count"], 3, seed=p["random_seed"])
    tot, even_e, odd_e = energies(rand, "point")
    parity_err = 0.0
    for n in p["parity_sizes"]:
        k = K.random_kernels(p["parity_count"], n, seed=n)
        pe, po = dct_parity_split(k)
        ke, ko = even_odd(k)
        parity_err = max(parity_err, float(np.abs(pe - ke).max()), float(np.abs(po - ko).max()))
    rng = np.random.default_rng(p["law_seed"])
    pos = {n: rng.random((p["law_kernels"], n, n)) ** 3 for n in p["law_sizes"]}
    pats = p["law_patterns"]
    inputs = {"disc": patterns.disc(*pats["disc"]),
              "photo": np.pad(patterns.natural_image(pats["photo"][0]), pats["photo"][1])}
    worst_c = worst_s = 0.0
    runs = {}
    for pname, x in inputs.items():
        for n, kp in pos.items():
            for act in p["law_activations"]:
                tr = propagate(x, kp, p["law_steps"], activation=act, rescale=True)
                ce, se = law_error(tr, kp)
                worst_c, worst_s = max(worst_c, float(ce.max())), max(worst_s, float(se.max()))
                runs[(pname, n, act)] = tr
    signed = K.dct_beta(np.asarray(p["signed_beta2"]))
    tr_signed = propagate(inputs["disc"], signed, p["law_steps"], activation="relu", rescale=True)
    tr_lin = propagate(inputs["disc"], signed, p["law_steps"], activation="none", weights="signed")
    nulls = {kind: beta2_null_law(3, kind) for kind in ("point", "square")}
    return {
        "shift": shift, "shift_dx": float(shift.centre[1, 0, 0]),
        "examples": ex, "beta2_point": np.asarray(beta2(ks, "point")),
        "beta2_square": np.asarray(beta2(ks, "square")),
        "random": rand, "energy_identity_err": float(np.abs(tot - even_e - odd_e).max() / tot.max()),
        "random_b2": {kind: float(np.mean(beta2(rand, kind))) for kind in ("point", "square")},
        "null_b2": {kind: a / (a + b) for kind, (a, b) in nulls.items()},
        "parity_err": parity_err,
        "law_kernels": pos, "law_inputs": inputs, "law_runs": runs,
        "law_n_runs": int(sum(tr.mass.shape[1] for tr in runs.values())),
        "law_centre_err": worst_c, "law_cov_err": worst_s,
        "signed": signed, "signed_run": tr_signed,
        "signed_relu_err": np.asarray(law_error(tr_signed, signed)[0]),
        "signed_linear_err": float(law_error(tr_lin, signed)[0].max()),
    }


def checks(result: dict[str, Any], spec: ClaimSpec = SPEC) -> dict[str, Verdict]:
    """One verdict per statement of the chapter, each by its stated rule."""
    p = spec.params
    tol, app = p["exact_tol"], p["approx_tol"]
    agree = {name: bool(abs(bp - bs) <= tol) for name, bp, bs in
             zip(result["examples"], result["beta2_point"], result["beta2_square"], strict=True)}
    out = {}

    def graded(key: str, value: float, what: str, decisive: str, detail: str) -> None:
        out[key] = Verdict(key, grade(value, exact_tol=tol, approx_tol=app), decisive,
                           fmt_bound(value, tol), grade_rule(tol, app, what), detail)

    graded("theory-convention", abs(result["shift_dx"] - 1.0), "abs(dx - 1) px",
           "centre after one step of the left-weight shift kernel, minus 1 px",
           "a single weight at d = (-1, 0) moves a delta by one pixel to +x")
    graded("theory-energy", result["energy_identity_err"], "relative violation",
           "largest relative violation of the energy identity", "both splits are orthogonal")
    out["theory-splits"] = Verdict("theory-splits", all_hold(agree),
                                   "kernels whose point and square beta^2 agree (of 6)",
                                   float(sum(agree.values())),
                                   "holds if the two splits give the same beta^2 (within 1e-9) for every "
                                   "example kernel, fails if for none, mixed otherwise",
                                   "they agree only where the even part is square-symmetric")
    graded("theory-parity", result["parity_err"], "largest difference",
           "largest difference between the DCT parity split and point reflection",
           "point split only")
    graded("theory-law", max(result["law_centre_err"], result["law_cov_err"]), "law error (px, px^2)",
           "largest deviation from the exact law (centre px, covariance px^2)",
           f"{result['law_n_runs']} runs of non-negative kernels")
    graded("theory-law-signed", float(result["signed_relu_err"].max()), "law error (px)",
           "largest centre deviation of signed DCT-beta kernels under ReLU from the law (px)",
           "the law needs non-negative weights")
    return out


def verdict(result: dict[str, Any], spec: ClaimSpec = SPEC) -> Verdict:
    """The verdict on the exact law for non-negative kernels (id ``theory-law``)."""
    return checks(result, spec)["theory-law"]
