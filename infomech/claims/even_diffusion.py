"""Claim of the even-diffusion chapter: even kernels diffuse isotropically and keep the centre of mass.

``run`` performs every measurement of the chapter (:mod:`infomech.diffusion` does the work);
``verdict`` maps them to words by the rules stated in :data:`RULES`. Sub-claims have their own
verdicts (``shape_verdict``, ``cause_verdict``, ``rest_verdict``); the chapter verdict
(``verdict``, id ``even``) combines the four statements of the paper's claim.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import diffusion, patterns
from ..numbers import fmt_bound
from ..propagation import propagate
from ..stats import loglog_slope
from .base import ClaimSpec, Verdict, all_hold, grade, grade_rule

SPEC = ClaimSpec(
    id="even",
    chapter="even-diffusion",
    statement="The even part of a kernel makes image content diffuse isotropically while keeping its "
              "centre of mass in place.",
    params={
        "kernel_size": 3,
        "steps": 20,
        "patterns": {"delta": 61, "disc": [81, 10], "photo": [64, 112]},
        "activations": ["relu", "none", "abs"],
        "rescale": True,
        "split": "point",
        "observable_weights": "abs",
        # tolerances of the verdicts
        "exact_tol": 1e-9,                # round-off of float64 runs of 20-100 steps
        "drift_tol_frac": 0.01,           # 'centre kept' if drift < 1 % of c T
        "isotropy_tol": 0.9,              # 'isotropic' if rho > 0.9
        # isotropy beyond the covariance (issue 15 item 5)
        "shape_kernels": ["DC", "binomial", "plus"],
        "shape_steps": 40,
        "shape_size": 101,
        "shape_level": 0.5,
        "shape_fit_from": 10,
        "shape_tol": 0.01,                # contour radii along axis and diagonal within 1 % at t = T
        # rest energy and diffusion rate (issue 15 item 12)
        "rate_cases": [["dct", 2], ["dct", 3], ["dct", 5], ["translation", 3]],
        "rate_beta2": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        "rate_tol": 0.05,                 # 'rest energy sets the rate' if families agree within 0.05 c^2
        # the saddle sweep
        "sweep_points": 21,
    },
)


def inputs(spec: ClaimSpec = SPEC) -> dict[str, np.ndarray]:
    """The three input patterns of the study (delta, disc, photograph in a zero canvas)."""
    p = spec.params["patterns"]
    photo, canvas = p["photo"]
    return {"delta": patterns.delta(p["delta"]), "disc": patterns.disc(p["disc"][0], p["disc"][1]),
            "photo": np.pad(patterns.natural_image(photo), (canvas - photo) // 2)}


def run(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """Every measurement of the chapter (about 10 s of CPU on one thread)."""
    p = spec.params
    zoo = diffusion.even_kernels(p["kernel_size"])
    x = inputs(spec)
    study = diffusion.study(zoo, x, tuple(p["activations"]), steps=p["steps"], rescale=p["rescale"])
    signed = np.stack([k.kernel for k in zoo if not k.nonnegative])
    shape_k = np.stack([diffusion.by_name(zoo, n).kernel for n in p["shape_kernels"]])
    shape = diffusion.shape_study(shape_k, p["shape_steps"], p["shape_size"], p["shape_level"])
    f0 = p["shape_fit_from"] - 1
    fade_gap = [loglog_slope(shape["t"][f0:], np.abs(shape["kurtosis_gap"][f0:, j]))[0]
                for j in range(shape_k.shape[0])]
    fade_contour = [loglog_slope(shape["t"][f0:], np.abs(shape["contour_anisotropy"][f0:, j]))[0]
                    for j in range(shape_k.shape[0])]
    cause = diffusion.drift_cause(x["photo"], signed, p["steps"])
    rates = diffusion.diffusion_rates([tuple(c) for c in p["rate_cases"]], np.asarray(p["rate_beta2"]))
    # the saddle sweep: DC + a * saddle, a in [0, 2/3] (non-negative), law rho = (1-a)/(1+a)
    a = np.linspace(0, 2 / 3, p["sweep_points"])
    mix = diffusion.by_name(zoo, "DC").kernel[None] + a[:, None, None] * \
        diffusion.by_name(zoo, "saddle (1,1)").kernel[None]
    mix /= np.linalg.norm(mix, axis=(1, 2), keepdims=True)
    rho = diffusion.measure(propagate(x["photo"], mix, p["steps"], activation="relu",
                                      rescale=p["rescale"]))["isotropy"]
    nonneg = study.select(nonnegative=True)
    signed_photo_relu = [r["drift_max"] for r in study.select(nonnegative=False, pattern="photo",
                                                              activation="relu")]
    return {
        "zoo": zoo, "study": study, "inputs": x, "shape": shape, "shape_kernels": list(p["shape_kernels"]),
        "fade_gap": np.asarray(fade_gap), "fade_contour": np.asarray(fade_contour),
        "cause": cause, "signed_names": [k.name for k in zoo if not k.nonnegative],
        "rates": rates, "rate_spread": diffusion.rate_spread(rates),
        "sweep_a": a, "sweep_rho": np.asarray(rho),
        "nonneg_drift_max": max(r["drift_max"] for r in nonneg),
        "square_iso_err": max(abs(1 - r["isotropy"]) for r in study.select(nonnegative=True,
                                                                           symmetry="square-symmetric")),
        "point_iso_min": min(r["isotropy"] for r in study.select(nonnegative=True, symmetry="point-even")),
        "signed_photo_relu_drift_max": max(signed_photo_relu),
        "shape_anisotropy_final": float(np.abs(shape["contour_anisotropy"][-1]).max()),
        "kurtosis_law_err": float(np.abs(shape["kurtosis"] - shape["kurtosis_law"]).max()),
    }


def checks(result: dict[str, Any], spec: ClaimSpec = SPEC) -> dict[str, bool]:
    """The four statements of the claim, each true or false by its stated rule."""
    p = spec.params
    return {
        "non-negative even kernels keep the centre": result["nonneg_drift_max"] <= p["exact_tol"],
        "square-symmetric non-negative kernels diffuse isotropically":
            result["square_iso_err"] <= p["exact_tol"],
        "point-even non-negative kernels diffuse isotropically":
            result["point_iso_min"] > p["isotropy_tol"],
        "signed even kernels keep an asymmetric input's centre":
            result["signed_photo_relu_drift_max"] < p["drift_tol_frac"] * p["steps"],
    }


RULE = ("holds if all four statements hold (centre kept: drift <= 1e-9 px; isotropic: rho > 0.9; "
        "signed kernels: drift < 1 % of cT), fails if none does, mixed otherwise")


def verdict(result: dict[str, Any], spec: ClaimSpec = SPEC) -> Verdict:
    """The chapter's verdict: :func:`~infomech.claims.base.all_hold` over :func:`checks`."""
    c = checks(result, spec)
    word = all_hold(c)
    drift = fmt_bound(result["nonneg_drift_max"], 1e-9)
    iso = "and" if c["square-symmetric non-negative kernels diffuse isotropically"] else "but do not"
    detail = (f"non-negative even kernels keep the centre (drift {drift} px) {iso} diffuse "
              "isotropically when square-symmetric; point-even kernels that are not square-symmetric "
              f"diffuse anisotropically (isotropy down to {abs(result['point_iso_min']):.2f}); signed "
              "even kernels under ReLU move an asymmetric input's centre (up to "
              f"{result['signed_photo_relu_drift_max']:.1f} px in {spec.params['steps']} steps)")
    return Verdict(spec.id, word, "largest centre drift of a signed even kernel on the photograph, "
                   f"ReLU, {spec.params['steps']} steps (px)",
                   round(float(result["signed_photo_relu_drift_max"]), 2), RULE, detail)


