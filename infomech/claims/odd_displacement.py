"""Claim of the odd-displacement chapter: odd components displace the centre of mass in a direction.

``run`` performs the chapter's measurements (:mod:`infomech.displacement`,
:mod:`infomech.propagation` do the work); ``checks`` states each sub-claim as a true/false test
with its tolerance (:data:`TOLS`), ``row_words`` grades every row of the chapter's verdict table, and
``verdict`` (id ``odd``) combines the checks with :func:`~infomech.claims.base.all_hold`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import displacement as D
from .. import kernels as K
from .. import patterns as P
from .. import speedlaw as S
from ..dct import named_basis
from ..propagation import propagate
from ..stats import slope
from .base import EXACT, FAILS, HOLDS, ClaimSpec, Verdict, all_hold, grade

SPEC = ClaimSpec(
    id="odd",
    chapter="odd-displacement",
    statement="The odd component of a kernel displaces the centre of mass in a direction.",
    params={
        "kernel_size": 3,
        "beta2": [0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 0.9, 1.0],
        "steps": 30,
        "size": 125,
        "patterns": {"single pixel": "delta", "disc r=19": ["disc", 19], "photograph": ["photo", 65]},
        "activation": "relu",
        "rescale": True,
        "steer_angles": 72,
        "steer_beta2": [1.0, 0.2],
        "steer_steps": 20,
        "steer_size": 101,
        "bipolar_beta2": "0:1:0.1",
        "bipolar_steps": 20,
        "bipolar_size": 101,
        "shed_steps": 20,
        "shed_radius": 19,
        "shed_activations": ["relu", "none", "abs"],
        "core_radius": 15,
        "moment_beta2": "0:1:0.05",
        "moment_steps": 10,
        "moment_size": 101,
        "moment_activations": ["relu", "abs"],
        "laplacian_steps": 40,
        "laplacian_size": 101,
        "laplacian_disc_radius": 12,
        "laplacian_activations": ["relu", "none", "abs"],
    },
)

#: Tolerances of the sub-claims (each justified where it is used).
TOLS = {
    "exact": 1e-9,            # float64 round-off over <= 100 steps is ~1e-13; 1e-9 leaves headroom
    "direction_deg": 5.0,     # 'the direction follows theta' if within 5 degrees (half a 10-degree sector)
    "bipolar_ratio": 0.05,    # 'no drift' if the net drift is below 5 % of the per-step motion
    "speed_spread": 0.2,      # 'speed is a function of beta^2' if runs with equal beta^2 agree within 0.2 c
}

RULE = ("holds if every stated check passes (odd kernels move towards their odd direction; direction "
        f"within {TOLS['direction_deg']:g} deg; bipolar drift below {TOLS['bipolar_ratio']:g} of the "
        f"per-step motion; no transport without activation; equal beta^2 gives speeds within "
        f"{TOLS['speed_spread']:g} c), fails if none does, mixed otherwise")


def patterns(spec: ClaimSpec = SPEC) -> dict[str, np.ndarray]:
    """The three input patterns (all ``size x size``, the photograph zero-padded)."""
    p = spec.params
    n = p["size"]
    photo = p["patterns"]["photograph"][1]
    return {"single pixel": P.delta(n), "disc r=19": P.disc(n, p["patterns"]["disc r=19"][1]),
            "photograph": np.pad(P.natural_image(photo), (n - photo) // 2)}


def run(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """Every measurement of the odd-displacement chapter."""
    p = spec.params
    res: dict[str, Any] = {}
    grads = np.stack([named_basis("nabla_x", 3), named_basis("nabla_y", 3), K.steered_gradient(np.pi / 4)])
    res["grads"] = grads
    res["one_step"] = propagate(P.delta(11), grads, 1).displacement()[1]
    # the centre moves: three patterns
    b2 = np.array(p["beta2"], float)
    kern = K.dct_beta(b2, 3)
    T = p["steps"]
    drift = S.exact_drift(kern)
    pats = {}
    for name, x in patterns(spec).items():
        tr = propagate(x, kern, T, rescale=p["rescale"], frames=(0, 10, T))
        v = tr.displacement()[-1] / T
        pats[name] = {"v": v, "disp_x": tr.displacement()[:, :, 0],
                      "law_err": float(np.nanmax(np.abs(v - drift))),
                      "frames": {t: tr.frames[t] for t in (0, 10, T)}}
    res["patterns"] = pats
    res["drift"] = drift
    res["limit"] = S.nonneg_limit("dct", 3)
    vx = np.stack([s["v"][:, 0] for s in pats.values()])
    res["n_positive"] = int((vx[:, b2 > 0] > 0).sum())
    res["n_odd_runs"] = int(vx[:, b2 > 0].size)
    res["rest_max"] = float(np.abs(vx[:, b2 == 0]).max())
    # steering
    theta = np.linspace(0, 2 * np.pi, p["steer_angles"], endpoint=False)
    steer = {}
    for sb in p["steer_beta2"]:
        k = K.dct_beta(sb, theta=theta)
        tr = propagate(P.delta(p["steer_size"]), k, p["steer_steps"], rescale=True)
        d = tr.displacement()[-1]
        err = D.direction_error(d, theta)
        steer[sb] = {"err": err, "speed": np.linalg.norm(d, axis=-1) / p["steer_steps"],
                     "nonneg": bool(S.nonnegative(k).all()),
                     "worst": D.folded_worst_angle(np.degrees(theta), err)}
    res["theta"] = theta
    res["steer"] = steer
    # bipolar
    bb = S.beta2_grid(p["bipolar_beta2"])
    kb = K.dct_beta(bb, 3)
    res["bipolar_beta2"] = bb
    res["bipolar_nonneg"] = S.nonnegative(kb)
    bip = {}
    size = p["bipolar_size"]
    for name, x in (("single pixel", P.delta(size)), ("disc r=19", P.disc(size, 19))):
        tr = propagate(x, K.bipolar(kb), p["bipolar_steps"], rescale=True)
        bip[name] = {"osc": D.oscillation(tr.centre), "disp_x": tr.displacement()[:, :, 0]}
    res["bipolar"] = bip
    # a pure odd kernel on a disc
    disc = P.disc(101, p["shed_radius"])
    TS = p["shed_steps"]
    shed = {}
    for act in p["shed_activations"]:
        tr = propagate(disc, K.dct_beta(1.0, 3), TS, activation=act, frames=range(TS + 1))
        fr = np.stack([tr.frames[s][0] for s in range(TS + 1)])
        front, rear = D.front_position(fr, 0.0), -D.front_position(fr, np.pi)
        steps = np.arange(1, TS + 1)
        shed[act] = {"core0": float(D.radial_fraction(fr[0], p["core_radius"])),
                     "core1": float(D.radial_fraction(fr[1], p["core_radius"])),
                     "front": float(slope(steps, front[1:])), "rear": float(slope(steps, rear[1:])),
                     "centre": float(tr.centre[-1, 0, 0]), "frames": fr[[0, 1, 5, TS]]}
    res["shed"] = shed
    # point-odd kernels without a first moment
    mb = S.beta2_grid(p["moment_beta2"])
    res["moment"] = {act: D.predictor_study(mb, steps=p["moment_steps"], size=p["moment_size"],
                                            activation=act) for act in p["moment_activations"]}
    res["moment_scores"] = {act: D.predictor_scores(st) for act, st in res["moment"].items()}
    res["moment_nonneg"] = {name: S.nonnegative(D.odd_mix(mb, w, 3)) for name, w in D.ODD_FAMILIES.items()}
    # the authors' Laplacian with ReLU
    lap = {}
    for pname, x0 in (("single pixel", P.delta(p["laplacian_size"])),
                      ("disc", P.disc(p["laplacian_size"], p["laplacian_disc_radius"], 1.0))):
        for act in p["laplacian_activations"]:
            lap[(pname, act)] = D.laplacian_run(x0, p["laplacian_steps"], act)
    res["laplacian"] = lap
    t = np.arange(p["laplacian_steps"] + 1)
    res["laplacian_rw_err"] = float(np.abs(lap[("single pixel", "relu")]["sigma2"][:, 0] - t / 2).max())
    res["laplacian_centre_max"] = float(max(np.nanmax(np.abs(r["centre"][1:])) for r in lap.values()))
    return res


def checks(result: dict[str, Any]) -> dict[str, bool]:
    """The sub-claims as tests, each with its tolerance from :data:`TOLS`."""
    pure = result["steer"][1.0]
    osc = result["bipolar"]
    return {
        "odd kernels with a gradient move the centre towards +x":
            result["n_positive"] == result["n_odd_runs"],
        "the direction follows theta": float(np.abs(pure["err"]).max()) <= TOLS["direction_deg"],
        "bipolar runs do not drift": max(float(o["osc"]["ratio"].max()) for o in osc.values())
        <= TOLS["bipolar_ratio"],
        "no transport without activation": abs(result["shed"]["none"]["centre"]) <= TOLS["exact"],
        "speed is a function of beta^2":
            result["moment_scores"]["relu"]["spread_beta"] <= TOLS["speed_spread"],
    }


def row_words(result: dict[str, Any]) -> dict[str, str]:
    """The word of each row of the chapter's verdict table (computed, never typed)."""
    c = checks(result)
    steer = result["steer"]
    osc = result["bipolar"]
    nn = result["bipolar_nonneg"]
    sc = result["moment_scores"]["relu"]
    shed = result["shed"]
    w = {
        "moves": HOLDS if c["odd kernels with a gradient move the centre towards +x"] else FAILS,
        "law-drift": EXACT if all(s["law_err"] <= TOLS["exact"] for s in result["patterns"].values())
        else FAILS,
        "steer-nonneg": grade(float(np.abs(steer[0.2]["err"]).max()), exact_tol=TOLS["exact"],
                              approx_tol=TOLS["direction_deg"]),
        "steer-relu": grade(float(np.abs(steer[1.0]["err"]).max()), exact_tol=TOLS["exact"],
                            approx_tol=TOLS["direction_deg"]),
        "shed": HOLDS if shed["relu"]["core1"] < 1e-3 and abs(shed["relu"]["front"] - 1) < 1e-9 else FAILS,
        "no-act": HOLDS if c["no transport without activation"] else FAILS,
        "abs": HOLDS if abs(shed["abs"]["centre"]) <= TOLS["exact"] else FAILS,
        "speed-le-c": HOLDS if result["patterns"]["disc r=19"]["v"][:, 0].max() <= 1 + 1e-3 else FAILS,
        "beta2-alone": HOLDS if c["speed is a function of beta^2"] else FAILS,
        "gamma-better": HOLDS if sc["rms_gamma"] < sc["rms_beta"] else FAILS,
        "laplacian-centre": EXACT if result["laplacian_centre_max"] <= TOLS["exact"] else FAILS,
        "laplacian-rw": EXACT if result["laplacian_rw_err"] <= TOLS["exact"] else FAILS,
    }
    for name, o in osc.items():
        slug = name.split()[0]
        w[f"bipolar-{slug}-nonneg"] = grade(float(o["osc"]["net"][nn].max()), exact_tol=TOLS["exact"],
                                            approx_tol=TOLS["bipolar_ratio"])
        w[f"bipolar-{slug}"] = grade(float(o["osc"]["ratio"].max()), exact_tol=TOLS["exact"],
                                     approx_tol=TOLS["bipolar_ratio"])
    return w


def verdict(result: dict[str, Any]) -> Verdict:
    """:func:`~infomech.claims.base.all_hold` over :func:`checks`; decisive: the speed spread at
    equal beta^2."""
    c = checks(result)
    word = all_hold(c)
    failed = [k for k, ok in c.items() if not ok]
    held = [k for k, ok in c.items() if ok]
    sc = result["moment_scores"]["relu"]
    b21 = result["moment"]["relu"]["B(2,1)"]["speed"]
    detail = (f"{len(held)} of {len(c)} checks pass ({'; '.join(held)}); not: "
              f"{'; '.join(failed) or 'none'}. Point-odd kernels without a first moment (DCT B(2,1), "
              f"B(1,2)) move at most {b21.max():.3f} px/step, so at equal beta^2 speeds differ by up to "
              f"{sc['spread_beta']:.2f} c; "
              f"the first-moment share gamma^2 predicts v/c = gamma with RMS error {sc['rms_gamma']:.3f} "
              f"against {sc['rms_beta']:.3f} for v/c = beta")
    return Verdict(SPEC.id, word, "largest spread of v/c among 3x3 kernels with the same beta^2 "
                   "(single pixel, ReLU, 10 steps)", round(float(sc["spread_beta"]), 2), RULE, detail)
