"""The seed study: the fusion-stage systems (``fusion``, ``blend``) and Hybrid trained with three seeds.

``python -m fusion seeds`` takes the state that ``python -m fusion train --preset paper`` kept
just before its first fusion-stage step (``runs/paper/before_fusion.pt``: MLE, adversarial
pre-training, the genre critics and the product-of-experts weight, all of seed 0) and re-runs the
``blend`` and ``fusion`` stages with seeds 1 and 2 (their sampling, batches and rollouts), each in
``runs/paper-seed<k>/``. Seed 0 is the shipped checkpoint in ``checkpoints/``. Every seed's
systems are then evaluated the same way (``fusion.evaluation``) and the headline numbers are
written per seed with their mean, standard deviation and range to ``reports/seeds.csv`` and
``reports/seeds.md``.

For ``blend`` and ``fusion`` what varies is therefore the fusion stage's randomness, not the
pre-training's (re-running all of it three times would not fit the two-hour budget on two CPU
cores); ``docs/method.md`` says so. Hybrid (:data:`FROM_SCRATCH`) has no fusion stage: it is
made of its members' pre-training and its decoding rule, so each of its seeds re-runs every stage
it needs, from scratch, with that seed (``runs/paper-seed<k>-scratch/``), and its spread is that
of the whole system (docs/method.md, "Hybrid over three seeds").

The seeds are independent runs, so :func:`train_seeds` can train them in
parallel processes (``--jobs``), each with its share of the CPU threads: on two cores, two seeds
with one thread each take about the time of one.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from fusion import evaluation
from fusion.model import export, train
from fusion.model.presets import PRESETS

#: systems whose seeds re-run their fusion stage from the paper run's snapshot (seed 0's pre-training)
FROM_SNAPSHOT = ("fusion", "blend")
#: systems without a fusion stage, whose seeds re-run every stage they need from scratch (Hybrid:
#: its members' pre-training, the genre critics and PoE weight those stages bring, its decoding rule)
FROM_SCRATCH = ("hybrid",)
STUDIED = FROM_SNAPSHOT + FROM_SCRATCH
#: headline numbers: (table, column, label)
HEADLINES = [("judge", "mixture_share", "mixture %"), ("judge", "neither_share", "neither %"),
             ("judge", "fused_aspect", "fused in aspect %"), ("judge", "mixture_time", "mixture in time %"),
             ("judge", "between", "0.2<=P(jazz)<=0.8 %"), ("judge", "fl", "automatic FL"),
             ("judge", "p_jazz", "mean P(jazz)"),
             ("table1", ("dd", "eud", "ratio"), "DD EUD Ratio"), ("table1", ("npd", "eud", "ratio"), "NPD EUD Ratio"),
             ("table1", ("dd", "eud", "balance"), "DD EUD Balance"),
             ("table1", ("npd", "eud", "balance"), "NPD EUD Balance"),
             ("table1", ("dd", "em", "ratio"), "DD EM Ratio"), ("table1", ("npd", "em", "ratio"), "NPD EM Ratio"),
             ("table1", ("dd", "em", "balance"), "DD EM Balance"),
             ("table1", ("npd", "em", "balance"), "NPD EM Balance"),
             ("sequential", ("interval", "eud", "ratio"), "interval EUD Ratio"),
             ("sequential", ("interval", "em", "ratio"), "interval EM Ratio"),
             ("sequential", ("pc_transition", "eud", "ratio"), "pc-transition EUD Ratio"),
             ("sequential", ("pc_transition", "em", "ratio"), "pc-transition EM Ratio"),
             ("sequential", ("ioi_transition", "eud", "ratio"), "IOI-transition EUD Ratio"),
             ("sequential", ("ioi_transition", "em", "ratio"), "IOI-transition EM Ratio"),
             ("novelty", "melodies_with_copy", "copied 8-gram (share of melodies)")]


def train_seed(seed: int, base: Path, preset_name: str = "paper", progress: bool = True,
               command: str = "python -m fusion seeds", systems=FROM_SNAPSHOT) -> Path:
    """Train ``systems`` with ``seed``: those of :data:`FROM_SNAPSHOT` (``blend`` and ``fusion``,
    or one of them) from ``base``'s snapshot in ``runs/<preset>-seed<seed>``, those of
    :data:`FROM_SCRATCH` (``hybrid``) from nothing in ``runs/<preset>-seed<seed>-scratch``; returns
    the checkpoint folder both export to (``runs/<preset>-seed<seed>/checkpoints``)."""
    preset = dataclasses.replace(PRESETS[preset_name], seed=seed)
    run_dir = base.parent / f"{base.name}-seed{seed}"
    out = run_dir / "checkpoints"
    staged = [s for s in systems if s in FROM_SNAPSHOT]
    for group, folder in ((staged, run_dir), ([s for s in systems if s in FROM_SCRATCH], Path(f"{run_dir}-scratch"))):
        if not group:
            continue
        trainer = train.Trainer(preset, folder, systems=group, progress=progress)
        if group is staged and not trainer.done:
            snapshot = base / train.SNAPSHOT
            if not snapshot.exists():
                raise FileNotFoundError(f"no {snapshot}: run `python -m fusion train --preset {preset_name}` first")
            trainer.adopt(snapshot, check=False)
            trainer.done = [s for s in trainer.done if s not in ("blend", "fusion")]
            for key in ("rounds",):
                trainer.extra.pop(key, None)
        trainer.run()
        export.export(trainer, out, command)
    return out


def _worker(seed: int, base: str, preset_name: str, command: str, threads: int, systems) -> tuple[str, float]:
    """One seed's training in a worker process (spawned: a fresh interpreter, its own threads)."""
    import torch

    torch.set_num_threads(threads)
    t0 = time.time()
    out = train_seed(seed, Path(base), preset_name, progress=False, command=command, systems=systems)
    return str(out), time.time() - t0


