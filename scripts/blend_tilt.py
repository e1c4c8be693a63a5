"""What Blend's decoding tilt does, seen by the critics and the statistics alone (no judge): the
mean blend reward R and its parts (``fusion/model/blend.py``) and each feature's distance from
the midpoint of the genres' training statistics (``fusion/model/tilt.py``: |h - h*| / |h_jazz -
h_folk|, 0 at the midpoint, 0.5 at either genre) for melodies of

* Blend as shipped (one of k candidates, kept by its decoding rule (T2)),
* the same generator without the rule (one candidate),
* the product of experts (PoE), Blend's teacher before its tilt,
* any other system named by ``--systems`` (e.g. ``hybrid cross``: how Blend's critics read them),

N melodies of 4 bars each, seeds as given. The critics and their calibration are those Blend's
checkpoint carries (the paper run's frozen genre critics; ``blend.Reward``), so the script needs
no training run; the numbers behind docs/method.md, "What Blend measures".

    .venv/bin/python scripts/blend_tilt.py [--n 1000] [--seed 7] [--threads 1] [--systems hybrid cross]
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from fusion import registry  # noqa: E402
from fusion.model import blend, systems, tilt  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--systems", nargs="*", default=[], choices=list(systems.SYSTEMS),
                    help="more systems to read with Blend's critics")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    shipped = systems.load_generator("blend")
    rule = shipped.config["sampling"]
    reward = shipped.reward
    if reward is None:
        raise SystemExit("this Blend checkpoint carries no reward critics (train it again)")
    target = tilt.Target.from_dict(rule["target"])
    vocab = shipped.vocab
    plain = copy.copy(shipped)
    plain.config = {**shipped.config, "sampling": {}}
    rows = {f"Blend (one of {rule['candidates']}, (T2))": shipped, "Blend without its decoding rule": plain,
            "PoE": systems.load_generator("poe")}
    rows.update({registry.spec(name).short: systems.load_generator(name) for name in args.systems})
    keys = ("R", "fuse_whole", "a_whole", "b_whole", "sa_whole", "sb_whole")
    print(f"{args.n} melodies of 4 bars, seed {args.seed}; the genre critics Blend's checkpoint carries")
    print("| melodies | " + " | ".join(keys) + " | " + " | ".join(f"gap {f}" for f in target.names) + " |")
    print("|---|" + "---:|" * (len(keys) + len(target.names)))
    for label, system in rows.items():
        mels = system.sample(args.n, bars=4, seed=args.seed)
        rows_ = [vocab.encode(m, total_beats=m.span, bos_eos=True) for m in mels]
        L = max(map(len, rows_))
        seqs = torch.tensor([r + [vocab.pad_id] * (L - len(r)) for r in rows_])
        parts = blend.reward_parts(reward.critic_a, reward.critic_b, reward.calibration, seqs, reward.grammar,
                                   reward.stats)
        gaps = target.gaps(tilt.count_matrices(mels, target.names))
        print(f"| {label} | " + " | ".join(f"{float(parts[k].mean()):.3f}" for k in keys) + " | "
              + " | ".join(f"{gaps[f]:.3f}" for f in target.names) + " |")
        ways = [m.extra.get("rhythm") for m in mels]
        for way in ("jazz", "folk") if any(ways) else ():  # Cross and Hybrid: each way round apart
            pick = torch.tensor([w == way for w in ways])
            sub = [m for m, w in zip(mels, ways) if w == way]
            gaps = target.gaps(tilt.count_matrices(sub, target.names))
            print(f"| {label}, {way} rhythm | " + " | ".join(f"{float(parts[k][pick].mean()):.3f}" for k in keys)
                  + " | " + " | ".join(f"{gaps[f]:.3f}" for f in target.names) + " |")


if __name__ == "__main__":
    main()
