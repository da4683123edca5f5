r"""The odd energy share of random kernels against its Beta law.

For a kernel with i.i.d. :math:`N(0,\sigma^2)` entries, the even and odd parts are orthogonal
projections onto subspaces of dimensions :math:`d_e` and :math:`d_o = n^2 - d_e`, so
:math:`\lVert k_o\rVert^2/\sigma^2 \sim \chi^2_{d_o}` and :math:`\lVert k_e\rVert^2/\sigma^2 \sim
\chi^2_{d_e}` are independent and

.. math:: \beta^2 \sim \mathrm{Beta}(d_o/2,\ d_e/2)

(:func:`infomech.decomposition.beta2_null_law`). The derivation uses the rotational invariance of
the Gaussian; for other i.i.d. entries (e.g. uniform) the law is only approximate.

``scipy.stats`` (about 1 s to import) is imported only by the functions that need it.
"""

from __future__ import annotations

import numpy as np

from .decomposition import Split, beta2, beta2_null_law
from .kernels import random_kernels

DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform")


def sample_beta2(n: int, count: int, kind: Split = "point", *, seed: int = 0,
                 distribution: str = "normal") -> np.ndarray:
    """``beta^2`` of ``count`` i.i.d. random ``n x n`` kernels (``normal`` or centred ``uniform``)."""
    if distribution == "normal":
        k = random_kernels(count, n, seed)
    elif distribution == "uniform":
        k = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(count, n, n))
    else:
        raise ValueError(f"unknown distribution {distribution!r}; expected one of {DISTRIBUTIONS}")
    return np.asarray(beta2(k, kind))


def ks_beta(samples: np.ndarray, n: int, kind: Split = "point") -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic and p-value of ``samples`` against Beta(d_o/2, d_e/2)."""
    from scipy import stats

    a, b = beta2_null_law(n, kind)
    res = stats.kstest(np.asarray(samples), stats.beta(a, b).cdf)
    return float(res.statistic), float(res.pvalue)


def ks_critical(count: int, alpha: float = 0.05) -> float:
    """Asymptotic critical value of the one-sample KS statistic, :math:`c(\\alpha)/\\sqrt{N}`.

    :math:`c(\\alpha)` is the upper :math:`\\alpha` quantile of the Kolmogorov distribution,
    :math:`P(\\sup_t |B(t)| > c) = \\alpha` (``scipy.special.kolmogi``, which is what
    ``scipy.stats.kstwobign.isf`` computes, bit for bit).
    """
    from scipy import special

    return float(special.kolmogi(alpha) / np.sqrt(count))


def beta_pdf(x: np.ndarray, n: int, kind: Split = "point") -> np.ndarray:
    """Density of the Beta law of ``beta^2`` at ``x``."""
    from scipy import stats

    a, b = beta2_null_law(n, kind)
    return stats.beta(a, b).pdf(np.asarray(x, float))
