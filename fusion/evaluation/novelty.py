"""Novelty: does a system copy its training data? The share of its 8-note n-grams that occur
verbatim in the training melodies.

An n-gram is n consecutive notes, each as (pitch, duration in ticks, rest before it in ticks; 0
for the n-gram's first note), so "verbatim" means the same pitches, rhythm and rests. All melodies
are in C (the data is transposed to C; the generators learned it so), so a copy is a copy in the
same key. Real held-out music shares some n-grams with the training pieces too (folk tunes quote
each other; jazz players reuse licks), which is the baseline to read a system's share against.
"""
from __future__ import annotations

from fusion.melody import Melody

N = 8


def ngrams(melody: Melody, n: int = N) -> list[tuple]:
    """The melody's n-grams of notes (see module docstring), in order."""
    ticks = melody.to_ticks()
    events = [(p, d, 0 if i == 0 else max(0, on - (ticks[i - 1][1] + ticks[i - 1][2])))
              for i, (p, on, d) in enumerate(ticks)]
    return [tuple([(events[i][0], events[i][1], 0), *events[i + 1:i + n]]) for i in range(len(events) - n + 1)]


class NgramIndex:
    """Every n-gram of a set of (training) melodies, for constant-time look-up."""

    def __init__(self, melodies, n: int = N):
        self.n = n
        self.grams = {g for m in melodies for g in ngrams(m, n)}

    def __len__(self) -> int:
        return len(self.grams)

    def copied(self, melody: Melody) -> tuple[int, int]:
        """(n-grams of ``melody`` found in the index, n-grams of ``melody``)."""
        grams = ngrams(melody, self.n)
        return sum(g in self.grams for g in grams), len(grams)
