"""What Hybrid costs: each join is a melody of the rhythm's genre generator plus a tune four times as
long from the other genre generator (``docs/method.md``, "Hybrid"), and with its decoding rule each
melody is one of 64 joins ("Hybrid's decoding rule"). Timed against the same checkpoint without its
rule (one join per melody) and against drawing the melody from one genre generator alone (the
naive way: one melody, no join). Cross, which draws one melody from both generators token by
token, is timed beside them.

Times ``System.sample`` of the committed checkpoints, in process, 1 torch thread: one 8-bar
melody (what the demo asks for) and 500 melodies of 4 bars (what the evaluation asks for: 32,000
joins with the rule, minutes on one thread). Median of ``--repeats`` runs (of ``--repeats`` / 20,
at least one, for the 500), seeds counted up.

    python bench/bench_hybrid.py [--repeats 20] [--json]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from bench_tilt import timed  # noqa: E402  (median time of System.sample, seeds counted up)
from fusion.model import systems  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    hybrid, cross = systems.load_generator("hybrid"), systems.load_generator("cross")
    one_join = {k: v for k, v in hybrid.config["sampling"].items() if k not in ("tilt", "target", "candidates")}
    joined = systems.System("hybrid without its rule", {"sampling": one_join}, hybrid.vocab, models=hybrid.models)
    alone = systems.System("jazz generator alone", {}, hybrid.vocab, models=[hybrid.models[0]])
    rows = []
    for what, n, bars, repeats in (("one 8-bar melody", 1, 8, args.repeats),
                                   ("500 melodies of 4 bars", 500, 4, max(1, args.repeats // 20))):
        t_h, t_j, t_c, t_a = (timed(s, n, bars, repeats) for s in (hybrid, joined, cross, alone))
        rows.append({"what": what, "hybrid_s": round(t_h, 4), "one_join_s": round(t_j, 4), "cross_s": round(t_c, 4),
                     "alone_s": round(t_a, 4), "ratio_rule": round(t_h / t_j, 2), "ratio": round(t_h / t_a, 2),
                     "repeats": repeats})
    out = {"machine": platform.platform(), "rows": rows}
    if args.json:
        print(json.dumps(out, indent=1))
        return
    k = hybrid.config["sampling"].get("candidates", 1)
    print(f"Hybrid ({out['machine']}; {k} joins per melody)")
    print("| what | Hybrid | Hybrid, one join (no rule) | Cross | one generator alone (naive) | Hybrid / one join "
          "| Hybrid / alone |\n|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['what']} | {1000 * r['hybrid_s']:.1f} ms | {1000 * r['one_join_s']:.1f} ms | "
              f"{1000 * r['cross_s']:.1f} ms | {1000 * r['alone_s']:.1f} ms | {r['ratio_rule']:.2f}x | {r['ratio']:.2f}x |")


if __name__ == "__main__":
    main()