def shape_verdict(result: dict[str, Any], spec: ClaimSpec = SPEC) -> Verdict:
    """Isotropy beyond the covariance (square-symmetric non-negative kernels): graded on the largest
    relative difference of the half-maximum contour radii along axis and diagonal at t = T."""
    p = spec.params
    value = result["shape_anisotropy_final"]
    word = grade(value, exact_tol=p["exact_tol"], approx_tol=p["shape_tol"])
    rule = grade_rule(p["exact_tol"], p["shape_tol"], "abs(r_axis/r_diag - 1) at t = T")
    detail = (f"the covariance is isotropic, the shape is not: the excess kurtosis differs between "
              f"axis and diagonal and the gap fades as t^{np.mean(result['fade_gap']):.2f} (the exact "
              "law: 1/t); the half-maximum contour's axis and diagonal radii differ by at most "
              f"{value:.2%} at t = {p['shape_steps']}")
    return Verdict("even-shape", word, f"largest abs(r_axis/r_diag - 1) at t = {p['shape_steps']}",
                   round(float(value), 4), rule, detail)


def cause_verdict(result: dict[str, Any], spec: ClaimSpec = SPEC) -> Verdict:
    """Is the |x| weighting the cause of the drift of signed even kernels? Holds if (1) without
    activation the signed centre stays put while the |x|-weighted one moves, and (2) along the ReLU
    run the signed centre of every linear response stays put (so all ReLU motion is the |y|-weighted
    centre's)."""
    p = spec.params
    c = result["cause"]
    ok = np.isfinite(c["none_signed"])
    tests = {
        "signed centre kept without activation": float(np.nanmax(c["none_signed"])) <= p["exact_tol"],
        "absolute-value-weighted centre moves without activation":
            float(c["none_abs"].max()) >= p["drift_tol_frac"] * p["steps"],
        "signed centre of each linear response kept under ReLU":
            float(np.nanmax(c["relu_signed_step"])) <= p["exact_tol"],
    }
    word = all_hold(tests)
    rule = ("holds if the signed centre moves <= 1e-9 px (no activation, and per step of the ReLU run) "
            "while the absolute-value-weighted centre moves >= 1 % of cT; fails if none of these, "
            "mixed otherwise")
    detail = (f"without activation the signed centre moves {fmt_bound(np.nanmax(c['none_signed']), 1e-9)} px "
              f"({int(ok.sum())} kernels with a non-zero sum) while the centre weighted by the absolute "
              f"value moves up to {c['none_abs'].max():.2f} px; under ReLU each step's linear response "
              f"keeps its signed centre ({fmt_bound(np.nanmax(c['relu_signed_step']), 1e-9)} px), so the "
              "drift is the motion of the absolute-value-weighted centre, which rectification passes on")
    return Verdict("even-cause", word, "largest signed-centre motion (px)",
                   fmt_bound(max(np.nanmax(c["none_signed"]), np.nanmax(c["relu_signed_step"])), 1e-9),
                   rule, detail)


