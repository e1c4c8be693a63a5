"""A reversible token encoding of melodies on the 12-ticks-per-beat grid.

A melody becomes a sequence of *events*, each an onset token followed by one or more duration
tokens whose lengths add up:

    PITCH_p  DUR_d [DUR_d ...]     a note of MIDI pitch p lasting the sum of the d's (ticks)
    REST     DUR_d [DUR_d ...]     silence

With 12 ticks per quarter note, DUR_3 is a sixteenth, DUR_4 an eighth-note triplet, DUR_6 an
eighth, DUR_12 a quarter; the largest single duration token (``max_duration_ticks``, default 48 =
a whole note) is repeated for longer values, so *every* grid duration is representable and
``decode(encode(m)) == m.quantize()`` exactly. Specials: PAD (0), BOS, EOS.

Decoding never fails on a well-formed id sequence, whatever a model sampled: duration tokens
with no event before them extend a rest, an event with no duration is dropped, EOS ends the
melody, PAD and BOS are skipped.

The vocabulary is a small JSON object (:meth:`Vocabulary.to_dict`) stored with every checkpoint.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fusion.melody import TICKS_PER_BEAT, Melody, Note

PAD, BOS, EOS, REST = "PAD", "BOS", "EOS", "REST"


@dataclass(frozen=True)
class Vocabulary:
    """Token <-> id mapping: specials, REST, one PITCH token per MIDI pitch in
    ``[min_pitch, max_pitch]``, one DUR token per tick count ``1 .. max_duration_ticks``."""

    ticks_per_beat: int = TICKS_PER_BEAT
    max_duration_ticks: int = 4 * TICKS_PER_BEAT
    min_pitch: int = 0
    max_pitch: int = 127

    def __post_init__(self):
        if not (0 <= self.min_pitch <= self.max_pitch <= 127):
            raise ValueError(f"bad pitch range {self.min_pitch}..{self.max_pitch}")
        if self.ticks_per_beat < 1 or self.max_duration_ticks < 1:
            raise ValueError("ticks_per_beat and max_duration_ticks must be positive")

    # ids ---------------------------------------------------------------------------------------
    @property
    def tokens(self) -> list[str]:
        return ([PAD, BOS, EOS, REST]
                + [f"PITCH_{p}" for p in range(self.min_pitch, self.max_pitch + 1)]
                + [f"DUR_{d}" for d in range(1, self.max_duration_ticks + 1)])

    def __len__(self) -> int:
        return 4 + (self.max_pitch - self.min_pitch + 1) + self.max_duration_ticks

    pad_id, bos_id, eos_id, rest_id = 0, 1, 2, 3

    @property
    def first_duration_id(self) -> int:
        return 4 + self.max_pitch - self.min_pitch + 1

    def pitch_id(self, pitch: int) -> int:
        if not self.min_pitch <= pitch <= self.max_pitch:
            raise ValueError(f"pitch {pitch} outside the vocabulary's range "
                             f"{self.min_pitch}..{self.max_pitch}")
        return 4 + pitch - self.min_pitch

    def duration_id(self, ticks: int) -> int:
        if not 1 <= ticks <= self.max_duration_ticks:
            raise ValueError(f"duration {ticks} ticks outside 1..{self.max_duration_ticks}")
        return self.first_duration_id + ticks - 1

    def is_pitch(self, i: int) -> bool:
        return 4 <= i < self.first_duration_id

    def is_duration(self, i: int) -> bool:
        return self.first_duration_id <= i < len(self)

    # encoding ----------------------------------------------------------------------------------
    def _durations(self, ticks: int) -> list[int]:
        full, rest = divmod(ticks, self.max_duration_ticks)
        return [self.duration_id(self.max_duration_ticks)] * full + ([self.duration_id(rest)] if rest else [])

    def encode(self, melody: Melody, total_beats: float | None = None, bos_eos: bool = False) -> list[int]:
        """Token ids of ``melody`` quantized to the grid. With ``total_beats``, a final rest pads
        the sequence to exactly that length (training windows all span the same time)."""
        ids = [self.bos_id] if bos_eos else []
        t = 0
        for pitch, onset, dur in melody.to_ticks(self.ticks_per_beat):
            if onset > t:
                ids += [self.rest_id, *self._durations(onset - t)]
            ids += [self.pitch_id(pitch), *self._durations(dur)]
            t = onset + dur
        if total_beats is not None:
            end = round(total_beats * self.ticks_per_beat)
            if end > t:
                ids += [self.rest_id, *self._durations(end - t)]
        if bos_eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids, **meta) -> Melody:
        """The melody of a token id sequence (see module docstring for how odd sequences read)."""
        notes: list[Note] = []
        t = 0
        event: int | None = None  # pitch, or -1 for a rest
        dur = 0

        def flush():
            nonlocal t, event, dur
            if event is not None and dur > 0 and event >= 0:
                notes.append(Note(event, t / self.ticks_per_beat, dur / self.ticks_per_beat))
            if event is not None or dur > 0:
                t += dur
            event, dur = None, 0

        n = len(self)
        for i in ids:
            i = int(i)
            if not 0 <= i < n:
                raise ValueError(f"token id {i} outside the vocabulary (size {n})")
            if i == self.eos_id:
                break
            if i in (self.pad_id, self.bos_id):
                continue
            if self.is_duration(i):
                if event is None:
                    event = -1
                dur += i - self.first_duration_id + 1
            else:
                flush()
                event = -1 if i == self.rest_id else i - 4 + self.min_pitch
        flush()
        meta.setdefault("length", t / self.ticks_per_beat)  # the time the tokens fill, final rest included
        return Melody(notes=tuple(notes), **meta)

    def describe(self, ids) -> list[str]:
        """Human-readable token names, for debugging and docs."""
        names = self.tokens
        return [names[int(i)] for i in ids]

    # storage -----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": "fusiongan-tokens-v1", "ticks_per_beat": self.ticks_per_beat,
                "max_duration_ticks": self.max_duration_ticks, "min_pitch": self.min_pitch,
                "max_pitch": self.max_pitch, "tokens": self.tokens}

    @classmethod
    def from_dict(cls, d: dict) -> "Vocabulary":
        if d.get("format") != "fusiongan-tokens-v1":
            raise ValueError(f"unknown vocabulary format {d.get('format')!r}")
        vocab = cls(d["ticks_per_beat"], d["max_duration_ticks"], d["min_pitch"], d["max_pitch"])
        if "tokens" in d and d["tokens"] != vocab.tokens:
            raise ValueError("stored token list does not match the vocabulary's parameters")
        return vocab

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        return cls.from_dict(json.loads(Path(path).read_text()))
