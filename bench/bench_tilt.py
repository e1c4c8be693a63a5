"""What Blend's decoding rule costs: one melody kept of k candidates by the tilt (T2) toward the
midpoint of the genres' statistics and a higher blend reward (``fusion/model/tilt.py``: sampling k
candidates, counting their statistics, scoring them with the four genre critics), against drawing
the melody from the same generator alone (the naive way: one candidate, no tilt).

Times ``System.sample`` of the committed Blend checkpoint, in process, 1 torch thread:
one 8-bar melody (what the demo asks for) and 500 melodies of 4 bars (what the evaluation asks
for). Median of ``--repeats`` runs, seeds counted up.

    python bench/bench_tilt.py [--repeats 20] [--json]
"""
from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from fusion.model import systems  # noqa: E402


def timed(system, n: int, bars: int, repeats: int) -> float:
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        system.sample(n, bars=bars, seed=5000 + i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    tilted = systems.load_generator("blend")
    plain = copy.copy(tilted)
    plain.config = {**tilted.config, "sampling": {}}
    k = tilted.config["sampling"]["candidates"]
    rows = []
    for what, n, bars, repeats in (("one 8-bar melody", 1, 8, args.repeats),
                                   ("500 melodies of 4 bars", 500, 4, max(3, args.repeats // 10))):
        t_tilt, t_plain = timed(tilted, n, bars, repeats), timed(plain, n, bars, repeats)
        rows.append({"what": what, "tilted_s": round(t_tilt, 4), "plain_s": round(t_plain, 4),
                     "ratio": round(t_tilt / t_plain, 2), "repeats": repeats})
    out = {"candidates": k, "machine": platform.platform(), "rows": rows}
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"Blend decoding, {k} candidates per melody ({out['machine']})")
    print("| what | one of k (tilt) | one candidate (no tilt) | ratio |\n|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['what']} | {r['tilted_s'] * 1000:.1f} ms | {r['plain_s'] * 1000:.1f} ms | {r['ratio']:.2f}x |")


if __name__ == "__main__":
    main()
