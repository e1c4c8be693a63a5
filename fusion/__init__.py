"""FusionGAN: learning to fuse jazz and folk melodies (Chen et al., ICDM 2017, and beyond).

Modules, one job each:

* :mod:`fusion.melody`   -- the Melody/Note type that flows through the pipeline
* :mod:`fusion.keys`     -- key annotations, key analysis and transposition to C
* :mod:`fusion.jazz`     -- Weimar Jazz Database loader (CSV export and SQLite)
* :mod:`fusion.folk`     -- Essen folk song loader (music21 ABC corpus and Humdrum kern)
* :mod:`fusion.corpus`   -- cached corpora, filters, splits, training windows, statistics
* :mod:`fusion.tokens`   -- reversible token encoding and its vocabulary
* :mod:`fusion.midi`     -- Melody <-> MIDI
* :mod:`fusion.audio`    -- MIDI -> audio with FluidSynth
* :mod:`fusion.download` -- fetching the public data distributions
* :mod:`fusion.grammar`, :mod:`fusion.generator`, :mod:`fusion.sampling` -- the LSTM generators
* :mod:`fusion.critic`, :mod:`fusion.losses`, :mod:`fusion.rollout` -- critics, Eq. 4-14, rollouts
* :mod:`fusion.presets`, :mod:`fusion.train`, :mod:`fusion.export`, :mod:`fusion.curves` -- training
* :mod:`fusion.baselines` -- RM and MC;  :mod:`fusion.systems` -- checkpoints, ``load_generator``
* :mod:`fusion.cli`      -- ``python -m fusion ...``
"""
from fusion.melody import GENRES, TICKS_PER_BEAT, Melody, Note

__all__ = ["GENRES", "TICKS_PER_BEAT", "Melody", "Note"]
__version__ = "0.1.0"


def load_generator(name: str, root=None):
    """Load a trained system by name (``fusion``, ``jazz``, ``folk``, ``mle``, ``gan``, ``rl``,
    ``rm``, ``mc``): see :func:`fusion.systems.load_generator`."""
    from fusion.systems import load_generator as _load

    return _load(name, root)


__all__ += ["load_generator"]