def rest_verdict(result: dict[str, Any], spec: ClaimSpec = SPEC) -> Verdict:
    """Does the rest-energy share 1 - beta^2 set the diffusion rate per step (in c^2) across families?
    Graded on the largest spread of the measured rates across families at equal beta^2."""
    p = spec.params
    spread = float(result["rate_spread"].max())
    word = grade(spread, exact_tol=p["exact_tol"], approx_tol=p["rate_tol"])
    rule = grade_rule(p["exact_tol"], p["rate_tol"], "the largest spread of the rate (c^2 per step) "
                      "across families at equal rest energy")
    detail = (f"at equal rest energy the families' diffusion rates differ by up to {spread:.2f} c^2 per "
              "step; where the kernels are non-negative the rate is the exact law tr C/2, half the "
              "variance of one step (its second moment minus the squared drift), not the even part's "
              "energy")
    return Verdict("even-rest", word, "largest spread of the diffusion rate across families (c^2 per step)",
                   round(spread, 3), rule, detail)


def rate_law_error(result: dict[str, Any]) -> float:
    """Largest |measured - exact| diffusion rate where the law applies (non-negative kernels)."""
    errs = [np.nanmax(np.abs(v["rate"] - v["law"])) for v in result["rates"].values()]
    return float(max(errs))
