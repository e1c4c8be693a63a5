"""The two training corpora, X_A (jazz) and X_B (folk): parsed, key-normalised, filtered, split
and cut into token windows.

Pipeline for one genre (each step a small function below):

1. :func:`parsed` -- every piece of the source as a :class:`Melody` with its key completed
   (cached on disk: parsing the Essen tunes takes minutes, a cached load about a second);
2. :func:`normalised` -- transposed so that the tonic is C (all pieces, all modes) and
   quantized to the 12-ticks-per-beat grid, so windows and tokens are exact;
3. :func:`kept` -- filters: pieces with notes; the mode filter (``major`` as in the paper, or
   ``all``);
4. :func:`split_of` -- train / val / test *by piece*, from a hash of the seed and the piece's id,
   so that no window of a test piece is ever seen in training and the split is the same on every
   machine and run;
5. :func:`windows` -- training windows of ``window_beats`` (default 16 = four bars of 4/4) that
   start on bar lines, every ``hop_beats`` (rounded to whole bars of the piece's meter). With
   ``whole_windows`` only windows that end by the piece's end: a window that runs past it is
   padded with a final rest the piece never played (``Vocabulary.encode``), and a generator,
   which reads no position, learns to write that rest mid-melody (``docs/method.md``, "Long
   silences").
"""
from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from fusion.data import cache, folk, jazz, keys
from fusion.melody import Melody
from fusion.data.tokens import Vocabulary

MODE_FILTERS = ("major", "all")
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Settings:
    """Everything that decides which windows a corpus yields."""

    modes: str = "major"  # 'major' (the paper) or 'all'
    jazz_source: str = "auto"  # 'csv', 'sqlite' or 'auto'
    folk_source: str = "auto"  # 'kern', 'abc' or 'auto'
    window_beats: float = 16.0  # >= four bars of 4/4 (the paper used 4.5 beats)
    hop_beats: float = 8.0
    min_notes: int = 4  # a window with fewer notes is skipped
    # only windows that end by the piece's end (its last note's end, rounded up to a bar line);
    # a piece shorter than one window still gives its first window
    whole_windows: bool = False
    split_seed: int = 0
    val_fraction: float = 0.1
    test_fraction: float = 0.1

    def __post_init__(self):
        if self.modes not in MODE_FILTERS:
            raise ValueError(f"modes must be one of {MODE_FILTERS}, not {self.modes!r}")
        if self.window_beats < 16:
            raise ValueError("window_beats must be at least 16 (four bars of 4/4)")
        if self.hop_beats <= 0:
            raise ValueError("hop_beats must be positive")
        if not (0 <= self.val_fraction and 0 <= self.test_fraction
                and self.val_fraction + self.test_fraction < 1):
            raise ValueError("val_fraction + test_fraction must be in [0, 1)")


# 1. parsing (cached) -------------------------------------------------------------------------
def source_of(genre: str, settings: Settings) -> str:
    if genre == "jazz":
        return jazz.resolve_source(settings.jazz_source)
    if genre == "folk":
        return folk.resolve_source(settings.folk_source)
    raise ValueError(f"unknown genre {genre!r} (jazz or folk)")


def _parse(genre: str, source: str) -> tuple[list[Melody], list[str]]:
    if genre == "jazz":
        return [keys.complete_key(m) for m in jazz.load(source)], []
    return folk.load(source)


@lru_cache(maxsize=8)
def parsed(genre: str, source: str) -> tuple[tuple[Melody, ...], tuple[str, ...]]:
    """All pieces of a genre's source with completed keys, and the pieces that could not be
    read (as messages). Cached on disk and in memory."""
    files = jazz.source_files(source) if genre == "jazz" else folk.source_files(source)
    melodies, errors = cache.cached(f"{genre}-{source}", files, lambda: _parse(genre, source),
                                    genre=genre, source=source)
    return tuple(melodies), tuple(errors)


# 2.-4. normalise, filter, split ---------------------------------------------------------------
def normalised(melodies) -> list[Melody]:
    """Every piece transposed so its tonic is C (:func:`fusion.data.keys.to_c`) and quantized to the
    grid (:meth:`fusion.melody.Melody.quantize`); a piece without a
    key (only an empty one) is left as it is and dropped by the 'with notes' filter."""
    return [(keys.to_c(m) if m.key_tonic is not None else m).quantize() for m in melodies]


