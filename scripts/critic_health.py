"""The critics' health in the last training run, from its log (``reports/training_paper.jsonl``):
for each adversarial stage and critic, the input-gradient norm on the interpolates after the first
20 steps (about 1 for a 1-Lipschitz critic), the Wasserstein estimate in the first and last round (or 20 steps),
and how often the balance penalties (Eq. 9 for D_F, Eq. 13 for D_A and D_B) are non-zero; the
numbers behind docs/method.md, "What the repairs measure" and "Statistics critics".

    .venv/bin/python scripts/critic_health.py [--log reports/training_paper.jsonl]

The log is appended by every run; a stage's records are taken from its last start.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

STAGES = ("adv_jazz", "adv_folk", "critic_fusion", "gan", "rl", "genre_critics", "fusion")


def last_runs(path: Path) -> dict[str, list[dict]]:
    """Each stage's records since its last ``start`` event."""
    runs: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        stage = rec.get("stage")
        if rec.get("event") == "start":
            runs[stage] = []
        elif stage in runs and rec.get("phase") == "critic":
            runs[stage].append(rec)
    return runs


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", type=Path, default=Path("reports/training_paper.jsonl"))
    args = ap.parse_args(argv)
    runs = last_runs(args.log)
    print("| stage | critic | steps | grad norm after 20 steps (mean ± sd, max) | W first round (20 steps) | W last round (20 steps) | balance > 0 | mean balance |")
    print("|---|---|---:|---|---:|---:|---:|---:|")
    for stage in STAGES:
        by_critic = defaultdict(list)
        for rec in runs.get(stage, []):
            by_critic[rec.get("critic", "D")].append(rec)
        for critic, recs in by_critic.items():
            g = np.array([r["grad_norm"] for r in recs[20:]] or [np.nan])
            if "round" in recs[0]:
                rounds = sorted({r["round"] for r in recs})
                first, last = ([r["w"] for r in recs if r["round"] == k] for k in (rounds[0], rounds[-1]))
            else:  # one run of steps: its first and last 20 steps
                first, last = [r["w"] for r in recs[:20]], [r["w"] for r in recs[-20:]]
            bal = np.array([r.get("balance", 0.0) for r in recs])
            print(f"| {stage} | {critic} | {len(recs)} | {g.mean():.2f} ± {g.std():.2f}, {g.max():.2f} | "
                  f"{np.mean(first):.3f} | {np.mean(last):.3f} | {100 * (bal > 0).mean():.0f}% | {bal.mean():.3f} |")


if __name__ == "__main__":
    main()
