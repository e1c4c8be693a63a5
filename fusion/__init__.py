"""FusionGAN: learning to fuse jazz and folk melodies (Chen et al., ICDM 2017, and beyond).

The package in layers; a module imports only from its own layer or the layers above it in this
list (``tests/test_architecture.py`` checks it):

* core: :mod:`fusion.melody` (the Melody/Note type that flows through the pipeline),
  :mod:`fusion.features` (what is counted in a melody: the histograms of Table I and the
  sequential ones, for the evaluation, the demo and Blend's decoding tilt),
  :mod:`fusion.paths` (data and cache folders, the git commit), :mod:`fusion.config` (every
  environment variable), :mod:`fusion.registry` (the one table of systems);
* :mod:`fusion.data` -- the two genres' melodies: loaders, keys, corpora, tokens, download;
* :mod:`fusion.render` -- MIDI, audio, piano rolls and figure files;
* :mod:`fusion.model` -- generators, critics, sampling, losses, training, checkpoints;
* :mod:`fusion.evaluation` -- distances, novelty, the judge, the real controls, tables, reports, the
  seed study;
* :mod:`fusion.demo` (the browser demo's engine) and :mod:`fusion.cli` (``python -m fusion``).

``docs/architecture.md`` lists every module with its job.
"""
from fusion.melody import GENRES, TICKS_PER_BEAT, Melody, Note

__all__ = ["GENRES", "TICKS_PER_BEAT", "Melody", "Note"]
__version__ = "0.1.0"


def load_generator(name: str, root=None):
    """Load a trained system by name (see :data:`fusion.registry.TRAINED`).

    Parameters
    ----------
    name : str
        ``blend``, ``fusion``, ``poe``, ``mle``, ``mle_t``, ``gan``, ``rl``, ``rm``, ``mc``, ``jazz``
        or ``folk``.
    root : str or Path, optional
        The checkpoint folder (default ``checkpoints/``).

    Returns
    -------
    fusion.model.systems.System
        Call ``.sample(n, bars=4, seed=0)`` for melodies."""
    from fusion.model.systems import load_generator as _load

    return _load(name, root)


__all__ += ["load_generator"]