def filters(settings: Settings) -> list[tuple[str, callable]]:
    """The filters in order, as (name, predicate)."""
    out = [("with notes", lambda m: len(m.notes) > 0)]
    if settings.modes == "major":
        out.append(("major key", lambda m: m.key_mode == "major"))
    return out


def kept(melodies, settings: Settings) -> tuple[list[Melody], dict[str, int]]:
    """The pieces that pass every filter, and how many remain after each."""
    counts = {}
    current = list(melodies)
    for name, pred in filters(settings):
        current = [m for m in current if pred(m)]
        counts[name] = len(current)
    return current, counts


def split_of(source_id: str, settings: Settings) -> str:
    """'train', 'val' or 'test' for a piece, from SHA-256(seed, id): stable and by piece."""
    digest = hashlib.sha256(f"{settings.split_seed}:{source_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < settings.test_fraction:
        return "test"
    if u < settings.test_fraction + settings.val_fraction:
        return "val"
    return "train"


# 5. windows -----------------------------------------------------------------------------------
def window_starts(melody: Melody, settings: Settings) -> list[float]:
    """Bar-line starts of the windows: every ``hop`` bars of the piece's own meter, where
    ``hop`` is ``hop_beats`` rounded to whole bars (at least one); with ``whole_windows``, only
    those whose window ends by the piece's end (the first one at least)."""
    bar = melody.bar_beats
    hop_bars = max(1, round(settings.hop_beats / bar))
    starts, s = [], 0.0
    last_onset = melody.notes[-1].onset if melody.notes else -1.0
    while s <= last_onset:
        starts.append(s)
        s += hop_bars * bar
    if settings.whole_windows and starts:
        last = melody.notes[-1]
        end = -(-(last.onset + last.duration) // bar) * bar  # rounded up to the bar line
        starts = [x for x in starts if x + settings.window_beats <= end + 1e-9] or starts[:1]
    return starts


def windows(melody: Melody, settings: Settings) -> list[Melody]:
    """The piece's training windows (each ``window_beats`` long, at least ``min_notes`` notes)."""
    out = []
    for s in window_starts(melody, settings):
        w = melody.window(s, settings.window_beats)
        if len(w.notes) >= settings.min_notes:
            out.append(w)
    return out


@dataclass
class Corpus:
    """One genre's kept pieces by split, with settings and the counts behind them."""

    genre: str
    source: str
    settings: Settings
    pieces: dict[str, list[Melody]]  # split -> pieces
    errors: tuple[str, ...]
    filter_counts: dict[str, int]
    all_pieces: tuple[Melody, ...]  # every piece read, before normalisation
    _windows: dict[str, list[Melody]] = field(default_factory=dict, repr=False)

    @property
    def read(self) -> int:
        """Number of pieces read from the source (before filtering)."""
        return len(self.all_pieces)

    @property
    def notes(self) -> int:
        """Number of notes in all pieces read (before filtering)."""
        return sum(len(m) for m in self.all_pieces)

    def windows(self, split: str) -> list[Melody]:
        """The split's training windows (computed once).

        Parameters
        ----------
        split : {"train", "val", "test"}
            Which split.

        Returns
        -------
        list of Melody
            Windows of ``settings.window_beats`` beats starting on bar lines (see the module
            function :func:`windows`), piece by piece; the list is cached, do not change it.

        Raises
        ------
        KeyError
            For an unknown split.
        """
        if split not in self._windows:
            self._windows[split] = [w for m in self.pieces[split] for w in windows(m, self.settings)]
        return self._windows[split]

    def sequences(self, split: str, vocab: Vocabulary, augment: tuple[int, int] | None = None,
                  rng: random.Random | None = None) -> list[list[int]]:
        """Token id sequences of the split's windows, each spanning exactly ``window_beats``.
        ``augment=(low, high)`` transposes each window by a random number of semitones in that
        range (key-invariant training); pitches leaving the vocabulary's range are not shifted.

        Parameters
        ----------
        split : {"train", "val", "test"}
            Which split.
        vocab : Vocabulary
            The token vocabulary (12 ticks per beat).
        augment : tuple of (int, int), optional
            Range of random transpositions in semitones; a window that would leave the
            vocabulary's pitch range is kept untransposed. None: no transposition.
        rng : random.Random, optional
            Random source of the transpositions (default: seeded with ``settings.split_seed``).

        Returns
        -------
        list of list of int
            One token id sequence per window, without BOS and EOS, padded with a final rest to
            ``window_beats`` beats (``window_beats * 12`` ticks).
        """
        rng = rng or random.Random(self.settings.split_seed)
        out = []
        for w in self.windows(split):
            if augment:
                t = keys.random_transposition(w, rng, *augment)
                if all(vocab.min_pitch <= p <= vocab.max_pitch for p in t.pitches):
                    w = t
            out.append(vocab.encode(w, total_beats=self.settings.window_beats))
        return out


def load(genre: str, settings: Settings = Settings()) -> Corpus:
    """A genre's corpus under ``settings`` (parsing from the cache when possible).

    Parameters
    ----------
    genre : {"jazz", "folk"}
        Which corpus: X_A (jazz) or X_B (folk).
    settings : Settings, optional
        Source, mode filter, window length and hop (beats), split seed and fractions.

    Returns
    -------
    Corpus
        The kept pieces (tonic C, quantized to 12 ticks per beat) by split, with the pieces
        read, the unreadable ones and the filter counts.

    Raises
    ------
    ValueError
        For an unknown genre.
    FileNotFoundError
        When the genre's source (``auto``) is not on disk
        (``python -m fusion data download`` fetches it).
    """
    source = source_of(genre, settings)
    melodies, errors = parsed(genre, source)
    pieces, counts = kept(normalised(melodies), settings)
    by_split: dict[str, list[Melody]] = {s: [] for s in SPLITS}
    for m in pieces:
        by_split[split_of(m.source_id, settings)].append(m)
    return Corpus(genre=genre, source=source, settings=settings, pieces=by_split, errors=errors,
                  filter_counts=counts, all_pieces=melodies)


# statistics ------------------------------------------------------------------------------------
def key_name(tonic: int | None, mode: str | None) -> str:
    if tonic is None:
        return "unknown"
    return f"{keys.PITCH_CLASS_NAMES[tonic]} {mode or '?'}"


def meter_name(meter) -> str:
    return f"{meter[0]}/{meter[1]}" if meter else "irregular"


def genre_stats(c: Corpus) -> dict:
    """Counts for one genre: the shape of ``python -m fusion data stats --json``."""
    return {
        "source": c.source,
        "pieces": c.read,
        "notes": c.notes,
        "unreadable": len(c.errors),
        "kept": {"read": c.read, **c.filter_counts},
        "pieces_per_split": {s: len(c.pieces[s]) for s in SPLITS},
        "windows": {s: len(c.windows(s)) for s in SPLITS},
        "keys": dict(Counter(key_name(m.key_tonic, m.key_mode) for m in c.all_pieces).most_common()),
        "key_sources": dict(Counter(m.key_source or "none" for m in c.all_pieces).most_common()),
        "modes": dict(Counter(m.key_mode or "unknown" for m in c.all_pieces).most_common()),
        "meters": dict(Counter(meter_name(m.meter) for m in c.all_pieces).most_common()),
    }


def stats(settings: Settings = Settings(), genres=("jazz", "folk")) -> dict:
    out = {g: genre_stats(load(g, settings)) for g in genres}
    out["settings"] = asdict(settings)
    return out


def format_stats(st: dict) -> str:
    """A plain-text table of :func:`stats`."""
    lines = []
    for g, s in st.items():
        if g == "settings":
            continue
        lines.append(f"== {g} ({s['source']}) ==")
        lines.append(f"pieces read   {s['pieces']:>8,}   notes {s['notes']:>10,}   unreadable {s['unreadable']}")
        for name, n in s["kept"].items():
            lines.append(f"  kept: {name:<14}{n:>8,}")
        lines.append("windows       " + "   ".join(f"{k} {v:,}" for k, v in s["windows"].items()))
        lines.append("pieces/split  " + "   ".join(f"{k} {v:,}" for k, v in s["pieces_per_split"].items()))
        lines.append("keys          " + ", ".join(f"{k}: {v}" for k, v in list(s["keys"].items())[:12]))
        lines.append("key sources   " + ", ".join(f"{k}: {v}" for k, v in s["key_sources"].items()))
        lines.append("meters        " + ", ".join(f"{k}: {v}" for k, v in list(s["meters"].items())[:10]))
        lines.append("")
    return "\n".join(lines)
