"""Folk: the Essen Folksong Collection, single-voice tunes, from two sources.

* ``abc``: the copy inside music21's corpus (``essenFolksong``: 31 ABC files, 8,514 tunes), no
  download needed. music21's ABC reader carries an accidental through the rest of the bar only
  when a tune's text starts with ``%abc-2.1``; without that line, e.g. ``^F F`` reads as F# F
  natural. :func:`split_abc_tunes` adds the line to every tune. The German key names ``K: H``
  (B) and ``K: Es`` (E-flat) are rewritten to their English names so that the key signature
  is read.
* ``kern``: the Humdrum ``**kern`` edition in ``<data>/essen`` (8,473 ``.krn`` files).

Both are parsed with music21; tied notes are merged (``stripTies``), grace notes dropped, and a
chord (rare) keeps its highest pitch. Onset 0 is a downbeat: a pickup bar is shifted to the end
of a bar 0. The annotated key comes from the tune's text: kern ``*X:`` (with mode) or ABC ``K:``
(tonic only in the Essen ABC files; the mode is completed by key analysis, see
:mod:`fusion.data.keys`).
"""
from __future__ import annotations

import contextlib
import io
import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from fusion import paths
from fusion.data import keys
from fusion.melody import Melody

ABC_VERSION_LINE = "%abc-2.1"


def music21_abc_dir() -> Path:
    """The ``essenFolksong`` folder of music21's corpus."""
    import music21

    return Path(music21.__file__).resolve().parent / "corpus" / "essenFolksong"


def abc_files() -> list[Path]:
    return sorted(music21_abc_dir().glob("*.abc"))


def kern_files(folder: Path | None = None) -> list[Path]:
    folder = Path(folder or paths.essen_kern_dir())
    return sorted(folder.rglob("*.krn"))


# ---------------------------------------------------------------------------------------------
# Text-level reading: tunes, ids, keys
def split_abc_tunes(text: str) -> list[str]:
    """The tunes of an ABC file, each starting at its ``X:`` line, each prefixed with
    ``%abc-2.1`` (the accidental fix) and with German key names made English."""
    parts = re.split(r"(?m)^(?=X:)", text)
    tunes = []
    for part in parts:
        if not part.startswith("X:"):
            continue
        part = re.sub(r"(?m)^K:\s*H\s*$", "K: B", part)
        part = re.sub(r"(?m)^K:\s*Es\s*$", "K: Eb", part)
        tunes.append(f"{ABC_VERSION_LINE}\n{part.strip()}\n")
    return tunes


def _abc_field(tune: str, name: str) -> str:
    m = re.search(rf"(?m)^{name}:\s*(.*?)\s*$", tune)
    return m.group(1) if m else ""


def _kern_field(text: str, name: str) -> str:
    m = re.search(rf"(?m)^!!!{name}:\s*(.*?)\s*$", text)
    return m.group(1) if m else ""


def kern_key(text: str) -> tuple[int | None, str | None]:
    """The first ``*X:`` key token of a kern file, or ``(None, None)``."""
    m = re.search(r"(?m)^(\*[A-Ga-g][#-]*:)(?:\s|$)", text)
    return keys.parse_kern_key(m.group(1)) if m else (None, None)


# ---------------------------------------------------------------------------------------------
# music21 stream -> Melody
def melody_from_stream(score, **meta) -> Melody:
    """A parsed music21 score/part -> :class:`Melody` (first part, ties merged, one voice)."""
    from music21 import chord, meter, stream

    part = score.parts[0] if isinstance(score, stream.Score) and score.parts else score
    part = part.stripTies()
    ts = next(iter(part.recurse().getElementsByClass(meter.TimeSignature)), None)
    time_sig = (ts.numerator, ts.denominator) if ts is not None else None
    bar = time_sig[0] * 4.0 / time_sig[1] if time_sig else 4.0
    shift = 0.0
    measures = list(part.getElementsByClass(stream.Measure))
    if time_sig and measures:
        first = measures[0].duration.quarterLength
        if 0 < first < bar:  # a pickup: place it at the end of bar 0
            shift = bar - float(first)
    triples = []
    for el in part.flatten().notes:
        ql = float(el.duration.quarterLength)
        if ql <= 0 or el.duration.isGrace:
            continue
        pitch = max(p.midi for p in el.pitches) if isinstance(el, chord.Chord) else el.pitch.midi
        triples.append((pitch, float(el.offset) + shift, ql))
    return Melody.from_notes(triples, genre="folk", meter=time_sig, **meta)


