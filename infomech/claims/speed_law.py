"""Claim of the speed-law chapter: the displacement speed follows :math:`(v/c)^2 = \\beta^2`.

``run`` performs the chapter's measurements (the work is done by :mod:`infomech.speedlaw` and
:mod:`infomech.sweeps`); ``verdict`` grades them by the rule in :data:`RULE`. Each row of the
chapter's verdict table has its own word (:func:`row_words`), computed by the same rule or by
:func:`bounded_by_c`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels as _kernels
from .. import speedlaw as S
from ..decomposition import beta2 as odd_share
from ..numbers import fmt_bound
from ..stats import fit_line
from ..sweeps import family_run
from .base import EXACT, FAILS, HOLDS, MIXED, ClaimSpec, Verdict, grade, grade_rule

SPEC = ClaimSpec(
    id="speed",
    chapter="speed-law",
    statement="The speed of information displacement follows (v/c)^2 = beta^2, beta^2 the odd energy "
              "share and c the kernel radius.",
    params={
        "configs": [["dct", 2], ["dct", 3], ["dct", 5], ["translation", 3]],
        "beta2": "0:1:0.01",
        "steps": 10,
        "pattern": "delta",
        "size": 301,
        "activations": ["relu", "none", "abs"],
        "measure": "2d",
        "steady_steps": 50,
        # tolerances of the verdicts
        "exact_tol": 1e-6,    # largest |(v/c)^2 - beta^2| counted as exact: float64 round-off is 1e-13
        "approx_tol": 0.2,    # ... as approximate: a fifth of the range of (v/c)^2
        "c_tol": 1e-3,        # v/c above 1 + c_tol breaks the speed limit
        "band_frac": 0.5,     # steady-gap band: where the gap is at least half its maximum
        # convergence (issue 15 item 8)
        "conv_beta2": [0.9, 1.0],
        "conv_ends": [10, 20, 50, 100, 200],
        "limit_cases": [[5, 1.0], [5, 0.9], [3, 0.9]],
        "limit_ends": [500, 1000, 2000, 4000, 8000, 16000],
        # direction (issue 15 item 3)
        "angles_deg": [0, 15, 30, 45, 60, 75, 90],
        "direction_beta2": "0:1:0.05",
        "direction_steps": [10, 50],
        # circle
        "circle_configs": [["dct", 2], ["dct", 3], ["translation", 3]],
        "circle_beta2": "0:1:0.05",
        "circle_times": [1, 25, 100],
        "circle_size": 715,
    },
)

RULE = (grade_rule(SPEC.params["exact_tol"], SPEC.params["approx_tol"], "max |(v/c)^2 - beta^2|")
        + "; per setting; the claim's word is the settings' common word, or mixed")


def key(fam: str, n: int, act: str | None = None) -> str:
    """``"dct3"`` or ``"dct3-relu"``: the keys of :func:`run`'s result."""
    return f"{fam}{n}" + (f"-{act}" if act else "")


def bounded_by_c(v_over_c: np.ndarray, tol: float) -> str:
    """:data:`HOLDS` when every :math:`v/c \\le 1 + tol`, else :data:`FAILS`."""
    return HOLDS if float(np.nanmax(v_over_c)) <= 1 + tol else FAILS


def combine(words: list[str]) -> str:
    """The common word of several settings, or :data:`MIXED`."""
    return words[0] if len(set(words)) == 1 else MIXED


