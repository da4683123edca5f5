"""Claim of the dct-dominance chapter: small trained filters are dominated by DC and the two gradients.

``run`` measures everything the chapter shows (:mod:`infomech.spectrum` computes the spectra, tests
and per-network verdicts; :mod:`infomech.networks.filter_speed` the delta runs through trained
depthwise kernels); ``verdict`` (id ``dct``) and ``filters_verdict`` (id ``dct-filters``) map the
measurements to words by the rules stated in :data:`RULE` and :data:`FILTERS_RULE`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import smallcnn
from .. import spectrum as sp
from ..networks import SourceUnavailable
from ..networks import filter_speed as fs
from ..networks.reference import mobilenet_v2_depthwise_strides
from .base import FAILS, HOLDS, MIXED, ClaimSpec, Verdict

SPEC = ClaimSpec(
    id="dct",
    chapter="dct-dominance",
    statement="Small (e.g. 3x3) trained filters are dominated by the low-frequency DCT bases: the DC "
              "component and the two gradients.",
    params={
        "kernel_size": 3,
        # display name -> built-in source (trained networks, then the null models)
        "trained": {"EfficientNet-Lite0": "efficientnet_lite0", "MobileNetV2": "mobilenet_v2",
                    "MTCNN (P+R+O)": "mtcnn", "PP-OCRv4 det": "ppocr_det",
                    "PP-OCRv4 rec": "ppocr_rec", "PP-OCR cls": "ppocr_cls",
                    "SmallCNN (digits)": "smallcnn"},
        "nulls": {"SmallCNN at init": "smallcnn_init", "i.i.d. Gaussian": "random"},
        "five": {"EfficientNet-Lite0": "efficientnet_lite0", "PP-OCRv4 det": "ppocr_det",
                 "PP-OCRv4 rec": "ppocr_rec", "PP-OCR cls": "ppocr_cls"},
        "authors": {"VGG16": "vgg16", "ResNet50": "resnet50"},
        # glue-key slugs of the networks (dct-<slug>-dcgrad, ...)
        "slugs": {"EfficientNet-Lite0": "effnet", "MobileNetV2": "mnv2", "MTCNN (P+R+O)": "mtcnn",
                  "PP-OCRv4 det": "ppocr-det", "PP-OCRv4 rec": "ppocr-rec", "PP-OCR cls": "ppocr-cls",
                  "SmallCNN (digits)": "smallcnn", "SmallCNN at init": "smallcnn-init",
                  "i.i.d. Gaussian": "random"},
        "seed": 0,
        "weightings": ["energy", "kernel"],
        "default_weighting": "energy",
        "enriched_z": sp.ENRICHED_Z, "alpha": sp.ALPHA, "tie_margin": sp.TIE_MARGIN,
        "n_boot_layers": sp.N_BOOT,
        # the speed law on trained filters (issue 15 item 11)
        "filter_sources": {"MobileNetV2": "mobilenet_v2", "EfficientNet-Lite0": "efficientnet_lite0"},
        "filter_steps": 10,
        "filter_n_boot": fs.N_BOOT,
        "filter_rho_min": 0.7,           # 'predicts the speed': Spearman CI lower bound >= 0.7
        "filter_angle_max": 22.5,        # 'predicts the direction': median error < half an octant
    },
)

RULE = ("per network (energy weighting, the authors'): 'dominated' if $\\Sigma$, $\\nabla_x$ and "
        f"$\\nabla_y$ are each enriched (i.i.d. z > {sp.ENRICHED_Z:g} and layer t-test "
        f"p < {sp.ALPHA:g}), hold the majority "
        f"(layer t-test of share > 1/2, p < {sp.ALPHA:g}) and are the top three by at least "
        f"{sp.TIE_MARGIN:g}; "
        "'enriched' if each is enriched but not dominant; else 'neither'. The claim holds if every "
        "trained network is dominated, fails if none is dominated or enriched, mixed otherwise")

FILTERS_RULE = ("$\\beta^2$ predicts the speed if Spearman's rho of $\\sqrt{\\beta^2}$ (point split) with "
                "the measured speed has a 95 % bootstrap lower bound of at least 0.7 in every network; "
                "the first moment predicts the direction if the median "
                "angle between measured and predicted motion is < 22.5 degrees; holds if both, fails "
                "if neither, mixed otherwise")


def spectra(sources: dict[str, str], kernel_size: int = 3, seed: int = 0) -> dict[str, sp.Spectrum]:
    """``{display name: Spectrum}`` of built-in sources."""
    return {name: sp.spectrum(src, kernel_size, seed=seed) for name, src in sources.items()}


def network_row(name: str, s: sp.Spectrum, weighting: str = "energy", *,
                verdict: sp.NetworkVerdict | None = None,
                tests: list[sp.BasisTest] | None = None) -> dict[str, Any]:
    """One row of the chapter's results table: shares, tests and the verdict of a network.

    ``tests`` (``sp.basis_tests(s, weighting, all_bases=False)``) and ``verdict``
    (``sp.network_verdict(s, weighting)``) may be passed when already computed.
    """
    if tests is None:
        tests = sp.basis_tests(s, weighting, all_bases=False)
    v = verdict if verdict is not None else sp.network_verdict(s, weighting, tests=tests)
    tests = {t.name: t for t in tests}
    return {"network": name, "layers": len(s.layers), "kernels": int(sum(s.counts)),
            "full 3x3 layers": s.kinds.count("full"),
            "DC": tests["DC"].share, "grad_x": tests["grad_x"].share, "grad_y": tests["grad_y"].share,
            "DC+grad": tests["DC+grad"].share,
            "z DC": tests["DC"].z, "z grad_x": tests["grad_x"].z, "z grad_y": tests["grad_y"].z,
            "p DC": tests["DC"].p, "p grad_x": tests["grad_x"].p, "p grad_y": tests["grad_y"].p,
            "z DC+grad": tests["DC+grad"].z, "p DC+grad": tests["DC+grad"].p,
            "verdict": v.word, "detail": v.detail, "near_tie": v.near_tie}


def authors_spectra(spec: ClaimSpec = SPEC) -> dict[str, sp.Spectrum | None]:
    """The authors' networks computed from local weights when present (None when not installed)."""
    out: dict[str, sp.Spectrum | None] = {}
    for name, src in spec.params["authors"].items():
        try:
            out[name] = sp.spectrum(src, spec.params["kernel_size"])
        except SourceUnavailable:
            out[name] = None
    return out


