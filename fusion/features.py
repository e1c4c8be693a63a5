"""What the evaluation counts in a melody: note histograms (Table I) and sequential histograms.

Every feature turns one :class:`~fusion.melody.Melody` into a vector of *counts* over fixed bins;
a set of melodies is described by the normalised sum of its members' counts (so every note counts
once, as in the paper). Keeping per-melody counts lets the bootstrap resample melodies cheaply
(:mod:`fusion.evaluation`).

Table I's features (paper, Section "Quantitative evaluation"):

* ``npd`` -- note pitch distribution: 12 pitch classes C..B (the data is transposed to C, so
  class 0 is the tonic), ``h[c] = #{notes with pitch mod 12 = c} / #notes``;
* ``dd``  -- duration distribution: 48 classes of 1..48 ticks (12 ticks per beat; a whole note or
  longer falls in the last class); the class's position for the earth mover's distance is its
  length in beats.

Sequential features (the authors' future work; positions and ground costs in ``docs/method.md``):

* ``interval``      -- melodic intervals between consecutive notes, -12..+12 semitones (larger
  leaps fall in the outer bins);
* ``pc_transition`` -- 12 x 12 pitch-class transitions (class of a note -> class of the next);
* ``ioi_transition`` -- transitions between inter-onset-interval classes (IOI = time from a
  note's onset to the next note's, rests included), 10 x 10 classes from a sixteenth to a whole
  note.

A feature of the melody's silences, used by Blend's decoding rule (``fusion/model/tilt.py``), not
by the evaluation's tables:

* ``rest`` -- lengths of the rests *between* notes, 48 classes of 1..48 ticks as DD (a whole note
  or longer in the last class); the time before the first note and after the last is the
  window's edge, not a rest of the melody.

Each :class:`Feature` knows how to compare two histograms: ``positions`` (ordered 1-D bins, the
values of the earth mover's distance), ``period`` (circular bins: pitch classes) or ``cost`` (the
ground distance between 2-D bins, for transitions).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fusion.melody import TICKS_PER_BEAT, Melody

MAX_TICKS = 4 * TICKS_PER_BEAT
MAX_INTERVAL = 12
#: IOI classes in beats: 16th, 16th-triplet x2 (= 8th triplet), 8th, dotted 8th, quarter,
#: dotted quarter, half, dotted half, whole and longer.
IOI_CLASSES = np.array([0.25, 1 / 3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0])


def _circular(period: int) -> np.ndarray:
    """|i - j| around a circle of ``period`` classes (pitch classes: distance in semitones)."""
    i = np.arange(period)
    d = np.abs(i[:, None] - i[None, :])
    return np.minimum(d, period - d).astype(float)


def _grid_cost(axis_cost: np.ndarray) -> np.ndarray:
    """Ground cost between cells (a, b) and (c, d) of a k x k transition grid:
    cost(a, c) + cost(b, d) (an L1 distance on the grid)."""
    k = len(axis_cost)
    return (axis_cost[:, None, :, None] + axis_cost[None, :, None, :]).reshape(k * k, k * k)


@dataclass(frozen=True)
class Feature:
    """A histogram of a melody: ``name``, a label for tables, its bins, and how two of its
    histograms are compared (see module docstring)."""

    name: str
    label: str
    bins: int
    kind: str  # 'note' (Table I), 'sequential' or 'rest' (the decoding rule's only)
    positions: np.ndarray | None = field(default=None, compare=False, repr=False)
    period: float | None = None
    cost: np.ndarray | None = field(default=None, compare=False, repr=False)
    #: for a k x k transition grid whose two axes are ordered bins: the positions of one axis
    #: (the ground cost is then the L1 distance between cells at these positions)
    axis: np.ndarray | None = field(default=None, compare=False, repr=False)
    tick_labels: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def counts(self, melody: Melody) -> np.ndarray:
        """This feature's counts for one melody (a vector of length ``bins``)."""
        return COUNTERS[self.name](melody.to_ticks())

    def matrix(self, melodies) -> np.ndarray:
        """Per-melody counts, one row per melody (shape ``(len(melodies), bins)``)."""
        out = np.zeros((len(melodies), self.bins))
        for i, m in enumerate(melodies):
            out[i] = self.counts(m)
        return out

    def histogram(self, melodies) -> np.ndarray:
        """The normalised histogram of a set of melodies (every counted event once)."""
        total = self.matrix(melodies).sum(axis=0)
        if total.sum() == 0:
            raise ValueError(f"no {self.label} in these {len(melodies)} melodies")
        return total / total.sum()


# counting ---------------------------------------------------------------------------------------
def _npd(ticks) -> np.ndarray:
    return np.bincount([p % 12 for p, _, _ in ticks], minlength=12).astype(float)


