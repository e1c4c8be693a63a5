"""How many Essen notes the folk parser's exact skyline drops at a float overshoot (the MIDI
import's triplet bug of 2026-12-06, `Melody.from_notes(tolerance=)`; docs/method.md, "One voice,
the skyline").

Parses every Essen song as `fusion.data.folk.load` does and, for each, builds the melody twice from
the same (pitch, onset, duration) triples: exactly (tolerance 0, as the corpus is parsed) and with
`fusion.melody.OVERLAP_TOLERANCE` (as MIDI files are read). Prints how many songs and notes differ.
Usage: ``python scripts/folk_overlap_check.py [--workers 2]`` (minutes: it parses the whole
collection, without the cache).
"""
from __future__ import annotations

import argparse
from collections import Counter
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fusion import melody as melody_module  # noqa: E402
from fusion.data import folk  # noqa: E402

_exact = melody_module.Melody.from_notes.__func__


def _both(cls, notes, tolerance: float = 0.0, **meta):
    notes = list(notes)
    exact = _exact(cls, notes, tolerance, **meta)
    loose = _exact(cls, notes, melody_module.OVERLAP_TOLERANCE)
    extra = dict(meta.get("extra") or {}, overlap_notes_lost=len(loose.notes) - len(exact.notes))
    return _exact(cls, notes, tolerance, **{**meta, "extra": extra})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--source", default="auto", help="kern, abc or auto (as the corpus)")
    args = ap.parse_args()
    melody_module.Melody.from_notes = classmethod(_both)  # inherited by the forked workers
    t0 = time.time()
    songs, errors = folk.load(args.source, workers=args.workers)
    lost = [m.extra.get("overlap_notes_lost", 0) for m in songs]
    hit = [(m.source_id, n) for m, n in zip(songs, lost) if n]
    notes = sum(len(m.notes) for m in songs)
    print(f"{len(songs)} songs ({folk.resolve_source(args.source)}; {len(errors)} unreadable), {notes} notes, "
          f"{time.time() - t0:.0f} s")
    print(f"songs whose exact skyline drops a note that the tolerant one keeps: {len(hit)} "
          f"({100 * len(hit) / max(len(songs), 1):.2f}%); notes: {sum(n for _, n in hit)} "
          f"({100 * sum(n for _, n in hit) / max(notes, 1):.3f}%)")
    by_folder = Counter()
    for sid, n in hit:
        by_folder[sid.split(":", 1)[-1].rsplit("/", 1)[0]] += n
    print("notes dropped by collection: " + ", ".join(f"{k} {v}" for k, v in by_folder.most_common()))
    for sid, n in hit[:20]:
        print(f"  {sid}: {n:+d}")


if __name__ == "__main__":
    main()
