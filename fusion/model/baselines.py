"""The paper's two non-neural baselines: RM (random mixing) and MC (Monte Carlo).

Both draw each event (a pitch or a rest) and its duration independently:

* RM: uniformly over the event values and the duration values seen in X_A + X_B;
* MC: from their frequencies, p(v) = (p_A(v) + p_B(v)) / 2, where p_A and p_B are the relative
  frequencies in the jazz and the folk training windows. Each genre weighs half, as in every
  other FusionGAN system trained on A + B (``docs/method.md``), although the folk corpus holds
  more notes.

Events are the notes of the training windows and the rests between them (the padding rest at a
window's end is not an event). Durations are in ticks (12 per beat); the last event of a melody
is cut where the requested length ends. As for the neural systems (:mod:`fusion.model.grammar`), a
melody holds at least one note: before the first note a rest leaves a tick free, and with one
tick left a note is drawn from the pitch distribution alone. They follow the same phrase rule
(:class:`fusion.model.grammar.Phrase`): a rest never follows a rest, lasts at most ``max_rest``
ticks, and a rest that would end the melody lasts at most ``max_final_rest``; where a drawn rest
breaks the rule, a pitch is drawn instead. A :class:`NoteDistribution` is stored as JSON.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from fusion.melody import TICKS_PER_BEAT, Melody, Note
from fusion.model.grammar import PHRASE, Phrase

REST = -1


def events_of(melody: Melody) -> list[tuple[int, int]]:
    """``(pitch or REST, ticks)`` for the notes and the rests between them."""
    out, t = [], None
    for pitch, onset, dur in melody.to_ticks():
        if t is not None and onset > t:
            out.append((REST, onset - t))
        out.append((pitch, dur))
        t = onset + dur
    return out


def _frequencies(counts: Counter) -> dict[int, float]:
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()}


@dataclass(frozen=True)
class NoteDistribution:
    kind: str  # "rm" or "mc"
    events: dict[int, float]  # pitch (or -1 for a rest) -> probability
    durations: dict[int, float]  # ticks -> probability

    @classmethod
    def fit(cls, kind: str, *domains: list[Melody]) -> "NoteDistribution":
        """Fit from the training windows of each domain (each domain weighs equally)."""
        if kind not in ("rm", "mc"):
            raise ValueError(f"kind must be 'rm' or 'mc', got {kind!r}")
        ev: dict[int, float] = Counter()
        du: dict[int, float] = Counter()
        for windows in domains:
            e, d = Counter(), Counter()
            for w in windows:
                for pitch, ticks in events_of(w):
                    e[pitch] += 1
                    d[ticks] += 1
            for k, v in _frequencies(e).items():
                ev[k] += v / len(domains)
            for k, v in _frequencies(d).items():
                du[k] += v / len(domains)
        if kind == "rm":
            ev = {k: 1 / len(ev) for k in ev}
            du = {k: 1 / len(du) for k in du}
        return cls(kind, dict(sorted(ev.items())), dict(sorted(du.items())))

    def sample(self, n: int, ticks: int, seed: int = 0, primer: Melody | None = None,
               phrase: Phrase | None = PHRASE) -> list[Melody]:
        """``n`` melodies of ``ticks`` new ticks (after the primer's time, ``primer.span``, if
        given), with rests limited by ``phrase`` (None: unlimited)."""
        rng = random.Random(seed)
        ev, ew = list(self.events), list(self.events.values())
        pv = [e for e in ev if e != REST]
        pw = [self.events[e] for e in pv]
        du, dw = list(self.durations), list(self.durations.values())
        out = []
        for _ in range(n):
            notes = list(primer.quantize().notes) if primer is not None else []
            start = round(primer.span * TICKS_PER_BEAT) if primer is not None else 0
            t, end = start, start + ticks
            sounded, after_rest = False, False
            while t < end:
                pitch = rng.choices(ev, ew)[0] if sounded or end - t >= 2 else rng.choices(pv, pw)[0]
                d = min(rng.choices(du, dw)[0], end - t - (pitch == REST and not sounded))
                if pitch == REST and phrase is not None:
                    d = min(d, phrase.max_rest)
                    if after_rest or (t + d >= end and d > phrase.max_final_rest):
                        pitch = rng.choices(pv, pw)[0]
                        d = min(rng.choices(du, dw)[0], end - t)
                if pitch != REST:
                    notes.append(Note(pitch, t / TICKS_PER_BEAT, d / TICKS_PER_BEAT))
                    sounded = True
                after_rest = pitch == REST
                t += d
            out.append(Melody(notes=tuple(notes), genre=self.kind, meter=(4, 4), length=end / TICKS_PER_BEAT))
        return out

    def to_dict(self) -> dict:
        return {"format": "fusiongan-notes-v1", "kind": self.kind,
                "events": {str(k): v for k, v in self.events.items()},
                "durations": {str(k): v for k, v in self.durations.items()}}

    @classmethod
    def from_dict(cls, d: dict) -> "NoteDistribution":
        if d.get("format") != "fusiongan-notes-v1":
            raise ValueError(f"unknown distribution format {d.get('format')!r}")
        return cls(d["kind"], {int(k): float(v) for k, v in d["events"].items()},
                   {int(k): float(v) for k, v in d["durations"].items()})

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "NoteDistribution":
        return cls.from_dict(json.loads(Path(path).read_text()))
