"""Keys: reading the datasets' key annotations, key analysis, and transposition to C.

The paper transposed its major-key pieces to C; its authors name that key dependence as a
weakness. FusionGAN transposes *every* piece so that its tonic is C (major pieces to C major,
minor pieces to C minor, ...), using the annotated key:

* WJazzD ``key`` column: ``Bb-maj``, ``C-min``, ``D-chrom``, ``Ab`` (tonic only), empty;
* Humdrum kern ``*X:`` tokens: ``*G:`` is G major, ``*g:`` G minor, ``*b-:`` B-flat minor;
* ABC ``K:`` fields: ``G``, ``Gm``, ``Bb``, ``Ddor``; German ``H`` (= B) and ``Es`` (= E-flat) occur
  in the Essen ABC files.

Where there is no annotation, music21's key analysis (Krumhansl-Schmuckler profiles, weighted by
duration) decides. Where only the tonic is annotated (the Essen ABC files give ``K: G`` for G
minor tunes too), the analysis decides the mode among the keys on that tonic. See docs/method.md.
"""
from __future__ import annotations

import random
import re

from fusion.melody import Melody

#: Pitch-class names, C=0 .. B=11, as used in key names and pitch names.
PITCH_CLASS_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

_STEP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11, "H": 11}

MODE_NAMES = {
    "maj": "major", "major": "major", "ion": "major", "ionian": "major", "": None,
    "min": "minor", "minor": "minor", "m": "minor", "aeo": "minor", "aeolian": "minor",
    "dor": "dorian", "dorian": "dorian", "phr": "phrygian", "phrygian": "phrygian",
    "lyd": "lydian", "lydian": "lydian", "mix": "mixolydian", "mixolydian": "mixolydian",
    "loc": "locrian", "locrian": "locrian", "chrom": "chromatic", "blues": "blues",
}


def pitch_class(name: str) -> int:
    """Pitch class of a note name: ``C``=0, ``F#``=6, ``Bb``/``B-``=10, ``Es``=3, ``H``=11."""
    name = name.strip()
    if not name:
        raise ValueError("empty note name")
    if name.lower() == "es":  # German E-flat
        return 3
    step = name[0].upper()
    if step not in _STEP:
        raise ValueError(f"not a note name: {name!r}")
    pc = _STEP[step]
    rest = name[1:]
    if step != "A" and step != "E" and rest.lower().startswith("es"):  # German Fes, Ges, ...
        return (pc - 1) % 12
    for ch in rest:
        if ch == "#":
            pc += 1
        elif ch in "b-":
            pc -= 1
        elif ch in "n":
            continue
        else:
            raise ValueError(f"not a note name: {name!r}")
    return pc % 12


def parse_wjazzd_key(text: str | None) -> tuple[int | None, str | None]:
    """``'Bb-maj'`` -> ``(10, 'major')``; ``'Ab'`` -> ``(8, None)``; ``''`` -> ``(None, None)``."""
    if not text or not str(text).strip() or str(text) == "nan":
        return None, None
    tonic, _, mode = str(text).strip().partition("-")
    return pitch_class(tonic), MODE_NAMES.get(mode.lower(), mode.lower() or None)


def parse_kern_key(token: str) -> tuple[int, str]:
    """A kern key token: ``*G:`` -> ``(7, 'major')``, ``*b-:`` -> ``(10, 'minor')``."""
    m = re.match(r"^\*([A-Ga-g])([#-]*):(\w*)$", token.strip())
    if not m:
        raise ValueError(f"not a kern key token: {token!r}")
    letter, acc, mode = m.groups()
    tonic = pitch_class(letter.upper() + acc)
    if mode:
        return tonic, MODE_NAMES.get(mode.lower(), mode.lower())
    return tonic, "major" if letter.isupper() else "minor"


def parse_abc_key(value: str) -> tuple[int | None, str | None]:
    """An ABC ``K:`` field: ``G`` -> ``(7, None)`` (mode not given), ``Gm`` -> ``(7, 'minor')``,
    ``Bbmix`` -> ``(10, 'mixolydian')``, ``H`` -> ``(11, None)``, ``Es`` -> ``(3, None)``;
    ``none``/empty -> ``(None, None)``."""
    v = value.strip().split()[0] if value.strip() else ""
    if not v or v.lower() in ("none", "hp"):
        return None, None
    if v.lower() == "es":
        return 3, None
    m = re.match(r"^([A-Ha-h])([#b]?)(.*)$", v)
    if not m:
        return None, None
    letter, acc, mode = m.groups()
    tonic = pitch_class(letter.upper() + acc)
    mode = mode.lower()
    if mode == "":
        return tonic, None
    return tonic, MODE_NAMES.get(mode, MODE_NAMES.get(mode[:3], None))


def analyse_key(melody: Melody, tonic: int | None = None) -> tuple[int, str]:
    """music21's key analysis of the melody (duration-weighted Krumhansl-Schmuckler).

    With ``tonic`` given, choose the best-correlated key *on that tonic* (its mode), which is how
    a tonic-only annotation such as the Essen ABC ``K: G`` is completed.
    """
    from music21 import note as m21note
    from music21 import stream

    s = stream.Stream()
    for n in melody.notes:
        if n.duration > 0:
            s.insert(n.onset, m21note.Note(n.pitch, quarterLength=n.duration))
    if not len(s):
        raise ValueError(f"cannot analyse the key of an empty melody ({melody.source_id})")
    best = s.analyze("key")
    if tonic is None:
        return best.tonic.pitchClass, best.mode
    candidates = [best, *best.alternateInterpretations]
    on_tonic = [k for k in candidates if k.tonic.pitchClass == tonic]
    if not on_tonic:
        return tonic, "major"
    choice = max(on_tonic, key=lambda k: k.correlationCoefficient)
    return tonic, choice.mode


def complete_key(melody: Melody) -> Melody:
    """Fill in a missing tonic or mode with :func:`analyse_key`; mark ``key_source``."""
    if melody.key_tonic is not None and melody.key_mode is not None:
        return melody.replace(key_source=melody.key_source or "annotated")
    if not melody.notes:
        return melody
    tonic, mode = analyse_key(melody, melody.key_tonic)
    source = "analysed" if melody.key_tonic is None else "annotated tonic, analysed mode"
    return melody.replace(key_tonic=tonic, key_mode=mode, key_source=source)


def shift_to_c(tonic: int) -> int:
    """Semitones that move ``tonic`` to C by the smaller step: in ``-6 .. +5``
    (G -> +5, F -> -5, F# -> -6), so pitches stay near their register."""
    return (-tonic + 6) % 12 - 6


def to_c(melody: Melody) -> Melody:
    """Transpose so that the key tonic is C (pitch class 0)."""
    if melody.key_tonic is None:
        raise ValueError(f"{melody.source_id}: no key tonic; call complete_key first")
    return melody.transpose(shift_to_c(melody.key_tonic))


def random_transposition(melody: Melody, rng: random.Random, low: int = -5, high: int = 6) -> Melody:
    """Augmentation for key-invariant training: transpose by a uniform random number of
    semitones in ``[low, high]`` (defaults cover all 12 keys around C)."""
    if low > high:
        raise ValueError(f"empty transposition range [{low}, {high}]")
    return melody.transpose(rng.randint(low, high))
