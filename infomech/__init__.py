"""infomech: the mechanics of CNN filtering with rectification, as a library.

The layers and the home of every concept are drawn in ``ARCHITECTURE.md``; in short:

- theory: :mod:`~infomech.decomposition` (even/odd and sym/anti splits, beta^2), :mod:`~infomech.dct`,
  :mod:`~infomech.kernels` (DCT-beta, translation-beta, steered, random, odd DCT bases),
  :mod:`~infomech.patterns`, :mod:`~infomech.activations`, :mod:`~infomech.inputs` (your kernels, images)
- dynamics: :mod:`~infomech.propagation` (batched ``x <- act(corr(x, k))``, light cone),
  :mod:`~infomech.observables`, :mod:`~infomech.transport` (exact law), :mod:`~infomech.sweeps`
- statistics: :mod:`~infomech.stats`
- networks: :mod:`infomech.networks` (registry, readers, reference tables),
  :mod:`~infomech.smallcnn`
- experiments: :mod:`~infomech.diffusion`, :mod:`~infomech.displacement`, :mod:`~infomech.speedlaw`,
  :mod:`~infomech.spectrum`, :mod:`~infomech.erf`, :mod:`~infomech.steering`,
  :mod:`~infomech.randomkernels`, :mod:`~infomech.multichannel`, :mod:`~infomech.runs`
- claims: :mod:`infomech.claims` (one module per chapter: spec, run, computed verdict)
- publishing: :mod:`~infomech.publish`, :mod:`~infomech.figures`, :mod:`~infomech.lab`
- interface: :mod:`infomech.cli` (``infomech speed``, ``infomech decompose``, ``infomech spectrum``)
- foundation: :mod:`~infomech.validate`, :mod:`~infomech.numbers`, :mod:`~infomech.progress`
"""

__version__ = "0.1.0"