def _dd(ticks) -> np.ndarray:
    return np.bincount([min(max(d, 1), MAX_TICKS) - 1 for _, _, d in ticks], minlength=MAX_TICKS).astype(float)


def _rest(ticks) -> np.ndarray:
    gaps = [b[1] - (a[1] + a[2]) for a, b in zip(ticks, ticks[1:])]
    return np.bincount([min(g, MAX_TICKS) - 1 for g in gaps if g > 0], minlength=MAX_TICKS).astype(float)


def _interval(ticks) -> np.ndarray:
    steps = [int(np.clip(b[0] - a[0], -MAX_INTERVAL, MAX_INTERVAL)) + MAX_INTERVAL for a, b in zip(ticks, ticks[1:])]
    return np.bincount(steps, minlength=2 * MAX_INTERVAL + 1).astype(float)


def _pc_transition(ticks) -> np.ndarray:
    cells = [(a[0] % 12) * 12 + b[0] % 12 for a, b in zip(ticks, ticks[1:])]
    return np.bincount(cells, minlength=144).astype(float)


def ioi_class(ioi_ticks: int) -> int:
    """The IOI class nearest to ``ioi_ticks`` on a log scale (0 = sixteenth .. 8 = whole; 9 = longer
    than a whole note)."""
    beats = ioi_ticks / TICKS_PER_BEAT
    if beats > 4.0:
        return len(IOI_CLASSES)
    return int(np.argmin(np.abs(np.log2(IOI_CLASSES) - np.log2(beats))))


_LOG_CLASSES = np.log2(IOI_CLASSES)


def ioi_classes(ioi_ticks) -> np.ndarray:
    """:func:`ioi_class` of many IOIs at once (an integer array; the same classes, ties to the
    shorter class as ``argmin`` breaks them)."""
    beats = np.asarray(ioi_ticks, dtype=float) / TICKS_PER_BEAT
    if beats.size == 0:
        return np.zeros(0, dtype=int)
    nearest = np.argmin(np.abs(_LOG_CLASSES[None, :] - np.log2(np.maximum(beats, 1e-9))[:, None]), axis=1)
    return np.where(beats > 4.0, len(IOI_CLASSES), nearest)


def _ioi_transition(ticks) -> np.ndarray:
    k = len(IOI_CLASSES) + 1
    onsets = np.fromiter((t[1] for t in ticks), dtype=float, count=len(ticks))
    classes = ioi_classes(np.diff(onsets))
    return np.bincount(classes[:-1] * k + classes[1:], minlength=k * k).astype(float)


COUNTERS = {"npd": _npd, "dd": _dd, "rest": _rest, "interval": _interval, "pc_transition": _pc_transition,
            "ioi_transition": _ioi_transition}

_PC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_IOI_POS = np.log2(np.append(IOI_CLASSES, 8.0))  # 'longer than a whole' sits at two whole notes

NPD = Feature("npd", "NPD (pitch classes)", 12, "note", positions=np.arange(12.0), period=12.0,
              tick_labels=_PC_NAMES)
DD = Feature("dd", "DD (note durations)", MAX_TICKS, "note",
             positions=np.arange(1, MAX_TICKS + 1) / TICKS_PER_BEAT,
             tick_labels=tuple(f"{d}/{TICKS_PER_BEAT}" for d in range(1, MAX_TICKS + 1)))
INTERVAL = Feature("interval", "melodic intervals", 2 * MAX_INTERVAL + 1, "sequential",
                   positions=np.arange(-MAX_INTERVAL, MAX_INTERVAL + 1.0),
                   tick_labels=tuple(str(i) for i in range(-MAX_INTERVAL, MAX_INTERVAL + 1)))
PC_TRANSITION = Feature("pc_transition", "pitch-class transitions", 144, "sequential",
                        cost=_grid_cost(_circular(12)))
IOI_TRANSITION = Feature("ioi_transition", "IOI-class transitions", (len(IOI_CLASSES) + 1) ** 2, "sequential",
                         cost=_grid_cost(np.abs(_IOI_POS[:, None] - _IOI_POS[None, :])), axis=_IOI_POS)

REST = Feature("rest", "rest lengths", MAX_TICKS, "rest", positions=DD.positions, tick_labels=DD.tick_labels)

FEATURES = {f.name: f for f in (DD, NPD, INTERVAL, PC_TRANSITION, IOI_TRANSITION, REST)}
NOTE_FEATURES = (DD, NPD)
SEQUENTIAL_FEATURES = (INTERVAL, PC_TRANSITION, IOI_TRANSITION)


def pitch_class_and_duration(melodies) -> tuple[np.ndarray, np.ndarray]:
    """The normalised NPD (12 bins) and DD (48 bins) histograms of a set of melodies."""
    return NPD.histogram(melodies), DD.histogram(melodies)
