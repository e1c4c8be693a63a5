"""The README's results table from the committed evaluation (``reports/judge.csv`` and
``reports/table1.csv``, written by ``python -m fusion evaluate``).

    .venv/bin/python scripts/results_table.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fusion import registry  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LABELS = {spec.name: spec.short for spec in registry.SPECS}  # every system, in the registry's order


def main(reports: Path = ROOT / "reports") -> None:
    judge = pd.read_csv(reports / "judge.csv").set_index("system")
    table = pd.read_csv(reports / "table1.csv")
    print("| system | Ratio DD EUD (paper) | Ratio NPD EUD (paper) | Balance DD EUD | Balance NPD EUD | "
          "judge: jazz / folk / mixture / neither % | fused in aspect % | mean P(jazz) | automatic FL |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    for system, label in LABELS.items():
        if system not in judge.index:
            continue
        dd, npd = (table[(table.system == system) & (table.feature == f) & (table.metric == "eud")].iloc[0]
                   for f in ("dd", "npd"))

        def ratio(r):
            return f"{r.ratio:.3f}" + (f" ({r.paper_ratio:.3f})" if pd.notna(r.paper_ratio) else "")

        q = judge.loc[system]
        print(f"| {label} | {ratio(dd)} | {ratio(npd)} | {dd.balance:.3f} | {npd.balance:.3f} | "
              f"{q.jazz:.1f} / {q.folk:.1f} / {q.mixture:.1f} / {q.neither:.1f} | {q.fused_aspect:.1f} | "
              f"{q.p_jazz:.2f} | {q.fl:.1f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "reports")
