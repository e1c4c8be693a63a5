"""Note histograms of a set of melodies: how often each pitch class and each note length occurs.

    pitch classes: h[c] = #{notes with pitch mod 12 = c} / #notes,      c = 0 (C) .. 11 (B)
    durations:     h[d] = #{notes lasting d ticks} / #notes,            d = 1 .. 48 (12 ticks per
                   beat; notes of a whole note or longer share the last bin)

Shared by the checks that a genre generator sounds like its genre (``tests/test_checkpoints.py``,
``scripts/anchor_ablation.py``).
"""
from __future__ import annotations

import numpy as np

from fusion.melody import TICKS_PER_BEAT, Melody

MAX_TICKS = 4 * TICKS_PER_BEAT


def pitch_class_and_duration(melodies: list[Melody]) -> tuple[np.ndarray, np.ndarray]:
    """The normalised pitch-class (12 bins) and duration (48 bins) histograms of all notes."""
    pc, du = np.zeros(12), np.zeros(MAX_TICKS)
    for m in melodies:
        for n in m.notes:
            pc[n.pitch % 12] += 1
            du[min(max(round(n.duration * TICKS_PER_BEAT), 1), MAX_TICKS) - 1] += 1
    return pc / pc.sum(), du / du.sum()
