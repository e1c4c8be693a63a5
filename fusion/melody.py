"""The one type that flows through FusionGAN: a single-voice melody.

A :class:`Melody` is a sequence of :class:`Note` s (MIDI pitch, onset and duration measured in
beats, where one beat is a quarter note) plus the metadata that the pipeline needs: the genre it
came from, where exactly it came from (``source_id``), its annotated key (tonic pitch class and
mode), its meter and tempo.

Conventions
-----------
* Time is in quarter notes ("beats"), whatever the meter's denominator.
* Onset 0 is a downbeat: bars start at multiples of :attr:`Melody.bar_beats`. A pickup is placed
  at the end of a (mostly empty) bar 0, so bar lines of the score and of the melody coincide.
* Notes are in time order and never overlap (one voice); a rest is the gap between two notes.
* ``key_tonic`` is a pitch class (C=0 .. B=11); after :func:`fusion.data.keys.to_c` it is 0.
* ``length`` is the time the melody was made to fill (a generated melody of N bars: N bars, its
  final rest included); :attr:`Melody.span` is that or, when it is not set, the end of the last
  note. MIDI files and audio last the span, so a melody of N bars sounds N bars long.

The grid (:data:`TICKS_PER_BEAT` = 12 ticks per quarter note) represents sixteenth notes
(3 ticks), eighth-note triplets (4 ticks) and sixteenth-note triplets (2 ticks), which jazz needs.
"""
from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple

#: Grid resolution: 12 ticks per quarter note = lcm(4 sixteenths, 3 triplet eighths).
TICKS_PER_BEAT = 12
#: how far (in beats) one note may run into the next and still count as ending where it starts,
#: for ``from_notes(tolerance=...)``: a note of a third of a beat from 7/3 ends at 2.666...67 in
#: floating point, the next starts at 8/3 = 2.666...65, and a strict skyline reads that as an
#: overlap and drops the lower note (a MIDI file's notes, read back in beats, lost notes so)
OVERLAP_TOLERANCE = 1e-9

GENRES = ("jazz", "folk")


class Note(NamedTuple):
    """One note: MIDI pitch (60 = middle C), onset and duration in beats (quarter notes)."""

    pitch: int
    onset: float
    duration: float

    @property
    def end(self) -> float:
        """End of the note in beats (quarter notes): ``onset + duration``."""
        return self.onset + self.duration


