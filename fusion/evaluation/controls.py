"""Fusions made of real music, no model: the positive controls (``docs/method.md``, "The listening
test", "Positive controls").

Real jazz and real folk show what pure music earns; these two show what a fusion made of people's
own lines earns, by the two kinds of mixture the evaluation counts:

* **real medley** (a mixture in time): the first half of a real excerpt of one genre, then the
  second half of a real excerpt of the other, each half at the middle of its excerpt's length
  (bars 1-2 and 3-4 of two 4-bar windows), each with two notes at least;
* **real hybrid** (a mixture in aspect): the onsets, durations and rests of a real excerpt of one
  genre carrying the pitches of a real tune of the other, its first N notes in order from a bar
  line of its piece (:func:`fusion.model.hybrid.join`, Hybrid's own join: the control differs from
  the Hybrid system only in who wrote the two lines). The tune runs on in its piece past an
  excerpt's length, as Hybrid's tune is four times as long, so that a busy rhythm does not favour
  busy tunes.

Row i of a draw with seed s goes one way round, as Hybrid's rows do
(:func:`fusion.model.hybrid.way_of`): jazz first (medley) or jazz rhythm under a folk tune (hybrid)
when i + s is even, the reverse when it is odd. The melodies record ``extra["control"]``,
``extra["way"]`` (the genres in order: first half / rhythm, then second half / tune) and
``extra["sources"]`` (the source ids used).
"""
from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from fusion.melody import Melody
from fusion.model.hybrid import join, way_of

#: the kinds of control this module makes, and the genre controls beside them
KINDS = ("medley", "hybrid")
GENRES = ("jazz", "folk")


class ControlError(ValueError):
    """No control can be made from the music given (too few pieces, or none with enough notes)."""


def order(row: int, seed: int) -> tuple[str, str]:
    """The genres of row ``row`` of a draw with ``seed``, in order: (first half, second half) of a
    medley, (rhythm, tune) of a hybrid."""
    return GENRES if way_of(row, seed) == 0 else GENRES[::-1]


def medley(first: Melody, second: Melody) -> Melody:
    """``first``'s first half, then ``second``'s second half, each half at the middle of its
    excerpt's length (:attr:`Melody.span`), in 4/4: a mixture in time of two real excerpts.

    Raises
    ------
    ControlError
        A half with fewer than two notes (it would not show its genre).
    """
    m1, m2 = first.span / 2, second.span / 2
    a, b = first.window(0.0, m1), second.window(m2, second.span - m2)
    if len(a.notes) < 2 or len(b.notes) < 2:
        raise ControlError("each half of a medley needs two notes at least")
    notes = a.notes + tuple(n._replace(onset=n.onset + m1) for n in b.notes)
    genres = (first.genre or "?", second.genre or "?")
    return first.replace(notes=notes, meter=(4, 4), genre=None, length=m1 + second.span - m2,
                         source_id=f"{first.source_id} + {second.source_id}",
                         title=f"real medley: {_name(first)} ({genres[0]}), then {_name(second)} ({genres[1]})",
                         extra={"control": "medley", "way": genres, "sources": (first.source_id, second.source_id)})


def tune(pieces: Sequence[Melody], notes: int, rng: random.Random, tries: int = 1000) -> Melody:
    """A real tune of at least ``notes`` notes: a piece drawn from ``pieces`` from one of its bar
    lines (drawn) to its end; a start with fewer notes after it is drawn again.

    Raises
    ------
    ControlError
        After ``tries`` draws without one (e.g. no piece is that long).
    """
    pieces = [p for p in pieces if len(p.notes) >= notes]
    if not pieces:
        raise ControlError(f"no real tune has {notes} notes")
    for _ in range(tries):
        piece = rng.choice(pieces)
        bar = piece.bar_beats
        starts = [k * bar for k in range(int(piece.notes[-1].onset // bar) + 1)]
        start = rng.choice(starts)
        t = piece.window(start, piece.duration - start + bar)
        if len(t.notes) >= notes:
            return t
    raise ControlError(f"no real tune of {notes} notes found in {tries} draws")


def hybrid(rhythm: Melody, melody_tune: Melody) -> Melody:
    """``rhythm``'s notes (onsets, durations, rests) carrying ``melody_tune``'s first pitches in
    order: a mixture in aspect of two real lines (:func:`fusion.model.hybrid.join`)."""
    if not rhythm.notes:
        raise ControlError("a hybrid needs a rhythm with notes")
    genres = (rhythm.genre or "?", melody_tune.genre or "?")
    return join(rhythm, melody_tune).replace(
        meter=(4, 4), genre=None, source_id=f"{rhythm.source_id} + {melody_tune.source_id}",
        title=f"real hybrid: {_name(melody_tune)} ({genres[1]} tune) on {_name(rhythm)} ({genres[0]} rhythm)",
        extra={"control": "hybrid", "way": genres, "rhythm": genres[0],
               "sources": (rhythm.source_id, melody_tune.source_id)})


def draw(kind: str, windows: dict[str, Sequence[Melody]] | Callable[[str, random.Random], Melody],
         pieces: dict[str, Sequence[Melody]], n: int, seed: int, tries: int = 1000) -> list[Melody]:
    """``n`` controls of ``kind``, reproducible from ``seed``: their excerpts (halves and rhythms)
    drawn from ``windows`` (per genre: a list to choose from, or a function ``(genre, rng)`` that
    cuts one, as the demo does), hybrids' tunes from ``pieces`` (per genre). A draw that cannot make
    its control (a half too sparse, no tune long enough) is made again from a new first excerpt.

    Raises
    ------
    ValueError
        An unknown ``kind``.
    ControlError
        A genre without excerpts, or no control made in ``tries`` draws.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown control {kind!r}; choose one of {', '.join(KINDS)}")
    if not callable(windows):
        for g in GENRES:
            if not windows.get(g):
                raise ControlError(f"no real {g} excerpts to make a {kind} of")
        lists = windows
        windows = lambda genre, r: r.choice(lists[genre])  # noqa: E731
    rng = random.Random(f"{kind}:{seed}")  # each kind its own stream: a medley and a hybrid of one row share no draw
    out = []
    for i in range(n):
        a, b = order(i, seed)
        for _ in range(tries):
            first = windows(a, rng)
            try:
                out.append(medley(first, windows(b, rng)) if kind == "medley"
                           else hybrid(first, tune(pieces[b], len(first.notes), rng)))
                break
            except ControlError:  # a half too sparse, or no tune that long: another draw
                continue
        else:
            raise ControlError(f"no real {kind} made in {tries} draws")
    return out


def _name(m: Melody) -> str:
    """The excerpt's title without a trailing "(real jazz)" / "(real folk)" (the control names the genres)."""
    return re.sub(r" \(real (jazz|folk)\)$", "", m.title or m.source_id or "an excerpt")
