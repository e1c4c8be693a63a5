"""Where real music lands on the evaluation's Ratios: the floor and the noise of each measure.

A set on the segment between the genres scores Ratio 1 in expectation; two things keep a real
system above it, and this script measures both without any model:

* the *midpoint* of the genres' training windows that the decoding rules of Blend and Hybrid aim
  at (``fusion.model.train.genre_midpoint`` at the ``paper`` preset: its data, its
  ``blend_tilt_windows`` windows of each genre, its fixed choice), scored against every test
  window of each genre as ``python -m fusion evaluate`` scores a system: the Ratio a rule that
  reached its target exactly would get;
* ``--draws`` sets of ``--n`` real *validation* windows, half jazz and half folk (melodies on the
  segment in expectation, each one pure): the spread of the Ratio that the luck of one
  evaluation-sized set gives, with the share of draws above ``--above`` (by default MLE's upper
  95% bounds in ``reports/evaluation.md`` on the intervals' EM, the pitch-class transitions' EUD
  and the IOI-class transitions' EM).

No judge, no model; only ``fusion.features`` and ``fusion.evaluation.distances``, the
evaluation's own code. The numbers behind docs/method.md, "The floor and the noise of each
Ratio". About 25 s.

    .venv/bin/python scripts/ratio_floor.py [--draws 100] [--n 500] [--seed 1]
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from fusion import features  # noqa: E402
from fusion.data.tokens import Vocabulary  # noqa: E402
from fusion.evaluation import distances, tables  # noqa: E402
from fusion.model import train  # noqa: E402
from fusion.model.presets import PRESETS  # noqa: E402

#: the measured columns: Table I's two histograms and the three sequential measures
MEASURES = (features.DD, features.NPD, features.INTERVAL, features.PC_TRANSITION, features.IOI_TRANSITION)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--n", type=int, default=500, help="melodies per drawn set (half of each genre)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--above", nargs="*", default=["interval:em:1.319", "pc_transition:eud:1.036",
                                                   "ioi_transition:em:1.074"],
                    help="feature:metric:threshold: report the share of draws above it (default: MLE's upper "
                         "95%% bounds in reports/evaluation.md on the three measures the goals name)")
    args = ap.parse_args()
    data = tables.Data.load()
    refs = data.references()
    preset = PRESETS["paper"]
    target = train.genre_midpoint(train.Data(preset, Vocabulary(), torch.device("cpu")), preset.blend_tilt_windows,
                                  intervals=True)
    val = {g: data.windows[g, "val"] for g in ("jazz", "folk")}
    rng = random.Random(args.seed)
    draws = [rng.sample(val["jazz"], args.n // 2) + rng.sample(val["folk"], args.n - args.n // 2)
             for _ in range(args.draws)]
    above = {(f, m): float(t) for f, m, t in (a.split(":") for a in args.above)}
    print(f"Ratio against the test windows ({len(refs['jazz'])} jazz, {len(refs['folk'])} folk); "
          f"{args.draws} draws of {args.n} validation windows, half of each genre, seed {args.seed}")
    print("| measure | training midpoint | 50/50 real sets: median | 2.5% - 97.5% | share above |")
    print("|---|---:|---:|---|---:|")
    for f in MEASURES:
        ha, hb = f.histogram(refs["jazz"]), f.histogram(refs["folk"])
        mid = target.mid[f.name]
        counts = [f.matrix(d).sum(0) for d in draws]
        for m in distances.metrics_of(f):
            if m == "em_circular":
                continue
            r_mid = distances.ratio_balance(f, m, mid, ha, hb)[0]
            r = np.array([distances.ratio_balance(f, m, c / c.sum(), ha, hb)[0] for c in counts])
            lo, hi = np.percentile(r, [2.5, 97.5])
            t = above.get((f.name, m))
            share = f"{(r > t).mean():.0%} above {t:g}" if t is not None else ""
            print(f"| {f.label} {distances.METRIC_LABELS[m]} | {r_mid:.3f} | {np.median(r):.3f} | "
                  f"{lo:.3f} - {hi:.3f} | {share} |")


if __name__ == "__main__":
    main()