def run(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """Every measurement of the speed-law chapter (arrays keyed by :func:`key`)."""
    p = spec.params
    b2 = S.beta2_grid(p["beta2"])
    configs = [(f, int(n)) for f, n in p["configs"]]
    res: dict[str, Any] = {"beta2": b2, "vc": {}, "fit": {}, "law": {}, "steady": {}}
    runs = {}
    for fam, n in configs:
        for act in p["activations"]:
            tr, c, _ = family_run(fam, n, b2, steps=p["steps"], pattern=p["pattern"], size=p["size"],
                                    activation=act)
            runs[key(fam, n, act)] = tr
            res["vc"][key(fam, n, act)] = tr.speed(p["measure"]) / c
            res["fit"][key(fam, n, act)] = fit_line(b2, res["vc"][key(fam, n, act)] ** 2)
        ex = S.exact_speed(fam, b2, n)
        valid = ex["valid"]
        exact_vc = ex["speed"] / ex["c"]
        fine = np.linspace(0, S.nonneg_limit(fam, n), 401)
        form = S.exact_speed(fam, fine, n)["v_over_c_sq"] - fine
        vcs = [res["vc"][key(fam, n, a)] for a in p["activations"]]
        res["law"][key(fam, n)] = {
            "kappa": S.kappa(fam, n), "limit": S.nonneg_limit(fam, n),
            "err": max(float(np.nanmax(np.abs(v - exact_vc))) for v in vcs),
            "act_gap": max(float(np.abs(v - res["vc"][key(fam, n, "relu")])[valid].max()) for v in vcs),
            "form_dev": float(np.nanmax(np.abs(form))),
            "form_dev_at": float(fine[np.nanargmax(np.abs(form))]),
        }
        # steady state from a longer run (slope over its second half, once per schedule cycle)
        tr, c, _ = family_run(fam, n, b2, steps=p["steady_steps"], pattern=p["pattern"], size=p["size"],
                                activation="relu")
        v10 = res["vc"][key(fam, n, "relu")]
        vss = tr.steady_state_speed(p["measure"]) / c
        gap = vss - v10
        bd = S.band(b2, gap, p["band_frac"])
        res["steady"][key(fam, n)] = {
            "vss": vss, "gap": gap, "band": bd,
            "prefix_same": float(np.abs(tr.distance()[: p["steps"] + 1]
                                        - runs[key(fam, n, "relu")].distance()).max()),
            "onset": S.saturation_onset(b2, v10), "onset_ss": S.saturation_onset(b2, vss),
            "fit": fit_line(b2, vss ** 2),
            "nonneg_gap": float(np.abs(gap[valid]).max()),
        }
    res["law_worst"] = max(e["err"] for e in res["law"].values())
    res["row_gap"] = {key(f, n): float(np.nanmax(np.abs(runs[key(f, n, "relu")].speed("row")
                                                        - runs[key(f, n, "relu")].speed("2d")))
                                        / _kernels.kernel_radius(n)) for f, n in configs}
    # beta or beta^2 as predictor of v/c
    res["predictors"] = {key(f, n): S.predictor_comparison(b2, res["vc"][key(f, n, "relu")])
                         for f, n in configs}
    # translation family under both splits
    kt = _kernels.translation_beta(b2, 3)
    sq, pt = odd_share(kt, "square"), odd_share(kt, "point")
    vt = res["vc"][key("translation", 3, "relu")]
    res["translation_split"] = {"square": sq, "point": pt, "ratio": float(np.median(pt[1:] / sq[1:])),
                                "ratio_ptp": float(np.ptp(pt[1:] / sq[1:])),
                                "fit_square": fit_line(sq, vt ** 2), "fit_point": fit_line(pt, vt ** 2)}
    res["convergence"] = convergence(spec)
    res["limits"] = long_time(spec)
    res["placement"] = placement_check(spec)
    res["direction"] = direction(spec)
    res["circle"] = circle(spec)
    return res


def convergence(spec: ClaimSpec = SPEC) -> dict[int, np.ndarray]:
    """Steady v/c estimates of runs of ``conv_ends`` steps (one 2-D run per size), ``(ends, beta2)``."""
    p = spec.params
    out = {}
    for n in (3, 5):
        ends = list(p["conv_ends"])
        size = 2 * (n // 2) * ends[-1] + 3  # the light cone of the longest run fits
        tr, c, period = family_run("dct", n, np.array(p["conv_beta2"]), steps=ends[-1], pattern="delta",
                                     size=size, activation="relu")
        out[n] = S.steady_speeds_at(tr.distance(), ends, period) / c
    return out


def long_time(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """Long-time limits of DCT-beta runs from the exact 1-D reduction, and its check against 2-D."""
    p = spec.params
    out: dict[str, Any] = {}
    for n, b2 in p["limit_cases"]:
        _, b = S.row_factor(_kernels.dct_beta(float(b2), int(n)))
        out[f"dct{n}-b{round(100 * b2)}"] = S.long_time_limit(b[0], _kernels.kernel_radius(int(n)),
                                                              tuple(p["limit_ends"]))
    # the reduction reproduces the 2-D runs of the convergence study
    ends = p["conv_ends"]
    worst = 0.0
    for n in (3, 5):
        size = 2 * (n // 2) * ends[-1] + 3
        bs = np.array(p["conv_beta2"])
        tr, _, _ = family_run("dct", n, bs, steps=ends[-1], pattern="delta", size=size, activation="relu")
        _, b = S.row_factor(_kernels.dct_beta(bs, n))
        for j in range(bs.size):
            row = S.row_run(b[j], ends[-1])["centre"]
            worst = max(worst, float(np.abs(row - tr.displacement()[:, j, 0]).max()))
    out["reduction_err"] = worst
    return out


def placement_check(spec: ClaimSpec = SPEC) -> dict[str, float]:
    """Our 2x2 placement against the authors' (pixel and disc): largest differences of v/c."""
    from ..patterns import delta, disc
    from ..propagation import propagate

    p = spec.params
    b2 = S.beta2_grid(p["beta2"])
    k = _kernels.dct_beta(b2, 2)
    out = {}
    for name, x0, T in (("delta", delta(p["size"]), p["steps"]), ("disc", disc(201, 19), 20)):
        ours = propagate(x0, _kernels.alternating_2x2(k), T, rescale=True)
        theirs = propagate(x0, S.authors_2x2(k), T, rescale=True)
        d_o, d_t = ours.displacement()[-1], theirs.displacement()[-1]
        out[f"{name}-x"] = float(np.abs(d_o[:, 0] - d_t[:, 0]).max() / T / 0.5)
        out[f"{name}-speed"] = float(np.abs(ours.speed() - theirs.speed()).max() / 0.5)
        out[f"{name}-y-mirror"] = float(np.abs(ours.displacement()[:, :, 1]
                                               + theirs.displacement()[:, :, 1]).max())
    return out


def direction(spec: ClaimSpec = SPEC) -> dict[int, dict[str, np.ndarray]]:
    """Steered DCT-beta sweeps (:func:`infomech.speedlaw.direction_sweep`) for each run length."""
    p = spec.params
    b2 = S.beta2_grid(p["direction_beta2"])
    out = {}
    for T in p["direction_steps"]:
        d = S.direction_sweep(b2, np.array(p["angles_deg"], float), 3, steps=int(T),
                              size=2 * int(T) + 41)
        d["maxdev_axis"] = np.abs(d["v_over_c"] ** 2 - b2).max(-1)
        d["maxdev_cone"] = np.abs(d["v_over_c_theta"] ** 2 - b2).max(-1)
        d["angle_err"] = np.abs(d["angle"][:, 1:] - d["theta_deg"][:, None]).max(-1)
        out[int(T)] = d
    return out


def circle(spec: ClaimSpec = SPEC) -> dict[str, np.ndarray]:
    """The authors' circle experiment: v/c at each time, ``(times, beta2)`` per configuration."""
    p = spec.params
    b2 = S.beta2_grid(p["circle_beta2"])
    out = {}
    for fam, n in p["circle_configs"]:
        tr, c, _ = family_run(fam, int(n), b2, steps=max(p["circle_times"]), pattern="disc",
                                size=p["circle_size"], activation="relu")
        out[key(fam, int(n))] = S.speeds_at(tr.distance(), p["circle_times"]) / c
    return out


def _grade(x: float, spec: ClaimSpec) -> str:
    return grade(x, exact_tol=spec.params["exact_tol"], approx_tol=spec.params["approx_tol"])


def row_words(result: dict[str, Any], spec: ClaimSpec = SPEC) -> dict[str, str]:
    """The word of each row of the chapter's verdict table (computed, never typed)."""
    p = spec.params
    w: dict[str, str] = {}
    for k, f in result["fit"].items():
        w[f"fit-{k}"] = _grade(f.max_dev, spec)
    for k, e in result["law"].items():
        w[f"form-{k}"] = _grade(e["form_dev"], spec)
        w[f"law-{k}"] = EXACT if e["err"] <= p["exact_tol"] else FAILS
    for k, s in result["steady"].items():
        w[f"steady-{k}"] = _grade(s["fit"].max_dev, spec)
    for k, lim in result["limits"].items():
        if k == "reduction_err":
            continue
        b2 = int(k.split("-b")[1]) / 100
        w[f"limit-{k}"] = _grade(abs(lim.limit ** 2 - b2), spec)
    for k, v in result["circle"].items():
        w[f"circle-{k}"] = bounded_by_c(v, p["c_tol"])
    for k, g in result["row_gap"].items():
        w[f"row-{k}"] = EXACT if g <= p["exact_tol"] else _grade(g, spec)
    pl = result["placement"]
    w["placement"] = EXACT if max(pl.values()) <= p["exact_tol"] else FAILS
    d = result["direction"][max(result["direction"])]
    w["direction-axis"] = _grade(float(d["maxdev_axis"].max()), spec)
    w["direction-cone"] = _grade(float(d["maxdev_cone"].max()), spec)
    return w


def better_predictor(result: dict[str, Any]) -> str:
    """``"v/c = beta (the plotted law)"`` or ``"v/c = beta^2 (the abstract)"``: whichever has the
    smaller RMS error in more families (``"neither"`` on a tie)."""
    d = [pc["beta"].rmse - pc["beta2"].rmse for pc in result["predictors"].values()]
    n_beta, n_beta2 = sum(x < -1e-3 for x in d), sum(x > 1e-3 for x in d)
    if n_beta > n_beta2:
        return "v/c = beta (the plotted law), not linear in the energy ratio"
    if n_beta2 > n_beta:
        return "v/c = beta^2 (linear in the energy ratio, the abstract)"
    return "neither"


def verdict(result: dict[str, Any], spec: ClaimSpec = SPEC) -> Verdict:
    """The claim's word over the single-pixel settings of the authors' protocol (10 steps)."""
    words = row_words(result, spec)
    fits = {k: words[f"fit-{k}"] for k in result["fit"]}
    word = combine(list(fits.values()))
    f3 = result["fit"][key("dct", 3, "relu")]
    by_word: dict[str, list[str]] = {}
    for k, wd in fits.items():
        by_word.setdefault(wd, []).append(k)
    parts = "; ".join(f"{wd} in {len(ks)} of {len(fits)} settings"
                      + (f" ({', '.join(ks)})" if len(ks) <= 3 else "")
                      for wd, ks in sorted(by_word.items(), key=lambda kv: len(kv[1])))
    lim = result["limits"]["dct5-b100"]
    detail = (f"{parts} (max |(v/c)^2 - beta^2| after {spec.params['steps']} steps; 3x3 ReLU: "
              f"{f3.max_dev:.3f}). Where the kernel has no negative weight the law is exactly "
              f"(v/c)^2 = kappa beta^2/(1 - beta^2) (kappa {result['law']['dct3']['kappa']:.3f} for 3x3, "
              f"matched to {fmt_bound(result['law_worst'])}); the 5x5 pure gradient approaches "
              f"v/c = {lim.limit:.3f} only after thousands of steps")
    return Verdict(spec.id, word, "largest |(v/c)^2 - beta^2| of 3x3 DCT-beta kernels, ReLU, "
                   f"single pixel, {spec.params['steps']} steps", round(float(f3.max_dev), 3), RULE, detail)
