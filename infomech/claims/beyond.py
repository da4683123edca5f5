"""Claims of the beyond-the-paper chapter: ERF growth, the Malus analogue, the Beta law of random
beta^2, other activations and multi-channel stacks.

``run`` performs every measurement (the concept modules :mod:`infomech.erf`,
:mod:`infomech.steering`, :mod:`infomech.randomkernels`, :mod:`infomech.multichannel` and
:mod:`infomech.sweeps` do the work); :func:`checks` grades each question by its stated rule and
:func:`verdict` (id ``beyond``) combines them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import diffusion, erf, multichannel, patterns, randomkernels, steering
from ..kernels import dct_beta
from ..numbers import fmt_bound, grid
from ..propagation import propagate
from ..stats import loglog_slope, mean_interval
from ..sweeps import speed_sweep
from .base import FAILS, HOLDS, MIXED, ClaimSpec, Verdict, all_hold, grade, grade_rule

SPEC = ClaimSpec(
    id="beyond",
    chapter="beyond",
    statement="Beyond the paper: effective receptive fields, steering, random kernels, other "
              "activations and multi-channel stacks follow the paper's mechanics.",
    params={
        "erf_depths": [5, 7, 10, 14, 20, 28, 40],
        "erf_draws": 128,
        "erf_dct_beta2": 0.3,
        "erf_seeds": [0, 1, 2, 3],
        "erf_slope_tol": 0.02,          # |slope - 1/2| allowed for "grows as sqrt(L)"
        "malus_phi_deg": [0, 180, 5],     # start, stop (included), step
        "malus_theta1_deg": [0, 360, 15],
        "malus_tol": 0.05,              # largest |T - cos^2| for "approximately Malus"
        "random_sizes": [2, 3, 5, 7],
        "random_count": 20000,
        "act_beta2": [0.0, 1.0, 0.05],
        "act_steps": 10,
        "act_size": 301,
        "act_gap_tol": 0.01,            # largest (v/c)^2 gap to ReLU for "behaves like ReLU"
        "mc_channels": 8, "mc_layers": 4, "mc_stacks": 64, "mc_seed": 3, "mc_control": 2000,
        "mc_cos_tol": 0.9,              # mean cos(drift, odd push) in layer 1 for "direction follows"
        "mc_r_tol": 0.5,                # correlation(|drift|, beta) for "speed follows beta"
        "exact_tol": 1e-9,
    },
)

#: Activations of the speed-law comparison: label -> (activation, rescale).
ACTIVATIONS = {
    "ReLU": ("relu", True),
    "leaky ReLU (0.1)": (lambda t: F.leaky_relu(t, 0.1), True),
    "GELU": (F.gelu, True),
    "tanh": (torch.tanh, True),
    "GELU, no rescaling": (F.gelu, False),
    "tanh, no rescaling": (torch.tanh, False),
    "identity": ("none", True),
}

#: ERF stacks: label -> (stack kind, activation).
STACKS = {
    "uniform": ("uniform", "none"),
    "random": ("random", "none"),
    "random + ReLU": ("random", "relu"),
    r"DCT $\beta^2=0.3$": ("dct", "none"),
    r"DCT $\beta^2=0.3$ + ReLU": ("dct", "relu"),
}


def run_erf(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """ERF depth sweeps of the five stacks; the random stacks over several seeds, two statistics."""
    p = spec.params
    D, nd, b2 = p["erf_depths"], p["erf_draws"], p["erf_dct_beta2"]
    seeds = {label: erf.seed_sweep(kind, D, p["erf_seeds"], activation=act, draws=nd)
             for label, (kind, act) in STACKS.items() if kind == "random"}
    sweeps = {}
    for label, (kind, act) in STACKS.items():
        if kind == "random":
            s = seeds[label]
            sweeps[label] = {"depth": s["depth"], "sigma": s["sigma_abs"][0]}
        else:
            sweeps[label] = erf.depth_sweep(kind, D, activation=act, draws=nd, beta2=b2, seed=0)
    slopes = {label: loglog_slope(s["depth"], s["sigma"])[0] for label, s in sweeps.items()}
    L = np.asarray(D, dtype=float)
    _, s2_box = erf.kernel_walk(np.ones((3, 3)))
    mean_dct, s2_dct = erf.kernel_walk(dct_beta(b2))
    dct = sweeps[r"DCT $\beta^2=0.3$"]
    law_err = max(float(np.abs(sweeps["uniform"]["sigma"] ** 2 - L * s2_box).max()),
                  float(np.abs(dct["sigma"] ** 2 - L * s2_dct).max()),
                  float(np.abs(dct["centre"] - L[:, None] * mean_dct).max()))
    relu = sweeps[r"DCT $\beta^2=0.3$ + ReLU"]
    maps = []
    for kind, act in STACKS.values():
        g = erf.erf_gradients(erf.stack_kernels(kind, 20, erf.draws_for(kind, act, nd), beta2=b2, seed=7),
                              act, seed=8)
        maps.append(erf.erf_map(g).numpy())
    intervals = {(label, stat): mean_interval(s[f"slope_{stat}"]) for label, s in seeds.items()
                 for stat in ("g2", "abs")}
    alive = float(seeds["random + ReLU"]["alive"][0].mean())
    return {"sweeps": sweeps, "slopes": slopes, "seeds": seeds, "intervals": intervals,
            "law_err": law_err, "mean_dct": mean_dct, "s2_dct": s2_dct, "maps": maps,
            "relu_centre_gap": float(np.abs(relu["centre"][:, 0] - dct["centre"][:, 0]).max()),
            "relu_alive": alive}


def run_malus(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """Transmission of two steered gradients, per first direction, on three inputs."""
    p = spec.params
    phi = np.deg2rad(grid(*p["malus_phi_deg"]))
    theta1 = np.deg2rad(np.arange(*p["malus_theta1_deg"]))
    inputs = {"single pixel": patterns.delta(21), "disc": patterns.disc(61, 10),
              "natural image": patterns.natural_image(129)}
    per = {name: steering.transmission_per_direction(x, phi, theta1) for name, x in inputs.items()}
    T = {name: t.mean(0) for name, t in per.items()}
    return {"phi": phi, "theta1": theta1, "per_direction": per, "T": T,
            "laws": {name: steering.compare_laws(phi, t) for name, t in T.items()},
            "floors": {name: steering.fit_floor(phi, t) for name, t in T.items()},
            "i90": int(np.argmin(np.abs(phi - np.pi / 2)))}


def run_random(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """KS tests of beta^2 of i.i.d. Gaussian (and, as a control, uniform) kernels against the Beta law."""
    p = spec.params
    N = p["random_count"]
    keys = [(n, kind) for n in p["random_sizes"] for kind in ("point", "square")]
    samples = {key: randomkernels.sample_beta2(key[0], N, key[1], seed=10 * key[0]) for key in keys}
    unif = {key: randomkernels.sample_beta2(key[0], N, key[1], seed=10 * key[0] + 1, distribution="uniform")
            for key in keys}
    return {"samples": samples, "ks_gauss": {k: randomkernels.ks_beta(s, *k) for k, s in samples.items()},
            "ks_unif": {k: randomkernels.ks_beta(s, *k) for k, s in unif.items()},
            "crit": randomkernels.ks_critical(N)}


def run_activations(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """The single-pixel speed sweep under other activations, and the tanh plateau at beta^2 = 0.4."""
    p = spec.params
    b2 = grid(*p["act_beta2"])
    speed = {label: speed_sweep("dct", 3, b2, steps=p["act_steps"], pattern="delta", size=p["act_size"],
                                activation=act, rescale=rs)["v_over_c_sq"]
             for label, (act, rs) in ACTIVATIONS.items()}
    tb = (0.3, 0.4, 0.5)
    tanh_k = np.stack([dct_beta(b, 3) for b in tb])
    tanh_tr = propagate(patterns.delta(p["act_size"]), tanh_k, p["act_steps"], activation=torch.tanh,
                        rescale=True, frames=[p["act_steps"]])
    return {"beta2": b2, "speed": speed, "tanh_kernels": tanh_k, "tanh_run": tanh_tr,
            "tanh_extent": diffusion.support_extent(tanh_tr.frames[p["act_steps"]]),
            "dev": {label: float(np.abs(y - b2).max()) for label, y in speed.items()},
            "gap": {label: float(np.abs(y - speed["ReLU"]).max()) for label, y in speed.items()}}


def run_multichannel(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """Channel drifts of random multi-channel ReLU stacks and a single-channel control."""
    p = spec.params
    blob = patterns.gaussian_blob(41, 2.0)
    res = multichannel.channel_drifts(blob, multichannel.random_weights(p["mc_channels"], p["mc_layers"],
                                                                        p["mc_stacks"], seed=p["mc_seed"]))
    summ = {d: multichannel.drift_summary(res.drift, res.beta2[d], res.direction[d], res.dc[d], res.alive)
            for d in ("summed", "mass")}
    r_bank = multichannel.correlation(np.where(res.alive, np.linalg.norm(res.drift, axis=-1), np.nan),
                                      np.sqrt(res.beta2["bank"]))
    per_layer = [multichannel.drift_summary(res.drift[i], res.beta2["mass"][i], res.direction["mass"][i],
                                            res.dc["mass"][i], res.alive[i])["cos"]
                 for i in range(p["mc_layers"])]
    d_c, b_c, dir_c, dc_c = multichannel.single_channel_control(blob, p["mc_control"], seed=4)
    return {"res": res, "summary": summ, "r_bank": r_bank, "per_layer_cos": per_layer,
            "control": multichannel.drift_summary(d_c, b_c, dir_c, dc_c), "control_data": (d_c, b_c)}


def run(spec: ClaimSpec = SPEC) -> dict[str, Any]:
    """Every measurement of the chapter."""
    return {"erf": run_erf(spec), "malus": run_malus(spec), "random": run_random(spec),
            "activations": run_activations(spec), "multichannel": run_multichannel(spec)}


def _within(interval: tuple[float, float, float], centre: float, tol: float) -> bool:
    """Whether the interval (mean, lo, hi) overlaps [centre - tol, centre + tol]."""
    _, lo, hi = interval
    return lo <= centre + tol and hi >= centre - tol


def checks(result: dict[str, Any], spec: ClaimSpec = SPEC) -> dict[str, Verdict]:
    """One verdict per question of the chapter, each by its stated rule."""
    p = spec.params
    e, m, r, a, mc = (result[k] for k in ("erf", "malus", "random", "activations", "multichannel"))
    out: dict[str, Verdict] = {}
    out["beyond-erf-law"] = Verdict(
        "beyond-erf-law", grade(e["law_err"], exact_tol=p["exact_tol"], approx_tol=0.01),
        "largest deviation of sigma^2 and the centre from the linear law (px^2, px)",
        fmt_bound(e["law_err"], p["exact_tol"]), grade_rule(p["exact_tol"], 0.01, "law error"),
        "non-negative kernels: sigma^2 = L sigma_k^2 and centre L d exactly")
    tol = p["erf_slope_tol"]
    stat_ok = {f"{label}, {stat}": _within(e["intervals"][(label, stat)], 0.5, tol)
               for label in e["seeds"] for stat in ("g2", "abs")}
    iv = e["intervals"]
    out["beyond-erf-random"] = Verdict(
        "beyond-erf-random", all_hold(stat_ok),
        "95 % interval of the log-log slope over seeds, random stack, E[g^2] vs per-draw |g|",
        f"{iv[('random', 'g2')][1]:.2f} to {iv[('random', 'g2')][2]:.2f} vs "
        f"{iv[('random', 'abs')][1]:.2f} to {iv[('random', 'abs')][2]:.2f}",
        f"holds if the interval of the slope over seeds reaches 0.5 +- {tol} for both statistics, with and "
        "without ReLU; fails if for none; mixed otherwise",
        "the sqrt(L) law for random kernels depends on the statistic")
    maxdev = max(v["cos^2 (Malus)"]["max"] for v in m["laws"].values())
    out["beyond-malus"] = Verdict(
        "beyond-malus", grade(maxdev, exact_tol=p["exact_tol"], approx_tol=p["malus_tol"]),
        "largest deviation of the direction-averaged T from cos^2", round(maxdev, 3),
        grade_rule(p["exact_tol"], p["malus_tol"], "max abs(T - cos^2)"),
        "two orthogonal steered gradients still transmit a large share")
    ks_max = max(v[0] for v in r["ks_gauss"].values())
    out["beyond-random"] = Verdict(
        "beyond-random", HOLDS if ks_max < r["crit"] else FAILS,
        "largest KS statistic against Beta(d_o/2, d_e/2), Gaussian entries", round(ks_max, 4),
        f"holds if every KS statistic is below the 5 % critical value {r['crit']:.4f}, fails otherwise",
        "Gaussian entries, 4 sizes, both splits")
    gap = a["gap"]
    act_ok = {name: gap[name] <= p["act_gap_tol"] for name in ("GELU", "leaky ReLU (0.1)", "tanh")}
    out["beyond-activations"] = Verdict(
        "beyond-activations", all_hold(act_ok), "largest (v/c)^2 gap to ReLU: GELU, leaky ReLU, tanh",
        f"{gap['GELU']:.3f}, {gap['leaky ReLU (0.1)']:.3f}, {gap['tanh']:.3f}",
        f"holds for an activation whose largest gap to ReLU is <= {p['act_gap_tol']}; mixed if some do",
        "the speed law is a property of rectification")
    mc_ok = {"direction": mc["per_layer_cos"][0] >= p["mc_cos_tol"],
             "speed": mc["summary"]["mass"]["r_all"] >= p["mc_r_tol"]}
    out["beyond-multichannel"] = Verdict(
        "beyond-multichannel", all_hold(mc_ok), "mean cos(drift, odd push) in layer 1; corr(speed, beta)",
        f"{mc['per_layer_cos'][0]:.2f}; {mc['summary']['mass']['r_all']:.2f}",
        f"direction follows if the layer-1 mean cosine >= {p['mc_cos_tol']}; speed follows if the "
        f"correlation >= {p['mc_r_tol']}; holds if both, mixed if one, fails if none",
        "direction yes, speed no")
    return out


def verdict(result: dict[str, Any], spec: ClaimSpec = SPEC) -> Verdict:
    """The chapter's verdict: holds if every question's verdict is exact or holds, fails if none is,
    mixed otherwise; the sentence lists each question's word."""
    c = checks(result, spec)
    good = {k: v.word in ("exact", HOLDS) for k, v in c.items()}
    word = all_hold(good)
    e, m = result["erf"], result["malus"]
    iv = e["intervals"]
    t90 = min(t[m["i90"]] for t in m["T"].values())
    detail = (f"ERF: sigma ~ L^{e['slopes']['uniform']:.2f} {c['beyond-erf-law'].word} for non-negative "
              f"kernels; random kernels L^{iv[('random', 'g2')][0]:.2f} with Luo et al.'s E[g^2] against "
              f"L^{iv[('random', 'abs')][0]:.2f} per draw ({c['beyond-erf-random'].word}); Malus: "
              f"{c['beyond-malus'].word} (T(90 deg) >= {t90:.2f}); Beta law of random beta^2: "
              f"{c['beyond-random'].word} (KS <= {c['beyond-random'].value}); other activations: "
              f"{c['beyond-activations'].word} (GELU like ReLU, leaky ReLU and tanh not); multi-channel: "
              f"{c['beyond-multichannel'].word} (direction follows the odd part, speed does not follow beta)")
    return Verdict(spec.id, word if word != HOLDS or all(good.values()) else MIXED,
                   "questions whose expectation held (of 6)", float(sum(good.values())),
                   "holds if every question holds (or is exact), fails if none does, mixed otherwise",
                   detail)