def train_seeds(seeds: list[int], base: Path, preset_name: str = "paper", jobs: int = 1, threads: int = 2,
                progress: bool = True, command: str = "python -m fusion seeds", log=print,
                systems=FROM_SNAPSHOT) -> dict[int, str]:
    """Train each of ``seeds`` (:func:`train_seed`); ``jobs`` > 1 runs that many at once in worker
    processes, ``threads`` (the total) split among them. Returns each seed's checkpoint folder.

    Raises
    ------
    FileNotFoundError
        When ``base`` holds no snapshot and a system of :data:`FROM_SNAPSHOT` is asked for
        (before any work starts).
    ValueError
        For ``jobs`` < 1.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    snapshot = Path(base) / train.SNAPSHOT
    if seeds and any(s in FROM_SNAPSHOT for s in systems) and not snapshot.exists():
        raise FileNotFoundError(f"no {snapshot}: run `python -m fusion train --preset {preset_name}` first")
    jobs = min(jobs, len(seeds)) or 1
    if jobs == 1:
        return {seed: str(train_seed(seed, Path(base), preset_name, progress=progress, command=command,
                                     systems=systems)) for seed in seeds}
    each = max(1, threads // jobs)
    log(f"training seeds {seeds} in {jobs} processes, {each} thread(s) each")
    folders = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {seed: pool.submit(_worker, seed, str(base), preset_name, command, each, tuple(systems)) for seed in seeds}
        for seed, future in futures.items():
            folders[seed], took = future.result()
            log(f"seed {seed}: trained in {took:.0f} s")
    return folders


def headline(results: evaluation.Results, system: str) -> dict:
    row = {}
    for table, col, label in HEADLINES:
        df = getattr(results, table)
        df = df[df.system == system]
        if isinstance(col, tuple):
            f, m, value = col
            df = df[(df.feature == f) & (df.metric == m)]
            col = value
        row[label] = float(df[col].iloc[0])
    return row


def study(seeds: dict[int, str | None], samples: int = 500, bootstrap: int = 200, log=print,
          quick: bool = False, systems=STUDIED) -> pd.DataFrame:
    """Evaluate ``systems`` for each seed's checkpoint folder (``None``: ``checkpoints/``);
    ``quick``: the evaluation's quick options (:meth:`fusion.evaluation.Options.quick`) with these
    ``samples`` and ``bootstrap``, for tests."""
    data = evaluation.Data.load()
    rows = []
    for seed, folder in seeds.items():
        t0 = time.time()
        make = evaluation.Options.quick if quick else evaluation.Options
        options = make(samples=samples, bootstrap=bootstrap, systems=tuple(systems), checkpoints=folder,
                       references=False)  # the study reads its systems' rows only
        results = evaluation.evaluate(options, data=data, log=lambda msg: None)
        for system in systems:
            rows.append({"system": system, "seed": seed, **headline(results, system)})
        log(f"seed {seed}: evaluated in {time.time() - t0:.0f} s")
    return pd.DataFrame(rows)


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation (ddof 1), min and max of each headline number per system."""
    labels = [label for _, _, label in HEADLINES]
    parts = []
    for system, part in df.groupby("system", sort=False):
        for label in labels:
            v = part[label].to_numpy(float)
            parts.append({"system": system, "measure": label, "mean": v.mean(),
                          "sd": v.std(ddof=1) if len(v) > 1 else np.nan, "min": v.min(), "max": v.max(),
                          "seeds": len(v)})
    return pd.DataFrame(parts)


