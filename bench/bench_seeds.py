"""The seed study's training: seeds one after another vs in parallel worker processes.

``python -m fusion seeds`` re-runs the ``blend`` and ``fusion`` stages from a training run's
snapshot (``before_fusion.pt``) with seeds 1 and 2. The naive way trains them one after the other
in one process with both torch threads (``--jobs 1 --threads 2``); ``--jobs 2`` trains both at once
in two spawned processes with one thread each (``fusion.evaluation.seeds.train_seeds``).

This benchmark makes a base run of the ``smoke`` preset (the tiny slice of the real data the tests
train on) in a temporary folder, then times both ways on copies of it (wall time of
``train_seeds`` for seeds 1 and 2, process start and data loading included). At the smoke scale
the fixed costs (starting Python, importing torch, loading the data from the cache) weigh far more
than at the paper scale, where each seed trains for tens of minutes.

    python bench/bench_seeds.py [--preset smoke] [--json]
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from fusion import cli  # noqa: E402
from fusion.evaluation import seeds  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="smoke")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        assert cli.main(["train", "--preset", args.preset, "--run-dir", str(root / "base"), "--out",
                         str(root / "ckpt"), "--reports", str(root / "reports"), "--quiet"]) == 0
        base_s = time.perf_counter() - t0
        for label, jobs in (("one after another (--jobs 1, 2 threads)", 1), ("in parallel (--jobs 2, 1 thread each)", 2)):
            base = root / f"jobs{jobs}"
            shutil.copytree(root / "base", base)
            t0 = time.perf_counter()
            seeds.train_seeds([1, 2], base, args.preset, jobs=jobs, threads=2, progress=False, command="bench",
                              log=lambda msg: None)
            rows.append({"way": label, "jobs": jobs, "wall_s": round(time.perf_counter() - t0, 2)})
    naive = rows[0]["wall_s"]
    for r in rows:
        r["speedup"] = round(naive / r["wall_s"], 2)
    facts = {"preset": args.preset, "base_run_s": round(base_s, 1), "cpus": torch.get_num_threads(),
             "python": platform.python_version(), "torch": torch.__version__}
    if args.json:
        print(json.dumps({"facts": facts, "rows": rows}, indent=1))
        return
    print(f"seed study training, seeds 1 and 2 from a {args.preset} base run ({facts['base_run_s']} s to make)")
    print("| way | wall (s) | speed-up |")
    print("|---|---:|---:|")
    for r in rows:
        print(f"| {r['way']} | {r['wall_s']:.2f} | {r['speedup']:.2f}x |")


if __name__ == "__main__":
    main()
