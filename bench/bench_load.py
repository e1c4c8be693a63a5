"""Benchmark: cold parse vs cached load of both datasets.

    .venv/bin/python bench/bench_load.py [--sources jazz:csv folk:kern folk:abc] [--json]

Cold: the loaders parse every source file (music21 for Essen, pandas for WJazzD, on all cores).
Cached: a fresh process's first load of the same corpus from the on-disk cache (unpickling).
Each cached load runs in its own subprocess so nothing is warm in memory.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fusion import paths  # noqa: E402
from fusion.data import cache, corpus, folk, jazz

CACHED_LOAD = """
import sys, time; sys.path.insert(0, {root!r})
t = time.perf_counter()
from fusion.data import corpus
m, e = corpus.parsed({genre!r}, {source!r})
print(time.perf_counter() - t, len(m), sum(len(x) for x in m))
"""


def cold(genre: str, source: str) -> tuple[float, int, int]:
    t = time.perf_counter()
    melodies, _ = corpus._parse(genre, source)
    return time.perf_counter() - t, len(melodies), sum(len(m) for m in melodies)


def cached(genre: str, source: str) -> tuple[float, float]:
    corpus.parsed(genre, source)  # make sure the cache entry exists
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", CACHED_LOAD.format(root=str(ROOT), genre=genre, source=source)],
                             capture_output=True, text=True, check=True)
        runs.append(float(out.stdout.split()[0]))
    files = jazz.source_files(source) if genre == "jazz" else folk.source_files(source)
    key = cache.fingerprint(files, name=f"{genre}-{source}", genre=genre, source=source)[:20]
    size = (paths.cache_dir() / f"{genre}-{source}-{key}.pkl").stat().st_size
    return sorted(runs)[1], size / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", nargs="+", default=["jazz:csv", "folk:kern", "folk:abc"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    for item in args.sources:
        genre, source = item.split(":")
        t_cold, pieces, notes = cold(genre, source)
        t_cached, mb = cached(genre, source)
        rows.append({"corpus": item, "pieces": pieces, "notes": notes, "cold_s": round(t_cold, 2),
                     "cached_s": round(t_cached, 3), "speed_up": round(t_cold / t_cached, 1),
                     "cache_mb": round(mb, 1)})
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2))
        return
    print(f"cores: {os.cpu_count()}\n")
    print("| corpus | pieces | notes | cold parse (s) | cached load (s) | speed-up | cache (MB) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['corpus']} | {r['pieces']:,} | {r['notes']:,} | {r['cold_s']} | {r['cached_s']} "
              f"| {r['speed_up']}x | {r['cache_mb']} |")


if __name__ == "__main__":
    main()