def parse_abc_tune(tune: str, file_name: str = "") -> Melody:
    """One ABC tune text (as returned by :func:`split_abc_tunes`) -> :class:`Melody`."""
    from music21 import converter

    score = converter.parse(tune, format="abc")
    tonic, mode = keys.parse_abc_key(_abc_field(tune, "K"))
    esac = _abc_field(tune, "N")
    return melody_from_stream(
        score, source_id=f"essen-abc:{file_name}:{_abc_field(tune, 'X')}", title=_abc_field(tune, "T"),
        key_tonic=tonic, key_mode=mode, key_source="annotated" if tonic is not None else None,
        extra={"esac": esac, "region": _abc_field(tune, "O")},
    )


def parse_kern_file(path: Path, root: Path | None = None) -> Melody:
    """One Essen ``.krn`` file -> :class:`Melody`."""
    from music21 import converter

    path = Path(path)
    text = path.read_text(encoding="latin-1")
    score = converter.parse(text, format="humdrum")
    tonic, mode = kern_key(text)
    rel = path.relative_to(root).as_posix() if root else path.name
    return melody_from_stream(
        score, source_id=f"essen:{rel}", title=_kern_field(text, "OTL"),
        key_tonic=tonic, key_mode=mode, key_source="annotated" if tonic is not None else None,
        extra={"esac": _kern_field(text, "SCT"), "region": _kern_field(text, "ARE")},
    )


# ---------------------------------------------------------------------------------------------
# Whole collections, in parallel worker processes
def _quiet():
    """music21's humdrum reader prints a warning per irregular meter (``*MX``) to stderr."""
    return contextlib.redirect_stderr(io.StringIO())


def _abc_job(item: tuple[str, list[str]]) -> tuple[list[Melody], list[str]]:
    file_name, tunes = item
    return _parse_each(tunes, lambda t: parse_abc_tune(t, file_name),
                       lambda t: f"{file_name} X:{_abc_field(t, 'X')}")


def _kern_job(item: tuple[str, list[str]]) -> tuple[list[Melody], list[str]]:
    root, files = item
    return _parse_each(files, lambda f: parse_kern_file(Path(f), Path(root)), str)


def _parse_each(items, parse, label) -> tuple[list[Melody], list[str]]:
    """Parse and complete the key of each item; one that music21 cannot read is reported as
    ``"<label>: <error>"``, not fatal."""
    out, errors = [], []
    with _quiet():
        for item in items:
            try:
                out.append(keys.complete_key(parse(item)))
            except Exception as exc:
                errors.append(f"{label(item)}: {exc}")
    return out, errors


def _run(job, items, workers: int | None) -> tuple[list[Melody], list[str]]:
    workers = workers or os.cpu_count() or 1
    results = []
    if workers == 1:
        results = [job(i) for i in items]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(job, items))
    melodies = [m for ms, _ in results for m in ms]
    errors = [e for _, es in results for e in es]
    return melodies, errors


def load_abc(workers: int | None = None, limit: int | None = None) -> tuple[list[Melody], list[str]]:
    """All tunes of music21's Essen ABC corpus (with the ``%abc-2.1`` fix), keys completed.
    Returns ``(melodies, errors)``; ``limit`` keeps the first tunes of each file (for tests)."""
    items = []
    for f in abc_files():
        tunes = split_abc_tunes(f.read_text(encoding="utf-8", errors="replace"))[:limit]
        items += [(f.name, tunes[i:i + 100]) for i in range(0, len(tunes), 100)]
    return _run(_abc_job, items, workers)


def load_kern(folder: Path | None = None, workers: int | None = None,
              limit: int | None = None) -> tuple[list[Melody], list[str]]:
    """All ``.krn`` tunes under ``folder`` (default ``<data>/essen``), keys completed."""
    folder = Path(folder or paths.essen_kern_dir())
    files = [str(f) for f in kern_files(folder)][:limit]
    if not files:
        raise FileNotFoundError(f"no Essen kern files (*.krn) under {folder}")
    items = [(str(folder), files[i:i + 100]) for i in range(0, len(files), 100)]
    return _run(_kern_job, items, workers)


def resolve_source(source: str = "auto") -> str:
    """``auto`` -> ``kern`` when the kern folder is there, else music21's ``abc`` corpus."""
    if source != "auto":
        return source
    return "kern" if any(paths.essen_kern_dir().rglob("*.krn")) else "abc"


def source_files(source: str) -> list[Path]:
    return abc_files() if source == "abc" else kern_files()


def load(source: str = "auto", workers: int | None = None) -> tuple[list[Melody], list[str]]:
    source = resolve_source(source)
    return load_abc(workers=workers) if source == "abc" else load_kern(workers=workers)
