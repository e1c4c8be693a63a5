"""Which part of Blend's decoding rule keeps the melodies that pause for a bar.

Blend's rule (``fusion/model/tilt.py``, (2)) keeps one of k = 64 candidates with probability
softmax(lambda . phi(x) + beta R(x)). Read from the candidates ``scripts/decoding_fit.py --cache``
kept (its token rows and blend rewards R; the first ``--fit`` are skipped, the held-out ones are
grouped by 64), this script gives, for the candidates with an inner rest of 4 beats or more
("paused") and the others: their share, mean R, and the mean of each part of the log-weight; and
the share of paused melodies the rule keeps, in expectation, with its whole log-weight, with the
statistics' part alone (lambda . phi) and with the reward's part alone (beta R). No judge is read.
The numbers behind docs/method.md, "A teacher that pauses like the midpoint".

    .venv/bin/python scripts/pause_sources.py --cache runs/fit_plain.npz --checkpoints DIR [--fit 8192]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from fusion.model import systems, tilt  # noqa: E402
from rest_audit import silences  # noqa: E402


def kept_share(log_w: np.ndarray, flag: np.ndarray, k: int) -> float:
    """The expected share of flagged melodies when one of each group of ``k`` is drawn with
    probability softmax(log_w) within the group."""
    n = len(log_w) // k * k
    w = tilt.group_weights(torch.as_tensor(log_w[:n], dtype=torch.float64), k).numpy()
    return float((w * flag[:n]).sum() / (n // k))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", required=True, help="an .npz of scripts/decoding_fit.py --cache")
    ap.add_argument("--checkpoints", help="checkpoint folder (default checkpoints/)")
    ap.add_argument("--fit", type=int, default=8192, help="candidates at the head of the cache to skip")
    args = ap.parse_args()
    system = systems.load_generator("blend", args.checkpoints)
    rule = tilt.Tilt.from_dict(system.config["sampling"]["tilt"])
    k = int(system.config["sampling"].get("candidates", 64))
    z = np.load(args.cache)
    tokens, rewards = z["tokens"][args.fit:], z["rewards"][args.fit:].astype(float)
    mels = [system.vocab.decode(s) for s in tokens.tolist()]
    paused = np.array([silences(m)[2] >= 4 for m in mels], dtype=float)
    stats = rule.log_weights(tilt.count_matrices(mels, rule.names), np.zeros(len(mels)))
    reward = rule.beta * rewards
    print(f"{len(mels)} held-out candidates in groups of {k}; beta {rule.beta:.2f}")
    print("| candidates | share | mean R | mean lambda . phi | mean beta R |")
    print("|---|---:|---:|---:|---:|")
    for label, sel in (("paused (inner rest >= 4 beats)", paused == 1), ("the others", paused == 0)):
        print(f"| {label} | {sel.mean():.3f} | {rewards[sel].mean():.3f} | {stats[sel].mean():.2f} | {reward[sel].mean():.2f} |")
    print()
    print("| log-weight | paused share kept |")
    print("|---|---:|")
    for label, lw in (("none (one candidate)", np.zeros_like(stats)), ("lambda . phi + beta R (the rule)", stats + reward),
                      ("lambda . phi alone", stats), ("beta R alone", reward)):
        print(f"| {label} | {kept_share(lw, paused, k):.3f} |")


if __name__ == "__main__":
    main()