@dataclass(frozen=True)
class Melody:
    """A single-voice melody with its metadata (see module docstring for conventions)."""

    notes: tuple[Note, ...]
    genre: str | None = None
    source_id: str = ""
    title: str = ""
    key_tonic: int | None = None
    key_mode: str | None = None  # 'major', 'minor', 'dorian', 'chromatic', ... or None
    key_source: str | None = None  # 'annotated', 'analysed' (music21) or None
    meter: tuple[int, int] | None = (4, 4)  # (numerator, denominator); None = irregular
    tempo: float = 120.0  # beats (quarter notes) per minute
    transposition: int = 0  # semitones applied to the source to reach these pitches
    # beats the melody fills, its final rest included (None: until the last note ends); not part of
    # equality, so a decoded melody equals the quantized original it was encoded from
    length: float | None = field(default=None, compare=False)
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    # ----------------------------------------------------------------------------------------
    @property
    def bar_beats(self) -> float:
        """Length of one bar in quarter notes (4/4 -> 4, 6/8 -> 3); 4 for irregular meter."""
        if not self.meter:
            return 4.0
        num, den = self.meter
        return num * 4.0 / den

    @property
    def duration(self) -> float:
        """End of the last note in beats (0 for an empty melody)."""
        return self.notes[-1].end if self.notes else 0.0

    @property
    def span(self) -> float:
        """Beats from the start to the end of the melody: ``length`` (N bars for a melody generated
        to fill N bars, its final rest included) when set, never shorter than the last note's end."""
        return max(self.length or 0.0, self.duration)

    @property
    def pitches(self) -> list[int]:
        """The MIDI pitches of the notes, in time order."""
        return [n.pitch for n in self.notes]

    def __len__(self) -> int:
        return len(self.notes)

    def replace(self, **changes) -> "Melody":
        """A copy with some fields changed (``dataclasses.replace``).

        Parameters
        ----------
        **changes
            New values of :class:`Melody` fields by name (``notes``, ``genre``, ``tempo``, ...).

        Returns
        -------
        Melody
            A new melody; ``self`` is unchanged (melodies are frozen).

        Raises
        ------
        TypeError
            For a name that is not a field of :class:`Melody`.
        """
        return dataclasses.replace(self, **changes)

    # ----------------------------------------------------------------------------------------
    def transpose(self, semitones: int) -> "Melody":
        """Shift every pitch (and the key tonic) by ``semitones``.

        Parameters
        ----------
        semitones : int
            The interval in semitones (positive: up). Pitches are not checked against the MIDI
            range 0-127.

        Returns
        -------
        Melody
            The transposed melody: ``key_tonic`` moves by the same interval (modulo 12) and
            ``transposition`` adds ``semitones``. With ``semitones == 0`` it is ``self``.
        """
        if semitones == 0:
            return self
        notes = tuple(Note(n.pitch + semitones, n.onset, n.duration) for n in self.notes)
        tonic = None if self.key_tonic is None else (self.key_tonic + semitones) % 12
        return self.replace(notes=notes, key_tonic=tonic, transposition=self.transposition + semitones)

    def quantize(self, ticks_per_beat: int = TICKS_PER_BEAT) -> "Melody":
        """Snap onsets and ends to the grid, keeping one voice.

        Each onset is rounded to the nearest tick. Notes that would land on the tick of the note
        before them are moved one tick later (a fast quintuplet run keeps all its notes); a note
        lasts at least one tick and is cut where the next note starts. Durations are measured to
        the rounded end, so a note ending on a grid line keeps its exact length.

        Parameters
        ----------
        ticks_per_beat : int, optional
            Grid resolution in ticks per beat (quarter note); default :data:`TICKS_PER_BEAT` = 12.

        Returns
        -------
        Melody
            The same melody with onsets and durations on the grid, still in beats; every note
            is kept (see :meth:`to_ticks`).
        """
        ticks = self.to_ticks(ticks_per_beat)
        notes = tuple(Note(p, on / ticks_per_beat, d / ticks_per_beat) for p, on, d in ticks)
        return self.replace(notes=notes)

    def to_ticks(self, ticks_per_beat: int = TICKS_PER_BEAT) -> list[tuple[int, int, int]]:
        """The quantized notes as integer ``(pitch, onset_tick, duration_ticks)`` triples.

        The rounding rules are those of :meth:`quantize`.

        Parameters
        ----------
        ticks_per_beat : int, optional
            Grid resolution in ticks per beat (quarter note); default :data:`TICKS_PER_BEAT` = 12.

        Returns
        -------
        list of tuple of (int, int, int)
            Per note, in time order: MIDI pitch, onset in ticks from beat 0 and duration in
            ticks (at least 1); notes never overlap.
        """
        out: list[list[int]] = []
        for n in self.notes:
            on = round(n.onset * ticks_per_beat)
            end = round(n.end * ticks_per_beat)
            if out and on <= out[-1][1]:
                on = out[-1][1] + 1
            if out:
                prev = out[-1]
                prev[2] = max(1, min(prev[2], on - prev[1]))
            out.append([n.pitch, on, max(1, end - on)])
        return [tuple(t) for t in out]  # type: ignore[misc]

    def window(self, start: float, length: float) -> "Melody":
        """The notes that start in ``[start, start + length)``, shifted to begin at 0 and cut at
        the window's end. Used to cut training windows of whole bars.

        Parameters
        ----------
        start : float
            Start of the window in beats (quarter notes) from the melody's beat 0.
        length : float
            Length of the window in beats.

        Returns
        -------
        Melody
            The window, with the melody's metadata; onsets are relative to ``start`` and
            ``extra["window_start"]`` records ``start`` (beats). A leading rest is kept as a gap
            before the first note; the duration is not padded to ``length``.
        """
        stop = start + length
        onset = lambda n: n.onset  # noqa: E731 - notes are sorted by onset: binary search
        lo = bisect.bisect_left(self.notes, start, key=onset)
        hi = bisect.bisect_left(self.notes, stop, key=onset)
        notes = tuple(Note(n.pitch, n.onset - start, min(n.end, stop) - n.onset)
                      for n in self.notes[lo:hi])
        return self.replace(notes=notes, length=length, extra={**self.extra, "window_start": start})

    @classmethod
    def from_notes(cls, notes, tolerance: float = 0.0, **meta) -> "Melody":
        """Build a melody from ``(pitch, onset, duration)`` triples in any order, keeping one
        voice, the highest sounding note (the "skyline"): sorted by onset, the highest pitch
        wins at a shared onset; a lower note that starts while a higher one sounds is dropped; a
        higher note cuts the one sounding before it.

        Parameters
        ----------
        notes : iterable of (int, float, float)
            MIDI pitch, onset in beats (quarter notes) and duration in beats. Notes with a
            duration of zero or less are dropped.
        tolerance : float, optional
            Onsets this close (in beats) count as one, and a note that runs no further than this
            into the next is cut there, not read as sounding under it (:data:`OVERLAP_TOLERANCE`
            for notes whose times are sums of floats; default 0, exact, as the corpora were parsed).
        **meta
            Other :class:`Melody` fields (``genre``, ``source_id``, ``title``, ``meter``,
            ``tempo``, ...).

        Returns
        -------
        Melody
            One voice in time order; its notes do not overlap and are not quantized.
        """
        ordered = sorted(((int(p), float(o), float(d)) for p, o, d in notes), key=lambda t: (t[1], -t[0]))
        kept: list[Note] = []
        for p, o, d in ordered:
            if d <= 0:
                continue
            if kept and abs(o - kept[-1].onset) <= tolerance:
                continue  # a lower note at the same onset
            if kept and kept[-1].end > o:
                last = kept[-1]
                if p < last.pitch and last.end > o + tolerance:
                    continue  # a lower note that starts while a higher one sounds
                kept[-1] = Note(last.pitch, last.onset, o - last.onset)
            kept.append(Note(p, o, d))
        return cls(notes=tuple(kept), **meta)