def run(spec: ClaimSpec = SPEC, *, filters: bool = True) -> dict[str, Any]:
    """Every measurement of the chapter (about 5 s CPU on one thread with the shipped SmallCNN)."""
    p = spec.params
    n = p["kernel_size"]
    trained = spectra(p["trained"], n, p["seed"])
    nulls = spectra(p["nulls"], n, p["seed"])
    every = {**trained, **nulls}
    tests = {name: {w: sp.basis_tests(s, w, all_bases=False) for w in p["weightings"]}
             for name, s in every.items()}
    verdicts = {name: {w: sp.network_verdict(s, w, tests=tests[name][w]) for w in p["weightings"]}
                for name, s in every.items()}
    rows = {w: [network_row(name, s, w, verdict=verdicts[name][w], tests=tests[name][w])
                for name, s in every.items()] for w in p["weightings"]}
    odd = {name: {split: sp.odd_share_test(s, split) for split in ("point", "square")}
           for name, s in every.items()}
    both = [name for name, s in trained.items() if set(s.kinds) == {"depthwise", "full"}]
    kind_share = {name: {k: trained[name].select(k).dc_grad_share for k in ("full", "depthwise")}
                  for name in both}
    mnv2 = trained.get("MobileNetV2")
    strides = {}
    if mnv2 is not None:
        table = mobilenet_v2_depthwise_strides()
        dw = [ls for ls in mnv2.layers if ls.kind == "depthwise"]
        strides = {st: float(np.mean([ls.dc_grad_share for ls in dw if table[ls.name] == st]))
                   for st in (1, 2)}
    out: dict[str, Any] = {
        "trained": trained, "nulls": nulls, "rows": rows, "verdicts": verdicts, "odd": odd,
        "kind_share": kind_share, "mnv2_stride_share": strides,
        "five": spectra(p["five"], 5, p["seed"]),
        "authors": authors_spectra(spec),
        "smallcnn_metrics": smallcnn.metrics(smallcnn.trained()),
        "smallcnn_epochs": smallcnn.Settings().epochs,
    }
    if filters:
        runs = {name: fs.run_filters(src, steps=p["filter_steps"]) for name, src in
                p["filter_sources"].items()}
        out["filter_runs"] = runs
        out["filter_summary"] = fs.summary(runs, n_boot=p["filter_n_boot"])
    return out


def counts(result: dict[str, Any], weighting: str = "energy") -> dict[str, list[str]]:
    """Trained networks by verdict word under ``weighting``."""
    out: dict[str, list[str]] = {w: [] for w in sp.VERDICTS}
    for name in result["trained"]:
        out[result["verdicts"][name][weighting].word].append(name)
    return out


def dc_only(result: dict[str, Any], weighting: str = "energy") -> list[str]:
    """Trained networks whose only enriched basis (of DC, grad_x, grad_y) is DC."""
    return [name for name in result["trained"]
            if result["verdicts"][name][weighting].enriched == ("DC",)]


def word_dependent(result: dict[str, Any]) -> list[str]:
    """Trained networks whose verdict word differs between energy and kernel weighting."""
    return [name for name in result["trained"]
            if result["verdicts"][name]["energy"].word != result["verdicts"][name]["kernel"].word]