def markdown(df: pd.DataFrame) -> str:
    """``reports/seeds.md``: per system, the command and commit its seeds were trained and
    evaluated by (columns ``command`` and ``commit``), then the summary and each seed's value."""
    s = summary(df)
    scratch = [name for name in FROM_SCRATCH if name in set(df.system)]
    lines = ["# Seed study: the fusion-stage systems" + (" and Hybrid" if scratch else "") + " with three training seeds",
             "", f"Seeds {sorted(set(df.seed))}: seed 0 is the shipped checkpoint (`checkpoints/`); for Blend and "
             "Fusion the others re-run the system's fusion stage from the same pre-trained state"
             + (", for Hybrid every stage it is made of, its members' pre-training included" if scratch else "")
             + " (`fusion/evaluation/seeds.py`). Each "
             "seed's melodies are evaluated like `reports/evaluation.md` (500 melodies of 4 bars).", ""]
    for system in df.system.unique():
        part = df[df.system == system].sort_values("seed")
        made = "; ".join(f"`{c}` at commit `{k}`" for c, k in part[["command", "commit"]].drop_duplicates().itertuples(index=False))
        lines += [f"## {system}", "", f"Made by {made}.", "",
                  "| measure | mean | sd | min | max | per seed |", "|---|---|---|---|---|---|"]
        for r in s[s.system == system].to_dict("records"):
            if np.isnan(r["mean"]):  # a measure added after this system's seeds were evaluated
                lines.append(f"| {r['measure']} | not measured in this study | | | | |")
                continue
            per = ", ".join(f"{v:.3g}" for v in part[r["measure"]])
            lines.append(f"| {r['measure']} | {r['mean']:.3g} | {r['sd']:.2g} | {r['min']:.3g} | {r['max']:.3g} | {per} |")
        lines.append("")
    return "\n".join(lines)


def merge(new: pd.DataFrame, out: Path) -> pd.DataFrame:
    """``new`` rows, and the rows of the systems it does not hold from ``out/seeds.csv`` (a study
    of one system keeps the other's earlier seeds; rows written before the ``command`` and
    ``commit`` columns existed take them from ``out/seeds.md``'s "Made by" line)."""
    old_csv = out / "seeds.csv"
    if not old_csv.exists():
        return new
    old = pd.read_csv(old_csv)
    old = old[~old.system.isin(set(new.system))]
    if len(old) and ("commit" not in old or "command" not in old):
        import re

        md = (out / "seeds.md").read_text() if (out / "seeds.md").exists() else ""
        found = re.search(r"Made by `([^`]+)` at commit `([^`]+)`", md)
        old = old.assign(command=found.group(1) if found else "unknown", commit=found.group(2) if found else "unknown")
    return pd.concat([old, new], ignore_index=True)
