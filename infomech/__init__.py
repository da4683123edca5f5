"""infomech: the mechanics of CNN filtering with rectification, as a library.

Modules, one concept each:

- :mod:`infomech.decomposition` -- even/odd (point) and sym/anti (square) splits, energies, beta^2
- :mod:`infomech.dct` -- orthonormal DCT-II bases, coefficients, parity, energy fractions
- :mod:`infomech.kernels` -- DCT-beta, translation-beta, steered gradients, random kernels
- :mod:`infomech.patterns` -- delta, disc, square, line, blob, noise, a natural image
- :mod:`infomech.propagation` -- batched ``x <- act(corr(x, k))`` with recorded observables
- :mod:`infomech.observables` -- mass, centre of mass, covariance, speed
- :mod:`infomech.publish` -- glued numbers, claims ledger, figures with provenance
"""

__version__ = "0.1.0"