def weighting_dependence(result: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Trained networks whose verdict or enriched bases differ between the two weightings."""
    out = {}
    for name in result["trained"]:
        v = result["verdicts"][name]
        if v["energy"].word != v["kernel"].word or v["energy"].enriched != v["kernel"].enriched:
            out[name] = {w: f"{v[w].word} ({v[w].detail})" for w in ("energy", "kernel")}
    return out


def odd_below(result: dict[str, Any], split: str = "point") -> list[str]:
    """Trained networks whose odd share is significantly below the null (layer t-test, p < ALPHA)."""
    return [name for name in result["trained"] if result["odd"][name][split][2] < sp.ALPHA]


def depthwise_higher(result: dict[str, Any]) -> list[str]:
    """Networks with both kinds whose depthwise layers have the larger DC + gradient share
    (by more than :data:`~infomech.spectrum.TIE_MARGIN`, so no near-tie decides a count)."""
    return [name for name, d in result["kind_share"].items()
            if d["depthwise"] - d["full"] > sp.TIE_MARGIN]


def full_higher(result: dict[str, Any]) -> list[str]:
    """Networks with both kinds whose full layers have the larger share (by more than TIE_MARGIN)."""
    return [name for name, d in result["kind_share"].items()
            if d["full"] - d["depthwise"] > sp.TIE_MARGIN]


def filter_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the real-filter table: network, predictor, Spearman's rho and interval, median error."""
    labels = {"beta_point": "sqrt(beta^2), point split", "beta_square": "sqrt(beta^2), square split",
              "grad_share": "sqrt(gradient share)", "first_moment": "|first moment|"}
    return [{"network": name, "predictor": labels[k], "Spearman rho": c["spearman"],
             "95% low": c["ci95"][0], "95% high": c["ci95"][1],
             "median |error| (px/step)": c["median_abs_error"]}
            for name, s in result["filter_summary"].items() for k, c in s["correlations"].items()]


def near_ties(result: dict[str, Any]) -> list[str]:
    """Networks (and weightings) whose verdict sits on a near-tie (should be empty)."""
    return [f"{name} [{w}]" for name, vs in result["verdicts"].items() for w, v in vs.items()
            if v.near_tie]


def verdict(result: dict[str, Any]) -> Verdict:
    """The chapter's verdict on DCT dominance, by :data:`RULE`."""
    c = counts(result, "energy")
    n = len(result["trained"])
    n_dom, n_enr = len(c["dominated"]), len(c["enriched"])
    word = HOLDS if n_dom == n else FAILS if n_dom + n_enr == 0 else MIXED
    only = dc_only(result)
    dep = weighting_dependence(result)
    same = all(v["energy"].word == v["kernel"].word for v in result["verdicts"].values())
    detail = (f"$\\Sigma$, $\\nabla_x$ and $\\nabla_y$ dominate in {n_dom} of {n} trained networks "
              f"({', '.join(c['dominated']) or 'none'}), are enriched without dominating in {n_enr}, and "
              f"in {len(only)} the excess over the null is the DC basis alone "
              f"({', '.join(only) or 'none'}); "
              + ("the verdicts are the same with every kernel scaled to unit energy" if same else
                 f"with every kernel scaled to unit energy the verdict changes for {', '.join(dep)}"))
    return Verdict(claim="dct", word=word, decisive="trained networks dominated by DC and gradients",
                   value=f"{n_dom} of {n}", rule=RULE, detail=detail)


def filters_verdict(result: dict[str, Any], spec: ClaimSpec = SPEC) -> Verdict:
    """Does beta^2 (or the first moment) predict motion through trained filters? By :data:`FILTERS_RULE`."""
    p = spec.params
    summ = result["filter_summary"]
    lows = {name: s["correlations"]["beta_point"]["ci95"][0] for name, s in summ.items()}
    angles = {name: s["direction_median_deg"] for name, s in summ.items()}
    speed_ok = all(v >= p["filter_rho_min"] for v in lows.values())
    dir_ok = all(math.isfinite(a) and a < p["filter_angle_max"] for a in angles.values())
    word = HOLDS if speed_ok and dir_ok else FAILS if not (speed_ok or dir_ok) else MIXED
    worst = min(lows, key=lows.get)
    better = [name for name, s in summ.items() if s["rho_first_moment_minus_beta_point_ci95"][0] > 0]
    detail = (f"Spearman's rho of $\\sqrt{{\\beta^2}}$ with the measured speed is at least "
              f"{lows[worst]:.2f} (95 % lower bound, {worst}); the median direction error is at most "
              f"{max(angles.values()):.1f} degrees; the first moment ranks the speeds better than "
              f"$\\beta^2$ in {len(better)} of {len(summ)} networks (paired bootstrap)")
    return Verdict(claim="dct-filters", word=word,
                   decisive="lowest 95 % bound of Spearman's rho, $\\sqrt{\\beta^2}$ against speed",
                   value=round(lows[worst], 2), rule=FILTERS_RULE, detail=detail)
