r"""Two steered gradient filters in sequence: a "Malus's law" analogue.

A steered gradient :math:`k_\theta = \cos\theta\,\nabla_x + \sin\theta\,\nabla_y`
(:func:`infomech.kernels.steered_gradient`) moves content in direction :math:`\theta`. Passing an
image through :math:`k_{\theta_1}` and ReLU, then through :math:`k_{\theta_1+\varphi}` and ReLU, the
second filter transmits the energy

.. math::

    T(\varphi) = \frac{\lVert \mathrm{relu}(k_{\theta_1+\varphi} \star x_1)\rVert^2}
                      {\lVert \mathrm{relu}(k_{\theta_1} \star x_1)\rVert^2}, \qquad
    x_1 = \mathrm{relu}(k_{\theta_1} \star x_0),

normalised to 1 at :math:`\varphi = 0` and averaged over :math:`\theta_1`. Malus's law for
polarisers would be :math:`T = \cos^2\varphi`. All angles run in one batched propagation.

Linear intuition. Without the second ReLU the response is linear in the steering:
:math:`k_{\theta_1+\varphi}\star x_1 = \cos\varphi\,a + \sin\varphi\,b` with
:math:`a = k_{\theta_1}\star x_1` and :math:`b = k_{\theta_1+\pi/2}\star x_1`, so its energy is
:math:`\cos^2\varphi\,\lVert a\rVert^2 + \sin^2\varphi\,\lVert b\rVert^2 + \sin 2\varphi\,\langle a,
b\rangle`: a Malus-like :math:`\cos^2` only when :math:`\lVert b\rVert \ll \lVert a\rVert`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .kernels import steered_gradient
from .propagation import Activation, propagate, separable_split, validate

LAWS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "cos^2 (Malus)": lambda p: np.cos(p) ** 2,
    "max(cos, 0)^2": lambda p: np.clip(np.cos(p), 0, None) ** 2,
    "max(cos, 0)": lambda p: np.clip(np.cos(p), 0, None),
    "(1 + cos)/2": lambda p: (1 + np.cos(p)) / 2,
}


def transmission_per_direction(x: np.ndarray, phi: np.ndarray, theta1: np.ndarray | float = 0.0, *,
                               n: int = 3, activation: Activation = "relu") -> np.ndarray:
    r"""Transmitted energy :math:`E(\theta_1, \varphi)/E(\theta_1, 0)` for every first direction.

    The first step :math:`x_1 = \mathrm{act}(k_{\theta_1} \star x_0)` does not depend on
    :math:`\varphi`, so it runs once per :math:`\theta_1` and the second step of all
    :math:`\varphi` (and :math:`\varphi = 0`, the normalisation) runs from it
    (:func:`_energies_from_first_step`): per kernel the very operations of one run of both steps,
    so the result is bit-identical to it. Where :func:`infomech.propagation.propagate` would take its
    separable path for some pairs (an input that is a product, such as a single pixel, whose 1-D
    factors round differently from the 2-D run) all pairs run both steps together instead.
    See :func:`transmission` for the parameters.

    Returns
    -------
    array (A, P)
        Row ``a`` is the transmission curve for the first direction ``theta1[a]``.
    """
    phi = np.atleast_1d(np.asarray(phi, float))
    th = np.atleast_1d(np.asarray(theta1, float))
    ph_all = np.concatenate([[0.0], phi])
    t1 = np.repeat(th, ph_all.size)  # (A*(P+1),)
    t2 = t1 + np.tile(ph_all, th.size)
    sched = [steered_gradient(t1, n), steered_gradient(t2, n)]
    if separable_split(validate(x, sched, 2, activation=activation)) is None:
        e = _energies_from_first_step(x, th, ph_all, n, activation)
    else:
        tr = propagate(x, sched, 2, activation=activation, frames=(2,))
        e = (tr.frames[2] ** 2).sum(axis=(-2, -1)).reshape(th.size, ph_all.size)
    if np.any(e[:, 0] <= 0):
        raise ValueError("zero transmitted energy at phi = 0: the normalisation is undefined")
    return e[:, 1:] / e[:, :1]


def _energies_from_first_step(x: np.ndarray, th: np.ndarray, ph_all: np.ndarray, n: int,
                              activation: Activation) -> np.ndarray:
    r""":math:`E(\theta_1, \varphi) = \lVert \mathrm{act}(k_{\theta_1+\varphi} \star x_1)\rVert^2`,
    shape ``(A, P)``: one batched first step over ``th`` (A,), then one second step per
    :math:`\theta_1` over ``ph_all`` (P,), each from its :math:`x_1`."""
    x1 = propagate(x, steered_gradient(th, n), 1, activation=activation, frames=(1,)).frames[1]
    e = np.zeros((th.size, ph_all.size))  # a first step that kills the image transmits nothing
    for a in np.flatnonzero(x1.reshape(th.size, -1).any(axis=1)):
        x2 = propagate(x1[a], steered_gradient(th[a] + ph_all, n), 1, activation=activation,
                       frames=(1,)).frames[1]
        e[a] = (x2 ** 2).sum(axis=(-2, -1))
    return e


def transmission(x: np.ndarray, phi: np.ndarray, theta1: np.ndarray | float = 0.0, *, n: int = 3,
                 activation: Activation = "relu") -> np.ndarray:
    r"""Transmitted energy :math:`T(\varphi)` (see module docstring), averaged over ``theta1``.

    Parameters
    ----------
    x : array (H, W)
        Input image (non-zero).
    phi : array (P,)
        Angles between the two filters, radians; ``phi[0]`` need not be 0 (the normalisation uses
        a separate run at :math:`\varphi = 0`).
    theta1 : float or array (A,)
        Directions of the first filter, radians.
    n : int
        Kernel size.

    Returns
    -------
    array (P,)
        :math:`\langle E(\theta_1, \varphi) / E(\theta_1, 0)\rangle_{\theta_1}`.
    """
    return transmission_per_direction(x, phi, theta1, n=n, activation=activation).mean(0)


def compare_laws(phi: np.ndarray, t: np.ndarray) -> dict[str, dict[str, float]]:
    """Max absolute deviation and RMS error of ``t`` against each law of :data:`LAWS`."""
    out = {}
    for name, law in LAWS.items():
        d = np.asarray(t) - law(np.asarray(phi))
        out[name] = {"max": float(np.abs(d).max()), "rms": float(np.sqrt(np.mean(d * d)))}
    return out


def fit_floor(phi: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    r"""Least-squares floor :math:`m` of :math:`T = \cos^2\varphi + m\sin^2\varphi` and its RMS error.

    A "leaky polariser": Malus's law is :math:`m = 0`; :math:`m = 1` transmits everything.
    """
    phi, t = np.asarray(phi, float), np.asarray(t, float)
    c2, s2 = np.cos(phi) ** 2, np.sin(phi) ** 2
    m = float(np.dot(s2, t - c2) / np.dot(s2, s2))
    r = t - c2 - m * s2
    return m, float(np.sqrt(np.mean(r * r)))
